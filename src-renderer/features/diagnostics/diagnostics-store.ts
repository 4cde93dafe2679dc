import { create } from 'zustand'
import type { Diagnostics, HealthCheckStatus, PeerTestInput, ProbeReport, ProbeResult, ProbeTargets } from '@shared/admin-api/admin-api'
import { adminClient } from '../../lib/admin-client'
import { saveFile } from '../../lib/save-file'

/**
 * The diagnostics checks (global configuration, tokens, certificates, traffic), shared by the dashboard and the
 * diagnostics page; and the page's probes, test call, health check and bundle download.
 */
interface DiagnosticsState {
  result: Diagnostics | null
  windowMinutes: number
  loading: boolean
  error: unknown
  run(windowMinutes?: number): Promise<void>

  probes: ProbeReport | null
  probing: boolean
  probeError: unknown
  probe(): Promise<void>

  targets: ProbeTargets | null
  peer: ProbeResult | null
  calling: boolean
  peerError: unknown
  loadTargets(): Promise<void>
  testCall(input: PeerTestInput): Promise<void>

  health: HealthCheckStatus | null
  healthError: unknown
  loadHealth(): Promise<void>
  setMaintenanceMode(enabled: boolean): Promise<void>

  bundling: boolean
  bundleError: unknown
  downloadBundle(): Promise<void>
}

export const useDiagnosticsStore = create<DiagnosticsState>((set, get) => ({
  result: null, windowMinutes: 60, loading: false, error: null,
  async run(windowMinutes = get().windowMinutes) {
    set({ loading: true, windowMinutes })
    try {
      set({ result: await adminClient().call('diagnostics', 'run', { windowMinutes }), loading: false, error: null })
    } catch (error) {
      set({ error, loading: false })
    }
  },

  probes: null, probing: false, probeError: null,
  async probe() {
    set({ probing: true, probeError: null })
    try {
      set({ probes: await adminClient().call('diagnostics', 'probe', {}), probing: false })
    } catch (probeError) {
      set({ probeError, probing: false })
    }
  },

  targets: null, peer: null, calling: false, peerError: null,
  async loadTargets() {
    try {
      set({ targets: await adminClient().call('diagnostics', 'probeTargets') })
    } catch (peerError) {
      set({ peerError })
    }
  },
  async testCall(input) {
    set({ calling: true, peerError: null })
    try {
      const report = await adminClient().call('diagnostics', 'probe', { kinds: ['peer'], peer: input })
      set({ peer: report.probes.find((p) => p.kind === 'peer') ?? null, calling: false })
    } catch (peerError) {
      set({ peerError, calling: false })
    }
  },

  health: null, healthError: null,
  async loadHealth() {
    try {
      set({ health: await adminClient().call('diagnostics', 'health'), healthError: null })
    } catch (healthError) {
      set({ healthError })
    }
  },
  async setMaintenanceMode(enabled) {
    try {
      set({ health: await adminClient().call('diagnostics', 'setMaintenanceMode', { enabled }), healthError: null })
    } catch (healthError) {
      set({ healthError })
    }
  },

  bundling: false, bundleError: null,
  async downloadBundle() {
    set({ bundling: true, bundleError: null })
    try {
      const file = await adminClient().call('diagnostics', 'bundle')
      saveFile(file.fileName, file.mimeType, file.content, file.encoding)
      set({ bundling: false })
    } catch (bundleError) {
      set({ bundleError, bundling: false })
    }
  },
}))

/** At most this many chart rows (a 24-hour window has about 30 buckets). */
const MAX_ROWS = 500

/**
 * Chart rows for @mantine/charts: one per bucket from the first with messages up to the bucket of the check, the
 * quiet buckets as zeros (the server lists only buckets with messages; a line drawn across a gap would invent
 * traffic). `at` is the bucket start in epoch milliseconds, labelled in the language shown by the chart.
 */
export function trafficRows(result: Diagnostics | null): Array<{ at: number; succeeded: number; failed: number }> {
  const points = result?.traffic.points ?? []
  const first = points[0]
  const last = points.at(-1)
  if (result === null || first === undefined || last === undefined) return []
  const step = result.traffic.bucketSeconds * 1000
  const counts = new Map(points.map((p) => [Date.parse(p.at), p]))
  const checked = Date.parse(result.checkedAt)
  const end = Number.isNaN(checked) ? Date.parse(last.at) : Math.max(Date.parse(last.at), Math.floor(checked / step) * step)
  const rows: Array<{ at: number; succeeded: number; failed: number }> = []
  for (let at = Date.parse(first.at); at <= end && rows.length < MAX_ROWS; at += step) {
    const p = counts.get(at)
    rows.push({ at, succeeded: p?.succeeded ?? 0, failed: p?.failed ?? 0 })
  }
  return rows
}

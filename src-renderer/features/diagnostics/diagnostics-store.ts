import { create } from 'zustand'
import type { Diagnostics } from '@shared/admin-api/admin-api'
import { adminClient } from '../../lib/admin-client'

/** The diagnostics checks (global configuration, tokens, certificates, traffic), shared by the dashboard and the diagnostics page. */
interface DiagnosticsState {
  result: Diagnostics | null
  windowMinutes: number
  loading: boolean
  error: unknown
  run(windowMinutes?: number): Promise<void>
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

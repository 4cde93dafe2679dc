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

/** Chart rows for @mantine/charts: the bucket start in epoch milliseconds (labelled in the language shown by the chart). */
export function trafficRows(result: Diagnostics | null): Array<{ at: number; succeeded: number; failed: number }> {
  return (result?.traffic.points ?? []).map((p) => ({ at: Date.parse(p.at), succeeded: p.succeeded, failed: p.failed }))
}

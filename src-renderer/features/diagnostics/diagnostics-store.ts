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

/** Chart rows for @mantine/charts: local time labels. */
export function trafficRows(result: Diagnostics | null): Array<{ time: string; Succeeded: number; Failed: number }> {
  return (result?.traffic.points ?? []).map((p) => ({
    time: new Date(p.at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }),
    Succeeded: p.succeeded,
    Failed: p.failed,
  }))
}

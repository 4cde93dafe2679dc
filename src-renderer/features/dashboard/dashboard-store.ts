import { create } from 'zustand'
import type { SystemStatus } from '@shared/admin-api/admin-api'
import { formatDateTime, hasTranslation, translate } from '../../i18n'
import { adminClient } from '../../lib/admin-client'

/** The system status shown on the dashboard, refreshed on demand and by a timer while the page is open. */
interface DashboardState {
  status: SystemStatus | null
  loading: boolean
  error: unknown
  updatedAt: Date | null
  refresh(): Promise<void>
}

export const useDashboardStore = create<DashboardState>((set) => ({
  status: null,
  loading: false,
  error: null,
  updatedAt: null,
  async refresh() {
    set({ loading: true })
    try {
      const status = await adminClient().call('system', 'status')
      set({ status, loading: false, error: null, updatedAt: new Date() })
    } catch (error) {
      set({ error, loading: false })
    }
  },
}))

export type Light = 'green' | 'yellow' | 'red' | 'gray'

/** A dashboard text: its catalogue key and parameters. */
export type DashboardText =
  | { key: 'service.running'; params: { since: string } }
  | { key: 'service.failed' }
  | { key: 'service.other'; state: SystemStatus['state'] }
  | { key: 'identity.ok' | 'identity.missing' | 'storage.ok' | 'storage.bad' }

/** Status lights with plain-language explanations (catalogue `dashboard`), derived from the status. */
export function statusLights(status: SystemStatus): Array<{ key: 'service' | 'identity' | 'storage'; light: Light; explanation: DashboardText }> {
  const serviceLight: Light = status.state === 'running' ? 'green' : status.state === 'failed' ? 'red' : 'yellow'
  const messageLog = status.databases.find((d) => d.name === 'messagelog')
  const safe = status.databases.length > 0 && status.databases.every((d) => d.journalMode.toLowerCase() === 'wal') && messageLog?.synchronous === 'FULL'
  return [
    {
      key: 'service',
      light: serviceLight,
      explanation: status.state === 'running'
        ? { key: 'service.running', params: { since: status.startedAt ? formatDateTime(status.startedAt) : '' } }
        : status.state === 'failed' ? { key: 'service.failed' } : { key: 'service.other', state: status.state },
    },
    { key: 'identity', light: status.initialized ? 'green' : 'yellow', explanation: { key: status.initialized ? 'identity.ok' : 'identity.missing' } },
    { key: 'storage', light: safe ? 'green' : 'red', explanation: { key: safe ? 'storage.ok' : 'storage.bad' } },
  ]
}

/** The OCSP light of one certificate: only a fresh "good" lets this server sign (reliability-and-security.md §1.3). */
export function ocspLight(status: string): { light: Light; text: string } {
  const light: Light = status === 'good' ? 'green' : status === 'revoked' ? 'red' : 'yellow'
  const key = `dashboard:ocsp.${status}`
  return { light, text: hasTranslation(key) ? translate(key) : `OCSP ${status}` }
}

import { create } from 'zustand'
import type { SystemStatus } from '@shared/admin-api/admin-api'
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

/** Status lights with plain-language explanations, derived from the status. */
export function statusLights(status: SystemStatus): Array<{ key: string; label: string; light: Light; explanation: string }> {
  const serviceLight: Light = status.state === 'running' ? 'green' : status.state === 'failed' ? 'red' : 'yellow'
  const messageLog = status.databases.find((d) => d.name === 'messagelog')
  const allWal = status.databases.length > 0 && status.databases.every((d) => d.journalMode.toLowerCase() === 'wal')
  return [
    {
      key: 'service',
      label: 'Security server',
      light: serviceLight,
      explanation:
        status.state === 'running'
          ? `Running since ${status.startedAt ? new Date(status.startedAt).toLocaleString() : 'now'}.`
          : status.state === 'failed'
            ? 'The server failed to start. Check the server log.'
            : `The server is ${status.state}.`,
    },
    {
      key: 'identity',
      label: 'Server identity',
      light: status.initialized ? 'green' : 'yellow',
      explanation: status.initialized
        ? 'This server has an owner member and server code.'
        : 'Not joined to an X-Road instance yet: import a configuration anchor and set the owner to start exchanging messages.',
    },
    {
      key: 'storage',
      label: 'Databases',
      light: allWal && messageLog?.synchronous === 'FULL' ? 'green' : 'red',
      explanation:
        allWal && messageLog?.synchronous === 'FULL'
          ? 'All databases use write-ahead logging; the message log writes every record to disk before a message is acknowledged.'
          : 'A database is not in its safe mode (WAL, and synchronous=FULL for the message log). Records may be lost on power failure.',
    },
  ]
}

const OCSP_WORDS: Record<string, string> = {
  good: 'OCSP good',
  revoked: 'OCSP: revoked',
  unknown: 'OCSP: unknown to the CA',
  stale: 'OCSP answer too old',
  none: 'No OCSP answer yet',
}

/** The OCSP light of one certificate: only a fresh "good" lets this server sign (reliability-and-security.md §1.3). */
export function ocspLight(status: string): { light: Light; text: string } {
  const light: Light = status === 'good' ? 'green' : status === 'revoked' ? 'red' : 'yellow'
  return { light, text: OCSP_WORDS[status] ?? `OCSP ${status}` }
}

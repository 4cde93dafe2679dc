import type { ServiceState } from './admin-api/admin-api'

/** Events the core pushes to the GUI (and to tests): name → payload. */
export interface ServerEvents {
  'state-changed': { state: ServiceState; at: string }
}

export type ServerEventName = keyof ServerEvents

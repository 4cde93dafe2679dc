import type { AlertDto } from './admin-api/operations-api'
import type { ServiceState } from './admin-api/admin-api'

/**
 * Events the core pushes to the GUI (Electron IPC in the desktop app, Server-Sent Events on the admin HTTPS listener)
 * and to tests: name → payload. The GUI's stores refresh on them instead of polling.
 */
export interface ServerEvents {
  /** The server's own lifecycle. */
  'state-changed': { state: ServiceState; at: string }
  /** What `system.status` answers changed: a readiness check, a listener. */
  'status-changed': { ready: boolean; at: string }
  /** An administrative change succeeded (`domain.method`, e.g. `clients.add`), from any administrator. */
  'configuration-changed': { event: string; at: string }
  /** An alert was raised, cleared or acknowledged. */
  alert: { change: 'raised' | 'cleared' | 'acknowledged'; alert: AlertDto; at: string }
}

export type ServerEventName = keyof ServerEvents

export const SERVER_EVENT_NAMES: readonly ServerEventName[] = ['state-changed', 'status-changed', 'configuration-changed', 'alert']

/** One event as it travels: its name and payload. */
export type ServerEvent = { [E in ServerEventName]: { name: E; payload: ServerEvents[E] } }[ServerEventName]

/** The IPC channel the desktop main process sends events on. */
export const SERVER_EVENT_CHANNEL = 'server-event'

/** The IPC channel the desktop renderer asks for a system notification on (text already in the user's language). */
export const DESKTOP_NOTIFY_CHANNEL = 'desktop:notify'

export function isServerEventName(value: unknown): value is ServerEventName {
  return typeof value === 'string' && (SERVER_EVENT_NAMES as readonly string[]).includes(value)
}

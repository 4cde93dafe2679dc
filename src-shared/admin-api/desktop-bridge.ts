import type { AdminApi } from './admin-api'
import type { IpcResult } from './ipc-result'
import type { SessionInfo } from './session'
import type { ServerEvent } from '../server-events'

/** What the desktop preload exposes as `window.admin`: every admin method, answering an IpcResult. */
export type DesktopAdminBridge = {
  readonly transport: 'desktop'
  session(): Promise<IpcResult<SessionInfo>>
  /** The server's events as they happen; returns the unsubscribe. */
  subscribe(listener: (event: ServerEvent) => void): () => void
  /** A system notification with this text (already in the user's language). */
  notify(input: { title: string; body: string }): Promise<IpcResult<null>>
} & {
  readonly [D in keyof AdminApi]: {
    readonly [M in keyof AdminApi[D]]: AdminApi[D][M] extends (...args: infer A) => Promise<infer R> ? (...args: A) => Promise<IpcResult<R>> : never
  }
}

import type { AdminApi } from './admin-api'
import type { IpcResult } from './ipc-result'
import type { SessionInfo } from './session'

/** What the desktop preload exposes as `window.admin`: every admin method, answering an IpcResult. */
export type DesktopAdminBridge = {
  readonly transport: 'desktop'
  session(): Promise<IpcResult<SessionInfo>>
} & {
  readonly [D in keyof AdminApi]: {
    readonly [M in keyof AdminApi[D]]: AdminApi[D][M] extends (...args: infer A) => Promise<infer R> ? (...args: A) => Promise<IpcResult<R>> : never
  }
}

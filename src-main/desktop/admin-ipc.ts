import type { IpcMain, IpcMainInvokeEvent } from 'electron'
import { adminChannel, adminMethodList } from '@shared/admin-api/admin-api-methods'
import type { IpcResult } from '@shared/admin-api/ipc-result'
import type { SessionInfo } from '@shared/admin-api/session'
import { DESKTOP_NOTIFY_CHANNEL } from '@shared/server-events'
import type { AdminCaller, AdminService } from '../admin'
import { isAppUrl } from './window-security'

/**
 * IPC handlers `<domain>:<method>` for every allow-listed admin method, plus `session:info`. Each validates that
 * the sender frame is our own app:// page (checklist #17) and answers with an IpcResult.
 */
export const SESSION_INFO_CHANNEL = 'session:info'

function fromOwnPage(event: IpcMainInvokeEvent): boolean {
  const frame = event.senderFrame
  return frame !== null && frame !== undefined && frame.parent === null && isAppUrl(frame.url)
}

const refused: IpcResult<never> = { ok: false, error: { code: 'forbidden', message: 'IPC from a frame that is not the Gatehouse window' } }

export function registerAdminIpc(ipcMain: Pick<IpcMain, 'handle'>, admin: Pick<AdminService, 'call'>, caller: AdminCaller): string[] {
  const channels: string[] = []
  for (const [domain, method] of adminMethodList()) {
    const channel = adminChannel(domain, method)
    ipcMain.handle(channel, async (event, ...args: unknown[]) => (fromOwnPage(event) ? admin.call(caller, domain, method, args) : refused))
    channels.push(channel)
  }
  ipcMain.handle(SESSION_INFO_CHANNEL, async (event): Promise<IpcResult<SessionInfo>> => {
    if (!fromOwnPage(event)) return refused
    return { ok: true, value: { authenticated: true, username: caller.actor, roles: [...caller.roles], csrfToken: null, setupRequired: false, transport: 'desktop' } }
  })
  channels.push(SESSION_INFO_CHANNEL)
  return channels
}

/** What the desktop shows a notification with (Electron's `Notification`, or a test double). */
export interface Notifier {
  notify(title: string, body: string): void
}

/**
 * `desktop:notify`: the GUI asks for a system notification of an alert, its text already in the user's language. Only
 * our own page may ask; title and body are plain text, bounded.
 */
export function registerNotificationIpc(ipcMain: Pick<IpcMain, 'handle'>, notifier: Notifier): string {
  ipcMain.handle(DESKTOP_NOTIFY_CHANNEL, async (event, input: unknown): Promise<IpcResult<null>> => {
    if (!fromOwnPage(event)) return refused
    const { title, body } = (input ?? {}) as { title?: unknown; body?: unknown }
    if (typeof title !== 'string' || typeof body !== 'string' || title === '' || title.length > 200 || body.length > 1000) {
      return { ok: false, error: { code: 'validation_failed', message: 'A notification has a title (1-200 characters) and a body (up to 1000)' } }
    }
    notifier.notify(title, body)
    return { ok: true, value: null }
  })
  return DESKTOP_NOTIFY_CHANNEL
}

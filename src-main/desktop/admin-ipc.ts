import type { IpcMain, IpcMainInvokeEvent } from 'electron'
import { adminChannel, adminMethodList } from '@shared/admin-api/admin-api-methods'
import type { IpcResult } from '@shared/admin-api/ipc-result'
import type { SessionInfo } from '@shared/admin-api/session'
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

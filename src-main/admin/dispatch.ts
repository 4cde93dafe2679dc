import { ADMIN_API_METHODS } from '@shared/admin-api/admin-api-methods'
import type { AdminApi } from '@shared/admin-api/admin-api'
import type { IpcResult } from '@shared/admin-api/ipc-result'
import { clientError, toSecurityServerError } from '../platform'

/**
 * Calls one allow-listed admin method and wraps the outcome as an IpcResult. Both transports (Electron IPC and
 * HTTP) go through here, so neither can reach a method the allow-list does not name.
 */
export async function dispatchAdminCall(admin: AdminApi, domain: string, method: string, args: unknown[]): Promise<IpcResult<unknown>> {
  try {
    const methods = (ADMIN_API_METHODS as Record<string, readonly string[]>)[domain]
    if (methods === undefined || !methods.includes(method)) {
      throw clientError('not_found', `Unknown admin method ${domain}.${method}`)
    }
    const target = (admin as unknown as Record<string, Record<string, (...a: unknown[]) => Promise<unknown>>>)[domain]
    const fn = target?.[method]
    if (typeof fn !== 'function') throw clientError('not_found', `Admin method ${domain}.${method} is not available`)
    return { ok: true, value: await fn.apply(target, args) }
  } catch (error) {
    return { ok: false, error: toSecurityServerError(error).toDto() }
  }
}

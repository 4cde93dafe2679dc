import { AsyncLocalStorage } from 'node:async_hooks'
import { ADMIN_ROLES, type AdminRole } from '@shared/admin-api/admin-roles'

/**
 * Who is calling the admin API: set by the transport (session user, API key, desktop user) around each call,
 * read by implementations that record an author (API keys) and by the audit log.
 */
export interface AdminCaller {
  /** `alice`, `apikey:3`, `desktop:os-user`, `system` for in-process calls. */
  actor: string
  roles: readonly AdminRole[]
  /** Set for a signed-in user account. */
  userId?: number
  /** The hash of the browser session's token, for a signed-in user account (kept when the user changes their password). */
  sessionId?: string
}

/** In-process callers (the composition root, tests calling `server.admin` directly) act as the system. */
export const SYSTEM_CALLER: AdminCaller = { actor: 'system', roles: ADMIN_ROLES }

const storage = new AsyncLocalStorage<AdminCaller>()

export function currentCaller(): AdminCaller {
  return storage.getStore() ?? SYSTEM_CALLER
}

export function runAsCaller<T>(caller: AdminCaller, work: () => Promise<T>): Promise<T> {
  return storage.run(caller, work)
}

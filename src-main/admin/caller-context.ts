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
/** Admin calls in flight; the storage is enabled only while there is one. */
let inFlight = 0

export function currentCaller(): AdminCaller {
  return storage.getStore() ?? SYSTEM_CALLER
}

/**
 * Runs `work` as `caller`. An enabled AsyncLocalStorage (Node 20) keeps a promise hook on every promise the process
 * creates — the message path's included, where it cost several per cent of each exchange (issue 15 §5) — so the storage
 * is disabled again when the last admin call in flight ends; the next call enables it. Work an admin call leaves
 * running after it returns reads the system caller.
 */
export async function runAsCaller<T>(caller: AdminCaller, work: () => Promise<T>): Promise<T> {
  inFlight++
  try {
    return await storage.run(caller, work)
  } finally {
    inFlight--
    if (inFlight === 0) storage.disable()
  }
}

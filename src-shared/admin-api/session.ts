import type { AdminRole } from './admin-roles'

/**
 * The browser session of the headless admin API (`/api/session/*`); the desktop app has no login (the
 * operating-system user who started it holds every role).
 */
export interface SessionInfo {
  authenticated: boolean
  username: string | null
  roles: AdminRole[]
  /** Send back as the `X-CSRF-Token` header on every state-changing request. */
  csrfToken: string | null
  /** True while no admin account exists: the first-run setup may create one (from loopback only). */
  setupRequired: boolean
  /** 'desktop' inside Electron, 'browser' over HTTPS. */
  transport: 'desktop' | 'browser'
  /** Which server this is, for the login page (public: nothing here is secret). Absent in the desktop app. */
  server?: ServerIdentity
}

/** What the login page says about the server it signs in to, so several on one machine are told apart. */
export interface ServerIdentity {
  /** `INSTANCE/CLASS/MEMBER/SERVER` once initialized, else null. */
  serverId: string | null
  /** The admin interface as the browser reached it, `host:port`. */
  address: string
  version: string
}

export const CSRF_HEADER = 'x-csrf-token'
/**
 * Session cookies are per server: `__Host-gatehouse-<key>`. Browsers keep cookies per host, not per port, so two
 * servers on 127.0.0.1 with one cookie name would overwrite each other's session. The key is derived from the
 * server's data directory (see `sessionCookieName` in the admin HTTPS server), which stays the same across restarts
 * and port changes — sessions are stored in the data directory and survive a restart — and differs between any two
 * servers running at once (each has its own data directory).
 */
export const SESSION_COOKIE_PREFIX = '__Host-gatehouse-'
export const SESSION_COOKIE_KEY = /^[0-9a-f]{16}$/
/** `Authorization: X-Road-ApiKey token=<key>` (UG-SS §19.1). */
export const API_KEY_SCHEME = 'X-Road-ApiKey'

/** Password policy shared by the GUI (to explain) and the server (to enforce). */
export const PASSWORD_MIN_LENGTH = 12
export const PASSWORD_MAX_LENGTH = 256
export const USERNAME_PATTERN = /^[a-zA-Z0-9._@-]{1,64}$/

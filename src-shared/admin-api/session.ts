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
}

export const CSRF_HEADER = 'x-csrf-token'
export const SESSION_COOKIE = '__Host-gatehouse-session'
/** `Authorization: X-Road-ApiKey token=<key>` (UG-SS §19.1). */
export const API_KEY_SCHEME = 'X-Road-ApiKey'

/** Password policy shared by the GUI (to explain) and the server (to enforce). */
export const PASSWORD_MIN_LENGTH = 12
export const PASSWORD_MAX_LENGTH = 256
export const USERNAME_PATTERN = /^[a-zA-Z0-9._@-]{1,64}$/

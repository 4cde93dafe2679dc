import { createHash, randomBytes } from 'node:crypto'
import type { AdminRole } from '@shared/admin-api/admin-roles'
import { clientError, inTransaction, SecurityServerError, type Clock, type WritableDb } from '../platform'
import {
  countUsers, deleteOtherSessionsOfUser, deleteSession, deleteSessionsOfUser, deleteSessionsSeenBefore, findActiveApiKeyByHash, findSession,
  findUserById, findUserByName, insertSession, insertUser, touchSession, updateUserPassword, type UserRow,
} from './admin-account-repository'
import type { AdminCaller } from './caller-context'
import { checkPasswordPolicy, DUMMY_HASH_PASSWORD, hashPassword, verifyPassword } from './passwords'
import { addressLimiterKey, FailureRateLimiter, userLimiterKey } from './rate-limiter'
import { rolesSchema, usernameSchema, validate } from './admin-validation'

/**
 * Authentication of the headless admin API: local accounts (scrypt), browser sessions with a CSRF token, and
 * API keys (`Authorization: X-Road-ApiKey token=…`, UG-SS §19.1). Session tokens and API keys are random
 * 256-bit values stored only as SHA-256 hashes.
 */
export interface AccountOptions {
  /** A session ends after this long without a request (default 30 min). */
  sessionIdleMs?: number
  /** A session ends this long after login whatever happens (default 12 h). */
  sessionMaxMs?: number
  /** Failed logins allowed per user name and per address in `loginWindowMs` (default 5 in 15 min). */
  maxLoginFailures?: number
  loginWindowMs?: number
}

export interface AuthenticatedSession {
  caller: AdminCaller
  csrfToken: string
  tokenHash: string
}

export interface AdminAccounts {
  setupRequired(): boolean
  createUser(input: { username: unknown; password: unknown; roles: unknown }): Promise<UserRow>
  /** Checks a password; throws `rate_limited` while blocked and `unauthorized` on a wrong name or password. */
  login(username: unknown, password: unknown, remoteAddress: string): Promise<{ token: string; csrfToken: string; user: UserRow }>
  authenticateSession(token: string): AuthenticatedSession | undefined
  /** Whether a session is still valid, without counting this as activity (an open event stream is not a user at work). */
  sessionValid(token: string): boolean
  logout(token: string): void
  authenticateApiKey(key: string): AdminCaller | undefined
  /** Sets a user's password (policy checked) and ends all their sessions. @throws not_found, validation_failed */
  setPassword(username: unknown, password: unknown): Promise<UserRow>
  /**
   * The signed-in user changes their own password: the current one is checked (and counted like a failed sign-in
   * when wrong), the new one must meet the policy and differ, and every other session of the user ends.
   * @throws unsupported (API key or desktop caller), rate_limited, validation_failed (currentPassword, newPassword)
   */
  changeOwnPassword(caller: AdminCaller, currentPassword: unknown, newPassword: unknown): Promise<void>
}

export const hashToken = (token: string): string => createHash('sha256').update(token).digest('base64url')
export const newSecret = (): string => randomBytes(32).toString('base64url')

export function createAdminAccounts(db: () => WritableDb, clock: Clock, options: AccountOptions = {}): AdminAccounts {
  const idleMs = options.sessionIdleMs ?? 30 * 60_000
  const maxMs = options.sessionMaxMs ?? 12 * 3600_000
  const limiter = new FailureRateLimiter(db, clock, options.maxLoginFailures ?? 5, options.loginWindowMs ?? 15 * 60_000)
  const refuseWhileBlocked = (keys: readonly string[]): void => {
    const wait = Math.max(...keys.map((k) => limiter.retryAfterMs(k)))
    if (wait > 0) {
      throw new SecurityServerError('rate_limited', `Too many failed sign-ins; try again in ${Math.ceil(wait / 1000)} s`, {
        clientFault: true,
        detail: String(Math.ceil(wait / 1000)),
      })
    }
  }

  return {
    setupRequired: () => countUsers(db()) === 0,

    async createUser(input) {
      const username = validate(usernameSchema, input.username, 'user name')
      const password = checkPasswordPolicy(input.password)
      const roles = validate(rolesSchema, input.roles, 'roles')
      const passwordHash = await hashPassword(password)
      const at = clock.now().toISOString()
      return inTransaction(db(), () => {
        if (findUserByName(db(), username) !== undefined) throw clientError('conflict', `User ${username} already exists`, { detail: 'username' })
        const id = insertUser(db(), { username, passwordHash, roles: [...new Set(roles)], at })
        return findUserById(db(), id) as UserRow
      })
    },

    async login(usernameInput, passwordInput, remoteAddress) {
      const username = typeof usernameInput === 'string' ? usernameInput.slice(0, 64) : ''
      const password = typeof passwordInput === 'string' ? passwordInput.slice(0, 1024) : ''
      const keys = [userLimiterKey(username), addressLimiterKey(remoteAddress)]
      refuseWhileBlocked(keys)
      const user = username === '' ? undefined : findUserByName(db(), username)
      // Verify against a dummy hash for unknown names so the response time does not reveal which names exist.
      const ok = await verifyPassword(password, user?.passwordHash ?? (await dummyHash()))
      if (user === undefined || !ok) {
        keys.forEach((k) => limiter.fail(k))
        throw clientError('unauthorized', 'Wrong user name or password')
      }
      keys.forEach((k) => limiter.reset(k))
      const token = newSecret()
      const csrfToken = newSecret()
      const now = clock.now().toISOString()
      inTransaction(db(), () => {
        deleteSessionsSeenBefore(db(), new Date(clock.now().getTime() - idleMs).toISOString())
        insertSession(db(), { tokenHash: hashToken(token), userId: user.id, csrfToken, createdAt: now, lastSeenAt: now })
      })
      return { token, csrfToken, user }
    },

    authenticateSession(token) {
      const tokenHash = hashToken(token)
      const session = findSession(db(), tokenHash)
      if (session === undefined) return undefined
      const now = clock.now().getTime()
      if (now - Date.parse(session.lastSeenAt) > idleMs || now - Date.parse(session.createdAt) > maxMs) {
        deleteSession(db(), tokenHash)
        return undefined
      }
      const user = findUserById(db(), session.userId)
      if (user === undefined) return undefined
      touchSession(db(), tokenHash, clock.now().toISOString())
      return { caller: { actor: user.username, roles: user.roles, userId: user.id, sessionId: tokenHash }, csrfToken: session.csrfToken, tokenHash }
    },

    sessionValid(token) {
      const session = findSession(db(), hashToken(token))
      if (session === undefined || findUserById(db(), session.userId) === undefined) return false
      const now = clock.now().getTime()
      return now - Date.parse(session.lastSeenAt) <= idleMs && now - Date.parse(session.createdAt) <= maxMs
    },

    logout(token) {
      deleteSession(db(), hashToken(token))
    },

    authenticateApiKey(key) {
      const row = findActiveApiKeyByHash(db(), hashToken(key))
      return row && { actor: `apikey:${row.id}`, roles: row.roles as AdminRole[] }
    },

    async setPassword(usernameInput, passwordInput) {
      const username = validate(usernameSchema, usernameInput, 'user name')
      const hash = await hashPassword(checkPasswordPolicy(passwordInput))
      return inTransaction(db(), () => {
        const user = findUserByName(db(), username)
        if (user === undefined) throw clientError('not_found', `No user ${username}`, { detail: 'username' })
        updateUserPassword(db(), user.id, hash, clock.now().toISOString())
        deleteSessionsOfUser(db(), user.id)
        return user
      })
    },

    async changeOwnPassword(caller, currentInput, newInput) {
      // Only a signed-in account has a password here: API keys are secrets of their own, and the desktop user is the
      // operating-system account that started the app.
      const user = caller.userId === undefined || caller.sessionId === undefined ? undefined : findUserById(db(), caller.userId)
      if (user === undefined) {
        throw clientError('unsupported', 'Only a user signed in with a password can change it; API keys and the desktop user have none', { detail: 'account' })
      }
      const key = userLimiterKey(user.username)
      refuseWhileBlocked([key])
      const current = typeof currentInput === 'string' ? currentInput.slice(0, 1024) : ''
      if (!(await verifyPassword(current, user.passwordHash))) {
        limiter.fail(key)
        throw clientError('validation_failed', 'The current password is not correct', { detail: 'currentPassword' })
      }
      let next: string
      try {
        next = checkPasswordPolicy(newInput)
      } catch (error) {
        throw clientError('validation_failed', (error as Error).message, { detail: 'newPassword', cause: error })
      }
      if (next === current) throw clientError('validation_failed', 'The new password must differ from the current one', { detail: 'newPassword' })
      const hash = await hashPassword(next)
      limiter.reset(key)
      inTransaction(db(), () => {
        updateUserPassword(db(), user.id, hash, clock.now().toISOString())
        deleteOtherSessionsOfUser(db(), user.id, caller.sessionId as string)
      })
    },
  }
}

let dummy: Promise<string> | undefined
function dummyHash(): Promise<string> {
  dummy ??= hashPassword(DUMMY_HASH_PASSWORD)
  return dummy
}

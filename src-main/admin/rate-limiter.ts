import { inTransaction, type Clock, type WritableDb } from '../platform'
import { deleteLoginFailures, deleteLoginFailuresWithPrefix, insertLoginFailure, listLoginFailures, pruneLoginFailures } from './admin-account-repository'

/**
 * Counts failed attempts per key in a sliding window (login brute-force protection,
 * reliability-and-security.md §2.4 "Rate limiting"). After `maxFailures` within `windowMs` the key is blocked
 * until the oldest failure leaves the window. Failures are stored in serverconf.sqlite, so a lockout survives a
 * restart and the local `gatehouse user passwd` can clear it (`clearLoginLockout`).
 */
export class FailureRateLimiter {
  constructor(
    private readonly db: () => WritableDb,
    private readonly clock: Clock,
    private readonly maxFailures: number,
    private readonly windowMs: number,
    private readonly maxRows = 50_000,
  ) {}

  /** Milliseconds until `key` may try again; 0 when not blocked. */
  retryAfterMs(key: string): number {
    const recent = listLoginFailures(this.db(), key, this.clock.now().getTime() - this.windowMs)
    if (recent.length < this.maxFailures) return 0
    return Math.max(0, (recent[recent.length - this.maxFailures] as number) + this.windowMs - this.clock.now().getTime())
  }

  fail(key: string): void {
    const now = this.clock.now().getTime()
    inTransaction(this.db(), () => {
      insertLoginFailure(this.db(), key, now)
      pruneLoginFailures(this.db(), now - this.windowMs, this.maxRows)
    })
  }

  reset(key: string): void {
    deleteLoginFailures(this.db(), key)
  }
}

/** The limiter key of a user name (names compare without case, as the accounts table does). */
export const userLimiterKey = (username: string): string => `user:${username.toLowerCase()}`
export const addressLimiterKey = (address: string): string => `addr:${address}`

/**
 * Clears a sign-in lockout: the user's failures and every address's (the locked-out administrator's own address is
 * among them). For `gatehouse user passwd`, run by someone with the data directory in hand. Returns the failures removed.
 */
export function clearLoginLockout(db: WritableDb, username: string): number {
  return inTransaction(db, () => deleteLoginFailures(db, userLimiterKey(username)) + deleteLoginFailuresWithPrefix(db, addressLimiterKey('')))
}

import type { Clock } from '../platform'

/**
 * Counts failed attempts per key in a sliding window (login brute-force protection,
 * reliability-and-security.md §2.4 "Rate limiting"). After `maxFailures` within `windowMs` the key is blocked
 * until the oldest failure leaves the window.
 */
export class FailureRateLimiter {
  private readonly failures = new Map<string, number[]>()

  constructor(
    private readonly clock: Clock,
    private readonly maxFailures: number,
    private readonly windowMs: number,
    private readonly maxKeys = 10_000,
  ) {}

  /** Milliseconds until `key` may try again; 0 when not blocked. */
  retryAfterMs(key: string): number {
    const recent = this.recent(key)
    if (recent.length < this.maxFailures) return 0
    return Math.max(0, (recent[recent.length - this.maxFailures] as number) + this.windowMs - this.clock.now().getTime())
  }

  fail(key: string): void {
    const recent = this.recent(key)
    recent.push(this.clock.now().getTime())
    if (!this.failures.has(key) && this.failures.size >= this.maxKeys) {
      const oldest = this.failures.keys().next().value
      if (oldest !== undefined) this.failures.delete(oldest)
    }
    this.failures.set(key, recent)
  }

  reset(key: string): void {
    this.failures.delete(key)
  }

  private recent(key: string): number[] {
    const since = this.clock.now().getTime() - this.windowMs
    const list = (this.failures.get(key) ?? []).filter((t) => t > since)
    if (list.length === 0) this.failures.delete(key)
    return list
  }
}

import { SecurityServerError } from '../../platform'

/**
 * The memory budget of one security server's message exchange (issue 14 §3): the bytes of message content held in
 * memory at once, across every connection of the client proxy and the server proxy, and the bytes in spool files —
 * together the bytes in flight: a body is admitted only when both have room for it (its declared length, or the
 * declared length of the message it is part of), so a burst of large bodies is answered `server_busy` at once for
 * those that do not fit instead of slowing every one of them past its peer's timeout.
 * Admission is never blocking: a request that would go over the budget is refused at once with `server_busy`, before
 * its body is read. The one wait is for the memory a spooled body needs while the message log stores it, and it is
 * FIFO: while anyone waits, admissions are refused, so the waiter is served by the next release. Nobody waits while
 * holding memory (a body's reception reservation is given back once it is on disk), so waits cannot deadlock.
 */
export interface MessageBudgetLimits {
  /** Bytes of message content in memory at once (bodies being received, bodies kept in memory, message parts). */
  maxInFlightBytes: number
  /** A body is written to a spool file once it is larger than this. */
  spoolThresholdBytes: number
  /** Bytes in spool files at once. */
  maxSpoolBytes: number
  /** How long a spooled body waits for memory to be handed to the message log before the exchange fails. */
  loadWaitMs: number
}

/**
 * Sized for X-Road's own performance-test mix at 16 concurrent clients (2 kB, 10 kB, 100 kB, 2 MB, 10 MB bodies): 16
 * bodies held in memory up to the spool threshold take about 4 MiB, and each spooled body the message log is storing
 * 3 MiB (`LOAD_COST` × a log piece). When the log loaded a spooled body whole (a 10 MiB one took 30 MiB), 32 MiB made
 * the mix wait and be refused `server_busy` on a busy machine; 48 MiB leaves room for bursts of large bodies.
 */
export const DEFAULT_MESSAGE_BUDGET: MessageBudgetLimits = {
  maxInFlightBytes: 48 * 1024 * 1024,
  spoolThresholdBytes: 256 * 1024,
  maxSpoolBytes: 256 * 1024 * 1024,
  loadWaitMs: 30_000,
}

/** Bytes taken from the budget; grows and shrinks with what its holder keeps, released exactly once. */
export interface Reservation {
  readonly bytes: number
  /** Takes `n` more bytes; false (nothing taken) when the budget has no room or someone is waiting. */
  tryGrow(n: number): boolean
  /** Gives back `n` bytes (at most what is held). */
  shrink(n: number): void
  release(): void
}

export interface MessageBudgetStats {
  limits: MessageBudgetLimits
  memoryInUse: number
  memoryPeak: number
  spoolInUse: number
  spoolPeak: number
  /** Requests and bodies refused because the budget was in use. */
  refusals: number
  waiting: number
}

interface Waiter {
  bytes: number
  grant: () => void
}

export class MessageBudget {
  private memoryUsed = 0
  private memoryPeak = 0
  private spoolUsed = 0
  private spoolPeak = 0
  private refusals = 0
  private readonly waiters: Waiter[] = []

  constructor(readonly limits: MessageBudgetLimits = DEFAULT_MESSAGE_BUDGET) {
    if (limits.spoolThresholdBytes > limits.maxInFlightBytes) {
      throw new SecurityServerError('invalid_config', 'The spool threshold must not be larger than the in-flight memory budget')
    }
  }

  /** A memory reservation of `bytes` now, or undefined when the budget has no room (the caller refuses). */
  tryMemory(bytes: number): Reservation | undefined {
    if (!this.fits(bytes)) {
      this.refusals++
      return undefined
    }
    return this.memoryReservation(bytes)
  }

  /**
   * Waits (FIFO, at most `limits.loadWaitMs`) until `bytes` of memory are free: for a spooled body the message log
   * stores. @throws server_busy when the wait times out or `bytes` is more than the whole budget
   */
  async waitMemory(bytes: number): Promise<Reservation> {
    if (bytes > this.limits.maxInFlightBytes) {
      this.refusals++
      throw busy(`${bytes} bytes are more than the whole in-flight memory budget of ${this.limits.maxInFlightBytes} bytes`)
    }
    if (this.fits(bytes)) return this.memoryReservation(bytes)
    await new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        bytes,
        grant: () => {
          clearTimeout(timer)
          resolve()
        },
      }
      const timer = setTimeout(() => {
        const at = this.waiters.indexOf(waiter)
        if (at >= 0) this.waiters.splice(at, 1)
        this.refusals++
        reject(busy(`no memory became free for ${bytes} bytes within ${this.limits.loadWaitMs} ms`))
        this.wake()
      }, this.limits.loadWaitMs)
      this.waiters.push(waiter)
    })
    // `wake` counted the bytes in before granting.
    return this.reservationOf(bytes)
  }

  /** Takes `bytes` of spool space; false when the spool budget is full. */
  tryDisk(bytes: number): boolean {
    if (this.spoolUsed + bytes > this.limits.maxSpoolBytes) {
      this.refusals++
      return false
    }
    this.spoolUsed += bytes
    this.spoolPeak = Math.max(this.spoolPeak, this.spoolUsed)
    return true
  }

  releaseDisk(bytes: number): void {
    this.spoolUsed = Math.max(0, this.spoolUsed - bytes)
  }

  stats(): MessageBudgetStats {
    return {
      limits: this.limits, memoryInUse: this.memoryUsed, memoryPeak: this.memoryPeak, spoolInUse: this.spoolUsed,
      spoolPeak: this.spoolPeak, refusals: this.refusals, waiting: this.waiters.length,
    }
  }

  private fits(bytes: number): boolean {
    return this.waiters.length === 0 && this.memoryUsed + bytes <= this.limits.maxInFlightBytes
  }

  private memoryReservation(bytes: number): Reservation {
    this.take(bytes)
    return this.reservationOf(bytes)
  }

  private take(bytes: number): void {
    this.memoryUsed += bytes
    this.memoryPeak = Math.max(this.memoryPeak, this.memoryUsed)
  }

  private give(bytes: number): void {
    this.memoryUsed = Math.max(0, this.memoryUsed - bytes)
    this.wake()
  }

  /** Grants waiting reservations in order while they fit. */
  private wake(): void {
    while (this.waiters.length > 0) {
      const first = this.waiters[0] as Waiter
      if (this.memoryUsed + first.bytes > this.limits.maxInFlightBytes) return
      this.waiters.shift()
      this.take(first.bytes)
      first.grant()
    }
  }

  /** What a reservation may do to this budget (one object per budget, shared by its reservations). */
  private readonly account: BudgetAccount = {
    grow: (n) => {
      if (!this.fits(n)) {
        this.refusals++
        return false
      }
      this.take(n)
      return true
    },
    give: (n) => this.give(n),
  }

  private reservationOf(initial: number): Reservation {
    return new BudgetReservation(this.account, initial)
  }
}

interface BudgetAccount {
  grow(n: number): boolean
  give(n: number): void
}

/**
 * One reservation: an instance of a class (issue 15 §5: several per message; an object literal with a getter and
 * closures of its own was made for each).
 */
class BudgetReservation implements Reservation {
  private released = false

  constructor(private readonly account: BudgetAccount, private held: number) {}

  get bytes(): number {
    return this.held
  }

  tryGrow(n: number): boolean {
    if (this.released) return false
    if (n <= 0) return true
    if (!this.account.grow(n)) return false
    this.held += n
    return true
  }

  shrink(n: number): void {
    const given = Math.min(Math.max(0, n), this.held)
    this.held -= given
    if (given > 0) this.account.give(given)
  }

  release(): void {
    if (this.released) return
    this.shrink(this.held)
    this.released = true
  }
}

/** X-Road has no overload code: Gatehouse's `server_busy` (README "Memory budget"), e.g. `server.clientproxy.server_busy`. */
export function busy(message: string): SecurityServerError {
  return new SecurityServerError('server_busy', `The security server is busy: ${message}; try again later`)
}

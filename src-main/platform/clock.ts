/** Time source of the core, injectable so tests can move time (configuration expiry, OCSP freshness). */
export interface Clock {
  now(): Date
}

export const systemClock: Clock = { now: () => new Date() }

/** A clock that tests can set and advance. */
export class ManualClock implements Clock {
  private current: number
  constructor(start: Date | string | number = Date.now()) {
    this.current = new Date(start).getTime()
  }
  now(): Date {
    return new Date(this.current)
  }
  set(time: Date | string | number): void {
    this.current = new Date(time).getTime()
  }
  advance(milliseconds: number): void {
    this.current += milliseconds
  }
}

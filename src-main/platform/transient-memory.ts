import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

/**
 * Large short-lived buffers (bodies streamed through the proxy, stored bodies read back by the evidence check or the
 * archiver): Node frees a buffer's memory only when V8 collects its object — on JS heap pressure, or once external
 * memory grew by 64 MB since the last collection. While bodies move at tens of MB/s that lag, not the bodies, is most
 * of a server's memory; a young-generation collection (cheap: the live young objects are few) after every
 * `TRANSIENT_GC_STEP_BYTES` moved keeps it to a few MB. `gc` is reached through V8's `expose-gc` flag in a fresh context.
 */
export const TRANSIENT_GC_STEP_BYTES = 8 * 1024 * 1024

const minorGc: ((options: { type: 'minor' }) => void) | undefined = (() => {
  try {
    setFlagsFromString('--expose-gc')
    const gc: unknown = runInNewContext('gc')
    return typeof gc === 'function' ? (gc as (options: { type: 'minor' }) => void) : undefined
  } catch {
    return undefined
  }
})()
let movedSinceGc = 0
let gcScheduled = false

function stepReached(bytes: number): boolean {
  movedSinceGc += bytes
  if (movedSinceGc < TRANSIENT_GC_STEP_BYTES || gcScheduled || minorGc === undefined) return false
  movedSinceGc = 0
  return true
}

/**
 * Counts bytes of large transient buffers moved or dropped; schedules a young-generation collection (at the end of
 * this turn of the event loop, once whoever holds them let go) every `TRANSIENT_GC_STEP_BYTES`.
 */
export function noteTransientBytes(bytes: number): void {
  if (!stepReached(bytes)) return
  gcScheduled = true
  setImmediate(() => {
    gcScheduled = false
    minorGc?.({ type: 'minor' })
  })
}

/**
 * As `noteTransientBytes`, for a caller that has just let go of `bytes` and holds no other large buffer (a reader
 * between pages, which may not yield to the event loop): the collection, when due, runs at once.
 */
export function releasedTransientBytes(bytes: number): void {
  if (stepReached(bytes)) minorGc?.({ type: 'minor' })
}

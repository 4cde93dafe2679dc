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

type Gc = (options: { type: 'minor' | 'major'; execution?: 'sync' | 'async' }) => unknown
const gc: Gc | undefined = (() => {
  try {
    setFlagsFromString('--expose-gc')
    const found: unknown = runInNewContext('gc')
    return typeof found === 'function' ? (found as Gc) : undefined
  } catch {
    return undefined
  }
})()
let movedSinceGc = 0
let gcScheduled = false

/** A body larger than this is a large one: its buffers may well outlive young collections and die old. */
export const LARGE_BODY_BYTES = 64 * 1024
/** Bytes of large bodies moved or dropped since the external-memory watch last asked for a collection. */
let largeBodyBytes = 0

function stepReached(bytes: number): boolean {
  movedSinceGc += bytes
  if (movedSinceGc < TRANSIENT_GC_STEP_BYTES || gcScheduled || gc === undefined) return false
  movedSinceGc = 0
  return true
}

/**
 * Counts bytes of transient buffers moved or dropped — `bodySize` is the size of the body they belong to, as far as
 * known — and schedules a young-generation collection (at the end of this turn of the event loop, once whoever holds
 * them let go) every `TRANSIENT_GC_STEP_BYTES`.
 */
export function noteTransientBytes(bytes: number, bodySize = bytes): void {
  if (bodySize > LARGE_BODY_BYTES) largeBodyBytes += bytes
  if (!stepReached(bytes)) return
  gcScheduled = true
  setImmediate(() => {
    gcScheduled = false
    gc?.({ type: 'minor' })
  })
}

/** A drop `releasedTransientBytes` collects at once, whatever was counted before it (a page of stored bodies). */
const COLLECT_AT_ONCE_BYTES = 1024 * 1024

/**
 * As `noteTransientBytes`, for a caller that has just let go of `bytes` and holds no other large buffer (a reader
 * between pages, which may not yield to the event loop): the collection runs at once — for a drop of a megabyte or
 * more every time, for smaller ones when they add up to a step.
 */
export function releasedTransientBytes(bytes: number): void {
  largeBodyBytes += bytes
  if (gc === undefined) return
  if (bytes < COLLECT_AT_ONCE_BYTES && !stepReached(bytes)) return
  movedSinceGc = 0
  gc({ type: 'minor' })
}

/** The old generation's growth allowed between full collections, percent of what survived the last one. */
export const OLD_GENERATION_GROWTH_PERCENT = 30

/**
 * Caps how far V8 lets the old generation grow before its next full collection: by default up to four times what
 * survived the last one, which at high concurrency (exchanges that wait hundreds of milliseconds for a slow token
 * are promoted whole and die old) kept 50–80 MB of dead objects per server (issue 15: ≤ 200 MB RSS throughout). V8
 * reads `--heap-growing-percent` each time it sets the next limit, so setting it in the running process takes effect
 * from the next full collection — for `gatehouse serve` and for the desktop app's Electron main process alike, whose
 * Node flags cannot be set on its command line. At c=16 an exchange's objects die young: the cap costs a few full
 * collections a minute (`--trace-gc`: 3 in 24 s, about 40 ms of marking in all); at 256 clients it is most of what
 * keeps a server under 200 MB (README "Memory budget").
 */
export function limitOldGenerationGrowth(percent = OLD_GENERATION_GROWTH_PERCENT): void {
  setFlagsFromString(`--heap-growing-percent=${percent}`)
}

/** Dead buffers the watch lets pile up past what was alive after its last collection, bytes. */
export const EXTERNAL_GARBAGE_BUDGET_BYTES = 24 * 1024 * 1024

/**
 * Buffers that outlive a few young-generation collections — those of exchanges that wait hundreds of milliseconds,
 * for a slow token or a slow service — die in the old generation, and V8 collects it once external memory grew by
 * 64 MB or the old generation reached its limit: at high concurrency that slack was a third of a server's memory
 * (issue 15: ≤ 200 MB RSS throughout). Every `intervalMs` the watch reads the memory of the process's ArrayBuffers;
 * past `budgetBytes` more than after its last collection, and once `budgetBytes` of large bodies (over
 * `LARGE_BODY_BYTES`) moved since, it asks V8 for a concurrent major collection (`execution: 'async'`: marked
 * alongside the event loop, as V8 marks its own), one at a time. Only for large bodies: a collection asked for this way
 * is a forced one, after which V8 drops optimised code by the hundred ("weak objects") and compiles it again — at
 * c=16 with small messages, where the watch fired every 10 s or so, a quarter to half a second of compiling each time
 * (`--trace-deopt`: 104–116 functions; the consumer's compiler threads 0.17–0.18 against 0.06–0.09 ms per exchange
 * without); V8's own collections of that garbage drop nothing. Returns the function that stops it.
 */
export function watchExternalMemory(options: { budgetBytes?: number; intervalMs?: number } = {}): () => void {
  const budget = options.budgetBytes ?? EXTERNAL_GARBAGE_BUDGET_BYTES
  let alive = 0
  let collecting = false
  const timer = setInterval(() => {
    if (collecting || gc === undefined || largeBodyBytes < budget || process.memoryUsage().arrayBuffers < alive + budget) return
    collecting = true
    largeBodyBytes = 0
    void Promise.resolve(gc({ type: 'major', execution: 'async' })).finally(() => {
      alive = process.memoryUsage().arrayBuffers
      collecting = false
    })
  }, options.intervalMs ?? 250)
  timer.unref()
  return () => clearInterval(timer)
}

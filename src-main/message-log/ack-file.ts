import { createHash } from 'node:crypto'
import { closeSync, constants, fdatasync, fsyncSync, openSync, readFileSync, write, writeSync } from 'node:fs'
import { dirname } from 'node:path'
import { fsyncDirectory, SecurityServerError } from '../platform'
import { CHAIN_HASH_BYTES, type ChainPosition } from './evidence-chain'

/**
 * The acknowledgement file (`DATA_DIR/messagelog.ack`): the last acknowledged position of the evidence chain and the
 * position the chain starts from after purging, kept outside SQLite so that a loss of the database's WAL or file
 * cannot take it together with the records it vouches for. It is rewritten after every group commit — never before
 * the commit, and at most one batch behind the records answered (`previousAck` in `message-log.ts` argues the crash
 * windows) — durably: through a descriptor opened with O_DSYNC, where the platform has it,
 * so that a write returns only once its data is on the disk as an fdatasync would ensure — one trip to the thread pool
 * per group commit instead of two (a write, then an fdatasync, which remains the fallback). Two 512-byte slots are written alternately in place, each with
 * a generation number and a SHA-256 of its content: a write torn by a crash leaves the other slot readable, and the
 * reader takes the valid slot with the highest generation.
 */

const SLOT_BYTES = 512
/** Synchronised data writes (POSIX O_DSYNC); 0 where the platform has none (Windows), which then uses fdatasync. */
const DSYNC: number = constants.O_DSYNC ?? 0
const MAGIC = 'GATEHOUSE-MLOG-ACK-1'

export interface AckState {
  /** The last acknowledged record: every record up to it was committed before a caller was told so. */
  last: ChainPosition
  /** The chain before the oldest record kept (records up to it were archived and purged). */
  base: ChainPosition
}

export type AckFileRead =
  | { status: 'missing' }
  | { status: 'unreadable'; reason: string }
  | { status: 'ok'; state: AckState; generation: number }

function encodeSlot(generation: number, state: AckState): Buffer {
  const body = [MAGIC, generation, state.last.seq, state.last.hash.toString('hex'), state.base.seq, state.base.hash.toString('hex')].join(' ')
  const line = `${body} ${createHash('sha256').update(body, 'utf8').digest('hex')}\n`
  const slot = Buffer.alloc(SLOT_BYTES)
  slot.write(line, 'utf8')
  return slot
}

const HEX_HASH = new RegExp(`^[0-9a-f]{${CHAIN_HASH_BYTES * 2}}$`)

function decodeSlot(slot: Buffer): { generation: number; state: AckState } | undefined {
  const end = slot.indexOf(0x0a)
  if (end < 0) return undefined
  const parts = slot.subarray(0, end).toString('utf8').split(' ')
  if (parts.length !== 7 || parts[0] !== MAGIC) return undefined
  const [, generation, lastSeq, lastHash, baseSeq, baseHash, checksum] = parts as [string, string, string, string, string, string, string]
  const body = parts.slice(0, 6).join(' ')
  if (createHash('sha256').update(body, 'utf8').digest('hex') !== checksum) return undefined
  const numbers = [generation, lastSeq, baseSeq].map((n) => (/^\d{1,15}$/.test(n) ? Number(n) : NaN))
  if (numbers.some((n) => Number.isNaN(n)) || !HEX_HASH.test(lastHash) || !HEX_HASH.test(baseHash)) return undefined
  return {
    generation: numbers[0] as number,
    state: { last: { seq: numbers[1] as number, hash: Buffer.from(lastHash, 'hex') }, base: { seq: numbers[2] as number, hash: Buffer.from(baseHash, 'hex') } },
  }
}

export function readAckFile(path: string): AckFileRead {
  let bytes: Buffer
  try {
    bytes = readFileSync(path)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { status: 'missing' }
    return { status: 'unreadable', reason: (error as Error).message }
  }
  const slots = [bytes.subarray(0, SLOT_BYTES), bytes.subarray(SLOT_BYTES, 2 * SLOT_BYTES)]
    .filter((s) => s.length === SLOT_BYTES)
    .map(decodeSlot)
    .filter((s) => s !== undefined)
  if (slots.length === 0) return { status: 'unreadable', reason: `neither slot of ${path} holds a valid record (${bytes.length} bytes)` }
  const best = slots.reduce((a, b) => (b.generation > a.generation ? b : a))
  return { status: 'ok', state: best.state, generation: best.generation }
}

export interface AckFileWriter {
  readonly path: string
  /** What the file holds once the pending write is done. */
  state(): AckState
  /** Records `last` as acknowledged; resolves once a write holding it (or a later position) reached the disk. */
  acknowledge(last: ChainPosition): Promise<void>
  /** Records the chain's new start after a purge; resolves once it is on disk. */
  setBase(base: ChainPosition): Promise<void>
  close(): Promise<void>
}

/**
 * Opens the file for writing, creating it (with `initial`, synchronously and fsync'd with its directory) when it
 * does not exist or replacing it when `replace` is set. Writes are coalesced: at most one is on its way to the disk,
 * and the next carries everything acknowledged meanwhile, so the file costs one synchronised write per group commit at most.
 */
export function openAckFile(path: string, initial: AckState, options: { generation?: number; replace?: boolean } = {}): AckFileWriter {
  let generation = options.generation ?? 0
  let desired: AckState = { last: initial.last, base: initial.base }
  const fresh = options.replace === true || readAckFile(path).status === 'missing'
  let fd: number
  try {
    fd = openSync(path, constants.O_RDWR | DSYNC | (fresh ? constants.O_CREAT | constants.O_TRUNC : 0), 0o600)
    if (fresh) {
      generation++
      const slot = encodeSlot(generation, desired)
      writeSync(fd, Buffer.concat([slot, slot]), 0, 2 * SLOT_BYTES, 0)
      fsyncSync(fd)
      fsyncDirectory(dirname(path))
    }
  } catch (cause) {
    throw new SecurityServerError('logging_failed', `Cannot open the message-log acknowledgement file ${path}: ${(cause as Error).message}`, { cause })
  }
  let closed = false
  /** The last acknowledged sequence number known to be on disk. */
  let durable = fresh ? desired.last.seq : -1
  let inFlight: Promise<void> | undefined
  let queued: Promise<void> | undefined

  function writeNow(): Promise<void> {
    if (closed) return Promise.reject(new SecurityServerError('logging_failed', 'The message-log acknowledgement file is closed'))
    generation++
    const slot = encodeSlot(generation, desired)
    const offset = (generation % 2) * SLOT_BYTES
    const writing = desired.last.seq
    return new Promise<void>((resolve, reject) => {
      const failed = (cause: Error): void =>
        reject(new SecurityServerError('logging_failed', `Cannot write the message-log acknowledgement file ${path}: ${cause.message}`, { cause }))
      const done = (): void => {
        durable = Math.max(durable, writing)
        resolve()
      }
      write(fd, slot, 0, SLOT_BYTES, offset, (error) => {
        if (error) return failed(error)
        if (DSYNC !== 0) return done()
        fdatasync(fd, (syncError) => (syncError ? failed(syncError) : done()))
      })
    })
  }

  function flush(): Promise<void> {
    if (queued !== undefined) return queued
    if (inFlight === undefined) {
      inFlight = writeNow().finally(() => {
        inFlight = undefined
      })
      return inFlight
    }
    queued = inFlight.catch(() => undefined).then(() => {
      queued = undefined
      inFlight = writeNow().finally(() => {
        inFlight = undefined
      })
      return inFlight
    })
    return queued
  }

  return {
    path,
    state: () => desired,
    acknowledge(last) {
      if (last.seq <= durable) return Promise.resolve()
      if (last.seq > desired.last.seq) desired = { ...desired, last }
      return flush()
    },
    setBase(base) {
      if (base.seq > desired.base.seq) desired = { ...desired, base }
      return flush()
    },
    async close() {
      if (closed) return
      await Promise.allSettled([inFlight, queued])
      closed = true
      closeSync(fd)
    },
  }
}

import { createHash } from 'node:crypto'
import { closeSync, constants, fdatasyncSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs'
import { dirname } from 'node:path'
import { fsyncDirectory, SecurityServerError } from '../platform'
import { CHAIN_HASH_BYTES, type ChainPosition } from './evidence-chain'

/**
 * The acknowledgement file (`DATA_DIR/messagelog.ack`): the last acknowledged position of the evidence chain and the
 * position the chain starts from after purging, kept outside SQLite so that a loss of the database's WAL or file
 * cannot take it together with the records it vouches for. It is rewritten after every group commit — never before
 * the commit, and at most one batch behind the records answered (`message-log.ts`, above `commit`, argues the crash
 * windows) — by whoever runs the commits: the message log's writer thread while it runs (`handOff`,
 * `ACK_SLOT_WRITER`), right after each commit, otherwise this module on the caller's thread. A write is durable when
 * it returns: through a descriptor opened with O_DSYNC where the platform has it (one system call, as a write and an
 * fdatasync would ensure; the fdatasync remains the fallback). Two 512-byte slots are written alternately in place,
 * each with a generation number and a SHA-256 of its content: a write torn by a crash leaves the other slot readable,
 * and the reader takes the valid slot with the highest generation.
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

/**
 * `encodeSlot` and the slot's write as plain JavaScript source, for the writer thread's program (evaluated from a
 * string, `message-record-repository.ts`): defines `writeAckSlot(fd, generation, lastSeq, lastHashHex, baseSeq,
 * baseHashHex)`, which writes the slot of that generation and returns once it is durable, or throws.
 */
export const ACK_SLOT_WRITER = `
const ackFs = require('node:fs')
const ackCrypto = require('node:crypto')
const ACK_DSYNC = ackFs.constants.O_DSYNC ?? 0
function writeAckSlot(fd, generation, lastSeq, lastHashHex, baseSeq, baseHashHex) {
  const body = [${JSON.stringify(MAGIC)}, generation, lastSeq, lastHashHex, baseSeq, baseHashHex].join(' ')
  const slot = Buffer.alloc(${SLOT_BYTES})
  slot.write(body + ' ' + ackCrypto.createHash('sha256').update(body, 'utf8').digest('hex') + '\\n', 'utf8')
  ackFs.writeSync(fd, slot, 0, ${SLOT_BYTES}, (generation % 2) * ${SLOT_BYTES})
  if (ACK_DSYNC === 0) ackFs.fdatasyncSync(fd)
}
`

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
  /**
   * Hands the file's writes to the message log's writer thread, which writes a slot after each commit
   * (`ACK_SLOT_WRITER`): the descriptor, the last generation and the state to go on from, and whether that state must
   * be written first (it may not be on disk: taken back from a thread that stopped unexpectedly). Until `takeBack`, this side only notes what the thread writes (`noteLast`, `noteBase`).
   */
  handOff(): AckHandOff
  /** The thread wrote (or is writing) a slot holding `last`. */
  noteLast(last: ChainPosition): void
  /** The thread wrote a slot holding `base`. */
  noteBase(base: ChainPosition): void
  /**
   * The writes come back from the thread: the generation goes on from the file's; `unsure` when the thread stopped
   * without a clean close, so the noted state is written again at the next write or hand-off.
   */
  takeBack(unsure: boolean): void
  close(): Promise<void>
}

/** What the writer thread needs to write the file (`AckFileWriter.handOff`); hashes in hex. */
export interface AckHandOff {
  fd: number
  generation: number
  lastSeq: number
  lastHash: string
  baseSeq: number
  baseHash: string
  /** The state is to be written at once. */
  write: boolean
}

/**
 * Opens the file for writing, creating it (with `initial`, synchronously and fsync'd with its directory) when it
 * does not exist or replacing it when `replace` is set. A write is one synchronised write of 512 bytes, made where it
 * is asked (at most once per group commit).
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
  /** The writes are the writer thread's. */
  let handedOff = false
  /** What `desired` holds is known to be on disk (an existing file may hold less: `initial` is what it should hold). */
  let durable = fresh

  function writeNow(): void {
    if (closed) throw new SecurityServerError('logging_failed', 'The message-log acknowledgement file is closed')
    if (handedOff) throw new Error('the message-log acknowledgement file is written by the writer thread')
    generation++
    try {
      writeSync(fd, encodeSlot(generation, desired), 0, SLOT_BYTES, (generation % 2) * SLOT_BYTES)
      if (DSYNC === 0) fdatasyncSync(fd)
    } catch (cause) {
      durable = false
      throw new SecurityServerError('logging_failed', `Cannot write the message-log acknowledgement file ${path}: ${(cause as Error).message}`, { cause })
    }
    durable = true
  }

  const settled = (work: () => void): Promise<void> => {
    try {
      work()
      return Promise.resolve()
    } catch (error) {
      return Promise.reject(error)
    }
  }

  return {
    path,
    state: () => desired,
    acknowledge(last) {
      return settled(() => {
        if (last.seq <= desired.last.seq && durable) return
        if (last.seq > desired.last.seq) desired = { ...desired, last }
        writeNow()
      })
    },
    setBase(base) {
      return settled(() => {
        if (base.seq > desired.base.seq) desired = { ...desired, base }
        writeNow()
      })
    },
    handOff() {
      handedOff = true
      return {
        // Closed (a log started again after its stop): no descriptor, so that every write fails as this side's would.
        fd: closed ? -1 : fd, generation, lastSeq: desired.last.seq, lastHash: desired.last.hash.toString('hex'), baseSeq: desired.base.seq,
        baseHash: desired.base.hash.toString('hex'), write: !durable,
      }
    },
    noteLast(last) {
      if (last.seq > desired.last.seq) desired = { ...desired, last }
    },
    noteBase(base) {
      if (base.seq > desired.base.seq) desired = { ...desired, base }
    },
    takeBack(unsure) {
      handedOff = false
      const read = readAckFile(path)
      // The thread's generations went on from the one handed over; a torn or failed write may have left fewer.
      if (read.status === 'ok') generation = Math.max(generation, read.generation)
      if (unsure) durable = false
    },
    async close() {
      if (closed) return
      closed = true
      closeSync(fd)
    },
  }
}

import { Worker } from 'node:worker_threads'
import { bundleRequire, inTransaction, SecurityServerError, type Logger, type WritableDb } from '../platform'
import {
  RECORD_WRITER_PROGRAM, autoCheckpointPages, encodeStampLinks, insertMessageRecord, setAutoCheckpoint, storeStamp, messageRecordParameters, writerCacheSize, watchConnectionLimits, writerConnectionLimits, writerDurability,
  type ConnectionLimitChanges, type NewMessageRecord, type StampToStore,
} from './message-record-repository'
import { encodeRecordBatch } from './record-batch-codec'
import type { AckFileWriter } from './ack-file'
import { nextLink, recordDigest, type ChainPosition } from './evidence-chain'

/**
 * Where the message log's group commits run (issue 15 §3, message log off the event loop). A file-backed log commits
 * in a writer thread (worker_threads) holding its own connection to the same database with the same durability
 * (`synchronous` as the log's connection: FULL, WAL): the event loop hands over a batch and goes on serving while the
 * thread waits on fsync; `write` resolves only once the batch's transaction committed, so the evidence rule holds —
 * nothing is forwarded or answered before its own record is durable. The writer links the records to the evidence
 * chain where it commits them (`recordDigest`, `nextLink`; in the thread their source twin `RECORD_CHAIN_SOURCE`),
 * from the head it was handed at its start (`RecordWriterOptions.head`) and moved by each commit only — a batch that
 * rolls back leaves it — and answers each batch with the new head; the caller never has two batches in flight. Given
 * the acknowledgement file, the writer writes it after each commit (`RecordAcknowledgements`): the thread itself, with
 * no trip back to the event loop and none through libuv's pool. An in-memory database (tests, tools) cannot be shared
 * with a thread and commits in place, writing the acknowledgement file in place too.
 */
export interface RecordWriter {
  /**
   * Inserts the records at their places in one transaction; resolves with their ids once it committed, and with the
   * failure of the acknowledgement write made after the batch before it, if that write failed (`ackFailure`).
   */
  write(records: readonly NewMessageRecord[]): Promise<RecordWriteResult>
  /** Writes the chain's new start after a purge into the acknowledgement file, where its writes are made. */
  setAckBase(base: ChainPosition): Promise<void>
  /** Waits for the batch in flight and closes the thread's connection. */
  close(): Promise<void>
  /**
   * Stores a time-stamp and links its records in one transaction where the commits run (`storeStamp`): a batch stamp
   * updates up to `timestampRecordsLimit` records, hundreds of milliseconds the event loop would otherwise wait.
   * Resolves with the time-stamp's id once committed.
   */
  stamp(stamp: StampToStore): Promise<number>
  /**
   * Checkpoints the WAL where the commits run, for what the log connection wrote itself (time-stamps, archiving): a
   * threaded writer leaves the log connection no automatic checkpoints (they would run on the event loop) and its own
   * commits checkpoint only past `wal_autocheckpoint` pages, so after the log connection's own writes it is asked
   * here. Resolves with the WAL's frames and how many of them are in the database, or undefined when no thread runs
   * (the connection then checkpoints itself).
   */
  checkpoint(): Promise<{ walFrames: number; checkpointedFrames: number } | undefined>
  /** Whether commits run off the event loop. */
  readonly threaded: boolean
  /** Starts the thread now rather than at the first write (a server about to take traffic; a CLI never needs it). */
  open(): void
}

export interface RecordWriteResult {
  ids: number[]
  /** The evidence chain's head after the batch: its last record's place. */
  head: ChainPosition
  /** The acknowledgement write after the batch before this one (or since) failed: this batch must not be answered. */
  ackFailure?: AckWriteFailure
}

/** A failed write of the acknowledgement file, and the place it should have held. */
export type AckWriteFailure = Error & { seq: number; code?: string }

/**
 * The acknowledgement file, written after every commit by the writer: at most one write per batch, after its commit
 * (never ahead of the database), done before the next batch is committed (so the next batch's answer tells it is on
 * disk). `failed` is told of a failed write at once (the evidence problem); the next batch's result carries it.
 */
export interface RecordAcknowledgements {
  file: AckFileWriter
  failed(failure: AckWriteFailure): void
}

export interface RecordWriterOptions {
  /**
   * The evidence chain's head to link from: asked at every start of the thread (and for every batch in place). The
   * caller keeps it as the writer answers (`RecordWriteResult.head`), or sets it after a lost thread.
   */
  head: () => ChainPosition
  acknowledgements?: RecordAcknowledgements
}

export function createRecordWriter(db: WritableDb, logger: Logger, options: RecordWriterOptions): RecordWriter {
  return db.memory ? inPlaceWriter(db, options) : new ThreadRecordWriter(db, logger, options)
}

const ackWriteFailure = (error: unknown, seq: number): AckWriteFailure =>
  Object.assign(new Error((error as Error).message), { seq, code: (error as { code?: string }).code })

function inPlaceWriter(db: WritableDb, { head, acknowledgements }: RecordWriterOptions): RecordWriter {
  let ackFailure: AckWriteFailure | undefined
  return {
    threaded: false,
    open: () => undefined,
    async write(records) {
      let last = head()
      const ids = inTransaction(db, () => records.map((record) => {
        const link = nextLink(last, recordDigest(record))
        last = { seq: link.seq, hash: link.chainHash }
        return insertMessageRecord(db, record, link)
      }))
      const result: RecordWriteResult = ackFailure === undefined ? { ids, head: last } : { ids, head: last, ackFailure }
      ackFailure = undefined
      if (acknowledgements !== undefined && records.length > 0) {
        await acknowledgements.file.acknowledge(last).catch((error: unknown) => {
          ackFailure = ackWriteFailure(error, last.seq)
          acknowledgements.failed(ackFailure)
        })
      }
      return result
    },
    setAckBase: async (base) => acknowledgements?.file.setBase(base),
    stamp: async (stamp) => inTransaction(db, () => storeStamp(db, stamp)),
    checkpoint: async () => undefined,
    close: async () => undefined,
  }
}

type CheckpointResult = { walFrames: number; checkpointedFrames: number } | undefined

interface InFlight {
  resolve(result: RecordWriteResult): void
  reject(error: unknown): void
}

class ThreadRecordWriter implements RecordWriter {
  readonly threaded = true
  private worker: Worker | undefined
  /** Why the thread could not start, as it told (the error its stop reports carries no message). */
  private startError: { message: string; code?: string } | undefined
  private readonly inFlight = new Map<number, InFlight>()
  private nextId = 1
  private closing: Promise<void> | undefined
  /** Changes to the log connection's limits, and how many of them the thread has (it takes them again when behind). */
  private readonly limitChanges: ConnectionLimitChanges
  private limitsSent = -1
  /** Checkpoint requests waiting for the thread's answer. */
  private readonly checkpoints = new Map<number, (result: CheckpointResult) => void>()
  /** The log connection's own automatic checkpoint while no thread runs, restored when the thread goes. */
  private ownAutoCheckpoint: number | undefined

  private readonly acknowledgements: RecordAcknowledgements | undefined

  constructor(private readonly db: WritableDb, private readonly logger: Logger, private readonly options: RecordWriterOptions) {
    this.acknowledgements = options.acknowledgements
    this.limitChanges = watchConnectionLimits(db)
  }

  open(): void {
    if (this.closing === undefined) this.worker ??= this.start()
  }

  private start(): Worker {
    this.limitsSent = this.limitChanges.count
    // The thread's commits checkpoint (at its connection's `wal_autocheckpoint`), off the event loop; this one does not.
    this.ownAutoCheckpoint ??= autoCheckpointPages(this.db)
    setAutoCheckpoint(this.db, 0)
    const worker = new Worker(RECORD_WRITER_PROGRAM, {
      eval: true,
      workerData: {
        driver: betterSqlitePath(), path: this.db.name, synchronous: writerDurability(this.db), cacheSize: writerCacheSize(this.db), limits: writerConnectionLimits(this.db),
        head: { seq: this.options.head().seq, hash: this.options.head().hash.toString('hex') },
        ack: this.acknowledgements?.file.handOff(),
      },
    })
    // Idle, the thread does not keep the process alive; a batch in flight does.
    worker.unref()
    worker.on('message', (m: WriterReply) => this.answer(m))
    worker.on('error', (error) => this.lost(worker, error))
    worker.on('exit', (code) => this.lost(worker, new Error(`the message-log writer thread exited (code ${code})`)))
    return worker
  }

  private answer(m: WriterReply): void {
    if ('startError' in m) {
      this.startError = m.startError
      this.logger.error({ err: m.startError }, 'the message-log writer thread cannot open the database')
      return
    }
    if ('ackFailed' in m) {
      this.acknowledgements?.failed(ackWriteFailure(m.ackFailed, m.ackFailed.seq))
      return
    }
    if ('checkpoint' in m) {
      const done = this.checkpoints.get(m.checkpoint)
      this.checkpoints.delete(m.checkpoint)
      if ('error' in m) this.logger.warn({ err: m.error }, 'message-log WAL checkpoint failed')
      done?.('error' in m ? undefined : { walFrames: m.walFrames, checkpointedFrames: m.checkpointedFrames })
      return
    }
    if (!('id' in m)) return
    const waiting = this.inFlight.get(m.id)
    if (waiting === undefined) return
    this.inFlight.delete(m.id)
    if (this.inFlight.size === 0) this.worker?.unref()
    if ('ids' in m) {
      const head: ChainPosition = { seq: m.seq, hash: Buffer.from(m.hash.buffer, m.hash.byteOffset, m.hash.byteLength) }
      // The thread writes it into the acknowledgement file now.
      if (m.ids.length > 0) this.acknowledgements?.file.noteLast(head)
      waiting.resolve(m.ackFailure === undefined ? { ids: m.ids, head } : { ids: m.ids, head, ackFailure: ackWriteFailure(m.ackFailure, m.ackFailure.seq) })
      return
    }
    // The limits may not have taken before the batch failed: they go again with the next one.
    this.limitsSent = -1
    waiting.reject(Object.assign(new Error(m.error.message), { code: m.error.code }))
  }

  /** The thread died (an exception it did not catch, a failed start): what it held fails; the next write starts another. */
  private lost(worker: Worker, error: unknown): void {
    if (this.worker !== worker) return
    this.worker = undefined
    if (this.closing === undefined && this.inFlight.size > 0) this.logger.error({ err: error }, 'the message-log writer thread stopped')
    const reason = error instanceof Error ? error.message : (this.startError?.message ?? `the thread stopped (${String((error as { code?: unknown } | undefined)?.code ?? error)})`)
    this.startError = undefined
    const failed = new SecurityServerError('logging_failed', `Message could not be logged: ${reason}`, { cause: error })
    for (const waiting of this.inFlight.values()) waiting.reject(failed)
    this.inFlight.clear()
    for (const done of this.checkpoints.values()) done(undefined)
    this.checkpoints.clear()
    this.restoreAutoCheckpoint()
    // Closed, the thread made every write first; lost, its last one may not have been made: written again by the next.
    this.acknowledgements?.file.takeBack(this.closing === undefined)
  }

  /** No thread runs: the log connection checkpoints itself again. */
  private restoreAutoCheckpoint(): void {
    if (this.ownAutoCheckpoint === undefined || !this.db.open) return
    setAutoCheckpoint(this.db, this.ownAutoCheckpoint)
    this.ownAutoCheckpoint = undefined
  }

  checkpoint(): Promise<CheckpointResult> {
    const worker = this.worker
    if (worker === undefined || this.closing !== undefined) return Promise.resolve(undefined)
    const id = this.nextId++
    return new Promise<CheckpointResult>((resolve) => {
      this.checkpoints.set(id, resolve)
      worker.postMessage({ checkpoint: id })
    })
  }

  write(records: readonly NewMessageRecord[]): Promise<RecordWriteResult> {
    // One buffer for the whole batch, its memory handed over rather than cloned (record-batch-codec.ts).
    const batch = encodeRecordBatch(records.map((r) => messageRecordParameters(r, undefined)))
    return this.send({ batch }, [batch.buffer as ArrayBuffer])
  }

  async setAckBase(base: ChainPosition): Promise<void> {
    const file = this.acknowledgements?.file
    if (file === undefined) return
    if (this.worker === undefined) return file.setBase(base)
    await this.send({ ackBase: { seq: base.seq, hash: base.hash.toString('hex') } }, [])
    file.noteBase(base)
  }

  async stamp(stamp: StampToStore): Promise<number> {
    // The hash chains in one transferred buffer (`encodeStampLinks`), the rest of the stamp as it is.
    const links = encodeStampLinks(stamp.links)
    const { ids: [id] } = await this.send({ stamp: { timeMs: stamp.timeMs, token: stamp.token, hashChainResult: stamp.hashChainResult, tsaUrl: stamp.tsaUrl, atMs: stamp.atMs, stampId: stamp.stampId }, links }, [links.buffer as ArrayBuffer])
    return id as number
  }

  /** Hands a transaction to the thread; resolves with what it returns once committed. */
  private send(work: object, transfer: ArrayBuffer[]): Promise<RecordWriteResult> {
    if (this.closing !== undefined) return Promise.reject(new SecurityServerError('logging_failed', 'The message log is stopped'))
    const worker = (this.worker ??= this.start())
    const id = this.nextId++
    // A limit set since the last transaction (busy timeout, page limit) reaches the thread with this one, before its commit.
    let limits: ReturnType<typeof writerConnectionLimits> | undefined
    if (this.limitsSent !== this.limitChanges.count) {
      limits = writerConnectionLimits(this.db)
      this.limitsSent = this.limitChanges.count
    }
    return new Promise<RecordWriteResult>((resolve, reject) => {
      this.inFlight.set(id, { resolve, reject })
      worker.ref()
      worker.postMessage({ id, limits, ...work }, transfer)
    })
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.allSettled([...this.inFlight.values()].map((w) => new Promise<void>((resolve) => {
        const { resolve: done, reject: failed } = w
        w.resolve = (result) => (done(result), resolve())
        w.reject = (error) => (failed(error), resolve())
      })))
      const worker = this.worker
      if (worker === undefined) return
      worker.ref()
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()))
      worker.postMessage({ close: true })
      await exited
    })().finally(() => {
      this.restoreAutoCheckpoint()
      // A log started again after stopping starts another thread at its first write.
      this.closing = undefined
    })
    return this.closing
  }
}

type WriterReply =
  | { ready: true }
  | { closed: true }
  | { startError: { message: string; code?: string } }
  | { id: number; ids: number[]; seq: number; hash: Uint8Array; ackFailure?: { seq: number; message: string; code?: string } }
  | { ackFailed: { seq: number; message: string; code?: string } }
  | { id: number; error: { message: string; code?: string } }
  | { checkpoint: number; walFrames: number; checkpointedFrames: number }
  | { checkpoint: number; error: { message: string; code?: string } }

/** better-sqlite3 as this module resolves it (the thread's `require` would resolve from the working directory). */
function betterSqlitePath(): string {
  return bundleRequire().resolve('better-sqlite3')
}

import { createHash, randomUUID, type Hash } from 'node:crypto'
import { createReadStream, mkdirSync, readdirSync, unlinkSync } from 'node:fs'
import { open, type FileHandle } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { noteTransientBytes, SecurityServerError } from '../../platform'
import { busy, DEFAULT_MESSAGE_BUDGET, MessageBudget, type Reservation } from './message-budget'

/**
 * Message bodies as the proxy carries them (issue 14 §3): received once, hashed (SHA-512) while they stream in,
 * kept in memory up to the budget's spool threshold and in a spool file (mode 600, in the data directory) past it,
 * then read out as a stream towards the peer, the service or the information system. The signature, the request
 * hash and the message log use the digest taken on the way in; only the message log ever needs a body's bytes in
 * one piece (`load`, with memory reserved from the budget while it stores them). Size limits are applied to the
 * declared length before anything is read and to the actual length as it grows.
 */

/** Bytes that can be written out, in order, with their total size known in advance. */
export interface BodySource {
  readonly size: number
  chunks(): AsyncIterable<Buffer>
  /**
   * The same bytes as `chunks()` when every one of them is in memory already (no spool file behind them), else
   * undefined: a writer can hand them on in one synchronous step (issue 15 §5), without a promise per chunk.
   */
  held?(): readonly Buffer[] | undefined
  /** Gives back what holds the bytes (memory reservation, spool file); called once the source is no longer needed. */
  release(): void
}

/** A body's size and its SHA-512, all that signing, verifying and the request hash need of it. */
export interface BodyDigest {
  readonly size: number
  readonly sha512: Buffer
}

/**
 * A spooled body as the message log takes it: an open descriptor of its spool file (readable until released, even once
 * the exchange removed the file) and its size. The log reads it a piece at a time where it commits (`STORED_PIECE_BYTES`
 * in message-record-repository.ts), so a large body is never in memory whole.
 */
export interface SpoolFileContent {
  readonly fd: number
  readonly size: number
}

export interface LoadedBody {
  readonly bytes: Buffer | SpoolFileContent
  release(): void
}

export interface MessageBody extends BodySource, BodyDigest {
  /** True while the bytes are in a spool file rather than in memory. */
  readonly spooled: boolean
  /**
   * The body for the message log, with memory taken from the budget until the result is released: held in memory, its
   * bytes; spooled, its spool file opened (`SpoolFileContent`). What the log's storing costs: `LOAD_COST` times the
   * bytes it holds at once — the body's, at most `LOG_PIECE_BYTES` of a spooled one — for the bytes and the two copies
   * SQLite makes while it stores them (the bound blob and the record it builds; measured: a 10 MB blob inserted with a
   * 2 MiB page cache peaks 20–22 MB above its buffer).
   */
  load(): Promise<LoadedBody>
}

/** What storing a body in the message log costs the budget, per byte it holds at once (see `MessageBody.load`). */
export const LOAD_COST = 3

/**
 * The largest piece of a spooled body the message log holds at once: it stores such a body in pieces of this size
 * (message-record-repository.ts `STORED_PIECE_BYTES`, kept equal by a test).
 */
export const LOG_PIECE_BYTES = 1024 * 1024

/** A limit on a body's size and the error its breach is answered with (given the declared or the counted size). */
export interface BodyLimit {
  readonly maxBytes: number
  error(size: number): SecurityServerError
}

/** A body as a listener hands it to a pipeline: still arriving, with the sender's declared length and the listener's limit. */
export interface IncomingBody {
  stream: AsyncIterable<Uint8Array> | Iterable<Uint8Array>
  declaredLength?: number
  maxBytes?: number
}

export interface ReceiveOptions {
  /** Content-Length when the sender declared one: checked against the limits and the budget before anything is read. */
  declaredLength?: number
  /**
   * Without a declared length, a bound the body cannot exceed (the declared length of the message it is a part of):
   * the budget is asked for it before anything is read, the limits apply to the counted length.
   */
  expectedLength?: number
  limits: readonly BodyLimit[]
}

const noop = (): void => undefined

/** A body already in memory and not taken from any budget (error answers, test input). */
export function bufferBody(bytes: Uint8Array): MessageBody {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  return {
    size: buffer.length,
    sha512: createHash('sha512').update(buffer).digest(),
    spooled: false,
    chunks: () => single(buffer),
    held: () => [buffer],
    load: async () => ({ bytes: buffer, release: noop }),
    release: noop,
  }
}

export function bufferSource(bytes: Uint8Array): BodySource {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  return { size: buffer.length, chunks: () => single(buffer), held: () => [buffer], release: noop }
}

/**
 * One source after the other (a multipart message around its body); releasing it releases every part. Adjacent byte
 * parts (boundaries, part headers, the header part, signature) are joined into one buffer first (issue 15 §5: a
 * transport message was a dozen sources and as many writes into the socket's stream, now a few).
 */
export function concatSources(parts: ReadonlyArray<Uint8Array | BodySource>): BodySource {
  const sources: BodySource[] = []
  let run: Uint8Array[] = []
  const endRun = (): void => {
    if (run.length === 0) return
    sources.push(bufferSource(run.length === 1 ? (run[0] as Uint8Array) : Buffer.concat(run)))
    run = []
  }
  for (const part of parts) {
    if (part instanceof Uint8Array) {
      run.push(part)
    } else {
      endRun()
      sources.push(part)
    }
  }
  endRun()
  return {
    size: sources.reduce((n, s) => n + s.size, 0),
    chunks: () => chunksOfAll(sources),
    held() {
      const all: Buffer[] = []
      for (const source of sources) {
        const held = source.held?.()
        if (held === undefined) return undefined
        for (const chunk of held) all.push(chunk)
      }
      return all
    },
    release() {
      for (const source of sources) source.release()
    },
  }
}

/** All bytes of a source in one buffer: only for small, bounded answers (tests, faults). */
export async function readSource(source: BodySource): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of source.chunks()) chunks.push(chunk)
  return Buffer.concat(chunks)
}

/*
 * Every generator on a message's path is a module-level function, never one written inside another function or an
 * object literal made per message: each such generator function object has a `prototype` of its own, so the
 * generators it makes have a V8 map (hidden class) of their own — a new map and prototype per message, made in the old
 * generation and collected only by a full collection, every property access site that sees them megamorphic, and code
 * that embedded one of those maps deoptimised when it dies. A per-exchange generator closure on the consumer's path
 * made its main thread promote ~0.7 MB per young-generation collection (against ~0.15 MB on the provider) and its GC
 * threads spend four times the provider's CPU (issue 15).
 */
async function* chunksOfAll(sources: readonly BodySource[]): AsyncIterable<Buffer> {
  for (const source of sources) yield* source.chunks()
}

async function* single(buffer: Buffer): AsyncIterable<Buffer> {
  if (buffer.length > 0) yield buffer
}

/** The budget and the spool folder bodies are received into; one per security server. */
export class BodyStore {
  private spoolReady = false

  constructor(readonly budget: MessageBudget, readonly spoolDir: string) {}

  /** Removes spool files a previous run left behind (a crash, kill -9): they belong to no exchange any more. */
  clearSpool(): number {
    let removed = 0
    let names: string[]
    try {
      names = readdirSync(this.spoolDir)
    } catch {
      return 0
    }
    for (const name of names) {
      if (!name.endsWith('.body')) continue
      try {
        unlinkSync(join(this.spoolDir, name))
        removed++
      } catch {
        // Gone already.
      }
    }
    return removed
  }

  /** A receiver for one body; refuses at once (limits, budget) when the declared length says so. */
  receiver(options: ReceiveOptions): BodyReceiver {
    return new BodyReceiver(this, options)
  }

  /** Receives a whole body from a stream. */
  async receive(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, options: ReceiveOptions): Promise<MessageBody> {
    const receiver = this.receiver(options)
    try {
      for await (const chunk of source) await receiver.write(toBuffer(chunk))
      return await receiver.end()
    } catch (error) {
      receiver.abort()
      throw error
    }
  }

  /** @internal the spool file of a new body */
  async createSpoolFile(): Promise<{ path: string; handle: FileHandle }> {
    if (!this.spoolReady) {
      mkdirSync(this.spoolDir, { recursive: true, mode: 0o700 })
      this.spoolReady = true
    }
    const path = join(this.spoolDir, `${randomUUID()}.body`)
    return { path, handle: await open(path, 'wx', 0o600) }
  }
}

let fallbackStore: BodyStore | undefined

/** For pipelines run without a server (tests, tools): the default budget, spooling under the system's temp folder. */
export function defaultBodyStore(): BodyStore {
  fallbackStore ??= new BodyStore(new MessageBudget(DEFAULT_MESSAGE_BUDGET), join(tmpdir(), `gatehouse-spool-${process.pid}`))
  return fallbackStore
}

function toBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
}

/**
 * Receives one body pushed chunk by chunk (a request stream, a multipart part): counts, hashes, keeps it in memory
 * up to the spool threshold and writes it to a spool file past it. Each write must be awaited before the next.
 */
export class BodyReceiver {
  private readonly hash: Hash = createHash('sha512')
  private readonly chunks: Buffer[] = []
  private size = 0
  private memory: Reservation
  private diskReserved = 0
  private file: { path: string; handle: FileHandle } | undefined
  private finished = false
  private readonly threshold: number

  constructor(private readonly store: BodyStore, private readonly options: ReceiveOptions) {
    const declared = options.declaredLength
    const { budget } = store
    this.threshold = budget.limits.spoolThresholdBytes
    if (declared !== undefined) {
      for (const limit of options.limits) if (declared > limit.maxBytes) throw limit.error(declared)
    }
    // Admission: what the body will need of the budget, asked for before a byte of it is read — at most what its
    // limits let it reach, so that a body bound to break a limit is refused for that, not for the budget.
    const expected = options.expectedLength === undefined ? undefined : Math.min(options.expectedLength, ...options.limits.map((l) => l.maxBytes + 1))
    const bound = declared ?? expected
    const inMemory = Math.min(bound ?? 0, this.threshold)
    const memory = budget.tryMemory(inMemory)
    if (memory === undefined) throw busy(`no room for ${inMemory} more bytes in its in-flight memory budget of ${budget.limits.maxInFlightBytes} bytes`)
    this.memory = memory
    if (bound !== undefined && bound > this.threshold) {
      if (!budget.tryDisk(bound)) {
        memory.release()
        throw busy(`no room for ${bound} bytes in its spool budget of ${budget.limits.maxSpoolBytes} bytes`)
      }
      this.diskReserved = bound
    }
  }

  async write(chunk: Buffer): Promise<void> {
    if (chunk.length === 0) return
    noteTransientBytes(chunk.length, this.size + chunk.length)
    this.size += chunk.length
    for (const limit of this.options.limits) if (this.size > limit.maxBytes) throw limit.error(this.size)
    this.hash.update(chunk)
    if (this.file === undefined && this.size <= this.threshold) {
      if (this.memory.bytes < this.size && !this.memory.tryGrow(this.size - this.memory.bytes)) {
        throw busy(`no room for more body bytes in its in-flight memory budget of ${this.store.budget.limits.maxInFlightBytes} bytes`)
      }
      // A copy: the chunk may be a view into a larger buffer that must not stay alive with it.
      this.chunks.push(Buffer.from(chunk))
      return
    }
    if (this.size > this.diskReserved) {
      const more = this.size - this.diskReserved
      if (!this.store.budget.tryDisk(more)) throw busy(`no room for more body bytes in its spool budget of ${this.store.budget.limits.maxSpoolBytes} bytes`)
      this.diskReserved += more
    }
    if (this.file === undefined) {
      this.file = await this.store.createSpoolFile()
      for (const held of this.chunks.splice(0)) await writeAll(this.file.handle, held)
    }
    await writeAll(this.file.handle, chunk)
  }

  async end(): Promise<MessageBody> {
    if (this.finished) throw new SecurityServerError('internal_error', 'A body was ended twice')
    this.finished = true
    const sha512 = this.hash.digest()
    if (this.file === undefined) {
      const bytes = this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks, this.size)
      this.chunks.length = 0
      // Only what is kept stays reserved (a declared length that was not reached gives the rest back).
      this.memory.shrink(this.memory.bytes - bytes.length)
      this.store.budget.releaseDisk(this.diskReserved)
      return memoryBody(bytes, sha512, this.memory)
    }
    const { path, handle } = this.file
    await handle.close()
    // On disk now: the memory of its reception goes back to the budget.
    this.memory.release()
    this.store.budget.releaseDisk(this.diskReserved - this.size)
    return spooledBody(this.store, path, this.size, sha512)
  }

  /** After a failure: frees the memory, closes and removes the spool file. */
  abort(): void {
    if (this.finished) return
    this.finished = true
    this.chunks.length = 0
    this.memory.release()
    this.store.budget.releaseDisk(this.diskReserved)
    const file = this.file
    if (file !== undefined) {
      removeFile(file.path)
      void file.handle.close().catch(noop)
    }
  }
}

/** At once (a cheap call, allowed on an open file), so that the spool holds only bodies in flight whenever anyone looks. */
function removeFile(path: string): void {
  try {
    unlinkSync(path)
  } catch {
    // Gone already.
  }
}

async function writeAll(handle: FileHandle, chunk: Buffer): Promise<void> {
  let offset = 0
  while (offset < chunk.length) {
    const { bytesWritten } = await handle.write(chunk, offset, chunk.length - offset)
    offset += bytesWritten
  }
}

function memoryBody(bytes: Buffer, sha512: Buffer, reservation: Reservation): MessageBody {
  return {
    size: bytes.length,
    sha512,
    spooled: false,
    chunks: () => single(bytes),
    held: () => [bytes],
    load: async () => ({ bytes, release: noop }),
    release: () => reservation.release(),
  }
}

async function* spooledChunks(path: string, size: number): AsyncIterable<Buffer> {
  let read = 0
  for await (const chunk of createReadStream(path, { highWaterMark: 64 * 1024 })) {
    read += (chunk as Buffer).length
    noteTransientBytes((chunk as Buffer).length, size)
    yield chunk as Buffer
  }
  if (read !== size) throw new SecurityServerError('io_error', `A spooled body has ${read} bytes instead of ${size}`)
}

function spooledBody(store: BodyStore, path: string, size: number, sha512: Buffer): MessageBody {
  let released = false
  return {
    size,
    sha512,
    spooled: true,
    chunks: () => spooledChunks(path, size),
    async load() {
      const reservation = await store.budget.waitMemory(Math.min(size, LOG_PIECE_BYTES) * LOAD_COST)
      try {
        // Read where the log commits, a piece at a time: a 10 MB body loaded whole cost its buffer and SQLite's two
        // copies of it at once (+45 MB peak a server for one 10 MB exchange; in pieces +10 MB, as with bodies not logged).
        const handle = await open(path, 'r')
        return {
          bytes: { fd: handle.fd, size },
          release: () => {
            reservation.release()
            void handle.close().catch(noop)
          },
        }
      } catch (error) {
        reservation.release()
        throw error
      }
    },
    release() {
      if (released) return
      released = true
      store.budget.releaseDisk(size)
      removeFile(path)
    },
  }
}

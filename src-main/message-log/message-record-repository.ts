import { readSync as fsReadSync } from 'node:fs'
import type { ReadableDb, WritableDb } from '../platform'
import { ACK_SLOT_WRITER } from './ack-file'
import { RECORD_CHAIN_SOURCE, type ChainPosition } from './evidence-chain'
import { RECORD_BATCH_DECODER, Utf8Text } from './record-batch-codec'

/** SQL of the message log: records, attachments, time-stamp records, archive linking and time-stamping state. */

/**
 * A TEXT value of a new record: a string, or its UTF-8 bytes as they arrived or were signed (issue 15: the message
 * path hands the log bytes, which are hashed and handed to the writer thread without a string in between). Bytes
 * must be valid UTF-8 (the message log checks, `logText`): they are stored as the text they spell, and the record's
 * digest and `signature_hash` are taken over them — the same bytes SQLite stores for that text.
 */
export type RecordText = string | Uint8Array

export interface NewMessageRecord {
  queryId: string
  xRequestId: string | null
  client: string
  service: string
  response: boolean
  message: Uint8Array
  bodyLogged: boolean
  signatureXml: RecordText
  signatureHash: string
  hashChainResult: RecordText | null
  hashChain: RecordText | null
  timeMs: number
  attachments: Array<{ content: Uint8Array | SpooledContent | null; size: number; sha512: string }>
}

/**
 * A body the proxy spooled to a file, as the log stores it: the file's open descriptor and its size. It is stored in
 * pieces of `STORED_PIECE_BYTES` (`message_attachment_pieces`, migration 5) read from the file one at a time where the
 * records are committed, so a large body is never in memory whole — loaded whole, a 10 MB body cost its buffer and
 * SQLite's two copies of it at once (a server's peak +45 MB for one 10 MB exchange; in pieces +10 MB, as with bodies
 * not logged).
 */
export interface SpooledContent {
  readonly fd: number
  readonly size: number
}

/** The size of the pieces a spooled body is stored in (the proxy's `LOG_PIECE_BYTES`, kept equal by a test). */
export const STORED_PIECE_BYTES = 1024 * 1024

export interface StoredMessageRecord {
  id: number
  queryId: string
  xRequestId: string | null
  client: string
  service: string
  response: boolean
  message: Buffer
  bodyLogged: boolean
  signatureXml: string
  signatureHash: string
  hashChainResult: string | null
  hashChain: string | null
  timeMs: number
  timestampRecordId: number | null
  timestampHashChain: string | null
  archivedAtMs: number | null
  archiveFile: string | null
}

export interface StoredAttachment {
  position: number
  content: Buffer | null
  size: number
  sha512: string
}

export interface StoredTimestampRecord {
  id: number
  timeMs: number
  token: Buffer
  hashChainResult: string | null
  tsaUrl: string
}

interface RecordRow {
  id: number
  query_id: string
  x_request_id: string | null
  client: string
  service: string
  response: number
  message: Buffer
  body_logged: number
  signature_xml: string
  signature_hash: string
  hash_chain_result: string | null
  hash_chain: string | null
  time_ms: number
  timestamp_record_id: number | null
  timestamp_hash_chain: string | null
  archived_at_ms: number | null
  archive_file: string | null
}

function toRecord(row: RecordRow): StoredMessageRecord {
  return {
    id: row.id,
    queryId: row.query_id,
    xRequestId: row.x_request_id,
    client: row.client,
    service: row.service,
    response: row.response === 1,
    message: row.message,
    bodyLogged: row.body_logged === 1,
    signatureXml: row.signature_xml,
    signatureHash: row.signature_hash,
    hashChainResult: row.hash_chain_result,
    hashChain: row.hash_chain,
    timeMs: row.time_ms,
    timestampRecordId: row.timestamp_record_id,
    timestampHashChain: row.timestamp_hash_chain,
    archivedAtMs: row.archived_at_ms,
    archiveFile: row.archive_file,
  }
}

/** A record's place in the evidence chain (`evidence-chain.ts`). */
export interface RecordLink {
  seq: number
  prevHash: Uint8Array
  chainHash: Uint8Array
}

/**
 * The statements of `insertMessageRecord`, also run by the message log's writer thread (`record-writer.ts`): the
 * record's row, which leaves the contents' columns empty, and its contents in `message_record_contents` (migration 4).
 */
export const INSERT_MESSAGE_RECORD_SQL = `INSERT INTO message_records (query_id, x_request_id, client, service, response, message, body_logged, signature_xml,
         signature_hash, hash_chain_result, hash_chain, time_ms, seq, prev_hash, chain_hash)
       VALUES (?, ?, ?, ?, ?, x'', ?, '', ?, NULL, NULL, ?, ?, ?, ?)`
/**
 * The record's contents: the record's id first, then `messageRecordParameters(…).contents`. The texts may be bound as
 * their UTF-8 bytes (`Utf8Text`, checked as UTF-8 where the log takes them): CAST makes them the TEXT they spell, with
 * no string made of them on the way (a NULL or a string passes unchanged).
 */
export const INSERT_RECORD_CONTENTS_SQL = `INSERT INTO message_record_contents (record_id, message, signature_xml, hash_chain_result, hash_chain)
       VALUES (?, ?, CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT))`
/** One attachment: the record's id first, then `messageRecordParameters(…).attachments[i]`. */
export const INSERT_MESSAGE_ATTACHMENT_SQL = 'INSERT INTO message_attachments (record_id, position, content, size, sha512) VALUES (?, ?, ?, ?, ?)'
/** A spooled attachment (`SpooledContent`): its row without content, then its pieces in order. */
const INSERT_PIECED_ATTACHMENT_SQL = 'INSERT INTO message_attachments (record_id, position, content, size, sha512, pieces) VALUES (?, ?, NULL, ?, ?, ?)'
const INSERT_ATTACHMENT_PIECE_SQL = 'INSERT INTO message_attachment_pieces (record_id, position, piece, bytes) VALUES (?, ?, ?, ?)'

/**
 * Stores a spooled attachment (`SpooledContent`): its row, then its pieces read from the open file into `buffer` (a
 * piece's size) one after the other. Plain JavaScript source, run by the writer thread and, evaluated once here, by the
 * in-place writer (`insertMessageRecord`): one copy of the layout for both. Parameters as `messageRecordParameters(…)
 * .attachments[i]`: position, content, size, SHA-512.
 */
const STORE_SPOOLED_SOURCE = `
function storeSpooled(readSync, buffer, insertPieced, insertPiece, id, attachment) {
  const [position, file, size, sha512] = attachment
  if (file.size !== size) throw new Error('a spooled body of ' + file.size + ' bytes was given as ' + size)
  insertPieced.run(id, position, size, sha512, Math.max(1, Math.ceil(size / buffer.length)))
  let offset = 0
  let piece = 0
  do {
    const length = Math.min(buffer.length, size - offset)
    let read = 0
    while (read < length) {
      const n = readSync(file.fd, buffer, read, length - read, offset + read)
      if (n === 0) throw new Error('a spooled body ended after ' + (offset + read) + ' of ' + size + ' bytes')
      read += n
    }
    insertPiece.run(id, position, piece++, buffer.subarray(0, length))
    offset += length
  } while (offset < size)
}`

type Statement = ReturnType<WritableDb['prepare']>
type StoreSpooled = (readSync: typeof fsReadSync, buffer: Buffer, insertPieced: Statement, insertPiece: Statement, id: number, attachment: readonly SqlValue[]) => void
const storeSpooled = new Function(`${STORE_SPOOLED_SOURCE}; return storeSpooled`)() as StoreSpooled

/** The statements of `storeStamp`, also run by the writer thread. */
const INSERT_TIMESTAMP_RECORD_SQL = 'INSERT INTO timestamp_records (time_ms, token, hash_chain_result, tsa_url) VALUES (?, ?, ?, ?)'
const LINK_TIMESTAMP_SQL = 'UPDATE message_records SET timestamp_record_id = ?, timestamp_hash_chain = CAST(? AS TEXT) WHERE id = ? AND timestamp_record_id IS NULL'
const TIMESTAMPING_SUCCESS_SQL = `INSERT INTO timestamping_state (id, last_success_ms, failing_since_ms, last_error) VALUES (1, ?, NULL, NULL)
     ON CONFLICT (id) DO UPDATE SET last_success_ms = excluded.last_success_ms, failing_since_ms = NULL, last_error = NULL`

/** A statement parameter as the writer thread receives it; a `SpooledContent` is stored in pieces, not bound. */
export type SqlValue = string | number | null | Uint8Array | Utf8Text | SpooledContent

const textValue = (value: RecordText | null): string | Utf8Text | null => (value === null || typeof value === 'string' ? value : new Utf8Text(value))

/** Where `messageRecordParameters(…).record` holds the record's place in the chain (the writer thread sets them). */
const RECORD_SEQ_PARAMETER = 8
const RECORD_PREV_HASH_PARAMETER = 9
const RECORD_CHAIN_HASH_PARAMETER = 10

/**
 * The parameters of the three statements above for one record at its place in the chain; without a place (`link`
 * undefined) its three parameters are null, for the writer thread to set (it links the records it commits).
 */
export function messageRecordParameters(record: NewMessageRecord, link: RecordLink | undefined): { record: SqlValue[]; contents: SqlValue[]; attachments: SqlValue[][] } {
  return {
    record: [
      record.queryId, record.xRequestId, record.client, record.service, record.response ? 1 : 0, record.bodyLogged ? 1 : 0, record.signatureHash,
      record.timeMs, link?.seq ?? null, link?.prevHash ?? null, link?.chainHash ?? null,
    ],
    contents: [record.message, textValue(record.signatureXml), textValue(record.hashChainResult), textValue(record.hashChain)],
    attachments: record.attachments.map((a, i) => [i + 1, a.content, a.size, a.sha512]),
  }
}

/** The length that marks a link without a hash chain (a single stamp) in `encodeStampLinks`. */
const NULL_CHAIN = 0xffffffff

/**
 * A stamp's links packed into one buffer for the writer thread, whose memory is transferred, not cloned (a batch
 * stamp of 10 000 records carries 10 000 hash chains of about 4 KB: a structured clone copied all of them into the
 * thread's heap at once). Layout (little-endian): u32 count, then per link f64 record id, u32 length (NULL_CHAIN for
 * none) and the chain's UTF-8 bytes. The thread binds each chain's bytes as they are, cast to TEXT (`stampLinks`, `LINK_TIMESTAMP_SQL`).
 */
export function encodeStampLinks(links: StampToStore['links']): Buffer {
  let size = 4
  for (const [, chain] of links) size += 12 + (chain === null ? 0 : typeof chain === 'string' ? Buffer.byteLength(chain, 'utf8') : chain.byteLength)
  const out = Buffer.allocUnsafeSlow(size)
  let o = out.writeUInt32LE(links.length, 0)
  for (const [recordId, chain] of links) {
    o = out.writeDoubleLE(recordId, o)
    if (chain === null) {
      o = out.writeUInt32LE(NULL_CHAIN, o)
      continue
    }
    const at = o + 4
    const length = typeof chain === 'string' ? out.write(chain, at, 'utf8') : (out.set(chain, at), chain.byteLength)
    out.writeUInt32LE(length, o)
    o = at + length
  }
  return out
}

/**
 * The message-log writer thread's program (record-writer.ts, issue 15 §3): its own connection set up with the
 * durability of the log's (`workerData.synchronous`, WAL), its page cache size, the log connection's limits (sent again
 * with a batch when they changed), and the insert statements above in one transaction per batch, the batch
 * arriving as one transferred buffer (`record-batch-codec.ts`; a spooled body as its open file, stored in pieces read
 * one at a time, `STORE_SPOOLED_SOURCE`) and each record linked to the evidence chain after the
 * head as it is inserted (`RECORD_CHAIN_SOURCE`; the head handed over at the start, `workerData.head`, moves only
 * when a batch commits, and each answer carries it); the time-stamps (`storeStamp`), whose updates of up to
 * `timestampRecordsLimit` records would otherwise hold the event loop; on request a passive checkpoint of the WAL, for
 * the commits of the log connection, which leaves checkpoints to the thread; and, when handed the acknowledgement file
 * (`workerData.ack`, `AckFileWriter.handOff`), its write after every commit (`message-log.ts` above `commit`): the
 * commit is answered first, then the slot holding the batch's last place is written and synchronised before the
 * thread takes its next message, so the next batch's answer tells that the write before it is on disk — or carries
 * its failure (`ackFailure`), which is also posted at once (`ackFailed`). Plain CommonJS with better-sqlite3 only, evaluated as a string so that it runs the same
 * from the TypeScript sources, under the test runner and from the bundle.
 */
export const RECORD_WRITER_PROGRAM = `
const { parentPort, workerData } = require('node:worker_threads')
const Database = require(workerData.driver)
const { path, synchronous, limits, cacheSize, ack } = workerData
/** The evidence chain's head: the last committed place, handed over at the start and moved by each commit. */
let head = { seq: workerData.head.seq, hash: Buffer.from(workerData.head.hash, 'hex') }
let db
try {
  db = new Database(path)
  db.pragma('journal_mode = WAL')
  db.pragma('foreign_keys = ON')
  db.pragma('synchronous = ' + synchronous)
  db.pragma('cache_size = ' + cacheSize)
  if (Number(db.pragma('synchronous', { simple: true })) !== synchronous) throw new Error('synchronous=' + synchronous + ' did not take')
  if (String(db.pragma('journal_mode', { simple: true })).toLowerCase() !== 'wal') throw new Error('the database is not in WAL mode')
} catch (error) {
  startFailed(error)
}
/**
 * Told before the thread stops: an error thrown out of a thread reaches its owner as a copy of its own properties
 * only, without the message (a SqliteError arrives as an object holding its code alone).
 */
function startFailed(error) {
  parentPort.postMessage({ startError: { message: error.message, code: error.code } })
  throw error
}
function prepare(sql) {
  try {
    return db.prepare(sql)
  } catch (error) {
    startFailed(error)
  }
}
const insertRecord = prepare(${JSON.stringify(INSERT_MESSAGE_RECORD_SQL)})
const insertContents = prepare(${JSON.stringify(INSERT_RECORD_CONTENTS_SQL)})
const insertAttachment = prepare(${JSON.stringify(INSERT_MESSAGE_ATTACHMENT_SQL)})
const insertPiecedAttachment = prepare(${JSON.stringify(INSERT_PIECED_ATTACHMENT_SQL)})
const insertPiece = prepare(${JSON.stringify(INSERT_ATTACHMENT_PIECE_SQL)})
const { readSync } = require('node:fs')
${STORE_SPOOLED_SOURCE}
/** A piece of a spooled body on its way into the database (bound as a copy: one buffer serves every piece). */
let pieceBuffer
function storeAttachment(id, a) {
  if (a[1] === null || a[1] instanceof Uint8Array) return insertAttachment.run(id, ...a)
  pieceBuffer ??= Buffer.allocUnsafeSlow(${STORED_PIECE_BYTES})
  storeSpooled(readSync, pieceBuffer, insertPiecedAttachment, insertPiece, id, a)
}
const insertTimestamp = prepare(${JSON.stringify(INSERT_TIMESTAMP_RECORD_SQL)})
const linkTimestamp = prepare(${JSON.stringify(LINK_TIMESTAMP_SQL)})
const timestampingSuccess = prepare(${JSON.stringify(TIMESTAMPING_SUCCESS_SQL)})
let applied = {}
/** The log connection's per-connection limits (busy timeout, page limit), so the database fails here as it would there. */
function apply(next) {
  if (next.busyTimeoutMs !== applied.busyTimeoutMs) db.pragma('busy_timeout = ' + next.busyTimeoutMs)
  if (next.maxPageCount !== applied.maxPageCount) db.pragma('max_page_count = ' + next.maxPageCount)
  applied = next
}
apply(limits)
${RECORD_BATCH_DECODER}
${RECORD_CHAIN_SOURCE}
/** Links the records after \`from\` (evidence-chain.ts) and inserts them; the head moves only once this commits. */
const commit = db.transaction((records, from) => {
  let seq = from.seq
  let previous = from.hash
  return records.map((r) => {
    const digest = recordDigestOf(r.record, r.contents, r.attachments)
    seq++
    const chain = chainHashOf(previous, seq, digest)
    r.record[${RECORD_SEQ_PARAMETER}] = seq
    r.record[${RECORD_PREV_HASH_PARAMETER}] = previous
    r.record[${RECORD_CHAIN_HASH_PARAMETER}] = chain
    previous = chain
    const id = Number(insertRecord.run(...r.record).lastInsertRowid)
    insertContents.run(id, ...r.contents)
    for (const a of r.attachments) storeAttachment(id, a)
    return id
  })
})
/** The links of a stamp as \`encodeStampLinks\` packs them, each chain as a view of its UTF-8 bytes (bound CAST to TEXT). */
function* stampLinks(packed) {
  const count = packed.readUInt32LE(0)
  let o = 4
  for (let i = 0; i < count; i++) {
    const recordId = packed.readDoubleLE(o)
    const length = packed.readUInt32LE(o + 8)
    o += 12
    if (length === ${NULL_CHAIN}) {
      yield [recordId, null]
      continue
    }
    yield [recordId, packed.subarray(o, o + length)]
    o += length
  }
}
/** As storeStamp: the time-stamp, its records' links and the success, in one transaction. */
const storeStamp = db.transaction((s, packed) => {
  const tsId = s.stampId ?? Number(insertTimestamp.run(s.timeMs, s.token, s.hashChainResult, s.tsaUrl).lastInsertRowid)
  for (const [recordId, hashChain] of stampLinks(packed)) linkTimestamp.run(tsId, hashChain, recordId)
  timestampingSuccess.run(s.atMs)
  return tsId
})
/**
 * The batches' memory is freed when this thread's heap collects their handles; a thread that allocates little would
 * collect them only once tens of MB of external memory piled up, so after every 8 MB received a young-generation
 * collection runs (cheap: little is live).
 */
let collect
try {
  require('node:v8').setFlagsFromString('--expose-gc')
  collect = require('node:vm').runInNewContext('gc')
} catch {
  collect = undefined
}
let receivedSinceCollect = 0
function noteReceived(m) {
  receivedSinceCollect += m.batch.byteLength
  if (receivedSinceCollect < 8 * 1024 * 1024 || typeof collect !== 'function') return
  receivedSinceCollect = 0
  setImmediate(() => collect({ type: 'minor' }))
}
${ACK_SLOT_WRITER}
/** A failed acknowledgement write not yet told with a commit's answer. */
let ackFailure
function writeAck() {
  ack.generation++
  try {
    writeAckSlot(ack.fd, ack.generation, ack.lastSeq, ack.lastHash, ack.baseSeq, ack.baseHash)
    return true
  } catch (error) {
    ackFailure = { seq: ack.lastSeq, message: error.message, code: error.code }
    parentPort.postMessage({ ackFailed: ackFailure })
    return false
  }
}
// Taken back from a thread that stopped unexpectedly: the acknowledged state may not be on disk.
if (ack !== undefined && ack.write) writeAck()
parentPort.on('message', (m) => {
  if (m.ackBase !== undefined) {
    if (ack === undefined) return parentPort.postMessage({ id: m.id, ids: [], seq: head.seq, hash: head.hash })
    ack.baseSeq = m.ackBase.seq
    ack.baseHash = m.ackBase.hash
    parentPort.postMessage(writeAck() ? { id: m.id, ids: [], seq: head.seq, hash: head.hash } : { id: m.id, error: ackFailure })
    return
  }
  if (m.checkpoint !== undefined) {
    try {
      const [result] = db.pragma('wal_checkpoint(PASSIVE)')
      parentPort.postMessage({ checkpoint: m.checkpoint, walFrames: result.log, checkpointedFrames: result.checkpointed })
    } catch (error) {
      parentPort.postMessage({ checkpoint: m.checkpoint, error: { message: error.message, code: error.code } })
    }
    return
  }
  if (m.close) {
    db.close()
    parentPort.postMessage({ closed: true })
    parentPort.close()
    return
  }
  try {
    if (m.limits !== undefined) apply(m.limits)
    if (m.stamp !== undefined) {
      const links = Buffer.from(m.links.buffer, m.links.byteOffset, m.links.byteLength)
      parentPort.postMessage({ id: m.id, ids: [storeStamp.immediate(m.stamp, links)], seq: head.seq, hash: head.hash })
      return
    }
    noteReceived(m)
    const records = decodeRecordBatch(Buffer.from(m.batch.buffer, m.batch.byteOffset, m.batch.byteLength))
    const ids = commit.immediate(records, head)
    if (records.length > 0) {
      const last = records[records.length - 1].record
      head = { seq: last[${RECORD_SEQ_PARAMETER}], hash: last[${RECORD_CHAIN_HASH_PARAMETER}] }
    }
    const failure = ackFailure
    ackFailure = undefined
    const reply = { id: m.id, ids, seq: head.seq, hash: head.hash }
    parentPort.postMessage(failure === undefined ? reply : { ...reply, ackFailure: failure })
    if (ack === undefined || records.length === 0) return
    ack.lastSeq = head.seq
    ack.lastHash = head.hash.toString('hex')
    writeAck()
  } catch (error) {
    parentPort.postMessage({ id: m.id, error: { message: error.message, code: error.code } })
  }
})
parentPort.postMessage({ ready: true })
`

/**
 * Whether the log connection checkpoints the WAL itself after its commits (SQLite's automatic checkpoint at
 * `wal_autocheckpoint` pages, default 1000): off while the writer thread checkpoints for it (`record-writer.ts`), so
 * no checkpoint — a thousand page writes and a sync — runs on the event loop.
 */
export function setAutoCheckpoint(db: WritableDb, pages: number): void {
  db.pragma(`wal_autocheckpoint = ${Math.trunc(pages)}`)
}

export function autoCheckpointPages(db: ReadableDb): number {
  return Number(db.pragma('wal_autocheckpoint', { simple: true }))
}

/** The log connection's page cache (`PRAGMA cache_size`), which the writer thread's connection takes too. */
export function writerCacheSize(db: ReadableDb): number {
  return Number(db.pragma('cache_size', { simple: true }))
}

/** The log connection's `synchronous` level, which the writer thread's connection must have too. */
export function writerDurability(db: ReadableDb): number {
  return Number(db.pragma('synchronous', { simple: true }))
}

/**
 * The log connection's busy timeout and page limit, so a locked or full database fails in the thread as it would here.
 * Read through prepared statements (the connection caches them): `db.pragma` compiles its statement on each call.
 */
export function writerConnectionLimits(db: ReadableDb): { busyTimeoutMs: number; maxPageCount: number } {
  const busy = db.prepare('PRAGMA busy_timeout').get() as { timeout: number }
  const pages = db.prepare('PRAGMA max_page_count').get() as { max_page_count: number }
  return { busyTimeoutMs: Number(busy.timeout), maxPageCount: Number(pages.max_page_count) }
}

/** How often a connection's limits were set since it was watched (`watchConnectionLimits`). */
export interface ConnectionLimitChanges {
  readonly count: number
}

/** A statement that sets the busy timeout or the page limit (`PRAGMA busy_timeout = n`, `PRAGMA main.max_page_count(n)`). */
const SETS_LIMIT = /\b(?:busy_timeout|max_page_count)\s*[=(]/i
const limitChanges = new WeakMap<ReadableDb, { count: number }>()

/**
 * Counts the statements that set the connection's busy timeout or page limit, run through `db.pragma` or `db.exec`
 * (the ways they are set at runtime): the writer thread takes the limits again only when the count moved, rather than
 * reading both before every batch (issue 15). One watch per connection, however many writers ask.
 */
export function watchConnectionLimits(db: ReadableDb): ConnectionLimitChanges {
  const existing = limitChanges.get(db)
  if (existing !== undefined) return existing
  const changes = { count: 0 }
  limitChanges.set(db, changes)
  const pragma = db.pragma.bind(db)
  const exec = db.exec.bind(db)
  db.pragma = ((source: string, options?: Parameters<typeof pragma>[1]) => {
    if (SETS_LIMIT.test(source)) changes.count++
    return pragma(source, options)
  }) as typeof db.pragma
  db.exec = ((source: string) => {
    if (SETS_LIMIT.test(source)) changes.count++
    return exec(source)
  }) as typeof db.exec
  return changes
}

export function insertMessageRecord(db: WritableDb, record: NewMessageRecord, link: RecordLink): number {
  const parameters = messageRecordParameters(record, link)
  const id = Number(db.prepare(INSERT_MESSAGE_RECORD_SQL).run(...parameters.record).lastInsertRowid)
  db.prepare(INSERT_RECORD_CONTENTS_SQL).run(id, ...parameters.contents.map((v) => (v instanceof Utf8Text ? v.bytes : v)))
  for (const a of parameters.attachments) {
    if (a[1] === null || a[1] instanceof Uint8Array) db.prepare(INSERT_MESSAGE_ATTACHMENT_SQL).run(id, ...a)
    else storeSpooled(fsReadSync, Buffer.allocUnsafe(STORED_PIECE_BYTES), db.prepare(INSERT_PIECED_ATTACHMENT_SQL), db.prepare(INSERT_ATTACHMENT_PIECE_SQL), id, a)
  }
  return id
}

export function findMessageRecord(db: ReadableDb, id: number): StoredMessageRecord | undefined {
  const row = db.prepare('SELECT * FROM message_records_full WHERE id = ?').get(id) as RecordRow | undefined
  return row === undefined ? undefined : toRecord(row)
}

export function findRecordsByQueryId(db: ReadableDb, queryId: string): StoredMessageRecord[] {
  const rows = db.prepare('SELECT * FROM message_records_full WHERE query_id = ? ORDER BY id').all(queryId) as RecordRow[]
  return rows.map(toRecord)
}

/** A record's attachments, each with its content whole (a body stored in pieces is put together). */
export function listAttachments(db: ReadableDb, recordId: number): StoredAttachment[] {
  const rows = db
    .prepare('SELECT position, content, size, sha512, pieces FROM message_attachments WHERE record_id = ? ORDER BY position')
    .all(recordId) as Array<StoredAttachment & { pieces: number }>
  return rows.map(({ pieces, ...a }) => (pieces === 0 ? a : { ...a, content: Buffer.concat([...new StoredBodyChunks(db, recordId, a.position, a.size, pieces)], a.size) }))
}

/** A record's attachments without their contents (what a summary of the record shows): nothing of a body is read. */
export function listAttachmentSummaries(db: ReadableDb, recordId: number): Array<Omit<StoredAttachment, 'content'>> {
  return db.prepare('SELECT position, size, sha512 FROM message_attachments WHERE record_id = ? ORDER BY position').all(recordId) as Array<Omit<StoredAttachment, 'content'>>
}

/** An attachment's stored bytes (its content's, or its size when stored in pieces), as SQL over `message_attachments a`. */
const STORED_ATTACHMENT_BYTES = 'CASE WHEN a.pieces > 0 THEN a.size ELSE COALESCE(LENGTH(a.content), 0) END'

export interface RecordSearch {
  fromMs?: number
  toMs?: number
  client?: string
  service?: string
  queryId?: string
  limit: number
}

export interface RecordMetadataRow {
  id: number
  queryId: string
  xRequestId: string | null
  client: string
  service: string
  response: boolean
  timeMs: number
  timestamped: boolean
  archived: boolean
  bodyLogged: boolean
}

export function searchRecordMetadata(db: ReadableDb, search: RecordSearch): RecordMetadataRow[] {
  const where: string[] = []
  const params: Array<string | number> = []
  if (search.fromMs !== undefined) { where.push('time_ms >= ?'); params.push(search.fromMs) }
  if (search.toMs !== undefined) { where.push('time_ms < ?'); params.push(search.toMs) }
  if (search.client !== undefined) { where.push('client = ?'); params.push(search.client) }
  if (search.service !== undefined) { where.push('service = ?'); params.push(search.service) }
  if (search.queryId !== undefined) { where.push('query_id = ?'); params.push(search.queryId) }
  const sql = `SELECT ${METADATA_COLUMNS} FROM message_records ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY time_ms, id LIMIT ?`
  return (db.prepare(sql).all(...params, search.limit) as MetadataRow[]).map(toMetadata)
}

/** The metadata columns of a record (no bodies), as `toMetadata` reads them. */
const METADATA_COLUMNS = `id, query_id, x_request_id, client, service, response, time_ms, body_logged,
  timestamp_record_id IS NOT NULL AS timestamped, archived_at_ms IS NOT NULL AS archived`

interface MetadataRow {
  id: number; query_id: string; x_request_id: string | null; client: string; service: string; response: number
  time_ms: number; body_logged: number; timestamped: number; archived: number
}

function toMetadata(r: MetadataRow): RecordMetadataRow {
  return {
    id: r.id, queryId: r.query_id, xRequestId: r.x_request_id, client: r.client, service: r.service,
    response: r.response === 1, timeMs: r.time_ms, timestamped: r.timestamped === 1, archived: r.archived === 1,
    bodyLogged: r.body_logged === 1,
  }
}

/**
 * The oldest records still waiting for a time-stamp, oldest first (the task queue is the database): their signature
 * hashes, which a batch time-stamp chains, without their signatures (up to `timestampRecordsLimit` of 5–10 KB each,
 * read on the event loop for nothing; a single stamp reads its one signature with `findSignatureXml`).
 */
export function listUnstampedRecords(db: ReadableDb, limit: number): Array<{ id: number; signatureHash: string; timeMs: number }> {
  return db
    .prepare(
      `SELECT id, signature_hash AS signatureHash, time_ms AS timeMs
       FROM message_records WHERE timestamp_record_id IS NULL ORDER BY time_ms, id LIMIT ?`,
    )
    .all(limit) as Array<{ id: number; signatureHash: string; timeMs: number }>
}

/** A record's signature document (`signatures.xml`), if the record exists. */
export function findSignatureXml(db: ReadableDb, id: number): string | undefined {
  const row = db.prepare('SELECT signature_xml FROM message_records_full WHERE id = ?').get(id) as { signature_xml: string } | undefined
  return row?.signature_xml
}

export function oldestUnstampedTime(db: ReadableDb): number | null {
  const row = db.prepare('SELECT MIN(time_ms) AS t FROM message_records WHERE timestamp_record_id IS NULL').get() as { t: number | null }
  return row.t
}

export function insertTimestampRecord(db: WritableDb, ts: { timeMs: number; token: Uint8Array; hashChainResult: string | null; tsaUrl: string }): number {
  const result = db.prepare(INSERT_TIMESTAMP_RECORD_SQL).run(ts.timeMs, ts.token, ts.hashChainResult, ts.tsaUrl)
  return Number(result.lastInsertRowid)
}

/** Links a record to its time-stamp; idempotent (only records not yet stamped, reliability-and-security.md §1.2). */
export function linkTimestamp(db: WritableDb, recordId: number, timestampRecordId: number, tsHashChain: string | Uint8Array | null): boolean {
  const result = db.prepare(LINK_TIMESTAMP_SQL).run(timestampRecordId, tsHashChain, recordId)
  return result.changes === 1
}

/** A time-stamp obtained for records: its token, and each record with its time-stamp hash chain (null for a single stamp). */
export interface StampToStore {
  timeMs: number
  token: Uint8Array
  hashChainResult: string | null
  tsaUrl: string
  /** Each record with its time-stamp hash chain: the text, or its UTF-8 bytes (as the batch builder writes it). */
  links: ReadonlyArray<readonly [recordId: number, hashChain: string | Uint8Array | null]>
  /** When the stamp succeeded (the time-stamping state's last success). */
  atMs: number
  /** A batch stamp stored before, for a later slice of its records (`STAMP_LINK_SLICE`): no new time-stamp row. */
  stampId?: number
}

/** Stores a time-stamp (unless `stampId` names one stored before), links its records and notes the success; the caller holds the transaction. Returns its id. */
export function storeStamp(db: WritableDb, stamp: StampToStore): number {
  const tsId = stamp.stampId ?? insertTimestampRecord(db, stamp)
  for (const [recordId, hashChain] of stamp.links) linkTimestamp(db, recordId, tsId, hashChain)
  recordTimestampingSuccess(db, stamp.atMs)
  return tsId
}

export function findTimestampRecord(db: ReadableDb, id: number): StoredTimestampRecord | undefined {
  const row = db.prepare('SELECT id, time_ms, token, hash_chain_result, tsa_url FROM timestamp_records WHERE id = ?').get(id) as
    | { id: number; time_ms: number; token: Buffer; hash_chain_result: string | null; tsa_url: string }
    | undefined
  return row === undefined
    ? undefined
    : { id: row.id, timeMs: row.time_ms, token: row.token, hashChainResult: row.hash_chain_result, tsaUrl: row.tsa_url }
}

export interface TimestampingState {
  lastSuccessMs: number | null
  failingSinceMs: number | null
  lastError: string | null
}

export function readTimestampingState(db: ReadableDb): TimestampingState {
  const row = db.prepare('SELECT last_success_ms, failing_since_ms, last_error FROM timestamping_state WHERE id = 1').get() as
    | { last_success_ms: number | null; failing_since_ms: number | null; last_error: string | null }
    | undefined
  return { lastSuccessMs: row?.last_success_ms ?? null, failingSinceMs: row?.failing_since_ms ?? null, lastError: row?.last_error ?? null }
}

export function recordTimestampingSuccess(db: WritableDb, atMs: number): void {
  db.prepare(TIMESTAMPING_SUCCESS_SQL).run(atMs)
}

/** Keeps the first failure time of an ongoing outage (the fail-closed clock survives restarts). */
export function recordTimestampingFailure(db: WritableDb, atMs: number, error: string): void {
  db.prepare(
    `INSERT INTO timestamping_state (id, last_success_ms, failing_since_ms, last_error) VALUES (1, NULL, ?, ?)
     ON CONFLICT (id) DO UPDATE SET failing_since_ms = COALESCE(failing_since_ms, excluded.failing_since_ms), last_error = excluded.last_error`,
  ).run(atMs, error)
}

/** What the archiver needs of a record to place it: its container's name, its archive group and its time. */
export type ArchivableRecordKey = Pick<StoredMessageRecord, 'id' | 'queryId' | 'response' | 'timeMs' | 'client'>

/**
 * Stamped, not yet archived records, oldest first: their keys only (no contents — a record's evidence is read when its
 * container is written, `record-evidence.ts`), so a long backlog is listed in a few MB.
 */
export function listArchivableRecordKeys(db: ReadableDb, limit: number, afterId = 0): ArchivableRecordKey[] {
  const rows = db
    .prepare(`SELECT id, query_id AS queryId, response, time_ms AS timeMs, client FROM message_records
      WHERE archived_at_ms IS NULL AND timestamp_record_id IS NOT NULL AND id > ? ORDER BY id LIMIT ?`)
    .all(afterId, limit) as Array<Omit<ArchivableRecordKey, 'response'> & { response: number }>
  return rows.map((r) => ({ id: r.id, queryId: r.queryId, response: r.response === 1, timeMs: r.timeMs, client: r.client }))
}

export function markArchived(db: WritableDb, recordIds: readonly number[], atMs: number, archiveFile: string): void {
  const update = db.prepare('UPDATE message_records SET archived_at_ms = ?, archive_file = ? WHERE id = ? AND archived_at_ms IS NULL')
  for (const id of recordIds) update.run(atMs, archiveFile, id)
}

export function findLastArchiveDigest(db: ReadableDb, groupKey: string): { digest: string; fileName: string } | undefined {
  const row = db.prepare('SELECT digest, file_name FROM last_archive_digest WHERE group_key = ?').get(groupKey) as
    | { digest: string; file_name: string }
    | undefined
  return row === undefined ? undefined : { digest: row.digest, fileName: row.file_name }
}

export function saveLastArchiveDigest(db: WritableDb, groupKey: string, digest: string, fileName: string, atMs: number): void {
  db.prepare(
    `INSERT INTO last_archive_digest (group_key, digest, file_name, updated_at_ms) VALUES (?, ?, ?, ?)
     ON CONFLICT (group_key) DO UPDATE SET digest = excluded.digest, file_name = excluded.file_name, updated_at_ms = excluded.updated_at_ms`,
  ).run(groupKey, digest, fileName, atMs)
}

/**
 * Retention (`keep-records-for`): the last record of the prefix of the evidence chain that may be deleted — archived
 * records older than the cut-off, up to the first one that must stay (not archived, or not old enough), so the chain
 * keeps no holes. Undefined when none may go. Records logged later come after it and stay.
 */
export function purgeableThrough(db: ReadableDb, olderThanMs: number): number | undefined {
  const keep = db.prepare('SELECT MIN(seq) AS seq FROM message_records WHERE archived_at_ms IS NULL OR time_ms >= ?').get(olderThanMs) as { seq: number | null }
  const last = db
    .prepare('SELECT seq FROM message_records WHERE seq < COALESCE(?, 9007199254740991) AND archived_at_ms IS NOT NULL ORDER BY seq DESC LIMIT 1')
    .get(keep.seq) as { seq: number } | undefined
  return last?.seq
}

/**
 * Deletes the first `limit` records up to `throughSeq` (from `purgeableThrough`) and the time-stamps no record refers
 * to any more, and starts the chain after the last record deleted (`evidence_chain_state`): one step of a purge, in
 * the caller's transaction. Returns how many records went and the chain's new start; undefined when none was left.
 */
export function purgeRecordsThrough(db: WritableDb, throughSeq: number, limit: number): { removed: number; base: ChainPosition } | undefined {
  const last = (db.prepare('SELECT seq, chain_hash FROM message_records WHERE seq <= ? ORDER BY seq LIMIT 1 OFFSET ?').get(throughSeq, limit - 1) ??
    db.prepare('SELECT seq, chain_hash FROM message_records WHERE seq <= ? ORDER BY seq DESC LIMIT 1').get(throughSeq)) as
    | { seq: number; chain_hash: Buffer }
    | undefined
  if (last === undefined) return undefined
  const stamps = (db.prepare('SELECT DISTINCT timestamp_record_id AS id FROM message_records WHERE seq <= ? AND timestamp_record_id IS NOT NULL')
    .all(last.seq) as Array<{ id: number }>).map((r) => r.id)
  const removed = db.prepare('DELETE FROM message_records WHERE seq <= ?').run(last.seq).changes
  const dropStamp = db.prepare('DELETE FROM timestamp_records WHERE id = ? AND NOT EXISTS (SELECT 1 FROM message_records WHERE timestamp_record_id = ?)')
  for (const id of stamps) dropStamp.run(id, id)
  const base = { seq: last.seq, hash: last.chain_hash }
  db.prepare('UPDATE evidence_chain_state SET base_seq = ?, base_hash = ? WHERE id = 1 AND base_seq < ?').run(base.seq, base.hash, base.seq)
  return { removed, base }
}

export interface VolumeStatistics {
  records: number
  bytes: number
  oldestMs: number | null
  newestMs: number | null
}

/** Records whose stored size is averaged for the disk forecast: the newest ones. */
export const VOLUME_SAMPLE_RECORDS = 1000

/**
 * The message log's volume since `sinceMs`, for the disk forecast, at a cost that does not grow with the log (it is
 * taken once a minute for the metrics and alerts, on the event loop). The records are counted by their ids: ids only
 * grow and records go only as a prefix of the log (retention), so the newest id less the first one in the window is
 * the count — off by the few records a step of the clock would reorder. Their stored size is averaged over the newest
 * `VOLUME_SAMPLE_RECORDS`. Summing every record of the window read each one's contents: 14 µs a record, seconds of
 * the event loop every minute once a week of traffic is logged.
 */
export function volumeSince(db: ReadableDb, sinceMs: number): VolumeStatistics {
  const first = db.prepare('SELECT id, time_ms FROM message_records WHERE time_ms >= ? ORDER BY time_ms, id LIMIT 1').get(sinceMs) as
    | { id: number; time_ms: number }
    | undefined
  if (first === undefined) return { records: 0, bytes: 0, oldestMs: null, newestMs: null }
  const last = db.prepare('SELECT id, time_ms FROM message_records WHERE id = (SELECT MAX(id) FROM message_records)').get() as { id: number; time_ms: number }
  const records = Math.max(1, last.id - first.id + 1)
  const sample = db
    .prepare(
      `SELECT COUNT(*) AS n, COALESCE(SUM(LENGTH(message) + LENGTH(signature_xml) + COALESCE(LENGTH(hash_chain), 0)), 0) AS bytes
       FROM (SELECT message, signature_xml, hash_chain FROM message_records_full WHERE id >= ? ORDER BY id DESC LIMIT ?)`,
    )
    .get(first.id, VOLUME_SAMPLE_RECORDS) as { n: number; bytes: number }
  const att = db
    .prepare(
      `SELECT COALESCE(SUM(${STORED_ATTACHMENT_BYTES}), 0) AS bytes FROM message_attachments a
       WHERE a.record_id IN (SELECT id FROM message_records WHERE id >= ? ORDER BY id DESC LIMIT ?)`,
    )
    .get(first.id, VOLUME_SAMPLE_RECORDS) as { bytes: number }
  const perRecord = sample.n === 0 ? 0 : (sample.bytes + att.bytes) / sample.n
  return { records, bytes: Math.round(records * perRecord), oldestMs: first.time_ms, newestMs: last.time_ms }
}

/** Filters of the exchange pages; each applies to the records, in SQL. */
export interface ExchangeFilter {
  fromMs?: number
  toMs?: number
  client?: string
  service?: string
  queryId?: string
  response?: boolean
  status?: 'unstamped' | 'timestamped' | 'archived'
}

/** A position in the newest-first order of records: logged time, then record id. */
export interface RecordPosition {
  timeMs: number
  id: number
}

/** Where a page starts: at either end, or just past a position in either direction. */
export type ExchangePageStart =
  | { from: 'newest' }
  | { from: 'oldest' }
  | { olderThan: RecordPosition }
  | { newerThan: RecordPosition }

/** The newest record of an exchange among the records that match the filter. */
export interface ExchangeAnchor {
  id: number
  queryId: string
  timeMs: number
}

function filterSql(filter: ExchangeFilter, alias: string): { sql: string[]; params: Array<string | number> } {
  const sql: string[] = []
  const params: Array<string | number> = []
  if (filter.fromMs !== undefined) { sql.push(`${alias}.time_ms >= ?`); params.push(filter.fromMs) }
  if (filter.toMs !== undefined) { sql.push(`${alias}.time_ms < ?`); params.push(filter.toMs) }
  if (filter.client !== undefined) { sql.push(`${alias}.client = ?`); params.push(filter.client) }
  if (filter.service !== undefined) { sql.push(`${alias}.service = ?`); params.push(filter.service) }
  if (filter.queryId !== undefined) { sql.push(`${alias}.query_id = ?`); params.push(filter.queryId) }
  if (filter.response !== undefined) { sql.push(`${alias}.response = ?`); params.push(filter.response ? 1 : 0) }
  if (filter.status === 'unstamped') sql.push(`${alias}.timestamp_record_id IS NULL`)
  if (filter.status === 'timestamped') sql.push(`${alias}.timestamp_record_id IS NOT NULL AND ${alias}.archived_at_ms IS NULL`)
  if (filter.status === 'archived') sql.push(`${alias}.archived_at_ms IS NOT NULL`)
  return { sql, params }
}

/**
 * The index a page walks: the most selective filter's (a query id, then a client, then a service), else the time.
 * Named rather than left to the planner, which without statistics could walk the time index for a rare client.
 */
function pageIndex(filter: ExchangeFilter): string {
  if (filter.queryId !== undefined) return 'message_records_query_id'
  if (filter.client !== undefined) return 'message_records_client_time'
  if (filter.service !== undefined) return 'message_records_service_time'
  return 'message_records_time'
}

/**
 * One page of exchanges, newest first, by keyset on (time_ms, id) — never OFFSET: the work per page is bounded by the
 * page size and the records skipped by the filter, however far the page is from the newest. An exchange (one query id)
 * is represented by its newest matching record, its anchor: a record is an anchor when no newer record of the same
 * query id matches the filter (one probe of `message_records_query_id`). The page holds up to `limit` anchors;
 * `more` says whether further anchors lie beyond it in the direction of travel.
 */
export function pageExchangeAnchors(db: ReadableDb, filter: ExchangeFilter, start: ExchangePageStart, limit: number): { anchors: ExchangeAnchor[]; more: boolean } {
  const outer = filterSql(filter, 'r')
  const inner = filterSql(filter, 'n')
  const ascending = 'from' in start ? start.from === 'oldest' : 'newerThan' in start
  const where = [...outer.sql]
  const params: Array<string | number> = [...outer.params]
  if ('olderThan' in start) {
    // (time_ms, id) < (t, i), written so the index range on time_ms applies.
    where.push('r.time_ms <= ? AND (r.time_ms < ? OR r.id < ?)')
    params.push(start.olderThan.timeMs, start.olderThan.timeMs, start.olderThan.id)
  } else if ('newerThan' in start) {
    where.push('r.time_ms >= ? AND (r.time_ms > ? OR r.id > ?)')
    params.push(start.newerThan.timeMs, start.newerThan.timeMs, start.newerThan.id)
  }
  where.push(`NOT EXISTS (SELECT 1 FROM message_records n INDEXED BY message_records_query_id WHERE n.query_id = r.query_id
      AND (n.time_ms > r.time_ms OR (n.time_ms = r.time_ms AND n.id > r.id))${inner.sql.map((c) => ` AND ${c}`).join('')})`)
  params.push(...inner.params)
  const order = ascending ? 'ASC' : 'DESC'
  const rows = db
    .prepare(`SELECT r.id, r.query_id AS queryId, r.time_ms AS timeMs FROM message_records r INDEXED BY ${pageIndex(filter)} WHERE ${where.join(' AND ')}
      ORDER BY r.time_ms ${order}, r.id ${order} LIMIT ?`)
    .all(...params, limit + 1) as ExchangeAnchor[]
  const more = rows.length > limit
  const anchors = rows.slice(0, limit)
  if (ascending) anchors.reverse()
  return { anchors, more }
}

/** The records of one query id in logged order (metadata only), at most `limit`. */
export function listExchangeRecords(db: ReadableDb, queryId: string, limit: number): RecordMetadataRow[] {
  const rows = db
    .prepare(`SELECT ${METADATA_COLUMNS} FROM message_records WHERE query_id = ? ORDER BY time_ms, id LIMIT ?`)
    .all(queryId, limit) as MetadataRow[]
  return rows.map(toMetadata)
}

/** Records waiting for a time-stamp, counted up to `cap` (the partial index `message_records_unstamped`). */
export function countUnstampedRecords(db: ReadableDb, cap: number): number {
  const row = db
    .prepare('SELECT COUNT(*) AS n FROM (SELECT 1 FROM message_records WHERE timestamp_record_id IS NULL LIMIT ?)')
    .get(cap) as { n: number }
  return row.n
}

/** Where the evidence chain stands in the database: its start after purging and since when the acknowledgement file exists. */
export interface EvidenceChainState {
  base: ChainPosition
  ackFileSinceMs: number | null
}

export function readEvidenceChainState(db: ReadableDb): EvidenceChainState {
  const row = db.prepare('SELECT base_seq, base_hash, ack_file_since_ms FROM evidence_chain_state WHERE id = 1').get() as
    | { base_seq: number; base_hash: Buffer; ack_file_since_ms: number | null }
    | undefined
  if (row === undefined) return { base: { seq: 0, hash: Buffer.alloc(32) }, ackFileSinceMs: null }
  return { base: { seq: row.base_seq, hash: row.base_hash }, ackFileSinceMs: row.ack_file_since_ms }
}

export function noteAckFileEstablished(db: WritableDb, atMs: number): void {
  db.prepare('UPDATE evidence_chain_state SET ack_file_since_ms = COALESCE(ack_file_since_ms, ?) WHERE id = 1').run(atMs)
}

/** The record with the highest sequence number. */
export function chainHead(db: ReadableDb): ChainPosition | undefined {
  const row = db.prepare('SELECT seq, chain_hash FROM message_records WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1').get() as
    | { seq: number; chain_hash: Buffer }
    | undefined
  return row === undefined ? undefined : { seq: row.seq, hash: row.chain_hash }
}

/** The record at a sequence number (its chain hash), if present. */
export function chainPositionAt(db: ReadableDb, seq: number): ChainPosition | undefined {
  const row = db.prepare('SELECT seq, chain_hash FROM message_records WHERE seq = ?').get(seq) as { seq: number; chain_hash: Buffer } | undefined
  return row === undefined ? undefined : { seq: row.seq, hash: row.chain_hash }
}

/** Counts over the chain's index: records, lowest and highest sequence number, records without one. */
export function chainSummary(db: ReadableDb): { records: number; minSeq: number | null; maxSeq: number | null; unsequenced: number } {
  const row = db.prepare('SELECT COUNT(*) AS records, MIN(seq) AS minSeq, MAX(seq) AS maxSeq, COUNT(*) - COUNT(seq) AS unsequenced FROM message_records').get() as
    { records: number; minSeq: number | null; maxSeq: number | null; unsequenced: number }
  return row
}

/** Runs of missing sequence numbers between present records (one pass over the chain's index), at most `limit`. */
export function findSequenceGaps(db: ReadableDb, limit: number): Array<{ first: number; last: number }> {
  return db
    .prepare(
      `SELECT seq + 1 AS first, next - 1 AS last FROM (SELECT seq, LEAD(seq) OVER (ORDER BY seq) AS next FROM message_records WHERE seq IS NOT NULL)
       WHERE next > seq + 1 ORDER BY seq LIMIT ?`,
    )
    .all(limit) as Array<{ first: number; last: number }>
}

/** Sequence numbers and stored sizes of the records after `afterSeq`, in order, at most `limit`: the check's pages. */
export function listChainEntries(db: ReadableDb, afterSeq: number, limit: number): Array<{ seq: number; bytes: number }> {
  return db
    .prepare(
      `SELECT r.seq AS seq, LENGTH(r.message) + LENGTH(r.signature_xml) + COALESCE(LENGTH(r.hash_chain), 0)
         + COALESCE((SELECT SUM(${STORED_ATTACHMENT_BYTES}) FROM message_attachments a WHERE a.record_id = r.id), 0) AS bytes
       FROM message_records_full r WHERE r.seq > ? ORDER BY r.seq LIMIT ?`,
    )
    .all(afterSeq, limit) as Array<{ seq: number; bytes: number }>
}

/**
 * A stored body larger than this is read by the evidence check a chunk of this size at a time (`StoredBodyChunks`):
 * read whole, a 10 MB body raised the check's peak RSS by 47–50 MB (a log of X-Road's mixed sizes: 151–160 MB, with
 * chunks 115–118 MB). Smaller chunks cost more than they save: SQLite reads the whole blob for each one.
 */
export const BODY_CHUNK_BYTES = 4 * 1024 * 1024

/** An attachment as the evidence check reads it: its content when small, its chunks when larger than BODY_CHUNK_BYTES or stored in pieces. */
export interface ChainedAttachment {
  position: number
  size: number
  sha512: string
  /** Whether its body is stored (not left out by the body-logging settings). */
  stored: boolean
  content: Buffer | null
  chunks: StoredBodyChunks | null
}

/**
 * A large stored body, read a piece at a time: stored in pieces (`pieces` > 0), one stored piece per query; stored
 * whole, BODY_CHUNK_BYTES per query (SQLite reads a blob whole to cut a piece of it).
 */
export class StoredBodyChunks {
  constructor(private readonly db: ReadableDb, private readonly recordId: number, private readonly position: number, readonly bytes: number, private readonly pieces = 0) {}

  *[Symbol.iterator](): Iterator<Buffer> {
    if (this.pieces > 0) {
      const stored = this.db.prepare('SELECT bytes FROM message_attachment_pieces WHERE record_id = ? AND position = ? AND piece = ?')
      for (let n = 0; n < this.pieces; n++) {
        const row = stored.get(this.recordId, this.position, n) as { bytes: Buffer } | undefined
        if (row === undefined) return
        yield row.bytes
      }
      return
    }
    const piece = this.db.prepare('SELECT substr(content, ?, ?) AS piece FROM message_attachments WHERE record_id = ? AND position = ?')
    for (let offset = 0; offset < this.bytes; offset += BODY_CHUNK_BYTES) {
      const row = piece.get(offset + 1, BODY_CHUNK_BYTES, this.recordId, this.position) as { piece: Buffer | null } | undefined
      if (row?.piece == null || row.piece.length === 0) return
      yield row.piece
    }
  }
}

/** A record as the evidence check reads it: its chain fields and everything its digest covers, with attachment contents. */
export interface ChainedRecordRow {
  id: number
  seq: number
  prevHash: Buffer | null
  chainHash: Buffer | null
  record: Omit<StoredMessageRecord, 'timestampRecordId' | 'timestampHashChain' | 'archivedAtMs' | 'archiveFile'>
  attachments: ChainedAttachment[]
}

/** The records with `fromSeq <= seq <= toSeq`, in order, with their attachments (a large body as its chunks). */
export function loadChainedRecords(db: ReadableDb, fromSeq: number, toSeq: number): ChainedRecordRow[] {
  const rows = db.prepare('SELECT * FROM message_records_full WHERE seq BETWEEN ? AND ? ORDER BY seq').all(fromSeq, toSeq) as Array<RecordRow & {
    seq: number; prev_hash: Buffer | null; chain_hash: Buffer | null
  }>
  // length() of a blob reads no content (SQLite's length optimisation); a large one's content is left to its chunks.
  const attachments = db
    .prepare(
      `SELECT a.record_id AS recordId, a.position, length(a.content) AS storedBytes,
         CASE WHEN length(a.content) > ? THEN NULL ELSE a.content END AS content, a.size, a.sha512, a.pieces
       FROM message_attachments a JOIN message_records r ON r.id = a.record_id WHERE r.seq BETWEEN ? AND ? ORDER BY a.record_id, a.position`,
    )
    .all(BODY_CHUNK_BYTES, fromSeq, toSeq) as Array<{ recordId: number; position: number; storedBytes: number | null; content: Buffer | null; size: number; sha512: string; pieces: number }>
  const byRecord = new Map<number, ChainedAttachment[]>()
  for (const a of attachments) {
    const stored = a.storedBytes !== null || a.pieces > 0
    const chunks = a.pieces > 0 ? new StoredBodyChunks(db, a.recordId, a.position, a.size, a.pieces) : stored && a.content === null ? new StoredBodyChunks(db, a.recordId, a.position, a.storedBytes!) : null
    const list = byRecord.get(a.recordId) ?? []
    list.push({ position: a.position, size: a.size, sha512: a.sha512, stored, content: a.content, chunks })
    byRecord.set(a.recordId, list)
  }
  return rows.map((row) => ({
    id: row.id, seq: row.seq, prevHash: row.prev_hash, chainHash: row.chain_hash, record: toRecord(row), attachments: byRecord.get(row.id) ?? [],
  }))
}

export type EvidenceIncidentKind = 'missing' | 'altered' | 'link' | 'unreadable' | 'ack-file'

export interface EvidenceIncident {
  id: number
  kind: EvidenceIncidentKind
  firstSeq: number | null
  lastSeq: number | null
  detail: string
  detectedAtMs: number
  acknowledgedAtMs: number | null
  acknowledgedBy: string | null
  reason: string | null
}

/** Notes a problem the first time it is found (the same kind and range again is the same incident). */
export function recordEvidenceIncident(db: WritableDb, problem: { kind: EvidenceIncidentKind; firstSeq: number | null; lastSeq: number | null; detail: string }, atMs: number): void {
  db.prepare(
    `INSERT INTO evidence_incidents (kind, first_seq, last_seq, detail, detected_at_ms) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT DO NOTHING`,
  ).run(problem.kind, problem.firstSeq, problem.lastSeq, problem.detail, atMs)
}

/** Every incident, newest first, at most `limit`. */
export function listEvidenceIncidents(db: ReadableDb, limit: number): EvidenceIncident[] {
  const rows = db.prepare('SELECT * FROM evidence_incidents ORDER BY id DESC LIMIT ?').all(limit) as Array<{
    id: number; kind: EvidenceIncidentKind; first_seq: number | null; last_seq: number | null; detail: string; detected_at_ms: number
    acknowledged_at_ms: number | null; acknowledged_by: string | null; reason: string | null
  }>
  return rows.map((r) => ({
    id: r.id, kind: r.kind, firstSeq: r.first_seq, lastSeq: r.last_seq, detail: r.detail, detectedAtMs: r.detected_at_ms,
    acknowledgedAtMs: r.acknowledged_at_ms, acknowledgedBy: r.acknowledged_by, reason: r.reason,
  }))
}

/** Incidents of this kind and range that an administrator acknowledged. */
export function isAcknowledgedIncident(db: ReadableDb, kind: EvidenceIncidentKind, firstSeq: number | null, lastSeq: number | null): boolean {
  const row = db
    .prepare('SELECT 1 AS yes FROM evidence_incidents WHERE kind = ? AND first_seq IS ? AND last_seq IS ? AND acknowledged_at_ms IS NOT NULL')
    .get(kind, firstSeq, lastSeq) as { yes: number } | undefined
  return row !== undefined
}

/** Marks every open incident acknowledged; returns how many. */
export function acknowledgeEvidenceIncidents(db: WritableDb, by: string, reason: string, atMs: number): number {
  return db
    .prepare('UPDATE evidence_incidents SET acknowledged_at_ms = ?, acknowledged_by = ?, reason = ? WHERE acknowledged_at_ms IS NULL')
    .run(atMs, by, reason).changes
}

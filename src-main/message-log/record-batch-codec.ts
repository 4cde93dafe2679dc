import type { SqlValue } from './message-record-repository'

/**
 * How a batch of records goes to the message log's writer thread (issue 15 §3): every statement parameter of every
 * record packed into one buffer whose memory is transferred, not cloned. A structured clone costs microseconds for
 * each typed array and string it holds (four byte arrays and five strings a record; measured on Node 20: about 70 µs
 * to post a batch of three records, 3 µs for the same bytes in one transferred buffer), and a copy of every byte in
 * the thread. A spooled body (`SpooledContent`) goes as its open file's descriptor and size: the thread reads it a piece
 * at a time as it stores it.
 *
 * Layout (little-endian): u32 records, then per record its parameters (u8 count, values), its contents' parameters
 * (the same) and its attachments (u8 count, each u8 count and values). A value is a tag byte — 0 null, 1 a number (f64), 2 a string (u32 length and its
 * UTF-8 bytes), 3 a blob (u32 length and its bytes), 4 a spooled body (f64 descriptor, f64 size), 5 a text
 * given as its UTF-8 bytes (as 2). Strings travel as UTF-8, the form SQLite stores and the record digest covers, so
 * what the thread binds is what the digest was taken over. A text given as its UTF-8 bytes (`Utf8Text`: a signature
 * document or hash chain as signed or received, several KB a record) reaches the thread as a view of those bytes and
 * is bound as they are to a parameter the statement casts to TEXT (`INSERT_RECORD_CONTENTS_SQL`): no string is made of
 * it in the thread, for the digest or for SQLite.
 */

/**
 * Text given as its UTF-8 bytes, which must be valid UTF-8 (the message log checks, `logText`): bound as the TEXT they
 * spell, where a plain Uint8Array is bound as a BLOB.
 */
export class Utf8Text {
  constructor(readonly bytes: Uint8Array) {}

  toString(): string {
    return Buffer.from(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength).toString('utf8')
  }
}

export interface BatchRecordParameters {
  record: readonly SqlValue[]
  contents: readonly SqlValue[]
  attachments: ReadonlyArray<readonly SqlValue[]>
}

const TAG_NULL = 0
const TAG_NUMBER = 1
const TAG_STRING = 2
const TAG_BLOB = 3
const TAG_SPOOLED = 4
const TAG_UTF8 = 5

function valueSize(value: SqlValue): number {
  if (value === null) return 1
  if (typeof value === 'number') return 9
  if (typeof value === 'string') return 5 + Buffer.byteLength(value, 'utf8')
  if (value instanceof Utf8Text) return 5 + value.bytes.byteLength
  if (!(value instanceof Uint8Array)) return 17
  return 5 + value.byteLength
}

function listSize(values: readonly SqlValue[]): number {
  let size = 1
  for (const v of values) size += valueSize(v)
  return size
}

/** The batch in one buffer of its own (its `buffer` can be transferred). */
export function encodeRecordBatch(records: readonly BatchRecordParameters[]): Buffer {
  let size = 4
  for (const r of records) {
    size += listSize(r.record) + listSize(r.contents) + 1
    for (const a of r.attachments) size += listSize(a)
  }
  const out = Buffer.allocUnsafeSlow(size)
  let o = out.writeUInt32LE(records.length, 0)
  const list = (values: readonly SqlValue[]): void => {
    if (values.length > 255) throw new RangeError('too many parameters for a record batch')
    out[o++] = values.length
    for (const v of values) {
      if (v === null) {
        out[o++] = TAG_NULL
      } else if (typeof v === 'number') {
        out[o++] = TAG_NUMBER
        o = out.writeDoubleLE(v, o)
      } else if (typeof v === 'string') {
        out[o] = TAG_STRING
        const written = out.write(v, o + 5, 'utf8')
        out.writeUInt32LE(written, o + 1)
        o += 5 + written
      } else if (v instanceof Utf8Text) {
        out[o] = TAG_UTF8
        out.writeUInt32LE(v.bytes.byteLength, o + 1)
        out.set(v.bytes, o + 5)
        o += 5 + v.bytes.byteLength
      } else if (!(v instanceof Uint8Array)) {
        out[o++] = TAG_SPOOLED
        o = out.writeDoubleLE(v.fd, o)
        o = out.writeDoubleLE(v.size, o)
      } else {
        out[o] = TAG_BLOB
        out.writeUInt32LE(v.byteLength, o + 1)
        out.set(v, o + 5)
        o += 5 + v.byteLength
      }
    }
  }
  for (const r of records) {
    list(r.record)
    list(r.contents)
    if (r.attachments.length > 255) throw new RangeError('too many attachments for a record batch')
    out[o++] = r.attachments.length
    for (const a of r.attachments) list(a)
  }
  return out
}

/**
 * The reader of `encodeRecordBatch`'s buffer as plain JavaScript source, for the writer thread's program (which is
 * evaluated from a string): defines `decodeRecordBatch(buffer)` returning `[{ record, contents, attachments }]` with blobs
 * and texts given as bytes as Buffer views into `buffer`, strings decoded from UTF-8 and a spooled body as `{ fd, size }`.
 */
export const RECORD_BATCH_DECODER = `
function decodeRecordBatch(buffer) {
  let o = 0
  const value = () => {
    const tag = buffer[o++]
    if (tag === ${TAG_NULL}) return null
    if (tag === ${TAG_NUMBER}) { const n = buffer.readDoubleLE(o); o += 8; return n }
    if (tag === ${TAG_SPOOLED}) { const file = { fd: buffer.readDoubleLE(o), size: buffer.readDoubleLE(o + 8) }; o += 16; return file }
    const length = buffer.readUInt32LE(o)
    const start = o + 4
    o = start + length
    if (tag === ${TAG_STRING}) return buffer.toString('utf8', start, o)
    if (tag === ${TAG_BLOB} || tag === ${TAG_UTF8}) return buffer.subarray(start, o)
    throw new Error('record batch: unknown tag ' + tag)
  }
  const list = () => {
    const n = buffer[o++]
    const values = new Array(n)
    for (let i = 0; i < n; i++) values[i] = value()
    return values
  }
  const count = buffer.readUInt32LE(0)
  o = 4
  const records = new Array(count)
  for (let r = 0; r < count; r++) {
    const record = list()
    const contents = list()
    const n = buffer[o++]
    const attachments = new Array(n)
    for (let i = 0; i < n; i++) attachments[i] = list()
    records[r] = { record, contents, attachments }
  }
  if (o !== buffer.length) throw new Error('record batch: ' + (buffer.length - o) + ' bytes left over')
  return records
}
`

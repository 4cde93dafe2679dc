import { createHash, type Hash } from 'node:crypto'
import { hashOf } from '../platform'
import type { NewMessageRecord } from './message-record-repository'

/**
 * The message log's own hash chain (Gatehouse's, not an X-Road format; reliability-and-security.md §1.7 notes X-Road
 * has no per-record chain): record n carries its sequence number, the chain hash of record n−1 and its own chain hash
 *
 *   chain_n = SHA-256("gatehouse.messagelog.chain.v1" ‖ chain_{n−1} ‖ uint64be(n) ‖ digest_n)
 *
 * where digest_n = SHA-256 over the record's immutable fields, each length-prefixed (`recordDigest`). Time-stamp and
 * archive links are added to a record later and are not part of it. The chain before the first record is
 * `GENESIS_HASH`. The digest covers every attachment's size and SHA-512, which `message_attachments` stores beside the
 * content, so a changed body shows as content ≠ its SHA-512 and a changed SHA-512 as a record ≠ its chain hash.
 */

export const CHAIN_HASH_BYTES = 32
export const GENESIS_HASH: Buffer = Buffer.alloc(CHAIN_HASH_BYTES)

const RECORD_DOMAIN = 'gatehouse.messagelog.record.v1'
const CHAIN_DOMAIN = 'gatehouse.messagelog.chain.v1'

/** The fields of a record its chain hash covers: the stored record's, with whether each attachment's bytes are kept. */
export interface ChainedRecordFields extends Omit<NewMessageRecord, 'attachments'> {
  /** In position order (1, 2, …). */
  attachments: ReadonlyArray<{ size: number; sha512: string; stored: boolean }>
}

/** Values at least this large are hashed where they lie rather than copied into the digest's input buffer. */
const IN_PLACE_BYTES = 16 * 1024

/**
 * SHA-256 over the record's immutable fields, each length-prefixed (nulls distinct from empty values): a null is the
 * byte 0, a value the byte 1, its length as uint64be and its bytes (strings as UTF-8). The fields are laid out in one
 * buffer and hashed in one go (a large message or attachment is hashed in place between two segments). A new record
 * is hashed as it is: an attachment's bytes are kept when its `content` is not null.
 */
export function recordDigest(record: ChainedRecordFields | NewMessageRecord): Buffer {
  const values: Array<string | Uint8Array | null> = [
    RECORD_DOMAIN, record.queryId, record.xRequestId, record.client, record.service, record.response ? '1' : '0', record.message,
    record.bodyLogged ? '1' : '0', record.signatureXml, record.signatureHash, record.hashChainResult, record.hashChain,
    String(record.timeMs), String(record.attachments.length),
  ]
  for (const a of record.attachments) values.push(String(a.size), a.sha512, ('stored' in a ? a.stored : a.content !== null) ? '1' : '0')
  let size = 0
  for (const v of values) {
    if (v === null) size += 1
    else if (typeof v === 'string') size += 9 + Buffer.byteLength(v, 'utf8')
    else size += 9 + (v.byteLength >= IN_PLACE_BYTES ? 0 : v.byteLength)
  }
  const out = Buffer.allocUnsafe(size)
  // Created only when a large value is hashed in place; a record laid out whole is hashed one-shot.
  let hash: Hash | undefined
  let o = 0
  let from = 0
  for (const v of values) {
    if (v === null) {
      out[o++] = 0
      continue
    }
    const length = typeof v === 'string' ? Buffer.byteLength(v, 'utf8') : v.byteLength
    out[o] = 1
    // uint64be of a length below 2^53.
    out.writeUInt32BE(Math.floor(length / 0x1_0000_0000), o + 1)
    out.writeUInt32BE(length >>> 0, o + 5)
    o += 9
    if (typeof v === 'string') {
      o += out.write(v, o, 'utf8')
    } else if (v.byteLength < IN_PLACE_BYTES) {
      out.set(v, o)
      o += v.byteLength
    } else {
      hash ??= createHash('sha256')
      hash.update(out.subarray(from, o))
      hash.update(v)
      from = o
    }
  }
  if (hash === undefined) return hashOf('sha256', out.subarray(0, o))
  hash.update(out.subarray(from, o))
  return hash.digest()
}

/** chain_n from chain_{n−1}, n and digest_n. */
export function chainHash(previous: Uint8Array, seq: number, digest: Uint8Array): Buffer {
  const domain = Buffer.byteLength(CHAIN_DOMAIN, 'utf8')
  const input = Buffer.allocUnsafe(domain + previous.length + 8 + digest.length)
  input.write(CHAIN_DOMAIN, 0, 'utf8')
  input.set(previous, domain)
  input.writeBigUInt64BE(BigInt(seq), domain + previous.length)
  input.set(digest, domain + previous.length + 8)
  return hashOf('sha256', input)
}

/**
 * `recordDigest` and `chainHash` as plain JavaScript source, for the message log's writer thread (evaluated from a
 * string, `message-record-repository.ts`), which links the records of each batch where it commits them: defines
 * `recordDigestOf(record, contents, attachments)` over a record's statement parameters as the batch delivers them
 * (`messageRecordParameters`: strings, numbers, nulls and Buffers; 1/0 for the flags) and `chainHashOf(previous, seq,
 * digest)`. The same code as above, types aside — one buffer hashed one-shot, a large value in place —: the record's
 * digest is the same whichever side takes it (the evidence check recomputes it with `recordDigest`;
 * tests/message-log/record-batch.test.ts compares the two).
 */
export const RECORD_CHAIN_SOURCE = `
const chainCrypto = require('node:crypto')
const CHAIN_DOMAIN_BYTES = Buffer.from(${JSON.stringify(CHAIN_DOMAIN)}, 'utf8')
const chainDigest = (bytes) => chainCrypto.hash('sha256', bytes, 'buffer')
/**
 * The digest's input, reused record after record (hashed before the next is laid out): a buffer per record would be
 * freed only when this thread's heap next collects, and the allocator keeps what piles up meanwhile. Byte values of
 * 16 KB and more are hashed in place; a record whose layout still needs more than 1 MB (long texts) gets a buffer of
 * its own.
 */
let digestScratch = Buffer.allocUnsafeSlow(64 * 1024)
function digestInput(size) {
  if (size > 1024 * 1024) return Buffer.allocUnsafe(size)
  if (digestScratch.length < size) digestScratch = Buffer.allocUnsafeSlow(Math.min(1024 * 1024, Math.max(size, 2 * digestScratch.length)))
  return digestScratch
}
function recordDigestOf(r, c, attachments) {
  const values = [${JSON.stringify(RECORD_DOMAIN)}, r[0], r[1], r[2], r[3], r[4] ? '1' : '0', c[0], r[5] ? '1' : '0', c[1], r[6], c[2], c[3],
    String(r[7]), String(attachments.length)]
  for (const a of attachments) values.push(String(a[2]), a[3], a[1] !== null ? '1' : '0')
  let size = 0
  for (const v of values) {
    if (v === null) size += 1
    else if (typeof v === 'string') size += 9 + Buffer.byteLength(v, 'utf8')
    else size += 9 + (v.byteLength >= ${IN_PLACE_BYTES} ? 0 : v.byteLength)
  }
  const out = digestInput(size)
  let hash
  let o = 0
  let from = 0
  for (const v of values) {
    if (v === null) {
      out[o++] = 0
      continue
    }
    const length = typeof v === 'string' ? Buffer.byteLength(v, 'utf8') : v.byteLength
    out[o] = 1
    out.writeUInt32BE(Math.floor(length / 0x100000000), o + 1)
    out.writeUInt32BE(length >>> 0, o + 5)
    o += 9
    if (typeof v === 'string') {
      o += out.write(v, o, 'utf8')
    } else if (v.byteLength < ${IN_PLACE_BYTES}) {
      out.set(v, o)
      o += v.byteLength
    } else {
      hash ??= chainCrypto.createHash('sha256')
      hash.update(out.subarray(from, o))
      hash.update(v)
      from = o
    }
  }
  if (hash === undefined) return chainDigest(out.subarray(0, o))
  hash.update(out.subarray(from, o))
  return hash.digest()
}
function chainHashOf(previous, seq, digest) {
  const input = Buffer.allocUnsafe(CHAIN_DOMAIN_BYTES.length + previous.length + 8 + digest.length)
  CHAIN_DOMAIN_BYTES.copy(input, 0)
  input.set(previous, CHAIN_DOMAIN_BYTES.length)
  input.writeBigUInt64BE(BigInt(seq), CHAIN_DOMAIN_BYTES.length + previous.length)
  input.set(digest, CHAIN_DOMAIN_BYTES.length + previous.length + 8)
  return chainDigest(input)
}
`

/** A position in the chain: a sequence number and the chain hash of the record there (0 and genesis before any). */
export interface ChainPosition {
  seq: number
  hash: Buffer
}

export const CHAIN_START: ChainPosition = { seq: 0, hash: GENESIS_HASH }

/** The link a new record gets after `head`. */
export function nextLink(head: ChainPosition, digest: Uint8Array): { seq: number; prevHash: Buffer; chainHash: Buffer } {
  const seq = head.seq + 1
  return { seq, prevHash: head.hash, chainHash: chainHash(head.hash, seq, digest) }
}

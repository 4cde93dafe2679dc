import { createHash, type Hash } from 'node:crypto'
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

function field(hash: Hash, value: string | Uint8Array | null): void {
  if (value === null) {
    hash.update(Buffer.from([0]))
    return
  }
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value
  const length = Buffer.alloc(9)
  length[0] = 1
  length.writeBigUInt64BE(BigInt(bytes.byteLength), 1)
  hash.update(length)
  hash.update(bytes)
}

/** SHA-256 over the record's immutable fields, each length-prefixed (nulls distinct from empty values). */
export function recordDigest(record: ChainedRecordFields): Buffer {
  const hash = createHash('sha256')
  field(hash, RECORD_DOMAIN)
  field(hash, record.queryId)
  field(hash, record.xRequestId)
  field(hash, record.client)
  field(hash, record.service)
  field(hash, record.response ? '1' : '0')
  field(hash, record.message)
  field(hash, record.bodyLogged ? '1' : '0')
  field(hash, record.signatureXml)
  field(hash, record.signatureHash)
  field(hash, record.hashChainResult)
  field(hash, record.hashChain)
  field(hash, String(record.timeMs))
  field(hash, String(record.attachments.length))
  for (const a of record.attachments) {
    field(hash, String(a.size))
    field(hash, a.sha512)
    field(hash, a.stored ? '1' : '0')
  }
  return hash.digest()
}

/** chain_n from chain_{n−1}, n and digest_n. */
export function chainHash(previous: Uint8Array, seq: number, digest: Uint8Array): Buffer {
  const n = Buffer.alloc(8)
  n.writeBigUInt64BE(BigInt(seq))
  return createHash('sha256').update(CHAIN_DOMAIN, 'utf8').update(previous).update(n).update(digest).digest()
}

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

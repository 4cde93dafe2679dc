import { HashChainTree } from '../signature'
import { inTransaction, parseXml, SecurityServerError, toSecurityServerError, type Clock, type Logger, type WritableDb } from '../platform'
import {
  findSignatureXml, listUnstampedRecords, recordTimestampingFailure, storeStamp, type StampToStore,
} from './message-record-repository'
import { requestTimestamp, type SelectedTsa, type TimestampResult } from './tsa-client'

/**
 * Time-stamping of logged messages (xroad-protocols.md §6.2; code `TimestamperWorker`, `Single/BatchTimestampRequest`):
 * the database is the task queue; a batch of unstamped records is stamped with one request over a hash chain of their
 * signature hashes, a single record over its raw SignatureValue bytes. TSAs are tried in the administrator's order.
 */

const XMLDSIG_NS = 'http://www.w3.org/2000/09/xmldsig#'
/** Data file the batch time-stamp hash chain refers to (xroad-protocols.md §6.2). */
export const TS_HASH_CHAIN_DATA_REF = '/META-INF/signatures.xml'

/**
 * The batch time-stamp hash chains (xroad-protocols.md §4.5) of a batch's records, in order — supplied by the
 * signature domain's `HashChainTree`: the hash-chain-result XML (URI `/ts-hashchain.xml#STEP0`), and each record's
 * chain (its text, or its UTF-8 bytes) made when asked for.
 */
export interface TimestampHashChains {
  hashChainResult: string
  count: number
  chain(index: number): string | Uint8Array
}

export type TimestampHashChainBuilder = (signatureHashes: readonly Uint8Array[]) => TimestampHashChains

/**
 * Batch ts hash chains with the signature domain's `HashChainTree`: one input per record, DataRef
 * `/META-INF/signatures.xml`; each chain written as UTF-8 bytes when its slice of the batch is stored
 * (`STAMP_LINK_SLICE`), never all at once (a batch of 10 000 records has about 40 MB of chains).
 */
export const timestampHashChains: TimestampHashChainBuilder = (signatureHashes) => {
  const tree = new HashChainTree(signatureHashes.map((digest) => ({ parts: [{ uri: TS_HASH_CHAIN_DATA_REF, digest }] })), 'SHA-512', '/ts-hashchain.xml')
  return { hashChainResult: tree.result.toString('utf8'), count: tree.count, chain: (index) => tree.chain(index) }
}

/**
 * Records a batch time-stamp links to its records per transaction. Each slice commits its records' links (their chain
 * and the stamp) together, the first with the time-stamp itself: a stop between slices leaves the later records
 * unstamped, and the next run stamps them anew; no record is ever half-linked. 1 000 chains are about 4 MB.
 */
export const STAMP_LINK_SLICE = 1000

export interface TimestamperOptions {
  db: WritableDb
  clock: Clock
  logger: Logger
  tsas: () => readonly SelectedTsa[]
  timeoutMs: number
  recordsLimit: number
  hashChains?: TimestampHashChainBuilder
  /**
   * Stores a stamp with its links in one transaction (default: here, on `db`); the message log hands it to its writer
   * thread (`RecordWriter.stamp`), off the event loop.
   */
  storeStamp?: (stamp: StampToStore) => Promise<number>
}

export interface StampOutcome {
  stamped: number
  pending: number
  error?: SecurityServerError
}

export interface Timestamper {
  /** Stamps what is waiting (up to the records limit); failures are recorded, not thrown. */
  stampPending(): Promise<StampOutcome>
  /** Stamps one record singly (`timestamp-immediately`); throws `timestamping_failed`. */
  stampRecord(recordId: number, signatureXml: string | Uint8Array, signatureValue?: Uint8Array): Promise<void>
  /** Resolves when no stamping run is in progress. */
  idle(): Promise<void>
}

/** Raw bytes of `ds:SignatureValue` (the single-stamp imprint input, xroad-protocols.md §6.2). */
export function signatureValueBytes(signatureXml: string | Uint8Array): Buffer {
  const doc = parseXml(signatureXml)
  const el = doc.getElementsByTagNameNS(XMLDSIG_NS, 'SignatureValue')[0]
  if (el === undefined) throw new SecurityServerError('malformed_signature', 'Signature has no ds:SignatureValue')
  return Buffer.from((el.textContent ?? '').replace(/\s+/g, ''), 'base64')
}

export function createTimestamper(options: TimestamperOptions): Timestamper {
  const { db, clock, logger } = options
  const store = options.storeStamp ?? (async (stamp: StampToStore) => inTransaction(db, () => storeStamp(db, stamp)))
  let running: Promise<StampOutcome> | undefined

  async function stampWithFailover(stampedData: Uint8Array): Promise<TimestampResult> {
    const tsas = options.tsas()
    if (tsas.length === 0) throw new SecurityServerError('timestamping_failed', 'No time-stamping authority is configured')
    const errors: string[] = []
    for (const tsa of tsas) {
      try {
        return await requestTimestamp(tsa, stampedData, options.timeoutMs)
      } catch (error) {
        const coded = toSecurityServerError(error, 'timestamping_failed')
        errors.push(coded.message)
        logger.warn({ tsa: tsa.url, code: coded.faultCode }, `time-stamping failed at ${tsa.url}: ${coded.message}`)
      }
    }
    throw new SecurityServerError('timestamping_failed', `Time-stamping failed at every TSA: ${errors.join('; ')}`)
  }

  function noteFailure(error: SecurityServerError): void {
    try {
      inTransaction(db, () => recordTimestampingFailure(db, clock.now().getTime(), error.message))
    } catch (cause) {
      logger.error({ err: { message: (cause as Error).message } }, 'cannot record the time-stamping failure')
    }
  }

  async function stampSingle(recordId: number, signatureXml: string | Uint8Array, signatureValue?: Uint8Array): Promise<void> {
    // Single imprint = H(raw SignatureValue bytes) (xroad-protocols.md §6.2).
    const result = await stampWithFailover(signatureValue ?? signatureValueBytes(signatureXml))
    await store({
      timeMs: result.genTime.getTime(), token: result.token, hashChainResult: null, tsaUrl: result.tsaUrl, links: [[recordId, null]], atMs: clock.now().getTime(),
    })
  }

  /** Stamps the batch and links its records a slice at a time, counting in `progress` the records linked so far. */
  async function stampBatch(records: Array<{ id: number; signatureHash: string }>, build: TimestampHashChainBuilder, progress: { linked: number }): Promise<void> {
    const chains = build(records.map((r) => Buffer.from(r.signatureHash, 'base64')))
    if (chains.count !== records.length) {
      throw new SecurityServerError('malformed_hash_chain', `Hash chain builder returned ${chains.count} chains for ${records.length} inputs`)
    }
    // Batch imprint = H(UTF-8 bytes of the ts-hash-chain-result XML) (xroad-protocols.md §6.2).
    const result = await stampWithFailover(Buffer.from(chains.hashChainResult, 'utf8'))
    let stampId: number | undefined
    for (let from = 0; from < records.length; from += STAMP_LINK_SLICE) {
      const slice = records.slice(from, from + STAMP_LINK_SLICE)
      stampId = await store({
        timeMs: result.genTime.getTime(), token: result.token, hashChainResult: chains.hashChainResult, tsaUrl: result.tsaUrl,
        links: slice.map((r, i) => [r.id, chains.chain(from + i)] as const), atMs: clock.now().getTime(), ...(stampId === undefined ? {} : { stampId }),
      })
      progress.linked += slice.length
    }
  }

  async function run(): Promise<StampOutcome> {
    const records = listUnstampedRecords(db, options.recordsLimit)
    if (records.length === 0) return { stamped: 0, pending: 0 }
    const progress = { linked: 0 }
    try {
      if (records.length === 1) {
        // One waiting record is stamped singly, as X-Road's TimestamperWorker does.
        for (const r of records) {
          const signatureXml = findSignatureXml(db, r.id)
          if (signatureXml === undefined) continue
          await stampSingle(r.id, signatureXml)
          progress.linked++
        }
        return { stamped: progress.linked, pending: 0 }
      }
      await stampBatch(records, options.hashChains ?? timestampHashChains, progress)
      return { stamped: progress.linked, pending: 0 }
    } catch (error) {
      const coded = toSecurityServerError(error, 'timestamping_failed')
      noteFailure(coded)
      return { stamped: progress.linked, pending: records.length - progress.linked, error: coded }
    }
  }

  return {
    stampPending() {
      running ??= run().finally(() => {
        running = undefined
      })
      return running
    },
    async idle() {
      await running
    },
    async stampRecord(recordId, signatureXml, signatureValue) {
      try {
        await stampSingle(recordId, signatureXml, signatureValue)
      } catch (error) {
        const coded = toSecurityServerError(error, 'timestamping_failed')
        noteFailure(coded)
        throw coded
      }
    },
  }
}

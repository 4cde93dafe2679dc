import { createHash } from 'node:crypto'
import { releasedTransientBytes, type ReadableDb } from '../platform'
import type { AckFileRead } from './ack-file'
import { chainHash, recordDigest, type ChainPosition } from './evidence-chain'
import {
  BODY_CHUNK_BYTES, chainPositionAt, chainSummary, findSequenceGaps, isAcknowledgedIncident, listChainEntries, listEvidenceIncidents, loadChainedRecords,
  readEvidenceChainState, type ChainedAttachment, type ChainedRecordRow, type EvidenceIncidentKind,
} from './message-record-repository'

/**
 * The evidence check: is every acknowledged record still there, unchanged, in its place in the chain?
 *
 * - The structure, from the chain's index in SQL: records without a sequence number, runs of missing numbers, and the
 *   start of the chain after purging (`missing` before the oldest record kept).
 * - The acknowledgement file (`ack-file.ts`) against the database: records up to its last acknowledged number that the
 *   database no longer has are `missing` (a WAL or file loss takes the newest records); a record at that number with a
 *   different chain hash is a broken `link`; a file that was made and is gone or unreadable is an `ack-file` problem.
 * - The walk: every record's digest and chain hash recomputed (`altered` when they differ, and when a stored body no
 *   longer matches its SHA-512), and each record's previous hash compared with the chain hash before it (`link`).
 *   Incremental from a position already verified, or full from the chain's start; records are read in pages bounded by
 *   count and bytes, yielding between pages.
 * Problems are reported with their sequence numbers; one an administrator acknowledged stays in the report, marked so.
 */

export type EvidenceProblemKind = EvidenceIncidentKind

export interface EvidenceProblem {
  kind: EvidenceProblemKind
  firstSeq: number | null
  lastSeq: number | null
  /** In English, for the log and the CLI. */
  detail: string
  acknowledged: boolean
}

export interface EvidenceReport {
  checkedAtMs: number
  /** `start`: structure and acknowledgement file only; `incremental`: also the records after the last verified one. */
  scope: 'start' | 'incremental' | 'full'
  records: number
  firstSeq: number | null
  lastSeq: number | null
  /** The chain's start after purging. */
  baseSeq: number
  lastAcknowledgedSeq: number | null
  /** `missing` is a problem only once the file was made (a server's first start after the upgrade makes it). */
  ackFile: 'ok' | 'missing' | 'unreadable' | 'not-used'
  /** Records whose digest and chain hash this check recomputed. */
  verifiedRecords: number
  problems: EvidenceProblem[]
  /** More problems were found than the report lists. */
  problemsTruncated: boolean
}

export const MAX_REPORTED_PROBLEMS = 100
const PAGE_RECORDS = 256
const PAGE_BYTES = 8 * 1024 * 1024

export interface EvidenceCheckInput {
  db: ReadableDb
  nowMs: number
  /** The acknowledgement file as read (undefined: this log keeps none). */
  ack: AckFileRead | undefined
  /** `start`: no walk; `incremental`: walk after `verified`; `full`: walk the whole chain. */
  scope: EvidenceReport['scope']
  verified?: ChainPosition
  /** Called between pages of the walk (the server yields to its event loop there). */
  pause?: () => Promise<void>
}

export interface EvidenceCheckResult {
  report: EvidenceReport
  /** The last record the walk verified (or `verified` when it walked nothing). */
  verifiedThrough: ChainPosition | undefined
}

class Problems {
  readonly list: Array<Omit<EvidenceProblem, 'acknowledged'>> = []
  truncated = false
  add(kind: EvidenceProblemKind, firstSeq: number | null, lastSeq: number | null, detail: string): void {
    if (this.list.some((p) => p.kind === kind && p.firstSeq === firstSeq && p.lastSeq === lastSeq)) return
    if (this.list.length >= MAX_REPORTED_PROBLEMS) this.truncated = true
    else this.list.push({ kind, firstSeq, lastSeq, detail })
  }
}

const range = (first: number, last: number): string => (first === last ? `record ${first}` : `records ${first}–${last} (${last - first + 1})`)
/** "record 7 is" / "records 7–9 (3) are". */
const rangeIs = (first: number, last: number, singular: string, plural: string): string => `${range(first, last)} ${first === last ? singular : plural}`

/**
 * SHA-512 (base64) of a stored body, read whole or by chunks, the chunks collected every BODY_CHUNK_BYTES hashed (the
 * rest with the page). Not after every chunk: a body stored in 1 MiB pieces then caused a young-generation collection
 * per piece, several within a page, and the page's bodies read whole, alive throughout, were promoted to the old
 * generation by the second — a server started over a log of X-Road's mixed sizes held 20–24 MB of such buffers until
 * its next full collection.
 */
function bodySha512(a: ChainedAttachment): string {
  const hash = createHash('sha512')
  if (a.chunks === null) return hash.update(a.content ?? Buffer.alloc(0)).digest('base64')
  let hashed = 0
  for (const chunk of a.chunks) {
    hash.update(chunk)
    hashed += chunk.length
    if (hashed < BODY_CHUNK_BYTES) continue
    releasedTransientBytes(hashed)
    hashed = 0
  }
  return hash.digest('base64')
}

/** Recomputes one record's digest and chain hash and its bodies' SHA-512; the problem found, if any. */
function verifyRecord(row: ChainedRecordRow): string | undefined {
  if (row.prevHash === null || row.chainHash === null) return 'it has no chain hash'
  for (const a of row.attachments) {
    if (a.stored && bodySha512(a) !== a.sha512) return `the stored body of attachment ${a.position} no longer matches its SHA-512`
  }
  const r = row.record
  const digest = recordDigest({
    queryId: r.queryId, xRequestId: r.xRequestId, client: r.client, service: r.service, response: r.response, message: r.message,
    bodyLogged: r.bodyLogged, signatureXml: r.signatureXml, signatureHash: r.signatureHash, hashChainResult: r.hashChainResult,
    hashChain: r.hashChain, timeMs: r.timeMs, attachments: row.attachments.map((a) => ({ size: a.size, sha512: a.sha512, stored: a.stored })),
  })
  if (!chainHash(row.prevHash, row.seq, digest).equals(row.chainHash)) return 'its content no longer matches its chain hash'
  return undefined
}

async function walk(input: EvidenceCheckInput, from: ChainPosition, problems: Problems): Promise<{ verified: number; through: ChainPosition }> {
  let previous = from
  let cursor = from.seq
  let verified = 0
  for (;;) {
    const entries = listChainEntries(input.db, cursor, PAGE_RECORDS)
    if (entries.length === 0) break
    let i = 0
    while (i < entries.length) {
      // One page: up to PAGE_BYTES of stored content (at least one record, however large).
      let bytes = 0
      let j = i
      while (j < entries.length && (j === i || bytes + (entries[j]?.bytes ?? 0) <= PAGE_BYTES)) bytes += entries[j++]?.bytes ?? 0
      const page = checkPage(input.db, (entries[i] as { seq: number }).seq, (entries[j - 1] as { seq: number }).seq, previous, problems)
      verified += page.verified
      previous = page.through
      // The page's stored bodies are garbage now: collected before the next page is read, not 64 MB later.
      releasedTransientBytes(bytes)
      i = j
      if (input.pause !== undefined) await input.pause()
    }
    cursor = (entries[entries.length - 1] as { seq: number }).seq
  }
  return { verified, through: previous }
}

/** The records from `fromSeq` to `toSeq`, each recomputed and linked after `previous`. */
function checkPage(db: ReadableDb, fromSeq: number, toSeq: number, previous: ChainPosition, problems: Problems): { verified: number; through: ChainPosition } {
  let through = previous
  let verified = 0
  for (const row of loadChainedRecords(db, fromSeq, toSeq)) {
    if (row.seq === through.seq + 1 && row.prevHash !== null && !row.prevHash.equals(through.hash)) {
      problems.add('link', row.seq, row.seq, `record ${row.seq} does not link to record ${through.seq} before it`)
    }
    const altered = verifyRecord(row)
    if (altered !== undefined) problems.add('altered', row.seq, row.seq, `record ${row.seq} (id ${row.id}, query id ${row.record.queryId.slice(0, 100)}): ${altered}`)
    verified++
    if (row.chainHash !== null) through = { seq: row.seq, hash: row.chainHash }
  }
  return { verified, through }
}

function isUnreadable(error: unknown): boolean {
  const code = (error as { code?: unknown }).code
  return typeof code === 'string' && (code.startsWith('SQLITE_CORRUPT') || code.startsWith('SQLITE_NOTADB') || code.startsWith('SQLITE_IOERR'))
}

interface StructureResult {
  summary: ReturnType<typeof chainSummary>
  base: ChainPosition
}

/** The structure and the acknowledgement file (no record is read in full). */
function checkStructure(input: EvidenceCheckInput, problems: Problems): StructureResult {
  const { db, ack } = input
  const state = readEvidenceChainState(db)
  const base = ack?.status === 'ok' && ack.state.base.seq > state.base.seq ? ack.state.base : state.base
  const summary = chainSummary(db)
  if (summary.unsequenced > 0) problems.add('link', null, null, `${summary.unsequenced} record(s) have no place in the evidence chain`)
  if (summary.minSeq !== null && summary.minSeq > base.seq + 1) {
    problems.add('missing', base.seq + 1, summary.minSeq - 1, `${rangeIs(base.seq + 1, summary.minSeq - 1, 'is', 'are')} missing before the oldest record kept (not purged)`)
  }
  if (summary.minSeq !== null && summary.maxSeq !== null && summary.maxSeq - summary.minSeq + 1 !== summary.records - summary.unsequenced) {
    for (const gap of findSequenceGaps(db, MAX_REPORTED_PROBLEMS)) problems.add('missing', gap.first, gap.last, `${rangeIs(gap.first, gap.last, 'is', 'are')} missing from the message log`)
  }
  const newest = summary.maxSeq ?? base.seq
  // A lost file is placed at the newest record then: a later loss (after more records) is a new problem.
  if (ack?.status === 'missing' && state.ackFileSinceMs !== null) {
    problems.add('ack-file', null, newest, `the acknowledgement file is gone (newest record ${newest}): which records were acknowledged last cannot be checked`)
  } else if (ack?.status === 'unreadable') {
    problems.add('ack-file', null, newest, `the acknowledgement file is unreadable (${ack.reason}; newest record ${newest}): which records were acknowledged last cannot be checked`)
  } else if (ack?.status === 'ok') {
    const last = ack.state.last
    if (last.seq > newest) {
      problems.add('missing', newest + 1, last.seq, `${rangeIs(newest + 1, last.seq, 'was', 'were')} acknowledged but ${newest + 1 === last.seq ? 'is' : 'are'} missing from the message log`)
    } else if (last.seq > base.seq) {
      const there = chainPositionAt(db, last.seq)
      if (there !== undefined && !there.hash.equals(last.hash)) {
        problems.add('link', last.seq, last.seq, `record ${last.seq} is not the record that was acknowledged under that number`)
      }
    }
  }
  return { summary, base }
}

function report(input: EvidenceCheckInput, problems: Problems, structure: StructureResult | undefined, verifiedRecords: number): EvidenceReport {
  const { db, ack } = input
  const found = problems.list.map((p) => ({ ...p, acknowledged: acknowledged(db, p) }))
  // Incidents found earlier and not acknowledged stay open even when this check no longer sees them (a recreated
  // acknowledgement file, a gap since purged): only an administrator closes them.
  for (const open of openIncidents(db)) {
    if (!found.some((p) => p.kind === open.kind && p.firstSeq === open.firstSeq && p.lastSeq === open.lastSeq)) found.push({ ...open, acknowledged: false })
  }
  return {
    checkedAtMs: input.nowMs, scope: input.scope, records: structure?.summary.records ?? 0, firstSeq: structure?.summary.minSeq ?? null,
    lastSeq: structure?.summary.maxSeq ?? null, baseSeq: structure?.base.seq ?? 0,
    lastAcknowledgedSeq: ack?.status === 'ok' ? ack.state.last.seq : null,
    ackFile: ack === undefined ? 'not-used' : ack.status,
    verifiedRecords, problems: found, problemsTruncated: problems.truncated,
  }
}

function unreadable(problems: Problems, error: unknown): void {
  if (!isUnreadable(error)) throw error
  problems.add('unreadable', null, null, `the message-log database cannot be read: ${(error as Error).message}`)
}

/** The check at start: structure and acknowledgement file, synchronously (before the first message is taken). */
export function checkEvidenceAtStart(input: Omit<EvidenceCheckInput, 'scope' | 'verified' | 'pause'>): EvidenceCheckResult {
  const full: EvidenceCheckInput = { ...input, scope: 'start' }
  const problems = new Problems()
  let structure: StructureResult | undefined
  try {
    structure = checkStructure(full, problems)
  } catch (error) {
    unreadable(problems, error)
  }
  return { report: report(full, problems, structure, 0), verifiedThrough: undefined }
}

/** The structure, the acknowledgement file and the walk (incremental after `verified`, or full). */
export async function checkEvidence(input: EvidenceCheckInput): Promise<EvidenceCheckResult> {
  const problems = new Problems()
  let structure: StructureResult | undefined
  let verifiedRecords = 0
  let verifiedThrough = input.verified
  try {
    structure = checkStructure(input, problems)
    if (input.scope !== 'start') {
      const from = input.scope === 'full' || verifiedThrough === undefined ? structure.base : verifiedThrough
      const walked = await walk(input, from, problems)
      verifiedRecords = walked.verified
      verifiedThrough = walked.through
    }
  } catch (error) {
    unreadable(problems, error)
  }
  return { report: report(input, problems, structure, verifiedRecords), verifiedThrough }
}

function acknowledged(db: ReadableDb, p: { kind: EvidenceProblemKind; firstSeq: number | null; lastSeq: number | null }): boolean {
  try {
    return isAcknowledgedIncident(db, p.kind, p.firstSeq, p.lastSeq)
  } catch {
    return false
  }
}

function openIncidents(db: ReadableDb): Array<Omit<EvidenceProblem, 'acknowledged'>> {
  try {
    return listEvidenceIncidents(db, MAX_REPORTED_PROBLEMS)
      .filter((i) => i.acknowledgedAtMs === null)
      .map((i) => ({ kind: i.kind, firstSeq: i.firstSeq, lastSeq: i.lastSeq, detail: i.detail }))
  } catch {
    return []
  }
}

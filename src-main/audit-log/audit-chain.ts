import { createHash } from 'node:crypto'

/**
 * The audit log's hash chain, format 1 (fixed: a change needs a new format number, since stored hashes depend on it).
 * Each entry's hash is SHA-256 over the previous entry's hash and the entry's content as stored:
 *
 *   hash = hex(SHA-256(prevHash + "\n" + JSON.stringify([id, at, actor, event, outcome, object, data, errorCode])))
 *
 * where `data` is the stored JSON text. The first entry links to the chain's anchor: GENESIS_HASH, or, once entries
 * were pruned for retention, the hash of the last pruned entry. Editing, deleting or reordering an entry breaks the
 * chain at that entry; the head (last id and hash) is also kept beside the chain, so cutting entries off the end
 * shows as well.
 */
export const GENESIS_HASH = '0'.repeat(64)

export interface ChainedContent {
  id: number
  at: string
  actor: string
  event: string
  outcome: string
  object: string | null
  /** The stored JSON text of the entry's data. */
  dataText: string
  errorCode: string | null
}

export interface ChainedRow extends ChainedContent {
  prevHash: string
  hash: string
}

export function entryHash(prevHash: string, entry: ChainedContent): string {
  const content = JSON.stringify([entry.id, entry.at, entry.actor, entry.event, entry.outcome, entry.object, entry.dataText, entry.errorCode])
  return createHash('sha256').update(`${prevHash}\n${content}`, 'utf8').digest('hex')
}

/** Where a chain starts: the genesis or the last pruned entry. */
export interface ChainAnchor {
  /** The id of the last pruned entry (0: nothing pruned); the next entry has this id + 1. */
  lastPrunedId: number
  hash: string
  prunedAt: string | null
  entriesPruned: number
}

export type ChainProblemKind =
  /** The entry's content no longer gives its stored hash: it was edited (or moved to another id). */
  | 'altered'
  /** Ids are missing before this entry: entries were deleted. */
  | 'missing'
  /** The entry does not link to the one before it: entries were reordered, replaced or inserted. */
  | 'unlinked'
  /** The last entries recorded as the head are gone: entries were cut off the end. */
  | 'truncated'

export interface ChainProblem {
  kind: ChainProblemKind
  /** The entry at which the chain breaks (for `truncated`, the recorded head's id). */
  id: number
}

export interface ChainVerdict {
  ok: boolean
  /** Entries checked (up to the first problem). */
  entries: number
  anchor: ChainAnchor
  /** The last entry checked, or null when the chain holds no entry. */
  head: { id: number; hash: string } | null
  problem: ChainProblem | null
}

/**
 * Walks `rows` in id order from `anchor` and reports the first break. `recordedHead` is the head kept beside the chain
 * (absent when verifying an export, which may end anywhere).
 */
export function verifyChain(rows: Iterable<ChainedRow>, anchor: ChainAnchor, recordedHead?: { id: number; hash: string } | null): ChainVerdict {
  let expectedId = anchor.lastPrunedId + 1
  let prevHash = anchor.hash
  let entries = 0
  let head: ChainVerdict['head'] = null
  const fail = (kind: ChainProblemKind, id: number): ChainVerdict => ({ ok: false, entries, anchor, head, problem: { kind, id } })
  for (const row of rows) {
    if (row.id !== expectedId) return fail(row.id > expectedId ? 'missing' : 'unlinked', row.id)
    if (entryHash(row.prevHash, row) !== row.hash) return fail('altered', row.id)
    if (row.prevHash !== prevHash) return fail('unlinked', row.id)
    entries++
    head = { id: row.id, hash: row.hash }
    prevHash = row.hash
    expectedId++
  }
  if (recordedHead !== undefined && recordedHead !== null) {
    // With every entry pruned, the chain ends at its anchor.
    const last = head ?? { id: anchor.lastPrunedId, hash: anchor.hash }
    if (last.id < recordedHead.id) return fail('truncated', recordedHead.id)
    // Entries past the recorded head were written around the log (every append moves the head).
    if (last.id > recordedHead.id) return fail('unlinked', recordedHead.id + 1)
    if (last.hash !== recordedHead.hash) return fail('altered', last.id)
  }
  return { ok: true, entries, anchor, head, problem: null }
}

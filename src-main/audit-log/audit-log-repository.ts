import { inTransaction, type ReadableDb, type WritableDb } from '../platform'
import { GENESIS_HASH, entryHash, verifyChain, type ChainAnchor, type ChainVerdict, type ChainedRow } from './audit-chain'

export interface AuditEntry {
  id: number
  at: string
  actor: string
  event: string
  outcome: 'success' | 'failure'
  /** What the change was made to (`SUBSYSTEM:LAB/GOV/1001/billing`, a setting's name…), when it names one. */
  object: string | null
  data: Record<string, unknown>
  errorCode: string | null
  prevHash: string
  hash: string
}

export type NewAuditEntry = Omit<AuditEntry, 'id' | 'object' | 'prevHash' | 'hash'> & { object?: string | null }

interface Row {
  id: number
  at: string
  actor: string
  event: string
  outcome: 'success' | 'failure'
  object: string | null
  data: string
  error_code: string | null
  prev_hash: string
  hash: string
}

const COLUMNS = 'id, at, actor, event, outcome, object, data, error_code, prev_hash, hash'

interface ChainRow {
  anchor_id: number
  anchor_hash: string
  pruned_at: string | null
  entries_pruned: number
  head_id: number
  head_hash: string
}

function chainRow(db: ReadableDb): ChainRow {
  const row = db.prepare('SELECT anchor_id, anchor_hash, pruned_at, entries_pruned, head_id, head_hash FROM audit_log_chain WHERE id = 1').get() as ChainRow | undefined
  return row ?? { anchor_id: 0, anchor_hash: GENESIS_HASH, pruned_at: null, entries_pruned: 0, head_id: 0, head_hash: GENESIS_HASH }
}

function anchorOf(row: ChainRow): ChainAnchor {
  return { lastPrunedId: row.anchor_id, hash: row.anchor_hash, prunedAt: row.pruned_at, entriesPruned: row.entries_pruned }
}

/**
 * Appends one entry at the chain's head, in one immediate transaction: a CLI and the running server writing at the
 * same time are serialized by SQLite's write lock, so each entry links to the one really before it.
 */
export function appendAuditEntry(db: WritableDb, entry: NewAuditEntry): number {
  return inTransaction(db, () => {
    const chain = chainRow(db)
    const id = chain.head_id + 1
    const dataText = JSON.stringify(entry.data)
    const object = entry.object ?? null
    const hash = entryHash(chain.head_hash, { id, at: entry.at, actor: entry.actor, event: entry.event, outcome: entry.outcome, object, dataText, errorCode: entry.errorCode })
    db.prepare(`INSERT INTO audit_log (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(id, entry.at, entry.actor, entry.event, entry.outcome, object, dataText, entry.errorCode, chain.head_hash, hash)
    db.prepare('INSERT INTO audit_log_chain (id, anchor_id, anchor_hash, head_id, head_hash) VALUES (1, 0, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET head_id = excluded.head_id, head_hash = excluded.head_hash')
      .run(GENESIS_HASH, id, hash)
    return id
  })
}

function toEntry(r: Row): AuditEntry {
  return {
    id: r.id, at: r.at, actor: r.actor, event: r.event, outcome: r.outcome, object: r.object, data: JSON.parse(r.data) as Record<string, unknown>,
    errorCode: r.error_code, prevHash: r.prev_hash, hash: r.hash,
  }
}

function toChained(r: Row): ChainedRow {
  return { id: r.id, at: r.at, actor: r.actor, event: r.event, outcome: r.outcome, object: r.object, dataText: r.data, errorCode: r.error_code, prevHash: r.prev_hash, hash: r.hash }
}

export function listAuditEntries(db: ReadableDb, query: { from?: string; to?: string; limit?: number } = {}): AuditEntry[] {
  const rows = db
    .prepare(`SELECT ${COLUMNS} FROM audit_log WHERE at >= ? AND at <= ? ORDER BY id DESC LIMIT ?`)
    .all(query.from ?? '', query.to ?? '9999', query.limit ?? 500) as Row[]
  return rows.map(toEntry)
}

/** Every entry of a time range, oldest first, one at a time (for the JSON-lines export). */
export function* iterateAuditEntries(db: ReadableDb, query: { from?: string; to?: string } = {}): Generator<AuditEntry> {
  const rows = db.prepare(`SELECT ${COLUMNS} FROM audit_log WHERE at >= ? AND at <= ? ORDER BY id`).iterate(query.from ?? '', query.to ?? '9999') as Iterable<Row>
  for (const row of rows) yield toEntry(row)
}

/** Walks the whole chain from its anchor to the recorded head. */
export function verifyAuditLog(db: ReadableDb): ChainVerdict {
  const chain = chainRow(db)
  const rows = db.prepare(`SELECT ${COLUMNS} FROM audit_log ORDER BY id`).iterate() as Iterable<Row>
  return verifyChain(mapIterable(rows, toChained), anchorOf(chain), { id: chain.head_id, hash: chain.head_hash })
}

/** Where the chain starts and ends now (recorded in backup manifests, printed by `gatehouse audit verify`). */
export function auditChainState(db: ReadableDb): { anchor: ChainAnchor; head: { id: number; hash: string } } {
  const chain = chainRow(db)
  return { anchor: anchorOf(chain), head: { id: chain.head_id, hash: chain.head_hash } }
}

export interface PruneResult {
  pruned: number
  anchor: ChainAnchor
}

/**
 * Retention: deletes the entries written before `before` (every entry up to the last such id, so the chain stays
 * contiguous) and makes the last deleted entry's hash the chain's new anchor, so what remains still verifies. The part
 * to delete is verified first: a broken chain is never pruned, since that would erase the evidence of tampering.
 * @returns null when the part to delete does not verify
 */
export function pruneAuditLog(db: WritableDb, before: string, now: string): PruneResult | null {
  return inTransaction(db, () => {
    const chain = chainRow(db)
    const last = db.prepare('SELECT MAX(id) AS id FROM audit_log WHERE at < ?').get(before) as { id: number | null }
    if (last.id === null) return { pruned: 0, anchor: anchorOf(chain) }
    const part = db.prepare(`SELECT ${COLUMNS} FROM audit_log WHERE id <= ? ORDER BY id`).iterate(last.id) as Iterable<Row>
    const verdict = verifyChain(mapIterable(part, toChained), anchorOf(chain))
    if (!verdict.ok || verdict.head === null || verdict.head.id !== last.id) return null
    const deleted = db.prepare('DELETE FROM audit_log WHERE id <= ?').run(last.id).changes
    db.prepare('UPDATE audit_log_chain SET anchor_id = ?, anchor_hash = ?, pruned_at = ?, entries_pruned = entries_pruned + ? WHERE id = 1')
      .run(last.id, verdict.head.hash, now, deleted)
    return { pruned: deleted, anchor: anchorOf(chainRow(db)) }
  })
}

function* mapIterable<A, B>(items: Iterable<A>, map: (a: A) => B): Generator<B> {
  for (const item of items) yield map(item)
}

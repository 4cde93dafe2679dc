import type { Migration } from '../../platform'
import { GENESIS_HASH, entryHash } from '../audit-chain'

/**
 * The audit log becomes tamper-evident: each entry names the object it changed and carries the hash of the entry
 * before it and its own (hash chain format 1, `audit-chain.ts`); `audit_log_chain` keeps where the chain starts (the
 * genesis, or the last entry pruned for retention) and its head. Entries written before this migration are chained
 * here, in id order.
 */
export const migration0002: Migration = {
  version: 2,
  name: 'hash-chain',
  up(db) {
    db.exec(`
      ALTER TABLE audit_log ADD COLUMN object TEXT;
      ALTER TABLE audit_log ADD COLUMN prev_hash TEXT NOT NULL DEFAULT '';
      ALTER TABLE audit_log ADD COLUMN hash TEXT NOT NULL DEFAULT '';
      CREATE TABLE audit_log_chain (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        anchor_id INTEGER NOT NULL,
        anchor_hash TEXT NOT NULL,
        pruned_at TEXT,
        entries_pruned INTEGER NOT NULL DEFAULT 0,
        head_id INTEGER NOT NULL,
        head_hash TEXT NOT NULL
      ) STRICT;
    `)
    const rows = db.prepare('SELECT id, at, actor, event, outcome, data, error_code FROM audit_log ORDER BY id').all() as Array<{
      id: number; at: string; actor: string; event: string; outcome: string; data: string; error_code: string | null
    }>
    const update = db.prepare('UPDATE audit_log SET prev_hash = ?, hash = ? WHERE id = ?')
    // Existing ids start the chain where they start (ids were never deleted before: the log was append-only).
    const anchorId = rows.length === 0 ? 0 : (rows[0] as { id: number }).id - 1
    let prev = GENESIS_HASH
    let headId = anchorId
    for (const r of rows) {
      const hash = entryHash(prev, { id: r.id, at: r.at, actor: r.actor, event: r.event, outcome: r.outcome, object: null, dataText: r.data, errorCode: r.error_code })
      update.run(prev, hash, r.id)
      prev = hash
      headId = r.id
    }
    db.prepare('INSERT INTO audit_log_chain (id, anchor_id, anchor_hash, head_id, head_hash) VALUES (1, ?, ?, ?, ?)').run(anchorId, GENESIS_HASH, headId, prev)
  },
}

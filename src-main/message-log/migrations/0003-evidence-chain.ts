import type { Migration } from '../../platform'
import { CHAIN_START, nextLink, recordDigest } from '../evidence-chain'

/**
 * The evidence chain (`evidence-chain.ts`): every record gets a sequence number, the chain hash of the record before
 * it and its own chain hash; `evidence_chain_state` keeps where the chain starts after purged records and since when
 * the acknowledgement file exists; `evidence_incidents` keeps every loss or alteration found and who acknowledged it.
 * Records logged before this migration are chained here in id order (their logged order), so the chain covers the
 * whole log from now on; what happened to them before cannot be told.
 */
export const migration0003: Migration = {
  version: 3,
  name: 'evidence-chain',
  up(db) {
    db.exec(`
      ALTER TABLE message_records ADD COLUMN seq INTEGER;
      ALTER TABLE message_records ADD COLUMN prev_hash BLOB;
      ALTER TABLE message_records ADD COLUMN chain_hash BLOB;
      CREATE TABLE evidence_chain_state (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        base_seq INTEGER NOT NULL,
        base_hash BLOB NOT NULL,
        ack_file_since_ms INTEGER
      ) STRICT;
      CREATE TABLE evidence_incidents (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL CHECK (kind IN ('missing', 'altered', 'link', 'unreadable', 'ack-file')),
        first_seq INTEGER,
        last_seq INTEGER,
        detail TEXT NOT NULL,
        detected_at_ms INTEGER NOT NULL,
        acknowledged_at_ms INTEGER,
        acknowledged_by TEXT,
        reason TEXT
      ) STRICT;
      CREATE UNIQUE INDEX evidence_incidents_problem ON evidence_incidents (kind, COALESCE(first_seq, -1), COALESCE(last_seq, -1));
    `)
    db.prepare('INSERT INTO evidence_chain_state (id, base_seq, base_hash, ack_file_since_ms) VALUES (1, ?, ?, NULL)').run(CHAIN_START.seq, CHAIN_START.hash)
    const page = db.prepare(
      `SELECT id, query_id, x_request_id, client, service, response, message, body_logged, signature_xml, signature_hash,
         hash_chain_result, hash_chain, time_ms FROM message_records WHERE id > ? ORDER BY id LIMIT 64`,
    )
    const attachments = db.prepare('SELECT size, sha512, content IS NOT NULL AS stored FROM message_attachments WHERE record_id = ? ORDER BY position')
    const link = db.prepare('UPDATE message_records SET seq = ?, prev_hash = ?, chain_hash = ? WHERE id = ?')
    let head = CHAIN_START
    let after = 0
    for (;;) {
      const rows = page.all(after) as Array<{
        id: number; query_id: string; x_request_id: string | null; client: string; service: string; response: number; message: Buffer
        body_logged: number; signature_xml: string; signature_hash: string; hash_chain_result: string | null; hash_chain: string | null; time_ms: number
      }>
      if (rows.length === 0) break
      for (const r of rows) {
        const digest = recordDigest({
          queryId: r.query_id, xRequestId: r.x_request_id, client: r.client, service: r.service, response: r.response === 1, message: r.message,
          bodyLogged: r.body_logged === 1, signatureXml: r.signature_xml, signatureHash: r.signature_hash, hashChainResult: r.hash_chain_result,
          hashChain: r.hash_chain, timeMs: r.time_ms,
          attachments: (attachments.all(r.id) as Array<{ size: number; sha512: string; stored: number }>).map((a) => ({ size: a.size, sha512: a.sha512, stored: a.stored === 1 })),
        })
        const next = nextLink(head, digest)
        link.run(next.seq, next.prevHash, next.chainHash, r.id)
        head = { seq: next.seq, hash: next.chainHash }
        after = r.id
      }
    }
    db.exec('CREATE UNIQUE INDEX message_records_seq ON message_records (seq)')
  },
}

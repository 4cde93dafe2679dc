import type { Migration } from '../../platform'

/**
 * A record's contents — message, signature, hash chain and its result: 5–10 KB, written once — in a table of their
 * own, apart from the record's row, which time-stamping and archiving update (issue 15, write volume). SQLite writes
 * a row whose size changes anew, with every overflow page its contents take: with the contents in the row, the
 * time-stamp's UPDATE and the archive's UPDATE each rewrote the leaf and the overflow pages of every record (about
 * two pages a record each, a third of the message log's writes, on the event loop); with a narrow row they touch a
 * fraction of a page. Records logged before this migration keep their contents in `message_records` (not copied: a
 * large log would take minutes to start); `message_records_full` reads each record's contents from wherever they
 * are, and a record logged from now on leaves those columns empty.
 */
export const migration0004: Migration = {
  version: 4,
  name: 'record-contents',
  up(db) {
    db.exec(`
      CREATE TABLE message_record_contents (
        record_id INTEGER PRIMARY KEY REFERENCES message_records (id) ON DELETE CASCADE,
        message BLOB NOT NULL,
        signature_xml TEXT NOT NULL,
        hash_chain_result TEXT,
        hash_chain TEXT
      ) STRICT;
      CREATE VIEW message_records_full AS
        SELECT r.id, r.query_id, r.x_request_id, r.client, r.service, r.response,
          CASE WHEN c.record_id IS NULL THEN r.message ELSE c.message END AS message,
          r.body_logged,
          CASE WHEN c.record_id IS NULL THEN r.signature_xml ELSE c.signature_xml END AS signature_xml,
          r.signature_hash,
          CASE WHEN c.record_id IS NULL THEN r.hash_chain_result ELSE c.hash_chain_result END AS hash_chain_result,
          CASE WHEN c.record_id IS NULL THEN r.hash_chain ELSE c.hash_chain END AS hash_chain,
          r.time_ms, r.timestamp_record_id, r.timestamp_hash_chain, r.archived_at_ms, r.archive_file, r.seq, r.prev_hash, r.chain_hash
        FROM message_records r LEFT JOIN message_record_contents c ON c.record_id = r.id;
    `)
  },
}

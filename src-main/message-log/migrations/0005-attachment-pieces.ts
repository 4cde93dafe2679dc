import type { Migration } from '../../platform'

/**
 * Large bodies in pieces (issue 15, ≤ 200 MB per server): a body the proxy spooled to a file is stored as pieces of
 * 1 MiB (`STORED_PIECE_BYTES`) in `message_attachment_pieces`, its `message_attachments` row keeping the size, the
 * SHA-512 and how many pieces (`pieces`; its `content` is then NULL). Stored whole, a 10 MB body was in memory three
 * times while its record was committed (its buffer and SQLite's two copies: the bound value and the record), and the
 * evidence check's reads of a part of it read it whole again. Bodies stored before keep their `content`.
 */
export const migration0005: Migration = {
  version: 5,
  name: 'attachment-pieces',
  up(db) {
    db.exec(`
      ALTER TABLE message_attachments ADD COLUMN pieces INTEGER NOT NULL DEFAULT 0;
      CREATE TABLE message_attachment_pieces (
        record_id INTEGER NOT NULL,
        position INTEGER NOT NULL,
        piece INTEGER NOT NULL,
        bytes BLOB NOT NULL,
        PRIMARY KEY (record_id, position, piece),
        FOREIGN KEY (record_id, position) REFERENCES message_attachments (record_id, position) ON DELETE CASCADE
      ) STRICT;
    `)
  },
}

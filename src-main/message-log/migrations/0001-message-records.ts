import type { Migration } from '../../platform'

/**
 * Message records, their attachments, time-stamp records and archive linking state
 * (xroad-protocols.md §6.1 `logrecord`, §6.5 `last_archive_digest`; DM-ML §2.2).
 */
export const migration0001: Migration = {
  version: 1,
  name: 'message-records',
  up(db) {
    db.exec(`
      CREATE TABLE timestamp_records (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        time_ms INTEGER NOT NULL,
        token BLOB NOT NULL,
        hash_chain_result TEXT,
        tsa_url TEXT NOT NULL
      ) STRICT;
      CREATE TABLE message_records (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        query_id TEXT NOT NULL,
        x_request_id TEXT,
        client TEXT NOT NULL,
        service TEXT NOT NULL,
        response INTEGER NOT NULL CHECK (response IN (0, 1)),
        message BLOB NOT NULL,
        body_logged INTEGER NOT NULL CHECK (body_logged IN (0, 1)),
        signature_xml TEXT NOT NULL,
        signature_hash TEXT NOT NULL,
        hash_chain_result TEXT,
        hash_chain TEXT,
        time_ms INTEGER NOT NULL,
        timestamp_record_id INTEGER REFERENCES timestamp_records (id),
        timestamp_hash_chain TEXT,
        archived_at_ms INTEGER,
        archive_file TEXT
      ) STRICT;
      CREATE INDEX message_records_query_id ON message_records (query_id);
      CREATE INDEX message_records_time ON message_records (time_ms);
      CREATE INDEX message_records_unstamped ON message_records (time_ms) WHERE timestamp_record_id IS NULL;
      CREATE INDEX message_records_unarchived ON message_records (id) WHERE archived_at_ms IS NULL AND timestamp_record_id IS NOT NULL;
      CREATE TABLE message_attachments (
        record_id INTEGER NOT NULL REFERENCES message_records (id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        content BLOB,
        size INTEGER NOT NULL,
        sha512 TEXT NOT NULL,
        PRIMARY KEY (record_id, position)
      ) STRICT;
      CREATE TABLE last_archive_digest (
        group_key TEXT PRIMARY KEY,
        digest TEXT NOT NULL,
        file_name TEXT NOT NULL,
        updated_at_ms INTEGER NOT NULL
      ) STRICT;
      CREATE TABLE timestamping_state (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        last_success_ms INTEGER,
        failing_since_ms INTEGER,
        last_error TEXT
      ) STRICT;
    `)
  },
}

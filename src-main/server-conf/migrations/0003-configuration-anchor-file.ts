import type { Migration } from '../../platform'

/**
 * The configuration anchor file given to `gatehouse init`, kept as received until the global-configuration
 * domain imports and verifies it (PR-GCONF §2.2).
 */
export const migration0003: Migration = {
  version: 3,
  name: 'configuration-anchor-file',
  up(db) {
    db.exec(`
      CREATE TABLE configuration_anchor_file (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        source_path TEXT NOT NULL,
        content BLOB NOT NULL,
        sha256 TEXT NOT NULL,
        stored_at TEXT NOT NULL
      ) STRICT;
    `)
  },
  upPostgres(db) {
    db.exec(`
      CREATE TABLE configuration_anchor_file (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        source_path TEXT NOT NULL,
        content BYTEA NOT NULL,
        sha256 TEXT NOT NULL,
        stored_at TEXT NOT NULL
      );
    `)
  },
}

import type { Migration } from '../../platform'

/** The server's own identity (set at initialization) and administrator-set system parameters. */
export const migration0001: Migration = {
  version: 1,
  name: 'server-identity-and-parameters',
  up(db) {
    db.exec(`
      CREATE TABLE server_identity (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        instance TEXT NOT NULL,
        owner TEXT NOT NULL,
        server_code TEXT NOT NULL,
        initialized_at TEXT NOT NULL
      ) STRICT;
      CREATE TABLE system_parameters (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        updated_at TEXT NOT NULL
      ) STRICT;
    `)
  },
  upPostgres(db) {
    db.exec(`
      CREATE TABLE server_identity (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        instance TEXT NOT NULL,
        owner TEXT NOT NULL,
        server_code TEXT NOT NULL,
        initialized_at TEXT NOT NULL
      );
      CREATE TABLE system_parameters (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
    `)
  },
}

import type { Migration } from '../../platform'

/** Every administrative action: who, what, when, outcome (X-Road's audit log, kept queryable). */
export const migration0001: Migration = {
  version: 1,
  name: 'audit-log',
  up(db) {
    db.exec(`
      CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        event TEXT NOT NULL,
        outcome TEXT NOT NULL CHECK (outcome IN ('success', 'failure')),
        data TEXT NOT NULL DEFAULT '{}',
        error_code TEXT
      ) STRICT;
      CREATE INDEX audit_log_at ON audit_log (at);
    `)
  },
}

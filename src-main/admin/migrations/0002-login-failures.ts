import type { Migration } from '../../platform'

/**
 * Failed sign-ins per user name and per address, kept in the database rather than in memory so that a lockout
 * survives a restart and `gatehouse user passwd` (run locally on a locked-out server) can clear it
 * (reliability-and-security.md §2.4 "Rate limiting"). Times are epoch milliseconds.
 */
export const migration0002: Migration = {
  version: 2,
  name: 'login-failures',
  up(db) {
    db.exec(`
      CREATE TABLE admin_login_failure (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        key TEXT NOT NULL,
        failed_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX admin_login_failure_key ON admin_login_failure (key, failed_at);
    `)
  },
}

import type { Migration } from '../../platform'

/**
 * Local admin accounts, browser sessions and API keys of the admin API (UG-SS §2 roles, §19.1 API keys).
 * Only hashes are stored: scrypt for passwords, SHA-256 for the high-entropy session tokens and API keys.
 */
export const migration0001: Migration = {
  version: 1,
  name: 'admin-accounts',
  up(db) {
    db.exec(`
      CREATE TABLE admin_user (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        username TEXT NOT NULL UNIQUE COLLATE NOCASE,
        password_hash TEXT NOT NULL,
        roles TEXT NOT NULL,
        created_at TEXT NOT NULL,
        password_changed_at TEXT NOT NULL
      ) STRICT;
      CREATE TABLE admin_session (
        token_hash TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES admin_user (id) ON DELETE CASCADE,
        csrf_token TEXT NOT NULL,
        created_at TEXT NOT NULL,
        last_seen_at TEXT NOT NULL
      ) STRICT;
      CREATE INDEX admin_session_user ON admin_session (user_id);
      CREATE TABLE admin_api_key (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        key_hash TEXT NOT NULL UNIQUE,
        label TEXT NOT NULL,
        roles TEXT NOT NULL,
        created_at TEXT NOT NULL,
        created_by TEXT NOT NULL,
        revoked_at TEXT
      ) STRICT;
    `)
  },
}

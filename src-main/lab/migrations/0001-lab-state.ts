import type { Migration } from '../../platform'

/**
 * The lab authority's registry: settings, member classes, members and subsystems, issued certificates (with
 * revocation), security servers with their auth-cert hashes and clients, and global groups.
 */
export const migration0001: Migration = {
  version: 1,
  name: 'lab-state',
  up(db) {
    db.exec(`
      CREATE TABLE lab_settings (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        instance TEXT NOT NULL,
        key_algorithm TEXT NOT NULL,
        created_at TEXT NOT NULL,
        conf_expire_seconds INTEGER NOT NULL,
        ocsp_freshness_seconds INTEGER NOT NULL,
        timestamping_interval_seconds INTEGER NOT NULL,
        conf_address TEXT NOT NULL,
        ocsp_url TEXT NOT NULL,
        tsa_url TEXT NOT NULL
      ) STRICT;
      CREATE TABLE member_classes (
        code TEXT PRIMARY KEY,
        description TEXT NOT NULL
      ) STRICT;
      CREATE TABLE members (
        id INTEGER PRIMARY KEY,
        member_class TEXT NOT NULL REFERENCES member_classes (code),
        member_code TEXT NOT NULL,
        name TEXT NOT NULL,
        UNIQUE (member_class, member_code)
      ) STRICT;
      CREATE TABLE subsystems (
        id INTEGER PRIMARY KEY,
        member_id INTEGER NOT NULL REFERENCES members (id),
        subsystem_code TEXT NOT NULL,
        UNIQUE (member_id, subsystem_code)
      ) STRICT;
      CREATE TABLE certificates (
        serial TEXT PRIMARY KEY,
        usage TEXT NOT NULL CHECK (usage IN ('ca', 'ocsp', 'tsa', 'sign', 'auth')),
        subject TEXT NOT NULL,
        der BLOB NOT NULL,
        issued_at TEXT NOT NULL,
        revoked_at TEXT,
        revocation_reason INTEGER
      ) STRICT;
      CREATE TABLE security_servers (
        id INTEGER PRIMARY KEY,
        owner_id INTEGER NOT NULL REFERENCES members (id),
        server_code TEXT NOT NULL,
        address TEXT NOT NULL,
        UNIQUE (owner_id, server_code)
      ) STRICT;
      CREATE TABLE server_auth_certs (
        server_id INTEGER NOT NULL REFERENCES security_servers (id) ON DELETE CASCADE,
        cert_hash TEXT NOT NULL,
        PRIMARY KEY (server_id, cert_hash)
      ) STRICT;
      CREATE TABLE server_clients (
        server_id INTEGER NOT NULL REFERENCES security_servers (id) ON DELETE CASCADE,
        member_id INTEGER NOT NULL REFERENCES members (id),
        subsystem_id INTEGER REFERENCES subsystems (id),
        position INTEGER NOT NULL,
        UNIQUE (server_id, member_id, subsystem_id)
      ) STRICT;
      CREATE TABLE global_groups (
        group_code TEXT PRIMARY KEY,
        description TEXT NOT NULL
      ) STRICT;
      CREATE TABLE global_group_members (
        group_code TEXT NOT NULL REFERENCES global_groups (group_code) ON DELETE CASCADE,
        client TEXT NOT NULL,
        position INTEGER NOT NULL,
        PRIMARY KEY (group_code, client)
      ) STRICT;
    `)
  },
}

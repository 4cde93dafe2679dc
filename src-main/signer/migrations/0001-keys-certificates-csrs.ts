import type { Migration } from '../../platform'

/**
 * Signer key configuration (X-Road's keyconf.xml, here in serverconf.sqlite): tokens, keys with their usage,
 * CSRs, certificates with their state, and the last OCSP response of each own certificate.
 */
export const migration0001: Migration = {
  version: 1,
  name: 'keys-certificates-csrs',
  up(db) {
    db.exec(`
      CREATE TABLE signer_tokens (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('software', 'pkcs11')),
        module_path TEXT,
        token_label TEXT,
        token_serial TEXT,
        created_at TEXT NOT NULL,
        CHECK (kind = 'software' OR (module_path IS NOT NULL AND (token_label IS NOT NULL OR token_serial IS NOT NULL)))
      ) STRICT;
      CREATE TABLE signer_keys (
        id TEXT PRIMARY KEY,
        token_id TEXT NOT NULL REFERENCES signer_tokens (id) ON DELETE CASCADE,
        label TEXT NOT NULL,
        usage TEXT NOT NULL CHECK (usage IN ('sign', 'auth')),
        algorithm TEXT NOT NULL,
        public_key BLOB NOT NULL,
        created_at TEXT NOT NULL
      ) STRICT;
      CREATE TABLE signer_csrs (
        id TEXT PRIMARY KEY,
        key_id TEXT NOT NULL REFERENCES signer_keys (id) ON DELETE CASCADE,
        member_id TEXT,
        subject TEXT NOT NULL,
        csr_der BLOB NOT NULL,
        created_at TEXT NOT NULL
      ) STRICT;
      CREATE TABLE signer_certificates (
        id TEXT PRIMARY KEY,
        key_id TEXT NOT NULL REFERENCES signer_keys (id) ON DELETE CASCADE,
        member_id TEXT,
        cert_der BLOB NOT NULL,
        subject TEXT NOT NULL,
        issuer TEXT NOT NULL,
        serial_number TEXT NOT NULL,
        not_before TEXT NOT NULL,
        not_after TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('saved', 'registered', 'active', 'disabled', 'revoked')),
        created_at TEXT NOT NULL
      ) STRICT;
      CREATE INDEX signer_certificates_key ON signer_certificates (key_id);
      CREATE TABLE signer_ocsp_responses (
        cert_id TEXT PRIMARY KEY REFERENCES signer_certificates (id) ON DELETE CASCADE,
        response_der BLOB NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('good', 'revoked', 'unknown')),
        this_update TEXT NOT NULL,
        next_update TEXT,
        revocation_time TEXT,
        fetched_at TEXT NOT NULL
      ) STRICT;
    `)
  },
  upPostgres(db) {
    db.exec(`
      CREATE TABLE signer_tokens (
        id TEXT COLLATE "C" PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('software', 'pkcs11')),
        module_path TEXT,
        token_label TEXT,
        token_serial TEXT,
        created_at TEXT COLLATE "C" NOT NULL,
        CHECK (kind = 'software' OR (module_path IS NOT NULL AND (token_label IS NOT NULL OR token_serial IS NOT NULL)))
      );
      CREATE TABLE signer_keys (
        id TEXT COLLATE "C" PRIMARY KEY,
        token_id TEXT NOT NULL REFERENCES signer_tokens (id) ON DELETE CASCADE,
        label TEXT NOT NULL,
        usage TEXT NOT NULL CHECK (usage IN ('sign', 'auth')),
        algorithm TEXT NOT NULL,
        public_key BYTEA NOT NULL,
        created_at TEXT COLLATE "C" NOT NULL
      );
      CREATE TABLE signer_csrs (
        id TEXT COLLATE "C" PRIMARY KEY,
        key_id TEXT NOT NULL REFERENCES signer_keys (id) ON DELETE CASCADE,
        member_id TEXT,
        subject TEXT NOT NULL,
        csr_der BYTEA NOT NULL,
        created_at TEXT COLLATE "C" NOT NULL
      );
      CREATE TABLE signer_certificates (
        id TEXT COLLATE "C" PRIMARY KEY,
        key_id TEXT NOT NULL REFERENCES signer_keys (id) ON DELETE CASCADE,
        member_id TEXT,
        cert_der BYTEA NOT NULL,
        subject TEXT NOT NULL,
        issuer TEXT NOT NULL,
        serial_number TEXT NOT NULL,
        not_before TEXT NOT NULL,
        not_after TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('saved', 'registered', 'active', 'disabled', 'revoked')),
        created_at TEXT COLLATE "C" NOT NULL
      );
      CREATE INDEX signer_certificates_key ON signer_certificates (key_id);
      CREATE TABLE signer_ocsp_responses (
        cert_id TEXT PRIMARY KEY REFERENCES signer_certificates (id) ON DELETE CASCADE,
        response_der BYTEA NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('good', 'revoked', 'unknown')),
        this_update TEXT NOT NULL,
        next_update TEXT,
        revocation_time TEXT,
        fetched_at TEXT NOT NULL
      );
    `)
  },
}

import type { Migration } from '../../platform'

/**
 * OCSP status of own certificates (xroad-protocols.md §4.8): the producedAt of the stored response and the last
 * fetch failure per certificate; and the intermediate CA certificates of each own certificate (leaf's issuer first),
 * which the signing context hands to the signature (CertificateValues, §4.6).
 */
export const migration0002: Migration = {
  version: 2,
  name: 'ocsp-state-certificate-chains',
  up(db) {
    db.exec(`
      ALTER TABLE signer_ocsp_responses ADD COLUMN produced_at TEXT;
      CREATE TABLE signer_ocsp_failures (
        cert_id TEXT PRIMARY KEY REFERENCES signer_certificates (id) ON DELETE CASCADE,
        error TEXT NOT NULL,
        failed_at TEXT NOT NULL
      ) STRICT;
      CREATE TABLE signer_certificate_chains (
        cert_id TEXT NOT NULL REFERENCES signer_certificates (id) ON DELETE CASCADE,
        position INTEGER NOT NULL CHECK (position >= 1),
        cert_der BLOB NOT NULL,
        PRIMARY KEY (cert_id, position)
      ) STRICT;
    `)
  },
  upPostgres(db) {
    db.exec(`
      ALTER TABLE signer_ocsp_responses ADD COLUMN produced_at TEXT;
      CREATE TABLE signer_ocsp_failures (
        cert_id TEXT PRIMARY KEY REFERENCES signer_certificates (id) ON DELETE CASCADE,
        error TEXT NOT NULL,
        failed_at TEXT NOT NULL
      );
      CREATE TABLE signer_certificate_chains (
        cert_id TEXT NOT NULL REFERENCES signer_certificates (id) ON DELETE CASCADE,
        position INTEGER NOT NULL CHECK (position >= 1),
        cert_der BYTEA NOT NULL,
        PRIMARY KEY (cert_id, position)
      );
    `)
  },
}

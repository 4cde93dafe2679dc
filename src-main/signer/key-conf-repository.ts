import type { SqlReader, SqlWriter } from '../platform'
import type { KeyAlgorithm, KeyUsage } from './token-driver'

/** SQL of the signer's key configuration (tokens, keys, CSRs, certificates, OCSP responses). */

export interface TokenRow {
  id: string
  kind: 'software' | 'pkcs11'
  modulePath: string | null
  tokenLabel: string | null
  tokenSerial: string | null
  createdAt: string
}

export interface KeyRow {
  id: string
  tokenId: string
  label: string
  usage: KeyUsage
  algorithm: KeyAlgorithm
  publicKey: Buffer
  createdAt: string
}

export interface CsrRow {
  id: string
  keyId: string
  memberId: string | null
  subject: string
  csrDer: Buffer
  createdAt: string
}

export type StoredCertificateStatus = 'saved' | 'registered' | 'active' | 'disabled' | 'revoked'

export interface CertificateRow {
  id: string
  keyId: string
  memberId: string | null
  certDer: Buffer
  subject: string
  issuer: string
  serialNumber: string
  notBefore: string
  notAfter: string
  status: StoredCertificateStatus
  createdAt: string
}

export interface OcspRow {
  certId: string
  responseDer: Buffer
  status: 'good' | 'revoked' | 'unknown'
  thisUpdate: string
  nextUpdate: string | null
  revocationTime: string | null
  fetchedAt: string
  producedAt: string | null
}

export interface OcspFailureRow {
  certId: string
  error: string
  failedAt: string
}

const TOKEN_COLUMNS = 'id, kind, module_path AS "modulePath", token_label AS "tokenLabel", token_serial AS "tokenSerial", created_at AS "createdAt"'
const KEY_COLUMNS = 'id, token_id AS "tokenId", label, usage, algorithm, public_key AS "publicKey", created_at AS "createdAt"'
const CSR_COLUMNS = 'id, key_id AS "keyId", member_id AS "memberId", subject, csr_der AS "csrDer", created_at AS "createdAt"'
const CERT_COLUMNS = `id, key_id AS "keyId", member_id AS "memberId", cert_der AS "certDer", subject, issuer, serial_number AS "serialNumber",
  not_before AS "notBefore", not_after AS "notAfter", status, created_at AS "createdAt"`
const OCSP_COLUMNS = `cert_id AS "certId", response_der AS "responseDer", status, this_update AS "thisUpdate", next_update AS "nextUpdate",
  revocation_time AS "revocationTime", fetched_at AS "fetchedAt", produced_at AS "producedAt"`

export function listTokenRows(db: SqlReader): TokenRow[] {
  return db.prepare(`SELECT ${TOKEN_COLUMNS} FROM signer_tokens ORDER BY created_at, id`).all() as TokenRow[]
}

export function insertToken(db: SqlWriter, row: TokenRow): void {
  db.prepare('INSERT INTO signer_tokens (id, kind, module_path, token_label, token_serial, created_at) VALUES (?, ?, ?, ?, ?, ?)')
    .run(row.id, row.kind, row.modulePath, row.tokenLabel, row.tokenSerial, row.createdAt)
}

export function listKeyRows(db: SqlReader, tokenId?: string): KeyRow[] {
  return (tokenId === undefined
    ? db.prepare(`SELECT ${KEY_COLUMNS} FROM signer_keys ORDER BY created_at, id`).all()
    : db.prepare(`SELECT ${KEY_COLUMNS} FROM signer_keys WHERE token_id = ? ORDER BY created_at, id`).all(tokenId)) as KeyRow[]
}

export function findKeyRow(db: SqlReader, keyId: string): KeyRow | undefined {
  return db.prepare(`SELECT ${KEY_COLUMNS} FROM signer_keys WHERE id = ?`).get(keyId) as KeyRow | undefined
}

export function insertKey(db: SqlWriter, row: KeyRow): void {
  db.prepare('INSERT INTO signer_keys (id, token_id, label, usage, algorithm, public_key, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
    .run(row.id, row.tokenId, row.label, row.usage, row.algorithm, row.publicKey, row.createdAt)
}

/** Deletes a key with its CSRs, certificates and their OCSP responses (foreign keys cascade). */
export function deleteKeyRow(db: SqlWriter, keyId: string): void {
  db.prepare('DELETE FROM signer_keys WHERE id = ?').run(keyId)
}

export function insertCsr(db: SqlWriter, row: CsrRow): void {
  db.prepare('INSERT INTO signer_csrs (id, key_id, member_id, subject, csr_der, created_at) VALUES (?, ?, ?, ?, ?, ?)')
    .run(row.id, row.keyId, row.memberId, row.subject, row.csrDer, row.createdAt)
}

/** Every CSR of the key configuration, oldest first. */
export function listAllCsrRows(db: SqlReader): CsrRow[] {
  return db.prepare(`SELECT ${CSR_COLUMNS} FROM signer_csrs ORDER BY created_at, id`).all() as CsrRow[]
}

export function deleteCsrRow(db: SqlWriter, csrId: string): boolean {
  return db.prepare('DELETE FROM signer_csrs WHERE id = ?').run(csrId).changes > 0
}

export function listCsrRows(db: SqlReader, keyId: string): CsrRow[] {
  return db.prepare(`SELECT ${CSR_COLUMNS} FROM signer_csrs WHERE key_id = ? ORDER BY created_at`).all(keyId) as CsrRow[]
}

export function deleteCsrsOfKey(db: SqlWriter, keyId: string): void {
  db.prepare('DELETE FROM signer_csrs WHERE key_id = ?').run(keyId)
}

export function insertCertificate(db: SqlWriter, row: CertificateRow): void {
  db.prepare(`INSERT INTO signer_certificates (id, key_id, member_id, cert_der, subject, issuer, serial_number, not_before, not_after, status, created_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
    .run(row.id, row.keyId, row.memberId, row.certDer, row.subject, row.issuer, row.serialNumber, row.notBefore, row.notAfter, row.status, row.createdAt)
}

export function findCertificateRow(db: SqlReader, certId: string): CertificateRow | undefined {
  return db.prepare(`SELECT ${CERT_COLUMNS} FROM signer_certificates WHERE id = ?`).get(certId) as CertificateRow | undefined
}

export function listCertificateRows(db: SqlReader): CertificateRow[] {
  return db.prepare(`SELECT ${CERT_COLUMNS} FROM signer_certificates ORDER BY created_at, id`).all() as CertificateRow[]
}

/** Deletes a certificate with its OCSP state and chain (foreign keys cascade). */
export function deleteCertificateRow(db: SqlWriter, certId: string): void {
  db.prepare('DELETE FROM signer_certificates WHERE id = ?').run(certId)
}

export function updateCertificateStatus(db: SqlWriter, certId: string, status: StoredCertificateStatus): void {
  db.prepare('UPDATE signer_certificates SET status = ? WHERE id = ?').run(status, certId)
}

export function findOcspRow(db: SqlReader, certId: string): OcspRow | undefined {
  return db.prepare(`SELECT ${OCSP_COLUMNS} FROM signer_ocsp_responses WHERE cert_id = ?`).get(certId) as OcspRow | undefined
}

/** Stores a verified response and clears the certificate's fetch failure. */
export function upsertOcspRow(db: SqlWriter, row: OcspRow): void {
  db.prepare(`INSERT INTO signer_ocsp_responses (cert_id, response_der, status, this_update, next_update, revocation_time, fetched_at, produced_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (cert_id) DO UPDATE SET response_der = excluded.response_der, status = excluded.status, this_update = excluded.this_update,
      next_update = excluded.next_update, revocation_time = excluded.revocation_time, fetched_at = excluded.fetched_at,
      produced_at = excluded.produced_at`)
    .run(row.certId, row.responseDer, row.status, row.thisUpdate, row.nextUpdate, row.revocationTime, row.fetchedAt, row.producedAt)
  db.prepare('DELETE FROM signer_ocsp_failures WHERE cert_id = ?').run(row.certId)
}

export function findOcspFailure(db: SqlReader, certId: string): OcspFailureRow | undefined {
  return db.prepare('SELECT cert_id AS "certId", error, failed_at AS "failedAt" FROM signer_ocsp_failures WHERE cert_id = ?').get(certId) as
    OcspFailureRow | undefined
}

export function upsertOcspFailure(db: SqlWriter, row: OcspFailureRow): void {
  db.prepare(`INSERT INTO signer_ocsp_failures (cert_id, error, failed_at) VALUES (?, ?, ?)
    ON CONFLICT (cert_id) DO UPDATE SET error = excluded.error, failed_at = excluded.failed_at`).run(row.certId, row.error, row.failedAt)
}

/** Intermediate CA certificates of an own certificate, leaf's issuer first. */
export function listChainCertificates(db: SqlReader, certId: string): Buffer[] {
  return (db.prepare('SELECT cert_der AS "certDer" FROM signer_certificate_chains WHERE cert_id = ? ORDER BY position').all(certId) as Array<{ certDer: Buffer }>)
    .map((r) => r.certDer)
}

export function insertChainCertificates(db: SqlWriter, certId: string, chain: readonly Uint8Array[]): void {
  const insert = db.prepare('INSERT INTO signer_certificate_chains (cert_id, position, cert_der) VALUES (?, ?, ?)')
  chain.forEach((der, index) => insert.run(certId, index + 1, Buffer.from(der)))
}

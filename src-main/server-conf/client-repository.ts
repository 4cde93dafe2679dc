import type { SqlReader, SqlWriter } from '../platform'

/** Rows of `clients` and `client_is_certificates`; identifiers are stored in `encodeIdentifier` form. */
export interface ClientRow {
  id: number
  identifier: string
  state: string
  is_authentication: string
  created_at: string
}

export interface IsCertificateRow {
  sha256: string
  der: Buffer
  added_at: string
}

const CLIENT_COLUMNS = 'id, identifier, state, is_authentication, created_at'

export function insertClient(db: SqlWriter, identifier: string, state: string, at: string): number {
  const row = db
    .prepare('INSERT INTO clients (identifier, state, is_authentication, created_at) VALUES (?, ?, ?, ?) RETURNING id')
    .get(identifier, state, 'NOSSL', at) as { id: number }
  return row.id
}

export function findClientRow(db: SqlReader, identifier: string): ClientRow | undefined {
  return db.prepare(`SELECT ${CLIENT_COLUMNS} FROM clients WHERE identifier = ?`).get(identifier) as ClientRow | undefined
}

export function listClientRows(db: SqlReader): ClientRow[] {
  return db.prepare(`SELECT ${CLIENT_COLUMNS} FROM clients ORDER BY identifier`).all() as ClientRow[]
}

export function updateClientState(db: SqlWriter, id: number, state: string): void {
  db.prepare('UPDATE clients SET state = ? WHERE id = ?').run(state, id)
}

/** Deletes the client; its IS certificates, services (with endpoints and access rights) and local groups go with it (ON DELETE CASCADE). */
export function deleteClientRow(db: SqlWriter, id: number): void {
  db.prepare('DELETE FROM clients WHERE id = ?').run(id)
}

export function countIsCertificates(db: SqlReader, clientRowId: number): number {
  return (db.prepare('SELECT COUNT(*) AS n FROM client_is_certificates WHERE client_id = ?').get(clientRowId) as { n: number }).n
}

export function updateClientIsAuthentication(db: SqlWriter, id: number, mode: string): void {
  db.prepare('UPDATE clients SET is_authentication = ? WHERE id = ?').run(mode, id)
}

/** Returns false when the certificate was already there. */
export function insertIsCertificate(db: SqlWriter, clientRowId: number, sha256: string, der: Uint8Array, at: string): boolean {
  const result = db
    .prepare('INSERT INTO client_is_certificates (client_id, sha256, der, added_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING')
    .run(clientRowId, sha256, Buffer.from(der), at)
  return result.changes === 1
}

export function deleteIsCertificate(db: SqlWriter, clientRowId: number, sha256: string): boolean {
  return db.prepare('DELETE FROM client_is_certificates WHERE client_id = ? AND sha256 = ?').run(clientRowId, sha256).changes === 1
}

export function listIsCertificateRows(db: SqlReader, clientRowId: number): IsCertificateRow[] {
  return db
    .prepare('SELECT sha256, der, added_at FROM client_is_certificates WHERE client_id = ? ORDER BY id')
    .all(clientRowId) as IsCertificateRow[]
}

import type { SqlReader, SqlWriter } from '../platform'

/** Rows of `service_descriptions` (X-Road serverconf `servicedescription`). */
export interface ServiceDescriptionRow {
  id: number
  client_id: number
  client_identifier: string
  type: string
  url: string
  document: Uint8Array | null
  disabled: number
  disabled_notice: string | null
  refreshed_at: string
  created_at: string
}

const DESCRIPTION_SELECT = `SELECT d.id, d.client_id, c.identifier AS client_identifier, d.type, d.url, d.document, d.disabled, d.disabled_notice,
  d.refreshed_at, d.created_at FROM service_descriptions d JOIN clients c ON c.id = d.client_id`

export function insertServiceDescription(
  db: SqlWriter,
  description: { clientRowId: number; type: string; url: string; document: Uint8Array | null; disabled: boolean; disabledNotice: string | null },
  at: string,
): number {
  const row = db
    .prepare(`INSERT INTO service_descriptions (client_id, type, url, document, disabled, disabled_notice, refreshed_at, created_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`)
    .get(description.clientRowId, description.type, description.url, description.document, description.disabled ? 1 : 0, description.disabledNotice, at, at) as { id: number }
  return row.id
}

export function findServiceDescriptionRow(db: SqlReader, id: number): ServiceDescriptionRow | undefined {
  return db.prepare(`${DESCRIPTION_SELECT} WHERE d.id = ?`).get(id) as ServiceDescriptionRow | undefined
}

export function listServiceDescriptionRows(db: SqlReader, clientIdentifier?: string): ServiceDescriptionRow[] {
  return clientIdentifier === undefined
    ? (db.prepare(`${DESCRIPTION_SELECT} ORDER BY c.identifier, d.id`).all() as ServiceDescriptionRow[])
    : (db.prepare(`${DESCRIPTION_SELECT} WHERE c.identifier = ? ORDER BY d.id`).all(clientIdentifier) as ServiceDescriptionRow[])
}

export function updateServiceDescriptionState(db: SqlWriter, id: number, disabled: boolean, notice: string | null): void {
  db.prepare('UPDATE service_descriptions SET disabled = ?, disabled_notice = ? WHERE id = ?').run(disabled ? 1 : 0, notice, id)
}

export function updateServiceDescriptionSource(db: SqlWriter, id: number, url: string, document: Uint8Array | null, refreshedAt: string): void {
  db.prepare('UPDATE service_descriptions SET url = ?, document = ?, refreshed_at = ? WHERE id = ?').run(url, document, refreshedAt, id)
}

/** Deletes the description; its services, their endpoints and access rights go with it (ON DELETE CASCADE). */
export function deleteServiceDescriptionRow(db: SqlWriter, id: number): void {
  db.prepare('DELETE FROM service_descriptions WHERE id = ?').run(id)
}

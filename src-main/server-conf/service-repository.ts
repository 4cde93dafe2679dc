import type { SqlReader, SqlWriter } from '../platform'

/** Rows of `services` (with their description's type and state) and `endpoints`. */
export interface ServiceRow {
  id: number
  client_id: number
  client_identifier: string
  description_id: number
  description_type: string
  service_code: string
  /** '' when the service has no version. */
  service_version: string
  title: string | null
  url: string
  timeout_seconds: number
  ssl_verify: number
  disabled: number
  disabled_notice: string | null
}

export interface EndpointRow {
  id: number
  service_id: number
  method: string
  path: string
  generated: number
}

const SERVICE_SELECT = `SELECT s.id, s.client_id, c.identifier AS client_identifier, s.description_id, d.type AS description_type, s.service_code,
  s.service_version, s.title, s.url, s.timeout_seconds, s.ssl_verify, d.disabled, d.disabled_notice
  FROM services s JOIN clients c ON c.id = s.client_id JOIN service_descriptions d ON d.id = s.description_id`

export interface NewServiceRow {
  clientRowId: number
  descriptionRowId: number
  code: string
  version: string
  title: string | null
  url: string
  timeoutSeconds: number
  sslVerify: boolean
}

export function insertService(db: SqlWriter, service: NewServiceRow, at: string): number {
  const row = db
    .prepare(`INSERT INTO services (client_id, description_id, service_code, service_version, title, url, timeout_seconds, ssl_verify, created_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`)
    .get(service.clientRowId, service.descriptionRowId, service.code, service.version, service.title, service.url, service.timeoutSeconds,
      service.sslVerify ? 1 : 0, at) as { id: number }
  return row.id
}

/** The service with this code and version ('' for none) of a client: X-Road names a service by both. */
export function findServiceRow(db: SqlReader, clientIdentifier: string, code: string, version: string): ServiceRow | undefined {
  return db.prepare(`${SERVICE_SELECT} WHERE c.identifier = ? AND s.service_code = ? AND s.service_version = ?`).get(clientIdentifier, code, version) as
    | ServiceRow
    | undefined
}

export function listServiceRows(db: SqlReader, clientIdentifier?: string): ServiceRow[] {
  return clientIdentifier === undefined
    ? (db.prepare(`${SERVICE_SELECT} ORDER BY c.identifier, s.service_code, s.service_version`).all() as ServiceRow[])
    : (db.prepare(`${SERVICE_SELECT} WHERE c.identifier = ? ORDER BY s.service_code, s.service_version`).all(clientIdentifier) as ServiceRow[])
}

export function listServiceRowsOfDescription(db: SqlReader, descriptionRowId: number): ServiceRow[] {
  return db.prepare(`${SERVICE_SELECT} WHERE s.description_id = ? ORDER BY s.service_code, s.service_version`).all(descriptionRowId) as ServiceRow[]
}

export function updateService(db: SqlWriter, id: number, changes: { url: string; timeoutSeconds: number; sslVerify: boolean }): void {
  db.prepare('UPDATE services SET url = ?, timeout_seconds = ?, ssl_verify = ? WHERE id = ?').run(
    changes.url,
    changes.timeoutSeconds,
    changes.sslVerify ? 1 : 0,
    id,
  )
}

export function updateServiceCode(db: SqlWriter, id: number, code: string): void {
  db.prepare('UPDATE services SET service_code = ? WHERE id = ?').run(code, id)
}

export function updateServiceTitle(db: SqlWriter, id: number, title: string | null): void {
  db.prepare('UPDATE services SET title = ? WHERE id = ?').run(title, id)
}

export function insertEndpoint(db: SqlWriter, serviceRowId: number, method: string, path: string, generated: boolean): number {
  const row = db
    .prepare('INSERT INTO endpoints (service_id, method, path, generated) VALUES (?, ?, ?, ?) RETURNING id')
    .get(serviceRowId, method, path, generated ? 1 : 0) as { id: number }
  return row.id
}

export function findEndpointRow(db: SqlReader, serviceRowId: number, method: string, path: string): EndpointRow | undefined {
  return db
    .prepare('SELECT id, service_id, method, path, generated FROM endpoints WHERE service_id = ? AND method = ? AND path = ?')
    .get(serviceRowId, method, path) as EndpointRow | undefined
}

export function listEndpointRows(db: SqlReader, serviceRowId: number): EndpointRow[] {
  return db
    .prepare('SELECT id, service_id, method, path, generated FROM endpoints WHERE service_id = ? ORDER BY id')
    .all(serviceRowId) as EndpointRow[]
}

/** Deletes the service; its endpoints and their access rights go with it (ON DELETE CASCADE). */
export function deleteServiceRow(db: SqlWriter, id: number): void {
  db.prepare('DELETE FROM services WHERE id = ?').run(id)
}

export function updateEndpointRow(db: SqlWriter, id: number, method: string, path: string): void {
  db.prepare('UPDATE endpoints SET method = ?, path = ? WHERE id = ?').run(method, path, id)
}

export function setEndpointGenerated(db: SqlWriter, id: number, generated: boolean): void {
  db.prepare('UPDATE endpoints SET generated = ? WHERE id = ?').run(generated ? 1 : 0, id)
}

/** Deletes the endpoint; its access rights go with it (ON DELETE CASCADE). */
export function deleteEndpointRow(db: SqlWriter, id: number): void {
  db.prepare('DELETE FROM endpoints WHERE id = ?').run(id)
}

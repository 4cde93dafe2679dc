import type { ReadableDb, WritableDb } from '../platform'

/** Rows of `services` and `endpoints`. */
export interface ServiceRow {
  id: number
  client_id: number
  client_identifier: string
  service_code: string
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

const SERVICE_SELECT = `SELECT s.id, s.client_id, c.identifier AS client_identifier, s.service_code, s.url, s.timeout_seconds,
  s.ssl_verify, s.disabled, s.disabled_notice FROM services s JOIN clients c ON c.id = s.client_id`

export function insertService(
  db: WritableDb,
  service: { clientRowId: number; code: string; url: string; timeoutSeconds: number; sslVerify: boolean },
  at: string,
): number {
  const result = db
    .prepare('INSERT INTO services (client_id, service_code, url, timeout_seconds, ssl_verify, created_at) VALUES (?, ?, ?, ?, ?, ?)')
    .run(service.clientRowId, service.code, service.url, service.timeoutSeconds, service.sslVerify ? 1 : 0, at)
  return Number(result.lastInsertRowid)
}

export function findServiceRow(db: ReadableDb, clientIdentifier: string, code: string): ServiceRow | undefined {
  return db.prepare(`${SERVICE_SELECT} WHERE c.identifier = ? AND s.service_code = ?`).get(clientIdentifier, code) as
    | ServiceRow
    | undefined
}

export function listServiceRows(db: ReadableDb, clientIdentifier?: string): ServiceRow[] {
  return clientIdentifier === undefined
    ? (db.prepare(`${SERVICE_SELECT} ORDER BY c.identifier, s.service_code`).all() as ServiceRow[])
    : (db.prepare(`${SERVICE_SELECT} WHERE c.identifier = ? ORDER BY s.service_code`).all(clientIdentifier) as ServiceRow[])
}

export function updateService(
  db: WritableDb,
  id: number,
  changes: { url: string; timeoutSeconds: number; sslVerify: boolean; disabled: boolean; disabledNotice: string | null },
): void {
  db.prepare('UPDATE services SET url = ?, timeout_seconds = ?, ssl_verify = ?, disabled = ?, disabled_notice = ? WHERE id = ?').run(
    changes.url,
    changes.timeoutSeconds,
    changes.sslVerify ? 1 : 0,
    changes.disabled ? 1 : 0,
    changes.disabledNotice,
    id,
  )
}

export function insertEndpoint(db: WritableDb, serviceRowId: number, method: string, path: string, generated: boolean): number {
  const result = db
    .prepare('INSERT INTO endpoints (service_id, method, path, generated) VALUES (?, ?, ?, ?)')
    .run(serviceRowId, method, path, generated ? 1 : 0)
  return Number(result.lastInsertRowid)
}

export function findEndpointRow(db: ReadableDb, serviceRowId: number, method: string, path: string): EndpointRow | undefined {
  return db
    .prepare('SELECT id, service_id, method, path, generated FROM endpoints WHERE service_id = ? AND method = ? AND path = ?')
    .get(serviceRowId, method, path) as EndpointRow | undefined
}

export function listEndpointRows(db: ReadableDb, serviceRowId: number): EndpointRow[] {
  return db
    .prepare('SELECT id, service_id, method, path, generated FROM endpoints WHERE service_id = ? ORDER BY id')
    .all(serviceRowId) as EndpointRow[]
}

/** Deletes the service; its endpoints and their access rights go with it (ON DELETE CASCADE). */
export function deleteServiceRow(db: WritableDb, id: number): void {
  db.prepare('DELETE FROM services WHERE id = ?').run(id)
}

export function updateEndpointRow(db: WritableDb, id: number, method: string, path: string): void {
  db.prepare('UPDATE endpoints SET method = ?, path = ? WHERE id = ?').run(method, path, id)
}

/** Deletes the endpoint; its access rights go with it (ON DELETE CASCADE). */
export function deleteEndpointRow(db: WritableDb, id: number): void {
  db.prepare('DELETE FROM endpoints WHERE id = ?').run(id)
}

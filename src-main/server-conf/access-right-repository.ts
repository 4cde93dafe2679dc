import type { SqlReader, SqlWriter } from '../platform'

/** Rows of `access_rights`, each on one endpoint of a service. */
export interface AccessRightRow {
  endpoint_id: number
  method: string
  path: string
  subject: string
  granted_at: string
}

/** Returns false when the right already existed. */
export function insertAccessRight(db: SqlWriter, endpointId: number, subject: string, at: string): boolean {
  return (
    db.prepare('INSERT INTO access_rights (endpoint_id, subject, granted_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING').run(endpointId, subject, at)
      .changes === 1
  )
}

export function deleteAccessRight(db: SqlWriter, endpointId: number, subject: string): boolean {
  return db.prepare('DELETE FROM access_rights WHERE endpoint_id = ? AND subject = ?').run(endpointId, subject).changes === 1
}

export function listAccessRightRows(db: SqlReader, serviceRowId: number): AccessRightRow[] {
  return db
    .prepare(
      `SELECT a.endpoint_id, e.method, e.path, a.subject, a.granted_at FROM access_rights a
       JOIN endpoints e ON e.id = a.endpoint_id WHERE e.service_id = ? ORDER BY a.id`,
    )
    .all(serviceRowId) as AccessRightRow[]
}

export function countAccessRightsOfEndpoint(db: SqlReader, endpointId: number): number {
  return (db.prepare('SELECT COUNT(*) AS n FROM access_rights WHERE endpoint_id = ?').get(endpointId) as { n: number }).n
}

/** Removes the rights naming `subject` on the services of one client (`clientRowId`), or of every client; returns how many. */
export function deleteAccessRightsOfSubject(db: SqlWriter, subject: string, clientRowId?: number): number {
  if (clientRowId === undefined) return db.prepare('DELETE FROM access_rights WHERE subject = ?').run(subject).changes
  return db
    .prepare(
      `DELETE FROM access_rights WHERE subject = ? AND endpoint_id IN
         (SELECT e.id FROM endpoints e JOIN services s ON s.id = e.service_id WHERE s.client_id = ?)`,
    )
    .run(subject, clientRowId).changes
}

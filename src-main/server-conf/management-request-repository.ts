import type { SqlReader, SqlWriter } from '../platform'

/** Rows of `management_requests` (migration 0006). */
export interface ManagementRequestRow {
  id: number
  service: string
  subject: string
  detail: string | null
  message_id: string
  request_id: number | null
  sent_at: string
  sent_by: string | null
  status: 'SUBMITTED' | 'CONFIRMED' | 'SUPERSEDED'
  settled_at: string | null
}

const COLUMNS = 'id, service, subject, detail, message_id, request_id, sent_at, sent_by, status, settled_at'

export interface NewManagementRequestRow {
  service: string
  subject: string
  detail?: string
  messageId: string
  requestId?: number
  sentAt: string
  sentBy?: string
}

/**
 * Stores an accepted request; earlier open requests on the same subject and of the same kinds (`supersedes`) are
 * closed as SUPERSEDED, so at most one of them is open per subject.
 */
export function insertManagementRequest(db: SqlWriter, row: NewManagementRequestRow, supersedes: readonly string[]): number {
  if (supersedes.length > 0) {
    db.prepare(`UPDATE management_requests SET status = 'SUPERSEDED', settled_at = ? WHERE subject = ? AND status = 'SUBMITTED' AND service IN (${supersedes.map(() => '?').join(', ')})`)
      .run(row.sentAt, row.subject, ...supersedes)
  }
  const inserted = db.prepare(`INSERT INTO management_requests (service, subject, detail, message_id, request_id, sent_at, sent_by, status)
    VALUES (?, ?, ?, ?, ?, ?, ?, 'SUBMITTED') RETURNING id`)
    .get(row.service, row.subject, row.detail ?? null, row.messageId, row.requestId ?? null, row.sentAt, row.sentBy ?? null) as { id: number }
  return inserted.id
}

/** Newest first. */
export function listManagementRequestRows(db: SqlReader, options: { subject?: string; openOnly?: boolean; limit?: number } = {}): ManagementRequestRow[] {
  const where: string[] = []
  const args: Array<string | number> = []
  if (options.subject !== undefined) {
    where.push('subject = ?')
    args.push(options.subject)
  }
  if (options.openOnly === true) where.push("status = 'SUBMITTED'")
  const sql = `SELECT ${COLUMNS} FROM management_requests${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`
  return db.prepare(sql).all(...args, options.limit ?? 1000) as ManagementRequestRow[]
}

export function getManagementRequestRow(db: SqlReader, id: number): ManagementRequestRow | undefined {
  return db.prepare(`SELECT ${COLUMNS} FROM management_requests WHERE id = ?`).get(id) as ManagementRequestRow | undefined
}

export function settleManagementRequest(db: SqlWriter, id: number, status: 'CONFIRMED' | 'SUPERSEDED', at: string): void {
  db.prepare("UPDATE management_requests SET status = ?, settled_at = ? WHERE id = ? AND status = 'SUBMITTED'").run(status, at, id)
}

import type { ReadableDb, WritableDb } from '../platform'

export interface AuditEntry {
  id: number
  at: string
  actor: string
  event: string
  outcome: 'success' | 'failure'
  data: Record<string, unknown>
  errorCode: string | null
}

export function appendAuditEntry(db: WritableDb, entry: Omit<AuditEntry, 'id'>): number {
  const result = db
    .prepare('INSERT INTO audit_log (at, actor, event, outcome, data, error_code) VALUES (?, ?, ?, ?, ?, ?)')
    .run(entry.at, entry.actor, entry.event, entry.outcome, JSON.stringify(entry.data), entry.errorCode)
  return Number(result.lastInsertRowid)
}

export function listAuditEntries(db: ReadableDb, query: { from?: string; to?: string; limit?: number } = {}): AuditEntry[] {
  const rows = db
    .prepare(
      `SELECT id, at, actor, event, outcome, data, error_code FROM audit_log
       WHERE at >= ? AND at <= ? ORDER BY id DESC LIMIT ?`,
    )
    .all(query.from ?? '', query.to ?? '9999', query.limit ?? 500) as Array<{
    id: number
    at: string
    actor: string
    event: string
    outcome: 'success' | 'failure'
    data: string
    error_code: string | null
  }>
  return rows.map((r) => ({ id: r.id, at: r.at, actor: r.actor, event: r.event, outcome: r.outcome, data: JSON.parse(r.data), errorCode: r.error_code }))
}

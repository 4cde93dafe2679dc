import type { AlertCode, AlertDto, AlertSeverity } from '@shared/admin-api/operations-api'
import type { ReadableDb, WritableDb } from '../platform'

/** SQL of the alerts domain: the `alerts` rows and the settings document (serverconf.sqlite). */
interface AlertRow {
  id: string
  code: string
  severity: string
  params: string
  message: string
  raised_at: string
  cleared_at: string | null
  acknowledged_at: string | null
  acknowledged_by: string | null
}

const SELECT = 'SELECT id, code, severity, params, message, raised_at, cleared_at, acknowledged_at, acknowledged_by FROM alerts'

function fromRow(r: AlertRow): AlertDto {
  return {
    id: r.id, code: r.code as AlertCode, severity: r.severity as AlertSeverity, params: JSON.parse(r.params) as AlertDto['params'],
    message: r.message, raisedAt: r.raised_at, clearedAt: r.cleared_at, acknowledgedAt: r.acknowledged_at, acknowledgedBy: r.acknowledged_by,
  }
}

/** Alerts whose condition lasts, newest first. */
export function listActiveAlerts(db: ReadableDb): AlertDto[] {
  return (db.prepare(`${SELECT} WHERE cleared_at IS NULL ORDER BY raised_at DESC, row_id DESC`).all() as AlertRow[]).map(fromRow)
}

/** Alerts cleared at or after `sinceIso`, most recently cleared first, at most `limit`. */
export function listClearedAlerts(db: ReadableDb, sinceIso: string, limit: number): AlertDto[] {
  return (db.prepare(`${SELECT} WHERE cleared_at >= ? ORDER BY cleared_at DESC, row_id DESC LIMIT ?`).all(sinceIso, limit) as AlertRow[]).map(fromRow)
}

export function findActiveAlert(db: ReadableDb, id: string): AlertDto | undefined {
  const row = db.prepare(`${SELECT} WHERE id = ? AND cleared_at IS NULL`).get(id) as AlertRow | undefined
  return row === undefined ? undefined : fromRow(row)
}

export function insertAlert(db: WritableDb, alert: AlertDto): void {
  db.prepare(
    `INSERT INTO alerts (id, code, severity, params, message, raised_at, cleared_at, acknowledged_at, acknowledged_by)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(alert.id, alert.code, alert.severity, JSON.stringify(alert.params), alert.message, alert.raisedAt, alert.clearedAt, alert.acknowledgedAt, alert.acknowledgedBy)
}

/** New facts of a lasting condition (a time left, an error text). */
export function updateActiveAlert(db: WritableDb, id: string, params: AlertDto['params'], message: string): void {
  db.prepare('UPDATE alerts SET params = ?, message = ? WHERE id = ? AND cleared_at IS NULL').run(JSON.stringify(params), message, id)
}

export function clearAlert(db: WritableDb, id: string, atIso: string): void {
  db.prepare('UPDATE alerts SET cleared_at = ? WHERE id = ? AND cleared_at IS NULL').run(atIso, id)
}

export function acknowledgeAlert(db: WritableDb, id: string, atIso: string, actor: string): number {
  return db.prepare('UPDATE alerts SET acknowledged_at = ?, acknowledged_by = ? WHERE id = ? AND cleared_at IS NULL').run(atIso, actor, id).changes
}

/** Deletes alerts cleared before `beforeIso`; returns how many went. */
export function deleteClearedAlertsBefore(db: WritableDb, beforeIso: string): number {
  return db.prepare('DELETE FROM alerts WHERE cleared_at IS NOT NULL AND cleared_at < ?').run(beforeIso).changes
}

export function readAlertSetting(db: ReadableDb, name: string): string | undefined {
  return (db.prepare('SELECT value FROM alert_settings WHERE name = ?').get(name) as { value: string } | undefined)?.value
}

export function writeAlertSetting(db: WritableDb, name: string, value: string): void {
  db.prepare('INSERT INTO alert_settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value').run(name, value)
}

import type { SqlReader, SqlWriter } from '../platform'

export function readSystemParameters(db: SqlReader): Map<string, string> {
  const rows = db.prepare('SELECT name, value FROM system_parameters').all() as Array<{ name: string; value: string }>
  return new Map(rows.map((r) => [r.name, r.value]))
}

export function writeSystemParameter(db: SqlWriter, name: string, value: string, at: Date): void {
  db.prepare(
    `INSERT INTO system_parameters (name, value, updated_at) VALUES (?, ?, ?)
     ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
  ).run(name, value, at.toISOString())
}

export function deleteSystemParameter(db: SqlWriter, name: string): void {
  db.prepare('DELETE FROM system_parameters WHERE name = ?').run(name)
}

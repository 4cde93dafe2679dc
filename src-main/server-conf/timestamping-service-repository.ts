import type { SqlReader, SqlWriter } from '../platform'

/** The selected time-stamping services (TSA names from global configuration), in the order they are tried. */
export function listTimestampingServiceNames(db: SqlReader): Array<{ name: string; selectedAt: string }> {
  return db.prepare('SELECT name, selected_at AS "selectedAt" FROM timestamping_services ORDER BY position').all() as Array<{ name: string; selectedAt: string }>
}

export function replaceTimestampingServiceNames(db: SqlWriter, names: readonly string[], at: string): void {
  db.prepare('DELETE FROM timestamping_services').run()
  const insert = db.prepare('INSERT INTO timestamping_services (position, name, selected_at) VALUES (?, ?, ?)')
  names.forEach((name, index) => insert.run(index + 1, name, at))
}

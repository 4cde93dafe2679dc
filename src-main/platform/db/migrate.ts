import { SecurityServerError } from '../errors'
import type { WritableDb } from './database'

/**
 * Numbered migrations, never edited once shipped. Each component (server-conf, signer, message-log, …) owns
 * its own numbered sequence, so domains evolve their tables independently inside one database file.
 */
export interface Migration {
  /** 1, 2, 3, … within the component; the file is named `NNNN-what-it-does.ts`. */
  readonly version: number
  readonly name: string
  up(db: WritableDb): void
}

export interface MigrationSet {
  readonly component: string
  readonly migrations: readonly Migration[]
}

function ensureMigrationsTable(db: WritableDb): void {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    component TEXT NOT NULL,
    version INTEGER NOT NULL,
    name TEXT NOT NULL,
    applied_at TEXT NOT NULL,
    PRIMARY KEY (component, version)
  ) STRICT`)
}

export function appliedVersion(db: WritableDb, component: string): number {
  ensureMigrationsTable(db)
  const row = db.prepare('SELECT MAX(version) AS v FROM schema_migrations WHERE component = ?').get(component) as { v: number | null }
  return row.v ?? 0
}

/** Applies the missing migrations of each set, each in its own transaction. Returns how many ran. */
export function migrate(db: WritableDb, sets: readonly MigrationSet[]): number {
  ensureMigrationsTable(db)
  let applied = 0
  for (const set of sets) {
    checkSequence(set)
    const current = appliedVersion(db, set.component)
    const known = set.migrations.at(-1)?.version ?? 0
    if (current > known) {
      throw new SecurityServerError(
        'migration_failed',
        `Database has ${set.component} schema version ${current}, newer than this Gatehouse knows (${known})`,
      )
    }
    for (const migration of set.migrations.filter((m) => m.version > current)) {
      const record = db.prepare('INSERT INTO schema_migrations (component, version, name, applied_at) VALUES (?, ?, ?, ?)')
      try {
        db.transaction(() => {
          migration.up(db)
          record.run(set.component, migration.version, migration.name, new Date().toISOString())
        }).immediate()
      } catch (cause) {
        throw new SecurityServerError(
          'migration_failed',
          `Migration ${set.component} ${migration.version} (${migration.name}) failed: ${(cause as Error).message}`,
          { cause },
        )
      }
      applied++
    }
  }
  return applied
}

function checkSequence(set: MigrationSet): void {
  set.migrations.forEach((m, i) => {
    if (m.version !== i + 1) {
      throw new SecurityServerError('migration_failed', `Migrations of ${set.component} are not numbered 1..n (found ${m.version} at ${i + 1})`)
    }
  })
}

/** The schema version of every component in this database. */
export function schemaVersions(db: WritableDb): Array<{ component: string; version: number }> {
  ensureMigrationsTable(db)
  return db
    .prepare('SELECT component, MAX(version) AS version FROM schema_migrations GROUP BY component ORDER BY component')
    .all() as Array<{ component: string; version: number }>
}

import { SecurityServerError } from '../errors'
import { inTransaction, type WritableDb } from './database'
import { sqlEngine, type SqlWriter } from './sql'

/**
 * Numbered migrations, never edited once shipped. Each component (server-conf, signer, message-log, …) owns
 * its own numbered sequence, so domains evolve their tables independently inside one database file.
 *
 * A component whose tables may live in PostgreSQL (issue 18: server-conf) gives each migration its PostgreSQL form
 * too, under the same number: `up` is SQLite's DDL, `upPostgres` PostgreSQL's, and both leave the same tables, columns
 * and constraints for the repositories' portable SQL. Migrating a PostgreSQL database through a migration without
 * that form is refused.
 */
export interface Migration {
  /** 1, 2, 3, … within the component; the file is named `NNNN-what-it-does.ts`. */
  readonly version: number
  readonly name: string
  up(db: WritableDb): void
  upPostgres?(db: SqlWriter): void
}

export interface MigrationSet {
  readonly component: string
  readonly migrations: readonly Migration[]
}

function ensureMigrationsTable(db: SqlWriter): void {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    component TEXT NOT NULL,
    version INTEGER NOT NULL,
    name TEXT NOT NULL,
    applied_at TEXT NOT NULL,
    PRIMARY KEY (component, version)
  )${sqlEngine(db) === 'sqlite' ? ' STRICT' : ''}`)
}

export function appliedVersion(db: SqlWriter, component: string): number {
  ensureMigrationsTable(db)
  return currentVersion(db, component)
}

function currentVersion(db: SqlWriter, component: string): number {
  const row = db.prepare('SELECT MAX(version) AS v FROM schema_migrations WHERE component = ?').get(component) as { v: number | null }
  return row.v ?? 0
}

/**
 * Applies the missing migrations of each set, each in its own transaction. Returns how many ran. Each transaction
 * checks the version again, so two processes (or two cluster nodes) migrating at once apply each migration once.
 */
export function migrate(db: SqlWriter, sets: readonly MigrationSet[]): number {
  const engine = sqlEngine(db)
  ensureMigrationsTable(db)
  let applied = 0
  for (const set of sets) {
    checkSequence(set)
    const current = currentVersion(db, set.component)
    const known = set.migrations.at(-1)?.version ?? 0
    if (current > known) {
      throw new SecurityServerError(
        'migration_failed',
        `Database has ${set.component} schema version ${current}, newer than this Gatehouse knows (${known})`,
      )
    }
    for (const migration of set.migrations.filter((m) => m.version > current)) {
      const upPostgres = migration.upPostgres
      if (engine === 'postgres' && upPostgres === undefined) {
        throw new SecurityServerError('migration_failed', `Migration ${set.component} ${migration.version} (${migration.name}) has no PostgreSQL form`)
      }
      try {
        const ran = inTransaction(db, () => {
          if (currentVersion(db, set.component) >= migration.version) return false
          if (engine === 'postgres') upPostgres?.(db)
          else migration.up(db as WritableDb)
          db.prepare('INSERT INTO schema_migrations (component, version, name, applied_at) VALUES (?, ?, ?, ?)')
            .run(set.component, migration.version, migration.name, new Date().toISOString())
          return true
        })
        if (ran) applied++
      } catch (cause) {
        throw new SecurityServerError(
          'migration_failed',
          `Migration ${set.component} ${migration.version} (${migration.name}) failed: ${(cause as Error).message}`,
          { cause },
        )
      }
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
export function schemaVersions(db: SqlWriter): Array<{ component: string; version: number }> {
  ensureMigrationsTable(db)
  return db
    .prepare('SELECT component, MAX(version) AS version FROM schema_migrations GROUP BY component ORDER BY component')
    .all() as Array<{ component: string; version: number }>
}

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, it } from 'vitest'
import { findPostgresBinaries, startThrowawayPostgres, type ThrowawayPostgres } from '../../scripts/lib/throwaway-postgres'
import { closeDatabase, openDatabase, openPostgres, sqlEngine, type PostgresDb, type SqlWriter, type WritableDb } from '../../src-main/platform'
import { describeWith, type Requirement } from './requirements'

/**
 * The storage engines a repository contract suite runs on (issue 18): SQLite (a fresh file per database) and
 * PostgreSQL (a throw-away cluster per suite, scripts/lib/throwaway-postgres.ts, and a fresh schema per database).
 * Without the PostgreSQL binaries the PostgreSQL half is skipped with the reason logged — except under CI=true, where
 * the packages are installed (.ci/run) and their absence is a failure, never a silent skip.
 */
export const POSTGRESQL: Requirement = {
  missing: findPostgresBinaries() === undefined ? `PostgreSQL binaries (initdb, pg_ctl) not found ${process.env.GATEHOUSE_PG_BIN ? `in GATEHOUSE_PG_BIN=${process.env.GATEHOUSE_PG_BIN}` : 'under /usr/lib/postgresql/*/bin'}` : undefined,
  packages: ['postgresql'],
}

export interface StorageEngine {
  readonly name: 'SQLite' | 'PostgreSQL'
  /** A fresh, empty database: a new SQLite file, or a new schema in the suite's PostgreSQL cluster. */
  open(): SqlWriter
  /** Closes it (and removes the SQLite file); the PostgreSQL suite's one connection closes after the suite. */
  close(db: SqlWriter): void
}

/**
 * Declares the suite `fn` once per engine: `${name} on SQLite` and `${name} on PostgreSQL`. The PostgreSQL half
 * starts its cluster in beforeAll and stops and removes it in afterAll, so call this once per test file (wrap the
 * file's describes) to start one cluster per file.
 */
export function describeStorage(name: string, fn: (engine: StorageEngine) => void): void {
  describe(`${name} on SQLite`, () => fn(sqliteEngine()))
  const title = `${name} on PostgreSQL`
  if (POSTGRESQL.missing !== undefined && process.env.CI === 'true') {
    describe(title, () => {
      it('has PostgreSQL installed (CI runs every storage suite on both engines)', () => {
        throw new Error(`${POSTGRESQL.missing}: .ci/run installs Debian's postgresql package`)
      })
    })
    return
  }
  describeWith([POSTGRESQL], title, () => {
    let cluster: ThrowawayPostgres | undefined
    let admin: PostgresDb | undefined
    beforeAll(async () => {
      cluster = await startThrowawayPostgres({ fast: true })
      admin = openPostgres({ host: cluster.host, port: cluster.port, user: cluster.user, database: cluster.database })
    })
    afterAll(async () => {
      admin?.close()
      await cluster?.stop()
    })
    fn(postgresEngine(() => {
      if (cluster === undefined || admin === undefined) throw new Error('the PostgreSQL cluster did not start')
      return { cluster, admin }
    }))
  })
}

function sqliteEngine(): StorageEngine {
  const dirs = new Map<SqlWriter, string>()
  return {
    name: 'SQLite',
    open() {
      const dir = mkdtempSync(join(tmpdir(), 'gh-storage-'))
      const db = openDatabase(join(dir, 'serverconf.sqlite'))
      dirs.set(db, dir)
      return db
    },
    close(db) {
      closeDatabase(db as WritableDb)
      const dir = dirs.get(db)
      dirs.delete(db)
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
    },
  }
}

/**
 * One connection per suite (starting its thread and connecting costs more than the tests themselves); each `open`
 * gives it a fresh schema as its search_path, so every test starts from an empty database.
 */
function postgresEngine(started: () => { cluster: ThrowawayPostgres; admin: PostgresDb }): StorageEngine {
  let schemas = 0
  return {
    name: 'PostgreSQL',
    open() {
      const { admin } = started()
      const schema = `gh_${++schemas}`
      admin.exec(`CREATE SCHEMA ${schema}; SET search_path TO ${schema}`)
      return admin as PostgresDb & SqlWriter
    },
    close(db) {
      if (sqlEngine(db) !== 'postgres') throw new Error('not a PostgreSQL connection')
    },
  }
}

/**
 * A suite that needs a PostgreSQL server of its own (cluster-mode tests: several nodes on one database): one throw-away
 * cluster for the file, started in beforeAll and removed in afterAll; skipped with the reason without the binaries,
 * failing instead under CI=true.
 */
export function describePostgres(name: string, fn: (started: () => ThrowawayPostgres) => void): void {
  if (POSTGRESQL.missing !== undefined && process.env.CI === 'true') {
    describe(name, () => {
      it('has PostgreSQL installed (CI runs every PostgreSQL suite)', () => {
        throw new Error(`${POSTGRESQL.missing}: .ci/run installs Debian's postgresql package`)
      })
    })
    return
  }
  describeWith([POSTGRESQL], name, () => {
    let cluster: ThrowawayPostgres | undefined
    beforeAll(async () => {
      cluster = await startThrowawayPostgres({ fast: true })
    })
    afterAll(async () => {
      await cluster?.stop()
    })
    fn(() => {
      if (cluster === undefined) throw new Error('the PostgreSQL cluster did not start')
      return cluster
    })
  })
}

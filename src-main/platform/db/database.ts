import Database from 'better-sqlite3'
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { SecurityServerError } from '../errors'
import type { PostgresDb } from './postgres'
import { sqlEngine, type SqlWriter } from './sql'

/**
 * Opening SQLite databases the one way Gatehouse uses them: WAL, foreign keys on, a busy timeout, and the
 * synchronous level the database's durability promise needs (FULL for the message log, checked after opening;
 * reliability-and-security.md §6).
 */
export type ReadableDb = Database.Database & { readonly __readable: never }
export type WritableDb = ReadableDb & { readonly __writable: never }

export type SynchronousLevel = 'OFF' | 'NORMAL' | 'FULL' | 'EXTRA'
const SYNCHRONOUS_VALUES: Record<SynchronousLevel, number> = { OFF: 0, NORMAL: 1, FULL: 2, EXTRA: 3 }

export interface OpenDatabaseOptions {
  synchronous?: SynchronousLevel
  busyTimeoutMs?: number
  readonly?: boolean
  /** The connection's page cache, KiB (default `DEFAULT_PAGE_CACHE_KIB`). */
  pageCacheKiB?: number
}

/**
 * better-sqlite3 is built with a 16 MiB page cache per connection (SQLite's own default is 2 MiB). A server holds four
 * connections (server conf, message log, the log's writer thread, op-monitoring), and a message log whose
 * records are walked by the evidence check or written with large bodies fills its cache: together up to 64 MiB of
 * native memory that the operating system's file cache holds again anyway (issue 15, ≤ 200 MB per server). SQLite's
 * default is enough for our access patterns (appends at the right edge, indexed lookups, sequential walks).
 */
export const DEFAULT_PAGE_CACHE_KIB = 2048

export function openDatabase(path: string, options: OpenDatabaseOptions = {}): WritableDb {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
  let db: Database.Database
  try {
    db = new Database(path, { readonly: options.readonly ?? false })
  } catch (cause) {
    throw new SecurityServerError('database_error', `Cannot open database ${path}: ${(cause as Error).message}`, { cause })
  }
  const synchronous = options.synchronous ?? 'NORMAL'
  try {
    if (!options.readonly) db.pragma('journal_mode = WAL')
    db.pragma('foreign_keys = ON')
    db.pragma(`busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 5000)}`)
    db.pragma(`synchronous = ${synchronous}`)
    db.pragma(`cache_size = ${-Math.trunc(options.pageCacheKiB ?? DEFAULT_PAGE_CACHE_KIB)}`)
    assertPragmas(db, path, synchronous, !options.readonly && path !== ':memory:')
  } catch (error) {
    db.close()
    if (error instanceof SecurityServerError) throw error
    throw new SecurityServerError('database_error', `Cannot use database ${path}: ${(error as Error).message}`, { cause: error })
  }
  cachePreparedStatements(db)
  return db as WritableDb
}

/**
 * Repositories call `db.prepare(sql)` with constant SQL on every use; compiling it each time was a measurable share of
 * the message path. Statements are cached per database by their text (none of ours uses stateful modes such as
 * `pluck` or `raw`, and `pragma` bypasses this), bounded for safety.
 */
function cachePreparedStatements(db: Database.Database): void {
  const prepare = db.prepare.bind(db)
  const cache = new Map<string, Database.Statement>()
  db.prepare = ((sql: string) => {
    let statement = cache.get(sql)
    if (statement === undefined) {
      statement = prepare(sql)
      if (cache.size >= 1000) cache.delete(cache.keys().next().value as string)
      cache.set(sql, statement)
    }
    return statement
  }) as typeof db.prepare
}

/** Refuses a database whose durability settings did not take (e.g. WAL unsupported on the filesystem). */
function assertPragmas(db: Database.Database, path: string, synchronous: SynchronousLevel, expectWal: boolean): void {
  const journal = String(db.pragma('journal_mode', { simple: true }))
  if (expectWal && journal.toLowerCase() !== 'wal') {
    throw new SecurityServerError('database_error', `Database ${path} is not in WAL mode (journal_mode=${journal})`)
  }
  if (Number(db.pragma('foreign_keys', { simple: true })) !== 1) {
    throw new SecurityServerError('database_error', `Database ${path} does not enforce foreign keys`)
  }
  const sync = Number(db.pragma('synchronous', { simple: true }))
  if (sync !== SYNCHRONOUS_VALUES[synchronous]) {
    throw new SecurityServerError('database_error', `Database ${path} has synchronous=${sync}, expected ${synchronous}`)
  }
}

/**
 * Runs `work` in one transaction (one per use case); rolled back if it throws. On SQLite BEGIN IMMEDIATE; on
 * PostgreSQL a transaction holding the writers' advisory lock (postgres.ts), the same one-writer-at-a-time promise.
 */
export function inTransaction<T>(db: SqlWriter, work: () => T): T {
  if (sqlEngine(db) === 'postgres') return (db as unknown as PostgresDb).transaction(work)
  return (db as WritableDb).transaction(work).immediate()
}

/** `PRAGMA integrity_check`: 'ok' or the list of problems SQLite found. */
export function integrityCheck(db: ReadableDb): string[] {
  const rows = db.pragma('integrity_check') as Array<{ integrity_check: string }>
  return rows.map((r) => r.integrity_check)
}

/** Online backup through SQLite's backup API: consistent while the server keeps writing. */
export async function backupDatabase(db: ReadableDb, destination: string): Promise<void> {
  mkdirSync(dirname(destination), { recursive: true })
  await db.backup(destination)
}

export function closeDatabase(db: ReadableDb): void {
  if (!db.open) return
  try {
    db.pragma('wal_checkpoint(TRUNCATE)')
  } finally {
    db.close()
  }
}

const SYNCHRONOUS_NAMES: SynchronousLevel[] = ['OFF', 'NORMAL', 'FULL', 'EXTRA']

/** The durability settings in force, as the diagnostics show them. */
export function databaseSettings(db: ReadableDb): { journalMode: string; synchronous: SynchronousLevel | 'unknown' } {
  return {
    journalMode: String(db.pragma('journal_mode', { simple: true })),
    synchronous: SYNCHRONOUS_NAMES[Number(db.pragma('synchronous', { simple: true }))] ?? 'unknown',
  }
}

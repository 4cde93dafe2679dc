import type { PostgresDb } from './postgres'
import { sqlEngine, type SqlReader, type SqlStatement } from './sql'

/**
 * Values derived from a database, reused while the database is provably unchanged (issue 15 §2 "nothing looked up
 * twice"). Two counters tell whether it changed, both SQLite's, neither reading a table:
 * - `total_changes()`: every row this connection inserted, updated or deleted, whoever in this process did so through
 *   it (an admin call, the signer, the periodic work). Asked on every use: it reads a field of the connection
 *   (~0.3 µs), so a write through this connection is seen by the very next use, in program order, with no window.
 * - `PRAGMA data_version`: moves when another connection — another process (the CLI), or a restored database file —
 *   committed. Asking it opens a read transaction on the WAL index (~7 µs, most of what the cache cost per use), so it
 *   is asked once per run of synchronous code: at the first use after the microtask queue drained past the previous
 *   probe (a queued microtask marks the answer stale). Why no change is missed: a commit by another connection is
 *   ordered with this process only through I/O (the CLI's exit, a request arriving after it), and every I/O callback
 *   starts a new macrotask, by which time the stale-mark has run; so a message that arrives after such a commit, or
 *   any code that learnt of it, probes again before its first lookup. A commit that lands while synchronous code of this
 *   process runs is concurrent with that code, which could as well have read just before it: SQLite itself gives a
 *   statement the database as of its start.
 * Either counter moving drops every value. Values must be treated as read-only by their users.
 *
 * On PostgreSQL (issue 18) there is no such counter to ask; the connection's own `changeStamp()` stands in for it
 * (postgres.ts: every write through this connection moves it; in cluster mode, notifications of other nodes' writes
 * will too), and asking it is a read of memory, not a round trip.
 */
const CHANGES_SQL = 'SELECT total_changes() AS changes'
const VERSION_SQL = 'SELECT data_version AS version FROM pragma_data_version'

/** What the cache counts (tests and the bench prove the reductions with it). */
export interface DerivedCacheStats {
  /** Uses answered from memory. */
  hits: number
  /** Values computed (from SQL). */
  misses: number
  /** Times the database had changed since the last use. */
  invalidations: number
  /** Times `data_version` was asked (at most once per run of synchronous code). */
  versionProbes: number
}

export class DatabaseDerivedCache {
  private stamp: string | undefined
  private readonly values = new Map<string, unknown>()
  readonly stats: DerivedCacheStats = { hits: 0, misses: 0, invalidations: 0, versionProbes: 0 }

  private readonly postgres: PostgresDb | undefined
  /** SQLite: the two probes, prepared once (preparing costs more than running them). */
  private readonly changesProbe: SqlStatement | undefined
  private readonly versionProbe: SqlStatement | undefined
  /** `data_version` as last asked, and whether that answer still stands (until the microtask queue drains past it). */
  private version = 0
  private versionCurrent = false
  private readonly markVersionStale = (): void => {
    this.versionCurrent = false
  }

  constructor(db: SqlReader, private readonly capacity = 10_000) {
    this.postgres = sqlEngine(db) === 'postgres' ? (db as unknown as PostgresDb) : undefined
    if (this.postgres === undefined) {
      this.changesProbe = db.prepare(CHANGES_SQL)
      this.versionProbe = db.prepare(VERSION_SQL)
    }
  }

  private currentStamp(): string {
    if (this.postgres !== undefined) return this.postgres.changeStamp()
    const changes = (this.changesProbe?.get() as { changes: number }).changes
    if (!this.versionCurrent) {
      this.version = (this.versionProbe?.get() as { version: number }).version
      this.stats.versionProbes++
      this.versionCurrent = true
      queueMicrotask(this.markVersionStale)
    }
    return `${changes}:${this.version}`
  }

  /** The value under `key`, computed by `compute` (which reads the database) when the database changed since. */
  get<T>(key: string, compute: () => T): T {
    const stamp = this.currentStamp()
    if (stamp !== this.stamp) {
      if (this.stamp !== undefined) this.stats.invalidations++
      this.values.clear()
      this.stamp = stamp
    }
    if (this.values.has(key)) {
      this.stats.hits++
      return this.values.get(key) as T
    }
    this.stats.misses++
    const value = compute()
    if (this.values.size >= this.capacity) this.values.clear()
    this.values.set(key, value)
    return value
  }

  /** Drops the value under `key` (only while it is still `expected`, when given): it turned out unusable. */
  delete(key: string, expected?: unknown): void {
    if (expected === undefined || this.values.get(key) === expected) this.values.delete(key)
  }

  /** Drops every value (a change the database does not show, e.g. the live runtime re-deriving). */
  clear(): void {
    this.values.clear()
    this.stamp = undefined
  }
}

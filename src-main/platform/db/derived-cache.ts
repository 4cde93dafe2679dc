import type { PostgresDb } from './postgres'
import { sqlEngine, type SqlReader } from './sql'

/**
 * Values derived from a database, reused while the database is provably unchanged (issue 15 §2 "nothing looked up
 * twice"). Each use asks SQLite — one statement, no table read — for the connection's `total_changes()` (every row
 * this connection inserted, updated or deleted, whoever on it did so) and `PRAGMA data_version` (changes every time
 * another connection, in this process or another, committed). Either moving drops every value, so a change made by
 * an admin call, a CLI in another process or a restored backup is seen by the very next use: nothing here waits for
 * an event to arrive. Values must be treated as read-only by their users.
 *
 * On PostgreSQL (issue 18) there is no such counter to ask; the connection's own `changeStamp()` stands in for it
 * (postgres.ts: every write through this connection moves it; in cluster mode so does each notification of another
 * node's write, and every use while the nodes' change feed is down), and asking it is a read of memory, not a round trip.
 */
const STAMP_SQL = 'SELECT total_changes() AS changes, data_version AS version FROM pragma_data_version'

/** What the cache counts (tests and the bench prove the reductions with it). */
export interface DerivedCacheStats {
  /** Uses answered from memory. */
  hits: number
  /** Values computed (from SQL). */
  misses: number
  /** Times the database had changed since the last use. */
  invalidations: number
}

export class DatabaseDerivedCache {
  private stamp: string | undefined
  private readonly values = new Map<string, unknown>()
  readonly stats: DerivedCacheStats = { hits: 0, misses: 0, invalidations: 0 }

  private readonly postgres: PostgresDb | undefined

  constructor(private readonly db: SqlReader, private readonly capacity = 10_000) {
    this.postgres = sqlEngine(db) === 'postgres' ? (db as unknown as PostgresDb) : undefined
  }

  /** The value under `key`, computed by `compute` (which reads the database) when the database changed since. */
  get<T>(key: string, compute: () => T): T {
    let stamp: string
    if (this.postgres === undefined) {
      const row = this.db.prepare(STAMP_SQL).get() as { changes: number; version: number }
      stamp = `${row.changes}:${row.version}`
    } else {
      stamp = this.postgres.changeStamp()
    }
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

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
 *   is asked once per run of synchronous code and connection (for all caches on it): at the first use after the
 *   microtask queue drained past the previous probe (a queued microtask marks the answer stale). Why no change is
 *   missed: a commit by another connection is ordered with this process only through I/O (the CLI's exit, a request
 *   arriving after it), and every I/O callback starts a new macrotask, by which time the stale-mark has run; so a
 *   message that arrives after such a commit, or any code that learnt of it, probes again before its first lookup. A
 *   commit that lands while synchronous code of this process runs is concurrent with that code, which could as well
 *   have read just before it: SQLite itself gives a statement the database as of its start.
 * Either counter moving drops every value. Values must be treated as read-only by their users.
 *
 * Per message (issue 15 §5): a message's lookups fall in several runs of synchronous code (a check as the request
 * arrives, the access check after the TLS peer check, the service address after the log record), and each would ask
 * `data_version` again. A `DerivedCacheScope` (one per message, `newDerivedCacheScope`) asks it at the message's first
 * lookup only, as above; its later lookups take the newest answer this connection has had since (any message's), which
 * is at least as new as the message's own first one — `data_version` only grows. What the rule above promises still
 * holds: a commit by another connection that this process could know of before a message arrived is seen by all that
 * message's lookups, since the first one probed after that arrival. A commit landing while a message is under way is
 * concurrent with it: its later lookups may or may not see it (they see it once any message probed after it), and the
 * next message sees it. `total_changes()` is still asked on every use: writes through this connection apply at once.
 *
 * On PostgreSQL (issue 18) there is no such counter to ask; the connection's own `changeStamp()` stands in for it
 * (postgres.ts: every write through this connection moves it; in cluster mode so does each notification of another
 * node's write, and every use while the nodes' change feed is down), and asking it is a read of memory, not a round trip.
 */
const CHANGES_SQL = 'SELECT total_changes() AS changes'
// The PRAGMA itself: a quarter cheaper than the same value through the `pragma_data_version` table-valued function.
const VERSION_SQL = 'PRAGMA data_version'

/**
 * The probe statements return their one value, no row object (better-sqlite3's `pluck`: a third of the probe's cost
 * for `total_changes()`, asked on every use). Prepared statements are shared by their text (database.ts), and these two
 * texts are used here only.
 */
function plucked(db: SqlReader, sql: string): SqlStatement {
  return (db.prepare(sql) as SqlStatement & { pluck(): SqlStatement }).pluck()
}

/**
 * `data_version` of one connection as last asked, shared by every cache on that connection (the signer's and the
 * proxy's lookups use the same one), and whether the answer still stands (until the microtask queue drains past it).
 */
class VersionProbe {
  private readonly statement: SqlStatement
  private version = 0
  private current = false
  private readonly markStale = (): void => {
    this.current = false
  }

  constructor(db: SqlReader) {
    this.statement = plucked(db, VERSION_SQL)
  }

  /** The newest data_version asked (for a scope that already probed since its message arrived). */
  latest(): number {
    return this.version
  }

  /** The connection's data_version; `asked` is called when this use had to ask SQLite. */
  read(asked: () => void): number {
    if (!this.current) {
      this.version = this.statement.get() as number
      this.current = true
      queueMicrotask(this.markStale)
      asked()
    }
    return this.version
  }
}

const versionProbes = new WeakMap<SqlReader, VersionProbe>()

/**
 * One message's uses of the caches (see the comment at the top): `data_version` is asked at its first use only, per
 * connection (`probed`: the connection's probe it last asked; a scope used on two connections asks again on a switch).
 */
export interface DerivedCacheScope {
  probed: unknown
}

export function newDerivedCacheScope(): DerivedCacheScope {
  return { probed: undefined }
}

/** What the cache counts (tests and the bench prove the reductions with it). */
export interface DerivedCacheStats {
  /** Uses answered from memory. */
  hits: number
  /** Values computed (from SQL). */
  misses: number
  /** Times the database had changed since the last use. */
  invalidations: number
  /** Times `data_version` was asked for this cache (at most once per run of synchronous code and connection). */
  versionProbes: number
}

export class DatabaseDerivedCache {
  /** `total_changes()` and `data_version` the values were derived at (-1: none yet, or dropped). */
  private stampChanges = -1
  private stampVersion = -1
  /** PostgreSQL: the connection's `changeStamp()` the values were derived at. */
  private postgresStamp: string | undefined
  private readonly values = new Map<string, unknown>()
  readonly stats: DerivedCacheStats = { hits: 0, misses: 0, invalidations: 0, versionProbes: 0 }

  private readonly postgres: PostgresDb | undefined
  /** SQLite: the two probes, prepared once (preparing costs more than running them). */
  private readonly changesProbe: SqlStatement | undefined
  private readonly versionProbe: VersionProbe | undefined
  private readonly countVersionProbe = (): void => {
    this.stats.versionProbes++
  }

  constructor(db: SqlReader, private readonly capacity = 10_000) {
    this.postgres = sqlEngine(db) === 'postgres' ? (db as unknown as PostgresDb) : undefined
    if (this.postgres === undefined) {
      this.changesProbe = plucked(db, CHANGES_SQL)
      let probe = versionProbes.get(db)
      if (probe === undefined) versionProbes.set(db, (probe = new VersionProbe(db)))
      this.versionProbe = probe
    }
  }

  /** Whether the database is unchanged since the values were derived; if not, the stamp moves to the current one. */
  private unchanged(scope: DerivedCacheScope | undefined): boolean {
    if (this.postgres !== undefined) {
      const stamp = this.postgres.changeStamp()
      if (stamp === this.postgresStamp) return true
      if (this.postgresStamp !== undefined) this.stats.invalidations++
      this.postgresStamp = stamp
      return false
    }
    const changes = (this.changesProbe as SqlStatement).get() as number
    const probe = this.versionProbe as VersionProbe
    let version: number
    if (scope === undefined || scope.probed !== probe) {
      version = probe.read(this.countVersionProbe)
      if (scope !== undefined) scope.probed = probe
    } else {
      version = probe.latest()
    }
    if (changes === this.stampChanges && version === this.stampVersion) return true
    if (this.stampChanges !== -1) this.stats.invalidations++
    this.stampChanges = changes
    this.stampVersion = version
    return false
  }

  /**
   * The value under `key`, computed by `compute` (which reads the database) when the database changed since; `scope`:
   * the message this lookup is for, if any (see the comment at the top).
   */
  get<T>(key: string, compute: () => T, scope?: DerivedCacheScope): T {
    if (!this.unchanged(scope)) this.values.clear()
    const found = this.values.get(key)
    if (found !== undefined || this.values.has(key)) {
      this.stats.hits++
      return found as T
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
    this.stampChanges = -1
    this.stampVersion = -1
    this.postgresStamp = undefined
  }
}

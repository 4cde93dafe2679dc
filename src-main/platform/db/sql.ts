/**
 * The storage seam (issue 18): what a repository may use of a database connection. It is the part of better-sqlite3's
 * API the repositories already used — `prepare(sql)` then `get`/`all`/`run`, and `exec` for migrations — so a
 * better-sqlite3 connection (`WritableDb`) is one implementation as it is, with no wrapper and no extra work on the
 * message path, and `PostgresDb` (postgres.ts) is the other. Repositories keep their SQL in the portable subset both
 * engines run (postgres-dialect.ts says which): `?` placeholders, `ON CONFLICT`, `RETURNING id` instead of the last
 * insert row id, 0/1 integers for flags, blobs as Buffers.
 */
export interface SqlRunResult {
  /** Rows the statement inserted, updated or deleted. */
  readonly changes: number
}

export interface SqlStatement {
  /** The first row, or undefined. */
  get(...params: unknown[]): unknown
  all(...params: unknown[]): unknown[]
  run(...params: unknown[]): SqlRunResult
}

export interface SqlConnection {
  prepare(sql: string): SqlStatement
  /** Runs one or more statements without parameters (migrations). */
  exec(sql: string): unknown
}

/** A connection a repository may read through (SQLite's `ReadableDb` is one). */
export type SqlReader = SqlConnection & { readonly __readable: never }
/** A connection a repository may write through (SQLite's `WritableDb` is one). */
export type SqlWriter = SqlReader & { readonly __writable: never }

/** Marks the PostgreSQL implementation, so the few engine-specific places (transactions, migrations) can tell them apart. */
export const POSTGRES_ENGINE: unique symbol = Symbol('gatehouse.postgres')

export type SqlEngine = 'sqlite' | 'postgres'

export function sqlEngine(db: SqlConnection): SqlEngine {
  return POSTGRES_ENGINE in db ? 'postgres' : 'sqlite'
}

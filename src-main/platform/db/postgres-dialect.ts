import { SecurityServerError } from '../errors'

/**
 * The only SQL translation Gatehouse does for PostgreSQL: `?` placeholders become `$1`, `$2`, … (outside quoted
 * literals and identifiers). Everything else the repositories write is already portable (ON CONFLICT … DO NOTHING /
 * DO UPDATE SET x = excluded.x, RETURNING, COUNT, JOIN, LIMIT ?), and a few SQLite-only constructs are refused here by
 * name, so SQL that would not run the same on both engines fails loudly in the repository contract suite
 * (tests/server-conf) instead of behaving differently in a cluster.
 */
const SQLITE_ONLY: ReadonlyArray<[RegExp, string]> = [
  [/\bINSERT\s+OR\s+(IGNORE|REPLACE|ABORT|FAIL|ROLLBACK)\b/i, 'INSERT OR …: write INSERT … ON CONFLICT instead'],
  [/\bREPLACE\s+INTO\b/i, 'REPLACE INTO: write INSERT … ON CONFLICT DO UPDATE instead'],
  [/\bPRAGMA\b|\bpragma_\w+/i, 'PRAGMA is SQLite-only'],
  [/\b(total_changes|last_insert_rowid|changes)\s*\(/i, 'SQLite change counters: use RETURNING or the run() result'],
  [/\bsqlite_\w+/i, 'SQLite catalogue tables'],
  [/\bSTRICT\b/i, 'STRICT tables are SQLite-only (PostgreSQL migrations have their own DDL)'],
]

export function toPostgresSql(sql: string): string {
  let out = ''
  let code = ''
  let quote: string | undefined
  let n = 0
  for (const ch of sql) {
    if (quote !== undefined) {
      out += ch
      if (ch === quote) quote = undefined
    } else if (ch === "'" || ch === '"') {
      quote = ch
      out += ch
    } else if (ch === '?') {
      n++
      out += `$${n}`
      code += ' '
    } else {
      out += ch
      code += ch
    }
  }
  for (const [pattern, why] of SQLITE_ONLY) {
    if (pattern.test(code)) throw new SecurityServerError('database_error', `SQL not portable to PostgreSQL (${why}): ${sql.slice(0, 200)}`)
  }
  return out
}

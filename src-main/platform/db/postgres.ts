import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads'
import { SecurityServerError } from '../errors'
import { bundleRequire } from '../lazy-module'
import { toPostgresSql } from './postgres-dialect'
import { POSTGRES_ENGINE, type SqlRunResult, type SqlStatement, type SqlWriter } from './sql'

/**
 * The PostgreSQL implementation of the storage seam (sql.ts, issue 18): a synchronous connection, so repositories and
 * use cases stay as they are on SQLite. One worker thread owns a `pg` client; each statement is posted to it and the
 * calling thread waits on a SharedArrayBuffer (Atomics.wait) until the thread has the answer, then takes it with
 * `receiveMessageOnPort`. Waiting blocks the caller for one round trip to the database, which is acceptable only
 * because the message path never gets here: it decides from in-memory snapshots of the configuration (the live
 * runtime, derived-cache.ts), so PostgreSQL's latency falls on administrator writes and snapshot rebuilds only.
 */
export interface PostgresOptions {
  host: string
  port: number
  user: string
  database: string
  password?: string
  /** The schema tables live in (search_path); `public` when not given. */
  schema?: string
  /** How long one statement may take before the caller gives up on the connection (default 30 s). */
  timeoutMs?: number
  applicationName?: string
  /**
   * Cluster mode: every committed write through this connection notifies the other nodes on `CHANGE_CHANNEL`, the
   * payload naming the schema and this node (`schema:node:n`), sent inside the writing transaction so PostgreSQL
   * delivers it only on commit. Absent: no notifications (a standalone tool, the nodes' heartbeats).
   */
  notifyAs?: string
}

/** The channel cluster nodes LISTEN on for each other's configuration changes (cluster/change-feed.ts). */
export const CHANGE_CHANNEL = 'gatehouse_serverconf'

/** An arbitrary fixed key of the transaction-scoped advisory lock every writing transaction takes (see `transaction`). */
const WRITER_LOCK_KEY = 0x47617465

interface Reply {
  id: number
  rows?: Array<Record<string, unknown>>
  changes?: number
  error?: { message: string; code?: string; detail?: string }
}

/**
 * The thread's program: plain CommonJS with `pg` only, evaluated as a string so that it runs the same from the
 * TypeScript sources, under the test runner and from the bundle (as the message-log writer thread does). 64-bit
 * integers (COUNT, BIGINT ids) come back as numbers, as better-sqlite3 returns them; byte arrays go in as Buffers.
 */
const PROGRAM = `
const { workerData } = require('node:worker_threads')
const pg = require(workerData.driver)
const { port, signal, config } = workerData
const flag = new Int32Array(signal)
const int8 = (v) => (v === null ? null : Number(v))
const types = { getTypeParser: (oid, format) => (oid === 20 ? int8 : pg.types.getTypeParser(oid, format)) }
let lost
let closing = false
let spare
let spareReady = false
let retry
let delay = 250
function newClient() {
  const c = new pg.Client({ ...config, types })
  c.on('error', (error) => gone(c, error))
  c.on('end', () => gone(c, new Error('the connection ended')))
  return c
}
let client = newClient()
function gone(c, error) {
  if (closing) return
  if (c === spare) {
    spare = undefined
    spareReady = false
    prepareSpare()
  }
  if (c !== client) return
  lost = lost ?? error
  prepareSpare()
}
// A lost connection is replaced in the background (backoff 250 ms to 10 s), never while a statement waits: until a new
// session is ready every statement fails at once. The new one takes over only where no transaction can be open
// (m.fresh: a BEGIN, or a statement outside any transaction), so a transaction's writes never split across sessions.
function prepareSpare() {
  if (retry !== undefined || spare !== undefined || closing) return
  retry = setTimeout(async () => {
    retry = undefined
    const next = newClient()
    spare = next
    try {
      await next.connect()
      if (spare === next) spareReady = true
      delay = 250
    } catch {
      if (spare === next) spare = undefined
      next.end().catch(() => undefined)
      delay = Math.min(delay * 2, 10000)
      prepareSpare()
    }
  }, delay)
}
function takeSpare() {
  if (spare === undefined || !spareReady) return false
  const previous = client
  client = spare
  spare = undefined
  spareReady = false
  lost = undefined
  previous.end().catch(() => undefined)
  return true
}
const bytes = (v) => (v instanceof Uint8Array && !Buffer.isBuffer(v) ? Buffer.from(v.buffer, v.byteOffset, v.byteLength) : v)
function answer(reply) {
  port.postMessage(reply)
  Atomics.store(flag, 0, 1)
  Atomics.notify(flag, 0)
}
port.on('message', async (m) => {
  try {
    if (m.op === 'connect') {
      await client.connect()
      answer({ id: m.id })
      return
    }
    if (m.op === 'close') {
      closing = true
      if (retry !== undefined) clearTimeout(retry)
      if (spare !== undefined) spare.end().catch(() => undefined)
      await client.end()
      answer({ id: m.id })
      port.close()
      return
    }
    if (lost !== undefined && !(m.fresh && takeSpare())) throw lost
    if (m.op === 'exec') {
      await client.query(m.sql)
      answer({ id: m.id, rows: [], changes: 0 })
    } else {
      const result = await client.query({ text: m.sql, values: m.params.map(bytes) })
      const rows = m.mode === 'run' ? [] : m.mode === 'get' ? result.rows.slice(0, 1) : result.rows
      answer({ id: m.id, rows, changes: result.rowCount ?? 0 })
    }
  } catch (error) {
    answer({ id: m.id, error: { message: String(error && error.message), code: error && error.code, detail: error && error.detail } })
  }
})
`

/** An error PostgreSQL reported, with its SQLSTATE as `code` (as better-sqlite3's errors carry SQLite's code). */
export class PostgresError extends Error {
  constructor(message: string, readonly code: string | undefined, readonly detail: string | undefined) {
    super(message)
    this.name = 'PostgresError'
  }
}

type Mode = 'get' | 'all' | 'run'

export class PostgresDb {
  readonly [POSTGRES_ENGINE] = true
  readonly name: string
  private readonly worker: Worker
  private readonly port: MessagePort
  private readonly flag: Int32Array
  private readonly timeoutMs: number
  private readonly statements = new Map<string, SqlStatement>()
  private nextId = 1
  private depth = 0
  private writes = 0
  /** Other nodes' changes noted (noteRemoteChange), and changeStamp calls while the change feed is down. */
  private remote = 0
  private changesFollowed = true
  private readonly notifyPrefix: string | undefined
  private notifications = 0
  private writesAtBegin = 0
  private quiet = 0
  private broken: Error | undefined
  private closed = false

  /** Use `openPostgres`. */
  constructor(options: PostgresOptions) {
    this.name = `postgresql://${options.user}@${options.host}:${options.port}/${options.database}${options.schema === undefined ? '' : `?schema=${options.schema}`}`
    this.timeoutMs = options.timeoutMs ?? 30_000
    if (options.notifyAs !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(options.notifyAs)) {
      throw new SecurityServerError('database_error', `Cluster node name ${JSON.stringify(options.notifyAs.slice(0, 70))} is not a plain name`)
    }
    this.notifyPrefix = options.notifyAs === undefined ? undefined : `${options.schema ?? 'public'}:${options.notifyAs}:`
    if (options.schema !== undefined && !/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(options.schema)) {
      throw new SecurityServerError('database_error', `PostgreSQL schema name ${JSON.stringify(options.schema.slice(0, 70))} is not a plain identifier`)
    }
    const signal = new SharedArrayBuffer(4)
    this.flag = new Int32Array(signal)
    const { port1, port2 } = new MessageChannel()
    this.port = port1
    const config = {
      host: options.host,
      port: options.port,
      user: options.user,
      database: options.database,
      password: options.password,
      application_name: options.applicationName ?? 'gatehouse',
      statement_timeout: this.timeoutMs,
      connectionTimeoutMillis: this.timeoutMs,
      keepAlive: true,
      ...(options.schema === undefined ? {} : { options: `-c search_path=${options.schema}` }),
    }
    this.worker = new Worker(PROGRAM, { eval: true, workerData: { driver: pgPath(), port: port2, signal, config }, transferList: [port2] })
    // The thread only ever works while this thread waits for it: it never keeps the process alive.
    this.worker.unref()
    this.port.unref()
  }

  prepare(sql: string): SqlStatement {
    let statement = this.statements.get(sql)
    if (statement === undefined) {
      const text = toPostgresSql(sql)
      const reads = /^\s*SELECT\b/i.test(text)
      const call = (mode: Mode, params: unknown[]): Reply => {
        // Outside a transaction a lost connection may be replaced before the statement (the thread's `fresh`).
        const request = { op: 'query', sql: text, params: params.map(parameter), mode, fresh: this.depth === 0 }
        if (reads || this.quiet > 0) return this.call(request)
        this.writes++
        const reply = this.call(request)
        // A write outside any transaction committed on its own: tell the other nodes now. It is committed whatever
        // happens to the notification, so a failure here is not the statement's; a node that misses it because the
        // connection broke re-reads everything when its own change feed reconnects.
        if (this.depth === 0 && this.notifyPrefix !== undefined) {
          try {
            this.call({ op: 'exec', sql: this.notifySql() })
          } catch {
            // The statement's result stands (see above).
          }
        }
        return reply
      }
      statement = {
        get: (...params) => call('get', params).rows?.[0],
        all: (...params) => call('all', params).rows ?? [],
        run: (...params): SqlRunResult => ({ changes: call('run', params).changes ?? 0 }),
      }
      if (this.statements.size >= 1000) this.statements.delete(this.statements.keys().next().value as string)
      this.statements.set(sql, statement)
    }
    return statement
  }

  exec(sql: string): this {
    this.writes++
    this.call({ op: 'exec', sql })
    return this
  }

  /** `exec` at the start of a transaction: a connection lost since the last statement is replaced first. */
  private begin(sql: string): void {
    this.writes++
    this.call({ op: 'exec', sql, fresh: true })
  }

  /**
   * Moves whenever this connection may have changed data (any statement but a SELECT, counted before it runs, so a
   * failed or rolled-back one moves it too: a spurious change costs a recomputation, a missed one a stale answer).
   * DatabaseDerivedCache compares it as SQLite's `total_changes()`/`data_version`.
   */
  changeStamp(): string {
    // While the nodes' change feed is down nothing says when another node wrote: no derived value is trusted.
    if (!this.changesFollowed) this.remote++
    return `${this.writes}:${this.remote}`
  }

  /** Another node committed a change (cluster/change-feed.ts): moves the change stamp. */
  noteRemoteChange(): void {
    this.remote++
  }

  /**
   * Whether other nodes' changes reach this node (the change feed is listening). While not, every `changeStamp` call
   * moves it, so values derived from this database are read again at each use instead of possibly stale.
   */
  followChanges(followed: boolean): void {
    this.changesFollowed = followed
    this.remote++
  }

  /**
   * Runs `work` whose writes touch nothing any node derives values from (the nodes' heartbeats in `cluster_nodes`):
   * they neither move the change stamp nor notify the other nodes.
   */
  quietly<T>(work: () => T): T {
    this.quiet++
    try {
      return work()
    } finally {
      this.quiet--
    }
  }

  private notifySql(): string {
    return `SELECT pg_notify('${CHANGE_CHANNEL}', '${this.notifyPrefix ?? ''}${++this.notifications}')`
  }

  /**
   * Runs `work` in one transaction, rolled back if it throws (a nested call is a savepoint, as better-sqlite3 nests).
   * The outermost one first takes a transaction-scoped advisory lock, so writing transactions run one at a time across
   * every node sharing the database — what SQLite's BEGIN IMMEDIATE gives one file.
   */
  transaction<T>(work: () => T): T {
    const savepoint = this.depth > 0 ? `gh_${this.depth}` : undefined
    if (savepoint === undefined) this.begin(`BEGIN; SELECT pg_advisory_xact_lock(${WRITER_LOCK_KEY})`)
    else this.exec(`SAVEPOINT ${savepoint}`)
    if (savepoint === undefined) this.writesAtBegin = this.writes
    this.depth++
    let result: T
    try {
      result = work()
    } catch (error) {
      this.depth--
      try {
        if (this.broken === undefined) this.exec(savepoint === undefined ? 'ROLLBACK' : `ROLLBACK TO SAVEPOINT ${savepoint}; RELEASE SAVEPOINT ${savepoint}`)
      } catch {
        // The connection is gone, and with it the transaction (PostgreSQL rolls back a session that ends): the
        // caller learns why the work failed, not that the rollback could not be sent.
      }
      throw error
    }
    this.depth--
    if (savepoint !== undefined) this.exec(`RELEASE SAVEPOINT ${savepoint}`)
    // NOTIFY inside the transaction: delivered to the listening nodes when, and only if, it commits.
    else if (this.notifyPrefix !== undefined && this.writes !== this.writesAtBegin) this.exec(`${this.notifySql()}; COMMIT`)
    else this.exec('COMMIT')
    return result
  }

  /** Ends the connection and the thread. */
  close(): void {
    if (this.closed) return
    this.closed = true
    try {
      if (this.broken === undefined) this.call({ op: 'close' }, true)
    } finally {
      void this.worker.terminate()
    }
  }

  get open(): boolean {
    return !this.closed && this.broken === undefined
  }

  /** Connects (openPostgres does this once). */
  connect(): void {
    this.call({ op: 'connect' })
  }

  private call(request: Record<string, unknown>, closing = false): Reply {
    if (this.closed && !closing) throw new SecurityServerError('database_error', `The connection to ${this.name} is closed`)
    if (this.broken !== undefined) throw new SecurityServerError('database_error', `The connection to ${this.name} is lost: ${this.broken.message}`)
    const id = this.nextId++
    Atomics.store(this.flag, 0, 0)
    this.port.postMessage({ ...request, id })
    // The thread may still be starting (first call) or PostgreSQL busy; statement_timeout ends a slow statement first.
    if (Atomics.wait(this.flag, 0, 0, this.timeoutMs + 5_000) === 'timed-out') {
      this.broken = new Error(`no answer within ${this.timeoutMs + 5_000} ms`)
      void this.worker.terminate()
      throw new SecurityServerError('database_error', `PostgreSQL at ${this.name} did not answer: ${this.broken.message}`)
    }
    const received = receiveMessageOnPort(this.port)?.message as Reply | undefined
    if (received === undefined || received.id !== id) {
      this.broken = new Error('the connection thread answered out of turn')
      throw new SecurityServerError('database_error', `PostgreSQL at ${this.name}: ${this.broken.message}`)
    }
    if (received.error !== undefined) {
      if (request.op === 'connect') {
        this.broken = new Error(received.error.message)
        void this.worker.terminate()
        throw new SecurityServerError('database_error', `Cannot connect to ${this.name}: ${received.error.message}`)
      }
      throw new PostgresError(received.error.message, received.error.code, received.error.detail)
    }
    if (received.rows !== undefined) for (const row of received.rows) asBuffers(row)
    return received
  }
}

/** Bytes arrive from the thread as plain Uint8Arrays; repositories read Buffers, as better-sqlite3 gives them. */
function asBuffers(row: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(row)) {
    if (value instanceof Uint8Array && !Buffer.isBuffer(value)) row[key] = Buffer.from(value.buffer, value.byteOffset, value.byteLength)
  }
}

/** better-sqlite3 refuses booleans and undefined; so does this side, so a repository cannot pass on one engine only. */
function parameter(value: unknown): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'number' || value instanceof Uint8Array) return value
  if (typeof value === 'bigint') return value.toString()
  throw new SecurityServerError('database_error', `SQL parameters are strings, numbers, bigints, byte arrays or null (got ${typeof value})`)
}

/** Opens a synchronous PostgreSQL connection for the repositories (its thread started and connected). */
export function openPostgres(options: PostgresOptions): PostgresDb & SqlWriter {
  const db = new PostgresDb(options)
  db.connect()
  return db as PostgresDb & SqlWriter
}

export function closePostgres(db: PostgresDb): void {
  db.close()
}

function pgPath(): string {
  return bundleRequire().resolve('pg')
}

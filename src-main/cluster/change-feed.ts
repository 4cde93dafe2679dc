import type pg from 'pg'
import { CHANGE_CHANNEL, lazyModule, type Logger, type PostgresOptions } from '../platform'

/** The PostgreSQL client, loaded only by a node of a cluster (a server on SQLite never needs it). */
const pgModule = lazyModule<typeof pg>('pg')

/**
 * How a cluster node learns of the other nodes' configuration changes (issue 18): PostgreSQL LISTEN on the channel
 * every committed write through a notifying `PostgresDb` notifies (postgres.ts, `notifyAs`). A second `pg` client,
 * asynchronous on the event loop, so it never blocks anyone: while the synchronous connection waits (Atomics.wait)
 * notifications queue in the socket and are handled right after.
 *
 * A lost connection is reconnected with a doubling backoff (250 ms up to 10 s); once listening again the node must
 * treat everything as changed (`onResync`), since notifications sent meanwhile are gone. A half-open connection (a
 * partition without a reset) is found by a `SELECT 1` every 5 s that must answer within 5 s.
 */
export type ChangeFeedState = 'connecting' | 'listening' | 'reconnecting' | 'stopped'

export interface ChangeFeedStatus {
  state: ChangeFeedState
  /** When the feed entered this state (ISO). */
  since: string
  /** Why the last connection was lost or could not be made. */
  lastError: string | null
  /** Times the feed connected again after a loss. */
  reconnects: number
}

export interface ChangeFeedOptions {
  connection: PostgresOptions
  /** This node: its own notifications are not news. */
  node: string
  logger: Logger
  /** Another node (`from`) committed a change. */
  onRemoteChange(from: string): void
  /** Listening again after a loss (or after a first connection that failed): changes may have been missed. */
  onResync(): void
  /** Every change of state (the node stops trusting derived values while it is not listening). */
  onState?(status: ChangeFeedStatus): void
  now?: () => Date
  backoff?: { initialMs: number; maxMs: number }
  /** The liveness probe's period and bound (default 5 s). */
  probeMs?: number
}

export interface ChangeFeed {
  /** Connects and listens; a failure is not thrown but retried (the state says `reconnecting`). */
  start(): Promise<void>
  stop(): Promise<void>
  status(): ChangeFeedStatus
}

export function createChangeFeed(options: ChangeFeedOptions): ChangeFeed {
  const { connection, logger } = options
  const now = options.now ?? (() => new Date())
  const initialMs = options.backoff?.initialMs ?? 250
  const maxMs = options.backoff?.maxMs ?? 10_000
  const probeMs = options.probeMs ?? 5000
  const schema = connection.schema ?? 'public'
  let status: ChangeFeedStatus = { state: 'stopped', since: now().toISOString(), lastError: null, reconnects: 0 }
  let client: pg.Client | undefined
  let retryTimer: NodeJS.Timeout | undefined
  let probeTimer: NodeJS.Timeout | undefined
  let delay = initialMs
  let stopped = false
  let missed = false

  const setState = (state: ChangeFeedState, lastError: string | null = status.lastError): void => {
    status = { ...status, state, since: now().toISOString(), lastError }
    options.onState?.(status)
  }

  const onNotification = (message: pg.Notification): void => {
    if (message.channel !== CHANGE_CHANNEL || message.payload === undefined) return
    // schema:node:n — another schema is another cluster sharing the database server.
    const [from, node] = message.payload.split(':')
    if (from !== schema || node === undefined || node === options.node) return
    options.onRemoteChange(node)
  }

  const lost = (which: pg.Client, error: unknown): void => {
    if (which !== client || stopped) return
    client = undefined
    if (probeTimer !== undefined) clearInterval(probeTimer)
    probeTimer = undefined
    which.removeAllListeners('notification')
    which.end().catch(() => undefined)
    missed = true
    const reason = error instanceof Error ? error.message : String(error)
    logger.error({ reason }, 'the cluster change feed lost its PostgreSQL connection: reconnecting; until then this node reads the configuration at every use')
    setState('reconnecting', reason)
    schedule()
  }

  const schedule = (): void => {
    if (stopped || retryTimer !== undefined) return
    retryTimer = setTimeout(() => {
      retryTimer = undefined
      void connect()
    }, delay)
    retryTimer.unref()
    delay = Math.min(maxMs, delay * 2)
  }

  const connect = async (): Promise<void> => {
    const next = new (pgModule().Client)({
      host: connection.host, port: connection.port, user: connection.user, database: connection.database, password: connection.password,
      application_name: connection.applicationName ?? 'gatehouse changes', keepAlive: true, connectionTimeoutMillis: 5000, query_timeout: probeMs,
    })
    next.on('error', (error) => lost(next, error))
    next.on('end', () => lost(next, new Error('the connection ended')))
    next.on('notification', onNotification)
    try {
      await next.connect()
      await next.query(`LISTEN ${CHANGE_CHANNEL}`)
    } catch (error) {
      next.removeAllListeners('notification')
      next.end().catch(() => undefined)
      if (stopped) return
      missed = true
      const reason = error instanceof Error ? error.message : String(error)
      logger.error({ reason }, 'the cluster change feed cannot listen on PostgreSQL: retrying')
      setState('reconnecting', reason)
      schedule()
      return
    }
    if (stopped) {
      await next.end().catch(() => undefined)
      return
    }
    client = next
    delay = initialMs
    probeTimer = setInterval(() => {
      next.query('SELECT 1').catch((error: unknown) => lost(next, error))
    }, probeMs)
    probeTimer.unref()
    const resync = missed
    if (resync) status = { ...status, reconnects: status.reconnects + 1 }
    missed = false
    setState('listening', null)
    if (resync) {
      logger.info('the cluster change feed is listening again: everything derived from the configuration is read anew')
      options.onResync()
    }
  }

  return {
    async start() {
      stopped = false
      setState('connecting')
      await connect()
    },
    async stop() {
      stopped = true
      if (retryTimer !== undefined) clearTimeout(retryTimer)
      if (probeTimer !== undefined) clearInterval(probeTimer)
      retryTimer = undefined
      probeTimer = undefined
      const current = client
      client = undefined
      setState('stopped')
      if (current !== undefined) {
        current.removeAllListeners()
        current.on('error', () => undefined)
        await current.end().catch(() => undefined)
      }
    },
    status: () => status,
  }
}

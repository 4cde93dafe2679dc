import { EventEmitter } from 'node:events'
import type { AddressInfo } from 'node:net'
import type { Server } from 'node:http'
import type { ListenerInfo, ServiceState } from '@shared/admin-api/admin-api'
import type { ServerEvents } from '@shared/server-events'
import {
  closeDatabase, createLogger, migrate, openDatabase, systemClock,
  type Clock, type Logger, type MigrationSet, type WritableDb,
} from '../platform'
import { findServerIdentity, serverConfMigrations } from '../server-conf'
import { auditLogMigrations } from '../audit-log'
import { opMonitoringMigrations } from '../op-monitoring'
import { adminMigrations, createAdminHttpServer, createAdminRuntime, loadOrCreateAdminTls, type AdminService } from '../admin'
import { dataDirLayout, type ServerConfig } from './server-config'
import { GATEHOUSE_VERSION } from './version'

/**
 * The composition root: the only place that knows every domain. It opens the databases, runs migrations,
 * wires the domains together and owns the listeners. The desktop and headless entries both call it.
 */
export interface SecurityServerOptions {
  dataDir: string
  config: ServerConfig
  clock?: Clock
  logger?: Logger
  /** Folder of the built admin GUI (out/renderer) served on the admin port; omit to serve none. */
  rendererDir?: string
}

export interface TypedEvents {
  on<E extends keyof ServerEvents>(event: E, listener: (payload: ServerEvents[E]) => void): this
  off<E extends keyof ServerEvents>(event: E, listener: (payload: ServerEvents[E]) => void): this
  once<E extends keyof ServerEvents>(event: E, listener: (payload: ServerEvents[E]) => void): this
}

export interface SecurityServer {
  start(): Promise<ListenerInfo[]>
  stop(): Promise<void>
  /** The admin API; `admin.call(caller, …)` is the checked entry the transports use. */
  readonly admin: AdminService
  readonly events: TypedEvents
}

interface Databases {
  serverConf: WritableDb
  messageLog: WritableDb
  opMonitor: WritableDb
}

const SERVER_CONF_MIGRATIONS: MigrationSet[] = [serverConfMigrations, auditLogMigrations, adminMigrations]

export function createSecurityServer(options: SecurityServerOptions): SecurityServer {
  const layout = dataDirLayout(options.dataDir)
  const clock = options.clock ?? systemClock
  const logger = options.logger ?? createLogger({ level: options.config.logging.level })
  const emitter = new EventEmitter()
  let state: ServiceState = 'stopped'
  let startedAt: string | null = null
  let databases: Databases | undefined
  const listeners: Array<{ info: ListenerInfo; server: Server }> = []

  const setState = (next: ServiceState): void => {
    state = next
    emitter.emit('state-changed', { state: next, at: clock.now().toISOString() })
  }

  const requireDatabases = (): Databases => {
    if (databases === undefined) databases = openDatabases(layout)
    return databases
  }

  const adminRuntime = createAdminRuntime({
    serverConfDb: () => requireDatabases().serverConf,
    clock,
    logger,
    system: {
      version: GATEHOUSE_VERSION,
      dataDir: layout.root,
      backupsDir: layout.backupsDir,
      clock,
      get databases() {
        const dbs = requireDatabases()
        return [
          { name: 'serverconf' as const, path: layout.serverConfDb, db: dbs.serverConf },
          { name: 'messagelog' as const, path: layout.messageLogDb, db: dbs.messageLog },
          { name: 'opmonitor' as const, path: layout.opMonitorDb, db: dbs.opMonitor },
        ]
      },
      status: () => ({
        state,
        startedAt,
        initialized: databases !== undefined && findServerIdentity(databases.serverConf) !== undefined,
        listeners: listeners.map((l) => l.info),
      }),
    },
  })
  const admin = adminRuntime.service

  async function start(): Promise<ListenerInfo[]> {
    if (state === 'running' || state === 'starting') throw new Error(`Security server is already ${state}`)
    setState('starting')
    try {
      requireDatabases()
      const { internal } = options.config
      if (internal.adminPort !== null) {
        const tls = await loadOrCreateAdminTls(layout.tlsDir, clock)
        const server = createAdminHttpServer({ runtime: adminRuntime, tls, rendererDir: options.rendererDir, logger, version: GATEHOUSE_VERSION })
        const port = await listen(server, internal.host, internal.adminPort)
        listeners.push({ info: { name: 'admin', url: `https://${hostForUrl(internal.host)}:${port}/` }, server })
        logger.info({ fingerprint256: tls.fingerprint256, generated: tls.generated }, 'admin TLS certificate')
      }
      startedAt = clock.now().toISOString()
      setState('running')
      logger.info({ dataDir: layout.root, listeners: listeners.map((l) => l.info) }, 'security server started')
      return listeners.map((l) => l.info)
    } catch (error) {
      await closeEverything()
      setState('failed')
      throw error
    }
  }

  async function closeEverything(): Promise<void> {
    const closing = listeners.splice(0).map(({ server }) => closeServer(server, options.config.shutdownGraceMs))
    await Promise.all(closing)
    if (databases !== undefined) {
      for (const db of Object.values(databases)) closeDatabase(db)
      databases = undefined
    }
  }

  async function stop(): Promise<void> {
    if (state === 'stopped' || state === 'stopping') return
    setState('stopping')
    await closeEverything()
    startedAt = null
    setState('stopped')
    logger.info('security server stopped')
  }

  return { start, stop, admin, events: emitter as unknown as TypedEvents }
}

function openDatabases(layout: ReturnType<typeof dataDirLayout>): Databases {
  const serverConf = openDatabase(layout.serverConfDb)
  migrate(serverConf, SERVER_CONF_MIGRATIONS)
  // The message log is the legal evidence: every acknowledged record must survive power loss.
  const messageLog = openDatabase(layout.messageLogDb, { synchronous: 'FULL' })
  migrate(messageLog, [])
  const opMonitor = openDatabase(layout.opMonitorDb)
  migrate(opMonitor, [opMonitoringMigrations])
  return { serverConf, messageLog, opMonitor }
}

function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host
}

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve((server.address() as AddressInfo).port)
    })
  })
}

/** Stops accepting, lets in-flight requests finish for up to `graceMs`, then cuts the remaining connections. */
function closeServer(server: Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => server.closeAllConnections(), graceMs)
    server.close(() => {
      clearTimeout(timer)
      resolve()
    })
    server.closeIdleConnections()
  })
}

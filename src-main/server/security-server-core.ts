import {
  closeDatabase, migrate, openDatabase,
  type Clock, type Logger, type MigrationSet, type WritableDb,
} from '../platform'
import { createServerConf, serverConfMigrations, type ServerConf } from '../server-conf'
import { auditLogMigrations } from '../audit-log'
import { createOpMonitor, opMonitoringMigrations, type OpMonitor } from '../op-monitoring'
import { adminMigrations } from '../admin'
import { createSigner, type Signer } from '../signer'
import { createGlobalConfService, parseConfigurationAnchor, type GlobalConf, type GlobalConfService } from '../global-conf'
import type { DataDirLayout } from './server-config'

/**
 * The domains of one security server, built once over its databases. The composition root hands them to the
 * admin API and the proxy; nothing else constructs a domain.
 */
export interface Databases {
  serverConf: WritableDb
  messageLog: WritableDb
  opMonitor: WritableDb
}

/** The global configuration as the rest of the server sees it: absent until an anchor is imported. */
export interface GlobalConfAccess {
  current(): GlobalConf | undefined
  service(): GlobalConfService | undefined
  /** (Re)creates the download service from the anchor stored in server configuration; starts it when running. */
  reloadAnchor(): Promise<void>
}

export interface SecurityServerCore {
  layout: DataDirLayout
  clock: Clock
  logger: Logger
  databases: Databases
  serverConf: ServerConf
  signer: Signer
  opMonitor: OpMonitor
  globalConf: GlobalConfAccess
  /** Starts background work (configuration download). */
  start(): Promise<void>
  close(): Promise<void>
}

const SERVER_CONF_MIGRATIONS: MigrationSet[] = [serverConfMigrations, auditLogMigrations, adminMigrations]

export function openDatabases(layout: DataDirLayout): Databases {
  const serverConf = openDatabase(layout.serverConfDb)
  migrate(serverConf, SERVER_CONF_MIGRATIONS)
  // The message log is the legal evidence: every acknowledged record must survive power loss.
  const messageLog = openDatabase(layout.messageLogDb, { synchronous: 'FULL' })
  migrate(messageLog, [])
  const opMonitor = openDatabase(layout.opMonitorDb)
  migrate(opMonitor, [opMonitoringMigrations])
  return { serverConf, messageLog, opMonitor }
}

export function createSecurityServerCore(layout: DataDirLayout, clock: Clock, logger: Logger): SecurityServerCore {
  const databases = openDatabases(layout)
  const serverConf = createServerConf(databases.serverConf, clock)
  const signer = createSigner({ db: databases.serverConf, dataDir: layout.root, clock, logger: logger.child({ domain: 'signer' }) })
  const opMonitor = createOpMonitor({ db: databases.opMonitor, clock, logger: logger.child({ domain: 'op-monitoring' }) })

  let confService: GlobalConfService | undefined
  let running = false
  const globalConf: GlobalConfAccess = {
    current: () => confService?.current(),
    service: () => confService,
    async reloadAnchor() {
      const stored = serverConf.anchorFile()
      confService?.stop()
      confService = undefined
      if (stored === undefined) return
      confService = createGlobalConfService({
        dir: layout.globalConfDir,
        anchor: parseConfigurationAnchor(stored.content),
        clock,
        logger: logger.child({ domain: 'global-conf' }),
      })
      if (running) await confService.start()
    },
  }

  return {
    layout,
    clock,
    logger,
    databases,
    serverConf,
    signer,
    opMonitor,
    globalConf,
    async start() {
      running = true
      await globalConf.reloadAnchor()
    },
    async close() {
      running = false
      confService?.stop()
      opMonitor.close()
      await signer.close()
      for (const db of Object.values(databases)) closeDatabase(db)
    },
  }
}

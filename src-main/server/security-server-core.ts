import {
  closeDatabase, migrate, openDatabase,
  type Clock, type Logger, type MigrationSet, type WritableDb,
} from '../platform'
import { createServerConf, serverConfMigrations, type ServerConf } from '../server-conf'
import { auditLogMigrations } from '../audit-log'
import { createOpMonitor, opMonitoringMigrations, type OpMonitor } from '../op-monitoring'
import { adminMigrations } from '../admin'
import { createSigner, type OcspSource, type Signer } from '../signer'
import { createGlobalConfService, parseConfigurationAnchor, type GlobalConf, type GlobalConfService } from '../global-conf'
import { createMessageLog, messageLogMigrations, type MessageLog, type MessageLogSettingsInput, type SelectedTsa } from '../message-log'
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
  /** Called with every newly published configuration, across anchor reloads; returns an unsubscribe. */
  onChange(listener: (conf: GlobalConf) => void): () => void
}

export interface SecurityServerCoreOptions {
  /** Message-log system parameters (UG-SYSPAR `[message-log]`); X-Road's defaults otherwise. */
  messageLog?: MessageLogSettingsInput
}

export interface SecurityServerCore {
  layout: DataDirLayout
  clock: Clock
  logger: Logger
  databases: Databases
  serverConf: ServerConf
  signer: Signer
  opMonitor: OpMonitor
  messageLog: MessageLog
  globalConf: GlobalConfAccess
  /** Starts background work (configuration download, OCSP of own certificates, time-stamping). */
  start(): Promise<void>
  close(): Promise<void>
}

const SERVER_CONF_MIGRATIONS: MigrationSet[] = [serverConfMigrations, auditLogMigrations, adminMigrations]

export function openDatabases(layout: DataDirLayout): Databases {
  const serverConf = openDatabase(layout.serverConfDb)
  migrate(serverConf, SERVER_CONF_MIGRATIONS)
  // The message log is the legal evidence: every acknowledged record must survive power loss.
  const messageLog = openDatabase(layout.messageLogDb, { synchronous: 'FULL' })
  migrate(messageLog, [messageLogMigrations])
  const opMonitor = openDatabase(layout.opMonitorDb)
  migrate(opMonitor, [opMonitoringMigrations])
  return { serverConf, messageLog, opMonitor }
}

export function createSecurityServerCore(
  layout: DataDirLayout, clock: Clock, logger: Logger, options: SecurityServerCoreOptions = {},
): SecurityServerCore {
  const databases = openDatabases(layout)
  const serverConf = createServerConf(databases.serverConf, clock)
  let confService: GlobalConfService | undefined
  const current = (): GlobalConf | undefined => confService?.current()
  const signer = createSigner({
    db: databases.serverConf, dataDir: layout.root, clock, logger: logger.child({ domain: 'signer' }),
    // xroad-protocols.md §4.8: own certificates' OCSP from the approved CA's responders in global configuration.
    ocsp: { sources: (certDer) => ocspSourceFor(current(), certDer) },
  })
  const opMonitor = createOpMonitor({ db: databases.opMonitor, clock, logger: logger.child({ domain: 'op-monitoring' }) })
  const messageLog = createMessageLog({
    db: databases.messageLog, clock, logger: logger.child({ domain: 'message-log' }), settings: options.messageLog,
    // xroad-protocols.md §6.2: the approved TSAs of the own instance, in global-configuration order.
    tsas: () => selectedTsas(current()),
  })

  const changeListeners = new Set<(conf: GlobalConf) => void>()
  let running = false
  const globalConf: GlobalConfAccess = {
    current,
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
        onChange: (conf) => {
          for (const listener of changeListeners) listener(conf)
        },
      })
      if (running) await confService.start()
    },
    onChange(listener) {
      changeListeners.add(listener)
      return () => changeListeners.delete(listener)
    },
  }
  // A new configuration may be the first that knows our CA: fetch OCSP for own certificates still without a good one.
  globalConf.onChange(() => {
    if (!running) return
    const wanting = signer.listCertificates()
      .filter((c) => c.state === 'active' || c.state === 'registered' || c.state === 'saved')
      .filter((c) => signer.ocspStatus(c.id).status !== 'good')
      .map((c) => c.id)
    if (wanting.length > 0) void signer.refreshOcsp(wanting)
  })

  return {
    layout,
    clock,
    logger,
    databases,
    serverConf,
    signer,
    opMonitor,
    messageLog,
    globalConf,
    async start() {
      running = true
      await globalConf.reloadAnchor()
      messageLog.start()
    },
    async close() {
      running = false
      confService?.stop()
      // Commits what waits in the group commit and stops time-stamping before the database closes.
      await messageLog.stop()
      opMonitor.close()
      await signer.close()
      for (const db of Object.values(databases)) closeDatabase(db)
    },
  }
}

function ocspSourceFor(conf: GlobalConf | undefined, certDer: Uint8Array): OcspSource | undefined {
  const match = conf?.getApprovedCaFor(certDer)
  if (conf === undefined || match === undefined) return undefined
  const responders = conf.getOcspResponders(match.issuerCert)
  return {
    issuerDer: match.issuerCert,
    urls: responders.map((r) => r.url),
    responderCertsDer: responders.flatMap((r) => (r.cert === undefined ? [] : [r.cert])),
    freshnessSeconds: conf.ocspFreshnessSeconds,
    fetchIntervalSeconds: conf.ocspFetchIntervalSeconds,
    verifyNextUpdate: conf.verifyNextUpdate,
  }
}

function selectedTsas(conf: GlobalConf | undefined): SelectedTsa[] {
  return (conf?.getTsas() ?? []).map((tsa) => ({ name: tsa.name, url: tsa.url, certificates: [tsa.cert] }))
}

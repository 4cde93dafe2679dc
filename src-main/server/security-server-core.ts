import {
  SecurityServerError, appliedVersion, closeDatabase, closePostgres, migrate, openDatabase, openPostgres, toSecurityServerError,
  type Clock, type Logger, type MigrationSet, type PostgresDb, type SqlWriter, type WritableDb,
} from '../platform'
import { clusterMigrations } from '../cluster'
import { createServerConf, readSystemParameters, serverConfMigrations, type ServerConf } from '../server-conf'
import { appendAuditEntry, auditLogMigrations, pruneAuditLog } from '../audit-log'
import {
  createEnvironmentMonitor, createOpMonitor, DEFAULT_CLEAN_INTERVAL, type EnvironmentMonitor, DEFAULT_OP_MONITOR_SETTINGS, opMonitoringMigrations, parseCleanInterval, type OpMonitor,
} from '../op-monitoring'
import { adminMigrations } from '../admin'
import { alertsMigrations } from '../alerts'
import { createSigner, signerMigrations, type OcspSource, type Signer, type SignerOptions } from '../signer'
import {
  DEFAULT_CONF_UPDATE_INTERVAL_SECONDS, GlobalConf, createGlobalConfService, parseConfigurationAnchor, readStoredConfiguration, type GlobalConfService,
} from '../global-conf'
import {
  createMessageLog, messageLogMigrations, type MessageLog, type MessageLogSettingsInput, type SelectedTsa,
} from '../message-log'
import type { ClusterConfig, DataDirLayout } from './server-config'
import { clusterPostgresOptions } from './cluster-config'
import { applySystemParameters, type AppliedSystemParameters } from './system-parameters'

/**
 * The domains of one security server, built once over its databases. The composition root hands them to the
 * admin API and the proxy; nothing else constructs a domain.
 */
export interface Databases {
  /**
   * The server configuration (identity, clients, services, access rights, system parameters, anchor, management
   * requests, the signer's key configuration): in cluster mode the PostgreSQL database the nodes share, standalone
   * DATA_DIR/serverconf.sqlite (the same connection as `local`).
   */
  serverConf: SqlWriter
  /**
   * This node's DATA_DIR/serverconf.sqlite: what stays per node in a cluster — admin accounts, sessions and API keys,
   * the audit log, alerts (and, standalone, the server configuration too).
   */
  local: WritableDb
  messageLog: WritableDb
  opMonitor: WritableDb
  /** Cluster mode: the shared connection `serverConf` is (absent when standalone). */
  shared?: PostgresDb
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
  /**
   * Message-log system parameters (UG-SYSPAR `[message-log]`); X-Road's defaults otherwise. Parameters the
   * administrator stored in server configuration take precedence; `timeStampingIntervalSeconds` given here
   * overrides global configuration's private parameters.
   */
  messageLog?: MessageLogSettingsInput
  /** The signer's injected dependencies (a wrapper around its token drivers); none in production. */
  signer?: Pick<SignerOptions, 'wrapDriver'>
  /** Cluster mode: the server configuration is the shared PostgreSQL database (bootstrap `cluster`). */
  cluster?: ClusterConfig
}

export interface SecurityServerCore {
  layout: DataDirLayout
  clock: Clock
  logger: Logger
  databases: Databases
  /** Cluster mode: this node's name and role (absent when standalone). */
  cluster?: ClusterConfig
  serverConf: ServerConf
  signer: Signer
  opMonitor: OpMonitor
  /** Environmental monitoring (`getSecurityServerMetrics`): samples the system while the server runs. */
  environment: EnvironmentMonitor
  messageLog: MessageLog
  globalConf: GlobalConfAccess
  /** The administrator's stored system parameters in force (`applySystemParameters` re-reads them). */
  readonly parameters: AppliedSystemParameters
  /**
   * Re-reads the stored system parameters and applies them at once: message-log settings, operational-monitoring
   * retention and its schedule, the monitoring services' limits, OCSP fetch interval. Called after every settings change; no restart.
   */
  applySystemParameters(): void
  /** The TSAs time-stamping uses: the administrator's selection in its order, else every approved TSA. */
  timestampingServices(): SelectedTsa[]
  /** Starts background work (configuration download, OCSP of own certificates, time-stamping). */
  start(): Promise<void>
  close(): Promise<void>
}

/** The migration sets of serverconf.sqlite (also what a restored backup's schema is checked against). */
export const SERVER_CONF_MIGRATIONS: MigrationSet[] = [serverConfMigrations, auditLogMigrations, adminMigrations, alertsMigrations, clusterMigrations]

/** Cluster mode: what the nodes share in PostgreSQL (the signer's key configuration included) … */
export const SHARED_CONF_MIGRATIONS: MigrationSet[] = [serverConfMigrations, signerMigrations, clusterMigrations]
/** … and what each node keeps in its own DATA_DIR/serverconf.sqlite. */
export const NODE_LOCAL_MIGRATIONS: MigrationSet[] = [auditLogMigrations, adminMigrations, alertsMigrations]

/**
 * Opens DATA_DIR/serverconf.sqlite alone with its migrations (server configuration, audit log, admin accounts), for
 * tools that need no other domain (`gatehouse user add`).
 */
export function openServerConfDatabase(layout: DataDirLayout): WritableDb {
  const db = openDatabase(layout.serverConfDb)
  try {
    migrate(db, SERVER_CONF_MIGRATIONS)
  } catch (error) {
    closeDatabase(db)
    throw error
  }
  return db
}

export function openDatabases(layout: DataDirLayout, cluster?: ClusterConfig): Databases {
  const local = openDatabase(layout.serverConfDb)
  let shared: (PostgresDb & SqlWriter) | undefined
  let messageLog: WritableDb | undefined
  try {
    migrate(local, cluster === undefined ? SERVER_CONF_MIGRATIONS : NODE_LOCAL_MIGRATIONS)
    if (cluster !== undefined) shared = openSharedConfDatabase(cluster)
    // The message log is the legal evidence: every acknowledged record must survive power loss.
    messageLog = openMessageLogDatabase(layout)
    const opMonitor = openDatabase(layout.opMonitorDb)
    migrate(opMonitor, [opMonitoringMigrations])
    return { serverConf: shared ?? local, local, messageLog, opMonitor, ...(shared === undefined ? {} : { shared }) }
  } catch (error) {
    if (messageLog !== undefined) closeDatabase(messageLog)
    if (shared !== undefined) closePostgres(shared)
    closeDatabase(local)
    throw error
  }
}

/**
 * Cluster mode: the shared server configuration. Only the primary migrates it; a secondary whose Gatehouse expects a
 * schema the database does not have yet (the primary not started on this version) refuses to start and says so,
 * rather than waiting: a supervisor (systemd) restarts it after the primary has migrated.
 */
function openSharedConfDatabase(cluster: ClusterConfig): PostgresDb & SqlWriter {
  const db = openPostgres({ ...clusterPostgresOptions(cluster, 'configuration'), notifyAs: cluster.node })
  try {
    if (cluster.role === 'primary') {
      migrate(db, SHARED_CONF_MIGRATIONS)
    } else {
      for (const set of SHARED_CONF_MIGRATIONS) {
        const known = set.migrations.at(-1)?.version ?? 0
        const found = appliedVersion(db, set.component)
        if (found !== known) {
          throw new SecurityServerError(
            'migration_failed',
            `The shared server configuration at ${db.name} has ${set.component} schema version ${found}, this Gatehouse uses ${known}: ` +
              (found < known ? 'start the primary node on this version first (only the primary migrates), then this secondary' : 'update this node to the primary\'s version'),
          )
        }
      }
    }
    return db
  } catch (error) {
    closePostgres(db)
    throw error
  }
}

/**
 * DATA_DIR/messagelog.sqlite, `synchronous=FULL`. A file SQLite cannot open (truncated, overwritten) holds evidence
 * that can no longer be read: the server does not start on it, and says what to do rather than only SQLite's words.
 */
function openMessageLogDatabase(layout: DataDirLayout): WritableDb {
  let db: WritableDb | undefined
  try {
    db = openDatabase(layout.messageLogDb, { synchronous: 'FULL' })
    migrate(db, [messageLogMigrations])
    return db
  } catch (cause) {
    if (db !== undefined) closeDatabase(db)
    const coded = toSecurityServerError(cause, 'database_error')
    throw new SecurityServerError(
      coded.code,
      `The message log ${layout.messageLogDb} cannot be opened (${coded.message}): the evidence in it cannot be read. Keep the file ` +
        `(and messagelog.ack) for examination, run \`gatehouse messagelog check --data-dir ${layout.root}\`, then restore the database from a ` +
        'backup or move it aside; the server then reports the records it misses and refuses traffic until an administrator acknowledges the loss.',
      { cause },
    )
  }
}

export function createSecurityServerCore(
  layout: DataDirLayout, clock: Clock, logger: Logger, options: SecurityServerCoreOptions = {},
): SecurityServerCore {
  const databases = openDatabases(layout, options.cluster)
  const serverConf = createServerConf(databases.serverConf, clock)
  let parameters = applySystemParameters(readSystemParameters(databases.serverConf), logger)
  let confService: GlobalConfService | undefined
  const current = (): GlobalConf | undefined => confService?.current()
  const signer = createSigner({
    db: databases.serverConf, dataDir: layout.root, clock, logger: logger.child({ domain: 'signer' }),
    // xroad-protocols.md §4.8: own certificates' OCSP from the approved CA's responders in global configuration.
    // The configuration object in force versions them: a new download is new trust data (issue 15 §2).
    ocsp: { sources: (certDer) => ocspSourceFor(current(), certDer, parameters.ocspFetchIntervalSeconds), sourcesVersion: current },
    ...options.signer,
  })
  const opMonitor = createOpMonitor({
    db: databases.opMonitor, clock, logger: logger.child({ domain: 'op-monitoring' }), settings: parameters.opMonitor,
  })
  const environment = createEnvironmentMonitor({ clock })
  /**
   * The message log's settings from what is in force: PR-GCONF private parameters `timeStampingIntervalSeconds` of the
   * configuration in force (the stored one at construction), the archive folder, the caller's options, then the
   * administrator's parameters.
   */
  const messageLogInput = (conf: GlobalConf | undefined): MessageLogSettingsInput => ({
    ...(conf?.timeStampingIntervalSeconds === undefined ? {} : { timeStampingIntervalSeconds: conf.timeStampingIntervalSeconds }),
    // UG-SYSPAR archive-path: archiving is on by default, into DATA_DIR/archive.
    archiveDir: layout.archiveDir,
    ...options.messageLog,
    ...parameters.messageLog,
  })
  const messageLogSettings = messageLogInput(storedGlobalConf(layout, logger))
  const timestampingServices = (): SelectedTsa[] => selectedTsas(current(), serverConf.timestampingServices(), logger)
  const messageLog = createMessageLog({
    db: databases.messageLog, clock, logger: logger.child({ domain: 'message-log' }), settings: messageLogSettings,
    // xroad-protocols.md §6.2: the approved TSAs of the own instance, in the administrator's order.
    tsas: timestampingServices,
    ackFile: layout.messageLogAckFile,
  })
  let purgeTimer: NodeJS.Timeout | undefined
  let opMonitorPurgeTimer: NodeJS.Timeout | undefined

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
        // Read at each scheduling, so a changed `configuration-client.update-interval` applies from the next download.
        fetchIntervalSeconds: () => parameters.confUpdateIntervalSeconds ?? DEFAULT_CONF_UPDATE_INTERVAL_SECONDS,
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
  // A new configuration may change the time-stamping interval, and may be the first that knows our CA: fetch OCSP for
  // own certificates still without a good one.
  globalConf.onChange((conf) => {
    if (conf.timeStampingIntervalSeconds !== messageLog.settings.timeStampingIntervalSeconds) applyMessageLogSettings(conf)
    if (!running) return
    // A changed FETCHINTERVAL applies from the last refresh, not after the interval that was in force.
    signer.ocspSourcesChanged()
    const wanting = signer.listCertificates()
      .filter((c) => c.state === 'active' || c.state === 'registered' || c.state === 'saved')
      .filter((c) => signer.ocspStatus(c.id).status !== 'good')
      .map((c) => c.id)
    if (wanting.length > 0) void signer.refreshOcsp(wanting)
  })

  /**
   * Operational-monitoring retention (`op-monitor.keep-records-for-days`) runs at the times of `op-monitor.clean-interval`
   * (X-Road's Quartz cron, default twice a day); rescheduled when the parameters change. A wait longer than a timer
   * allows wakes up early and only reschedules.
   */
  const scheduleOpMonitorPurge = (): void => {
    if (opMonitorPurgeTimer !== undefined) clearTimeout(opMonitorPurgeTimer)
    opMonitorPurgeTimer = undefined
    if (!running) return
    const next = parseCleanInterval(parameters.opMonitorCleanInterval ?? DEFAULT_CLEAN_INTERVAL).nextAfter(clock.now())
    if (next === undefined) return
    opMonitorPurgeTimer = setTimeout(() => {
      if (clock.now().getTime() >= next.getTime()) purgeOpMonitoring(opMonitor, logger)
      scheduleOpMonitorPurge()
    }, Math.min(2 ** 31 - 1, Math.max(0, next.getTime() - clock.now().getTime())))
    opMonitorPurgeTimer.unref()
  }

  const applyMessageLogSettings = (conf: GlobalConf | undefined): void => {
    try {
      messageLog.updateSettings(messageLogInput(conf))
    } catch (error) {
      logger.error({ err: error }, 'message-log settings could not be applied; the previous ones stay in force')
    }
  }

  return {
    layout,
    clock,
    logger,
    databases,
    ...(options.cluster === undefined ? {} : { cluster: options.cluster }),
    serverConf,
    signer,
    opMonitor,
    environment,
    messageLog,
    globalConf,
    get parameters() {
      return parameters
    },
    applySystemParameters() {
      parameters = applySystemParameters(readSystemParameters(databases.serverConf), logger)
      confService?.intervalChanged()
      applyMessageLogSettings(current())
      const d = DEFAULT_OP_MONITOR_SETTINGS
      const p = parameters.opMonitor
      opMonitor.updateSettings({
        keepRecordsForDays: p.keepRecordsForDays ?? d.keepRecordsForDays,
        maxRecordsInPayload: p.maxRecordsInPayload ?? d.maxRecordsInPayload,
        recordsAvailableTimestampOffsetSeconds: p.recordsAvailableTimestampOffsetSeconds ?? d.recordsAvailableTimestampOffsetSeconds,
        healthStatisticsPeriodSeconds: p.healthStatisticsPeriodSeconds ?? d.healthStatisticsPeriodSeconds,
      })
      scheduleOpMonitorPurge()
      logger.info('system parameters applied')
    },
    timestampingServices,
    async start() {
      running = true
      await globalConf.reloadAnchor()
      messageLog.start()
      // Operational-monitoring retention: purged at start, then at the times of `op-monitor.clean-interval`.
      purgeOpMonitoring(opMonitor, logger)
      scheduleOpMonitorPurge()
      environment.start()
      // Audit-log retention (`audit-log.keep-entries-for`): at start and hourly.
      const purgeAudit = (): void => applyAuditRetention(databases.local, parameters.auditLogKeepDays, clock, logger)
      purgeAudit()
      purgeTimer = setInterval(purgeAudit, 3600_000)
      purgeTimer.unref()
    },
    async close() {
      running = false
      if (purgeTimer !== undefined) clearInterval(purgeTimer)
      purgeTimer = undefined
      scheduleOpMonitorPurge()
      environment.stop()
      confService?.stop()
      // Commits what waits in the group commit and stops time-stamping before the database closes.
      await messageLog.stop()
      opMonitor.close()
      await signer.close()
      if (databases.shared !== undefined) closePostgres(databases.shared)
      for (const db of [databases.local, databases.messageLog, databases.opMonitor]) closeDatabase(db)
    },
  }
}

function ocspSourceFor(conf: GlobalConf | undefined, certDer: Uint8Array, fetchIntervalSeconds: number | undefined): OcspSource | undefined {
  const match = conf?.getApprovedCaFor(certDer)
  if (conf === undefined || match === undefined) return undefined
  const responders = conf.getOcspResponders(match.issuerCert)
  return {
    issuerDer: match.issuerCert,
    urls: responders.map((r) => r.url),
    responderCertsDer: responders.flatMap((r) => (r.cert === undefined ? [] : [r.cert])),
    freshnessSeconds: conf.ocspFreshnessSeconds,
    // The administrator's `signer.ocsp-fetch-interval` when set, else global configuration's FETCHINTERVAL part.
    fetchIntervalSeconds: fetchIntervalSeconds ?? conf.ocspFetchIntervalSeconds,
    verifyNextUpdate: conf.verifyNextUpdate,
  }
}

/** The configuration stored by the last download, read without network at construction; absent before the first. */
function storedGlobalConf(layout: DataDirLayout, logger: Logger): GlobalConf | undefined {
  try {
    const snapshot = readStoredConfiguration(layout.globalConfDir)
    return snapshot === undefined ? undefined : new GlobalConf(snapshot)
  } catch (error) {
    logger.warn({ err: error }, 'stored global configuration is unreadable; time-stamping interval left at its default')
    return undefined
  }
}

/**
 * ug-ss §10.2: the administrator's selected time-stamping services, in their order, among the TSAs global
 * configuration approves (a selected TSA no longer approved is skipped); every approved TSA when none is selected.
 */
export function selectedTsas(conf: GlobalConf | undefined, selection: readonly string[], logger?: Logger): SelectedTsa[] {
  const approved = conf?.getTsas() ?? []
  const toSelected = (tsa: (typeof approved)[number]): SelectedTsa => ({ name: tsa.name, url: tsa.url, certificates: [tsa.cert] })
  if (selection.length === 0) return approved.map(toSelected)
  const chosen: SelectedTsa[] = []
  for (const name of selection) {
    const tsa = approved.find((t) => t.name === name)
    if (tsa === undefined) logger?.warn({ tsa: name }, 'selected time-stamping service is not approved in global configuration')
    else chosen.push(toSelected(tsa))
  }
  return chosen
}

function purgeOpMonitoring(opMonitor: OpMonitor, logger: Logger): void {
  opMonitor.purge().catch((error: unknown) => logger.error({ err: error }, 'operational monitoring purge failed'))
}

/**
 * Deletes audit-log entries older than `keepDays` (0 keeps all), recording the pruning itself in the log; a chain that
 * does not verify in the part to delete is left whole and the refusal recorded, so evidence of tampering survives.
 */
export function applyAuditRetention(db: WritableDb, keepDays: number, clock: Clock, logger: Logger): void {
  if (keepDays <= 0) return
  try {
    const now = clock.now()
    const before = new Date(now.getTime() - keepDays * 86_400_000).toISOString()
    const result = pruneAuditLog(db, before, now.toISOString())
    if (result !== null && result.pruned === 0) return
    const entry = result === null
      ? { outcome: 'failure' as const, errorCode: 'audit_chain_broken', data: { before } }
      : { outcome: 'success' as const, errorCode: null, data: { before, pruned: result.pruned, anchor: { id: result.anchor.lastPrunedId, hash: result.anchor.hash } } }
    appendAuditEntry(db, { at: now.toISOString(), actor: 'system', event: 'audit.prune', object: 'audit log', ...entry })
    if (result === null) logger.error('audit-log entries were not pruned: the hash chain does not verify in the part to delete (run gatehouse audit verify)')
    else logger.info({ pruned: result.pruned }, 'audit-log entries pruned')
  } catch (error) {
    logger.error({ err: error }, 'audit-log retention failed')
  }
}

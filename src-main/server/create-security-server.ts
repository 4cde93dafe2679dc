import { EventEmitter } from 'node:events'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import type { AddressInfo } from 'node:net'
import type { Server } from 'node:http'
import type { ListenerInfo, ListenerStatus, ServiceState } from '@shared/admin-api/admin-api'
import { SERVER_EVENT_NAMES, type ServerEvent, type ServerEvents } from '@shared/server-events'
import { appendAuditEntry } from '../audit-log'
import { applyPendingRestore } from '../backup'
import { SecurityServerError, closeDatabase, createLogger, limitOldGenerationGrowth, systemClock, tierUpSooner, watchExternalMemory, type Clock, type Logger } from '../platform'
import { createAdminHttpServer, createAdminRuntime, loadOrCreateAdminTls, type AdminService } from '../admin'
import { dataDirLayout, type DataDirLayout, type ServerConfig } from './server-config'
import { createSecurityServerCore, openServerConfDatabase, type SecurityServerCore, type SecurityServerCoreOptions } from './security-server-core'
import { createProxyRuntime, type ProxyRuntime, type ProxyRuntimeOptions } from './proxy-runtime'
import { syncRegistrationStates } from './registration-sync'
import { bootstrapDifferences } from './server-config'
import { bootstrapFile } from './bootstrap-file'
import type { MessageLogSettingsInput } from '../message-log'
import { GATEHOUSE_VERSION } from './version'
import { createAlertCenter, evaluateAlerts } from '../alerts'
import { createServerMetrics, type ServerMetrics } from './metrics'
import { alertSnapshot, serverFactsSource } from './server-facts'
import { createHealthChecks } from './health-checks'
import { createDiagnosticsHooks } from './diagnostics-hooks'
import { checkRestoredDatabase, createServerBackups } from './server-backups'
import { createClusterNode, type ClusterNode } from './cluster-node'

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
  /** Message-log system parameters (time-stamping interval, failure period…); X-Road's defaults otherwise. */
  messageLog?: MessageLogSettingsInput
  /** The bootstrap file `config` was read from (`--config`), compared with `config` to tell when a restart is needed. */
  configFile?: string
  /**
   * What the entry applied on top of the file to make `config` (`gatehouse serve --cluster-*`): applied to the file
   * again before comparing, so that a command-line setting is not a difference and an edit of the file still is.
   */
  configOverrides?: (fromFile: ServerConfig) => ServerConfig
  /** Restarts this server in its process (the supervisor's hook behind `system.restart`); absent: not offered. */
  restart?: () => void
  /** How often the runtime re-checks the state nothing announces (token devices, certificate expiry); default 5 s. */
  reconcileIntervalMs?: number
  /** Dependencies injected into the signer (`npm run bench`'s slow token wraps the token drivers); none in production. */
  signer?: SecurityServerCoreOptions['signer']
  /** The pipelines' views replaced (`npm run bench`'s security-off skeleton, scripts/bench/skeleton-server.ts); none in production. */
  wrapProxyViews?: ProxyRuntimeOptions['wrapViews']
}

export interface TypedEvents {
  on<E extends keyof ServerEvents>(event: E, listener: (payload: ServerEvents[E]) => void): this
  off<E extends keyof ServerEvents>(event: E, listener: (payload: ServerEvents[E]) => void): this
  once<E extends keyof ServerEvents>(event: E, listener: (payload: ServerEvents[E]) => void): this
}

export interface SecurityServer {
  start(): Promise<ListenerInfo[]>
  /** Stops listeners and background work and closes the databases; a stopped server is not started again. */
  stop(): Promise<void>
  /** The domains, for the desktop shell and integration tests. */
  readonly core: SecurityServerCore
  /** The admin API; `admin.call(caller, …)` is the checked entry the transports use. */
  readonly admin: AdminService
  readonly events: TypedEvents
  /** Every server event in one stream (the SSE endpoint and the desktop IPC); returns an unsubscribe. */
  subscribe(listener: (event: ServerEvent) => void): () => void
  /** The `/metrics` exposition (also served on the admin listener). */
  readonly metrics: ServerMetrics
  /** Cluster mode: this node's type, the nodes' registry and its change feed; undefined when standalone. */
  readonly cluster: ClusterNode | undefined
}

export function createSecurityServer(options: SecurityServerOptions): SecurityServer {
  const layout = dataDirLayout(options.dataDir)
  const clock = options.clock ?? systemClock
  const logger = options.logger ?? createLogger({ level: options.config.logging.level })
  const emitter = new EventEmitter()
  let state: ServiceState = 'stopped'
  let startedAt: string | null = null
  // A verified restore the previous run staged but could not put in place (it stopped before): apply it first.
  applyRestore(layout, clock, logger)
  const core = createSecurityServerCore(layout, clock, logger, {
    messageLog: options.messageLog, signer: options.signer, ...(options.config.cluster === undefined ? {} : { cluster: options.config.cluster }),
  })
  const { databases } = core
  const backups = createServerBackups({
    layout, databases, serverConf: core.serverConf, clock, logger, parameters: () => core.parameters.backup,
  })
  let backupTimer: NodeJS.Timeout | undefined
  const listeners: Array<{ info: ListenerInfo; server: Server }> = []
  let proxy: ProxyRuntime | undefined
  let reconcileTimer: NodeJS.Timeout | undefined
  const unsubscribe: Array<() => void> = []
  const allListeners = (): ListenerInfo[] => [...(proxy?.listeners() ?? []), ...listeners.map((l) => l.info)]
  const adminListenerStatus = (): ListenerStatus[] => {
    const { adminPort, host } = options.config.internal
    if (adminPort === null) return []
    const open = listeners.find((l) => l.info.name === 'admin')
    return [{ name: 'admin', address: `${host}:${adminPort}`, url: open?.info.url ?? null, listening: open !== undefined, problem: open === undefined ? `the server is ${state}` : null }]
  }
  const emit = <E extends keyof ServerEvents>(name: E, payload: ServerEvents[E]): void => {
    emitter.emit(name, payload)
  }
  const alerts = createAlertCenter({
    db: () => databases.local, clock, logger: logger.child({ domain: 'alerts' }),
    onChange: (change, alert) => emit('alert', { change, alert, at: clock.now().toISOString() }),
    serverId: () => adminRuntime.serverId(),
  })
  const facts = serverFactsSource(core, {
    timestamping: () => admin.messageLog.status(),
    forecast: () => admin.messageLog.forecast(),
    globalConf: () => admin.globalConf.status(),
    readiness: () => proxy?.readiness() ?? [],
    tlsConnections: () => proxy?.tlsConnections(),
  }, logger)
  const metrics = createServerMetrics({ facts, activeAlerts: () => alerts.list(false), version: GATEHOUSE_VERSION })

  /**
   * After each reconcile: tell the GUI when what `system.status` shows changed, and bring the alerts in line with the
   * state (certificates, OCSP, time-stamping, tokens, disk, readiness). One evaluation at a time; calls meanwhile
   * share the next one.
   */
  let lastStatus = ''
  let evaluating: Promise<void> = Promise.resolve()
  let evaluationQueued = false
  const afterReconcile = (): void => {
    if (evaluationQueued) return
    evaluationQueued = true
    evaluating = evaluating.then(async () => {
      evaluationQueued = false
      if (proxy === undefined) return
      const checks = proxy.readiness()
      const signature = JSON.stringify([checks.map((c) => [c.key, c.light, c.code, c.params]), allListeners().map((l) => l.url)])
      if (signature !== lastStatus) {
        lastStatus = signature
        emit('status-changed', { ready: checks.length > 0 && checks.every((c) => c.light === 'green' || c.light === 'yellow'), at: clock.now().toISOString() })
      }
      alerts.update(evaluateAlerts(alertSnapshot(await facts.read(), alerts.diskDaysThreshold())))
    }).catch((error: unknown) => logger.error({ err: error }, 'alert evaluation failed'))
  }
  /** A change anywhere may change what the proxy runtime derives: re-derive (cheap when nothing changed). */
  const follow = (reason: string): void => {
    void proxy?.reconcile(reason).then(afterReconcile)
  }

  /**
   * Cluster mode: another node committed a configuration change. The change stamp moves at once (every value derived
   * from the configuration — the proxy's lookups, the signer's — is read anew at its next use); then, once per burst
   * of notifications, what is applied rather than looked up follows as after a change made here: system parameters,
   * the anchor, the proxy runtime, and the GUI is told.
   */
  let remoteQueued = false
  let anchorSha = core.serverConf.anchorFile()?.sha256
  const remoteChanged = (event: string): void => {
    databases.shared?.noteRemoteChange()
    if (remoteQueued) return
    remoteQueued = true
    setImmediate(() => {
      remoteQueued = false
      if (closed) return
      try {
        core.applySystemParameters()
        const sha = core.serverConf.anchorFile()?.sha256
        if (sha !== anchorSha) {
          anchorSha = sha
          void core.globalConf.reloadAnchor().catch((error: unknown) => logger.error({ err: error }, 'the configuration anchor another node stored cannot be loaded'))
        }
      } catch (error) {
        logger.error({ err: error }, 'a configuration change of another node could not be applied')
      }
      emit('configuration-changed', { event, at: clock.now().toISOString() })
      follow(event)
    })
  }
  const readyOf = (checks: ReturnType<ProxyRuntime['readiness']>): boolean => checks.length > 0 && checks.every((c) => c.light === 'green' || c.light === 'yellow')
  const clusterNode = createClusterNode(core, {
    logger,
    onRemoteChange: remoteChanged,
    report: () => {
      const checks = proxy?.readiness() ?? []
      const log = core.messageLog.status()
      return {
        addresses: allListeners().map((l) => l.url),
        readiness: { ready: readyOf(checks), failing: checks.filter((c) => c.light === 'red').map((c) => c.key) },
        messageLog: {
          acceptingMessages: log.acceptingMessages, unstampedRecords: log.unstampedRecords, lastTimestampAt: log.lastTimestampAt,
          timestampingFailingSince: log.timestampingFailingSince,
        },
      }
    },
  })

  // X-Road's health checks for load balancers; their maintenance mode lives as long as this server (ig-xlb §3.4).
  const health = createHealthChecks(core, clock, logger.child({ component: 'health-check' }))

  const setState = (next: ServiceState): void => {
    state = next
    emit('state-changed', { state: next, at: clock.now().toISOString() })
  }

  const adminRuntime = createAdminRuntime({
    serverConfDb: () => databases.local,
    configDb: () => databases.serverConf,
    domains: core,
    serverProxyPort: options.config.external.serverProxyPort,
    clock,
    logger,
    bootstrap: bootstrapFile(layout.root, options.configFile, options.config, logger),
    diagnostics: createDiagnosticsHooks(core, options.config, () => proxy, adminListenerStatus, health),
    clientProxyUrl: () => {
      const open = proxy?.listeners() ?? []
      return (open.find((l) => l.name === 'clientProxyHttp') ?? open.find((l) => l.name === 'clientProxyHttps'))?.url
    },
    onChanged: (event) => {
      if (event.startsWith('settings.')) core.applySystemParameters()
      anchorSha = core.serverConf.anchorFile()?.sha256
      emit('configuration-changed', { event, at: clock.now().toISOString() })
      follow(event)
    },
    alerts,
    system: {
      version: GATEHOUSE_VERSION,
      dataDir: layout.root,
      backupsDir: layout.backupsDir,
      clock,
      databases: [
        { name: 'serverconf' as const, path: layout.serverConfDb, db: databases.local },
        { name: 'messagelog' as const, path: layout.messageLogDb, db: databases.messageLog },
        { name: 'opmonitor' as const, path: layout.opMonitorDb, db: databases.opMonitor },
      ],
      status: () => {
        const checks = proxy?.readiness() ?? []
        const reasons = bootstrapDifferences(layout.root, options.configFile, options.config, options.configOverrides)
        return {
          state,
          startedAt,
          initialized: core.serverConf.identity() !== undefined,
          listeners: allListeners(),
          expectedListeners: [...(proxy?.listenerStatus() ?? []), ...adminListenerStatus()],
          readiness: { ready: readyOf(checks), checks },
          restart: { supported: options.restart !== undefined, required: reasons.length > 0, reasons },
        }
      },
      ...(options.restart === undefined ? {} : { restart: options.restart }),
      ...(clusterNode === undefined ? {} : { cluster: clusterNode, sharedDatabase: () => clusterNode.sharedDatabase() }),
      backups: {
        store: backups.store,
        create: backups.create,
        schedule: backups.schedule,
        runSchedule: backups.runSchedule,
        checkDatabase: checkRestoredDatabase,
        restoreRefusal: () => {
          if (core.serverConf.identity() !== undefined) return 'initialized'
          const softwareToken = join(layout.tokensDir, 'software')
          if (existsSync(softwareToken) && readdirSync(softwareToken).length > 0) return 'token'
          return existsSync(join(layout.root, 'lab')) ? 'lab' : null
        },
      },
    },
  })
  const admin = adminRuntime.service

  async function start(): Promise<ListenerInfo[]> {
    if (state === 'running' || state === 'starting') throw new SecurityServerError('conflict', `The security server is already ${state}`)
    if (closed) throw new SecurityServerError('conflict', 'A stopped security server cannot be started again; create a new one')
    setState('starting')
    try {
      // A lab created on this machine serves the configuration this server downloads: resume it first.
      await adminRuntime.service.lab.status().catch((error: unknown) => logger.error({ err: error }, 'the lab on this machine did not start'))
      await core.start()
      // Cluster mode: listening for the other nodes' changes before anything is derived from the configuration.
      await clusterNode?.start()
      const { internal } = options.config
      // The message exchange follows the configuration from here on: an uninitialized server opens its proxy
      // listeners when it joins an instance, a logged-out token starts serving when it is logged in.
      const runtime = createProxyRuntime(core, options.config, logger, {
        clientProxyLimits: options.config.proxyLimits,
        serverProxyLimits: options.config.proxyLimits,
        health: () => health.answer(),
        ...(options.wrapProxyViews === undefined ? {} : { wrapViews: options.wrapProxyViews }),
      })
      proxy = runtime
      // Dead objects and buffers of long exchanges collected before they make up much of the server's memory.
      limitOldGenerationGrowth()
      // Its exchanges' code optimised within seconds of traffic, not tens of seconds.
      tierUpSooner()
      unsubscribe.push(
        watchExternalMemory(),
        // The `/metrics` counters, beside operational monitoring.
        runtime.onExchange((observation) => metrics.observer.observe(observation)),
        core.signer.onChange((change) => follow(`signer.${change.method}`)),
        core.globalConf.onChange((conf) => {
          syncRegistrationStates(core, conf, logger)
          follow('global-conf')
        }),
      )
      const conf = core.globalConf.current()
      if (conf !== undefined) syncRegistrationStates(core, conf, logger)
      await runtime.reconcile('start')
      afterReconcile()
      if (core.serverConf.identity() === undefined) logger.info('security server is not initialized: the proxy listeners open once it joins an instance')
      reconcileTimer = setInterval(() => follow('interval'), options.reconcileIntervalMs ?? 5000)
      reconcileTimer.unref()
      // Scheduled backups (`backup.interval-hours`): checked every minute, written when due.
      backupTimer = setInterval(() => void backups.runSchedule(), 60_000)
      backupTimer.unref()
      void backups.runSchedule()
      if (internal.adminPort !== null) {
        const tls = await loadOrCreateAdminTls(layout.tlsDir, clock)
        const server = createAdminHttpServer({
          runtime: adminRuntime, tls, rendererDir: options.rendererDir, logger, version: GATEHOUSE_VERSION,
          metrics: (accept) => metrics.scrape(accept), events: { subscribe },
        })
        const port = await listen(server, internal.host, internal.adminPort)
        listeners.push({ info: { name: 'admin', url: `https://${hostForUrl(internal.host)}:${port}/` }, server })
        logger.info({ fingerprint256: tls.fingerprint256, generated: tls.generated }, 'admin TLS certificate')
      }
      startedAt = clock.now().toISOString()
      setState('running')
      logger.info({ dataDir: layout.root, listeners: allListeners() }, 'security server started')
      return allListeners()
    } catch (error) {
      await closeEverything()
      await core.close()
      closed = true
      setState('failed')
      throw error
    }
  }

  async function closeEverything(): Promise<void> {
    if (reconcileTimer !== undefined) clearInterval(reconcileTimer)
    reconcileTimer = undefined
    if (backupTimer !== undefined) clearInterval(backupTimer)
    backupTimer = undefined
    await backups.runSchedule()
    for (const off of unsubscribe.splice(0)) off()
    await clusterNode?.stop()
    const closing = listeners.splice(0).map(({ server }) => closeServer(server, options.config.shutdownGraceMs))
    const runtime = proxy
    proxy = undefined
    await Promise.all([...closing, runtime?.close()])
    // Lab services and open ceremony sessions of the admin runtime go after the listeners that use them.
    await adminRuntime.close()
    await evaluating
    await alerts.idle()
  }

  let closed = false
  async function stop(): Promise<void> {
    if (state === 'stopping' || closed) return
    if (state === 'stopped') {
      // Never started: only the databases and domains opened at construction need closing.
      closed = true
      await core.close()
      return
    }
    setState('stopping')
    await closeEverything()
    await core.close()
    closed = true
    startedAt = null
    // The databases are closed: a restore the GUI staged goes in place now, before the supervisor starts the next server.
    applyRestore(layout, clock, logger)
    setState('stopped')
    logger.info('security server stopped')
  }

  function subscribe(listener: (event: ServerEvent) => void): () => void {
    const handlers = SERVER_EVENT_NAMES.map((name) => {
      const handler = (payload: unknown): void => listener({ name, payload } as ServerEvent)
      emitter.on(name, handler)
      return [name, handler] as const
    })
    return () => {
      for (const [name, handler] of handlers) emitter.off(name, handler)
    }
  }

  return { start, stop, admin, core, events: emitter as unknown as TypedEvents, subscribe, metrics, cluster: clusterNode }
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

/**
 * Puts a staged restore in place (no database of the data directory may be open) and records it at the end of the
 * restored audit log: who asked for it and which backup.
 */
function applyRestore(layout: DataDirLayout, clock: Clock, logger: Logger): void {
  const applied = applyPendingRestore(layout.root)
  if (applied === undefined) return
  logger.info({ backup: applied.manifest, replacedInto: applied.aside }, 'restored a backup into the data directory')
  const db = openServerConfDatabase(layout)
  try {
    appendAuditEntry(db, {
      at: clock.now().toISOString(), actor: applied.actor, event: 'system.restore', outcome: 'success', object: applied.manifest.serverId,
      errorCode: null, data: { backup: applied.manifest, replacedInto: applied.aside },
    })
  } finally {
    closeDatabase(db)
  }
}

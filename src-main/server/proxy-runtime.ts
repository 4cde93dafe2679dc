import { createHash, X509Certificate } from 'node:crypto'
import { describeIdentifier, type ClientId } from '@shared/domain/identifiers'
import type { ListenerInfo, ListenerStatus, ReadinessCheck } from '@shared/admin-api/admin-api'
import { clientError, DatabaseDerivedCache, logFailure, newDerivedCacheScope, type DerivedCacheScope, pemBlocks, SecurityServerError, toSecurityServerError, type Clock, type Logger } from '../platform'
import type { GlobalConf } from '../global-conf'
import {
  buildCertPath, parseCertificate, SignatureVerificationCache, validateCertPath, verificationTrustFromGlobalConf, verifyPathOcsp,
  type VerificationTrust,
} from '../signature'
import {
  BodyStore, PeerCheckCache, createPeerClient, encodedId, createServiceClient, fetchPeerOcspResponses, MessageBudget, parseAddress, startClientProxyListener,
  startHealthCheckListener, startOcspResponderListener, soapMetaserviceHandler, restMetaserviceHandler, startServerProxyListener, DEFAULT_MESSAGE_BUDGET, DEFAULT_OCSP_RESPONDER_PORT,
  DEFAULT_SERVER_PROXY_PORT,
  type ClientProxyDeps, type ExchangeObservation, type ExchangeObserver, type HealthAnswer, type GlobalConfView, type MessageLogWriter, type MessageSigner, type MessageVerifier,
  type ProviderServer, type ServerConfView, type ServerProxyDeps, type TlsClientVerifier, type ListenerLimits, type RunningServerProxy, type AuthTlsCredentials, type ClientTlsProfile,
} from '../proxy'
import { monitoringHandlerFor, type OperationalRecord } from '../op-monitoring'
import { loadOrCreateAdminTls } from '../admin'
import type { SecurityServerCore } from './security-server-core'
import { createEvidenceDownloads } from './evidence-downloads'
import { monitoringQueryDeps } from './monitoring-services'
import { listedClients, metaserviceConfView } from './metaservices'
import type { ServerConfig } from './server-config'
import {
  authSituation, configurationCheck, evidenceCheck, readinessCheck, registrationCheck, signingCheck, timestampingCheck, type AuthCredentials, type AuthSituation,
} from './traffic-readiness'

/**
 * The message exchange of a running security server, assembled from the real domains: the pipelines' narrow
 * interfaces (proxy-deps) as thin adapters over global configuration, server configuration, the signer, signature
 * verification, the message log and operational monitoring, and the three listeners of xroad-protocols.md §4
 * (client proxy, server proxy on 5500 with mutual TLS, OCSP responses on 5577), plus the load balancers' health-check
 * endpoint when the bootstrap file gives it a port (ig-xlb §3.4).
 */

/**
 * The `x-proxy-version` we send: the X-Road protocol level Gatehouse speaks (a peer compares it with its configured
 * minimum, `ClientProxyVersionVerifier`; `checkProxyVersion` here), not Gatehouse's own release number.
 */
export const PROXY_PROTOCOL_VERSION = '7.8.0'

/**
 * Gatehouse extension for several servers on one machine: an address with an explicit `host:port` for the server proxy
 * has its OCSP responder at `port + 77` — exactly X-Road's 5500 → 5577 when the port is the default.
 */
export const OCSP_PORT_OFFSET = DEFAULT_OCSP_RESPONDER_PORT - DEFAULT_SERVER_PROXY_PORT

/** One listener the runtime owns: open, or why not. */
interface ListenerSlot {
  name: ListenerInfo['name']
  host: string
  port: number
  scheme: 'http' | 'https'
  running?: { port: number; close(): Promise<void> | void }
  problem: string | null
}

export interface ProxyRuntime {
  /**
   * Re-derives the message exchange from the current state: opens the listeners once the server is initialized,
   * and hot-swaps the TLS credentials (own auth key and chain) and the approved CAs when they change. Calls are
   * serialised and coalesced; a call that finds nothing changed does nothing.
   */
  reconcile(reason: string): Promise<void>
  /** Listeners open now. */
  listeners(): ListenerInfo[]
  /** Every listener the bootstrap configuration asks for, with its state. */
  listenerStatus(): ListenerStatus[]
  /** The latest check of each area (configuration, listeners, authentication, signing, registration). */
  readiness(): ReadinessCheck[]
  /** Tells `listener` about every exchange the pipelines finish (the diagnostics' test call reads its timing); returns an unsubscribe. */
  onExchange(listener: (observation: ExchangeObservation) => void): () => void
  /** Our auth key and chain (PEM) in use now, if any (the diagnostics' probe of our own server proxy presents them). */
  authTls(): AuthTlsCredentials | undefined
  /** Our auth certificate chain the server proxy presents and the peer client sends now (DER, leaf first), if any. */
  authCertChain(): Uint8Array[]
  /** §4.2 `AuthTrustVerifier` on a provider's chain as the peer client checks it (for the diagnostics' test call). */
  verifyPeerChain(chainDer: Uint8Array[], address: string): Promise<void>
  /** TLS connections made since the start: to other security servers (peer client) and accepted by the server proxy. */
  tlsConnections(): TlsConnectionCounts
  close(): Promise<void>
}

export interface TlsConnectionCounts {
  peerOpened: number
  serverProxyAccepted: number
}

interface Closable {
  close(): Promise<void> | void
}

export interface ProxyRuntimeOptions {
  /** Body size and slow-client limits of the client proxy listeners (DEFAULT_LISTENER_LIMITS otherwise). */
  clientProxyLimits?: Partial<ListenerLimits>
  /** The same for the server proxy listener. */
  serverProxyLimits?: Partial<ListenerLimits>
  /** What the health-check listener answers (`config.healthCheck`); without it that listener is not opened. */
  health?: () => Promise<HealthAnswer>
  /**
   * Replaces the pipelines' views of the domains: `npm run bench`'s security-off skeleton hands in pass-throughs for
   * signing, verification, the message log and the peer's OCSP check (issue 15 §5). Never set in production: no
   * configuration, flag or environment variable reaches it.
   */
  wrapViews?: (real: ProxyViews) => ProxyViews
}

/**
 * The message exchange of a running server, following its configuration (DESIGN "The running server follows its
 * configuration"): nothing is captured at start. Listeners open when the server is initialized; the server proxy and
 * the peer client take the current auth credentials, swapped in place when a token logs in or out, a certificate is
 * activated, disabled or registered, or global configuration changes; in-flight requests finish on their connections.
 */
export function createProxyRuntime(
  core: SecurityServerCore, config: ServerConfig, logger: Logger, options: ProxyRuntimeOptions = {},
): ProxyRuntime {
  const { clock } = core
  // Issue 14 §3: one budget for every connection of both proxies; spool files of an earlier run are gone with it.
  const budget = new MessageBudget({ ...DEFAULT_MESSAGE_BUDGET, ...config.memoryBudget })
  const bodies = new BodyStore(budget, core.layout.spoolDir)
  const leftovers = bodies.clearSpool()
  if (leftovers > 0) logger.info({ files: leftovers }, 'removed spool files left by an earlier run')
  const real = proxyViews(core, budget)
  const views = options.wrapViews === undefined ? real : options.wrapViews(real)
  const serviceClient = createServiceClient()
  const verifyPeerChain = peerChainVerifier(views.requireConf, clock)
  const peer = createPeerClient({
    authCertMatchesMember: views.globalConf.authCertMatchesMember, verifyPeerChain, trustVersion: () => core.globalConf.current(), defaultPort: DEFAULT_SERVER_PROXY_PORT,
  })
  const exchangeListeners = new Set<(observation: ExchangeObservation) => void>()
  const monitor = opMonitorObserver(core)
  const listening = listenersObserver(exchangeListeners, logger)
  const observer: ExchangeObserver = { observe: (o) => { monitor.observe(o); listening.observe(o) } }
  let credentials: AuthCredentials | undefined
  let appliedFingerprint: string | undefined
  /** The approved CAs in the server proxy's TLS context (`approvedCaKey`). */
  let appliedCaKey: string | undefined
  /** The refusal told while there are no credentials. */
  let appliedUnavailable: string | undefined
  let checks: ReadinessCheck[] = []
  let serverProxy: RunningServerProxy | undefined
  /** The client proxy's HTTPS listener and the TLS profile it has now (`proxy.client-tls-allow-tls13`). */
  let clientProxyHttps: { setTlsProfile(profile: ClientTlsProfile): void; allowTls13: boolean } | undefined
  let closed = false
  let serverProxyAccepted = 0

  const clientDeps: ClientProxyDeps = {
    globalConf: views.globalConf, serverConf: views.serverConf, signer: views.signer, verifier: views.verifier, messageLog: views.messageLog,
    peer, proxyVersion: PROXY_PROTOCOL_VERSION,
    // §4.3: OCSP responses for our auth certificate go first in the request multipart.
    authOcspResponses: async () => (credentials === undefined ? [] : core.signer.ocspResponses(credentials.authCertDer)),
    clock, observer, bodies,
    // Issue 15 §5: one message's lookups ask whether their database changed once (derived-cache.ts).
    forExchange: () => {
      const scope = newDerivedCacheScope()
      return {
        serverConf: views.serverConf.forExchange?.(scope) ?? views.serverConf,
        signer: views.signer.forExchange?.(scope) ?? views.signer,
        authOcspResponses: async () => (credentials === undefined ? [] : core.signer.ocspResponses(credentials.authCertDer, scope)),
      }
    },
  }
  const serverDeps: ServerProxyDeps = {
    globalConf: views.globalConf, serverConf: views.serverConf, tlsClientVerifier: views.tlsClientVerifier, verifier: views.verifier,
    signer: views.signer, messageLog: views.messageLog, serviceClient, clock, observer, bodies,
    // Read per request: a changed system parameter applies to the next request (no restart).
    minSupportedClientVersion: () => core.parameters.minSupportedClientVersion,
    // PR-OPMON, PR-ENVMONMES: the owner's monitoring services are answered here, from the state of this moment.
    // PR-META, PR-MREST: the metaservices (listMethods, allowedMethods, getWsdl, getOpenAPI) of any provider here.
    localService: (header) => {
      const deps = monitoringQueryDeps(core, core.globalConf.current())
      return (deps === undefined ? undefined : monitoringHandlerFor(header, deps)) ?? soapMetaserviceHandler(header, metaserviceConfView(core.serverConf, () => core.globalConf.current()))
    },
    localRestService: (request) => restMetaserviceHandler(request, metaserviceConfView(core.serverConf, () => core.globalConf.current())),
    forExchange: () => {
      const scope = newDerivedCacheScope()
      return { serverConf: views.serverConf.forExchange?.(scope) ?? views.serverConf, signer: views.signer.forExchange?.(scope) ?? views.signer }
    },
  }

  const { internal, external } = config
  const slots: ListenerSlot[] = [
    { name: 'clientProxyHttp' as const, host: internal.host, port: internal.clientProxyHttpPort, scheme: 'http' as const },
    { name: 'clientProxyHttps' as const, host: internal.host, port: internal.clientProxyHttpsPort, scheme: 'https' as const },
    { name: 'serverProxy' as const, host: external.host, port: external.serverProxyPort, scheme: 'https' as const },
    { name: 'ocspResponder' as const, host: external.host, port: external.ocspResponderPort, scheme: 'http' as const },
    { name: 'healthCheck' as const, host: config.healthCheck.host, port: options.health === undefined ? null : config.healthCheck.port, scheme: 'http' as const },
  ].flatMap((s) => (s.port === null ? [] : [{ ...s, port: s.port, problem: null }]))

  const openSlot = async (slot: ListenerSlot): Promise<{ port: number; close(): Promise<void> | void }> => {
    const limits = (l: Partial<ListenerLimits> | undefined) => (l === undefined ? {} : { limits: l })
    if (slot.name === 'clientProxyHttp' || slot.name === 'clientProxyHttps') {
      const https = slot.name === 'clientProxyHttps'
      const allowTls13 = core.parameters.clientTlsAllowTls13
      const proxy = await startClientProxyListener({
        host: slot.host, httpPort: https ? null : slot.port, httpsPort: https ? slot.port : null, graceMs: config.shutdownGraceMs,
        ...(https ? { tls: await internalTls(core), tlsProfile: { allowTls13 } } : {}),
        deps: clientDeps, logger: logger.child({ component: 'clientproxy' }),
        listClients: (instance) => listedClients(core.globalConf.current(), instance), evidence: createEvidenceDownloads(core, views.serverConf),
        ...limits(options.clientProxyLimits),
      })
      const running = (https ? proxy.https : proxy.http) as { port: number }
      if (!https) return { port: running.port, close: () => proxy.close() }
      clientProxyHttps = { setTlsProfile: (profile) => proxy.setTlsProfile(profile), allowTls13 }
      return { port: running.port, close: async () => { clientProxyHttps = undefined; await proxy.close() } }
    }
    if (slot.name === 'serverProxy') {
      const conf = core.globalConf.current()
      const started = await startServerProxyListener({
        host: slot.host, port: slot.port, graceMs: config.shutdownGraceMs, fallbackTls: await internalTls(core),
        ...(credentials === undefined ? {} : { tls: credentials }),
        approvedCaPem: approvedCaPem(conf), isTrustedAuthCert: views.isTrustedAuthCert, deps: serverDeps,
        logger: logger.child({ component: 'serverproxy' }), ...limits(options.serverProxyLimits),
      })
      started.server.on('secureConnection', () => serverProxyAccepted++)
      serverProxy = started
      appliedCaKey = approvedCaKey(conf)
      appliedFingerprint = credentials?.fingerprint
      return { port: started.port, close: async () => { serverProxy = undefined; await started.close() } }
    }
    if (slot.name === 'healthCheck' && options.health !== undefined) {
      return startHealthCheckListener({ host: slot.host, port: slot.port, answer: options.health, logger: logger.child({ component: 'health-check' }) })
    }
    return startOcspResponderListener({
      host: slot.host, port: slot.port, logger: logger.child({ component: 'ocsp-responder' }),
      ocspResponseFor: async (sha1) => ownOcspResponse(core, sha1),
    })
  }

  /** Opens what is not open yet; a listener that cannot open (port taken) is retried at the next reconcile. */
  const openListeners = async (): Promise<void> => {
    for (const slot of slots) {
      if (slot.running !== undefined || closed) continue
      try {
        slot.running = await openSlot(slot)
        if (slot.problem !== null) logger.info({ listener: slot.name }, 'listener is open now')
        slot.problem = null
      } catch (error) {
        const problem = (error as NodeJS.ErrnoException).code === 'EADDRINUSE'
          ? `port ${slot.port} on ${slot.host} is used by another program`
          : toSecurityServerError(error).message
        if (problem !== slot.problem) logger.error({ listener: slot.name, err: error }, `listener cannot open: ${problem}`)
        slot.problem = problem
      }
    }
  }

  /**
   * The auth credentials and approved CAs of the current state, swapped into the TLS endpoints when they differ. A new
   * global configuration with the same approved CAs (every download makes one) leaves the TLS contexts and the open
   * connections as they are: each connection's peer check is made again under it instead (the peer client's
   * `trustVersion`, the server proxy's `PeerCheckCache`), with no new handshake.
   */
  const applyCredentials = (auth: AuthSituation): void => {
    credentials = auth.credentials
    const conf = core.globalConf.current()
    const caKey = approvedCaKey(conf)
    const message = `This security server cannot authenticate: ${auth.check.message}`
    const credentialsChanged = credentials?.fingerprint !== appliedFingerprint
    const refusalChanged = credentials === undefined && message !== appliedUnavailable
    if (!credentialsChanged && !refusalChanged && caKey === appliedCaKey) return
    const unavailable = new SecurityServerError('ssl_authentication_failed', message)
    if (credentialsChanged || refusalChanged) peer.setCredentials(credentials, unavailable)
    serverProxy?.setCredentials(credentials, approvedCaPem(conf), unavailable)
    if (credentialsChanged) {
      logger.info({ authentication: credentials === undefined ? 'none' : 'in use', reason: auth.check.code }, 'TLS credentials of the server proxy and the peer client changed')
    }
    appliedFingerprint = credentials?.fingerprint
    appliedCaKey = caKey
    appliedUnavailable = credentials === undefined ? message : undefined
  }

  /** A changed `proxy.client-tls-allow-tls13` goes to the open HTTPS listener at once, for the connections that follow. */
  const applyClientTls = (): void => {
    const allowTls13 = core.parameters.clientTlsAllowTls13
    if (clientProxyHttps === undefined || clientProxyHttps.allowTls13 === allowTls13) return
    clientProxyHttps.setTlsProfile({ allowTls13 })
    clientProxyHttps.allowTls13 = allowTls13
    logger.info({ allowTls13 }, 'TLS protocols of the client proxy HTTPS port changed')
  }

  const listenersCheck = (): ReadinessCheck => {
    if (core.serverConf.identity() === undefined || core.serverConf.anchorFile() === undefined) return readinessCheck('listeners', 'gray', 'listeners-waiting')
    const failed = slots.find((s) => s.running === undefined)
    if (failed !== undefined) {
      return readinessCheck('listeners', 'red', 'listener-failed', { listener: failed.name, address: `${failed.host}:${failed.port}`, problem: failed.problem ?? 'not open yet' })
    }
    return readinessCheck('listeners', 'green', 'listeners-ready', { count: slots.length })
  }

  const reconcileNow = async (reason: string): Promise<void> => {
    if (closed) return
    views.invalidate()
    const initialized = core.serverConf.identity() !== undefined && core.serverConf.anchorFile() !== undefined
    const auth = await authSituation(core)
    applyCredentials(auth)
    applyClientTls()
    if (initialized) await openListeners()
    checks = [
      configurationCheck(core), listenersCheck(), auth.check, await signingCheck(core), registrationCheck(core), timestampingCheck(core), evidenceCheck(core),
    ]
    logger.debug({ reason, checks: checks.map((c) => c.code) }, 'proxy runtime reconciled')
  }

  let running: Promise<void> = Promise.resolve()
  let queued: Promise<void> | undefined
  const reconcile = (reason: string): Promise<void> => {
    // One reconcile at a time; calls arriving meanwhile share the single one queued after it.
    queued ??= running.then(() => {
      queued = undefined
      return reconcileNow(reason).catch((error: unknown) => logFailure(logger, error, { reason }, 'proxy runtime reconcile failed'))
    })
    running = queued
    return queued
  }

  return {
    reconcile,
    listeners: () => slots.flatMap((s) => (s.running === undefined ? [] : [{ name: s.name, url: `${s.scheme}://${hostForUrl(s.host)}:${s.running.port}/` }])),
    listenerStatus: () => slots.map((s) => ({
      name: s.name, address: `${s.host}:${s.port}`, url: s.running === undefined ? null : `${s.scheme}://${hostForUrl(s.host)}:${s.running.port}/`,
      listening: s.running !== undefined,
      problem: s.running !== undefined ? null : s.problem ?? (core.serverConf.identity() === undefined ? 'the server has not joined an instance yet' : 'not open yet'),
    })),
    readiness: () => checks,
    onExchange(listener) {
      exchangeListeners.add(listener)
      return () => exchangeListeners.delete(listener)
    },
    authTls: () => (credentials === undefined ? undefined : { keyPem: credentials.keyPem, certChainPem: credentials.certChainPem }),
    authCertChain: () => (credentials === undefined ? [] : pemChainToDer(credentials.certChainPem)),
    verifyPeerChain,
    tlsConnections: () => ({ peerOpened: peer.connectionsOpened(), serverProxyAccepted }),
    // A graceful stop: the listeners stop accepting and finish (or, after their grace, cut) the requests in flight,
    // which still need the peer and service clients; only then are those closed.
    async close() {
      closed = true
      await running.catch(() => undefined)
      await Promise.all(slots.map(async (s) => {
        const open = s.running
        s.running = undefined
        await open?.close()
      }))
      await closeAll([serviceClient, { close: () => peer.close() }])
    },
  }
}

/** The approved CAs as one value to compare (their PEM, in order). */
function approvedCaKey(conf: GlobalConf | undefined): string {
  return approvedCaPem(conf).join('')
}

function approvedCaPem(conf: GlobalConf | undefined): string[] {
  return (conf?.getAllCaCerts() ?? []).map(derToPem)
}

async function closeAll(closables: Closable[]): Promise<void> {
  await Promise.all(closables.splice(0).reverse().map(async (c) => c.close()))
}

export interface ProxyViews {
  requireConf(): GlobalConf
  globalConf: GlobalConfView
  serverConf: ServerConfView
  signer: MessageSigner
  verifier: MessageVerifier
  messageLog: MessageLogWriter
  tlsClientVerifier: TlsClientVerifier
  /**
   * §4.1 `checkClientTrusted`: the peer's leaf (DER) is an authentication certificate of some security server, in the
   * hash algorithm of the configuration that lists it (SHA-1 in V2).
   */
  isTrustedAuthCert(leaf: Uint8Array): boolean
  /** Drops what the views hold from server configuration and the per-connection peer checks (the runtime re-derives; the database check covers the rest). */
  invalidate(): void
}

/**
 * A logged body is at most this share of the in-flight memory budget: stored, it is read back whole into a record's
 * evidence containers (the archive's, an export's), which are built in memory (issue 14 §3). Storing it no longer
 * needs it whole (pieces, migration 5), so this bound now guards the reading side.
 */
const LOGGED_BODY_BUDGET_SHARE = 3

/** The pipelines' views of the real domains; with a budget, a logged body at most a third of it. */
export function proxyViews(core: SecurityServerCore, budget?: MessageBudget): ProxyViews {
  const { clock } = core
  const requireConf = (): GlobalConf => {
    const conf = core.globalConf.current()
    if (conf === undefined) throw new SecurityServerError('global_conf_outdated', 'No global configuration has been downloaded yet')
    return conf
  }
  const trustCache = new WeakMap<GlobalConf, Map<string, VerificationTrust>>()
  const trustFor = (conf: GlobalConf, instance: string): VerificationTrust => {
    let byInstance = trustCache.get(conf)
    if (byInstance === undefined) trustCache.set(conf, (byInstance = new Map()))
    let trust = byInstance.get(instance)
    if (trust === undefined) byInstance.set(instance, (trust = verificationTrustFromGlobalConf(conf.snapshot, instance)))
    return trust
  }

  // §4.2 authCertMatchesMember: registered for a server where the party is owner or client.
  const authCertMatchesMember = (leaf: Uint8Array, party: ClientId): boolean => requireConf().authCertMatchesMember(leaf, party)

  const globalConf: GlobalConfView = {
    assertValid: () => requireConf().assertValid(clock.now()),
    instanceIdentifier: () => requireConf().instanceIdentifier,
    serversOf: (provider) => {
      const servers: ProviderServer[] = []
      for (const s of requireConf().getSecurityServers(provider)) {
        if (s.address !== undefined) servers.push({ serverId: s.id, address: s.address, inMaintenanceMode: s.inMaintenanceMode })
      }
      return servers
    },
    authCertMatchesMember,
    memberExists: (party) => requireConf().isMemberOrSubsystem(party),
    isGlobalGroupMember: (client, group) => requireConf().isInGlobalGroup(client, group),
  }

  // Issue 15 §2: the per-message lookups come from memory while server configuration is unchanged — any write to its
  // database (an admin call, a CLI in another process, a restored backup) drops them before the next message.
  const lookups = new DatabaseDerivedCache(core.databases.serverConf)
  // `scope`: the message the lookups are for (`forExchange`), asking whether the database changed once for it.
  const serverConfFor = (scope: DerivedCacheScope | undefined): ServerConfView => ({
    isRegisteredClient: (id) => lookups.get(`registered:${encodedId(id)}`, () => core.serverConf.isRegisteredClient(id), scope),
    ownServerId: () => lookups.get('identity', () => core.serverConf.identity()?.serverId, scope),
    accessRightsFor: (id) => lookups.get(`rights:${encodedId(id)}`, () => core.serverConf.accessRightsFor(id), scope),
    localGroupMembers: (owner, code) => lookups.get(`group:${encodedId(owner)}:${code}`, () => {
      try {
        return core.serverConf.localGroupMembers(owner, code)
      } catch (error) {
        // A right naming a group that no longer exists grants nothing.
        if (error instanceof SecurityServerError && error.code === 'not_found') return []
        throw error
      }
    }, scope),
    service: (id) => lookups.get(`service:${encodedId(id)}`, () => {
      const found = core.serverConf.findService(id)
      return found === undefined ? undefined : { url: found.url, timeoutSeconds: found.timeoutSeconds, sslVerify: found.sslVerify, type: found.descriptionType }
    }, scope),
    isAuthentication: (id) => lookups.get(`is-auth:${encodedId(id)}`, () => {
      const client = core.serverConf.findClient(id)
      if (client === undefined) return undefined
      const certificateSha256 = client.isAuthentication === 'SSLAUTH' ? core.serverConf.listIsCertificates(id).map((c) => c.sha256.toLowerCase()) : []
      return { mode: client.isAuthentication, certificateSha256 }
    }, scope),
    forExchange: (exchange) => serverConfFor(exchange),
  })
  const serverConf = serverConfFor(undefined)

  // The signer's signing contexts are cached on server configuration's database too: one message's scope covers both.
  const signerFor = (scope: DerivedCacheScope | undefined): MessageSigner => ({
    // A body part is signed by the SHA-512 taken as it streamed in, the digest X-Road computes over its bytes.
    sign: (member, parts) => core.signer.signMessage(member, parts, scope),
    checkSigningContext: async (member) => {
      await core.signer.getSigningContext(member, scope)
    },
    forExchange: (exchange) => signerFor(exchange),
  })
  const signer = signerFor(undefined)

  // Issue 15 §4: a peer's batch signature is verified once for all the messages of its batch.
  const verifications = new SignatureVerificationCache()
  const verifier: MessageVerifier = {
    async verify(expectedSigner, parts, signature, at) {
      const conf = requireConf()
      // xroad-protocols.md §4.7: trust of the signer's instance; every part by its URI.
      verifications.verify(signature.signatureXml, {
        parts: Object.fromEntries(parts.map((p) => [p.name, 'bytes' in p ? p.bytes : { digest: p.digest, algorithm: p.digestAlgorithm }])),
        ...(signature.hashChainResult === undefined ? {} : { hashChainResult: signature.hashChainResult }),
        ...(signature.hashChain === undefined ? {} : { hashChain: signature.hashChain }),
        expectedSigner,
        trust: trustFor(conf, expectedSigner.xRoadInstance),
        atTime: at,
      })
    },
  }

  const messageLog: MessageLogWriter = {
    assertAcceptingMessages: () => core.messageLog.assertAcceptingMessages(),
    bodyLimit: (client, service) => {
      const limit = core.messageLog.bodyLimit(client, service)
      return limit === undefined || budget === undefined ? limit : Math.min(limit, Math.floor(budget.limits.maxInFlightBytes / LOGGED_BODY_BUDGET_SHARE))
    },
    async record(record) {
      // The signature's documents go as the bytes signed or received: hashed and stored without a string (issue 15).
      await core.messageLog.record({
        queryId: record.messageId,
        xRequestId: record.requestId ?? null,
        client: record.clientId,
        service: record.serviceId,
        encodedClient: encodedId(record.clientId),
        encodedService: encodedId(record.serviceId),
        response: record.direction === 'response',
        message: record.headerPart,
        attachments: record.attachments ?? (record.body === undefined ? [] : [record.body]),
        signatureXml: record.signature.signatureXml,
        hashChainResult: record.signature.hashChainResult ?? null,
        hashChain: record.signature.hashChain ?? null,
      })
    },
  }

  // Issue 15 §2: decided once per TLS connection, again when an input changes, the runtime re-derives or time runs out.
  const peerChecks = new PeerCheckCache()
  const tlsClientVerifier: TlsClientVerifier = {
    // xroad-protocols.md §4.3 `verifySslClientCert`: OCSP parts present, chain to an approved CA with good OCSP,
    // and the auth certificate registered for a server where the client is owner or client.
    async verify(client, chain, ocspResponses, connection) {
      const leaf = chain[0]
      if (leaf === undefined) throw clientError('ssl_authentication_failed', 'Client did not present an authentication certificate')
      if (ocspResponses.length === 0) {
        throw clientError('ssl_authentication_failed', 'Cannot verify TLS certificate, corresponding OCSP response is missing')
      }
      const conf = requireConf()
      const now = clock.now()
      await peerChecks.verify(connection, { conf, client: encodedId(client), chain, ocspResponses }, now.getTime(), () => {
        const trust = trustFor(conf, client.xRoadInstance)
        const path = buildCertPath(parseCertificate(leaf, 'authentication certificate'), chain.slice(1).map((d) => parseCertificate(d, 'intermediate certificate')), trust)
        validateCertPath(path, now)
        const ocsp = verifyPathOcsp(path, ocspResponses, trust, now)
        if (!authCertMatchesMember(leaf, client)) {
          throw clientError('ssl_authentication_failed', `Client '${describeIdentifier(client)}' is not registered at the security server that sent the request`)
        }
        // Until a certificate of the path expires or an OCSP response stops being fresh (ocsp-verifier's rules).
        return Math.min(
          ...path.certs.slice(0, -1).map((c) => c.notAfter.getTime()),
          ...ocsp.map((r) => r.thisUpdate.getTime() + trust.ocspFreshnessSeconds * 1000),
          ...ocsp.flatMap((r) => (trust.verifyNextUpdate && r.nextUpdate !== undefined ? [r.nextUpdate.getTime()] : [])),
        )
      })
    },
  }

  const isTrustedAuthCert = (leaf: Uint8Array): boolean => core.globalConf.current()?.isSecurityServerAuthCert(leaf) ?? false

  return {
    requireConf, globalConf, serverConf, signer, verifier, messageLog, tlsClientVerifier, isTrustedAuthCert,
    invalidate: () => {
      lookups.clear()
      peerChecks.invalidate()
    },
  }
}

/**
 * The rest of `AuthTrustVerifier` (xroad-protocols.md §4.2): the provider's auth chain to an approved CA, valid now,
 * and a fresh good OCSP response for every certificate but the anchor — from our cache, else fetched from the peer's
 * OCSP endpoint (`?cert=` SHA-1). Responses that verified are cached by certificate and re-checked on every use.
 */
export function peerChainVerifier(requireConf: () => GlobalConf, clock: Clock, fetch = fetchPeerOcspResponses) {
  /** Verified OCSP responses of a peer's chain, by SHA-256 of its leaf. */
  const cache = new Map<string, Uint8Array[]>()
  return async (chainDer: Uint8Array[], address: string): Promise<void> => {
    const leaf = chainDer[0]
    if (leaf === undefined) throw new SecurityServerError('ssl_authentication_failed', `Security server ${address} presented no certificate`)
    const conf = requireConf()
    const trust = verificationTrustFromGlobalConf(conf.snapshot)
    const now = clock.now()
    const path = buildCertPath(parseCertificate(leaf, 'authentication certificate'), chainDer.slice(1).map((d) => parseCertificate(d, 'intermediate certificate')), trust)
    validateCertPath(path, now)
    const key = sha256Hex(leaf)
    const cached = cache.get(key)
    if (cached !== undefined) {
      try {
        verifyPathOcsp(path, cached, trust, now)
        return
      } catch {
        cache.delete(key)
      }
    }
    const target = parseAddress(address, DEFAULT_SERVER_PROXY_PORT)
    const fetched = await fetch(target.host, path.certs.slice(0, -1).map((c) => c.der), { port: target.port + OCSP_PORT_OFFSET })
    verifyPathOcsp(path, fetched, trust, now)
    cache.set(key, fetched)
  }
}

/** The internal TLS certificate shown to information systems: the admin TLS key pair of this data directory. */
async function internalTls(core: SecurityServerCore): Promise<{ keyPem: string; certPem: string }> {
  const tls = await loadOrCreateAdminTls(core.layout.tlsDir, core.clock)
  return { keyPem: tls.key, certPem: tls.cert }
}

async function ownOcspResponse(core: SecurityServerCore, sha1Hex: string): Promise<Uint8Array | undefined> {
  for (const cert of core.signer.listCertificates()) {
    if (createHash('sha1').update(cert.certDer).digest('hex') !== sha1Hex) continue
    return core.signer.ocspResponses(cert.certDer)[0]
  }
  return undefined
}

/** Tells each subscribed listener about the exchange; one that throws neither fails the exchange nor stops the others. */
function listenersObserver(listeners: ReadonlySet<(observation: ExchangeObservation) => void>, logger: Logger): ExchangeObserver {
  return {
    observe(o) {
      for (const listener of listeners) {
        try {
          listener(o)
        } catch (error) {
          logFailure(logger, error, {}, 'exchange listener failed')
        }
      }
    },
  }
}

/** One operational-monitoring record per exchange and side (xroad-protocols.md §7), off the hot path. */
function opMonitorObserver(core: SecurityServerCore): ExchangeObserver {
  return {
    observe(o) {
      try {
        // One object of one shape, absent fields undefined (issue 15 §5: no intermediate object per optional field).
        const record: OperationalRecord = {
          monitoringDataTs: Math.floor(o.responseOutTs / 1000),
          securityServerType: o.side === 'client' ? 'Client' : 'Producer',
          requestInTs: o.requestInTs,
          requestOutTs: o.requestOutTs,
          responseInTs: o.responseInTs,
          responseOutTs: o.responseOutTs,
          clientId: o.clientId === undefined ? undefined : encodedId(o.clientId),
          serviceId: o.serviceId === undefined ? undefined : encodedId(o.serviceId),
          restMethod: o.method,
          restPath: o.servicePath,
          messageId: o.messageId,
          xRequestId: o.requestId,
          messageUserId: o.userId,
          messageIssue: o.issue,
          messageProtocolVersion: o.soap === undefined ? 'r1' : (o.soap.protocolVersion ?? '4.0'),
          representedParty: o.soap?.representedParty,
          requestSize: o.requestSize,
          responseSize: o.responseSize,
          statusCode: o.status,
          succeeded: o.succeeded,
          faultCode: o.faultCode,
          faultString: o.faultString,
          serviceType: o.soap === undefined ? 'REST' : 'WSDL',
        }
        core.opMonitor.record(record)
      } catch (error) {
        logFailure(core.logger, error, {}, 'operational monitoring record failed')
      }
    },
  }
}

function sha256Hex(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('hex')
}

function pemChainToDer(pem: string): Uint8Array[] {
  return pemBlocks(pem, { labels: ['CERTIFICATE'] }).map((b) => new Uint8Array(b.der))
}

function derToPem(der: Uint8Array): string {
  return new X509Certificate(der).toString()
}

function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host
}

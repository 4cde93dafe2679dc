import { Agent, request as httpsRequest, type AgentOptions } from 'node:https'
import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import { isIP } from 'node:net'
import { connect as tlsConnect, createSecureContext, type TLSSocket } from 'node:tls'
import { describeIdentifier, type ClientId } from '@shared/domain/identifiers'
import { clientError, SecurityServerError } from '../../platform'
import type { PeerClient, PeerRequest, PeerResponse, ProviderServer } from '../proxy-deps'
import { headerValueToWire } from '../rest/rest-headers'
import { bodyChunks, writeRequestBody } from './http-support'
import { peerCertificateChain, XROAD_TLS_OPTIONS, type AuthTlsCredentials } from './tls-profile'

/**
 * The consumer's connection to provider security servers (xroad-protocols.md §4.1): one pooled keep-alive agent per
 * target address (never a handshake per message), X-Road's TLS profile with our auth certificate, the fastest of
 * several candidate addresses (`FastestConnectionSelectingSSLSocketFactory`), and after the handshake the provider's
 * auth-certificate check (`AuthTrustVerifier`, §4.2).
 */
export interface PeerClientOptions {
  /** Our auth key and chain; absent until the server has a usable authentication certificate (`setCredentials`). */
  tls?: AuthTlsCredentials
  /**
   * §4.2: the provider's leaf (DER) must be an authentication certificate of a server owning or hosting `provider`,
   * compared in the hash algorithm of the configuration that lists it (SHA-1 in V2, SHA-256 after).
   */
  authCertMatchesMember(leaf: Uint8Array, provider: ClientId): boolean
  /**
   * The rest of `AuthTrustVerifier`: chain to an approved CA and fresh OCSP for each certificate (fetched with
   * `fetchPeerOcspResponses` when not cached). Called for a new connection, and again on a connection whose check is
   * older than `chainRecheckMs` or was made under another `trustVersion`; a throw refuses the peer (and closes the
   * connection).
   */
  verifyPeerChain?(chainDer: Uint8Array[], address: string): Promise<void>
  /**
   * What the chain check depends on besides the peer's certificates (the global configuration in force, its approved
   * CAs and OCSP responders): a connection checked under another value is checked again before its next message, on
   * the same connection. A new configuration thus costs one check per open connection, not a new handshake.
   */
  trustVersion?(): unknown
  /** Longest a connection's chain check is reused (an OCSP response in it ages); default {@link CHAIN_RECHECK_MS}. */
  chainRecheckMs?: number
  /** The clock of `chainRecheckMs` (tests); `Date.now` by default. */
  nowMs?(): number
  /** Port when an address has none (X-Road: 5500). */
  defaultPort?: number
  connectTimeoutMs?: number
  /** `client-timeout` towards the peer (30 s): longest time without a byte moving either way. */
  responseTimeoutMs?: number
  maxResponseBytes?: number
  /** Connections to one security server at once (default {@link DEFAULT_MAX_SOCKETS_PER_ADDRESS}). */
  maxSocketsPerAddress?: number
  /** How long the fastest address of a candidate list is remembered (`client-fastest-connecting-ssl-uri-cache-period`). */
  fastestCacheMs?: number
}

/**
 * Connections to one security server at once. A message holds its connection from the request's first byte until the
 * answer's last, and the answer waits for the provider's signature: under a slow token (an HSM making ten signatures
 * a second) a pool of 32 let only 32 messages reach the provider at once, so its batches could never grow past that
 * and the pair's throughput stopped at the pool, whatever the load (issue 15 §4). X-Road allows 2 500 a route
 * (`pool-total-default-max-connections-per-route`); 256 keeps a burst's sockets and TLS handshakes bounded while
 * letting the provider's batch signer see the load. Idle connections close after the keep-alive period.
 */
export const DEFAULT_MAX_SOCKETS_PER_ADDRESS = 256

/**
 * Longest a connection's peer chain check is reused: X-Road verifies the provider at the handshake and keeps pooled
 * connections for as long as they are used; a minute bounds how long a connection outlives its provider's OCSP
 * status going bad (X-Road's `ocspFreshnessSeconds` is an hour by default) at one cached check a minute per connection.
 */
export const CHAIN_RECHECK_MS = 60_000

/**
 * TLS handshakes to one security server at once. A burst of new messages (a slow token's queue released, a fresh
 * server's first load) would otherwise start hundreds of handshakes together, each one's CPU shared with all the
 * others, so that on a busy machine all of them ran past the connect timeout together; in turns, each finishes in its
 * own handshake time and the messages behind it wait for that connection or one of the next.
 */
const MAX_CONNECTS_PER_ADDRESS = 16

interface Target {
  host: string
  port: number
  key: string
}

interface ChainCheck {
  check: Promise<void>
  version: unknown
  atMs: number
}

export interface PeerClientWithStats extends PeerClient {
  /** TLS connections opened so far (for monitoring and tests). */
  connectionsOpened(): number
  /**
   * Hot-swaps our authentication credentials: new connections present the new certificate, idle pooled connections
   * made with the old one are closed, requests in flight finish on theirs. Without credentials every send is refused
   * with `unavailable` (the reason the server has none, e.g. its token is logged out).
   */
  setCredentials(tls: AuthTlsCredentials | undefined, unavailable?: SecurityServerError): void
  close(): void
}

export function createPeerClient(options: PeerClientOptions): PeerClientWithStats {
  const defaultPort = options.defaultPort ?? 5500
  const connectTimeoutMs = options.connectTimeoutMs ?? 10_000
  const responseTimeoutMs = options.responseTimeoutMs ?? 30_000
  const maxResponseBytes = options.maxResponseBytes ?? 64 * 1024 * 1024
  const fastestCacheMs = options.fastestCacheMs ?? 3_600_000
  const agents = new Map<string, PooledAgent>()
  const fastest = new Map<string, { key: string; until: number }>()
  const chainRecheckMs = options.chainRecheckMs ?? CHAIN_RECHECK_MS
  const nowMs = options.nowMs ?? Date.now
  /** Each connection's chain check (`verifyPeerChain`): when it was made and under which `trustVersion`. */
  const chainVerified = new WeakMap<TLSSocket, ChainCheck>()
  let opened = 0

  // One TLS context per credentials (its key and chain parsed once), not one per connection as `tls.connect` makes
  // from a key and certificate.
  const tlsOptionsFor = (tls: AuthTlsCredentials) => ({
    ...XROAD_TLS_OPTIONS,
    secureContext: createSecureContext({ ...XROAD_TLS_OPTIONS, key: tls.keyPem, cert: tls.certChainPem }),
    rejectUnauthorized: false,
    checkServerIdentity: () => undefined,
  })
  let tlsOptions = options.tls === undefined ? undefined : tlsOptionsFor(options.tls)
  let unavailable = new SecurityServerError('ssl_authentication_failed', 'This security server has no active authentication certificate')

  /** Handshakes in progress, and connects waiting for one to finish, per address ({@link MAX_CONNECTS_PER_ADDRESS}). */
  const connecting = new Map<string, { active: number; waiting: Array<() => void> }>()

  /** Resolves with the function that gives the slot back once a handshake to `target` may start. */
  function connectSlot(target: Target): Promise<() => void> {
    let gate = connecting.get(target.key)
    if (gate === undefined) {
      gate = { active: 0, waiting: [] }
      connecting.set(target.key, gate)
    }
    const slots = gate
    const release = (): void => {
      const next = slots.waiting.shift()
      if (next !== undefined) next()
      else if (--slots.active === 0) connecting.delete(target.key)
    }
    if (slots.active < MAX_CONNECTS_PER_ADDRESS) {
      slots.active++
      return Promise.resolve(release)
    }
    return new Promise((resolve) => slots.waiting.push(() => resolve(release)))
  }

  function openSocket(target: Target): Promise<TLSSocket> {
    return connectSlot(target).then((release) => handshake(target).finally(release))
  }

  /** One TLS connection to `target`; its connect timeout runs from the handshake's start, not from a wait for a slot. */
  function handshake(target: Target): Promise<TLSSocket> {
    return new Promise((resolve, reject) => {
      if (tlsOptions === undefined) {
        reject(unavailable)
        return
      }
      // §4.1: TLS-level trust is a no-op on the client side; no hostname verification. SNI names a DNS host, never an
      // IP address (RFC 6066 §3), as the JDK's SSLSocket under X-Road's HTTP client sends it.
      const socket = tlsConnect({ ...tlsOptions, host: target.host, port: target.port, servername: sniName(target.host) })
      // As Node's HTTP agents do: a message's last segment leaves at once, not after the peer's delayed ACK (Nagle).
      socket.setNoDelay(true)
      opened++
      const timer = setTimeout(() => socket.destroy(networkError(`Connecting to ${target.key} timed out`)), connectTimeoutMs)
      socket.once('secureConnect', () => {
        clearTimeout(timer)
        socket.off('error', onError)
        resolve(socket)
      })
      const onError = (error: Error): void => {
        clearTimeout(timer)
        reject(error instanceof SecurityServerError ? error : networkError(`Cannot connect to ${target.key}: ${error.message}`, error))
      }
      socket.once('error', onError)
    })
  }

  class PooledAgent extends Agent {
    readonly parked: TLSSocket[] = []
    constructor(readonly target: Target, agentOptions: AgentOptions) {
      super(agentOptions)
    }
    override createConnection(_options: unknown, callback?: (error: Error | null, socket: Duplex) => void): Duplex | undefined {
      const ready = this.parked.shift()
      if (ready !== undefined && !ready.destroyed) {
        callback?.(null, ready)
        return undefined
      }
      openSocket(this.target).then(
        (socket) => callback?.(null, socket),
        (error: Error) => callback?.(error, undefined as unknown as Duplex),
      )
      return undefined
    }
  }

  function agentFor(target: Target): PooledAgent {
    let agent = agents.get(target.key)
    if (agent === undefined) {
      agent = new PooledAgent(target, { keepAlive: true, maxSockets: options.maxSocketsPerAddress ?? DEFAULT_MAX_SOCKETS_PER_ADDRESS, scheduling: 'lifo' })
      agents.set(target.key, agent)
    }
    return agent
  }

  /** Races TLS connects to every candidate; the first to finish the handshake wins and is parked in its pool. */
  async function choose(targets: Target[]): Promise<Target> {
    if (targets.length === 1) return targets[0] as Target
    const cacheKey = targets.map((t) => t.key).sort().join(' ')
    const cached = fastest.get(cacheKey)
    if (cached !== undefined && cached.until > Date.now()) {
      const hit = targets.find((t) => t.key === cached.key)
      if (hit !== undefined) return hit
    }
    const attempts = shuffle(targets).map((t) => openSocket(t).then((socket) => ({ target: t, socket })))
    let winner: { target: Target; socket: TLSSocket }
    try {
      winner = await Promise.any(attempts)
    } catch {
      throw networkError(`Could not connect to any of ${targets.map((t) => t.key).join(', ')}`)
    }
    // The losers that still complete are closed; the winner's connection is reused for the request.
    for (const attempt of attempts) {
      void attempt.then(({ socket }) => {
        if (socket !== winner.socket) socket.destroy()
      }, () => undefined)
    }
    agentFor(winner.target).parked.push(winner.socket)
    fastest.set(cacheKey, { key: winner.target.key, until: Date.now() + fastestCacheMs })
    return winner.target
  }

  async function verifyPeer(socket: TLSSocket, provider: ClientId, target: Target): Promise<void> {
    const chain = peerCertificateChain(socket)
    const leaf = chain[0]
    // §4.2 AuthTrustVerifier / authCertMatchesMember.
    if (leaf === undefined || !options.authCertMatchesMember(leaf, provider)) {
      throw new SecurityServerError(
        'ssl_authentication_failed',
        `Security server ${target.key} is not a registered server of ${describeIdentifier(provider)}`,
      )
    }
    if (options.verifyPeerChain !== undefined) {
      const version = options.trustVersion?.()
      const now = nowMs()
      let held = chainVerified.get(socket)
      if (held === undefined || held.version !== version || now - held.atMs >= chainRecheckMs) {
        held = { check: options.verifyPeerChain(chain, target.key), version, atMs: now }
        chainVerified.set(socket, held)
      }
      await held.check
    }
  }

  /**
   * POSTs the message, streaming its body once the peer is verified, and resolves at the response's headers with its
   * body as a stream; the response timeout and size limit keep applying while that stream is read.
   */
  function post(target: Target, provider: ClientId, request: PeerRequest): Promise<PeerResponse> {
    return new Promise((resolve, reject) => {
      let answered = false
      let failure: SecurityServerError | undefined
      const fail = (error: unknown): void => {
        if (failure !== undefined) return
        failure = error instanceof SecurityServerError ? error : networkError(`Request to ${target.key} failed: ${(error as Error).message}`, error)
        clearTimeout(timer)
        req.destroy()
        if (!answered) reject(failure)
      }
      // X-Road's client-timeout is a socket read timeout: it runs while nothing moves, not over a large body's transfer.
      const timer = setTimeout(() => fail(networkError(`No data from or to ${target.key} for ${responseTimeoutMs} ms`)), responseTimeoutMs)
      const progress = (): void => {
        if (failure === undefined) timer.refresh()
      }
      const headers: Record<string, string> = {}
      for (const [name, value] of request.headers) headers[name] = headerValueToWire(value)
      headers['Content-Type'] = request.contentType
      headers['Content-Length'] = String(request.body.size)
      const req = httpsRequest({ agent: agentFor(target), host: target.host, port: target.port, method: 'POST', path: '/', headers })
      req.once('error', fail)
      req.once('socket', (raw) => {
        const socket = raw as TLSSocket
        // The body is written only after the peer is verified (§4.2: verification right after the handshake).
        verifyPeer(socket, provider, target)
          .then(() => {
            request.onTransmit?.()
            return writeRequestBody(req, request.body, progress)
          })
          .catch(fail)
      })
      req.once('response', (res: IncomingMessage) => {
        if (res.statusCode !== 200) {
          res.resume()
          fail(networkError(`Security server ${target.key} answered HTTP ${res.statusCode ?? 0}`))
          return
        }
        answered = true
        const list: Array<[string, string]> = []
        for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) list.push([res.rawHeaders[i] as string, res.rawHeaders[i + 1] as string])
        const declared = Number(res.headers['content-length'] ?? Number.NaN)
        resolve({
          contentType: res.headers['content-type'] ?? '', headers: list,
          body: watchedBody(res, { maxBytes: maxResponseBytes, targetKey: target.key, progress, fail, failure: () => failure, done: () => clearTimeout(timer) }),
          ...(Number.isSafeInteger(declared) ? { declaredLength: declared } : {}),
        })
      })
    })
  }

  return {
    async send(servers: ProviderServer[], provider: ClientId, request: PeerRequest): Promise<PeerResponse> {
      if (tlsOptions === undefined) throw unavailable
      const targets = servers.map((s) => parseAddress(s.address, defaultPort))
      if (targets.length === 0) throw clientError('unknown_member', `No security server address for ${describeIdentifier(provider)}`)
      const target = await choose(targets)
      try {
        return await post(target, provider, request)
      } catch (error) {
        if (error instanceof SecurityServerError && error.code === 'network_error') {
          for (const [key, entry] of fastest) if (entry.key === target.key) fastest.delete(key)
        }
        throw error
      }
    },
    connectionsOpened: () => opened,
    setCredentials(tls, reason) {
      tlsOptions = tls === undefined ? undefined : tlsOptionsFor(tls)
      if (reason !== undefined) unavailable = reason
      for (const agent of agents.values()) {
        for (const socket of agent.parked.splice(0)) socket.destroy()
        for (const sockets of Object.values(agent.freeSockets)) for (const socket of sockets ?? []) socket.destroy()
      }
      fastest.clear()
    },
    close() {
      for (const agent of agents.values()) {
        for (const socket of agent.parked) socket.destroy()
        agent.destroy()
      }
      agents.clear()
    },
  }
}

/** `host`, `host:port` (a Gatehouse extension for several servers on one machine) or `[v6]:port`. */
export function parseAddress(address: string, defaultPort: number): Target {
  const trimmed = address.trim()
  const v6 = /^\[([0-9a-fA-F:.]+)\](?::(\d{1,5}))?$/.exec(trimmed)
  const hostPort = /^([A-Za-z0-9.-]+)(?::(\d{1,5}))?$/.exec(trimmed)
  const match = v6 ?? hostPort
  if (match === null) throw clientError('network_error', `Invalid security server address: ${address.slice(0, 100)}`)
  const port = match[2] === undefined ? defaultPort : Number(match[2])
  if (port < 1 || port > 65535) throw clientError('network_error', `Invalid port in security server address: ${address}`)
  const host = match[1] as string
  return { host, port, key: `${v6 === null ? host : `[${host}]`}:${port}` }
}

function networkError(message: string, cause?: unknown): SecurityServerError {
  return new SecurityServerError('network_error', message, { cause })
}

function shuffle<T>(items: T[]): T[] {
  const copy = [...items]
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    ;[copy[i], copy[j]] = [copy[j] as T, copy[i] as T]
  }
  return copy
}

/** The SNI host name for a connection to `host`: the DNS name itself, none for an IP address literal. */
export function sniName(host: string): string | undefined {
  return isIP(host) === 0 ? host : undefined
}

/** What a response's body reader needs of its exchange: the read timeout to push on, the limit, the exchange's failure. */
interface ResponseWatch {
  readonly maxBytes: number
  readonly targetKey: string
  progress(): void
  fail(error: unknown): void
  failure(): SecurityServerError | undefined
  done(): void
}

/**
 * A response's body as it arrives; the response timeout is pushed on by every chunk, and the size limit and the
 * exchange's failure apply while it is read. Module-level, as every generator on a message's path (message-body.ts).
 */
async function* watchedBody(res: IncomingMessage, watch: ResponseWatch): AsyncIterable<Buffer> {
  let size = 0
  try {
    for await (const chunk of bodyChunks(res, true)) {
      watch.progress()
      size += chunk.length
      if (size > watch.maxBytes) watch.fail(clientError('body_too_large', `Response from ${watch.targetKey} exceeds ${watch.maxBytes} bytes`))
      const failure = watch.failure()
      if (failure !== undefined) throw failure
      yield chunk
    }
  } catch (error) {
    throw watch.failure() ?? networkError(`Reading the response from ${watch.targetKey} failed`, error)
  } finally {
    watch.done()
  }
  const failure = watch.failure()
  if (failure !== undefined) throw failure
}

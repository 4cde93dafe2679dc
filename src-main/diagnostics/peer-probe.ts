import { randomUUID } from 'node:crypto'
import type { PeerTestMethod, ProbeResult } from '@shared/admin-api/admin-api'
import { formatIdPath, type ClientId } from '@shared/domain/identifiers'
import type { GlobalConf } from '../global-conf'
import { parseJson } from '../platform'
import { DEFAULT_SERVER_PROXY_PORT, parseAddress, XROAD_TLS_OPTIONS, type ExchangeObservation } from '../proxy'
import { StepClock, timedHttp, timedTlsHandshake } from './probe-network'
import { networkFailure, probeResult } from './probe-result'

/**
 * A test call to a provider through this server's own client proxy: the REST metaservice `listMethods` or
 * `allowedMethods` (PR-MREST, xroad-protocols.md §8), signed, logged and verified like any message. Before it, the
 * network path is probed on a fresh connection — route in global configuration, DNS, TCP connect, the TLS handshake
 * with X-Road's profile and the provider's authentication certificate, chain and OCSP (§4.1–4.2); the call's own
 * steps (sign and log, the provider, verify and log) come from the client proxy's timestamps for that message.
 */
export interface PeerProbeDeps {
  globalConf(): GlobalConf | undefined
  /** `http(s)://host:port` of this server's client proxy, if it listens. */
  clientProxyUrl(): string | undefined
  onExchange(listener: (observation: ExchangeObservation) => void): () => void
  verifyPeerChain(chainDer: Uint8Array[], address: string): Promise<void>
  /**
   * Our authentication key and chain (PEM), the client certificate of the probe's handshake: a provider refuses a
   * client whose certificate is not a security server's auth certificate (`AuthTrustManager`).
   */
  authTls?(): { keyPem: string; certChainPem: string } | undefined
}

export interface PeerProbeInput {
  client: ClientId
  provider: ClientId
  method: PeerTestMethod
}

/** The client proxy's REST error (PR-REST §4.6): `type` is the X-Road fault code. */
interface RestError {
  type?: string
  message?: string
}

export async function probePeer(input: PeerProbeInput, deps: PeerProbeDeps): Promise<ProbeResult> {
  const clock = new StepClock()
  const provider = formatIdPath(input.provider)
  const base = { provider, client: formatIdPath(input.client), method: input.method }
  const conf = deps.globalConf()
  const servers = clock.timeSync('route', () => (conf?.getSecurityServers(input.provider) ?? []).filter((s) => s.address !== undefined))
  const server = servers[0]
  if (server?.address === undefined) return probeResult('peer', provider, '', 'peer-no-server', base, clock)
  const address = server.address
  const params = { ...base, address, servers: servers.length }

  try {
    const target = parseAddress(address, DEFAULT_SERVER_PROXY_PORT)
    const tls = deps.authTls?.()
    const handshake = await timedTlsHandshake(target.host, target.port, clock, { ...XROAD_TLS_OPTIONS, ...(tls === undefined ? {} : { key: tls.keyPem, cert: tls.certChainPem }) })
    await clock.time('peer-auth', async () => {
      const leaf = handshake.chain[0]
      // §4.2 authCertMatchesMember: the certificate is registered for the server we reached (SHA-1 in a V2 configuration).
      if (leaf === undefined || conf === undefined || !conf.authCertHashMatches(server.id, leaf)) {
        throw new Error(`the certificate presented at ${address} is not the registered authentication certificate of ${formatIdPath(server.id)}`)
      }
      await deps.verifyPeerChain(handshake.chain, target.key)
    })
  } catch (error) {
    if (clock.steps.at(-1)?.name === 'peer-auth') {
      return probeResult('peer', provider, address, 'peer-error', { ...params, code: 'ssl_authentication_failed', message: (error as Error).message }, clock)
    }
    const failure = networkFailure('peer', error)
    return probeResult('peer', provider, address, failure.code, { ...params, ...failure.params }, clock)
  }

  const proxyUrl = deps.clientProxyUrl()
  if (proxyUrl === undefined) return probeResult('peer', provider, address, 'peer-no-client-proxy', params, clock)
  // The client may name the message (PR-REST §4.2 `X-Road-Id`): it finds this call's timestamps.
  const messageId = `gatehouse-diagnostics-${randomUUID()}`
  let observed: ExchangeObservation | undefined
  const unsubscribe = deps.onExchange((o) => {
    if (o.side === 'client' && o.messageId === messageId) observed = o
  })
  const local = new StepClock()
  let answer
  try {
    answer = await timedHttp(`${proxyUrl.replace(/\/$/, '')}/r1/${provider.split('/').map(encodeURIComponent).join('/')}/${input.method}`, local, {
      headers: { 'X-Road-Client': formatIdPath(input.client), 'X-Road-Id': messageId, Accept: 'application/json' },
      tls: { rejectUnauthorized: false },
      timeoutMs: 60_000,
    })
  } catch (error) {
    unsubscribe()
    return probeResult('peer', provider, address, 'peer-failed', { ...params, code: 'network_error', message: `client proxy: ${(error as Error).message}` }, clock)
  }
  unsubscribe()
  stepsOf(observed, clock)
  if (answer.status === 200) {
    let services = 0
    try {
      const list = (parseJson(answer.body.toString('utf8'), ANSWER_LIMITS) as { service?: unknown[] } | null)?.service
      services = Array.isArray(list) ? list.length : 0
    } catch {
      services = 0
    }
    return probeResult('peer', provider, address, 'peer-ok', { ...params, services, status: 200 }, clock)
  }
  const fault = restError(answer.body, answer.headers['x-road-error'])
  const code = fault.type ?? `HTTP ${answer.status}`
  const message = fault.message ?? ''
  // Only an answer from the provider's server proxy has a `responseInTs` and a `serverproxy` fault code.
  const lower = code.toLowerCase()
  const fromProvider = observed?.responseInTs !== undefined || lower.includes('.serverproxy.')
  if (!fromProvider) return probeResult('peer', provider, address, 'peer-failed', { ...params, code, message }, clock)
  if (lower.endsWith('.unknown_service')) return probeResult('peer', provider, address, 'peer-metaservice-unsupported', { ...params, code, message }, clock)
  return probeResult('peer', provider, address, 'peer-error', { ...params, code, message }, clock)
}

/** The client proxy's own steps for the call: sign and log (until sent), the provider (until answered), verify and log (a signed answer). */
function stepsOf(o: ExchangeObservation | undefined, clock: StepClock): void {
  if (o === undefined) return
  if (o.requestOutTs === undefined) {
    clock.add('sign', o.responseOutTs - o.requestInTs, false)
    return
  }
  clock.add('sign', o.requestOutTs - o.requestInTs)
  if (o.responseInTs === undefined) {
    clock.add('peer', o.responseOutTs - o.requestOutTs, false)
    return
  }
  clock.add('peer', o.responseInTs - o.requestOutTs)
  // A fault from the provider is not signed: there is nothing to verify.
  if (o.succeeded) clock.add('verify', o.responseOutTs - o.responseInTs)
}

/** The answers read here: a metaservice's service list or a REST error, bounded (platform `parseJson`). */
const ANSWER_LIMITS = { maxLength: 4 * 1024 * 1024, maxDepth: 8 }

function restError(body: Buffer, header: string | string[] | undefined): RestError {
  const type = Array.isArray(header) ? header[0] : header
  let parsed: RestError = {}
  try {
    const value = parseJson(body.toString('utf8'), ANSWER_LIMITS) as Record<string, unknown> | null
    if (value !== null && typeof value === 'object') {
      parsed = {
        ...(typeof value.type === 'string' ? { type: value.type } : {}),
        ...(typeof value.message === 'string' ? { message: value.message.slice(0, 500) } : {}),
      }
    }
  } catch {
    parsed = {}
  }
  return { ...parsed, ...(type === undefined ? {} : { type: type.slice(0, 200) }) }
}

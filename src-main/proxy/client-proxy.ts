import { describeIdentifier, identifierEquals, serviceProvider, type ClientId } from '@shared/domain/identifiers'
import { clientError, systemClock, toSecurityServerError, type Clock } from '../platform'
import { faultToError } from './pipeline/server-steps'
import type {
  ExchangeObservation, ExchangeObserver, GlobalConfView, MessageLogWriter, MessageSigner, MessageVerifier, PeerClient, ProviderServer, ServerConfView,
} from './proxy-deps'
import { restErrorResponse } from './proxy-fault'
import { parseRestHeaderPart } from './rest/rest-header-part'
import { lastHeader, type HeaderList } from './rest/rest-headers'
import { checkResponseConsistency } from './rest/rest-response'
import { parseRestRequest, restRequestHeaderPart, type RestRequest } from './rest/rest-request'
import { signedParts, type ProxyResponse } from './server-proxy'
import { decodeTransportMessage, encodeRestTransportMessage, transportRequestHeaders } from './transport/transport-message'

/**
 * The client proxy: an information system's REST r1 request → a provider security server, in the consumer
 * order of xroad-protocols.md §4.3; errors become X-Road's REST error (§2.5).
 */
export interface ClientProxyRequest {
  method: string
  url: string
  headers: HeaderList
  body: Buffer
  /** SHA-256 hex of the IS's TLS client certificate when it connected over HTTPS with one. */
  tls?: { clientCertificateSha256?: string }
}

export interface ClientProxyDeps {
  globalConf: GlobalConfView
  serverConf: ServerConfView
  signer: MessageSigner
  verifier: MessageVerifier
  messageLog: MessageLogWriter
  peer: PeerClient
  proxyVersion: string
  /** OCSP responses for our auth certificate chain, sent as the first parts (§4.3). */
  authOcspResponses(): Promise<Uint8Array[]>
  clock?: Clock
  /** Operational monitoring: one observation per request, success or failure. */
  observer?: ExchangeObserver
}

export async function handleClientProxyRequest(raw: ClientProxyRequest, deps: ClientProxyDeps): Promise<ProxyResponse> {
  const clock = deps.clock ?? systemClock
  const observation: ExchangeObservation = {
    side: 'client', requestInTs: clock.now().getTime(), responseOutTs: 0, requestSize: raw.body.byteLength, succeeded: false,
  }
  let result: ProxyResponse
  try {
    result = await processClientRequest(raw, deps, observation)
    observation.succeeded = true
  } catch (error) {
    const coded = toSecurityServerError(error)
    const prefixed = coded.prefixes.length > 0 || coded.clientFault ? coded : coded.withPrefix('server.clientproxy')
    const response = restErrorResponse(prefixed, lastHeader(raw.headers, 'accept'))
    observation.faultCode = prefixed.faultCode
    observation.faultString = prefixed.message
    result = { status: response.status, headers: response.headers, body: response.body }
  }
  observation.status = result.status
  observation.responseSize = result.body.byteLength
  observation.responseOutTs = clock.now().getTime()
  deps.observer?.observe(observation)
  return result
}

async function processClientRequest(raw: ClientProxyRequest, deps: ClientProxyDeps, observation: ExchangeObservation): Promise<ProxyResponse> {
  const clock = deps.clock ?? systemClock
  deps.globalConf.assertValid()
  const request = parseRestRequest({ method: raw.method, url: raw.url, headers: raw.headers }, deps.globalConf.instanceIdentifier())
  Object.assign(observation, {
    clientId: request.clientId, serviceId: request.serviceId, method: request.method, servicePath: request.servicePath,
    messageId: request.messageId, requestId: request.requestId, userId: request.userId, issue: request.issue,
  })
  checkClientRegistered(request, deps.serverConf)
  checkIsAuthentication(request.clientId, raw.tls, deps.serverConf)
  const targets = routeRequest(request, deps.globalConf)

  const headerPart = restRequestHeaderPart(request)
  const body = raw.body.byteLength > 0 ? raw.body : undefined
  const signature = await deps.signer.sign(request.clientId, signedParts(headerPart, body))
  deps.messageLog.assertAcceptingMessages()
  const record = { side: 'client' as const, messageId: request.messageId, requestId: request.requestId, clientId: request.clientId, serviceId: request.serviceId }
  await deps.messageLog.record({ ...record, direction: 'request', headerPart, body, signature })

  const encoded = encodeRestTransportMessage({
    kind: 'request', ocspResponses: await deps.authOcspResponses(), headerPart, body,
    signature: signature.signatureXml, hashChainResult: signature.hashChainResult, hashChain: signature.hashChain,
  })
  observation.requestOutTs = clock.now().getTime()
  const peerResponse = await deps.peer.send(targets, serviceProvider(request.serviceId), {
    headers: transportRequestHeaders({ requestId: request.requestId, originalContentType: lastHeader(raw.headers, 'content-type'), proxyVersion: deps.proxyVersion }),
    contentType: encoded.contentType,
    body: encoded.body,
  })
  observation.responseInTs = clock.now().getTime()
  if (peerResponse.contentType.toLowerCase().startsWith('text/xml')) throw faultToError(peerResponse.body)
  const response = decodeTransportMessage(peerResponse.contentType, Buffer.from(peerResponse.body), 'response')
  if (response.fault !== undefined) throw faultToError(response.fault)
  if (response.message.type !== 'rest' || response.signature === undefined) throw clientError('missing_rest', 'Response has no REST part')
  const responseBody = response.attachments[0]
  const responseSignature = { signatureXml: response.signature, hashChainResult: response.hashChainResult, hashChain: response.hashChain }
  // xroad-protocols.md §4.3: the consumer verifies with signer = the service provider.
  await deps.verifier.verify(serviceProvider(request.serviceId), signedParts(response.message.bytes, responseBody), responseSignature, clock.now())
  const part = parseRestHeaderPart(response.message.bytes)
  if (part.kind !== 'response') throw clientError('invalid_message', 'Expected a REST response part')
  checkResponseConsistency(part, { ...record, requestId: request.requestId, headerPart, body })
  await deps.messageLog.record({ ...record, direction: 'response', headerPart: response.message.bytes, body: responseBody, signature: responseSignature })
  return { status: part.status, headers: part.headers, body: responseBody ?? Buffer.alloc(0) }
}

/** The client must be a registered client of this security server. */
function checkClientRegistered(request: RestRequest, serverConf: ServerConfView): void {
  if (!serverConf.isRegisteredClient(request.clientId)) {
    throw clientError('unknown_member', `Client ${describeIdentifier(request.clientId)} is not a registered client of this security server`)
  }
}

/**
 * ug-ss §9.4 (X-Road's `MessageProcessorBase.verifyClientAuthentication`): SSLNOAUTH needs HTTPS, SSLAUTH also a
 * known client certificate (`ssl_authentication_failed`); NOSSL accepts any connection. A client unknown here passes
 * (the message path refuses it as unregistered first).
 */
export function checkIsAuthentication(client: ClientId, tls: ClientProxyRequest['tls'], serverConf: ServerConfView): void {
  const setting = serverConf.isAuthentication(client)
  if (setting === undefined || setting.mode === 'NOSSL') return
  if (tls === undefined) throw clientError('ssl_authentication_failed', 'Client must connect over HTTPS')
  if (setting.mode === 'SSLAUTH') {
    const hash = tls.clientCertificateSha256?.toLowerCase()
    if (hash === undefined || !setting.certificateSha256.includes(hash)) {
      throw clientError('ssl_authentication_failed', 'Client TLS certificate is not accepted for this client')
    }
  }
}

/** Provider servers from global configuration, minus maintenance mode, narrowed by `X-Road-Security-Server` (§4.1). */
export function routeRequest(request: Pick<RestRequest, 'serviceId' | 'targetSecurityServer'>, globalConf: GlobalConfView): ProviderServer[] {
  const provider = serviceProvider(request.serviceId)
  let servers = globalConf.serversOf(provider)
  if (servers.length === 0) throw clientError('unknown_member', `Could not find addresses for service provider ${describeIdentifier(provider)}`)
  const target = request.targetSecurityServer
  if (target !== undefined) {
    servers = servers.filter((s) => identifierEquals(s.serverId, target))
    if (servers.length === 0) throw clientError('invalid_security_server', `Security server ${describeIdentifier(target)} does not serve the provider`)
  }
  const available = servers.filter((s) => !s.inMaintenanceMode)
  if (available.length === 0) throw clientError('maintenance_mode', 'All security servers of the provider are in maintenance mode')
  return available
}

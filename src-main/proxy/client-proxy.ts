import { describeIdentifier, identifierEquals, type ClientId } from '@shared/domain/identifiers'
import { providerOf } from './identifier-text'
import { clientError, SecurityServerError, systemClock, toSecurityServerError, type Clock } from '../platform'
import { incomingStream, loggingLimits, nonEmpty, readBounded, transportLimit } from './body/body-limits'
import { bufferSource, defaultBodyStore, type BodyStore, type IncomingBody, type MessageBody } from './body/message-body'
import { checkSigningContext, faultToError, signMessage } from './pipeline/server-steps'
import { SoapFaultError } from '../soap'
import {
  forOneExchange, observeRestRequest, type ExchangeObservation, type ExchangeObserver, type GlobalConfView, type MessageLogWriter, type MessageSigner, type MessageVerifier,
  type PeerClient, type PeerResponse, type ProviderServer, type ServerConfView,
} from './proxy-deps'
import { acceptValues, restErrorResponse } from './proxy-fault'
import { parseRestHeaderPart } from './rest/rest-header-part'
import { lastHeader, XROAD_HEADERS, type HeaderList } from './rest/rest-headers'
import { checkResponseConsistency } from './rest/rest-response'
import { parseRestRequest, restRequestHeaderPart, type RestRequest } from './rest/rest-request'
import { signedParts, type ProxyResponse } from './server-proxy'
import { DEFAULT_MULTIPART_LIMITS, type MultipartLimits } from './transport/multipart'
import { encodeRestTransportStream, readTransportMessage, transportRequestHeaders } from './transport/transport-message'

/**
 * The client proxy: an information system's REST r1 request → a provider security server, in the consumer
 * order of xroad-protocols.md §4.3; errors become X-Road's REST error (§2.5). The request body is read only after
 * the request was parsed and the client checked, under the listener's and the message log's size limits and the
 * server's memory budget (issue 14 §3); it and the response body travel as streams (`body/message-body.ts`).
 */
export interface ClientProxyRequest {
  method: string
  url: string
  headers: HeaderList
  body: Uint8Array | IncomingBody
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
  /** The server's memory budget and spool folder (a default budget under the temp folder when absent). */
  bodies?: BodyStore
  /** Limits of the provider's response message (size, parts, part headers). */
  responseLimits?: MultipartLimits
  /** The views of one message (`forOneExchange`). */
  forExchange?(): Pick<ClientProxyDeps, 'serverConf' | 'signer' | 'authOcspResponses'>
}

/**
 * Gatehouse's answer to "did my failed request reach the provider?" (issue 14 §7), sent with every error once the
 * request has a query id, next to `X-Road-Id`: `not-sent` (it never left this server: safe to send again),
 * `may-have-reached-provider` (it was being sent or sent and no answer came: the provider may have logged and
 * served it — reconcile by the query id before sending again), `reached-provider` (the provider answered, and its
 * answer could not be accepted here).
 */
export const DELIVERY_HEADER = 'Gatehouse-Request-Delivery'
export type RequestDelivery = 'not-sent' | 'may-have-reached-provider' | 'reached-provider'

interface ExchangeProgress {
  queryId?: string
  delivery: RequestDelivery
}

const DELIVERY_NOTES: Record<RequestDelivery, string> = {
  'not-sent': 'the request was not sent to the provider',
  'may-have-reached-provider': 'the request may have reached the provider, which may have logged and served it',
  'reached-provider': 'the provider received the request and answered',
}

/** Largest plain SOAP fault read from a provider. */
const MAX_FAULT_BYTES = 1024 * 1024

export async function handleClientProxyRequest(raw: ClientProxyRequest, deps: ClientProxyDeps): Promise<ProxyResponse> {
  const clock = deps.clock ?? systemClock
  const observation: ExchangeObservation = {
    side: 'client', requestInTs: clock.now().getTime(), responseOutTs: 0, requestSize: 0, succeeded: false,
  }
  const progress: ExchangeProgress = { delivery: 'not-sent' }
  let result: ProxyResponse
  try {
    result = await processClientRequest(raw, forOneExchange(deps), observation, progress)
    observation.succeeded = true
  } catch (error) {
    let prefixed = clientProxyError(error)
    const headers: HeaderList = []
    if (progress.queryId !== undefined) {
      headers.push([XROAD_HEADERS.id, progress.queryId], [DELIVERY_HEADER, progress.delivery])
      if (progress.delivery !== 'not-sent') prefixed = withNote(prefixed, `query id ${progress.queryId}: ${DELIVERY_NOTES[progress.delivery]}`)
    }
    const response = restErrorResponse(prefixed, acceptValues(raw.headers))
    observation.faultCode = prefixed.faultCode
    observation.faultString = prefixed.message
    result = { status: response.status, headers: [...response.headers, ...headers], body: bufferSource(response.body) }
  }
  observation.status = result.status
  observation.responseSize = result.body.size
  observation.responseOutTs = clock.now().getTime()
  deps.observer?.observe(observation)
  return result
}

/**
 * X-Road's `AbstractClientProxyHandler.handle`: a fault the provider sent passes as it came (`CodedException.Fault`);
 * every other error of the client processor — the information system's mistakes included (a missing `X-Road-Client`,
 * an unparseable `/r1/…`, an unknown client) — is `server.clientproxy.*` (`translateWithPrefix(SERVER_CLIENTPROXY_X)`),
 * which `ClientRestMessageHandler.sendErrorResponse` answers with HTTP 500.
 */
export function clientProxyError(error: unknown): SecurityServerError {
  const coded = toSecurityServerError(error)
  if (coded instanceof SoapFaultError) return coded
  return coded.prefixes[0] === 'server.clientproxy' ? coded : coded.withPrefix('server.clientproxy')
}

/** Failures in reading what the provider sent (`ClientRestMessageProcessor.parseResponse`: `withPrefix(X_SERVICE_FAILED_X)`). */
async function fromProvider<T>(step: () => Promise<T>): Promise<T> {
  try {
    return await step()
  } catch (error) {
    const coded = toSecurityServerError(error)
    throw coded instanceof SoapFaultError ? coded : coded.withPrefix('service_failed')
  }
}

function withNote(error: SecurityServerError, note: string): SecurityServerError {
  if (error instanceof SoapFaultError) {
    return new SoapFaultError({
      faultCode: error.faultCode, faultString: `${error.message} (${note})`,
      ...(error.faultActor === undefined ? {} : { faultActor: error.faultActor }), ...(error.detail === undefined ? {} : { faultDetail: error.detail }),
    })
  }
  return new SecurityServerError(error.code, `${error.message} (${note})`, {
    cause: error.cause, detail: error.detail, clientFault: error.clientFault, prefixes: error.prefixes,
  })
}

async function processClientRequest(
  raw: ClientProxyRequest, deps: ClientProxyDeps, observation: ExchangeObservation, progress: ExchangeProgress,
): Promise<ProxyResponse> {
  const clock = deps.clock ?? systemClock
  deps.globalConf.assertValid()
  const request = parseRestRequest({ method: raw.method, url: raw.url, headers: raw.headers }, deps.globalConf.instanceIdentifier())
  progress.queryId = request.messageId
  observeRestRequest(observation, request)
  checkClientRegistered(request, deps.serverConf)
  checkIsAuthentication(request.clientId, raw.tls, deps.serverConf)
  const targets = routeRequest(request, deps.globalConf)
  // ClientRestMessageProcessor signs with signingCtxProvider.createSigningCtx(senderId): a sender without a usable signing
  // key is cannot_create_signature (KeyConf.getSigningInfo), as on the SOAP path; checked before its body is read.
  await checkSigningContext(request.clientId, deps.signer)

  // Only now is the body read: its declared length against the limits before a byte of it, then as it arrives.
  const bodies = deps.bodies ?? defaultBodyStore()
  const logLimit = deps.messageLog.bodyLimit(request.clientId, request.serviceId)
  const incoming = incomingStream(raw.body)
  const limits = loggingLimits(logLimit)
  if (incoming.maxBytes !== undefined) limits.unshift(transportLimit(incoming.maxBytes))
  // Issue 15 §5: the objects of the exchange are written out as literals of one shape each, not spread from one
  // another (a spread copies property by property and gives the copy a map of its own: it was most of this function's time).
  const received = await bodies.receive(incoming.stream, { declaredLength: incoming.declaredLength, limits })
  observation.requestSize = received.size
  const body = nonEmpty(received)
  const headerPart = restRequestHeaderPart(request)
  const { messageId, requestId, clientId, serviceId } = request
  let peerResponse: PeerResponse
  try {
    const signature = await signMessage(clientId, signedParts(headerPart, body), deps.signer)
    deps.messageLog.assertAcceptingMessages()
    await deps.messageLog.record({ direction: 'request', side: 'client', messageId, requestId, clientId, serviceId, headerPart, body, signature })

    const encoded = encodeRestTransportStream({
      kind: 'request', ocspResponses: await deps.authOcspResponses(), headerPart, body,
      signature: signature.signatureXml, hashChainResult: signature.hashChainResult, hashChain: signature.hashChain,
    })
    observation.requestOutTs = clock.now().getTime()
    peerResponse = await deps.peer.send(targets, providerOf(request.serviceId), {
      headers: transportRequestHeaders({ requestId: request.requestId, originalContentType: lastHeader(raw.headers, 'content-type'), proxyVersion: deps.proxyVersion }),
      contentType: encoded.contentType,
      body: encoded.body,
      onTransmit: () => {
        progress.delivery = 'may-have-reached-provider'
      },
    })
  } finally {
    // Sent (or not to be sent): the request body's memory or spool file goes back; its digest is all that is left to use.
    received.release()
  }
  // The provider answers only once it has handled the request (§4.3).
  progress.delivery = 'reached-provider'
  observation.responseInTs = clock.now().getTime()
  if (peerResponse.contentType.toLowerCase().startsWith('text/xml')) {
    await fromProvider(async () => {
      throw faultToError(await readBounded(peerResponse.body, MAX_FAULT_BYTES))
    })
  }
  const response = await fromProvider(() => readTransportMessage(peerResponse.contentType, peerResponse.body, 'response', {
    limits: deps.responseLimits ?? DEFAULT_MULTIPART_LIMITS, bodies, bodyLimits: () => loggingLimits(logLimit),
    ...(peerResponse.declaredLength === undefined ? {} : { declaredLength: peerResponse.declaredLength }),
  }))
  const responseBody: MessageBody | undefined = response.attachments[0]
  try {
    if (response.fault !== undefined) throw faultToError(response.fault)
    // ProxyMessageDecoder.handleSoap: a multipart holding only a `text/xml` fault is the provider's fault (ProxyMessageEncoder.fault).
    if (response.message.type === 'soap' && response.signature === undefined) throw faultToError(response.message.bytes)
    if (response.message.type !== 'rest' || response.signature === undefined) throw clientError('missing_rest', 'Response has no REST part')
    const responseSignature = { signatureXml: response.signature, hashChainResult: response.hashChainResult, hashChain: response.hashChain }
    // xroad-protocols.md §4.3: the consumer verifies with signer = the service provider.
    await deps.verifier.verify(providerOf(request.serviceId), signedParts(response.message.bytes, responseBody), responseSignature, clock.now())
    const part = parseRestHeaderPart(response.message.bytes)
    if (part.kind !== 'response') throw clientError('invalid_message', 'Expected a REST response part')
    checkResponseConsistency(part, { messageId, clientId, serviceId, requestId, headerPart, body })
    await deps.messageLog.record({
      direction: 'response', side: 'client', messageId, requestId, clientId, serviceId, headerPart: response.message.bytes, body: responseBody, signature: responseSignature,
    })
    return { status: part.status, headers: part.headers, body: responseBody ?? bufferSource(Buffer.alloc(0)) }
  } catch (error) {
    responseBody?.release()
    throw error
  }
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
 * (the message path refuses it as unregistered first; the evidence downloads refuse it themselves).
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
  const provider = providerOf(request.serviceId)
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

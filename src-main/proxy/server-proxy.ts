import { serviceProvider } from '@shared/domain/identifiers'
import { clientError, systemClock, toSecurityServerError, type Clock } from '../platform'
import {
  checkAccess, checkClientKnown, checkProxyVersion, readRestRequest, serviceUrl,
} from './pipeline/server-steps'
import type {
  ExchangeObservation, ExchangeObserver, GlobalConfView, MessageLogWriter, MessageSigner, MessageVerifier, ServerConfView, ServiceClient, TlsClientVerifier,
} from './proxy-deps'
import { soapFaultResponse } from './proxy-fault'
import { processSoapServerRequest } from './soap/soap-server-proxy'
import { SoapFaultError } from '../soap'
import { computeRequestHash } from './rest/request-hash'
import { serializeRestResponsePart } from './rest/rest-header-part'
import { lastHeader, type HeaderList } from './rest/rest-headers'
import { providerResponseHeaders } from './rest/rest-response'
import { checkHashAlgorithm, decodeTransportMessage, encodeRestTransportMessage, HASH_ALGORITHM, TRANSPORT_HEADERS } from './transport/transport-message'
import { DEFAULT_MULTIPART_LIMITS, type MultipartLimits } from './transport/multipart'

/**
 * The server proxy: a transport message from a consumer security server → the service, in the provider order of
 * xroad-protocols.md §4.3. Failures before the response multipart become a plain SOAP fault (HTTP 200).
 */
export interface ServerProxyRequest {
  method: string
  headers: HeaderList
  body: Buffer
  /** The consumer's TLS auth certificate chain (leaf first), from the mutual-TLS handshake. */
  peerCertificateChain: Uint8Array[]
}

export interface ProxyResponse {
  status: number
  headers: HeaderList
  body: Buffer
}

export interface ServerProxyDeps {
  globalConf: GlobalConfView
  serverConf: ServerConfView
  tlsClientVerifier: TlsClientVerifier
  verifier: MessageVerifier
  signer: MessageSigner
  messageLog: MessageLogWriter
  serviceClient: ServiceClient
  clock?: Clock
  limits?: MultipartLimits
  /** Operational monitoring: one observation per request, success or failure. */
  observer?: ExchangeObserver
}

export async function handleServerProxyRequest(raw: ServerProxyRequest, deps: ServerProxyDeps): Promise<ProxyResponse> {
  const clock = deps.clock ?? systemClock
  const observation: ExchangeObservation = {
    side: 'server', requestInTs: clock.now().getTime(), responseOutTs: 0, requestSize: raw.body.byteLength, succeeded: false,
  }
  let result: ProxyResponse
  try {
    result = await processServerRequest(raw, deps, observation)
    observation.succeeded = true
  } catch (error) {
    const thrown = toSecurityServerError(error)
    // A service's own SOAP fault passes as it came (ServerMessageProcessor.handleException: CodedException.Fault).
    const coded = thrown instanceof SoapFaultError ? thrown : thrown.withPrefix('server.serverproxy')
    const fault = soapFaultResponse(coded)
    observation.faultCode = coded.faultCode
    observation.faultString = coded.message
    result = { status: fault.status, headers: fault.headers, body: fault.body }
  }
  observation.responseSize = result.body.byteLength
  observation.responseOutTs = clock.now().getTime()
  deps.observer?.observe(observation)
  return result
}

async function processServerRequest(raw: ServerProxyRequest, deps: ServerProxyDeps, observation: ExchangeObservation): Promise<ProxyResponse> {
  const clock = deps.clock ?? systemClock
  if (raw.method.toUpperCase() !== 'POST') throw clientError('invalid_http_method', 'Must use POST between security servers')
  deps.globalConf.assertValid()
  checkProxyVersion(lastHeader(raw.headers, TRANSPORT_HEADERS.proxyVersion))
  checkHashAlgorithm(lastHeader(raw.headers, TRANSPORT_HEADERS.hashAlgorithm))
  // PR-MESSTRANSP §3: `x-road-message-type: REST` for REST; absent, the message is SOAP.
  if (lastHeader(raw.headers, TRANSPORT_HEADERS.messageType)?.trim().toUpperCase() !== 'REST') return processSoapServerRequest(raw, deps, observation)
  const message = decodeTransportMessage(lastHeader(raw.headers, 'content-type') ?? '', raw.body, 'request', deps.limits ?? DEFAULT_MULTIPART_LIMITS)
  const { request } = readRestRequest(message, deps.globalConf.instanceIdentifier())
  Object.assign(observation, {
    clientId: request.clientId, serviceId: request.serviceId, method: request.method, servicePath: request.servicePath,
    messageId: request.messageId, requestId: request.requestId, userId: request.userId, issue: request.issue,
  })
  checkClientKnown(request.clientId, deps.globalConf)
  await deps.tlsClientVerifier.verify(request.clientId, raw.peerCertificateChain, message.ocspResponses)
  if (message.signature === undefined) throw clientError('missing_signature', 'Request is not signed')
  checkAccess(request, deps.serverConf, deps.globalConf)

  const requestBody = message.attachments[0]
  const requestParts = signedParts(message.message.bytes, requestBody)
  const requestSignature = { signatureXml: message.signature, hashChainResult: message.hashChainResult, hashChain: message.hashChain }
  await deps.verifier.verify(request.clientId, requestParts, requestSignature, clock.now())
  deps.messageLog.assertAcceptingMessages()
  await deps.messageLog.record({
    direction: 'request', side: 'server', messageId: request.messageId, requestId: request.requestId, clientId: request.clientId, serviceId: request.serviceId,
    headerPart: message.message.bytes, body: requestBody, signature: requestSignature,
  })

  const service = deps.serverConf.service(request.serviceId)
  if (service === undefined) throw clientError('unknown_service', 'Unknown service')
  observation.requestOutTs = clock.now().getTime()
  const serviceResponse = await deps.serviceClient.call({
    url: serviceUrl(service.url, request.servicePath, request.rawQuery),
    method: request.method,
    headers: request.headers,
    body: requestBody,
    timeoutMs: service.timeoutSeconds * 1000,
    sslVerify: service.sslVerify,
  })

  observation.responseInTs = clock.now().getTime()
  observation.status = serviceResponse.status
  const provider = serviceProvider(request.serviceId)
  const headerPart = serializeRestResponsePart({
    status: serviceResponse.status,
    reason: serviceResponse.reason,
    headers: providerResponseHeaders(serviceResponse.headers, {
      messageId: request.messageId, clientId: request.clientId, serviceId: request.serviceId, requestId: request.requestId,
      requestHash: computeRequestHash(message.message.bytes, requestBody),
    }),
  })
  const responseBody = serviceResponse.body.byteLength > 0 ? serviceResponse.body : undefined
  const responseSignature = await deps.signer.sign(provider, signedParts(headerPart, responseBody))
  await deps.messageLog.record({
    direction: 'response', side: 'server', messageId: request.messageId, requestId: request.requestId, clientId: request.clientId, serviceId: request.serviceId,
    headerPart, body: responseBody, signature: responseSignature,
  })
  const encoded = encodeRestTransportMessage({
    kind: 'response', headerPart, body: responseBody, signature: responseSignature.signatureXml,
    hashChainResult: responseSignature.hashChainResult, hashChain: responseSignature.hashChain,
  })
  return { status: 200, headers: [['Content-Type', encoded.contentType], [TRANSPORT_HEADERS.hashAlgorithm, HASH_ALGORITHM]], body: encoded.body }
}

/**
 * `/message.xml` and, with a body part, `/attachment1` (xroad-protocols.md §4.4). A body part that arrived empty is
 * still a part (X-Road `ProxyMessageDecoder.handleRestBody` adds it to the verifier whatever its length): it must be
 * referenced by the signature, and a reference to a part that did not arrive fails (`invalid_reference`). Senders
 * leave an empty body out (pass undefined) and sign without it.
 */
export function signedParts(headerPart: Uint8Array, body: Uint8Array | undefined): Array<{ name: string; bytes: Uint8Array }> {
  return body === undefined
    ? [{ name: '/message.xml', bytes: headerPart }]
    : [{ name: '/message.xml', bytes: headerPart }, { name: '/attachment1', bytes: body }]
}

import { providerOf } from './identifier-text'
import { clientError, systemClock, toSecurityServerError, type Clock } from '../platform'
import { incomingStream, loggingLimits, nonEmpty } from './body/body-limits'
import { bufferBody, bufferSource, defaultBodyStore, type BodyDigest, type BodySource, type BodyStore, type IncomingBody, type MessageBody } from './body/message-body'
import {
  answerFailure, checkAccess, checkProviderRegistered, checkProxyVersion, checkSigningContext, FaultAfterAnswerBegan, readingFailure, readRestRequest, readRestRequestPart,
  serviceAddress, serviceUrl, signatureFailure, signMessage,
} from './pipeline/server-steps'
import {
  forOneExchange, observeRestRequest, type ExchangeObservation, type ExchangeObserver, type GlobalConfView, type LocalServiceHandler, type MessageLogWriter, type MessagePart,
  type MessageSigner, type MessageVerifier, type ServerConfView, type ServiceClient, type ServiceResponse, type TlsClientVerifier,
} from './proxy-deps'
import { soapFaultResponse } from './proxy-fault'
import type { LocalRestServiceHandler } from './metaservices/rest-metaservices'
import { processSoapServerRequest } from './soap/soap-server-proxy'
import { SoapFaultError, type SoapHeader } from '../soap'
import { computeRequestHash } from './rest/request-hash'
import { serializeRestResponsePart } from './rest/rest-header-part'
import { lastHeader, type HeaderList } from './rest/rest-headers'
import type { RestRequest } from './rest/rest-request'
import { providerResponseHeaders } from './rest/rest-response'
import {
  checkHashAlgorithm, encodeFaultTransportMessage, encodeRestTransportStream, HASH_ALGORITHM, readTransportMessage, TRANSPORT_HEADERS, type TransportMessage,
} from './transport/transport-message'
import { DEFAULT_MULTIPART_LIMITS, type MultipartLimits } from './transport/multipart'

/**
 * The server proxy: a transport message from a consumer security server → the service, in the provider order of
 * xroad-protocols.md §4.3 and X-Road's processors (the steps in pipeline/server-steps.ts). Failures before the provider
 * begins answering become a plain SOAP fault (HTTP 200); later ones a fault inside the response multipart. The message
 * is read as it arrives (the REST body hashed and spooled past the budget's threshold, the message log's limit
 * applied from the header part on), and the body and the service's response travel as streams (issue 14 §3).
 */
export interface ServerProxyRequest {
  method: string
  headers: HeaderList
  body: Uint8Array | IncomingBody
  /** The consumer's TLS auth certificate chain (leaf first), from the mutual-TLS handshake. */
  peerCertificateChain: Uint8Array[]
  /** The TLS connection it came on (the peer checks' decision is per connection). */
  connection?: object
  /** The multipart limits of the listener it came on (its body limit), where the dependencies set none (`limits`). */
  limits?: MultipartLimits
}

export interface ProxyResponse {
  status: number
  headers: HeaderList
  /** Written out by the listener, which then releases it. */
  body: BodySource
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
  /** The server's memory budget and spool folder (a default budget under the temp folder when absent). */
  bodies?: BodyStore
  /**
   * The configured minimum `x-proxy-version` of consumer servers (system parameter
   * `proxy.server-min-supported-client-version`; X-Road's `server-min-supported-client-version`), read per request.
   */
  minSupportedClientVersion?(): string | undefined
  /** The handler of a SOAP request this server answers itself (the owner's monitoring services, the metaservices), if it is one. */
  localService?(header: SoapHeader): LocalServiceHandler | undefined
  /** The handler of a REST request this server answers itself (the REST metaservices), if it is one. */
  localRestService?(request: RestRequest): LocalRestServiceHandler | undefined
  /** The views of one message (`forOneExchange`). */
  forExchange?(): Pick<ServerProxyDeps, 'serverConf' | 'signer'>
}

export async function handleServerProxyRequest(raw: ServerProxyRequest, deps: ServerProxyDeps): Promise<ProxyResponse> {
  const clock = deps.clock ?? systemClock
  const observation: ExchangeObservation = {
    side: 'server', requestInTs: clock.now().getTime(), responseOutTs: 0, requestSize: 0, succeeded: false,
  }
  let result: ProxyResponse
  try {
    result = await processServerRequest(raw, forOneExchange(deps), observation)
    observation.succeeded = true
  } catch (error) {
    const began = error instanceof FaultAfterAnswerBegan ? error : undefined
    const thrown = toSecurityServerError(began?.error ?? error)
    // A service's own SOAP fault passes as it came (ServerMessageProcessor.handleException: CodedException.Fault).
    const coded = thrown instanceof SoapFaultError ? thrown : thrown.withPrefix('server.serverproxy')
    observation.faultCode = coded.faultCode
    observation.faultString = coded.message
    if (began === undefined) {
      const fault = soapFaultResponse(coded)
      result = { status: fault.status, headers: fault.headers, body: bufferSource(fault.body) }
    } else {
      // ProxyMessageEncoder.fault: the answer had begun, so the fault goes out as the response multipart's part.
      const encoded = encodeFaultTransportMessage(soapFaultResponse(coded).body)
      result = {
        status: 200,
        headers: [['Content-Type', encoded.contentType], [TRANSPORT_HEADERS.hashAlgorithm, HASH_ALGORITHM], ...began.headers],
        body: bufferSource(encoded.body),
      }
    }
  }
  observation.responseSize = result.body.size
  observation.responseOutTs = clock.now().getTime()
  deps.observer?.observe(observation)
  return result
}

/** Step 1 for both protocols (`ServerProxyHandler.handle`), then the REST or SOAP processor. */
async function processServerRequest(raw: ServerProxyRequest, deps: ServerProxyDeps, observation: ExchangeObservation): Promise<ProxyResponse> {
  if (raw.method.toUpperCase() !== 'POST') throw clientError('invalid_http_method', 'Must use POST between security servers')
  deps.globalConf.assertValid()
  checkProxyVersion(lastHeader(raw.headers, TRANSPORT_HEADERS.proxyVersion), deps.minSupportedClientVersion?.())
  checkHashAlgorithm(lastHeader(raw.headers, TRANSPORT_HEADERS.hashAlgorithm))
  // PR-MESSTRANSP §3: `x-road-message-type: REST` for REST; absent, the message is SOAP.
  if (lastHeader(raw.headers, TRANSPORT_HEADERS.messageType)?.trim().toUpperCase() !== 'REST') return processSoapServerRequest(raw, deps, observation)
  return processRestServerRequest(raw, deps, observation)
}

/**
 * X-Road's `ServerRestMessageProcessor.process`, step by step (server-steps.ts). The steps' failures are mapped where
 * they are caught (`readingFailure`, `signatureFailure`, `answerFailure`: what `whileReading`, `verifyRequestSignature`
 * and `answering` do), without an async closure per step and message (issue 15 §5).
 */
async function processRestServerRequest(raw: ServerProxyRequest, deps: ServerProxyDeps, observation: ExchangeObservation): Promise<ProxyResponse> {
  const clock = deps.clock ?? systemClock
  const bodies = deps.bodies ?? defaultBodyStore()
  const instance = deps.globalConf.instanceIdentifier()
  const incoming = incomingStream(raw.body)
  // Issue 15 §5: the header part is parsed once — for the body's logging limit when a body follows it, else below.
  let early: { headerPart: Uint8Array; read: ReturnType<typeof readRestRequestPart> } | undefined
  // Step 2: reading; the checks X-Road makes as the REST part arrives (`ProxyMessage.rest`) come with it.
  let message: TransportMessage<MessageBody>
  try {
    message = await readTransportMessage(lastHeader(raw.headers, 'content-type') ?? '', incoming.stream, 'request', {
      limits: deps.limits ?? raw.limits ?? DEFAULT_MULTIPART_LIMITS,
      bodies,
      declaredLength: incoming.declaredLength,
      // The body's logging limit is known from the header part, which comes before it (§4.3 part order); none when the
      // part does not parse (the request is refused with the parse's error after reading).
      bodyLimits: (headerPart) => {
        try {
          early = { headerPart, read: readRestRequestPart(headerPart, instance) }
        } catch {
          return loggingLimits(undefined)
        }
        return loggingLimits(deps.messageLog.bodyLimit(early.read.request.clientId, early.read.request.serviceId))
      },
      received: (n) => {
        observation.requestSize += n
      },
    })
  } catch (error) {
    throw readingFailure(error)
  }
  const received: MessageBody | undefined = message.attachments[0]
  let serviceResponse: ServiceResponse
  let request: RestRequest
  try {
    let read: RestRequest | undefined
    if (message.message.type === 'rest') {
      try {
        const { request: parsed } = early !== undefined && early.headerPart === message.message.bytes ? early.read : readRestRequest(message, instance)
        observeRestRequest(observation, parsed)
        const provider = providerOf(parsed.serviceId)
        checkProviderRegistered(provider, deps.serverConf)
        await checkSigningContext(provider, deps.signer)
        await deps.tlsClientVerifier.verify(parsed.clientId, raw.peerCertificateChain, message.ocspResponses, raw.connection)
        read = parsed
      } catch (error) {
        throw readingFailure(error)
      }
    }
    // Step 3: `checkRequest`.
    if (read === undefined) throw clientError('missing_rest', 'Request does not have REST message')
    request = read
    if (message.signature === undefined) throw clientError('missing_signature', 'Request does not have signature')
    // Step 4: `verifyAccess`; a REST metaservice (PR-MREST) is answered here and needs no access right
    // (`RestMetadataServiceHandlerImpl.shouldVerifyAccess` false).
    const local = deps.localRestService?.(request)
    if (local === undefined) checkAccess(request, deps.serverConf, deps.globalConf)
    // Step 5: `verifySignature`, `logRequestMessage`. The body part as it arrived, an empty one included (signedParts).
    const requestBody = received
    const requestSignature = { signatureXml: message.signature, hashChainResult: message.hashChainResult, hashChain: message.hashChain }
    try {
      await deps.verifier.verify(request.clientId, signedParts(message.message.bytes, requestBody), requestSignature, clock.now())
    } catch (error) {
      throw signatureFailure(error)
    }
    deps.messageLog.assertAcceptingMessages()
    await deps.messageLog.record({
      direction: 'request', side: 'server', messageId: request.messageId, requestId: request.requestId, clientId: request.clientId, serviceId: request.serviceId,
      headerPart: message.message.bytes, body: requestBody, signature: requestSignature,
    })

    // Step 6: the encoder exists from here (`preprocess` before `startHandling`): failures are faults in the multipart.
    try {
      if (local !== undefined) {
        observation.requestOutTs = clock.now().getTime()
        serviceResponse = await localRestAnswer(local)
      } else {
        const service = deps.serverConf.service(request.serviceId)
        const url = serviceAddress(service, request.serviceId)
        observation.requestOutTs = clock.now().getTime()
        serviceResponse = await deps.serviceClient.call({
          url: serviceUrl(url, request.servicePath, request.rawQuery),
          method: request.method,
          headers: request.headers,
          body: requestBody,
          timeoutMs: (service?.timeoutSeconds ?? 0) * 1000,
          sslVerify: service?.sslVerify ?? true,
          response: { bodies, limits: loggingLimits(deps.messageLog.bodyLimit(request.clientId, request.serviceId)) },
        })
      }
    } catch (error) {
      throw answerFailure(error)
    }
  } finally {
    // Delivered to the service (or refused): the request body's memory or spool file goes back.
    received?.release()
  }

  const responseBody = nonEmpty(serviceResponse.body)
  try {
    observation.responseInTs = clock.now().getTime()
    observation.status = serviceResponse.status
    const provider = providerOf(request.serviceId)
    const headerPart = serializeRestResponsePart({
      status: serviceResponse.status,
      reason: serviceResponse.reason,
      headers: providerResponseHeaders(serviceResponse.headers, {
        messageId: request.messageId, clientId: request.clientId, serviceId: request.serviceId, requestId: request.requestId,
        requestHash: computeRequestHash(message.message.bytes, received),
      }),
    })
    const responseSignature = await signMessage(provider, signedParts(headerPart, responseBody), deps.signer)
    await deps.messageLog.record({
      direction: 'response', side: 'server', messageId: request.messageId, requestId: request.requestId, clientId: request.clientId, serviceId: request.serviceId,
      headerPart, body: responseBody, signature: responseSignature,
    })
    const encoded = encodeRestTransportStream({
      kind: 'response', headerPart, body: serviceResponse.body, signature: responseSignature.signatureXml,
      hashChainResult: responseSignature.hashChainResult, hashChain: responseSignature.hashChain,
    })
    return { status: 200, headers: [['Content-Type', encoded.contentType], [TRANSPORT_HEADERS.hashAlgorithm, HASH_ALGORITHM]], body: encoded.body }
  } catch (error) {
    serviceResponse.body.release()
    throw answerFailure(error)
  }
}

/** A REST metaservice's answer as a service's response. */
async function localRestAnswer(local: LocalRestServiceHandler): Promise<ServiceResponse> {
  const answer = await local.respond()
  return { status: answer.status, reason: answer.reason, headers: answer.headers, body: bufferBody(answer.body) }
}

/**
 * `/message.xml` and, with a body part, `/attachment1` (xroad-protocols.md §4.4) — by its bytes or by the SHA-512
 * taken as it arrived. A body part that arrived empty is still a part (X-Road `ProxyMessageDecoder.handleRestBody`
 * adds it to the verifier whatever its length): it must be referenced by the signature, and a reference to a part that
 * did not arrive fails (`invalid_reference`). Senders leave an empty body out (pass undefined) and sign without it.
 */
export function signedParts(headerPart: Uint8Array, body: Uint8Array | BodyDigest | undefined): MessagePart[] {
  const message: MessagePart = { name: '/message.xml', bytes: headerPart }
  if (body === undefined) return [message]
  if (body instanceof Uint8Array) return [message, { name: '/attachment1', bytes: body }]
  return [message, { name: '/attachment1', digest: body.sha512, digestAlgorithm: 'SHA-512' }]
}

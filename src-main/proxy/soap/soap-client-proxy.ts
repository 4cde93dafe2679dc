import { randomUUID } from 'node:crypto'
import { describeIdentifier, serviceProvider } from '@shared/domain/identifiers'
import { SecurityServerError, systemClock, toSecurityServerError } from '../../platform'
import {
  checkConsistency, checkRequestHash, mediaTypeOf, readSoap, SoapFaultError, validateSoapAction, ORIGINAL_SOAP_ACTION_HEADER, type SoapMessage,
} from '../../soap'
import { incomingStream, loggingLimits, readBounded, transportLimit } from '../body/body-limits'
import { bufferSource, defaultBodyStore, type BodySource } from '../body/message-body'
import { checkIsAuthentication, routeRequest, type ClientProxyDeps, type ClientProxyRequest } from '../client-proxy'
import { checkSigningContext, faultToError, signMessage } from '../pipeline/server-steps'
import { forOneExchange, type ExchangeObservation } from '../proxy-deps'
import { soapFaultResponse } from '../proxy-fault'
import { lastHeader } from '../rest/rest-headers'
import type { ProxyResponse } from '../server-proxy'
import { boundaryOf, DEFAULT_MULTIPART_LIMITS } from '../transport/multipart'
import { HASH_ALGORITHM, TRANSPORT_HEADERS } from '../transport/transport-message'
import { soapObservation, responseObservation } from './soap-observation'
import {
  encodeSoapTransportStream, readSoapTransportMessage, receiveSoapMessage, releaseAll, soapMultipartSource, soapSignedParts,
  type SoapPart, type StreamedAttachment,
} from './soap-transport'

/**
 * The client proxy for SOAP (X-Road's `ClientMessageHandler` and `ClientMessageProcessor`; PR-MESS; xroad-protocols.md
 * §3, §4.3): an information system POSTs a SOAP message (`text/xml`, SOAP with attachments or MTOM) → read as it
 * arrives (attachments hashed and spooled, `soap-transport.ts`) and checked → signed (with attachments: a batch
 * signature over their hash chain) → logged (the SOAP part, as X-Road logs a request) → streamed to a provider server →
 * the response read the same way, verified, checked against the request (headers, `requestHash`), logged with its
 * attachments, and answered as the service sent it. Every failure is a SOAP fault (HTTP 200): `client.*` for what the
 * information system sent, the provider's fault as it came, `server.clientproxy.*` otherwise.
 */
export async function handleSoapClientRequest(raw: ClientProxyRequest, deps: ClientProxyDeps): Promise<ProxyResponse> {
  const clock = deps.clock ?? systemClock
  const observation: ExchangeObservation = { side: 'client', requestInTs: clock.now().getTime(), responseOutTs: 0, requestSize: 0, succeeded: false, soap: {} }
  let result: ProxyResponse
  try {
    result = await processSoapClientRequest(raw, forOneExchange(deps), observation)
    observation.succeeded = true
  } catch (error) {
    const coded = clientProxyFault(error)
    const fault = soapFaultResponse(coded)
    observation.faultCode = coded.faultCode
    observation.faultString = coded.message
    result = { status: fault.status, headers: fault.headers, body: bufferSource(fault.body) }
  }
  observation.status = result.status
  observation.responseSize ??= result.body.size
  observation.responseOutTs = clock.now().getTime()
  deps.observer?.observe(observation)
  return result
}

/** The information system's own faults (`ClientException`) are `client.*` and marked so on the way. */
class ClientFault extends Error {
  constructor(readonly error: SecurityServerError) {
    super(error.message)
  }
}

async function fromClient<T>(step: () => T | Promise<T>): Promise<T> {
  try {
    return await step()
  } catch (error) {
    throw new ClientFault(toSecurityServerError(error).withPrefix('client'))
  }
}

/** A provider's fault passes as it came (`CodedException.Fault`); the rest arose here (`server.clientproxy`). */
function clientProxyFault(error: unknown): SecurityServerError {
  if (error instanceof ClientFault) return error.error
  const coded = toSecurityServerError(error)
  return coded instanceof SoapFaultError ? coded : coded.withPrefix('server.clientproxy')
}

/** Failures in what the provider sent (`.withPrefix(X_SERVICE_FAILED_X)`). */
async function fromProvider<T>(step: () => T | Promise<T>): Promise<T> {
  try {
    return await step()
  } catch (error) {
    const coded = toSecurityServerError(error)
    throw coded instanceof SoapFaultError ? coded : coded.withPrefix('service_failed')
  }
}

const MAX_FAULT_BYTES = 1024 * 1024

async function processSoapClientRequest(raw: ClientProxyRequest, deps: ClientProxyDeps, observation: ExchangeObservation): Promise<ProxyResponse> {
  const clock = deps.clock ?? systemClock
  await fromClient(() => {
    if (raw.method.toUpperCase() !== 'POST') throw new SecurityServerError('invalid_http_method', `Must use POST request method instead of ${raw.method.slice(0, 10)}`)
  })
  deps.globalConf.assertValid()
  const contentType = lastHeader(raw.headers, 'content-type') ?? ''
  const soapAction = await fromClient(() => validateSoapAction(lastHeader(raw.headers, 'soapaction')))
  const bodies = deps.bodies ?? defaultBodyStore()
  const incoming = incomingStream(raw.body)
  const limits = incoming.maxBytes === undefined ? [] : [transportLimit(incoming.maxBytes)]
  const received = await fromClient(async () => {
    const message = await receiveSoapMessage(contentType, incoming.stream, {
      bodies, limits: { ...DEFAULT_MULTIPART_LIMITS, ...(incoming.maxBytes === undefined ? {} : { maxBytes: incoming.maxBytes }) }, attachmentLimits: limits,
    })
    if (message.soap.kind === 'fault') {
      releaseAll(message.attachments)
      throw new SoapFaultError(message.soap)
    }
    return { ...message, soap: message.soap }
  })
  const request = received.soap
  const attachments = received.attachments
  try {
    const { header } = request
    const requestId = randomUUID()
    Object.assign(observation, {
      clientId: header.client, serviceId: header.service, messageId: header.id, requestId, userId: header.userId, issue: header.issue,
      requestSize: request.bytes.byteLength, soap: soapObservation(request, attachments),
    })
    // AbstractClientMessageProcessor.verifyClientStatus: only a registered client of this server sends.
    if (!deps.serverConf.isRegisteredClient(header.client)) throw new SecurityServerError('unknown_member', `Client '${describeIdentifier(header.client)}' not found`)
    checkIsAuthentication(header.client, raw.tls, deps.serverConf)
    const targets = routeRequest({ serviceId: header.service, targetSecurityServer: header.securityServer }, deps.globalConf)
    const logLimit = deps.messageLog.bodyLimit(header.client, header.service)

    // ClientMessageProcessor: signingCtxProvider.createSigningCtx(sender) — no signing key is cannot_create_signature.
    await checkSigningContext(header.client, deps.signer)
    const signature = await signMessage(header.client, soapSignedParts(request.bytes, attachments), deps.signer)
    deps.messageLog.assertAcceptingMessages()
    const record = { side: 'client' as const, messageId: header.id, requestId, clientId: header.client, serviceId: header.service }
    // ClientMessageProcessor.logRequestMessage: the SOAP part; the attachments are covered by the batch signature.
    await deps.messageLog.record({ ...record, direction: 'request', headerPart: request.bytes, signature })
    const soapPart: SoapPart = { contentType: request.contentType, headers: received.soapPartHeaders ?? [], bytes: request.bytes }
    const encoded = encodeSoapTransportStream({ ocspResponses: await deps.authOcspResponses(), soap: soapPart, attachments, signature })
    observation.requestOutTs = clock.now().getTime()
    const peerResponse = await deps.peer.send(targets, serviceProvider(header.service), {
      headers: [
        [TRANSPORT_HEADERS.requestId, requestId],
        [TRANSPORT_HEADERS.hashAlgorithm, HASH_ALGORITHM],
        [TRANSPORT_HEADERS.originalContentType, contentType],
        [TRANSPORT_HEADERS.proxyVersion, deps.proxyVersion],
        ...(soapAction === undefined ? [] : [[ORIGINAL_SOAP_ACTION_HEADER, soapAction] as [string, string]]),
      ],
      contentType: encoded.contentType,
      body: encoded.body,
    })
    observation.responseInTs = clock.now().getTime()
    if (mediaTypeOf(peerResponse.contentType) === 'text/xml') {
      const fault = await fromProvider(() => readBounded(peerResponse.body, MAX_FAULT_BYTES))
      await fromProvider(() => {
        throw faultToError(fault)
      })
    }
    const response = await fromProvider(() => readSoapTransportMessage(peerResponse.contentType, peerResponse.body, 'response', {
      bodies, limits: deps.responseLimits ?? DEFAULT_MULTIPART_LIMITS, attachmentLimits: loggingLimits(logLimit),
    }))
    try {
      if (response.fault !== undefined) await fromProvider(() => { throw faultToError(response.fault as Buffer) })
      const responseSoap = await fromProvider(() => {
        const soap = readSoap(response.soap.bytes, response.soap.contentType)
        if (soap.kind === 'fault') throw new SoapFaultError(soap)
        return soap
      })
      if (response.signature === undefined) throw new SecurityServerError('missing_signature', 'Response does not have signature')
      const responseSignature = { signatureXml: response.signature, hashChainResult: response.hashChainResult, hashChain: response.hashChain }
      // xroad-protocols.md §4.3: the consumer verifies with signer = the service provider.
      await deps.verifier.verify(serviceProvider(header.service), soapSignedParts(response.soap.bytes, response.attachments), responseSignature, clock.now())
      checkConsistency(header, responseSoap.header)
      checkRequestHash(responseSoap, request.bytes)
      await deps.messageLog.record({
        ...record, direction: 'response', headerPart: response.soap.bytes, attachments: response.attachments.map((a) => a.body), signature: responseSignature,
      })
      observation.soap = { ...observation.soap, ...responseObservation(responseSoap, response.attachments) }
      observation.responseSize = responseSoap.bytes.byteLength
      return informationSystemResponse(responseSoap, response.soap, response.attachments, lastHeader(peerResponse.headers, TRANSPORT_HEADERS.originalContentType))
    } catch (error) {
      releaseAll(response.attachments)
      throw error
    }
  } finally {
    // Sent (or refused): the request attachments' memory or spool files go back.
    releaseAll(attachments)
  }
}

/**
 * `ProxyMessage.getSoapContentType` / `writeSoapContent`: with attachments or MTOM, the multipart the service sent,
 * rebuilt with its original Content-Type (boundary and all); otherwise the SOAP message with its charset.
 */
function informationSystemResponse(soap: SoapMessage, part: SoapPart, attachments: StreamedAttachment[], originalContentType: string | undefined): ProxyResponse {
  const mime = mediaTypeOf(soap.contentType) === 'application/xop+xml'
  const boundary = originalContentType === undefined ? undefined : boundaryOf(originalContentType)
  if ((mime || attachments.length > 0) && originalContentType !== undefined && boundary !== undefined) {
    const body: BodySource = soapMultipartSource(boundary, part, attachments)
    return { status: 200, headers: [['Content-Type', originalContentType]], body }
  }
  releaseAll(attachments)
  return { status: 200, headers: [['Content-Type', `text/xml; charset=${soap.charset}`]], body: bufferSource(soap.bytes) }
}

import { describeIdentifier, identifierEquals, serviceProvider } from '@shared/domain/identifiers'
import { decideAccess } from '../../access-control'
import { SecurityServerError, systemClock, toSecurityServerError } from '../../platform'
import {
  mediaTypeOf, readSoap, soapFaultXml, SoapFaultError, validateSoapAction, withRequestHash, ORIGINAL_SOAP_ACTION_HEADER, type SoapMessage,
} from '../../soap'
import { incomingStream, loggingLimits } from '../body/body-limits'
import { bufferBody, bufferSource, defaultBodyStore, type BodySource } from '../body/message-body'
import { checkClientKnown } from '../pipeline/server-steps'
import type { ExchangeObservation, LocalServiceHandler, ServiceResponse } from '../proxy-deps'
import { lastHeader, type HeaderList } from '../rest/rest-headers'
import type { ProxyResponse, ServerProxyDeps, ServerProxyRequest } from '../server-proxy'
import { boundaryOf, DEFAULT_MULTIPART_LIMITS } from '../transport/multipart'
import { HASH_ALGORITHM, TRANSPORT_HEADERS } from '../transport/transport-message'
import { responseObservation, soapObservation } from './soap-observation'
import {
  encodeSoapTransportStream, readSoapTransportMessage, receiveSoapMessage, releaseAll, soapMultipartSource, soapSignedParts,
  type SoapTransportMessage, type StreamedSoapMessage,
} from './soap-transport'

/**
 * The server proxy for SOAP (X-Road's `ServerMessageProcessor`; xroad-protocols.md §4.3), after the checks every
 * transport message gets (POST, configuration validity, proxy version, hash algorithm): the transport message read as
 * it arrives (a fault in it is `service_failed.*`; attachments hashed and spooled), `xroad:securityServer` must be this
 * server, the client known, its TLS certificate verified, SOAP part and signature present, access to the service code
 * and version (the whole-service right, a WSDL service), the signature verified with the client as signer, the
 * request logged with its attachments, the service called (the multipart rebuilt with the consumer's original
 * Content-Type, streamed), its answer read (a fault in it is `service_failed.*`; its own SOAP fault is passed on as it
 * came), `requestHash` written into it, signed by the provider, logged, and streamed back with its attachments and
 * `x-original-content-type`.
 */
export async function processSoapServerRequest(raw: ServerProxyRequest, deps: ServerProxyDeps, observation: ExchangeObservation): Promise<ProxyResponse> {
  const clock = deps.clock ?? systemClock
  const soapAction = validateSoapAction(lastHeader(raw.headers, ORIGINAL_SOAP_ACTION_HEADER))
  const bodies = deps.bodies ?? defaultBodyStore()
  const limits = deps.limits ?? DEFAULT_MULTIPART_LIMITS
  const incoming = incomingStream(raw.body)
  const message = await serviceFailed(() => readSoapTransportMessage(lastHeader(raw.headers, 'content-type') ?? '', incoming.stream, 'request', {
    bodies, limits: incoming.maxBytes === undefined ? limits : { ...limits, maxBytes: Math.min(limits.maxBytes, incoming.maxBytes) }, attachmentLimits: [],
  }))
  let answer: ServiceResponse
  let soap: SoapMessage
  let record: { side: 'server'; messageId: string; clientId: SoapMessage['header']['client']; serviceId: SoapMessage['header']['service']; requestId?: string }
  try {
    soap = await serviceFailed(() => {
      const read = readSoap(message.soap.bytes, message.soap.contentType)
      if (read.kind === 'fault') throw new SecurityServerError('invalid_soap', 'The request is a SOAP fault')
      return read
    })
    const { header } = soap
    const requestId = lastHeader(raw.headers, TRANSPORT_HEADERS.requestId)
    Object.assign(observation, {
      clientId: header.client, serviceId: header.service, messageId: header.id, requestId, userId: header.userId, issue: header.issue,
      requestSize: soap.bytes.byteLength, soap: soapObservation(soap, message.attachments),
    })
    checkSecurityServer(soap, deps)
    checkClientKnown(header.client, deps.globalConf)
    await deps.tlsClientVerifier.verify(header.client, raw.peerCertificateChain, message.ocspResponses)
    if (message.signature === undefined) throw new SecurityServerError('missing_signature', 'Request does not have signature')
    // A service this server answers itself (the owner's monitoring services) checks access its own way.
    const local = deps.localService?.(header)
    if (local === undefined) checkSoapAccess(soap, deps)
    else local.verifyAccess()

    const requestSignature = { signatureXml: message.signature, hashChainResult: message.hashChainResult, hashChain: message.hashChain }
    await deps.verifier.verify(header.client, soapSignedParts(soap.bytes, message.attachments), requestSignature, clock.now())
    deps.messageLog.assertAcceptingMessages()
    record = { side: 'server', messageId: header.id, clientId: header.client, serviceId: header.service, ...(requestId === undefined ? {} : { requestId }) }
    await deps.messageLog.record({ ...record, direction: 'request', headerPart: soap.bytes, attachments: message.attachments.map((a) => a.body), signature: requestSignature })

    if (local !== undefined) {
      observation.requestOutTs = clock.now().getTime()
      answer = await localAnswer(local, soap.bytes)
    } else {
      const service = deps.serverConf.service(header.service)
      if (service === undefined) throw new SecurityServerError('unknown_service', `Unknown service: ${describeIdentifier(header.service)}`)
      const outgoing = serviceRequest(message, lastHeader(raw.headers, TRANSPORT_HEADERS.originalContentType))
      observation.requestOutTs = clock.now().getTime()
      try {
        answer = await deps.serviceClient.call({
          url: service.url, method: 'POST',
          headers: [['Content-Type', outgoing.contentType], ...(soapAction === undefined ? [] : [['SOAPAction', soapAction] as [string, string]])],
          body: outgoing.body, timeoutMs: service.timeoutSeconds * 1000, sslVerify: service.sslVerify,
          response: { bodies, limits: loggingLimits(deps.messageLog.bodyLimit(header.client, header.service)) },
        })
      } catch (error) {
        const coded = toSecurityServerError(error)
        throw coded.prefixes.length > 0 ? coded : coded.withPrefix('service_failed')
      }
    }
  } finally {
    // Delivered to the service (or refused): the request attachments' memory or spool files go back.
    releaseAll(message.attachments)
  }
  observation.responseInTs = clock.now().getTime()
  observation.status = answer.status
  const responseContentType = lastHeader(answer.headers, 'content-type')
  let response: StreamedSoapMessage
  try {
    response = await serviceFailed(() => readServiceResponse(answer, responseContentType, bodies, limits))
  } finally {
    answer.body.release()
  }
  try {
    if (response.soap.kind === 'fault') throw new SoapFaultError(response.soap)
    const withHash = withRequestHash(response.soap, soap.bytes)
    const responseSignature = await deps.signer.sign(serviceProvider(soap.header.service), soapSignedParts(withHash.bytes, response.attachments))
    // ServerMessageProcessor.logResponseMessage: the SOAP part (the attachments are in the batch signature).
    await deps.messageLog.record({ ...record, direction: 'response', headerPart: withHash.bytes, signature: responseSignature })
    observation.soap = { ...observation.soap, ...responseObservation(withHash, response.attachments) }
    const encoded = encodeSoapTransportStream({
      soap: { contentType: withHash.contentType, headers: response.soapPartHeaders ?? [], bytes: withHash.bytes }, attachments: response.attachments, signature: responseSignature,
    })
    const headers: HeaderList = [['Content-Type', encoded.contentType], [TRANSPORT_HEADERS.hashAlgorithm, HASH_ALGORITHM]]
    if (responseContentType !== undefined) headers.push([TRANSPORT_HEADERS.originalContentType, responseContentType])
    return { status: 200, headers, body: encoded.body }
  } catch (error) {
    releaseAll(response.attachments)
    throw error
  }
}

/**
 * The answer of a service this server answers itself, as a service would send it: its message, or — for the
 * op-monitor daemon's services — its failure as a SOAP fault with HTTP 500, which then passes on as the service's own
 * fault (X-Road's `OpMonitorDaemonRequestHandler.handleQueryRequest` → `sendErrorResponse`).
 */
async function localAnswer(local: LocalServiceHandler, requestSoap: Uint8Array): Promise<ServiceResponse> {
  try {
    const message = await local.respond(requestSoap)
    return { status: 200, reason: 'OK', headers: [['Content-Type', message.contentType]], body: bufferBody(message.body) }
  } catch (error) {
    if (!local.faultsAsService) throw error
    const coded = toSecurityServerError(error)
    const fault = Buffer.from(soapFaultXml(coded.faultCode, coded.message, ''), 'utf8')
    return { status: 500, reason: 'Internal Server Error', headers: [['Content-Type', 'text/xml; charset=UTF-8']], body: bufferBody(fault) }
  }
}

/** Limits of the transfer itself (size, time, the memory budget) are not faults in the message. */
const TRANSFER_LIMITS = new Set(['body_too_large', 'timeout', 'server_busy', 'logging_failed'])

async function serviceFailed<T>(step: () => T | Promise<T>): Promise<T> {
  try {
    return await step()
  } catch (error) {
    const coded = toSecurityServerError(error)
    throw TRANSFER_LIMITS.has(coded.code) ? coded : coded.withPrefix('service_failed')
  }
}

/** ServerMessageProcessor.verifySecurityServer: a targeted request must name this server (`invalid_security_server`). */
function checkSecurityServer(soap: SoapMessage, deps: ServerProxyDeps): void {
  const target = soap.header.securityServer
  if (target === undefined) return
  const own = deps.serverConf.ownServerId?.()
  if (own === undefined || !identifierEquals(target, own)) {
    throw new SecurityServerError('invalid_security_server', `Invalid security server identifier '${describeIdentifier(target)}'${own === undefined ? '' : ` expected '${describeIdentifier(own)}'`}`)
  }
}

/**
 * ServerMessageProcessor.verifyAccess: the service (code and version) must exist here (`unknown_service`) and come from
 * a WSDL (`service_type`), the client must have the right to the whole service (`isQueryAllowed` without method and
 * path: the generated `* **` endpoint; `access_denied`), and the service must not be disabled (`service_disabled`).
 */
function checkSoapAccess(soap: SoapMessage, deps: ServerProxyDeps): void {
  const { client, service } = soap.header
  const type = deps.serverConf.service(service)?.type
  if (type !== undefined && type !== 'WSDL' && deps.serverConf.accessRightsFor(service) !== undefined) {
    throw new SecurityServerError('service_type', 'Service is a REST service and cannot be called using SOAP interface', { clientFault: true })
  }
  const decision = decideAccess(
    { client, service, method: '*', path: '' },
    deps.serverConf.accessRightsFor(service),
    {
      localGroupMembers: (code) => deps.serverConf.localGroupMembers(serviceProvider(service), code),
      isGlobalGroupMember: (member, group) => deps.globalConf.isGlobalGroupMember(member, group),
    },
  )
  if (!decision.allowed) throw new SecurityServerError(decision.code, decision.message, { clientFault: true })
}

/**
 * What the service receives (`ProxyMessage.writeSoapContent`): with attachments or MTOM, a multipart rebuilt with the
 * consumer's original Content-Type (its boundary); otherwise the SOAP message with its own content type.
 */
function serviceRequest(message: SoapTransportMessage, originalContentType: string | undefined): { contentType: string; body: BodySource } {
  const mime = mediaTypeOf(message.soap.contentType) === 'application/xop+xml'
  const boundary = originalContentType === undefined ? undefined : boundaryOf(originalContentType)
  if ((mime || message.attachments.length > 0) && originalContentType !== undefined && boundary !== undefined) {
    return { contentType: originalContentType, body: soapMultipartSource(boundary, message.soap, message.attachments) }
  }
  return { contentType: message.soap.contentType, body: bufferSource(message.soap.bytes) }
}

/**
 * The service's answer (X-Road's `DefaultServiceHandlerImpl` and `SoapMessageDecoder` with the response parser): HTTP
 * 200, or 500 carrying a SOAP fault; another status ⇒ `http_error`; a multipart without parts ⇒ `invalid_message`.
 */
async function readServiceResponse(answer: ServiceResponse, contentType: string | undefined, bodies: ServerProxyDeps['bodies'] & object, limits: typeof DEFAULT_MULTIPART_LIMITS): Promise<StreamedSoapMessage> {
  const isXml = contentType !== undefined && mediaTypeOf(contentType) === 'text/xml'
  if (answer.status !== 200 && !(answer.status === 500 && isXml)) {
    throw new SecurityServerError('http_error', `Server responded with error ${answer.status}: ${answer.reason.slice(0, 100)}`)
  }
  if (contentType === undefined) throw new SecurityServerError('invalid_content_type', 'Could not get content type from response')
  try {
    return await receiveSoapMessage(contentType, answer.body.chunks(), { bodies, limits, attachmentLimits: [] })
  } catch (error) {
    const coded = toSecurityServerError(error)
    if (coded.code === 'missing_soap') throw new SecurityServerError('invalid_message', 'No response message received from service')
    throw coded
  }
}

import { describeIdentifier, identifierEquals, serviceProvider } from '@shared/domain/identifiers'
import { decideAccess } from '../../access-control'
import { SecurityServerError, systemClock, toSecurityServerError } from '../../platform'
import {
  mediaTypeOf, readSoap, soapFaultXml, SoapFaultError, validateSoapAction, withRequestHash, ORIGINAL_SOAP_ACTION_HEADER, type SoapMessage,
} from '../../soap'
import { incomingStream, loggingLimits } from '../body/body-limits'
import { bufferBody, bufferSource, defaultBodyStore, type BodySource } from '../body/message-body'
import {
  answering, checkProviderRegistered, checkSigningContext, serviceAddress, signMessage, verifyRequestSignature, whileReading,
} from '../pipeline/server-steps'
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
 * transport message gets (POST, configuration validity, proxy version, hash algorithm), in the steps of
 * pipeline/server-steps.ts: the transport message read as it arrives (attachments hashed and spooled) and, as its SOAP
 * part arrives, `xroad:securityServer` must be this server, the provider registered here, its signing context
 * available, the consumer's TLS certificate verified — a failure in any of these is `service_failed.*`; then SOAP part
 * and signature present, access to the service code and version (a WSDL service, the whole-service right, not
 * disabled), the signature verified with the client as signer (`signature_verification.*`), the request logged with
 * its attachments, the service called (the multipart rebuilt with the consumer's original Content-Type, streamed; a
 * failure is `service_failed.*`). Once the service has answered, the response encoder exists (`parseResponse` →
 * `preprocess`): its answer read (a fault in it is `service_failed.*`; its own SOAP fault is passed on as it came),
 * `requestHash` written into it, signed by the provider, logged, streamed back with its attachments and
 * `x-original-content-type` — and any failure from there is a fault inside the response multipart.
 */
export async function processSoapServerRequest(raw: ServerProxyRequest, deps: ServerProxyDeps, observation: ExchangeObservation): Promise<ProxyResponse> {
  const clock = deps.clock ?? systemClock
  const soapAction = validateSoapAction(lastHeader(raw.headers, ORIGINAL_SOAP_ACTION_HEADER))
  const bodies = deps.bodies ?? defaultBodyStore()
  const limits = deps.limits ?? raw.limits ?? DEFAULT_MULTIPART_LIMITS
  const incoming = incomingStream(raw.body)
  // Step 2: reading, with the checks X-Road makes as the SOAP part arrives (`ProxyMessage.soap`).
  const message = await whileReading(() => readSoapTransportMessage(lastHeader(raw.headers, 'content-type') ?? '', incoming.stream, 'request', {
    bodies, limits: incoming.maxBytes === undefined ? limits : { ...limits, maxBytes: Math.min(limits.maxBytes, incoming.maxBytes) }, attachmentLimits: [],
  }))
  let answer: ServiceResponse
  let soap: SoapMessage
  let record: { side: 'server'; messageId: string; clientId: SoapMessage['header']['client']; serviceId: SoapMessage['header']['service']; requestId?: string }
  try {
    soap = await whileReading(async () => {
      const read = readSoap(message.soap.bytes, message.soap.contentType)
      if (read.kind === 'fault') throw new SecurityServerError('invalid_soap', 'The request is a SOAP fault')
      const { header } = read
      Object.assign(observation, {
        clientId: header.client, serviceId: header.service, messageId: header.id, requestId: lastHeader(raw.headers, TRANSPORT_HEADERS.requestId),
        userId: header.userId, issue: header.issue, requestSize: read.bytes.byteLength, soap: soapObservation(read, message.attachments),
      })
      checkSecurityServer(read, deps)
      const provider = serviceProvider(header.service)
      checkProviderRegistered(provider, deps.serverConf)
      await checkSigningContext(provider, deps.signer)
      await deps.tlsClientVerifier.verify(header.client, raw.peerCertificateChain, message.ocspResponses, raw.connection)
      return read
    })
    const { header } = soap
    const requestId = lastHeader(raw.headers, TRANSPORT_HEADERS.requestId)
    // Step 3: `checkRequest`.
    if (message.signature === undefined) throw new SecurityServerError('missing_signature', 'Request does not have signature')
    // Step 4: `verifyAccess`; a service this server answers itself (the owner's monitoring services) checks access its own way.
    const local = deps.localService?.(header)
    if (local === undefined) checkSoapAccess(soap, deps)
    else local.verifyAccess()

    // Step 5: `verifySignature`, `logRequestMessage`.
    const requestSignature = { signatureXml: message.signature, hashChainResult: message.hashChainResult, hashChain: message.hashChain }
    await verifyRequestSignature(() => deps.verifier.verify(header.client, soapSignedParts(soap.bytes, message.attachments), requestSignature, clock.now()))
    deps.messageLog.assertAcceptingMessages()
    record = { side: 'server', messageId: header.id, clientId: header.client, serviceId: header.service, ...(requestId === undefined ? {} : { requestId }) }
    await deps.messageLog.record({ ...record, direction: 'request', headerPart: soap.bytes, attachments: message.attachments.map((a) => a.body), signature: requestSignature })

    if (local !== undefined) {
      observation.requestOutTs = clock.now().getTime()
      answer = await localAnswer(local, soap.bytes)
    } else {
      // DefaultServiceHandlerImpl.startHandling: before the response encoder exists, so these are plain faults.
      const service = deps.serverConf.service(header.service)
      const url = serviceAddress(service, header.service)
      const outgoing = serviceRequest(message, lastHeader(raw.headers, TRANSPORT_HEADERS.originalContentType))
      observation.requestOutTs = clock.now().getTime()
      try {
        answer = await deps.serviceClient.call({
          url, method: 'POST',
          headers: [['Content-Type', outgoing.contentType], ...(soapAction === undefined ? [] : [['SOAPAction', soapAction] as [string, string]])],
          body: outgoing.body, timeoutMs: (service?.timeoutSeconds ?? 0) * 1000, sslVerify: service?.sslVerify ?? true,
          response: { bodies, limits: loggingLimits(deps.messageLog.bodyLimit(header.client, header.service)) },
        })
      } catch (error) {
        // sendRequest: `translateException(ex).withPrefix(X_SERVICE_FAILED_X)`; a malformed address fails before it.
        const coded = toSecurityServerError(error)
        throw coded.prefixes.length > 0 || coded.code === 'service_malformed_url' ? coded : coded.withPrefix('service_failed')
      }
    }
  } finally {
    // Delivered to the service (or refused): the request attachments' memory or spool files go back.
    releaseAll(message.attachments)
  }
  observation.responseInTs = clock.now().getTime()
  observation.status = answer.status
  let responseContentType: string
  try {
    responseContentType = await whileReading(() => checkServiceAnswer(answer, lastHeader(answer.headers, 'content-type')))
  } catch (error) {
    answer.body.release()
    throw error
  }
  // Step 6: `parseResponse` → `preprocess`: the encoder exists, with `x-original-content-type` set.
  const encoderHeaders = (): Array<[string, string]> => [[TRANSPORT_HEADERS.originalContentType, responseContentType]]
  let response: StreamedSoapMessage
  try {
    response = await answering(() => whileReading(() => readServiceResponse(answer, responseContentType, bodies, limits)), encoderHeaders)
  } finally {
    answer.body.release()
  }
  try {
    return await answering(async () => {
      if (response.soap.kind === 'fault') throw new SoapFaultError(response.soap)
      const withHash = withRequestHash(response.soap, soap.bytes)
      const responseSignature = await signMessage(serviceProvider(soap.header.service), soapSignedParts(withHash.bytes, response.attachments), deps.signer)
      // ServerMessageProcessor.logResponseMessage: the SOAP part (the attachments are in the batch signature).
      await deps.messageLog.record({ ...record, direction: 'response', headerPart: withHash.bytes, signature: responseSignature })
      observation.soap = { ...observation.soap, ...responseObservation(withHash, response.attachments) }
      const encoded = encodeSoapTransportStream({
        soap: { contentType: withHash.contentType, headers: response.soapPartHeaders ?? [], bytes: withHash.bytes }, attachments: response.attachments, signature: responseSignature,
      })
      const headers: HeaderList = [['Content-Type', encoded.contentType], [TRANSPORT_HEADERS.hashAlgorithm, HASH_ALGORITHM], ...encoderHeaders()]
      return { status: 200, headers, body: encoded.body }
    }, encoderHeaders)
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
 * `HttpSender.doPost` → `checkResponseStatus`, `getResponseContentType` (X-Road's `AbstractHttpSender`), still inside
 * `sendRequest`: HTTP 200, or 500 carrying a SOAP fault; another status ⇒ `http_error`; no content type ⇒
 * `invalid_content_type`.
 */
function checkServiceAnswer(answer: ServiceResponse, contentType: string | undefined): string {
  const isXml = contentType !== undefined && mediaTypeOf(contentType) === 'text/xml'
  if (answer.status !== 200 && !(answer.status === 500 && isXml)) {
    throw new SecurityServerError('http_error', `Server responded with error ${answer.status}: ${answer.reason.slice(0, 100)}`)
  }
  if (contentType === undefined) throw new SecurityServerError('invalid_content_type', 'Could not get content type from response')
  return contentType
}

/**
 * The service's answer read (`parseResponse`: `SoapMessageDecoder` with the response parser); a multipart without
 * parts ⇒ `invalid_message`.
 */
async function readServiceResponse(answer: ServiceResponse, contentType: string, bodies: ServerProxyDeps['bodies'] & object, limits: typeof DEFAULT_MULTIPART_LIMITS): Promise<StreamedSoapMessage> {
  try {
    return await receiveSoapMessage(contentType, answer.body.chunks(), { bodies, limits, attachmentLimits: [] })
  } catch (error) {
    const coded = toSecurityServerError(error)
    if (coded.code === 'missing_soap') throw new SecurityServerError('invalid_message', 'No response message received from service')
    throw coded
  }
}

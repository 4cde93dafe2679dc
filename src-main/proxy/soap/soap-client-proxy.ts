import { randomUUID } from 'node:crypto'
import { describeIdentifier, serviceProvider } from '@shared/domain/identifiers'
import { SecurityServerError, systemClock, toSecurityServerError } from '../../platform'
import {
  checkConsistency, checkRequestHash, decodeSoapMessage, mediaTypeOf, multipartSegments, readSoap, SoapFaultError, validateSoapAction,
  ORIGINAL_SOAP_ACTION_HEADER, type DecodedSoapMessage, type SoapAttachment, type SoapMessage,
} from '../../soap'
import { checkIsAuthentication, routeRequest, type ClientProxyDeps, type ClientProxyRequest } from '../client-proxy'
import { faultToError } from '../pipeline/server-steps'
import type { ExchangeObservation } from '../proxy-deps'
import { soapObservation } from './soap-observation'
import { soapFaultResponse } from '../proxy-fault'
import { lastHeader } from '../rest/rest-headers'
import type { ProxyResponse } from '../server-proxy'
import { boundaryOf, splitMultipart } from '../transport/multipart'
import { HASH_ALGORITHM, TRANSPORT_HEADERS } from '../transport/transport-message'
import { decodeSoapTransportMessage, encodeSoapTransportMessage, soapSignedParts } from './soap-transport'

/**
 * The client proxy for SOAP (X-Road's `ClientMessageHandler` and `ClientMessageProcessor`; PR-MESS; xroad-protocols.md
 * §3, §4.3): an information system POSTs a SOAP message (`text/xml`, SOAP with attachments or MTOM) → read and checked
 * → signed (with attachments: a batch signature over their hash chain) → logged (the SOAP part, as X-Road logs a
 * request) → sent to a provider server → the response verified, checked against the request (headers, `requestHash`),
 * logged with its attachments, and answered as the provider's service sent it. Every failure is a SOAP fault (HTTP
 * 200): `client.*` for what the information system sent, the provider's fault as it came, `server.clientproxy.*` else.
 */
export async function handleSoapClientRequest(raw: ClientProxyRequest, deps: ClientProxyDeps): Promise<ProxyResponse> {
  const clock = deps.clock ?? systemClock
  const observation: ExchangeObservation = {
    side: 'client', requestInTs: clock.now().getTime(), responseOutTs: 0, requestSize: raw.body.byteLength, succeeded: false, soap: {},
  }
  let result: ProxyResponse
  try {
    result = await processSoapClientRequest(raw, deps, observation)
    observation.succeeded = true
  } catch (error) {
    const coded = clientProxyFault(error)
    const fault = soapFaultResponse(coded)
    observation.faultCode = coded.faultCode
    observation.faultString = coded.message
    result = { status: fault.status, headers: fault.headers, body: fault.body }
  }
  observation.status = result.status
  observation.responseSize ??= result.body.byteLength
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

function fromClient<T>(step: () => T): T {
  try {
    return step()
  } catch (error) {
    throw new ClientFault(toSecurityServerError(error).withPrefix('client'))
  }
}

/** A provider's fault passes as it came (`CodedException.Fault`); the rest arose here (`server.clientproxy`). */
export function clientProxyFault(error: unknown): SecurityServerError {
  if (error instanceof ClientFault) return error.error
  const coded = toSecurityServerError(error)
  return coded instanceof SoapFaultError ? coded : coded.withPrefix('server.clientproxy')
}

/** Failures in what the provider sent (`.withPrefix(X_SERVICE_FAILED_X)`). */
function fromProvider<T>(step: () => T): T {
  try {
    return step()
  } catch (error) {
    const coded = toSecurityServerError(error)
    throw coded instanceof SoapFaultError ? coded : coded.withPrefix('service_failed')
  }
}

async function processSoapClientRequest(raw: ClientProxyRequest, deps: ClientProxyDeps, observation: ExchangeObservation): Promise<ProxyResponse> {
  const clock = deps.clock ?? systemClock
  fromClient(() => {
    if (raw.method.toUpperCase() !== 'POST') throw new SecurityServerError('invalid_http_method', `Must use POST request method instead of ${raw.method.slice(0, 10)}`)
  })
  deps.globalConf.assertValid()
  const contentType = lastHeader(raw.headers, 'content-type') ?? ''
  const soapAction = fromClient(() => validateSoapAction(lastHeader(raw.headers, 'soapaction')))
  const request = fromClient(() => {
    const decoded = decodeSoapMessage(contentType, raw.body, splitMultipart)
    if (decoded.soap.kind === 'fault') throw new SoapFaultError(decoded.soap)
    return decoded as DecodedSoapMessage & { soap: SoapMessage }
  })
  const { header } = request.soap
  const requestId = randomUUID()
  Object.assign(observation, {
    clientId: header.client, serviceId: header.service, messageId: header.id, requestId, userId: header.userId, issue: header.issue,
    requestSize: request.soap.bytes.byteLength,
  })
  observation.soap = soapObservation(request.soap, request.attachments)
  // AbstractClientMessageProcessor.verifyClientStatus: only a registered client of this server sends.
  if (!deps.serverConf.isRegisteredClient(header.client)) {
    throw new SecurityServerError('unknown_member', `Client '${describeIdentifier(header.client)}' not found`)
  }
  checkIsAuthentication(header.client, raw.tls, deps.serverConf)
  const targets = routeRequest({ serviceId: header.service, targetSecurityServer: header.securityServer }, deps.globalConf)

  const signature = await deps.signer.sign(header.client, soapSignedParts(request.soap.bytes, request.attachments))
  deps.messageLog.assertAcceptingMessages()
  const record = { side: 'client' as const, messageId: header.id, requestId, clientId: header.client, serviceId: header.service }
  // ClientMessageProcessor.logRequestMessage: the SOAP part; the attachments are covered by the batch signature.
  await deps.messageLog.record({ ...record, direction: 'request', headerPart: request.soap.bytes, signature })

  const encoded = encodeSoapTransportMessage({
    kind: 'request', ocspResponses: await deps.authOcspResponses(), attachments: request.attachments, signature,
    soap: { contentType: request.soapPartHeaders === undefined ? contentType : request.soap.contentType, headers: otherHeaders(request.soapPartHeaders), bytes: request.soap.bytes },
  })
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
  const peerBody = Buffer.from(peerResponse.body)
  if (mediaTypeOf(peerResponse.contentType) === 'text/xml') fromProvider(() => { throw faultToError(peerBody) })
  const response = fromProvider(() => decodeSoapTransportMessage(peerResponse.contentType, peerBody, 'response'))
  if (response.fault !== undefined) fromProvider(() => { throw faultToError(response.fault as Buffer) })
  const responseSoap = fromProvider(() => {
    const soap = readSoap(response.soap.bytes, response.soap.contentType)
    if (soap.kind === 'fault') throw new SoapFaultError(soap)
    return soap
  })
  if (response.signature === undefined) throw new SecurityServerError('missing_signature', 'Response does not have signature')
  const responseSignature = { signatureXml: response.signature, hashChainResult: response.hashChainResult, hashChain: response.hashChain }
  // xroad-protocols.md §4.3: the consumer verifies with signer = the service provider.
  await deps.verifier.verify(serviceProvider(header.service), soapSignedParts(response.soap.bytes, response.attachments), responseSignature, clock.now())
  checkConsistency(header, responseSoap.header)
  checkRequestHash(responseSoap, request.soap.bytes)
  await deps.messageLog.record({
    ...record, direction: 'response', headerPart: response.soap.bytes, attachments: response.attachments.map((a) => a.body), signature: responseSignature,
  })
  observation.soap = { ...observation.soap, ...responseObservation(responseSoap, response.attachments) }
  observation.responseSize = responseSoap.bytes.byteLength
  return informationSystemResponse(responseSoap, response.soap.headers, response.attachments, lastHeader(peerResponse.headers, TRANSPORT_HEADERS.originalContentType))
}

/**
 * `ProxyMessage.getSoapContentType` / `writeSoapContent`: with attachments or MTOM, the multipart the service sent,
 * rebuilt with its original Content-Type (boundary and all); otherwise the SOAP message as `text/xml; charset=UTF-8`.
 */
export function informationSystemResponse(
  soap: SoapMessage, soapHeaders: Array<[string, string]>, attachments: SoapAttachment[], originalContentType: string | undefined,
): ProxyResponse {
  const mime = mediaTypeOf(soap.contentType) === 'application/xop+xml'
  const boundary = originalContentType === undefined ? undefined : boundaryOf(originalContentType)
  if ((mime || attachments.length > 0) && originalContentType !== undefined && boundary !== undefined) {
    const segments = multipartSegments<never>(boundary, [
      { contentType: soap.contentType, headers: soapHeaders, body: soap.bytes },
      ...attachments.map((a) => ({ contentType: a.contentType, headers: a.headers, body: a.body })),
    ])
    return { status: 200, headers: [['Content-Type', originalContentType]], body: Buffer.concat(segments) }
  }
  return { status: 200, headers: [['Content-Type', `text/xml; charset=${soap.charset}`]], body: soap.bytes }
}

function otherHeaders(headers: Array<[string, string]> | undefined): Array<[string, string]> {
  return (headers ?? []).filter(([name]) => name.toLowerCase() !== 'content-type')
}

function responseObservation(soap: SoapMessage, attachments: SoapAttachment[]): NonNullable<ExchangeObservation['soap']> {
  return {
    responseAttachmentCount: attachments.length,
    ...(attachments.length === 0 ? {} : { responseMimeSize: soap.bytes.byteLength + attachments.reduce((n, a) => n + a.body.byteLength, 0) }),
  }
}

import { randomUUID, X509Certificate, constants as cryptoConstants, verify as cryptoVerify } from 'node:crypto'
import {
  identifierFromXml, identifierToXml, IDENTIFIERS_NS,
  type ClientId, type SecurityServerId,
} from '@shared/domain/identifiers'
import type { Element } from '@xmldom/xmldom'
import { clientError, identifierFields, optionalChild, parseXml, requiredChild, SecurityServerError, textOf } from '../platform'
import { splitMultipart } from '../proxy'
import { checkConsistency, faultError, mediaTypeOf, multipartSegments, readSoap, SOAP_ENV_NS, XROAD_NS, type SoapHeader, type SoapMessage } from '../soap'

/**
 * The management-service message model (pr-mserv §2, Annex A, Annex B; X-Road's `ManagementRequestBuilder`,
 * `ManagementRequestParser`, `ManagementRequestUtil`, the request models and decoder callbacks of
 * `common-management-request`): building and reading the SOAP envelopes of the eleven management requests and their
 * responses, and the `multipart/related` forms X-Road 7.8 sends them in, with the signature parts.
 * Shared by the security server (sender) and the lab's management-service provider (receiver).
 *
 * Complexity: building is O(size of the fields); reading runs the SOAP reader (`readSoap`, linear, with its limits)
 * and the hardened DOM parser (`parseXml`) over one message of at most {@link MANAGEMENT_REQUEST_MAX_BYTES}.
 */

/** The service codes of pr-mserv §2 (X-Road's `ManagementRequestType`). */
export const MANAGEMENT_SERVICE_CODES = [
  'authCertReg', 'clientReg', 'ownerChange', 'clientDeletion', 'authCertDeletion', 'addressChange',
  'clientDisable', 'clientEnable', 'clientRename', 'maintenanceModeEnable', 'maintenanceModeDisable',
] as const
export type ManagementServiceCode = (typeof MANAGEMENT_SERVICE_CODES)[number]

/** X-Road's `ManagementRequestSoapExecutor.MAX_REQUEST_SIZE`: the central server reads at most this many bytes. */
export const MANAGEMENT_REQUEST_MAX_BYTES = 100_000

/**
 * How X-Road 7.8's `ManagementRequestSender` sends each request:
 * - `authCertReg`: multipart with the auth key's and the owner's signatures, straight to the central server (pr-mserv §2.3);
 * - `signed`: multipart with one member signature, certificate and OCSP response, through the own client proxy
 *   (`GenericClientRequest`: clientReg, ownerChange, addressChange, clientDisable, clientEnable, clientRename,
 *   maintenanceModeEnable, maintenanceModeDisable);
 * - `plain`: the SOAP message alone as `text/xml`, through the own client proxy (`SimpleManagementRequest`:
 *   clientDeletion, authCertDeletion).
 */
export type ManagementRequestForm = 'authCertReg' | 'signed' | 'plain'
export const MANAGEMENT_REQUEST_FORMS: Readonly<Record<ManagementServiceCode, ManagementRequestForm>> = {
  authCertReg: 'authCertReg',
  clientReg: 'signed', ownerChange: 'signed', addressChange: 'signed', clientDisable: 'signed', clientEnable: 'signed',
  clientRename: 'signed', maintenanceModeEnable: 'signed', maintenanceModeDisable: 'signed',
  clientDeletion: 'plain', authCertDeletion: 'plain',
}

/** The body of a management request (the XSD types of request.xsd / pr-mserv Annex B). */
export type ManagementRequestBody =
  | { readonly service: 'authCertReg'; readonly server: SecurityServerId; readonly address?: string; readonly authCert: Buffer; readonly dryRun?: boolean }
  | { readonly service: 'authCertDeletion'; readonly server: SecurityServerId; readonly authCert: Buffer }
  | { readonly service: 'clientReg'; readonly server: SecurityServerId; readonly client: ClientId; readonly subsystemName?: string }
  | { readonly service: 'clientDeletion' | 'clientDisable' | 'clientEnable' | 'ownerChange'; readonly server: SecurityServerId; readonly client: ClientId }
  | { readonly service: 'clientRename'; readonly server: SecurityServerId; readonly client: ClientId; readonly subsystemName: string }
  | { readonly service: 'addressChange'; readonly server: SecurityServerId; readonly address: string }
  | { readonly service: 'maintenanceModeEnable'; readonly server: SecurityServerId; readonly message?: string }
  | { readonly service: 'maintenanceModeDisable'; readonly server: SecurityServerId }

export interface ManagementEnvelopeOptions {
  /** `xroad:client`: the security server's owner member (X-Road sends every request as the owner). */
  readonly sender: ClientId
  /** `managementRequestServiceProviderId` from shared parameters; the service is `{receiver}/{body.service}`. */
  readonly receiver: ClientId
  /** `xroad:id`; a random UUID when not given. */
  readonly id?: string
}

/** A parsed management request or response. */
export interface ManagementMessage {
  readonly bytes: Buffer
  readonly header: SoapHeader
  readonly body: ManagementRequestBody
  /** The central server's request id (responses only). */
  readonly requestId?: number
}

const ENVELOPE_OPEN =
  '<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"' +
  ' xmlns:id="http://x-road.eu/xsd/identifiers" xmlns:xroad="http://x-road.eu/xsd/xroad.xsd">'

/** The SOAP envelope of a management request, as X-Road's `ManagementRequestBuilder.buildMessage` writes it. */
export function buildManagementRequest(body: ManagementRequestBody, options: ManagementEnvelopeOptions): Buffer {
  const header: SoapHeader = {
    client: options.sender,
    service: managementServiceId(options.receiver, body.service),
    id: options.id ?? randomUUID(),
    protocolVersion: '4.0',
  }
  return envelope(header, bodyXml(body, body.service))
}

/**
 * The central server's answer to a request (X-Road's `ManagementRequestUtil.toResponse`): the request's header, the
 * body wrapper renamed `{service}Response`, its fields echoed and `requestId` added (pr-mserv §2).
 */
export function buildManagementResponse(request: ManagementMessage, requestId: number): Buffer {
  if (!Number.isSafeInteger(requestId)) throw clientError('invalid_request', 'The request id must be an integer')
  const h = request.header
  const header: SoapHeader = {
    client: h.client, service: h.service, id: h.id, protocolVersion: h.protocolVersion,
    ...(h.userId === undefined ? {} : { userId: h.userId }),
    ...(h.issue === undefined ? {} : { issue: h.issue }),
  }
  return envelope(header, bodyXml(request.body, `${request.body.service}Response`, requestId))
}

/** The service identifier a request is addressed to: `{managementRequestServiceProviderId}/{serviceCode}`. */
export function managementServiceId(receiver: ClientId, service: ManagementServiceCode): SoapHeader['service'] {
  return {
    objectType: 'SERVICE', xRoadInstance: receiver.xRoadInstance, memberClass: receiver.memberClass, memberCode: receiver.memberCode,
    ...(receiver.objectType === 'SUBSYSTEM' ? { subsystemCode: receiver.subsystemCode } : {}),
    serviceCode: service,
  }
}

/**
 * Reads a management request envelope (X-Road's `ManagementRequestVerifier` + `ManagementRequestParser`): the X-Road
 * header by the SOAP reader, then the body wrapper, which must be the `xroad:{serviceCode}` element of a management
 * service. Unknown service code ⇒ `invalid_request`; a missing or malformed field ⇒ `invalid_request` /
 * `invalid_client_identifier`.
 */
export function parseManagementRequest(bytes: Uint8Array): ManagementMessage {
  return parseManagementMessage(bytes, false)
}

/**
 * Reads the central server's answer (X-Road's `ManagementRequestSender.getResponse` + `send`): a SOAP fault becomes a
 * `SoapFaultError` carrying the central server's own code and text; a response must be `{service}Response`, echo the
 * request's header (`checkConsistency`) and carry `requestId`.
 */
export function parseManagementResponse(bytes: Uint8Array, contentType: string, request?: ManagementMessage): ManagementMessage {
  if (mediaTypeOf(contentType) !== 'text/xml') {
    throw new SecurityServerError('http_error', `Unexpected or no content type (${mediaTypeOf(contentType).slice(0, 60)}) in response`)
  }
  const soap = readSoap(bytes, contentType)
  if (soap.kind === 'fault') throw faultError(soap)
  const message = parseManagementMessage(bytes, true, soap)
  if (request !== undefined) {
    checkConsistency(request.header, message.header)
    if (message.body.service !== request.body.service) throw new SecurityServerError('invalid_request', 'The response answers another management service')
  }
  return message
}

function parseManagementMessage(bytes: Uint8Array, response: boolean, read?: SoapMessage): ManagementMessage {
  if (bytes.byteLength > MANAGEMENT_REQUEST_MAX_BYTES) {
    throw clientError('invalid_request', `Management request is larger than ${MANAGEMENT_REQUEST_MAX_BYTES} bytes`)
  }
  const soap = read ?? readSoap(bytes, 'text/xml')
  if (soap.kind === 'fault') throw faultError(soap)
  const code = soap.header.service.serviceCode
  if (!isManagementServiceCode(code)) throw clientError('invalid_request', `Unknown service code '${code.slice(0, 20)}'`)
  const doc = parseXml(bytes)
  const envelopeEl = doc.documentElement as unknown as Element
  const bodyEl = requiredChild(envelopeEl, SOAP_ENV_NS, 'Body')
  const wrapperName = response ? `${code}Response` : code
  const wrapper = optionalChild(bodyEl, XROAD_NS, wrapperName)
  if (wrapper === undefined) throw clientError('invalid_request', `The body is not xroad:${wrapperName}`)
  const body = readBody(code, wrapper)
  const requestIdEl = optionalChild(wrapper, XROAD_NS, 'requestId')
  let requestId: number | undefined
  if (requestIdEl !== undefined) {
    requestId = Number.parseInt(textOf(requestIdEl).trim(), 10)
    if (!Number.isSafeInteger(requestId)) throw clientError('invalid_request', 'requestId is not an integer')
  }
  if (response && requestId === undefined) throw new SecurityServerError('invalid_request', 'The response carries no requestId')
  return { bytes: Buffer.from(soap.bytes), header: soap.header, body, ...(requestId === undefined ? {} : { requestId }) }
}

export function isManagementServiceCode(code: string): code is ManagementServiceCode {
  return (MANAGEMENT_SERVICE_CODES as readonly string[]).includes(code)
}

function readBody(service: ManagementServiceCode, el: Element): ManagementRequestBody {
  const server = readServer(el)
  switch (service) {
    case 'authCertReg': {
      const address = optionalText(el, 'address')
      const dryRun = optionalText(el, 'dryRun')
      return {
        service, server, authCert: readBase64(el, 'authCert'),
        ...(address === undefined ? {} : { address }),
        ...(dryRun === undefined ? {} : { dryRun: dryRun.trim() === 'true' || dryRun.trim() === '1' }),
      }
    }
    case 'authCertDeletion':
      return { service, server, authCert: readBase64(el, 'authCert') }
    case 'clientReg': {
      const subsystemName = optionalText(el, 'subsystemName')
      return { service, server, client: readClient(el), ...(subsystemName === undefined ? {} : { subsystemName }) }
    }
    case 'clientDeletion': case 'clientDisable': case 'clientEnable': case 'ownerChange':
      return { service, server, client: readClient(el) }
    case 'clientRename': {
      const subsystemName = optionalText(el, 'subsystemName')
      if (subsystemName === undefined) throw clientError('invalid_request', 'clientRename lacks subsystemName')
      return { service, server, client: readClient(el), subsystemName }
    }
    case 'addressChange': {
      const address = optionalText(el, 'address')
      if (address === undefined) throw clientError('invalid_request', 'addressChange lacks address')
      return { service, server, address }
    }
    case 'maintenanceModeEnable': {
      const message = optionalText(el, 'message')
      return { service, server, ...(message === undefined ? {} : { message }) }
    }
    case 'maintenanceModeDisable':
      return { service, server }
  }
}

function readServer(el: Element): SecurityServerId {
  const child = optionalChild(el, XROAD_NS, 'server')
  if (child === undefined) throw clientError('invalid_request', `${el.localName} lacks server`)
  try {
    return identifierFromXml(identifierFields(child, IDENTIFIERS_NS), ['SERVER']) as SecurityServerId
  } catch (error) {
    throw clientError('invalid_client_identifier', `The management request contains an invalid identifier: ${(error as Error).message}`)
  }
}

function readClient(el: Element): ClientId {
  const child = optionalChild(el, XROAD_NS, 'client')
  if (child === undefined) throw clientError('invalid_request', `${el.localName} lacks client`)
  try {
    return identifierFromXml(identifierFields(child, IDENTIFIERS_NS), ['MEMBER', 'SUBSYSTEM']) as ClientId
  } catch (error) {
    throw clientError('invalid_client_identifier', `The management request contains an invalid identifier: ${(error as Error).message}`)
  }
}

function optionalText(el: Element, name: string): string | undefined {
  const child = optionalChild(el, XROAD_NS, name)
  return child === undefined ? undefined : textOf(child)
}

function readBase64(el: Element, name: string): Buffer {
  const text = optionalText(el, name)
  if (text === undefined) throw clientError('invalid_request', `${el.localName} lacks ${name}`)
  const compact = text.replace(/\s+/g, '')
  if (compact === '' || !/^[A-Za-z0-9+/]*={0,2}$/.test(compact)) throw clientError('invalid_request', `${name} is not base64`)
  return Buffer.from(compact, 'base64')
}

function envelope(header: SoapHeader, body: string): Buffer {
  let headerXml = identifierToXml(header.client, 'xroad:client') + identifierToXml(header.service, 'xroad:service')
  headerXml += `<xroad:id>${escapeText(header.id)}</xroad:id>`
  if (header.userId !== undefined) headerXml += `<xroad:userId>${escapeText(header.userId)}</xroad:userId>`
  if (header.issue !== undefined) headerXml += `<xroad:issue>${escapeText(header.issue)}</xroad:issue>`
  headerXml += `<xroad:protocolVersion>${escapeText(header.protocolVersion)}</xroad:protocolVersion>`
  return Buffer.from(`${ENVELOPE_OPEN}<SOAP-ENV:Header>${headerXml}</SOAP-ENV:Header><SOAP-ENV:Body>${body}</SOAP-ENV:Body></SOAP-ENV:Envelope>`, 'utf8')
}

/** The body wrapper with its fields in the XSD's sequence order (request.xsd), `requestId` last. */
function bodyXml(body: ManagementRequestBody, wrapper: string, requestId?: number): string {
  let fields = identifierToXml(body.server, 'xroad:server')
  const text = (name: string, value: string | undefined): void => {
    if (value !== undefined) fields += `<xroad:${name}>${escapeText(value)}</xroad:${name}>`
  }
  switch (body.service) {
    case 'authCertReg':
      text('address', body.address)
      text('authCert', body.authCert.toString('base64'))
      if (body.dryRun !== undefined) text('dryRun', String(body.dryRun))
      break
    case 'authCertDeletion':
      text('authCert', body.authCert.toString('base64'))
      break
    case 'clientReg': case 'clientRename':
      fields += identifierToXml(body.client, 'xroad:client')
      text('subsystemName', body.subsystemName)
      break
    case 'clientDeletion': case 'clientDisable': case 'clientEnable': case 'ownerChange':
      fields += identifierToXml(body.client, 'xroad:client')
      break
    case 'addressChange':
      text('address', body.address)
      break
    case 'maintenanceModeEnable':
      text('message', body.message)
      break
    case 'maintenanceModeDisable':
      break
  }
  if (requestId !== undefined) text('requestId', String(requestId))
  return `<xroad:${wrapper}>${fields}</xroad:${wrapper}>`
}

function escapeText(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

// ---- multipart forms and their signatures ---------------------------------------------------------------------

/** MIME header naming a signature part's algorithm (X-Road's `MimeUtils.HEADER_SIG_ALGO_ID`). */
export const SIGNATURE_ALGORITHM_HEADER = 'signature-algorithm-id'
/** X-Road's `TEXT_XML_UTF8`: the SOAP part's and a plain request's content type. */
export const SOAP_PART_CONTENT_TYPE = 'text/xml; charset=UTF-8'
const BINARY = 'application/octet-stream'

/** X-Road's signature algorithm names (`SignAlgorithm.name()`) a management request may carry. */
export const MANAGEMENT_SIGNATURE_ALGORITHMS = [
  'SHA256withRSA', 'SHA384withRSA', 'SHA512withRSA',
  'SHA256withRSAandMGF1', 'SHA384withRSAandMGF1', 'SHA512withRSAandMGF1',
  'SHA256withECDSA', 'SHA384withECDSA', 'SHA512withECDSA',
] as const
export type ManagementSignatureAlgorithm = (typeof MANAGEMENT_SIGNATURE_ALGORITHMS)[number]

export interface SignaturePart {
  readonly algorithm: ManagementSignatureAlgorithm
  /** The signature as X-Road writes it (`Signatures.useAsn1DerFormat`: PKCS#1/PSS bytes for RSA, DER for ECDSA). */
  readonly value: Buffer
}

/** The parts of a management request as sent (pr-mserv §2.1, §2.3). */
export type ManagementParts =
  | { readonly form: 'plain'; readonly soap: Buffer }
  | { readonly form: 'signed'; readonly soap: Buffer; readonly signature: SignaturePart; readonly cert: Buffer; readonly ocsp: Buffer }
  | {
    readonly form: 'authCertReg'; readonly soap: Buffer; readonly authSignature: SignaturePart; readonly ownerSignature: SignaturePart
    readonly authCert: Buffer; readonly ownerCert: Buffer; readonly ownerOcsp: Buffer
  }

export interface EncodedManagementRequest {
  readonly contentType: string
  readonly body: Buffer
}

/**
 * The HTTP body of a management request: `text/xml` for a plain one; otherwise `multipart/related` with the SOAP
 * part first and the parts in the order X-Road's `GenericClientRequest` / `AuthCertRegRequest` write them
 * (content type `multipart/related; type="application/octet-stream"; charset=UTF-8; boundary=…`, `mpRelatedContentType`).
 */
export function encodeManagementParts(parts: ManagementParts, boundary = `mgmt${randomUUID().replace(/-/g, '')}`): EncodedManagementRequest {
  if (parts.form === 'plain') return { contentType: SOAP_PART_CONTENT_TYPE, body: parts.soap }
  const sig = (s: SignaturePart): { contentType: string; headers: Array<[string, string]>; body: Buffer } =>
    ({ contentType: BINARY, headers: [[SIGNATURE_ALGORITHM_HEADER, s.algorithm]], body: s.value })
  const bin = (body: Buffer): { contentType: string; headers: Array<[string, string]>; body: Buffer } => ({ contentType: BINARY, headers: [], body })
  const list = parts.form === 'signed'
    ? [sig(parts.signature), bin(parts.cert), bin(parts.ocsp)]
    : [sig(parts.authSignature), sig(parts.ownerSignature), bin(parts.authCert), bin(parts.ownerCert), bin(parts.ownerOcsp)]
  const segments = multipartSegments<Buffer>(boundary, [{ contentType: SOAP_PART_CONTENT_TYPE, headers: [], body: parts.soap }, ...list])
  return {
    contentType: `multipart/related; type="${BINARY}"; charset=UTF-8; boundary=${boundary}`,
    body: Buffer.concat(segments.map((s) => Buffer.from(s))),
  }
}

/**
 * Splits a received management request into its parts (X-Road's `ManagementRequestVerifier.DecoderCallback` and the
 * decoder callbacks): the form follows from the SOAP part's service code; a missing part or signature algorithm ⇒
 * `invalid_request`, one part too many ⇒ `internal_error` ("Unexpected content in multipart"), as X-Road answers.
 */
export function decodeManagementParts(contentType: string, body: Buffer): { parts: ManagementParts; request: ManagementMessage } {
  if (body.byteLength > MANAGEMENT_REQUEST_MAX_BYTES) {
    throw clientError('invalid_request', `Management request is larger than ${MANAGEMENT_REQUEST_MAX_BYTES} bytes`)
  }
  const media = mediaTypeOf(contentType)
  if (media === 'text/xml') {
    const request = parseManagementRequest(body)
    const form = MANAGEMENT_REQUEST_FORMS[request.body.service]
    if (form !== 'plain') throw clientError('invalid_request', `${request.body.service} must be sent with its signature parts`)
    return { parts: { form: 'plain', soap: body }, request }
  }
  if (media !== 'multipart/related') throw clientError('invalid_content_type', `Invalid content type: ${media.slice(0, 60)}`)
  const mime = splitMultipart(body, contentType, { maxBytes: MANAGEMENT_REQUEST_MAX_BYTES, maxParts: 8, maxHeaderBytes: 4096 })
  const [soapPart, ...rest] = mime
  if (soapPart === undefined) throw clientError('missing_soap', 'Request contains no SOAP message')
  const request = parseManagementRequest(soapPart.body)
  const form = MANAGEMENT_REQUEST_FORMS[request.body.service]
  const expected = form === 'authCertReg' ? 5 : form === 'signed' ? 3 : 0
  if (rest.length > expected) throw new SecurityServerError('internal_error', 'Unexpected content in multipart')
  const part = (i: number, what: string): Buffer => {
    const p = rest[i]
    if (p === undefined || p.body.byteLength === 0) throw clientError('invalid_request', `${what} is missing`)
    return p.body
  }
  const signature = (i: number, what: string): SignaturePart => {
    const value = part(i, what)
    const header = rest[i]?.headers.find(([name]) => name.toLowerCase() === SIGNATURE_ALGORITHM_HEADER)?.[1]?.trim()
    if (header === undefined) throw clientError('invalid_request', `${what} algorithm id is missing`)
    if (!(MANAGEMENT_SIGNATURE_ALGORITHMS as readonly string[]).includes(header)) {
      throw clientError('invalid_signature_value', `Unsupported signature algorithm '${header.slice(0, 40)}'`)
    }
    return { algorithm: header as ManagementSignatureAlgorithm, value }
  }
  if (form === 'plain') return { parts: { form: 'plain', soap: soapPart.body }, request }
  if (form === 'signed') {
    return {
      parts: { form, soap: soapPart.body, signature: signature(0, 'Client signature'), cert: part(1, 'Client certificate'), ocsp: part(2, 'Client certificate OCSP') },
      request,
    }
  }
  return {
    parts: {
      form, soap: soapPart.body,
      authSignature: signature(0, 'Auth signature'), ownerSignature: signature(1, 'Owner signature'),
      authCert: part(2, 'Auth certificate'), ownerCert: part(3, 'Owner certificate'), ownerOcsp: part(4, 'Owner certificate OCSP'),
    },
    request,
  }
}

/** X-Road's name for a signature made with one of our signer's algorithms (`SignAlgorithm.ofDigestAndMechanism`). */
export function managementSignatureAlgorithm(algorithm: string): ManagementSignatureAlgorithm {
  const names: Record<string, ManagementSignatureAlgorithm> = {
    'rsa-pkcs1-sha256': 'SHA256withRSA', 'rsa-pkcs1-sha384': 'SHA384withRSA', 'rsa-pkcs1-sha512': 'SHA512withRSA',
    'rsa-pss-sha256': 'SHA256withRSAandMGF1', 'rsa-pss-sha384': 'SHA384withRSAandMGF1', 'rsa-pss-sha512': 'SHA512withRSAandMGF1',
    'ecdsa-sha256': 'SHA256withECDSA', 'ecdsa-sha384': 'SHA384withECDSA', 'ecdsa-sha512': 'SHA512withECDSA',
  }
  const name = names[algorithm]
  if (name === undefined) throw new SecurityServerError('internal_error', `No X-Road name for signature algorithm ${algorithm}`)
  return name
}

/**
 * Verifies a signature part over `data` (the SOAP part's bytes) with the certificate's public key, as the central
 * server does (`ManagementRequestVerificationUtils.verifySignature`: `Signature.getInstance(name)` over the data;
 * RSA-PSS with MGF1 of the same digest and a salt as long as the digest, ECDSA in DER form).
 */
export function verifyManagementSignature(data: Uint8Array, signature: SignaturePart, certDer: Uint8Array): boolean {
  const key = new X509Certificate(Buffer.from(certDer)).publicKey
  const digest = `sha${signature.algorithm.slice(3, 6)}`
  try {
    if (signature.algorithm.endsWith('withRSAandMGF1')) {
      return cryptoVerify(digest, data, { key, padding: cryptoConstants.RSA_PKCS1_PSS_PADDING, saltLength: Number(signature.algorithm.slice(3, 6)) / 8 }, signature.value)
    }
    if (signature.algorithm.endsWith('withECDSA')) return cryptoVerify(digest, data, { key, dsaEncoding: 'der' }, signature.value)
    return cryptoVerify(digest, data, { key, padding: cryptoConstants.RSA_PKCS1_PADDING }, signature.value)
  } catch {
    return false
  }
}

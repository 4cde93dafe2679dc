import 'reflect-metadata'
import { randomUUID, createPublicKey, verify as verifyBytes, constants } from 'node:crypto'
import * as x509 from '@peculiar/x509'
import type { Element } from '@xmldom/xmldom'
import {
  describeIdentifier, identifierEquals, identifierFromXml, identifierToXml, memberOf,
  type ClientId, type MemberId, type SecurityServerId,
} from '@shared/domain/identifiers'
import {
  SecurityServerError, childElements, identifierFields, optionalChild, parseXml, textOf, toSecurityServerError,
} from '../platform'
import { XROAD_NS, decodeSoapMessage, soapFaultXml, type SoapAttachment, type SoapMessage } from '../soap'
import { splitMultipart } from '../proxy'
import {
  buildCertPath, certificateProfileFor, parseCertificate as parseCert, validateCertPath, verificationTrust, verifyOcspResponse,
  type VerificationTrust,
} from '../signature'
import type { ManagementRequestType } from './lab-repository'
import { EJBCA_PROFILE, IDENTIFIERS_NS } from './configuration-xml'

/**
 * The central server's reading of a management request (pr-mserv §2; X-Road's `ManagementRequestVerifier`, its decoder
 * callbacks and `ManagementRequestSoapExecutor`): the multipart is decoded (at most 100 000 bytes, X-Road's
 * MAX_REQUEST_SIZE), the service code names the request type, the attachments are taken in the order the type defines,
 * signatures and certificates are verified against the lab's CA and OCSP responder, the sender must own the server it
 * names, and a refusal is answered as X-Road answers it: HTTP 500 with a SOAP fault whose code is X-Road's leaf code.
 * Linear in the message size: one multipart split, one bounded XML parse of the SOAP part and of its body.
 */
export const MANAGEMENT_REQUEST_MAX_BYTES = 100_000

export const MANAGEMENT_REQUEST_TYPES: readonly ManagementRequestType[] = [
  'authCertReg', 'clientReg', 'ownerChange', 'clientDeletion', 'authCertDeletion', 'addressChange',
  'clientDisable', 'clientEnable', 'clientRename', 'maintenanceModeEnable', 'maintenanceModeDisable',
]

/** Requests signed by a member's signing key (pr-mserv §2.1, §2.5–§2.11): signature, certificate, OCSP response. */
const SIGNED_TYPES: ReadonlySet<ManagementRequestType> = new Set([
  'clientReg', 'ownerChange', 'addressChange', 'clientDisable', 'clientEnable', 'clientRename', 'maintenanceModeEnable', 'maintenanceModeDisable',
])
/** Of those, the ones whose signing certificate must belong to the `client`'s member (X-Road's BaseClientRequestCallback). */
const CLIENT_SIGNED_TYPES: ReadonlySet<ManagementRequestType> = new Set(['clientReg', 'ownerChange', 'clientDisable', 'clientEnable', 'clientRename'])
const CLIENT_TYPES: ReadonlySet<ManagementRequestType> = new Set([...CLIENT_SIGNED_TYPES, 'clientDeletion'])

/** A request that passed the protocol's checks, as the central server records it. */
export interface VerifiedManagementRequest {
  type: ManagementRequestType
  soap: SoapMessage
  sender: ClientId
  server: SecurityServerId
  client: ClientId | null
  address: string | null
  authCert: Uint8Array | null
  subsystemName: string | null
}

/** What the lab's management service needs to know to verify a request. */
export interface ManagementVerificationContext {
  instance: string
  caCert: Uint8Array
  ocspCert: Uint8Array
  ocspFreshnessSeconds: number
  /** `managementRequestServiceProviderId` of the lab's private parameters. */
  provider: ClientId
  now: Date
}

function invalidRequest(message: string): SecurityServerError {
  return new SecurityServerError('invalid_request', message, { clientFault: true })
}

function certValidation(message: string): SecurityServerError {
  return new SecurityServerError('cert_validation', message, { clientFault: true })
}

/** X-Road's `verifyMessagePart`: a missing part is an invalid request. */
function required<T>(value: T | undefined | null, message: string): T {
  if (value === undefined || value === null) throw invalidRequest(message)
  return value
}

/** The body fields of a management request (pr-mserv Annex B: ClientRequestType, AuthCertRegRequestType, …). */
interface RequestBody {
  server: SecurityServerId
  client?: ClientId
  address?: string
  authCert?: Uint8Array
  subsystemName?: string
}

/** X-Road's `ManagementRequestParser.parse`: the body's first element must be named after the service code. */
function readBody(soap: SoapMessage, type: ManagementRequestType): RequestBody {
  const doc = parseXml(soap.bytes, { maxBytes: MANAGEMENT_REQUEST_MAX_BYTES })
  const envelope = doc.documentElement as unknown as Element
  const body = childElements(envelope).find((e) => e.localName === 'Body')
  const content = body === undefined ? undefined : childElements(body)[0]
  if (content === undefined) throw invalidRequest('Failed to parse SOAP request')
  if ((content.localName ?? '').toLowerCase() !== type.toLowerCase()) throw invalidRequest(`Unexpected content: ${(content.localName ?? '').slice(0, 40)}`)
  const field = (name: string): Element | undefined => optionalChild(content, XROAD_NS, name)
  const id = (name: string, types: Array<'SERVER' | 'MEMBER' | 'SUBSYSTEM'>): ClientId | SecurityServerId | undefined => {
    const el = field(name)
    if (el === undefined) return undefined
    try {
      return identifierFromXml(identifierFields(el, IDENTIFIERS_NS), types) as ClientId | SecurityServerId
    } catch (cause) {
      throw new SecurityServerError('invalid_client_identifier', 'The management request contains an invalid identifier.', { clientFault: true, cause })
    }
  }
  const server = id('server', ['SERVER']) as SecurityServerId | undefined
  if (server === undefined) throw invalidRequest(`Failed to parse '${type}'`)
  const client = id('client', ['MEMBER', 'SUBSYSTEM']) as ClientId | undefined
  const authCertText = field('authCert')
  const address = field('address')
  const subsystemName = field('subsystemName')
  return {
    server,
    ...(client === undefined ? {} : { client }),
    ...(address === undefined ? {} : { address: textOf(address).trim() }),
    ...(authCertText === undefined ? {} : { authCert: new Uint8Array(Buffer.from(textOf(authCertText).replace(/\s+/g, ''), 'base64')) }),
    ...(subsystemName === undefined ? {} : { subsystemName: textOf(subsystemName) }),
  }
}

/** `signature-algorithm-id` values of pr-mserv §2 (Java names), as Node verifies them. */
function verifyJavaSignature(certDer: Uint8Array, algorithmId: string | undefined, data: Uint8Array, signature: Uint8Array): boolean {
  const match = /^SHA(256|384|512)with(RSA|ECDSA|RSAandMGF1)$/i.exec(algorithmId ?? '')
  if (match === null) throw invalidRequest(`Unknown signature algorithm '${(algorithmId ?? '').slice(0, 40)}'`)
  const hash = `sha${match[1]}`
  const key = createPublicKey({ key: Buffer.from(new x509.X509Certificate(certDer).publicKey.rawData), format: 'der', type: 'spki' })
  const kind = (match[2] as string).toUpperCase()
  try {
    if (kind === 'ECDSA') return key.asymmetricKeyType === 'ec' && verifyBytes(hash, data, { key, dsaEncoding: 'der' }, signature)
    if (key.asymmetricKeyType !== 'rsa') return false
    if (kind === 'RSAANDMGF1') {
      return verifyBytes(hash, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: Number(match[1]) / 8 }, signature)
    }
    return verifyBytes(hash, data, key, signature)
  } catch {
    return false
  }
}

function headerOf(attachment: SoapAttachment, name: string): string | undefined {
  return attachment.headers.find(([n]) => n.toLowerCase() === name)?.[1]
}

function trustOf(ctx: ManagementVerificationContext): VerificationTrust {
  return verificationTrust({
    instance: ctx.instance,
    approvedCas: [{ topCert: ctx.caCert, ocspResponderCerts: [ctx.ocspCert], certificateProfileInfo: EJBCA_PROFILE }],
    ocspFreshnessSeconds: ctx.ocspFreshnessSeconds,
  })
}

/** Issued by the lab's CA and valid now (X-Road: `getCaCert`, `verify`, `checkValidity`). */
function checkIssuedAndValid(der: Uint8Array, trust: VerificationTrust, now: Date, what: string): { issuer: Uint8Array } {
  try {
    const path = buildCertPath(parseCert(der, what), [], trust)
    validateCertPath(path, now)
    return { issuer: (path.certs[1] ?? path.certs[0])!.der }
  } catch (error) {
    throw certValidation(`${what} is invalid: ${toSecurityServerError(error).message}`)
  }
}

function keyUsageFlags(der: Uint8Array): number {
  const ext = new x509.X509Certificate(der).getExtension(x509.KeyUsagesExtension)
  return ext?.usages ?? 0
}

/** X-Road's `ManagementRequestCertVerifier.verifyCertificate`: a signing certificate of the lab's CA, good at the OCSP responder. */
function checkMemberCertificate(der: Uint8Array, ocsp: Uint8Array, trust: VerificationTrust, now: Date): void {
  const { issuer } = checkIssuedAndValid(der, trust, now, 'Member (owner/client) sign certificate')
  if ((keyUsageFlags(der) & x509.KeyUsageFlags.nonRepudiation) === 0) throw certValidation('Member (owner/client) sign certificate is invalid')
  try {
    verifyOcspResponse(ocsp, der, issuer, trust, now)
  } catch (error) {
    const coded = toSecurityServerError(error)
    throw new SecurityServerError(coded.code === 'cert_validation' ? 'cert_validation' : coded.code, coded.message, { clientFault: true, cause: error })
  }
}

/** The member a signing certificate names (the lab CA's EJBCA profile: C=instance, O=member class, CN=member code). */
function memberOfCertificate(der: Uint8Array, instance: string): MemberId {
  return certificateProfileFor(EJBCA_PROFILE).memberIdFromSigningCert(der, instance)
}

/** X-Road's `ManagementRequestVerificationUtils.validateServerId`: no control characters nor `:;%/\` in any part. */
function checkServerId(server: SecurityServerId): void {
  const bad = /[\u0000-\u001f\u007f-\u009f:;%/\\\ufeff\u200b]/
  for (const part of [server.xRoadInstance, server.memberClass, server.memberCode, server.serverCode]) {
    if (part === '' || part.length > 255 || bad.test(part)) {
      throw new SecurityServerError('invalid_client_identifier', 'The management request contains an invalid identifier.', { clientFault: true })
    }
  }
}

/** X-Road's `assertAddress`: an IP address or a valid domain name (a `:port` suffix for servers sharing a host in a lab). */
export function checkServerAddress(address: string | undefined): string {
  const host = (address ?? '').replace(/:\d{1,5}$/, '')
  const ipv4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/
  const domain = /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/
  if (host === '' || !(ipv4.test(host) || domain.test(host))) throw invalidRequest('Invalid server address')
  return address as string
}

function checkSenderOwnsServer(sender: ClientId, server: SecurityServerId): void {
  if (!(sender.objectType === 'MEMBER' && identifierEquals(sender, memberOf(server)))) throw invalidRequest('Sender does not match server owner.')
}

/**
 * Reads and verifies one management request. `channel` is where it arrived: `authCertReg` the direct HTTPS address
 * (pr-mserv §2.3, only authCertReg is taken there), `service` the provider's URL behind the management security
 * server, whose server proxy has checked the sender's TLS certificate and message signature (PR-MESSTRANSP, PR-MESS).
 */
export function verifyManagementRequest(
  contentType: string, body: Buffer, channel: 'authCertReg' | 'service', ctx: ManagementVerificationContext,
): VerifiedManagementRequest {
  if (body.length > MANAGEMENT_REQUEST_MAX_BYTES) throw invalidRequest(`Request exceeds ${MANAGEMENT_REQUEST_MAX_BYTES} bytes`)
  const decoded = decodeSoapMessage(contentType, body, (b, type) => splitMultipart(b, type))
  if (decoded.soap.kind !== 'message') throw invalidRequest('Failed to parse SOAP request')
  const soap = decoded.soap
  const code = soap.header.service.serviceCode
  const type = MANAGEMENT_REQUEST_TYPES.find((t) => t.toLowerCase() === code.toLowerCase())
  if (type === undefined) throw invalidRequest(`Unknown service code '${code.slice(0, 20)}'`)
  if (channel === 'authCertReg' && type !== 'authCertReg') {
    throw invalidRequest(`${type} is sent as an X-Road message to the management service provider, not to the authentication certificate registration address`)
  }
  const attachments = decoded.attachments
  const expected = type === 'authCertReg' ? 5 : SIGNED_TYPES.has(type) ? 3 : 0
  if (attachments.length > expected) throw new SecurityServerError('internal_error', `Unexpected content in multipart while reading request of type ${type}`, { clientFault: true })
  const fields = readBody(soap, type)
  const trust = trustOf(ctx)
  const data = soap.bytes
  const sender = soap.header.client

  if (type === 'authCertReg') {
    const authSignature = required(attachments[0], 'Auth signature is missing')
    const ownerSignature = required(attachments[1], 'Owner signature is missing')
    const authCert = required(attachments[2], 'Auth certificate is missing').body
    const ownerCert = required(attachments[3], 'Owner certificate is missing').body
    const ownerOcsp = required(attachments[4], 'Owner certificate OCSP is missing').body
    required(headerOf(authSignature, 'signature-algorithm-id'), 'Auth signature algorithm id is missing')
    required(headerOf(ownerSignature, 'signature-algorithm-id'), 'Owner signature algorithm id is missing')
    // AuthCertRegRequestDecoderCallback.verifyAuthCert: issued by an approved CA, valid, an authentication certificate.
    checkIssuedAndValid(authCert, trust, ctx.now, 'Authentication certificate')
    if ((keyUsageFlags(authCert) & x509.KeyUsageFlags.digitalSignature) === 0) throw certValidation('Authentication certificate is not valid')
    // pr-mserv §2.3 part 2: proof of possession of the authentication key.
    if (!verifyJavaSignature(authCert, headerOf(authSignature, 'signature-algorithm-id'), data, authSignature.body)) {
      throw new SecurityServerError('invalid_signature_value', 'Auth signature verification failed', { clientFault: true })
    }
    checkMemberCertificate(ownerCert, ownerOcsp, trust, ctx.now)
    // pr-mserv §2.3 part 3: the owner's signature.
    if (!verifyJavaSignature(ownerCert, headerOf(ownerSignature, 'signature-algorithm-id'), data, ownerSignature.body)) {
      throw new SecurityServerError('invalid_signature_value', 'Owner signature verification failed.', { clientFault: true })
    }
    const service = soap.header.service
    const serviceProvider: ClientId = service.subsystemCode === undefined
      ? { objectType: 'MEMBER', xRoadInstance: service.xRoadInstance, memberClass: service.memberClass, memberCode: service.memberCode }
      : { objectType: 'SUBSYSTEM', xRoadInstance: service.xRoadInstance, memberClass: service.memberClass, memberCode: service.memberCode, subsystemCode: service.subsystemCode }
    if (!identifierEquals(serviceProvider, ctx.provider) || sender.xRoadInstance !== ctx.instance) {
      throw invalidRequest('Invalid management service address. Contact central server administrator.')
    }
    checkServerId(fields.server)
    checkSenderOwnsServer(sender, fields.server)
    if (fields.authCert === undefined || !Buffer.from(authCert).equals(Buffer.from(fields.authCert))) {
      throw certValidation('Authentication certificates do not match.')
    }
    const fromCert = memberOfCertificate(ownerCert, ctx.instance)
    const owner = memberOf(fields.server)
    if (!identifierEquals(fromCert, owner)) {
      throw invalidRequest(`Subject identifier (${describeIdentifier(fromCert)}) in certificate does not match security server owner identifier (${describeIdentifier(owner)}) in request`)
    }
    const address = checkServerAddress(fields.address)
    return { type, soap, sender, server: fields.server, client: null, address, authCert: new Uint8Array(authCert), subsystemName: null }
  }

  if (SIGNED_TYPES.has(type)) {
    const signature = required(attachments[0], 'Client signature is missing')
    const cert = required(attachments[1], 'Client certificate is missing').body
    const ocsp = required(attachments[2], 'Client certificate OCSP is missing').body
    // BaseSignedRequestCallback.verifySignature: the signature first, then the certificate and its OCSP response.
    if (!verifyJavaSignature(cert, headerOf(signature, 'signature-algorithm-id'), data, signature.body)) {
      throw new SecurityServerError('invalid_signature_value', 'Client signature verification failed', { clientFault: true })
    }
    checkMemberCertificate(cert, ocsp, trust, ctx.now)
    checkServerId(fields.server)
    checkSenderOwnsServer(sender, fields.server)
    if (CLIENT_SIGNED_TYPES.has(type)) {
      const client = required(fields.client, `Failed to parse '${type}'`)
      const fromCert = memberOfCertificate(cert, ctx.instance)
      // BaseClientRequestCallback: the certificate belongs to the client's member (the member itself or the subsystem's owner).
      if (!identifierEquals(fromCert, memberOf(client))) {
        throw invalidRequest(`Subject identifier (${describeIdentifier(fromCert)}) in certificate does not match client's member identifier (${describeIdentifier(client)}) in request`)
      }
      if (type === 'clientReg' && fields.subsystemName !== undefined && fields.subsystemName !== '' && client.objectType !== 'SUBSYSTEM') {
        throw invalidRequest('Only name of subsystem can be changed')
      }
    }
  } else {
    // ClientDeletionRequestCallback, AuthCertDeletionRequestDecoderCallback: the sender owns the server.
    checkServerId(fields.server)
    checkSenderOwnsServer(sender, fields.server)
  }
  if (CLIENT_TYPES.has(type) && fields.client === undefined) throw invalidRequest(`Failed to parse '${type}'`)
  if (type === 'authCertDeletion' && (fields.authCert === undefined || fields.authCert.length === 0)) throw invalidRequest(`Failed to parse '${type}'`)
  return {
    type,
    soap,
    sender,
    server: fields.server,
    client: fields.client ?? null,
    address: type === 'addressChange' ? checkServerAddress(fields.address) : null,
    authCert: type === 'authCertDeletion' ? (fields.authCert as Uint8Array) : null,
    subsystemName: fields.subsystemName === undefined || fields.subsystemName === '' ? null : fields.subsystemName,
  }
}

/**
 * The answer (X-Road's `ManagementRequestUtil.toResponse`): the request's header, the body element renamed
 * `<type>Response` echoing the request's fields, and `requestId` added as its last child.
 */
export function managementResponseXml(request: VerifiedManagementRequest, requestId: number): string {
  const h = request.soap.header
  const x = (name: string, value: string): string => `<xroad:${name}>${escapeText(value)}</xroad:${name}>`
  const fields = [
    identifierToXml(request.server, 'xroad:server'),
    ...(request.type === 'authCertReg' || request.type === 'addressChange' ? [x('address', request.address ?? '')] : []),
    ...(request.client === null ? [] : [identifierToXml(request.client, 'xroad:client')]),
    ...(request.authCert === null ? [] : [x('authCert', Buffer.from(request.authCert).toString('base64'))]),
    ...(request.subsystemName === null ? [] : [x('subsystemName', request.subsystemName)]),
    x('requestId', String(requestId)),
  ]
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:id="${IDENTIFIERS_NS}" xmlns:xroad="${XROAD_NS}">`,
    '<SOAP-ENV:Header>',
    identifierToXml(h.client, 'xroad:client'),
    identifierToXml(h.service, 'xroad:service'),
    x('id', h.id),
    x('protocolVersion', h.protocolVersion),
    '</SOAP-ENV:Header>',
    `<SOAP-ENV:Body><xroad:${request.type}Response>${fields.join('')}</xroad:${request.type}Response></SOAP-ENV:Body>`,
    '</SOAP-ENV:Envelope>',
  ].join('')
}

function escapeText(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

/**
 * A refusal as `ManagementRequestSoapExecutor` answers it: the leaf code, the message, a trace id as the detail. A
 * refusal of the central server's request store (a duplicate, an unknown member) reaches the security server as X-Road's
 * management service relays it from the admin service: `internal_error` with "<code> with statusCode <status>".
 */
export function managementFaultXml(error: unknown): string {
  const coded = toSecurityServerError(error)
  const cs = centralServerRefusal(coded)
  if (cs !== undefined) return soapFaultXml('internal_error', `${cs.code} with statusCode ${cs.status}`, randomUUID())
  return soapFaultXml(coded.clientFault ? coded.code : 'internal_error', coded.clientFault ? coded.message : 'Internal error', randomUUID())
}

/** The HTTP status X-Road's admin service gives each management-request refusal (Conflict 409, NotFound 404, BadRequest 400). */
export const CENTRAL_SERVER_REFUSALS: Readonly<Record<string, number>> = {
  management_request_exists: 409,
  management_request_security_server_exists: 409,
  management_request_client_already_registered: 409,
  management_request_member_not_found: 409,
  management_request_server_not_found: 409,
  management_request_server_owner_not_found: 404,
  management_request_server_client_not_found: 404,
  management_request_cannot_register_owner: 400,
  management_request_invalid_auth_certificate: 400,
  management_request_not_supported: 400,
}

function centralServerRefusal(error: SecurityServerError): { code: string; status: number } | undefined {
  const status = CENTRAL_SERVER_REFUSALS[error.code]
  return status === undefined ? undefined : { code: error.code, status }
}

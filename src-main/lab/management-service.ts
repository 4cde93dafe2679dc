import 'reflect-metadata'
import { randomUUID } from 'node:crypto'
import * as x509 from '@peculiar/x509'
import {
  describeIdentifier, identifierEquals, memberOf, type ClientId, type MemberId, type SecurityServerId,
} from '@shared/domain/identifiers'
import { SecurityServerError, toSecurityServerError } from '../platform'
import { soapFaultXml } from '../soap'
import {
  buildManagementResponse, decodeManagementParts, verifyManagementSignature, type ManagementMessage, type ManagementServiceCode,
} from '../management'
import {
  buildCertPath, certificateProfileFor, parseCertificate as parseCert, validateCertPath, verificationTrust, verifyOcspResponse,
  type VerificationTrust,
} from '../signature'
import { EJBCA_PROFILE } from './configuration-xml'
import type { LabAuthority } from './lab-authority'
import type { ManagementRequestRow } from './lab-repository'

/**
 * The central server's reading of a management request (pr-mserv §2; X-Road's `ManagementRequestVerifier`, its decoder
 * callbacks and `ManagementRequestSoapExecutor`): the parts are decoded by the shared message model (at most 100 000
 * bytes), signatures and certificates are verified against the lab's CA and OCSP responder, the sender must own the
 * server it names, and a refusal is answered as X-Road answers it: HTTP 500 with a SOAP fault carrying X-Road's leaf
 * code. Linear in the message size (one multipart split and bounded XML reads in the message model).
 */

/** Of the signed requests, those whose signing certificate must be the `client`'s member's (X-Road's BaseClientRequestCallback). */
const CLIENT_SIGNED_TYPES: ReadonlySet<ManagementServiceCode> = new Set(['clientReg', 'ownerChange', 'clientDisable', 'clientEnable', 'clientRename'])

/** A request that passed the protocol's checks, as the central server records it. */
export interface VerifiedManagementRequest {
  type: ManagementServiceCode
  message: ManagementMessage
  sender: ClientId
  server: SecurityServerId
  client: ClientId | null
  address: string | null
  authCert: Uint8Array | null
  subsystemName: string | null
  /** maintenanceModeEnable's optional message. */
  maintenanceMessage: string | null
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
  // OcspVerifier.verifyValidityAndStatus: the responder, freshness and a good status (cert_validation otherwise).
  verifyOcspResponse(ocsp, der, issuer, trust, now)
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
  const value = address ?? ''
  const colon = value.lastIndexOf(':')
  const host = colon > 0 && /^\d{1,5}$/.test(value.slice(colon + 1)) ? value.slice(0, colon) : value
  const labels = host.split('.')
  const ipv4 = labels.length === 4 && labels.every((l) => /^\d{1,3}$/.test(l) && Number(l) <= 255)
  const label = (l: string): boolean => /^[A-Za-z0-9-]{1,63}$/.test(l) && !l.startsWith('-') && !l.endsWith('-')
  const domain = host.length <= 253 && labels.every(label)
  if (host === '' || !(ipv4 || domain)) throw invalidRequest('Invalid server address')
  return value
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
  const { parts, request } = decodeManagementParts(contentType, body)
  const type = request.body.service
  if (channel === 'authCertReg' && type !== 'authCertReg') {
    throw invalidRequest(`${type} is sent as an X-Road message to the management service provider, not to the authentication certificate registration address`)
  }
  const trust = trustOf(ctx)
  const sender = request.header.client
  const server = request.body.server
  const fields = request.body as { client?: ClientId; address?: string; authCert?: Buffer; subsystemName?: string; message?: string }

  if (parts.form === 'authCertReg') {
    // AuthCertRegRequestDecoderCallback.verifyAuthCert: issued by an approved CA, valid, an authentication certificate.
    checkIssuedAndValid(parts.authCert, trust, ctx.now, 'Authentication certificate')
    if ((keyUsageFlags(parts.authCert) & x509.KeyUsageFlags.digitalSignature) === 0) throw certValidation('Authentication certificate is not valid')
    // pr-mserv §2.3 part 2: proof of possession of the authentication key.
    if (!verifyManagementSignature(parts.soap, parts.authSignature, parts.authCert)) {
      throw new SecurityServerError('invalid_signature_value', 'Auth signature verification failed', { clientFault: true })
    }
    checkMemberCertificate(parts.ownerCert, parts.ownerOcsp, trust, ctx.now)
    // pr-mserv §2.3 part 3: the owner's signature.
    if (!verifyManagementSignature(parts.soap, parts.ownerSignature, parts.ownerCert)) {
      throw new SecurityServerError('invalid_signature_value', 'Owner signature verification failed.', { clientFault: true })
    }
    const service = request.header.service
    const serviceProvider: ClientId = service.subsystemCode === undefined
      ? { objectType: 'MEMBER', xRoadInstance: service.xRoadInstance, memberClass: service.memberClass, memberCode: service.memberCode }
      : { objectType: 'SUBSYSTEM', xRoadInstance: service.xRoadInstance, memberClass: service.memberClass, memberCode: service.memberCode, subsystemCode: service.subsystemCode }
    if (!identifierEquals(serviceProvider, ctx.provider) || sender.xRoadInstance !== ctx.instance) {
      throw invalidRequest('Invalid management service address. Contact central server administrator.')
    }
    checkServerId(server)
    checkSenderOwnsServer(sender, server)
    if (fields.authCert === undefined || !parts.authCert.equals(fields.authCert)) throw certValidation('Authentication certificates do not match.')
    const fromCert = memberOfCertificate(parts.ownerCert, ctx.instance)
    const owner = memberOf(server)
    if (!identifierEquals(fromCert, owner)) {
      throw invalidRequest(`Subject identifier (${describeIdentifier(fromCert)}) in certificate does not match security server owner identifier (${describeIdentifier(owner)}) in request`)
    }
    const address = checkServerAddress(fields.address)
    return { type, message: request, sender, server, client: null, address, authCert: new Uint8Array(parts.authCert), subsystemName: null, maintenanceMessage: null }
  }

  if (parts.form === 'signed') {
    // BaseSignedRequestCallback.verifySignature: the signature first, then the certificate and its OCSP response.
    if (!verifyManagementSignature(parts.soap, parts.signature, parts.cert)) {
      throw new SecurityServerError('invalid_signature_value', 'Client signature verification failed', { clientFault: true })
    }
    checkMemberCertificate(parts.cert, parts.ocsp, trust, ctx.now)
    checkServerId(server)
    checkSenderOwnsServer(sender, server)
    if (CLIENT_SIGNED_TYPES.has(type)) {
      const client = fields.client as ClientId
      const fromCert = memberOfCertificate(parts.cert, ctx.instance)
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
    checkServerId(server)
    checkSenderOwnsServer(sender, server)
  }
  return {
    type,
    message: request,
    sender,
    server,
    client: fields.client ?? null,
    address: type === 'addressChange' ? checkServerAddress(fields.address) : null,
    authCert: type === 'authCertDeletion' && fields.authCert !== undefined ? new Uint8Array(fields.authCert) : null,
    subsystemName: fields.subsystemName === undefined || fields.subsystemName === '' ? null : fields.subsystemName,
    maintenanceMessage: type === 'maintenanceModeEnable' && fields.message !== undefined && fields.message !== '' ? fields.message : null,
  }
}

/** The answer (X-Road's `ManagementRequestUtil.toResponse`): the request echoed as `<type>Response` with `requestId`. */
export function managementResponseXml(request: VerifiedManagementRequest, requestId: number): Buffer {
  return buildManagementResponse(request.message, requestId)
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
  return soapFaultXml(coded.code, coded.message, randomUUID())
}

export interface ManagementAnswer {
  status: number
  contentType: string
  body: Buffer
  /** The recorded request (absent when refused). */
  request?: ManagementRequestRow
  /** The refusal (absent when recorded). */
  error?: SecurityServerError
}

/**
 * One management request from the wire to its answer (`ManagementRequestController.addManagementRequest`): verified,
 * recorded (and approved when the lab's auto-approval says so), answered with the request id; a refusal is HTTP 500
 * with a SOAP fault, and nothing is recorded.
 */
export function answerManagementRequest(lab: LabAuthority, contentType: string, body: Buffer, channel: 'authCertReg' | 'service'): ManagementAnswer {
  try {
    const verified = verifyManagementRequest(contentType, body, channel, lab.managementVerificationContext())
    const request = lab.receiveManagementRequest(verified)
    return { status: 200, contentType: 'text/xml; charset=UTF-8', body: managementResponseXml(verified, request.id), request }
  } catch (error) {
    return { status: 500, contentType: 'text/xml; charset=UTF-8', body: Buffer.from(managementFaultXml(error), 'utf8'), error: toSecurityServerError(error) }
  }
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
  management_request_only_subsystem_rename_allowed: 400,
  management_request_server_already_in_maintenance_mode: 409,
  management_request_server_not_in_maintenance_mode: 409,
  mr_forbidden_enable_maintenance_mode_for_management_service: 409,
  management_request_owner_must_be_member: 400,
  management_request_owner_must_be_client: 400,
  management_request_client_already_owner: 400,
  management_request_server_code_exists: 409,
  mr_forbidden_disable_management_service_client: 409,
}

function centralServerRefusal(error: SecurityServerError): { code: string; status: number } | undefined {
  const status = CENTRAL_SERVER_REFUSALS[error.code]
  return status === undefined ? undefined : { code: error.code, status }
}

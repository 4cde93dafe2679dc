import { X509Certificate } from 'node:crypto'
import * as asn1js from 'asn1js'
import * as pkijs from 'pkijs'
import { LruCache, SecurityServerError, bytesKey, derProblem } from '../platform'
import {
  extendedKeyUsage, issuerNameSha1, namesEqual, parseCertificate, publicKeySha1, subjectNameDer, type ParsedCertificate,
} from './certificate-util'
import { verifyWithAlgorithm } from './signature-algorithms'
import type { VerificationTrust } from './verification-trust'

/**
 * OCSP response verification with X-Road's rules (`OcspVerifier`; xroad-protocols.md §4.8; RFC 6960 §3.2, §4.2.2.2):
 * SHA-1 CertID, only `responses[0]`, responder found and authorized, signature, freshness and status.
 */

export interface OcspInfo {
  der: Buffer
  producedAt: Date
  thisUpdate: Date
  nextUpdate?: Date
  status: 'good' | 'revoked' | 'unknown'
  responderCert: ParsedCertificate
  serialNumber: bigint
  basic: pkijs.BasicOCSPResponse
}

const ID_PKIX_OCSP_BASIC = '1.3.6.1.5.5.7.48.1.1'
const ID_KP_OCSP_SIGNING = '1.3.6.1.5.5.7.3.9'

function invalidInfo(message: string, cause?: unknown): SecurityServerError {
  return new SecurityServerError('incorrect_validation_info', message, { clientFault: true, cause })
}

/** Parsed responses by content: a sender embeds the same cached response in message after message. */
const parsedResponses = new LruCache<string, { basic: pkijs.BasicOCSPResponse; der: Buffer }>(1024)

/** Parses an OCSPResponse (RFC 6960 §4.2.1) down to its BasicOCSPResponse (memoized; do not mutate the result). */
export function parseOcspResponse(der: Uint8Array): { basic: pkijs.BasicOCSPResponse; der: Buffer } {
  return parsedResponses.getOrCompute(bytesKey(der), () => parseOcspResponseUncached(der))
}

/** OCSP responses from peers and responders: 256 KiB, 24 levels (a basic response with certificates nests about 14). */
const OCSP_DER_LIMITS = { maxBytes: 256 * 1024, maxDepth: 24, maxElements: 20_000 }

function parseOcspResponseUncached(der: Uint8Array): { basic: pkijs.BasicOCSPResponse; der: Buffer } {
  const bytes = Buffer.from(der)
  const shape = derProblem(bytes, OCSP_DER_LIMITS)
  if (shape !== undefined) throw invalidInfo(`Cannot parse OCSP response: ${shape}`)
  let response: pkijs.OCSPResponse
  try {
    response = pkijs.OCSPResponse.fromBER(bytes)
  } catch (cause) {
    throw invalidInfo(`Cannot parse OCSP response: ${(cause as Error).message}`, cause)
  }
  const status = response.responseStatus.valueBlock.valueDec
  if (status !== 0) throw invalidInfo(`OCSP response status is not successful (${status})`)
  if (response.responseBytes === undefined || response.responseBytes.responseType !== ID_PKIX_OCSP_BASIC) {
    throw invalidInfo('OCSP response is not a basic OCSP response')
  }
  const basicBytes = response.responseBytes.response.valueBlock.valueHexView
  const basicShape = derProblem(basicBytes, OCSP_DER_LIMITS)
  if (basicShape !== undefined) throw invalidInfo(`Cannot parse basic OCSP response: ${basicShape}`)
  try {
    return { basic: pkijs.BasicOCSPResponse.fromBER(basicBytes), der: bytes }
  } catch (cause) {
    throw invalidInfo(`Cannot parse basic OCSP response: ${(cause as Error).message}`, cause)
  }
}

/** True when responses[0] of `basic` is about `cert` issued by `issuer` (SHA-1 CertID; xroad-protocols.md §4.8). */
export function ocspAppliesTo(basic: pkijs.BasicOCSPResponse, cert: ParsedCertificate, issuer: ParsedCertificate): boolean {
  const single = basic.tbsResponseData.responses[0]
  if (single === undefined) return false
  const id = single.certID
  if (id.hashAlgorithm.algorithmId !== '1.3.14.3.2.26') return false
  const serial = Buffer.from(id.serialNumber.valueBlock.valueHexView)
  return Buffer.from(id.issuerNameHash.valueBlock.valueHexView).equals(issuerNameSha1(cert)) &&
    Buffer.from(id.issuerKeyHash.valueBlock.valueHexView).equals(publicKeySha1(issuer)) &&
    serialToBigInt(serial) === cert.serialNumber
}

function serialToBigInt(bytes: Buffer): bigint {
  let n = 0n
  for (const b of bytes) n = (n << 8n) | BigInt(b)
  return n
}

function responderMatches(basic: pkijs.BasicOCSPResponse, candidate: ParsedCertificate): boolean {
  const rid = basic.tbsResponseData.responderID
  if (rid instanceof pkijs.RelativeDistinguishedNames) return namesEqual(rid, candidate.cert.subject)
  const keyHash = Buffer.from((rid as asn1js.OctetString).valueBlock.valueHexView)
  return keyHash.equals(publicKeySha1(candidate))
}

function statusOf(single: pkijs.SingleResponse): OcspInfo['status'] {
  const tag = (single.certStatus as asn1js.BaseBlock).idBlock.tagNumber
  return tag === 0 ? 'good' : tag === 1 ? 'revoked' : 'unknown'
}

function caCertsFor(trust: VerificationTrust, issuer: ParsedCertificate): { responders: ParsedCertificate[]; cas: ParsedCertificate[] } {
  const responders: ParsedCertificate[] = []
  const cas: ParsedCertificate[] = []
  for (const ca of trust.approvedCas) {
    const certs = [ca.topCert, ...ca.intermediates].map((d) => parseCertificate(d, 'CA certificate'))
    cas.push(...certs)
    if (certs.some((c) => c.der.equals(issuer.der))) responders.push(...ca.ocspResponderCerts.map((d) => parseCertificate(d, 'OCSP responder certificate')))
  }
  return { responders, cas }
}

/** The part of a response's verification that does not depend on time: which certificate it is about, who signed it. */
interface VerifiedOcspSignature {
  basic: pkijs.BasicOCSPResponse
  der: Buffer
  responder: ParsedCertificate
}

/**
 * Signature and authorization checks already passed, per trust (a new global configuration starts afresh), parsed
 * response, certificate and issuer. Each of those objects stands for its content: parsed responses and certificates
 * are memoized by content and never change, so the same object means the same bytes (and no hash of them is taken
 * again). Time-dependent checks (freshness, nextUpdate, status) run every time.
 */
type ParsedOcsp = ReturnType<typeof parseOcspResponse>
const verifiedSignatures = new WeakMap<VerificationTrust, WeakMap<ParsedOcsp, WeakMap<ParsedCertificate, WeakMap<ParsedCertificate, VerifiedOcspSignature>>>>()

function verifyOcspSignature(respDer: Uint8Array | ParsedOcsp, cert: ParsedCertificate, issuer: ParsedCertificate, trust: VerificationTrust): VerifiedOcspSignature {
  const parsed = respDer instanceof Uint8Array ? parseOcspResponse(respDer) : respDer
  let byResponse = verifiedSignatures.get(trust)
  if (byResponse === undefined) verifiedSignatures.set(trust, (byResponse = new WeakMap()))
  let byCert = byResponse.get(parsed)
  if (byCert === undefined) byResponse.set(parsed, (byCert = new WeakMap()))
  let byIssuer = byCert.get(cert)
  if (byIssuer === undefined) byCert.set(cert, (byIssuer = new WeakMap()))
  let verified = byIssuer.get(issuer)
  if (verified === undefined) byIssuer.set(issuer, (verified = verifyOcspSignatureUncached(parsed, cert, issuer, trust)))
  return verified
}

function verifyOcspSignatureUncached(parsed: ParsedOcsp, cert: ParsedCertificate, issuer: ParsedCertificate, trust: VerificationTrust): VerifiedOcspSignature {
  const { basic, der } = parsed
  // Only the first SingleResponse is considered (X-Road OcspVerifier).
  if (!ocspAppliesTo(basic, cert, issuer)) {
    throw invalidInfo(`OCSP response does not apply to certificate (sn = ${cert.serialNumber})`)
  }
  // The responder: global-conf responders for the CA, the CA certificates, certificates in the response.
  const { responders, cas } = caCertsFor(trust, issuer)
  const embedded = (basic.certs ?? []).map((c) => parseCertificate(Buffer.from(c.toSchema().toBER(false)), 'OCSP certificate'))
  const responder = [...responders, ...cas, issuer, ...embedded].find((c) => responderMatches(basic, c))
  if (responder === undefined) throw invalidInfo('Could not find OCSP certificate for responder ID')
  const tbs = Buffer.from(basic.tbsResponseData.toSchema(false).toBER(false))
  const signatureOk = verifyWithAlgorithm(
    basic.signatureAlgorithm, tbs, Buffer.from(basic.signature.valueBlock.valueHexView), responder.publicKey,
  )
  if (!signatureOk) throw invalidInfo('Signature on OCSP response is not valid')
  const producedAt = basic.tbsResponseData.producedAt
  if (producedAt < responder.notBefore || producedAt > responder.notAfter) {
    throw invalidInfo(`OCSP responder certificate ${responder.subjectRfc2253} was not valid when the response was produced`)
  }
  // RFC 6960 §4.2.2.2 / X-Road: the CA itself, a responder listed in global conf, or delegated with id-kp-OCSPSigning.
  const listed = responders.some((r) => r.der.equals(responder.der))
  const isCa = responder.der.equals(issuer.der)
  const delegated = Buffer.from(responder.cert.issuer.toSchema().toBER(false)).equals(subjectNameDer(issuer)) &&
    new X509Certificate(responder.der).verify(issuer.publicKey) && extendedKeyUsage(responder).includes(ID_KP_OCSP_SIGNING)
  if (!listed && !isCa && !delegated) throw invalidInfo('OCSP responder is not authorized for given CA')
  return { basic, der, responder }
}

/**
 * The time-dependent checks of a response at `atMs` (ms since the epoch): thisUpdate ≥ atTime − ocspFreshnessSeconds
 * (global conf `ocspFreshnessSeconds`), and nextUpdate not passed when the configuration asks for it.
 */
export function checkOcspFreshness(thisUpdate: Date, nextUpdate: Date | undefined, trust: VerificationTrust, atMs: number): void {
  if (thisUpdate.getTime() < atMs - trust.ocspFreshnessSeconds * 1000) {
    throw invalidInfo(`OCSP response is too old (thisUpdate: ${thisUpdate.toISOString()})`)
  }
  if (trust.verifyNextUpdate && nextUpdate !== undefined && nextUpdate.getTime() < atMs) {
    throw invalidInfo(`OCSP response is too old (nextUpdate: ${nextUpdate.toISOString()})`)
  }
}

/**
 * Verifies one OCSP response for `cert` (issued by `issuer`) at `atTime` and returns what it says; the status is
 * checked too: anything but good is `cert_validation` (xroad-protocols.md §4.8).
 */
export function verifyOcspResponse(
  respDer: Uint8Array | ParsedOcsp,
  certDer: Uint8Array | ParsedCertificate,
  issuerDer: Uint8Array | ParsedCertificate,
  trust: VerificationTrust,
  atTime: Date,
): OcspInfo {
  const cert = 'der' in certDer && 'cert' in certDer ? certDer : parseCertificate(certDer as Uint8Array)
  const issuer = 'der' in issuerDer && 'cert' in issuerDer ? issuerDer : parseCertificate(issuerDer as Uint8Array)
  const { basic, der, responder } = verifyOcspSignature(respDer, cert, issuer, trust)
  const single = basic.tbsResponseData.responses[0]!
  const producedAt = basic.tbsResponseData.producedAt
  const thisUpdate = single.thisUpdate
  const nextUpdate = single.nextUpdate
  checkOcspFreshness(thisUpdate, nextUpdate, trust, atTime.getTime())
  const status = statusOf(single)
  if (status !== 'good') {
    throw new SecurityServerError('cert_validation', `OCSP response indicates certificate status is ${status.toUpperCase()}`, {
      clientFault: true, detail: `sn = ${cert.serialNumber}`,
    })
  }
  return { der, producedAt, thisUpdate, nextUpdate, status, responderCert: responder, serialNumber: cert.serialNumber, basic }
}

import { createHash } from 'node:crypto'
import * as asn1js from 'asn1js'
import * as pkijs from 'pkijs'
import { RequestFailure, SecurityServerError, derProblem, requestBounded, type BoundedAnswer } from '../platform'
import { verificationTrust, verifyTimestamp } from '../signature'

/**
 * RFC 3161 time-stamping client as X-Road's message log uses it (xroad-protocols.md §6.2; code
 * `AbstractTimestampRequest`, `TimestamperUtil`): request = messageImprint only (SHA-512, no nonce, certReq not set),
 * POSTed as `application/timestamp-query`; the response must be granted, match the request and be signed by one of
 * the approved TSA certificates (matched by SID, no chain building); the TSA certificate is then added to the token's
 * CMS certificates before the token is stored.
 */

const SHA512_OID = '2.16.840.1.101.3.4.2.3'
const SIGNED_DATA_OID = '1.2.840.113549.1.7.2'
const TST_INFO_OID = '1.2.840.113549.1.9.16.1.4'

/** A TSA the administrator selected from global configuration's `approvedTSA`, with its certificate(s) (DER). */
export interface SelectedTsa {
  name?: string
  url: string
  certificates: Uint8Array[]
}

export interface TimestampResult {
  /** DER TimeStampToken (ContentInfo) with the TSA certificate included. */
  token: Uint8Array
  genTime: Date
  tsaUrl: string
}

/**
 * DER TimeStampReq over a SHA-512 digest (RFC 3161 §2.4.1); a `nonce` (a positive integer's big-endian bytes) only for
 * a diagnostic probe, as the message log sends none.
 */
export function buildTimestampRequest(imprint: Uint8Array, nonce?: Uint8Array): Uint8Array {
  const request = new pkijs.TimeStampReq({
    version: 1,
    messageImprint: new pkijs.MessageImprint({
      hashAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: SHA512_OID }),
      hashedMessage: new asn1js.OctetString({ valueHex: toArrayBuffer(imprint) }),
    }),
    ...(nonce === undefined ? {} : { nonce: new asn1js.Integer({ valueHex: toArrayBuffer(nonce) }) }),
  })
  return new Uint8Array(request.toSchema().toBER(false))
}

export function sha512(data: Uint8Array | string): Buffer {
  return createHash('sha512').update(data).digest()
}

/** Sends a request over SHA-512(stampedData) to one TSA and validates the answer; throws `timestamping_failed` on any fault. */
export async function requestTimestamp(tsa: SelectedTsa, stampedData: Uint8Array, timeoutMs: number): Promise<TimestampResult> {
  const body = buildTimestampRequest(sha512(stampedData))
  let answer: BoundedAnswer
  try {
    answer = await requestBounded(tsa.url, { method: 'POST', headers: { 'Content-Type': 'application/timestamp-query' }, body, timeoutMs, maxBytes: MAX_TSA_RESPONSE_BYTES })
  } catch (cause) {
    const reason = cause instanceof RequestFailure && cause.kind === 'too_large' ? `answered with more than ${MAX_TSA_RESPONSE_BYTES} bytes` : `is unreachable: ${(cause as Error).message}`
    throw new SecurityServerError('timestamping_failed', `TSA ${tsa.url} ${reason}`, { cause })
  }
  if (answer.status < 200 || answer.status > 299) {
    throw new SecurityServerError('timestamping_failed', `TSA ${tsa.url} answered HTTP ${answer.status}`)
  }
  return { ...(await validateTimestampResponse(new Uint8Array(answer.body), stampedData, tsa.certificates)), tsaUrl: tsa.url }
}

/** A TimeStampResp is a few kilobytes; more is refused while reading, not after. */
const MAX_TSA_RESPONSE_BYTES = 256 * 1024

/**
 * Validates a DER TimeStampResp against the stamped data (imprint = SHA-512 of it) and the approved TSA certificates,
 * and returns the token with
 * the signing TSA certificate added (RFC 3161 §2.4.2; xroad-protocols.md §6.2).
 */
export async function validateTimestampResponse(
  responseDer: Uint8Array,
  stampedData: Uint8Array,
  approvedCertificates: readonly Uint8Array[],
  nonce?: Uint8Array,
): Promise<{ token: Uint8Array; genTime: Date }> {
  const fail = (message: string, cause?: unknown): SecurityServerError =>
    new SecurityServerError('timestamping_failed', message, cause === undefined ? {} : { cause })
  const imprint = sha512(stampedData)
  let resp: pkijs.TimeStampResp
  // RFC 3161 §2.4.2 TimeStampResp from the network: its structure is bounded before pkijs reads it.
  const shape = derProblem(responseDer, { maxBytes: 256 * 1024, maxDepth: 24, maxElements: 20_000 })
  if (shape !== undefined) throw fail(`TSA response is not a DER TimeStampResp: ${shape}`)
  try {
    resp = pkijs.TimeStampResp.fromBER(toArrayBuffer(responseDer))
  } catch (cause) {
    throw fail('TSA response is not a DER TimeStampResp', cause)
  }
  // RFC 3161 §2.4.2: granted (0) or grantedWithMods (1).
  const status = resp.status.status
  if (status !== pkijs.PKIStatus.granted && status !== pkijs.PKIStatus.grantedWithMods) {
    const text = resp.status.statusStrings?.map((s) => s.valueBlock.value).join('; ') ?? ''
    throw fail(`TSA refused the request (status ${status}${text ? `: ${text}` : ''})`)
  }
  const contentInfo = resp.timeStampToken
  if (contentInfo === undefined || contentInfo.contentType !== SIGNED_DATA_OID) throw fail('TSA response carries no time-stamp token')
  const signedData = new pkijs.SignedData({ schema: contentInfo.content })
  const eContent = signedData.encapContentInfo.eContent
  if (signedData.encapContentInfo.eContentType !== TST_INFO_OID || eContent === undefined) throw fail('Time-stamp token carries no TSTInfo')
  const tstInfo = pkijs.TSTInfo.fromBER(eContent.getValue())
  // RFC 3161 §2.4.2: the imprint must be the one requested, with the same algorithm.
  if (tstInfo.messageImprint.hashAlgorithm.algorithmId !== SHA512_OID) throw fail('Time-stamp token uses another digest algorithm')
  if (!Buffer.from(tstInfo.messageImprint.hashedMessage.valueBlock.valueHexView).equals(Buffer.from(imprint))) {
    throw fail('Time-stamp token does not cover the requested imprint')
  }
  // RFC 3161 §2.4.2: a nonce in the request must come back unchanged.
  if (nonce !== undefined) {
    const echoed = tstInfo.nonce === undefined ? undefined : Buffer.from(tstInfo.nonce.valueBlock.valueHexView)
    if (echoed === undefined || !echoed.equals(Buffer.from(nonce))) throw fail('Time-stamp token does not carry the nonce of the request')
  }
  if (signedData.signerInfos.length !== 1) throw fail('Time-stamp token must have exactly one signer')
  const signer = signedData.signerInfos[0] as pkijs.SignerInfo
  const approved = approvedCertificates.map((der) => pkijs.Certificate.fromBER(toArrayBuffer(der)))
  const tsaCert = approved.find((cert) => signerMatches(signer, cert))
  if (tsaCert === undefined) throw fail('Time-stamp token is not signed by an approved TSA certificate')
  const embedded = (signedData.certificates ?? []).filter((c): c is pkijs.Certificate => c instanceof pkijs.Certificate)
  const alreadyIncluded = embedded.some((c) => Buffer.from(c.toSchema().toBER(false)).equals(Buffer.from(tsaCert.toSchema().toBER(false))))
  let tokenDer = new Uint8Array(contentInfo.toSchema().toBER(false))
  if (!alreadyIncluded) {
    signedData.certificates = [...(signedData.certificates ?? []), tsaCert]
    tokenDer = new Uint8Array(
      new pkijs.ContentInfo({ contentType: SIGNED_DATA_OID, content: signedData.toSchema(true) }).toSchema().toBER(false),
    )
  }
  // Verify the (possibly re-encoded) token as it will be stored, with the signature domain's TimestampVerifier.
  try {
    verifyTimestamp(tokenDer, stampedData, verificationTrust({
      instance: 'tsa', approvedCas: [], approvedTsas: approvedCertificates.map((cert) => ({ cert })),
    }))
  } catch (cause) {
    throw fail(`Time-stamp token does not verify: ${(cause as Error).message}`, cause)
  }
  const genTime = tstInfo.genTime
  if (genTime < tsaCert.notBefore.value || genTime > tsaCert.notAfter.value) {
    throw fail('Time-stamp genTime lies outside the TSA certificate validity')
  }
  return { token: tokenDer, genTime }
}

function signerMatches(signer: pkijs.SignerInfo, cert: pkijs.Certificate): boolean {
  const sid = signer.sid as unknown
  if (sid instanceof pkijs.IssuerAndSerialNumber) {
    return sid.issuer.isEqual(cert.issuer) && sid.serialNumber.isEqual(cert.serialNumber)
  }
  if (sid instanceof asn1js.Constructed || sid instanceof asn1js.Primitive) {
    const keyId = Buffer.from((sid as asn1js.Primitive).valueBlock.valueHexView)
    const ski = cert.extensions?.find((e) => e.extnID === '2.5.29.14')
    const parsed = ski?.parsedValue as asn1js.OctetString | undefined
    return parsed !== undefined && Buffer.from(parsed.valueBlock.valueHexView).equals(keyId)
  }
  return false
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer
}

/** genTime of a stored DER token. */
export function timestampGenTime(tokenDer: Uint8Array): Date {
  const signedData = new pkijs.SignedData({ schema: pkijs.ContentInfo.fromBER(toArrayBuffer(tokenDer)).content })
  const eContent = signedData.encapContentInfo.eContent
  if (eContent === undefined) throw new SecurityServerError('timestamping_failed', 'Time-stamp token carries no TSTInfo')
  return pkijs.TSTInfo.fromBER(eContent.getValue()).genTime
}

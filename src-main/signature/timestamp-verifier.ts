import * as asn1js from 'asn1js'
import * as pkijs from 'pkijs'
import { SecurityServerError, derProblem } from '../platform'
import { parseCertificate, subjectKeyIdentifier, type ParsedCertificate } from './certificate-util'
import { digestAlgorithmFromOid, hashWith, verifyWithAlgorithm } from './signature-algorithms'
import type { VerificationTrust } from './verification-trust'

/**
 * RFC 3161 time-stamp token verification as X-Road's `TimestampVerifier` does it (xroad-protocols.md §6.2):
 * the TSA certificate is matched among the approved TSAs by the SignerInfo's SID (no chain building), the
 * message imprint must cover the stamped data, and the CMS signature (RFC 5652 §5.4) must verify.
 */

const ID_SIGNED_DATA = '1.2.840.113549.1.7.2'
const ID_CT_TSTINFO = '1.2.840.113549.1.9.16.1.4'
const ID_CONTENT_TYPE = '1.2.840.113549.1.9.3'
const ID_MESSAGE_DIGEST = '1.2.840.113549.1.9.4'

export interface TimestampInfo {
  genTime: Date
  tsaCert: ParsedCertificate
  serialNumber: bigint
  policy: string
  hashAlgorithm: string
}

function malformed(message: string, cause?: unknown): SecurityServerError {
  return new SecurityServerError('malformed_signature', message, { clientFault: true, cause })
}

function bigintOf(bytes: Uint8Array): bigint {
  let n = 0n
  for (const b of bytes) n = (n << 8n) | BigInt(b)
  return n
}

/** Time-stamp tokens (RFC 3161 §2.4.2): 256 KiB, 24 levels (SignedData with certificates nests about 14). */
export const TIMESTAMP_DER_LIMITS = { maxBytes: 256 * 1024, maxDepth: 24, maxElements: 20_000 }

/** Parses a TimeStampToken (ContentInfo with SignedData over TSTInfo), its structure checked first ({@link derProblem}). */
export function parseTimestampToken(tokenDer: Uint8Array): { signedData: pkijs.SignedData; tstInfo: pkijs.TSTInfo; eContent: Buffer } {
  const shape = derProblem(tokenDer, TIMESTAMP_DER_LIMITS)
  if (shape !== undefined) throw malformed(`Cannot parse time-stamp token: ${shape}`)
  try {
    const info = pkijs.ContentInfo.fromBER(Buffer.from(tokenDer))
    if (info.contentType !== ID_SIGNED_DATA) throw malformed('Time-stamp token is not CMS SignedData')
    const signedData = new pkijs.SignedData({ schema: info.content })
    if (signedData.encapContentInfo.eContentType !== ID_CT_TSTINFO) throw malformed('Time-stamp token does not hold a TSTInfo')
    const eContent = signedData.encapContentInfo.eContent
    if (eContent === undefined) throw malformed('Time-stamp token has no content')
    const bytes = Buffer.from(eContent.getValue())
    const contentShape = derProblem(bytes, TIMESTAMP_DER_LIMITS)
    if (contentShape !== undefined) throw malformed(`Cannot parse time-stamp token content: ${contentShape}`)
    return { signedData, tstInfo: pkijs.TSTInfo.fromBER(bytes), eContent: bytes }
  } catch (cause) {
    if (cause instanceof SecurityServerError) throw cause
    throw malformed(`Cannot parse time-stamp token: ${(cause as Error).message}`, cause)
  }
}

function sidMatches(sid: pkijs.SignerInfo['sid'], cert: ParsedCertificate): boolean {
  if (sid instanceof pkijs.IssuerAndSerialNumber) {
    return Buffer.from(sid.issuer.toSchema().toBER(false)).equals(Buffer.from(cert.cert.issuer.toSchema().toBER(false))) &&
      bigintOf(new Uint8Array(sid.serialNumber.valueBlock.valueHexView)) === cert.serialNumber
  }
  const ski = sid as asn1js.OctetString
  return Buffer.from(ski.valueBlock.valueHexView).equals(subjectKeyIdentifier(cert))
}

/** The TSA certificate of `tokenDer` among the approved TSAs, or undefined. */
export function findTsaCertificate(signedData: pkijs.SignedData, trust: VerificationTrust): ParsedCertificate | undefined {
  const signer = signedData.signerInfos[0]
  if (signer === undefined) return undefined
  return trust.approvedTsas.map((t) => parseCertificate(t.cert, 'TSA certificate')).find((c) => sidMatches(signer.sid, c))
}

/** X-Road's `TimestampVerifier` codes (`ErrorCode.java`), all with the prefix `mlog.`. */
function mlogError(
  code: 'no_timestamping_provider_found' | 'tsp_certificate_not_found' | 'timestamp_signer_verification_failed',
  message: string,
): SecurityServerError {
  return new SecurityServerError(code, message, { clientFault: true, prefixes: ['mlog'] })
}

/**
 * Verifies a time-stamp token over `imprintedData` (the exact bytes the imprint was computed over) against the
 * approved TSAs of `trust`; returns genTime and the TSA certificate. X-Road's order and codes
 * (`TimestampVerifier.verify`): the imprint (`malformed_signature` "Timestamp hashes do not match"), no approved TSA
 * (`mlog.no_timestamping_provider_found`), the signer's certificate among them (`mlog.tsp_certificate_not_found`),
 * then the SignerInfo — its content-type and message-digest attributes and its signature
 * (`mlog.timestamp_signer_verification_failed`).
 */
export function verifyTimestamp(tokenDer: Uint8Array, imprintedData: Uint8Array, trust: VerificationTrust): TimestampInfo {
  const { signedData, tstInfo, eContent } = parseTimestampToken(tokenDer)
  const imprintAlg = digestAlgorithmFromOid(tstInfo.messageImprint.hashAlgorithm.algorithmId)
  if (imprintAlg === undefined) throw malformed(`Unsupported time-stamp imprint algorithm ${tstInfo.messageImprint.hashAlgorithm.algorithmId}`)
  const imprint = Buffer.from(tstInfo.messageImprint.hashedMessage.valueBlock.valueHexView)
  if (!hashWith(imprintAlg, imprintedData).equals(imprint)) throw malformed('Timestamp hashes do not match')
  const signer = signedData.signerInfos[0]
  if (signer === undefined || signedData.signerInfos.length !== 1) throw malformed('Time-stamp token must have exactly one signer')
  if (trust.approvedTsas.length === 0) throw mlogError('no_timestamping_provider_found', 'No TSP service providers are configured.')
  const tsaCert = findTsaCertificate(signedData, trust)
  if (tsaCert === undefined) throw mlogError('tsp_certificate_not_found', 'Could not find TSP certificate for timestamp')
  const failed = (why: string): SecurityServerError => mlogError('timestamp_signer_verification_failed', `Failed to verify timestamp signer information: ${why}`)
  const attrs = signer.signedAttrs
  if (attrs === undefined) throw failed('the signer has no signed attributes')
  const digestAlg = digestAlgorithmFromOid(signer.digestAlgorithm.algorithmId)
  if (digestAlg === undefined) throw failed(`unsupported digest algorithm ${signer.digestAlgorithm.algorithmId}`)
  // RFC 5652 §5.4: content-type and message-digest attributes must be present and match.
  const attr = (oid: string): asn1js.AsnType | undefined => attrs.attributes.find((a) => a.type === oid)?.values[0]
  const contentType = attr(ID_CONTENT_TYPE) as asn1js.ObjectIdentifier | undefined
  if (contentType === undefined || contentType.valueBlock.toString() !== ID_CT_TSTINFO) throw failed('the content-type attribute is wrong')
  const messageDigest = attr(ID_MESSAGE_DIGEST) as asn1js.OctetString | undefined
  if (messageDigest === undefined || !Buffer.from(messageDigest.valueBlock.valueHexView).equals(hashWith(digestAlg, eContent))) {
    throw failed('the message-digest attribute does not match the TSTInfo')
  }
  const signedBytes = new Uint8Array(attrs.encodedValue)
  const ok = verifyWithAlgorithm(
    signer.signatureAlgorithm, signedBytes, new Uint8Array(signer.signature.valueBlock.valueHexView), tsaCert.publicKey, signer.digestAlgorithm.algorithmId,
  )
  if (!ok) throw failed('the signature is not valid')
  return {
    genTime: tstInfo.genTime,
    tsaCert,
    serialNumber: bigintOf(new Uint8Array(tstInfo.serialNumber.valueBlock.valueHexView)),
    policy: tstInfo.policy,
    hashAlgorithm: imprintAlg,
  }
}

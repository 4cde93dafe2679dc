import { constants, verify as cryptoVerify, type KeyObject } from 'node:crypto'
import * as asn1js from 'asn1js'
import * as pkijs from 'pkijs'
import { hashOf, SecurityServerError, type HashName } from '../platform'
import type { DigestAlgorithm } from './xml-support'

/**
 * Signature algorithms: XMLDSig URIs X-Road uses for message signatures (RFC 6931 §2.3; X-Road `SignAlgorithm`)
 * and the X.509/CMS algorithm identifiers met in certificates, OCSP responses and time-stamp tokens.
 */

export type SignatureAlgorithm =
  | 'RSA-SHA256' | 'RSA-SHA384' | 'RSA-SHA512'
  | 'RSA-PSS-SHA256' | 'RSA-PSS-SHA384' | 'RSA-PSS-SHA512'
  | 'ECDSA-SHA256' | 'ECDSA-SHA384' | 'ECDSA-SHA512'

export const SIGNATURE_URIS: Record<SignatureAlgorithm, string> = {
  'RSA-SHA256': 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  'RSA-SHA384': 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha384',
  'RSA-SHA512': 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512',
  'RSA-PSS-SHA256': 'http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1',
  'RSA-PSS-SHA384': 'http://www.w3.org/2007/05/xmldsig-more#sha384-rsa-MGF1',
  'RSA-PSS-SHA512': 'http://www.w3.org/2007/05/xmldsig-more#sha512-rsa-MGF1',
  'ECDSA-SHA256': 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256',
  'ECDSA-SHA384': 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384',
  'ECDSA-SHA512': 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512',
}

const SIGNATURE_BY_URI = new Map((Object.entries(SIGNATURE_URIS) as Array<[SignatureAlgorithm, string]>).map(([algorithm, uri]) => [uri, algorithm]))

export function signatureAlgorithmFromUri(uri: string): SignatureAlgorithm {
  const found = SIGNATURE_BY_URI.get(uri)
  if (found === undefined) throw new SecurityServerError('malformed_signature', `Unsupported signature method '${uri}'`, { clientFault: true })
  return found
}

export function digestOfSignatureAlgorithm(algorithm: SignatureAlgorithm): DigestAlgorithm {
  return `SHA-${algorithm.slice(-3)}` as DigestAlgorithm
}

const NODE_HASH: Record<string, HashName> = { 'SHA-1': 'sha1', 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' }
const DIGEST_LENGTH: Record<string, number> = { 'SHA-1': 20, 'SHA-256': 32, 'SHA-384': 48, 'SHA-512': 64 }

/** Verifies an XMLDSig SignatureValue (ECDSA values are raw r‖s, XMLDSig §6.4.3). */
export function verifyXmlSignatureValue(algorithm: SignatureAlgorithm, data: Uint8Array, signature: Uint8Array, key: KeyObject): boolean {
  const hash = NODE_HASH[digestOfSignatureAlgorithm(algorithm)]!
  try {
    if (algorithm.startsWith('RSA-PSS')) {
      return cryptoVerify(hash, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: DIGEST_LENGTH[digestOfSignatureAlgorithm(algorithm)] }, signature)
    }
    if (algorithm.startsWith('ECDSA')) return cryptoVerify(hash, data, { key, dsaEncoding: 'ieee-p1363' }, signature)
    return cryptoVerify(hash, data, key, signature)
  } catch {
    return false
  }
}

/** The algorithm X-Road picks for a key: RSA → rsa-sha512, EC → ecdsa-sha512 (default digest SHA-512). */
export function defaultSignatureAlgorithm(key: KeyObject, digest: DigestAlgorithm = 'SHA-512'): SignatureAlgorithm {
  const bits = digest.slice(-3)
  if (key.asymmetricKeyType === 'ec') return `ECDSA-SHA${bits}` as SignatureAlgorithm
  if (key.asymmetricKeyType === 'rsa-pss') return `RSA-PSS-SHA${bits}` as SignatureAlgorithm
  return `RSA-SHA${bits}` as SignatureAlgorithm
}

/** Converts a DER ECDSA-Sig-Value to raw r‖s of the given field size. */
export function ecdsaDerToRaw(der: Uint8Array, fieldBytes: number): Buffer {
  const parsed = asn1js.fromBER(new Uint8Array(der))
  const seq = parsed.result as asn1js.Sequence
  if (parsed.offset === -1 || !(seq instanceof asn1js.Sequence) || seq.valueBlock.value.length !== 2) {
    throw new SecurityServerError('cannot_create_signature', 'ECDSA signature is not a DER SEQUENCE of r and s')
  }
  const part = (n: asn1js.AsnType): Buffer => {
    let bytes = Buffer.from((n as asn1js.Integer).valueBlock.valueHexView)
    while (bytes.length > fieldBytes && bytes[0] === 0) bytes = bytes.subarray(1)
    return Buffer.concat([Buffer.alloc(fieldBytes - bytes.length), bytes])
  }
  return Buffer.concat([part(seq.valueBlock.value[0]!), part(seq.valueBlock.value[1]!)])
}

const OID_HASH: Record<string, string> = {
  '1.3.14.3.2.26': 'SHA-1', '2.16.840.1.101.3.4.2.1': 'SHA-256', '2.16.840.1.101.3.4.2.2': 'SHA-384', '2.16.840.1.101.3.4.2.3': 'SHA-512',
}

export function digestAlgorithmFromOid(oid: string): DigestAlgorithm | undefined {
  return OID_HASH[oid] as DigestAlgorithm | undefined
}

const SIG_OIDS: Record<string, { kind: 'rsa' | 'ecdsa' | 'pss'; hash?: string }> = {
  '1.2.840.113549.1.1.1': { kind: 'rsa' },
  '1.2.840.113549.1.1.5': { kind: 'rsa', hash: 'SHA-1' },
  '1.2.840.113549.1.1.11': { kind: 'rsa', hash: 'SHA-256' },
  '1.2.840.113549.1.1.12': { kind: 'rsa', hash: 'SHA-384' },
  '1.2.840.113549.1.1.13': { kind: 'rsa', hash: 'SHA-512' },
  '1.2.840.113549.1.1.10': { kind: 'pss' },
  '1.2.840.10045.4.1': { kind: 'ecdsa', hash: 'SHA-1' },
  '1.2.840.10045.4.3.2': { kind: 'ecdsa', hash: 'SHA-256' },
  '1.2.840.10045.4.3.3': { kind: 'ecdsa', hash: 'SHA-384' },
  '1.2.840.10045.4.3.4': { kind: 'ecdsa', hash: 'SHA-512' },
}

/**
 * Verifies an X.509/CMS signature (DER ECDSA) described by an AlgorithmIdentifier; `digestOid` gives the hash when
 * the identifier is bare rsaEncryption (CMS SignerInfo, RFC 5652 §5.3).
 */
export function verifyWithAlgorithm(
  algorithm: pkijs.AlgorithmIdentifier, data: Uint8Array, signature: Uint8Array, key: KeyObject, digestOid?: string,
): boolean {
  const known = SIG_OIDS[algorithm.algorithmId]
  if (known === undefined) return false
  try {
    if (known.kind === 'pss') {
      const params = new pkijs.RSASSAPSSParams({ schema: algorithm.algorithmParams })
      const hashName = OID_HASH[params.hashAlgorithm.algorithmId] ?? 'SHA-1'
      return cryptoVerify(NODE_HASH[hashName]!, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: params.saltLength }, signature)
    }
    const hashName = known.hash ?? (digestOid ? OID_HASH[digestOid] : undefined)
    if (hashName === undefined) return false
    if (known.kind === 'ecdsa') return cryptoVerify(NODE_HASH[hashName]!, data, { key, dsaEncoding: 'der' }, signature)
    return cryptoVerify(NODE_HASH[hashName]!, data, key, signature)
  } catch {
    return false
  }
}

export function hashWith(algorithm: DigestAlgorithm, data: Uint8Array): Buffer {
  return hashOf(NODE_HASH[algorithm]!, data)
}

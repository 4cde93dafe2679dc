import 'reflect-metadata'
import { createHash, createPrivateKey, createPublicKey, generateKeyPair, randomBytes, sign, type KeyObject } from 'node:crypto'
import { promisify } from 'node:util'
import { AsnConvert } from '@peculiar/asn1-schema'
import * as asnX509 from '@peculiar/asn1-x509'
import * as x509 from '@peculiar/x509'
import * as asn1js from 'asn1js'
import { SecurityServerError, clientError } from '../platform'

/**
 * The lab's certificate machinery: key generation, certificate building (RFC 5280 structures from
 * @peculiar/asn1-x509, signed through a `CaSigner` so a key on a PKCS#11 token can stand in for the file key)
 * and the small helpers (PEM, key identifiers, certificate hashes) the OCSP responder and TSA share.
 */
export type LabKeyAlgorithm = 'rsa-3072' | 'ec-p256'
export const LAB_KEY_ALGORITHMS: readonly LabKeyAlgorithm[] = ['rsa-3072', 'ec-p256']

export type SignatureAlgorithmName = 'rsa-sha256' | 'rsa-sha512' | 'ecdsa-sha256' | 'ecdsa-sha512'

/** OIDs of the signature algorithms (RFC 4055 §5, RFC 5758 §3.2). */
const SIGNATURE_OIDS: Record<SignatureAlgorithmName, string> = {
  'rsa-sha256': '1.2.840.113549.1.1.11',
  'rsa-sha512': '1.2.840.113549.1.1.13',
  'ecdsa-sha256': '1.2.840.10045.4.3.2',
  'ecdsa-sha512': '1.2.840.10045.4.3.4',
}

export const OID = {
  sha1: '1.3.14.3.2.26',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha512: '2.16.840.1.101.3.4.2.3',
  ekuServerAuth: '1.3.6.1.5.5.7.3.1',
  ekuClientAuth: '1.3.6.1.5.5.7.3.2',
  ekuTimeStamping: '1.3.6.1.5.5.7.3.8',
  ekuOcspSigning: '1.3.6.1.5.5.7.3.9',
  ocspNoCheck: '1.3.6.1.5.5.7.48.1.5',
} as const

/** A key that signs certificates for the lab CA: a PKCS#8 file key today, a token key after a ceremony. */
export interface CaSigner {
  /** DER of the CA certificate this key belongs to. */
  readonly certificate: Uint8Array
  readonly keyType: 'rsa' | 'ec'
  sign(tbsDer: Uint8Array, algorithm: SignatureAlgorithmName): Promise<Uint8Array>
}

/**
 * A CA key held outside the lab (a key on a PKCS#11 token, after an offline ceremony): its public key and a way to
 * sign, before any certificate for it exists — so the lab can self-sign its CA certificate with it.
 */
export interface ExternalCaKey {
  /** SubjectPublicKeyInfo DER. */
  readonly spki: Uint8Array
  readonly keyType: 'rsa' | 'ec'
  /** Returns the signature as X.509 carries it (PKCS#1 v1.5 for RSA, DER (r, s) for ECDSA). */
  sign(tbsDer: Uint8Array, algorithm: SignatureAlgorithmName): Promise<Uint8Array>
}

/** Key material held in a PKCS#8 PEM file. */
export class FileKeySigner implements CaSigner {
  readonly keyType: 'rsa' | 'ec'
  constructor(
    readonly certificate: Uint8Array,
    private readonly key: KeyObject,
  ) {
    this.keyType = keyTypeOf(key)
  }

  async sign(tbsDer: Uint8Array, algorithm: SignatureAlgorithmName): Promise<Uint8Array> {
    return signBytes(this.key, tbsDer, algorithm)
  }
}

export function keyTypeOf(key: KeyObject): 'rsa' | 'ec' {
  if (key.asymmetricKeyType === 'rsa') return 'rsa'
  if (key.asymmetricKeyType === 'ec') return 'ec'
  throw clientError('unsupported_sign_algorithm', `Unsupported key type ${key.asymmetricKeyType ?? 'unknown'} (RSA or EC only)`)
}

/** Signs with PKCS#1 v1.5 (RSA) or ECDSA with a DER-encoded (r, s) value as X.509 and CMS expect (RFC 5480 §2.2). */
export function signBytes(key: KeyObject, data: Uint8Array, algorithm: SignatureAlgorithmName): Uint8Array {
  const hash = algorithm.endsWith('512') ? 'sha512' : 'sha256'
  const expected = algorithm.startsWith('rsa') ? 'rsa' : 'ec'
  if (keyTypeOf(key) !== expected) {
    throw new SecurityServerError('unsupported_sign_algorithm', `Algorithm ${algorithm} does not match a ${keyTypeOf(key)} key`)
  }
  return new Uint8Array(sign(hash, data, expected === 'ec' ? { key, dsaEncoding: 'der' } : key))
}

export function signatureAlgorithmFor(keyType: 'rsa' | 'ec', hash: 'sha256' | 'sha512'): SignatureAlgorithmName {
  return `${keyType === 'rsa' ? 'rsa' : 'ecdsa'}-${hash}` as SignatureAlgorithmName
}

/** The AlgorithmIdentifier of a signature algorithm: NULL parameters for RSA, absent for ECDSA (RFC 5758 §3.2). */
export function signatureAlgorithmIdentifier(algorithm: SignatureAlgorithmName): asnX509.AlgorithmIdentifier {
  return new asnX509.AlgorithmIdentifier({
    algorithm: SIGNATURE_OIDS[algorithm],
    parameters: algorithm.startsWith('rsa') ? new asn1js.Null().toBER(false) : undefined,
  })
}

const generateKeyPairAsync = promisify(generateKeyPair)

export async function generateLabKey(algorithm: LabKeyAlgorithm): Promise<KeyObject> {
  const pair =
    algorithm === 'rsa-3072'
      ? await generateKeyPairAsync('rsa', { modulusLength: 3072, publicExponent: 0x10001 })
      : await generateKeyPairAsync('ec', { namedCurve: 'P-256' })
  return pair.privateKey
}

export function privateKeyToPem(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }).toString()
}

export function privateKeyFromPem(pem: string): KeyObject {
  return createPrivateKey({ key: pem, format: 'pem' })
}

export function spkiOf(key: KeyObject): Uint8Array {
  return new Uint8Array(createPublicKey(key).export({ type: 'spki', format: 'der' }))
}

/** RFC 5280 §4.2.1.2 method (1): SHA-1 of the subjectPublicKey BIT STRING value. */
export function keyIdentifier(spkiDer: Uint8Array): Uint8Array {
  const spki = AsnConvert.parse(spkiDer, asnX509.SubjectPublicKeyInfo)
  return new Uint8Array(createHash('sha1').update(new Uint8Array(spki.subjectPublicKey)).digest())
}

export function certificateToPem(der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')
  return `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`
}

/** Reads a certificate given as PEM text or DER bytes. */
export function certificateFromInput(input: Uint8Array | string): Uint8Array {
  const text = typeof input === 'string' ? input : Buffer.from(input).toString('latin1')
  const pem = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/.exec(text)
  const der = pem ? new Uint8Array(Buffer.from(pem[1] ?? '', 'base64')) : typeof input === 'string' ? undefined : input
  if (der === undefined || der.length === 0) throw clientError('incorrect_certificate', 'Input is not a PEM or DER certificate')
  try {
    AsnConvert.parse(der, asnX509.Certificate)
  } catch (cause) {
    throw clientError('incorrect_certificate', `Cannot parse certificate: ${(cause as Error).message}`, { cause })
  }
  return der
}

export function parseCertificate(der: Uint8Array): asnX509.Certificate {
  return AsnConvert.parse(der, asnX509.Certificate)
}

export function sha256(data: Uint8Array | string): Buffer {
  return createHash('sha256').update(data).digest()
}

export function sha512(data: Uint8Array | string): Buffer {
  return createHash('sha512').update(data).digest()
}

/** A positive random serial number of 16 bytes (RFC 5280 §4.1.2.2: at most 20 octets, positive). */
export function randomSerial(): Uint8Array {
  const bytes = randomBytes(16)
  bytes[0] = (bytes[0] ?? 0) & 0x7f | 0x01
  return new Uint8Array(bytes)
}

export function serialHex(serial: Uint8Array | ArrayBuffer): string {
  const bytes = Buffer.from(serial instanceof ArrayBuffer ? new Uint8Array(serial) : serial)
  let start = 0
  while (start < bytes.length - 1 && bytes[start] === 0) start++
  return bytes.subarray(start).toString('hex').toUpperCase()
}

/** Distinguished name from `C=LAB, O=GOV, CN=1234` form (RFC 4514 as @peculiar/x509 reads it), as DER. */
export function nameDer(name: string): Uint8Array {
  return new Uint8Array(new x509.Name(name).toArrayBuffer())
}

export interface CertificateRequest {
  subject: Uint8Array
  spki: Uint8Array
  notBefore: Date
  notAfter: Date
  extensions: x509.Extension[]
  serial?: Uint8Array
}

/**
 * Builds an X.509 v3 certificate (RFC 5280 §4.1) issued by `signer` (or self-signed when `selfSign` gives the
 * subject's own key), adding the subject and authority key identifiers.
 */
export async function buildCertificate(
  request: CertificateRequest,
  signer: CaSigner | { selfSign: KeyObject } | { selfSignExternal: ExternalCaKey },
): Promise<Uint8Array> {
  const keyType = 'selfSign' in signer ? keyTypeOf(signer.selfSign) : 'selfSignExternal' in signer ? signer.selfSignExternal.keyType : signer.keyType
  const algorithm = signatureAlgorithmFor(keyType, 'sha256')
  const issuerTbs = 'certificate' in signer ? parseCertificate(signer.certificate).tbsCertificate : undefined
  const issuerName = issuerTbs === undefined ? request.subject : new Uint8Array(AsnConvert.serialize(issuerTbs.subject))
  const issuerKeyId = keyIdentifier(issuerTbs === undefined ? request.spki : new Uint8Array(AsnConvert.serialize(issuerTbs.subjectPublicKeyInfo)))
  const extensions = [
    ...request.extensions,
    new x509.SubjectKeyIdentifierExtension(Buffer.from(keyIdentifier(request.spki)).toString('hex')),
    new x509.AuthorityKeyIdentifierExtension(Buffer.from(issuerKeyId).toString('hex')),
  ]
  const tbs = new asnX509.TBSCertificate({
    version: asnX509.Version.v3,
    serialNumber: toArrayBuffer(request.serial ?? randomSerial()) as ArrayBuffer,
    signature: signatureAlgorithmIdentifier(algorithm),
    issuer: AsnConvert.parse(issuerName, asnX509.Name),
    validity: new asnX509.Validity({ notBefore: request.notBefore, notAfter: request.notAfter }),
    subject: AsnConvert.parse(request.subject, asnX509.Name),
    subjectPublicKeyInfo: AsnConvert.parse(request.spki, asnX509.SubjectPublicKeyInfo),
    extensions: new asnX509.Extensions(extensions.map((e) => AsnConvert.parse(e.rawData, asnX509.Extension))),
  })
  const tbsDer = new Uint8Array(AsnConvert.serialize(tbs))
  const signature = 'selfSign' in signer
    ? signBytes(signer.selfSign, tbsDer, algorithm)
    : 'selfSignExternal' in signer ? await signer.selfSignExternal.sign(tbsDer, algorithm) : await signer.sign(tbsDer, algorithm)
  const cert = new asnX509.Certificate({
    tbsCertificate: tbs,
    signatureAlgorithm: signatureAlgorithmIdentifier(algorithm),
    signatureValue: toArrayBuffer(signature),
  })
  return new Uint8Array(AsnConvert.serialize(cert))
}

export function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer
}

/** id-pkix-ocsp-nocheck (RFC 6960 §4.2.2.2.1): extension value NULL. */
export function ocspNoCheckExtension(): x509.Extension {
  return new x509.Extension(OID.ocspNoCheck, false, new asn1js.Null().toBER(false))
}

export const KeyUsage = x509.KeyUsageFlags
export const { BasicConstraintsExtension, KeyUsagesExtension, ExtendedKeyUsageExtension } = x509

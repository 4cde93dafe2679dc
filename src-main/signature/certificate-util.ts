import { createPublicKey, type KeyObject } from 'node:crypto'
import * as asn1js from 'asn1js'
import * as pkijs from 'pkijs'
import { CERTIFICATE_LABELS, LruCache, SecurityServerError, bytesKey, derProblem, hashOf, pemBlocks, type PemBlock } from '../platform'

/**
 * X.509 helpers shared by the signature domain: parsing DER certificates with pkijs, reading subject
 * attributes, key usage and EKU, and rendering names the way Java's `X500Principal.getName()` does
 * (RFC 2253), which X-Road writes into XAdES `X509IssuerName` (xroad-protocols.md §4.6).
 */

export type DnAttributeType =
  | 'C' | 'O' | 'OU' | 'CN' | 'L' | 'ST' | 'serialNumber' | 'businessCategory' | 'organizationIdentifier'
  | 'DC' | 'UID' | 'emailAddress' | 'STREET'

export interface DnAttribute {
  type: DnAttributeType | string
  oid: string
  value: string
}

export const DN_OIDS: Record<DnAttributeType, string> = {
  C: '2.5.4.6',
  O: '2.5.4.10',
  OU: '2.5.4.11',
  CN: '2.5.4.3',
  L: '2.5.4.7',
  ST: '2.5.4.8',
  STREET: '2.5.4.9',
  serialNumber: '2.5.4.5',
  businessCategory: '2.5.4.15',
  organizationIdentifier: '2.5.4.97',
  DC: '0.9.2342.19200300.100.1.25',
  UID: '0.9.2342.19200300.100.1.1',
  emailAddress: '1.2.840.113549.1.9.1',
}

const TYPE_BY_OID = new Map<string, string>(Object.entries(DN_OIDS).map(([k, v]) => [v, k]))

/** RFC 2253 §2.3 keywords that Java's X500Principal.getName() emits; every other type is `OID=#hexDER`. */
const RFC2253_KEYWORDS = new Map<string, string>([
  ['2.5.4.3', 'CN'], ['2.5.4.7', 'L'], ['2.5.4.8', 'ST'], ['2.5.4.10', 'O'], ['2.5.4.11', 'OU'], ['2.5.4.6', 'C'],
  ['2.5.4.9', 'STREET'], ['0.9.2342.19200300.100.1.25', 'DC'], ['0.9.2342.19200300.100.1.1', 'UID'],
])

export function dnAttribute(type: DnAttributeType, value: string): DnAttribute {
  return { type, oid: DN_OIDS[type], value }
}

/** A parsed certificate with what the verifiers need. */
export interface ParsedCertificate {
  der: Buffer
  cert: pkijs.Certificate
  subject: DnAttribute[]
  issuer: DnAttribute[]
  /** Issuer name as Java `X500Principal.getName()` renders it (RFC 2253). */
  issuerRfc2253: string
  subjectRfc2253: string
  serialNumber: bigint
  notBefore: Date
  notAfter: Date
  publicKey: KeyObject
}

/** Parsed certificates by content: the same few certificates arrive with every message. */
const parsedCertificates = new LruCache<string, ParsedCertificate>(2048)

/**
 * Parsed certificates by their own `der` (the copy each one made of its input, which nobody may mutate): a certificate
 * handed back as `parsed.der` (e.g. to a certificate profile) is the same certificate, with no hash to compute.
 */
const byOwnDer = new WeakMap<Uint8Array, ParsedCertificate>()

/** Parses a DER certificate (memoized by content; callers must not mutate the result). */
export function parseCertificate(der: Uint8Array, what = 'certificate'): ParsedCertificate {
  const own = byOwnDer.get(der)
  if (own !== undefined) return own
  const key = bytesKey(der)
  const cached = parsedCertificates.get(key)
  if (cached !== undefined) return cached
  const parsed = parseCertificateUncached(der, what)
  parsedCertificates.set(key, parsed)
  byOwnDer.set(parsed.der, parsed)
  return parsed
}

/** X.509 from outside: at most 64 KiB and 20 levels (a certificate nests about 8) before pkijs sees it. */
export const CERTIFICATE_DER_LIMITS = { maxBytes: 64 * 1024, maxDepth: 20, maxElements: 10_000 }

function parseCertificateUncached(der: Uint8Array, what: string): ParsedCertificate {
  const bytes = Buffer.from(der)
  const shape = derProblem(bytes, CERTIFICATE_DER_LIMITS)
  if (shape !== undefined) throw new SecurityServerError('incorrect_certificate', `Cannot parse ${what}: ${shape}`)
  let cert: pkijs.Certificate
  try {
    cert = pkijs.Certificate.fromBER(bytes)
  } catch (cause) {
    throw new SecurityServerError('incorrect_certificate', `Cannot parse ${what}: ${(cause as Error).message}`, { cause })
  }
  let publicKey: KeyObject
  try {
    publicKey = createPublicKey({ key: Buffer.from(cert.subjectPublicKeyInfo.toSchema().toBER(false)), format: 'der', type: 'spki' })
  } catch (cause) {
    throw new SecurityServerError('incorrect_certificate', `Unsupported public key in ${what}`, { cause })
  }
  return {
    der: bytes,
    cert,
    subject: nameAttributes(cert.subject),
    issuer: nameAttributes(cert.issuer),
    issuerRfc2253: rfc2253(cert.issuer),
    subjectRfc2253: rfc2253(cert.subject),
    serialNumber: bytesToBigInt(new Uint8Array(cert.serialNumber.valueBlock.valueHexView)),
    notBefore: cert.notBefore.value,
    notAfter: cert.notAfter.value,
    publicKey,
  }
}

/**
 * Accepts DER, PEM text (also OpenSSL `TRUSTED CERTIFICATE`), or base64 of either (global conf `<cert>` holds
 * base64 of PEM text; xroad-protocols.md §5.3). Returns the DER of the certificate alone.
 */
export function certificateBytes(input: Uint8Array | string, depth = 0): Buffer {
  let text: string | undefined
  if (typeof input === 'string') text = input
  else if (input[0] !== 0x30) text = Buffer.from(input).toString('latin1')
  if (text === undefined) return firstTlv(Buffer.from(input))
  let pem: PemBlock | undefined
  try {
    pem = pemBlocks(text, { labels: CERTIFICATE_LABELS })[0]
  } catch (cause) {
    throw new SecurityServerError('incorrect_certificate', `Data is not a PEM certificate: ${(cause as Error).message}`, { cause })
  }
  if (pem) return firstTlv(pem.der)
  const decoded = Buffer.from(text.replace(/\s+/g, ''), 'base64')
  if (decoded[0] === 0x30) return firstTlv(decoded)
  if (depth > 0 || decoded.length === 0) throw new SecurityServerError('incorrect_certificate', 'Data is neither a DER nor a PEM certificate')
  return certificateBytes(decoded.toString('latin1'), depth + 1)
}

/** The first DER element (a TRUSTED CERTIFICATE carries auxiliary trust data after the certificate). */
function firstTlv(der: Buffer): Buffer {
  if (der.length < 2 || der[0] !== 0x30) return der
  const first = der[1]!
  if (first < 0x80) return der.subarray(0, 2 + first)
  const n = first & 0x7f
  let length = 0
  for (let i = 0; i < n; i++) length = length * 256 + (der[2 + i] ?? 0)
  return der.subarray(0, Math.min(der.length, 2 + n + length))
}

function bytesToBigInt(bytes: Uint8Array): bigint {
  let n = 0n
  for (const b of bytes) n = (n << 8n) | BigInt(b)
  return n
}

function stringValue(value: unknown): string {
  const block = (value as { valueBlock?: { value?: unknown } }).valueBlock
  if (block && typeof block.value === 'string') return block.value
  return ''
}

export function nameAttributes(name: pkijs.RelativeDistinguishedNames): DnAttribute[] {
  return name.typesAndValues.map((tv) => ({
    type: TYPE_BY_OID.get(tv.type) ?? tv.type,
    oid: tv.type,
    value: stringValue(tv.value),
  }))
}

/** The value of the first attribute with this OID (BouncyCastle `getRDNValue` takes the first). */
export function rdnValue(attributes: DnAttribute[], type: DnAttributeType): string | undefined {
  const found = attributes.find((a) => a.oid === DN_OIDS[type])
  return found === undefined || found.value === '' ? undefined : found.value
}

/** RFC 2253 rendering, most significant RDN last, as Java `X500Principal.getName()`. */
export function rfc2253(name: pkijs.RelativeDistinguishedNames): string {
  const schema = name.toSchema() as asn1js.Sequence
  const rdns: string[] = []
  for (const set of schema.valueBlock.value) {
    const parts: string[] = []
    for (const atv of (set as asn1js.Set).valueBlock.value) {
      const [oidNode, valueNode] = (atv as asn1js.Sequence).valueBlock.value as [asn1js.ObjectIdentifier, asn1js.AsnType]
      const oid = oidNode.valueBlock.toString()
      const keyword = RFC2253_KEYWORDS.get(oid)
      if (keyword !== undefined && isDirectoryString(valueNode)) parts.push(`${keyword}=${escapeRfc2253(stringValue(valueNode))}`)
      else parts.push(`${oid}=#${Buffer.from(valueNode.toBER(false)).toString('hex')}`)
    }
    rdns.push(parts.join('+'))
  }
  return rdns.reverse().join(',')
}

function isDirectoryString(node: asn1js.AsnType): boolean {
  return node instanceof asn1js.Utf8String || node instanceof asn1js.PrintableString || node instanceof asn1js.IA5String ||
    node instanceof asn1js.TeletexString || node instanceof asn1js.BmpString || node instanceof asn1js.UniversalString
}

function escapeRfc2253(value: string): string {
  let out = value.replace(/([,+"\\<>;])/g, '\\$1')
  if (out.startsWith('#') || out.startsWith(' ')) out = `\\${out}`
  if (out.endsWith(' ') && out.length > 1) out = `${out.slice(0, -1)}\\ `
  return out
}

function extension(cert: pkijs.Certificate, oid: string): pkijs.Extension | undefined {
  return cert.extensions?.find((e) => e.extnID === oid)
}

/** keyUsage bits by name (RFC 5280 §4.2.1.3), or undefined when the extension is absent. */
export function keyUsage(parsed: ParsedCertificate): Set<string> | undefined {
  const ext = extension(parsed.cert, '2.5.29.15')
  if (ext === undefined) return undefined
  const bits = ext.parsedValue as asn1js.BitString
  const view = new Uint8Array(bits.valueBlock.valueHexView)
  const names = ['digitalSignature', 'nonRepudiation', 'keyEncipherment', 'dataEncipherment', 'keyAgreement', 'keyCertSign', 'cRLSign', 'encipherOnly', 'decipherOnly']
  const out = new Set<string>()
  names.forEach((name, i) => {
    const byte = view[i >> 3] ?? 0
    if (byte & (0x80 >> (i & 7))) out.add(name)
  })
  return out
}

export function extendedKeyUsage(parsed: ParsedCertificate): string[] {
  const ext = extension(parsed.cert, '2.5.29.37')
  return ext === undefined ? [] : (ext.parsedValue as pkijs.ExtKeyUsage).keyPurposes
}

export function isCaCertificate(parsed: ParsedCertificate): boolean {
  const ext = extension(parsed.cert, '2.5.29.19')
  return ext !== undefined && (ext.parsedValue as pkijs.BasicConstraints).cA === true
}

const signingCertificates = new WeakMap<ParsedCertificate, boolean>()

/**
 * X-Road's `CertUtils.isSigningCert`: keyUsage present with nonRepudiation (xroad-protocols.md §4.7 step 3); once per
 * parsed certificate (asked for every message a peer signs with it).
 */
export function isSigningCertificate(parsed: ParsedCertificate): boolean {
  let signing = signingCertificates.get(parsed)
  if (signing === undefined) signingCertificates.set(parsed, (signing = keyUsage(parsed)?.has('nonRepudiation') === true))
  return signing
}

export function subjectKeyIdentifier(parsed: ParsedCertificate): Buffer {
  const ext = extension(parsed.cert, '2.5.29.14')
  if (ext !== undefined) return Buffer.from((ext.parsedValue as asn1js.OctetString).valueBlock.valueHexView)
  return hashOf('sha1', new Uint8Array(parsed.cert.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView))
}

/** DER bytes of the subject Name, for exact name comparison. */
const subjectNames = new WeakMap<ParsedCertificate, Buffer>()
const issuerNames = new WeakMap<ParsedCertificate, Buffer>()

/** DER of the subject name (computed once per parsed certificate). */
export function subjectNameDer(parsed: ParsedCertificate): Buffer {
  let der = subjectNames.get(parsed)
  if (der === undefined) {
    der = Buffer.from(parsed.cert.subject.toSchema().toBER(false))
    subjectNames.set(parsed, der)
  }
  return der
}

/** DER of the issuer name (computed once per parsed certificate). */
export function issuerNameDer(parsed: ParsedCertificate): Buffer {
  let der = issuerNames.get(parsed)
  if (der === undefined) {
    der = Buffer.from(parsed.cert.issuer.toSchema().toBER(false))
    issuerNames.set(parsed, der)
  }
  return der
}

/** SHA-1 of the certificate's issuer name and of its public key (an OCSP CertID's parts, RFC 6960 §4.1.1), once each. */
const certIdHashes = new WeakMap<ParsedCertificate, { issuerNameSha1?: Buffer; keySha1?: Buffer }>()

function certIdHashesOf(parsed: ParsedCertificate): { issuerNameSha1?: Buffer; keySha1?: Buffer } {
  let hashes = certIdHashes.get(parsed)
  if (hashes === undefined) certIdHashes.set(parsed, (hashes = {}))
  return hashes
}

/** SHA-1 of the DER issuer name of `parsed` (CertID `issuerNameHash` when `parsed` is the certificate asked about). */
export function issuerNameSha1(parsed: ParsedCertificate): Buffer {
  const hashes = certIdHashesOf(parsed)
  return (hashes.issuerNameSha1 ??= sha('sha1', issuerNameDer(parsed)))
}

/** SHA-1 of the subject public key bits of `parsed` (CertID `issuerKeyHash` for an issuer, ResponderID byKey). */
export function publicKeySha1(parsed: ParsedCertificate): Buffer {
  const hashes = certIdHashesOf(parsed)
  return (hashes.keySha1 ??= sha('sha1', new Uint8Array(parsed.cert.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView)))
}

export function sha(algorithm: 'sha1' | 'sha256' | 'sha512', data: Uint8Array): Buffer {
  return hashOf(algorithm, data)
}

/** Attribute values of each RDN of a Name, normalised (trimmed, collapsed whitespace, lower case). */
function normalisedRdns(name: pkijs.RelativeDistinguishedNames): string[] {
  const schema = name.toSchema() as asn1js.Sequence
  return schema.valueBlock.value.map((set) => (set as asn1js.Set).valueBlock.value.map((atv) => {
    const [oidNode, valueNode] = (atv as asn1js.Sequence).valueBlock.value as [asn1js.ObjectIdentifier, asn1js.AsnType]
    return `${oidNode.valueBlock.toString()}=${stringValue(valueNode).trim().replace(/\s+/g, ' ').toLowerCase()}`
  }).sort().join('+'))
}

/**
 * Name equality as BouncyCastle's `X500Name.equals` (which X-Road's OCSP responder lookup relies on): RDNs compared
 * with normalised string values, in order or in reverse order.
 */
export function namesEqual(a: pkijs.RelativeDistinguishedNames, b: pkijs.RelativeDistinguishedNames): boolean {
  const x = normalisedRdns(a)
  const y = normalisedRdns(b)
  if (x.length !== y.length) return false
  return x.every((v, i) => v === y[i]) || x.every((v, i) => v === y[y.length - 1 - i])
}

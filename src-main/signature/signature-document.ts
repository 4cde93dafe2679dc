import type { Document, Element } from '@xmldom/xmldom'
import { parseXml, SecurityServerError } from '../platform'
import { parseCertificate } from './certificate-util'
import {
  defaultSignatureAlgorithm, digestOfSignatureAlgorithm, ecdsaDerToRaw, SIGNATURE_URIS, type SignatureAlgorithm,
} from './signature-algorithms'
import type { ParsedCertificate } from './certificate-util'
import { c14nAttr, c14nText, canonicalizeLexical, LexicalSubsetError, readLexical, type LexElement } from './xml-lexical'
import {
  ASIC_NS, base64Of, C14N_URIS, canonicalize, digest, DIGEST_URIS, DS_NS, partDigest, XADES_NS, type DigestAlgorithm,
} from './xml-support'

/**
 * The X-Road 7.x signature document (`asic:XAdESSignatures` with one XAdES `ds:Signature`): building it exactly as
 * X-Road's `SignatureXmlBuilder` does and parsing it for verification (xroad-protocols.md §4.4, §4.6).
 */

export const MESSAGE_URI = '/message.xml'
export const SIG_HASH_CHAIN_RESULT_URI = '/sig-hashchainresult.xml'
export const SIG_HASH_CHAIN_URI = '/sig-hashchain.xml'
export const SIGNED_PROPERTIES_TYPE = 'http://uri.etsi.org/01903#SignedProperties'

/** Signature policy block of X-Road's profile (xroad-protocols.md §4.6). */
const POLICY_ID = 'urn:oid:1.3.6.1.4.1.3516.16.2'
const POLICY_DESCRIPTION = 'Profile for High Performance Digital Signatures (version 1.2)'
const POLICY_HASH = 'BuO0EDNfkxSVlUbxCzmQPzX1AUF1/xx9ytWHk3/6SAOePxQiniEfDYk+90QeYb3lWpV3Izhuz9fKaYyE+lTcXw=='
const POLICY_URI = 'https://repo.cyber.ee/dsig-profile-1.2.pdf'

export interface SignRequest {
  /** C14N SignedInfo digested with the signature algorithm's hash (what a PKCS#11 signer receives). */
  digest: Buffer
  /** The canonical SignedInfo bytes themselves (for software keys). */
  dataToSign: Buffer
  algorithm: SignatureAlgorithm
}

/** The signer's certificates and OCSP responses, for {@link signingMaterial} or one signature. */
export interface SignerCertificates {
  /** DER, or already parsed (a signer reusing one signing context parses its certificate once). */
  signingCert: Uint8Array | ParsedCertificate
  /** Intermediate CA certificates (DER), leaf's issuer first; they go to CertificateValues. */
  intermediates?: Uint8Array[]
  /** DER OCSP responses for the signing certificate and every intermediate. */
  ocspResponses?: Uint8Array[]
}

export type BuildSignatureOptions = BuildSignatureCommon & (SignerCertificates | { material: SigningMaterial })

interface BuildSignatureCommon {
  /** Direct signature: exactly one part, `/message.xml` with its raw bytes (xroad-protocols.md §4.4). */
  parts?: Array<{ uri: string; data: Uint8Array }>
  /** Batch signature: the exact hash-chain-result XML bytes (reference `/sig-hashchainresult.xml`). */
  hashChainResult?: Uint8Array | string
  signatureAlgorithm?: SignatureAlgorithm
  /** Reference digest method (X-Road default SHA-512; with `material`, the material's). */
  digestAlgorithm?: DigestAlgorithm
  signingTime?: Date
  /** Produces the signature value; ECDSA results may be raw r‖s (PKCS#11) or DER (`ecdsaEncoding: 'der'`). */
  sign: (request: SignRequest) => Promise<Uint8Array> | Uint8Array
  ecdsaEncoding?: 'raw' | 'der'
}

/**
 * Santuario line-wraps base64 at 76 characters with an escaped CR before each line feed: `&#13;` in the document,
 * `&#xD;` in its canonical form (Canonical XML 1.0 §2.3).
 */
function wrapBase64(bytes: Uint8Array, canonical: boolean): string {
  return wrapText((Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)).toString('base64'), canonical)
}

/** {@link wrapBase64} of base64 text already made (one text, both forms). */
function wrapText(text: string, canonical: boolean): string {
  if (text.length <= 76) return text
  const separator = canonical ? '&#xD;\n' : '&#13;\n'
  let out = text.slice(0, 76)
  for (let i = 76; i < text.length; i += 76) out += separator + text.slice(i, i + 76)
  return out
}

/** An element without content: `<a/>` in the document, `<a></a>` canonically (Canonical XML 1.0 §1.1). */
function emptyElement(name: string, attributes: string, canonical: boolean): string {
  return canonical ? `<${name}${attributes}></${name}>` : `<${name}${attributes}/>`
}

interface CertRefValues {
  digest: Buffer
  issuer: string
  serial: string
  uri?: string
}

/**
 * Digests of certificates by algorithm, per parsed certificate (which never changes, and is memoized by content): one
 * per signing certificate, for the XAdES SigningCertificate reference a signer writes and a verifier checks.
 */
const certDigests = new WeakMap<ParsedCertificate, Map<DigestAlgorithm, Buffer>>()

export function certDigest(cert: ParsedCertificate, digestAlgorithm: DigestAlgorithm): Buffer {
  let byAlgorithm = certDigests.get(cert)
  if (byAlgorithm === undefined) certDigests.set(cert, (byAlgorithm = new Map()))
  let value = byAlgorithm.get(digestAlgorithm)
  if (value === undefined) byAlgorithm.set(digestAlgorithm, (value = digest(digestAlgorithm, cert.der)))
  return value
}

function certRefValues(cert: ParsedCertificate, digestAlgorithm: DigestAlgorithm, uri?: string): CertRefValues {
  return { digest: certDigest(cert, digestAlgorithm), issuer: cert.issuerRfc2253, serial: cert.serialNumber.toString(10), ...(uri ? { uri } : {}) }
}

/** Values are escaped for Canonical XML (text: `&<>` CR; attributes: `&<"` TAB LF CR), which is also valid XML source. */
function certRef(ref: CertRefValues, digestAlgorithm: DigestAlgorithm, canonical: boolean): string {
  return `<xades:Cert${ref.uri ? ` URI="${c14nAttr(ref.uri)}"` : ''}><xades:CertDigest>` +
    emptyElement('ds:DigestMethod', ` Algorithm="${DIGEST_URIS[digestAlgorithm]}"`, canonical) +
    `<ds:DigestValue>${wrapBase64(ref.digest, canonical)}</ds:DigestValue></xades:CertDigest>` +
    `<xades:IssuerSerial><ds:X509IssuerName>${c14nText(ref.issuer)}</ds:X509IssuerName>` +
    `<ds:X509SerialNumber>${ref.serial}</ds:X509SerialNumber></xades:IssuerSerial></xades:Cert>`
}

function xadesTime(date: Date): string {
  return date.toISOString()
}

const ROOT_NAMESPACES = ` xmlns:asic="${ASIC_NS}" xmlns:ds="${DS_NS}" xmlns:xades="${XADES_NS}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"`
const ROOT_OPEN = `<asic:XAdESSignatures${ROOT_NAMESPACES}>`

interface SignedPropertiesValues {
  /** {@link xadesTime} of the signing time. */
  signingTime: string
  signingCert: CertRefValues
  mimeType: string
  digestAlgorithm: DigestAlgorithm
}

/**
 * `xades:SignedProperties` as written in the document, or (`canonical`) its inclusive C14N 1.0 form in the document:
 * the apex carries every namespace in scope — the root's four, the only declarations in the document — in prefix
 * order before its attributes (Canonical XML 1.0 §2.3, §4.7), no ancestor carries `xml:*` attributes.
 */
function signedPropertiesXml(v: SignedPropertiesValues, canonical: boolean): string {
  return `<xades:SignedProperties${canonical ? ROOT_NAMESPACES : ''} Id="signed-properties"><xades:SignedSignatureProperties>` +
    `<xades:SigningTime>${v.signingTime}</xades:SigningTime>` +
    `<xades:SigningCertificate>${certRef(v.signingCert, v.digestAlgorithm, canonical)}</xades:SigningCertificate>` +
    '<xades:SignaturePolicyIdentifier><xades:SignaturePolicyId><xades:SigPolicyId>' +
    `<xades:Identifier Qualifier="OIDAsURN">${POLICY_ID}</xades:Identifier><xades:Description>${POLICY_DESCRIPTION}</xades:Description></xades:SigPolicyId>` +
    `<xades:SigPolicyHash>${emptyElement('ds:DigestMethod', ` Algorithm="${DIGEST_URIS['SHA-512']}"`, canonical)}<ds:DigestValue>${POLICY_HASH}</ds:DigestValue></xades:SigPolicyHash>` +
    `<xades:SigPolicyQualifiers><xades:SigPolicyQualifier><xades:SPURI>${POLICY_URI}</xades:SPURI></xades:SigPolicyQualifier></xades:SigPolicyQualifiers>` +
    '</xades:SignaturePolicyId></xades:SignaturePolicyIdentifier></xades:SignedSignatureProperties>' +
    '<xades:SignedDataObjectProperties><xades:DataObjectFormat ObjectReference="#signature-reference-0">' +
    `<xades:MimeType>${c14nText(v.mimeType)}</xades:MimeType></xades:DataObjectFormat></xades:SignedDataObjectProperties></xades:SignedProperties>`
}

interface SignedInfoValues {
  algorithm: SignatureAlgorithm
  digestAlgorithm: DigestAlgorithm
  dataUri: string
  /** Base64 of the data digest and of the SignedProperties digest, unwrapped. */
  dataDigest: string
  propertiesDigest: string
}

/** `ds:SignedInfo` as written, or (`canonical`) its inclusive C14N 1.0 form (as {@link signedPropertiesXml}). */
function signedInfoXml(v: SignedInfoValues, canonical: boolean): string {
  const reference = (id: string, uri: string, value: string, type?: string): string =>
    `<ds:Reference Id="${id}"${type ? ` Type="${type}"` : ''} URI="${c14nAttr(uri)}">\n` +
    `${emptyElement('ds:DigestMethod', ` Algorithm="${DIGEST_URIS[v.digestAlgorithm]}"`, canonical)}\n` +
    `<ds:DigestValue>${wrapText(value, canonical)}</ds:DigestValue>\n</ds:Reference>`
  return `<ds:SignedInfo${canonical ? ROOT_NAMESPACES : ''}>\n` +
    `${emptyElement('ds:CanonicalizationMethod', ` Algorithm="${C14N_URIS.inclusive}"`, canonical)}\n` +
    `${emptyElement('ds:SignatureMethod', ` Algorithm="${SIGNATURE_URIS[v.algorithm]}"`, canonical)}\n` +
    `${reference('signature-reference-0', v.dataUri, v.dataDigest)}\n` +
    `${reference('signature-reference-1', '#signed-properties', v.propertiesDigest, SIGNED_PROPERTIES_TYPE)}\n</ds:SignedInfo>`
}

/** The whole signature document (`signatureValue`: its base64). */
function documentXml(info: SignedInfoValues, properties: SignedPropertiesValues, signatureValue: string, material: SigningMaterial): string {
  const object = `<ds:Object><xades:QualifyingProperties Target="#signature">${signedPropertiesXml(properties, false)}` +
    `<xades:UnsignedProperties><xades:UnsignedSignatureProperties>${material.unsignedProperties}</xades:UnsignedSignatureProperties></xades:UnsignedProperties>` +
    '</xades:QualifyingProperties></ds:Object>'
  return `<?xml version="1.0" encoding="UTF-8" standalone="no"?>${ROOT_OPEN}<ds:Signature Id="signature">\n${signedInfoXml(info, false)}\n` +
    `<ds:SignatureValue Id="signature-value">\n${signatureValue}\n</ds:SignatureValue>\n${material.keyInfo}${object}\n</ds:Signature></asic:XAdESSignatures>`
}

/**
 * The forms a signature needs, from its per-signature values (base64 unwrapped, the signing time as {@link xadesTime}):
 * the canonical SignedProperties, the canonical SignedInfo and the document.
 */
interface SignatureTemplate {
  canonicalProperties(signingTime: string): Buffer
  canonicalInfo(dataDigest: string, propertiesDigest: string): Buffer
  document(dataDigest: string, propertiesDigest: string, signatureValue: string, signingTime: string): Buffer
}

/** UTF-8 of `pieces[0] values[0] pieces[1] … pieces[n]` in one buffer of the exact size; the values are ASCII. */
function fill(pieces: readonly Buffer[], ...values: string[]): Buffer {
  let size = 0
  for (const piece of pieces) size += piece.length
  for (const value of values) size += value.length
  const out = Buffer.allocUnsafe(size)
  let at = pieces[0]!.copy(out, 0)
  for (let i = 0; i < values.length; i++) {
    at += out.write(values[i]!, at, 'latin1')
    at += pieces[i + 1]!.copy(out, at)
  }
  return out
}

const HOLE = '\u0000'
const templates = new WeakMap<SigningMaterial, Map<string, SignatureTemplate>>()

/**
 * The templates above with their per-signature values left out, kept as the fixed text between those values, made
 * once per signing material, signature algorithm, data reference and MIME type: rendered with a NUL in each value's place and
 * split there. A NUL is not XML (XML 1.0 §2.2), but a certificate's issuer name could hold one: then the pieces
 * would not line up, and each signature renders the templates with its values instead (the same text).
 */
function signatureTemplate(material: SigningMaterial, algorithm: SignatureAlgorithm, dataUri: string, mimeType: string): SignatureTemplate {
  let byKind = templates.get(material)
  if (byKind === undefined) templates.set(material, (byKind = new Map()))
  const key = `${algorithm} ${dataUri} ${mimeType}`
  let template = byKind.get(key)
  if (template === undefined) {
    const digestAlgorithm = material.digestAlgorithm
    const propertiesOf = (signingTime: string): SignedPropertiesValues => ({ signingTime, signingCert: material.signingCertRef, mimeType, digestAlgorithm })
    const infoOf = (dataDigest: string, propertiesDigest: string): SignedInfoValues => ({ algorithm, digestAlgorithm, dataUri, dataDigest, propertiesDigest })
    const properties = signedPropertiesXml(propertiesOf(HOLE), true).split(HOLE)
    const info = signedInfoXml(infoOf(HOLE, HOLE), true).split(HOLE)
    const doc = documentXml(infoOf(HOLE, HOLE), propertiesOf(HOLE), HOLE, material).split(HOLE)
    const bytes = (pieces: string[]): Buffer[] => pieces.map((piece) => Buffer.from(piece, 'utf8'))
    const [propertyPieces, infoPieces, docPieces] = [bytes(properties), bytes(info), bytes(doc)]
    template = properties.length === 2 && info.length === 3 && doc.length === 5
      ? {
          canonicalProperties: (time) => fill(propertyPieces, time),
          canonicalInfo: (data, props) => fill(infoPieces, wrapText(data, true), wrapText(props, true)),
          document: (data, props, value, time) => fill(docPieces, wrapText(data, false), wrapText(props, false), value, time),
        }
      : {
          canonicalProperties: (time) => Buffer.from(signedPropertiesXml(propertiesOf(time), true), 'utf8'),
          canonicalInfo: (data, props) => Buffer.from(signedInfoXml(infoOf(data, props), true), 'utf8'),
          document: (data, props, value, time) => Buffer.from(documentXml(infoOf(data, props), propertiesOf(time), value, material), 'utf8'),
        }
    byKind.set(key, template)
  }
  return template
}

/**
 * What a signature document holds that depends only on the signer's certificates, their OCSP responses and the digest
 * algorithm: the parsed signing certificate and its XAdES reference values, the unsigned properties (certificate
 * references and values of the intermediates, the OCSP responses) and KeyInfo. A signer builds it once per signing
 * context (a new certificate or OCSP response is a new context) instead of encoding them again for every signature.
 */
export interface SigningMaterial {
  readonly signing: ParsedCertificate
  readonly digestAlgorithm: DigestAlgorithm
  readonly signingCertRef: Readonly<CertRefValues>
  readonly unsignedProperties: string
  readonly keyInfo: string
}

export function signingMaterial(certificates: SignerCertificates, digestAlgorithm: DigestAlgorithm = 'SHA-512'): SigningMaterial {
  const signing = certificates.signingCert instanceof Uint8Array ? parseCertificate(certificates.signingCert, 'signing certificate') : certificates.signingCert
  const intermediates = certificates.intermediates ?? []
  const ocsp = certificates.ocspResponses ?? []
  const unsigned: string[] = []
  if (intermediates.length > 0) {
    unsigned.push('<xades:CompleteCertificateRefs Id="complete-certificate-refs"><xades:CertRefs>' +
      intermediates.map((c, i) => certRef(certRefValues(parseCertificate(c), digestAlgorithm, `#encapsulated-cert-${i + 1}`), digestAlgorithm, false)).join('') +
      '</xades:CertRefs></xades:CompleteCertificateRefs>')
    unsigned.push('<xades:CertificateValues>' +
      intermediates.map((c, i) => `<xades:EncapsulatedX509Certificate Id="encapsulated-cert-${i + 1}">${wrapBase64(c, false)}</xades:EncapsulatedX509Certificate>`).join('') +
      '</xades:CertificateValues>')
  }
  unsigned.push('<xades:RevocationValues><xades:OCSPValues>' +
    ocsp.map((r, i) => `<xades:EncapsulatedOCSPValue Id="ocsp-response-${i + 1}">${wrapBase64(r, false)}</xades:EncapsulatedOCSPValue>`).join('') +
    '</xades:OCSPValues></xades:RevocationValues>')
  return Object.freeze({
    signing,
    digestAlgorithm,
    signingCertRef: Object.freeze(certRefValues(signing, digestAlgorithm)),
    unsignedProperties: unsigned.join(''),
    keyInfo: `<ds:KeyInfo>\n<ds:X509Data>\n<ds:X509Certificate>\n${wrapBase64(signing.der, false)}\n</ds:X509Certificate>\n</ds:X509Data>\n</ds:KeyInfo>\n`,
  })
}

/**
 * Builds the signature document X-Road 7.x emits: inclusive C14N 1.0, one data reference (`/message.xml` or
 * `/sig-hashchainresult.xml`) and the SignedProperties reference, XAdES SigningTime, SigningCertificate, the
 * signature policy and DataObjectFormat, CertificateValues/CompleteCertificateRefs only with intermediates and
 * RevocationValues with the OCSP responses (xroad-protocols.md §4.6). The digested SignedProperties and the signed
 * SignedInfo are written from the same templates in their canonical form directly: no parse, no canonicalizer
 * (tests/signature/template-c14n.test.ts checks them against the DOM path byte for byte). Both are inclusive C14N 1.0:
 * X-Road's `SignatureXmlBuilder.createDataToBeSigned` adds both references without transforms (XMLDSig §4.3.3.2) and
 * names inclusive C14N as the CanonicalizationMethod.
 */
export async function buildSignature(options: BuildSignatureOptions): Promise<string> {
  return (await buildSignatureBytes(options)).toString('utf8')
}

/** {@link buildSignature} as the UTF-8 bytes of the document (what a signer hands on), written into one buffer. */
export async function buildSignatureBytes(options: BuildSignatureOptions): Promise<Buffer> {
  const material = 'material' in options ? options.material : signingMaterial(options, options.digestAlgorithm)
  const digestAlgorithm = material.digestAlgorithm
  if (options.digestAlgorithm !== undefined && options.digestAlgorithm !== digestAlgorithm) {
    throw new SecurityServerError('cannot_create_signature', `Signing material for ${digestAlgorithm} used for a ${options.digestAlgorithm} signature`)
  }
  let dataUri: string
  let dataDigest: Buffer
  let mimeType: string
  if (options.hashChainResult !== undefined) {
    if (options.parts !== undefined) throw new SecurityServerError('cannot_create_signature', 'Give either parts or a hash chain result, not both')
    dataUri = SIG_HASH_CHAIN_RESULT_URI
    dataDigest = digest(digestAlgorithm, typeof options.hashChainResult === 'string' ? Buffer.from(options.hashChainResult, 'utf8') : options.hashChainResult)
    mimeType = 'application/hash-chain-result'
  } else {
    const parts = options.parts ?? []
    if (parts.length !== 1 || parts[0]!.uri !== MESSAGE_URI) {
      throw new SecurityServerError('cannot_create_signature', 'A direct signature covers exactly one part, /message.xml; use a hash chain for more')
    }
    dataUri = MESSAGE_URI
    dataDigest = partDigest(digestAlgorithm, parts[0]!.data)
    mimeType = 'text/xml'
  }
  const signing = material.signing
  const algorithm = options.signatureAlgorithm ?? defaultSignatureAlgorithm(signing.publicKey, digestAlgorithm)
  const template = signatureTemplate(material, algorithm, dataUri, mimeType)
  const signingTime = xadesTime(options.signingTime ?? new Date())
  const dataText = dataDigest.toString('base64')
  const propertiesText = digest(digestAlgorithm, template.canonicalProperties(signingTime)).toString('base64')
  const dataToSign = template.canonicalInfo(dataText, propertiesText)
  const hash = digestOfSignatureAlgorithm(algorithm)
  let value: Buffer = Buffer.from(await options.sign({ digest: digest(hash, dataToSign), dataToSign, algorithm }))
  if (algorithm.startsWith('ECDSA') && options.ecdsaEncoding === 'der') {
    const curveBits = (signing.publicKey.asymmetricKeyDetails?.namedCurve ?? 'prime256v1')
    const fieldBytes = curveBits.includes('521') ? 66 : curveBits.includes('384') ? 48 : 32
    value = ecdsaDerToRaw(value, fieldBytes)
  }
  return template.document(dataText, propertiesText, value.toString('base64'), signingTime)
}

/** The element carrying `Id` (or `id`) = `id`, first in document order. */
export function findById(doc: Document | Element, id: string): Element | undefined {
  const root = (doc.nodeType === 9 ? (doc as Document).documentElement : doc) as Element
  const stack: Element[] = [root]
  while (stack.length > 0) {
    const el = stack.pop()!
    if (el.getAttribute('Id') === id || el.getAttribute('id') === id) return el
    for (let n = el.lastChild; n !== null; n = n.previousSibling) if (n.nodeType === 1) stack.push(n as Element)
  }
  return undefined
}

// ---- parsing ------------------------------------------------------------------------------------

export interface SignatureReference {
  id?: string
  uri: string
  type?: string
  transforms: string[]
  digestMethod: string
  digestValue: Buffer
}

export interface ParsedSignature {
  canonicalizationMethod: string
  /** InclusiveNamespaces PrefixList of an exclusive CanonicalizationMethod. */
  inclusivePrefixes?: string[]
  signatureMethod: string
  references: SignatureReference[]
  signatureValue: Buffer
  signingCertDer: Buffer
  signingTime?: Date
  /** XAdES SigningCertificate digest and method, when present. */
  signingCertificateDigest?: { method: string; value: Buffer }
  extraCerts: Buffer[]
  ocspResponses: Buffer[]
  /** DER of the embedded xades:SignatureTimeStamp token, when present. */
  timestampToken?: Buffer
  /** SignedInfo in the form its CanonicalizationMethod names (the bytes the SignatureValue signs). */
  canonicalSignedInfo(): Buffer
  /** The canonical form of the element a same-document reference (`#id`) points to; undefined when none does. */
  canonicalById(id: string, algorithmUri: string, inclusivePrefixes?: string[]): string | undefined
  /** Whether `#id` points to this signature's XAdES SignedProperties. */
  isSignedProperties(id: string): boolean
}

/** What the structure reader needs of an element; both the lexical tree and a DOM element provide it. */
interface SigNode {
  readonly namespaceURI: string | null
  readonly localName: string | null
  getAttribute(name: string): string | null
  readonly textContent: string | null
}

function malformed(message: string, cause?: unknown): SecurityServerError {
  return new SecurityServerError('malformed_signature', message, { clientFault: true, cause })
}

/**
 * Bounds of a signature document from outside. X-Road's signatures are a few kilobytes: one or two references (plus
 * SignedProperties), the signing certificate, an OCSP response per certificate of the path and an optional
 * time-stamp. The counts bound the per-item work of verification.
 */
export const SIGNATURE_LIMITS = {
  xml: { maxBytes: 4 * 1024 * 1024, maxDepth: 32, maxNodes: 20_000, maxAttributes: 64, maxNameLength: 256, maxTextLength: 1024 * 1024 },
  maxReferences: 64,
  maxCertificates: 32,
  maxOcspResponses: 32,
} as const

function atMost<T>(items: T[], limit: number, what: string): T[] {
  if (items.length > limit) throw malformed(`Signature has more than ${limit} ${what}`)
  return items
}

/** An element's child elements (`textAllowed`: ignoring text between them instead of refusing it). */
type ElementsOf<N> = (n: N, textAllowed?: boolean) => readonly N[]

// Module-level rather than closures made per signature: V8 keeps a function's optimised code only while a closure of
// it is alive, so closures made per call are compiled again after every major collection (xml-lexical.ts, TreeBuilder).
function childrenNamed<N extends SigNode>(elementsOf: ElementsOf<N>, parent: N, ns: string, name: string): N[] {
  const elements = elementsOf(parent)
  const found: N[] = []
  for (let i = 0; i < elements.length; i++) {
    const n = elements[i]!
    if (n.namespaceURI === ns && n.localName === name) found.push(n)
  }
  return found
}

/** The one child element `ns:name` of `parent`, if any; a second one is refused. */
function childNamed<N extends SigNode>(elementsOf: ElementsOf<N>, parent: N, ns: string, name: string): N | undefined {
  const elements = elementsOf(parent)
  let found: N | undefined
  for (let i = 0; i < elements.length; i++) {
    const n = elements[i]!
    if (n.namespaceURI !== ns || n.localName !== name) continue
    if (found !== undefined) throw malformed(`Signature element '${parent.localName}' has more than one '${name}'`)
    found = n
  }
  return found
}

function requiredChild<N extends SigNode>(elementsOf: ElementsOf<N>, parent: N, ns: string, name: string): N {
  const el = childNamed(elementsOf, parent, ns, name)
  if (el === undefined) throw malformed(`Signature element '${parent.localName}' lacks '${name}'`)
  return el
}

function base64Content(el: SigNode): Buffer {
  try {
    return base64Of(el.textContent)
  } catch (cause) {
    throw malformed(`Invalid base64 in '${el.localName}'`, cause)
  }
}

/**
 * Reads the fields of a signature from its element tree, with the schema-level checks X-Road's `Signature` makes
 * (`malformed_signature`). Elements the verifier reads exactly once (SignedInfo, SignatureValue, KeyInfo, the
 * certificate, SignedProperties, SigningTime…) must not be duplicated: a second copy would be a second meaning; the
 * containers the reader walks hold elements only (xmldsig-core-schema, XAdES schema), so text in them is refused.
 */
function readStructure<N extends SigNode>(root: N, elementsOf: ElementsOf<N>) {
  let signature: N | undefined
  if (root.namespaceURI === DS_NS && root.localName === 'Signature') signature = root
  else if (root.localName === 'XAdESSignatures') signature = childNamed(elementsOf, root, DS_NS, 'Signature')
  else throw malformed(`Unexpected signature document element '${root.localName}'`)
  if (signature === undefined) throw malformed('Signature document contains no ds:Signature')

  const signedInfo = requiredChild(elementsOf, signature, DS_NS, 'SignedInfo')
  // xmldsig-core-schema: SignedInfo = CanonicalizationMethod, SignatureMethod, Reference+.
  const [c14n, method, ...refs] = elementsOf(signedInfo)
  if (c14n?.namespaceURI !== DS_NS || c14n.localName !== 'CanonicalizationMethod') throw malformed('SignedInfo does not start with CanonicalizationMethod')
  if (method?.namespaceURI !== DS_NS || method.localName !== 'SignatureMethod') throw malformed('SignedInfo lacks SignatureMethod')
  if (refs.length === 0) throw malformed('SignedInfo has no references')
  atMost(refs, SIGNATURE_LIMITS.maxReferences, 'references')
  const references = refs.map((ref): SignatureReference => {
    if (ref.namespaceURI !== DS_NS || ref.localName !== 'Reference') throw malformed(`Unexpected element '${ref.localName}' in SignedInfo`)
    const transformsEl = childNamed(elementsOf, ref, DS_NS, 'Transforms')
    const digestMethod = requiredChild(elementsOf, ref, DS_NS, 'DigestMethod').getAttribute('Algorithm') ?? ''
    return {
      id: ref.getAttribute('Id') || undefined,
      uri: ref.getAttribute('URI') ?? '',
      type: ref.getAttribute('Type') || undefined,
      transforms: transformsEl ? childrenNamed(elementsOf, transformsEl, DS_NS, 'Transform').map((t) => t.getAttribute('Algorithm') ?? '') : [],
      digestMethod,
      digestValue: base64Content(requiredChild(elementsOf, ref, DS_NS, 'DigestValue')),
    }
  })
  const inclusiveList = childrenNamed(elementsOf, c14n, 'http://www.w3.org/2001/10/xml-exc-c14n#', 'InclusiveNamespaces')[0]
  const inclusivePrefixes = inclusiveList?.getAttribute('PrefixList')?.split(/\s+/).filter((p) => p !== '')
  const signatureValue = base64Content(requiredChild(elementsOf, signature, DS_NS, 'SignatureValue'))
  const keyInfo = childNamed(elementsOf, signature, DS_NS, 'KeyInfo')
  const x509 = keyInfo ? childNamed(elementsOf, keyInfo, DS_NS, 'X509Data') : undefined
  const certEl = x509 ? childNamed(elementsOf, x509, DS_NS, 'X509Certificate') : undefined
  if (certEl === undefined) throw malformed('Signature does not contain signing certificate')

  const objects = childrenNamed(elementsOf, signature, DS_NS, 'Object')
  const qualifying = objects.map((o) => childNamed(elementsOf, o, XADES_NS, 'QualifyingProperties')).filter((q) => q !== undefined)
  if (qualifying.length === 0) throw malformed('Signature does not contain an ObjectContainer with QualifyingProperties')
  if (qualifying.length > 1) throw malformed('Signature has more than one QualifyingProperties')
  const props = qualifying[0]!
  const signedProperties = childNamed(elementsOf, props, XADES_NS, 'SignedProperties')
  const ssp = signedProperties ? childNamed(elementsOf, signedProperties, XADES_NS, 'SignedSignatureProperties') : undefined
  const timeEl = ssp ? childNamed(elementsOf, ssp, XADES_NS, 'SigningTime') : undefined
  const signingTime = timeEl ? new Date((timeEl.textContent ?? '').trim()) : undefined
  if (signingTime !== undefined && Number.isNaN(signingTime.getTime())) throw malformed('Invalid SigningTime')
  const sc = ssp ? childNamed(elementsOf, ssp, XADES_NS, 'SigningCertificate') ?? childNamed(elementsOf, ssp, XADES_NS, 'SigningCertificateV2') : undefined
  const certDigest = sc ? childNamed(elementsOf, childNamed(elementsOf, sc, XADES_NS, 'Cert') ?? sc, XADES_NS, 'CertDigest') : undefined
  const signingCertificateDigest = certDigest
    ? { method: requiredChild(elementsOf, certDigest, DS_NS, 'DigestMethod').getAttribute('Algorithm') ?? '', value: base64Content(requiredChild(elementsOf, certDigest, DS_NS, 'DigestValue')) }
    : undefined

  const unsignedProps = childNamed(elementsOf, props, XADES_NS, 'UnsignedProperties')
  const usp = unsignedProps ? childNamed(elementsOf, unsignedProps, XADES_NS, 'UnsignedSignatureProperties') : undefined
  const extraCerts: Buffer[] = []
  const ocspResponses: Buffer[] = []
  let timestampToken: Buffer | undefined
  if (usp !== undefined) {
    const values = childNamed(elementsOf, usp, XADES_NS, 'CertificateValues')
    const refsEl = childNamed(elementsOf, usp, XADES_NS, 'CompleteCertificateRefs')
    if (values !== undefined) {
      const encapsulated = atMost(childrenNamed(elementsOf, values, XADES_NS, 'EncapsulatedX509Certificate'), SIGNATURE_LIMITS.maxCertificates, 'certificates')
      const byId = new Map<string, Buffer>()
      for (const e of encapsulated) {
        const id = e.getAttribute('Id')
        // X-Road `Signature.getExtraCertificates`: each encapsulated certificate needs an Id the refs point to.
        if (!id) throw malformed('Encapsulated certificate has no Id')
        byId.set(id, base64Content(e))
      }
      if (refsEl === undefined) throw malformed('CertificateValues without CompleteCertificateRefs')
      const certRefs = childNamed(elementsOf, refsEl, XADES_NS, 'CertRefs')
      for (const ref of certRefs ? atMost(childrenNamed(elementsOf, certRefs, XADES_NS, 'Cert'), SIGNATURE_LIMITS.maxCertificates, 'certificate references') : []) {
        const uri = ref.getAttribute('URI') ?? ''
        const der = byId.get(uri.replace(/^#/, ''))
        if (der === undefined) throw malformed(`Could not find certificate referenced by ${uri}`)
        const cd = requiredChild(elementsOf, ref, XADES_NS, 'CertDigest')
        const alg = requiredChild(elementsOf, cd, DS_NS, 'DigestMethod').getAttribute('Algorithm') ?? ''
        const algorithm = (Object.entries(DIGEST_URIS) as Array<[DigestAlgorithm, string]>).find(([, u]) => u === alg)?.[0]
        if (algorithm === undefined) throw malformed(`Unsupported certificate digest method '${alg}'`)
        if (!digest(algorithm, der).equals(base64Content(requiredChild(elementsOf, cd, DS_NS, 'DigestValue')))) {
          throw malformed(`Digest of certificate ${uri} does not match the certificate reference`)
        }
        extraCerts.push(der)
      }
    }
    const revocation = childNamed(elementsOf, usp, XADES_NS, 'RevocationValues')
    const ocspValues = revocation ? childNamed(elementsOf, revocation, XADES_NS, 'OCSPValues') : undefined
    if (ocspValues !== undefined) {
      for (const v of atMost(childrenNamed(elementsOf, ocspValues, XADES_NS, 'EncapsulatedOCSPValue'), SIGNATURE_LIMITS.maxOcspResponses, 'OCSP responses')) ocspResponses.push(base64Content(v))
    }
    // X-Road `Signature.getSignatureTimestamp`: the EncapsulatedTimeStamp, or (older servers) the base64 text of
    // SignatureTimeStamp itself.
    const ts = childNamed(elementsOf, usp, XADES_NS, 'SignatureTimeStamp')
    const encTs = ts ? elementsOf(ts, true).find((n) => n.namespaceURI === XADES_NS && n.localName === 'EncapsulatedTimeStamp') : undefined
    if (encTs !== undefined) timestampToken = base64Content(encTs)
    else if (ts !== undefined) timestampToken = base64Content(ts)
  }
  return {
    signedInfo, signedProperties,
    fields: {
      canonicalizationMethod: c14n.getAttribute('Algorithm') ?? '',
      ...(inclusivePrefixes === undefined ? {} : { inclusivePrefixes }),
      signatureMethod: method.getAttribute('Algorithm') ?? '',
      references, signatureValue, signingCertDer: base64Content(certEl), signingTime, signingCertificateDigest,
      extraCerts, ocspResponses, timestampToken,
    },
  }
}

export interface ParseSignatureOptions {
  /**
   * Read a signature outside the lexical reader's subset (comments, processing instructions, CDATA) through the DOM
   * reader instead of refusing it: only for ASiC containers, which may come from any producer. The message path
   * never sets it.
   */
  genericXml?: boolean
}

/**
 * Parses a signature document (`asic:XAdESSignatures` or a bare `ds:Signature`, as X-Road 8 writes in ASiC) with the
 * strict lexical reader (`xml-lexical.ts`): structure and schema-level checks, input outside the reader's subset
 * and duplicated Ids give `malformed_signature`; XML that is not well-formed gives `invalid_xml`. O(n) in the
 * document's length; size, depth, node and attribute counts bounded by {@link SIGNATURE_LIMITS}.
 */
export function parseSignature(xml: Uint8Array | string, options: ParseSignatureOptions = {}): ParsedSignature {
  let doc
  try {
    doc = readLexical(xml, SIGNATURE_LIMITS.xml, 'malformed_signature')
  } catch (error) {
    if (options.genericXml === true && error instanceof LexicalSubsetError) return parseSignatureDom(xml)
    throw error
  }
  if (doc.duplicateIds.length > 0) throw malformed(`Signature document has more than one element with Id '${doc.duplicateIds[0]!.slice(0, 100)}'`)
  const { signedInfo, signedProperties, fields } = readStructure(doc.root, lexicalElements)
  return new LexicalSignature(fields, signedInfo, signedProperties, doc.ids)
}

function lexicalElements(n: LexElement, textAllowed?: boolean): readonly LexElement[] {
  const elements = n.childElements()
  if (elements !== undefined) return elements
  if (textAllowed === true) return n.elements()
  throw malformed(`Unexpected text in signature element '${n.localName}'`)
}

type SignatureFields = Omit<ParsedSignature, 'canonicalSignedInfo' | 'canonicalById' | 'isSignedProperties'>

/** A signature read by the lexical reader: its fields and its tree's canonical forms. */
class LexicalSignature implements ParsedSignature {
  readonly canonicalizationMethod: string
  readonly inclusivePrefixes?: string[]
  readonly signatureMethod: string
  readonly references: SignatureReference[]
  readonly signatureValue: Buffer
  readonly signingCertDer: Buffer
  readonly signingTime?: Date
  readonly signingCertificateDigest?: { method: string; value: Buffer }
  readonly extraCerts: Buffer[]
  readonly ocspResponses: Buffer[]
  readonly timestampToken?: Buffer

  constructor(fields: SignatureFields, private readonly signedInfo: LexElement, private readonly signedProperties: LexElement | undefined, private readonly ids: ReadonlyMap<string, LexElement>) {
    this.canonicalizationMethod = fields.canonicalizationMethod
    if (fields.inclusivePrefixes !== undefined) this.inclusivePrefixes = fields.inclusivePrefixes
    this.signatureMethod = fields.signatureMethod
    this.references = fields.references
    this.signatureValue = fields.signatureValue
    this.signingCertDer = fields.signingCertDer
    this.signingTime = fields.signingTime
    this.signingCertificateDigest = fields.signingCertificateDigest
    this.extraCerts = fields.extraCerts
    this.ocspResponses = fields.ocspResponses
    this.timestampToken = fields.timestampToken
  }

  canonicalSignedInfo(): Buffer {
    return Buffer.from(canonicalizeLexical(this.signedInfo, this.canonicalizationMethod, this.inclusivePrefixes), 'utf8')
  }

  canonicalById(id: string, algorithmUri: string, inclusivePrefixes?: string[]): string | undefined {
    const target = this.ids.get(id)
    return target === undefined ? undefined : canonicalizeLexical(target, algorithmUri, inclusivePrefixes)
  }

  isSignedProperties(id: string): boolean {
    return this.signedProperties !== undefined && this.ids.get(id) === this.signedProperties
  }
}

function domElements(parent: Element, textAllowed?: boolean): Element[] {
  const out: Element[] = []
  for (let n = parent.firstChild; n !== null; n = n.nextSibling) {
    if (n.nodeType === 1) out.push(n as Element)
    else if (textAllowed !== true && (n.nodeType === 3 || n.nodeType === 4) && (n.nodeValue ?? '').trim() !== '') {
      throw malformed(`Unexpected text in signature element '${parent.localName}'`)
    }
  }
  return out
}

/**
 * The DOM reader: the generic XML parser and canonicalizer (xml-crypto). Kept for ASiC containers outside the
 * lexical subset ({@link ParseSignatureOptions.genericXml}) and as the cross-check of the lexical reader and the
 * templates in tests.
 */
export function parseSignatureDom(xml: Uint8Array | string): ParsedSignature {
  const document = parseXml(xml, SIGNATURE_LIMITS.xml)
  const { signedInfo, signedProperties, fields } = readStructure(document.documentElement as Element, domElements)
  return {
    ...fields,
    canonicalSignedInfo: () => Buffer.from(canonicalize(signedInfo, fields.canonicalizationMethod, fields.inclusivePrefixes), 'utf8'),
    canonicalById: (id, algorithmUri, prefixes) => {
      const target = findById(document, id)
      return target === undefined ? undefined : canonicalize(target, algorithmUri, prefixes)
    },
    isSignedProperties: (id) => signedProperties !== undefined && findById(document, id) === signedProperties,
  }
}

/**
 * Inserts a time-stamp token as `xades:SignatureTimeStamp/xades:EncapsulatedTimeStamp`, the first child of
 * `UnsignedSignatureProperties` (X-Road message log, single time-stamp; xroad-protocols.md §6.2). Returns the new XML.
 */
export function embedSignatureTimestamp(signatureXml: string, tokenDer: Uint8Array): string {
  const marker = '<xades:UnsignedSignatureProperties>'
  const at = signatureXml.indexOf(marker)
  if (at < 0) throw malformed('Signature has no xades:UnsignedSignatureProperties to hold the time-stamp')
  if (signatureXml.includes('SignatureTimeStamp')) throw malformed('Signature already holds a time-stamp')
  const stamp = '<xades:SignatureTimeStamp><xades:EncapsulatedTimeStamp>' +
    `${Buffer.from(tokenDer).toString('base64')}</xades:EncapsulatedTimeStamp></xades:SignatureTimeStamp>`
  const end = at + marker.length
  return signatureXml.slice(0, end) + stamp + signatureXml.slice(end)
}

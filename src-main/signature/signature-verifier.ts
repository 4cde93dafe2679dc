import { memberEquals, type ClientId, type MemberId } from '@shared/domain/identifiers'
import { parseXml, SecurityServerError } from '../platform'
import { buildCertPath, revalidatePathAt, validateCertPath, verifyPathOcsp, type CertPath } from './cert-chain-verifier'
import { certificateProfileFor } from './certificate-profiles'
import { isSigningCertificate, parseCertificate, type ParsedCertificate } from './certificate-util'
import { verifyHashChain, type HashChainInputValue, type HashChainVerificationResult, type ParsedHashChainResult } from './hash-chain'
import type { OcspInfo } from './ocsp-verifier'
import { signatureAlgorithmFromUri, verifyXmlSignatureValue } from './signature-algorithms'
import {
  certDigest, MESSAGE_URI, parseSignature, SIG_HASH_CHAIN_RESULT_URI, SIG_HASH_CHAIN_URI, SIGNED_PROPERTIES_TYPE,
  type ParsedSignature, type SignatureReference,
} from './signature-document'
import type { SignerPathCache } from './signer-path-cache'
import type { VerificationTrust } from './verification-trust'
import { C14N_URIS, canonicalize, digest, digestAlgorithmFromUri, isC14nUri, partDigest, type DigestAlgorithm } from './xml-support'

/**
 * Message signature verification with X-Road's `SignatureVerifier` order and error codes (xroad-protocols.md §4.7):
 * signing certificate, hash chain, signer name through the approved CA's certificate profile, references and
 * SignatureValue, then the certificate path at `atTime` and OCSP for every non-root certificate.
 */

/** A signed part: its bytes, or a precomputed digest (X-Road resolves attachments as digests). */
export type SignedPart = Uint8Array | { digest: Uint8Array; algorithm?: DigestAlgorithm }

export interface VerifySignatureOptions {
  /** Parts by URI (`/message.xml`, `/attachment1`…). */
  parts: Record<string, SignedPart>
  /** The hash-chain-result bytes when the signature references `/sig-hashchainresult.xml`. */
  hashChainResult?: Uint8Array | string
  /** The message's hash chain (`/sig-hashchain.xml`). */
  hashChain?: Uint8Array | string
  /** Resolves further URIs a hash chain references (other chain files, data), e.g. ASiC entries. */
  resolve?: (uri: string) => Uint8Array | undefined
  /**
   * X-Road `HashChainReferenceResolver.shouldResolve` for DataRefs that are not parts: false takes the chain's digest
   * unchecked and reports the URI in `hashChain.unresolved` (ASiC containers without the body). Absent: such a
   * reference must resolve, else `invalid_reference` (X-Road `SignatureVerifier` on the transport).
   */
  shouldResolve?: (uri: string) => boolean
  /** The member that must have signed (request: client; response: service provider). */
  expectedSigner: ClientId | MemberId
  trust: VerificationTrust
  /** Time for certificate validity and OCSP freshness (now for transport, time-stamp genTime for evidence). */
  atTime: Date
  /** ASiC containers only: a signature outside the lexical reader's subset is read through the DOM (see `parseSignature`). */
  genericXml?: boolean
}

export interface SignatureVerificationResult {
  signer: MemberId
  signingCert: ParsedCertificate
  /** Leaf first, approved top CA last. */
  certPath: ParsedCertificate[]
  caName?: string
  ocsp: OcspInfo[]
  /** The OCSP response for the signing certificate. */
  signingOcsp: OcspInfo
  signingTime?: Date
  signatureValue: Buffer
  timestampToken?: Buffer
  references: string[]
  hashChain?: HashChainVerificationResult
}

function malformed(message: string, cause?: unknown): SecurityServerError {
  return new SecurityServerError('malformed_signature', message, { clientFault: true, cause })
}

function invalidValue(message: string): SecurityServerError {
  return new SecurityServerError('invalid_signature_value', message, { clientFault: true })
}

/** The bytes of `value`: a string's UTF-8, or a view of the caller's bytes (read here and never kept). */
function toBytes(value: Uint8Array | string): Buffer {
  return typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value.buffer, value.byteOffset, value.byteLength)
}

/** Applies a reference's transforms to external data (only C14N variants are meaningful for octets). */
function transformed(data: Uint8Array, transforms: string[]): Uint8Array | string {
  let current: Uint8Array | string = data
  for (const t of transforms) {
    if (!isC14nUri(t)) throw malformed(`Unsupported transform '${t}' on an external reference`)
    current = canonicalize(parseXml(current), t)
  }
  return current
}

function verifyReference(ref: SignatureReference, parsed: ParsedSignature, options: VerifySignatureOptions): void {
  const algorithm = digestAlgorithmFromUri(ref.digestMethod)
  let calculated: Buffer
  if (ref.uri.startsWith('#')) {
    const transforms = ref.transforms
    for (let i = 0; i < transforms.length; i++) {
      if (!isC14nUri(transforms[i]!)) throw malformed(`Unsupported transform on reference ${ref.uri}`)
    }
    // XMLDSig §4.3.3.2: a same-document node-set without transforms is serialized with inclusive C14N 1.0.
    const canonical = parsed.canonicalById(ref.uri.slice(1), transforms.length === 0 ? C14N_URIS.inclusive : transforms[transforms.length - 1]!)
    if (canonical === undefined) throw malformed(`Cannot resolve reference ${ref.uri}`)
    calculated = digest(algorithm, canonical)
  } else if (ref.uri === SIG_HASH_CHAIN_RESULT_URI) {
    if (options.hashChainResult === undefined) throw malformed('Signature references the hash chain result, but none was given')
    calculated = digest(algorithm, toBytes(options.hashChainResult))
  } else {
    const part = options.parts[ref.uri]
    if (part === undefined) throw malformed(`Cannot resolve reference ${ref.uri}`)
    if (part instanceof Uint8Array) calculated = ref.transforms.length === 0 ? partDigest(algorithm, part) : digest(algorithm, transformed(part, ref.transforms))
    else {
      if ((part.algorithm ?? 'SHA-512') !== algorithm) throw malformed(`Part ${ref.uri} was digested with another algorithm than its reference`)
      calculated = Buffer.from(part.digest)
    }
  }
  // Santuario reports a reference mismatch as an invalid signature (X-Road X_INVALID_SIGNATURE_VALUE).
  if (!calculated.equals(ref.digestValue)) throw invalidValue(`Signature is not valid: digest of reference ${ref.uri} does not match`)
}

/**
 * Verifies a message signature; throws a coded SecurityServerError on the first problem. With `paths`, what a
 * signature verified before established about the same signer certificate, extra certificates and OCSP responses under
 * the same trust is taken from it, and only what depends on `atTime` is checked again (see {@link SignerPathCache}).
 */
export function verifySignature(signatureXml: Uint8Array | string, options: VerifySignatureOptions, paths?: SignerPathCache): SignatureVerificationResult {
  const parsed = parseSignature(signatureXml, options.genericXml === true ? { genericXml: true } : {})
  const known = paths?.lookup(parsed.signingCertDer, parsed.extraCerts, parsed.ocspResponses, options.trust)
  const signingCert = known !== undefined ? known.signingCert : parseCertificate(parsed.signingCertDer, 'signing certificate')
  if (parsed.signingCertificateDigest !== undefined) {
    const alg = digestAlgorithmFromUri(parsed.signingCertificateDigest.method)
    if (!certDigest(signingCert, alg).equals(parsed.signingCertificateDigest.value)) {
      throw malformed('XAdES SigningCertificate digest does not match the signing certificate')
    }
  }
  const uris = parsed.references.map((r) => r.uri)
  // X-Road `verifyRequiredReferencesExist`: the message or the hash chain result must be signed.
  if (!uris.includes(MESSAGE_URI) && !uris.includes(SIG_HASH_CHAIN_RESULT_URI)) {
    throw malformed(`Signature does not reference '${MESSAGE_URI}' or '${SIG_HASH_CHAIN_RESULT_URI}'`)
  }
  const propsRef = parsed.references.find((r) => r.type === SIGNED_PROPERTIES_TYPE)
  if (propsRef === undefined || !propsRef.uri.startsWith('#') || !parsed.isSignedProperties(propsRef.uri.slice(1))) {
    throw malformed('Signature does not sign its XAdES SignedProperties')
  }

  // §4.7 step 2: the hash chain, when the signature covers a hash chain result.
  let hashChain: HashChainVerificationResult | undefined
  if (uris.includes(SIG_HASH_CHAIN_RESULT_URI)) {
    if (options.hashChainResult === undefined || options.hashChain === undefined) {
      throw malformed('Signature references a hash chain result, but the hash chain is missing')
    }
    hashChain = verifyMessageHashChain(options.hashChain, options.hashChainResult, options)
  } else {
    // Without a hash chain every part must be covered by a reference of its own (X-Road 8 form, §4.4).
    const uncovered = Object.keys(options.parts).filter((uri) => !uris.includes(uri))
    if (uncovered.length > 0) throw malformed(`Signature does not cover part(s) ${uncovered.join(', ')}`)
  }

  // §4.7 step 3 (X-Road `SignatureVerifier.getSigningCertificate`, after the hash chain): the signing certificate
  // needs keyUsage nonRepudiation (`CertUtils.isSigningCert`), else `malformed_signature`.
  if (!isSigningCertificate(signingCert)) {
    throw malformed(`Certificate ${signingCert.subjectRfc2253} is not a signing certificate`)
  }

  // §4.7 step 4: signer name via the approved CA's certificate profile.
  let extraCerts: ParsedCertificate[] | undefined
  let path: CertPath
  let signer: MemberId
  if (known !== undefined) {
    path = known.path
    signer = known.signer
  } else {
    extraCerts = parsed.extraCerts.map((d) => parseCertificate(d, 'extra certificate'))
    path = buildCertPath(signingCert, extraCerts, options.trust)
    signer = certificateProfileFor(path.ca.certificateProfileInfo).memberIdFromSigningCert(signingCert.der, options.trust.instance)
  }
  if (!memberEquals(signer, options.expectedSigner)) {
    throw new SecurityServerError('incorrect_certificate',
      `Name in certificate (${signer.xRoadInstance}/${signer.memberClass}/${signer.memberCode}) does not match name in message ` +
      `(${options.expectedSigner.xRoadInstance}/${options.expectedSigner.memberClass}/${options.expectedSigner.memberCode})`, { clientFault: true })
  }

  // §4.7 step 5: references, then the SignatureValue over the canonical SignedInfo.
  for (const ref of parsed.references) verifyReference(ref, parsed, options)
  const algorithm = signatureAlgorithmFromUri(parsed.signatureMethod)
  if (!isC14nUri(parsed.canonicalizationMethod)) throw malformed(`Unsupported canonicalization method '${parsed.canonicalizationMethod}'`)
  const signedInfo = parsed.canonicalSignedInfo()
  if (!verifyXmlSignatureValue(algorithm, signedInfo, parsed.signatureValue, signingCert.publicKey)) {
    throw invalidValue('Signature is not valid')
  }

  // §4.7 steps 7–8: certificate path at atTime and OCSP for every certificate except the anchor.
  if (parsed.ocspResponses.length === 0) throw malformed('Signature does not contain any OCSP responses')
  let ocsp: OcspInfo[]
  if (known !== undefined) {
    // What does not depend on time passed with the entry; the same checks of validity and freshness as below.
    revalidatePathAt(known.path, known.ocsp, options.trust, options.atTime)
    ocsp = known.ocsp
  } else {
    validateCertPath(path, options.atTime)
    ocsp = verifyPathOcsp(path, parsed.ocspResponses, options.trust, options.atTime)
    paths?.remember({ trust: options.trust, signingCert, extraCerts: extraCerts!, path, signer, ocsp }, parsed.ocspResponses)
  }
  return {
    signer,
    signingCert,
    certPath: path.certs,
    caName: path.ca.name,
    ocsp,
    signingOcsp: ocsp[0]!,
    signingTime: parsed.signingTime,
    signatureValue: parsed.signatureValue,
    timestampToken: parsed.timestampToken,
    references: uris,
    hashChain,
  }
}

/**
 * §4.7 step 2 for one message: its parts are the inputs of the hash chain that ends in the signed hash-chain result
 * (a broken chain is `malformed_signature.*`, as X-Road's verifier reports it).
 */
export function verifyMessageHashChain(
  hashChainBytes: Uint8Array | string,
  hashChainResult: Uint8Array | string | ParsedHashChainResult,
  options: Pick<VerifySignatureOptions, 'parts' | 'resolve' | 'shouldResolve'>,
): HashChainVerificationResult {
  const chainBytes = typeof hashChainBytes === 'string' ? Buffer.from(hashChainBytes, 'utf8') : hashChainBytes
  const inputs: Record<string, HashChainInputValue> = {}
  const parts = options.parts
  for (const uri in parts) {
    if (!Object.prototype.hasOwnProperty.call(parts, uri)) continue
    const part = parts[uri]!
    inputs[uri] = part instanceof Uint8Array ? { data: part } : { digest: part.digest, algorithm: part.algorithm ?? 'SHA-512' }
  }
  try {
    return verifyHashChain(typeof hashChainResult === 'string' ? Buffer.from(hashChainResult, 'utf8') : hashChainResult, {
      inputs,
      resolve: (uri) => (uri === SIG_HASH_CHAIN_URI ? chainBytes : options.resolve?.(uri)),
      shouldResolve: options.shouldResolve,
    })
  } catch (error) {
    if (error instanceof SecurityServerError) throw error.withPrefix('malformed_signature')
    throw error
  }
}

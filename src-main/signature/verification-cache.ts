import { memberEquals } from '@shared/domain/identifiers'
import { LruCache, SecurityServerError } from '../platform'
import { revalidatePathAt, type CertPath } from './cert-chain-verifier'
import { parseHashChainResult, type ParsedHashChainResult } from './hash-chain'
import { SIG_HASH_CHAIN_RESULT_URI } from './signature-document'
import { verifyMessageHashChain, verifySignature, type SignatureVerificationResult, type VerifySignatureOptions } from './signature-verifier'
import { SignerPathCache, type SignerPathCacheStats } from './signer-path-cache'
import type { VerificationTrust } from './verification-trust'

/**
 * Verification of batch signatures shared by several messages (issue 15 §4; xroad-protocols.md §4.5, §4.7): a peer's
 * batch signer gives every message of a batch the same signature document over the same hash-chain result, each
 * message with its own hash chain. The expensive part of §4.7 — parsing the document, its references, the
 * SignatureValue and the certificate path — is done once per batch; every message still verifies its own hash chain
 * against the verified result, the expected signer, and the certificate validity and OCSP freshness at its own time
 * (what of the path and its OCSP responses does not depend on time was verified with the entry).
 *
 * An entry is found by a fingerprint of the signature document and of the hash-chain result the signature covers, and
 * used only for the exact bytes of both (SignatureValue, signer certificate, SignedInfo and everything else the
 * document holds; the entry keeps its own copies and compares them), under the verification trust it belongs to (a
 * new global configuration starts afresh). Only a signature that verified is remembered, and only one whose sole
 * data reference is the hash-chain result, so nothing a message brings by itself is taken from the cache.
 *
 * A signature verified in full (a new batch, most of them under load, or a direct signature) takes its signer's
 * certificate path and OCSP verification from a {@link SignerPathCache} when another signature brought the same
 * certificate and OCSP bytes under the same trust before.
 */

interface VerifiedBatchSignature {
  readonly trust: VerificationTrust
  /** The signature document's bytes (part of what the entry is for). */
  readonly signatureXml: Uint8Array | string
  /** The first message's result, less what is per message (its hash chain). */
  readonly result: SignatureVerificationResult
  readonly path: CertPath
  /** The hash-chain result bytes (part of the entry's key), parsed when the entry is first reused. */
  readonly hashChainResultBytes: Uint8Array | string
  hashChainResult?: ParsedHashChainResult
}

export interface VerificationCacheStats {
  /** Signatures verified in full (parse, references, SignatureValue, certificate path). */
  readonly full: number
  /** Messages checked against a batch signature verified before (whether they then passed or not). */
  readonly reused: number
  readonly entries: number
}

/** Batch signatures remembered (default); one entry holds parsed certificates shared with the other caches. */
const DEFAULT_CAPACITY = 256

export class SignatureVerificationCache {
  private readonly entries: LruCache<string, VerifiedBatchSignature>
  /** A new batch signature's signer path and OCSP responses, verified before with another batch's signature. */
  private readonly paths: SignerPathCache
  private full = 0
  private reused = 0

  constructor(capacity = DEFAULT_CAPACITY, pathCapacity?: number) {
    this.entries = new LruCache(Math.max(1, capacity))
    this.paths = new SignerPathCache(pathCapacity)
  }

  get stats(): VerificationCacheStats {
    return { full: this.full, reused: this.reused, entries: this.entries.size }
  }

  get pathStats(): SignerPathCacheStats {
    return this.paths.stats
  }

  /** `verifySignature` with the batch signature's shared part done once; throws the same coded errors. */
  verify(signatureXml: Uint8Array | string, options: VerifySignatureOptions): SignatureVerificationResult {
    if (options.hashChainResult === undefined || options.hashChain === undefined) return this.verifyFully(signatureXml, options)
    const key = fingerprint(signatureXml, options.hashChainResult)
    const entry = this.entries.get(key)
    if (entry === undefined || entry.trust !== options.trust || !sameBytes(entry.signatureXml, signatureXml) || !sameBytes(entry.hashChainResultBytes, options.hashChainResult)) {
      const result = this.verifyFully(signatureXml, options)
      const remembered = rememberable(result, options.trust, signatureXml, options.hashChainResult)
      if (remembered !== undefined) this.entries.set(key, remembered)
      return result
    }
    this.reused++
    return verifyAgainst(entry, options)
  }

  private verifyFully(signatureXml: Uint8Array | string, options: VerifySignatureOptions): SignatureVerificationResult {
    this.full++
    return verifySignature(signatureXml, options, this.paths)
  }
}

/** Every FINGERPRINT_STRIDE-th byte (or UTF-16 unit) goes into a fingerprint. */
const FINGERPRINT_STRIDE = 16

/**
 * Where to look for an entry: both lengths and an FNV-1a hash of every 16th byte of each — a few hundred reads instead
 * of a SHA-256 over the whole document and result (5–6 KB, a copy and 6 µs a message) — not a commitment: the entry
 * found is used only if its copies are the same bytes (`sameBytes`), and a fingerprint shared by different documents
 * only costs a full verification. Two signatures of a signer differ in their SignatureValue (ECDSA's random, RSA's
 * over another SignedInfo) and digests, of which some sampled bytes differ.
 */
function fingerprint(signatureXml: Uint8Array | string, hashChainResult: Uint8Array | string): string {
  return `${signatureXml.length}:${sampleHash(signatureXml)}:${hashChainResult.length}:${sampleHash(hashChainResult)}`
}

function sampleHash(value: Uint8Array | string): number {
  let h = 0x811c9dc5
  if (typeof value === 'string') {
    for (let i = 0; i < value.length; i += FINGERPRINT_STRIDE) h = Math.imul(h ^ value.charCodeAt(i), 0x01000193)
  } else {
    for (let i = 0; i < value.length; i += FINGERPRINT_STRIDE) h = Math.imul(h ^ value[i]!, 0x01000193)
  }
  return h >>> 0
}

/** Whether two values are the same bytes (a string's being its UTF-8). */
function sameBytes(kept: Uint8Array | string, given: Uint8Array | string): boolean {
  if (typeof kept === 'string' && typeof given === 'string') return kept === given
  const a = typeof kept === 'string' ? Buffer.from(kept, 'utf8') : kept
  const b = typeof given === 'string' ? Buffer.from(given, 'utf8') : given
  return a.byteLength === b.byteLength && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b)
}

/** What a verified signature leaves in the cache, when its only external reference is the hash-chain result. */
function rememberable(result: SignatureVerificationResult, trust: VerificationTrust, signatureXml: Uint8Array | string, hashChainResult: Uint8Array | string): VerifiedBatchSignature | undefined {
  if (result.hashChain === undefined) return undefined
  if (!result.references.every((uri) => uri.startsWith('#') || uri === SIG_HASH_CHAIN_RESULT_URI)) return undefined
  const anchor = result.certPath[result.certPath.length - 1]
  const ca = anchor === undefined ? undefined : trust.approvedCas.find((c) => anchor.der.equals(c.topCert))
  if (ca === undefined) return undefined
  // Copies: what the cache keeps for the next seconds must not hold on to what the verification read it from — the
  // caller's bytes may be a view into a whole received message; a reference URI is a slice of the signature
  // document's text, which it would keep whole; a small decoded value shares an 8 KB slab of Node's buffer pool with
  // unrelated short-lived buffers. Each would move them into the old generation with the entry (issue 15: the
  // consumer's collections).
  const hashChainResultBytes = typeof hashChainResult === 'string' ? ownString(hashChainResult) : ownBytes(hashChainResult)
  const signatureXmlCopy = typeof signatureXml === 'string' ? ownString(signatureXml) : ownBytes(signatureXml)
  const kept: SignatureVerificationResult = {
    signer: result.signer, signingCert: result.signingCert, certPath: result.certPath, caName: result.caName, ocsp: result.ocsp,
    signingOcsp: result.signingOcsp, signingTime: result.signingTime, signatureValue: ownBytes(result.signatureValue),
    timestampToken: result.timestampToken === undefined ? undefined : ownBytes(result.timestampToken), references: result.references.map(ownString),
  }
  return { trust, signatureXml: signatureXmlCopy, result: kept, path: { certs: result.certPath, ca }, hashChainResultBytes }
}

/** `bytes` in a buffer of their own (outside Node's pool). */
function ownBytes(bytes: Uint8Array): Buffer {
  const copy = Buffer.allocUnsafeSlow(bytes.byteLength)
  copy.set(bytes)
  return copy
}

/** `text` as a string of its own (not a slice that keeps the string it was cut from). */
function ownString(text: string): string {
  return text === SIG_HASH_CHAIN_RESULT_URI ? SIG_HASH_CHAIN_RESULT_URI : Buffer.from(text, 'utf8').toString('utf8')
}

/**
 * The per-message steps of xroad-protocols.md §4.7, in the verifier's order: hash chain (2), signer (4), and of path
 * and OCSP (7–8) what depends on the message's time — each certificate's validity and each response's freshness. The
 * responses found for the path, their signatures, responders and status were verified with the entry under the same
 * trust and do not change with time, so the entry's OCSP results are this message's too.
 */
function verifyAgainst(entry: VerifiedBatchSignature, options: VerifySignatureOptions): SignatureVerificationResult {
  // A batch of one (most batches at low load) is never reused: its entry pays no parse of its own.
  entry.hashChainResult ??= parseHashChainResult(entry.hashChainResultBytes)
  const hashChain = verifyMessageHashChain(options.hashChain!, entry.hashChainResult, options)
  const { signer } = entry.result
  if (!memberEquals(signer, options.expectedSigner)) {
    throw new SecurityServerError('incorrect_certificate',
      `Name in certificate (${signer.xRoadInstance}/${signer.memberClass}/${signer.memberCode}) does not match name in message ` +
      `(${options.expectedSigner.xRoadInstance}/${options.expectedSigner.memberClass}/${options.expectedSigner.memberCode})`, { clientFault: true })
  }
  revalidatePathAt(entry.path, entry.result.ocsp, entry.trust, options.atTime)
  // Field by field: every message's result has one object shape, built in place.
  const r = entry.result
  return {
    signer: r.signer, signingCert: r.signingCert, certPath: r.certPath, caName: r.caName, ocsp: r.ocsp, signingOcsp: r.signingOcsp,
    signingTime: r.signingTime, signatureValue: r.signatureValue, timestampToken: r.timestampToken, references: r.references, hashChain,
  }
}

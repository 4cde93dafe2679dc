import type { MemberId } from '@shared/domain/identifiers'
import { LruCache } from '../platform'
import type { CertPath } from './cert-chain-verifier'
import type { ParsedCertificate } from './certificate-util'
import type { OcspInfo } from './ocsp-verifier'
import type { VerificationTrust } from './verification-trust'

/**
 * The signer's certificate path and OCSP responses, verified once per (certificate bytes, extra certificates' bytes,
 * OCSP responses' bytes, trust) — issue 15. A peer sends the same signing certificate and, until its responder gives
 * it a new one, the same OCSP response with every message: what xroad-protocols.md §4.7 steps 4, 7 and 8 establish
 * about them without the message's time (the parsed certificate, the path to the approved CA with its CA flags, the
 * signer name through the CA's certificate profile, which response covers which certificate, the responses'
 * signatures, responders and good status) is remembered here, and a message then re-checks only what depends on its
 * own time (`revalidatePathAt`: each certificate's validity, each response's freshness and nextUpdate).
 *
 * Only a signature that verified in full leaves an entry, so a failure — a path that cannot be built, a response
 * that is missing, badly signed, revoked or unknown — is found again by the full verifier every time. An entry
 * belongs to the trust (one global configuration's snapshot) it was verified under; another trust misses and
 * replaces it. A small fingerprint of the bytes picks the entry; the exact bytes, compared in full, decide.
 */

export interface VerifiedSignerPath {
  readonly trust: VerificationTrust
  readonly signingCert: ParsedCertificate
  /** The signature's extra certificates, parsed, in document order. */
  readonly extraCerts: readonly ParsedCertificate[]
  /** Copies of the signature's OCSP responses, in document order. */
  readonly ocspResponses: readonly Buffer[]
  readonly path: CertPath
  readonly signer: MemberId
  /** The responses found and verified for the path, leaf's first. */
  readonly ocsp: OcspInfo[]
}

export interface SignerPathCacheStats {
  /** Messages whose signer's path and OCSP were taken from an entry. */
  readonly hits: number
  /** Entries remembered (after a full verification). */
  readonly remembered: number
  readonly entries: number
}

/** Signer paths remembered (default): one per peer signing certificate and OCSP response in use. */
const DEFAULT_CAPACITY = 256

export class SignerPathCache {
  private readonly entries: LruCache<number, VerifiedSignerPath>
  private hits = 0
  private remembered = 0

  constructor(capacity = DEFAULT_CAPACITY) {
    this.entries = new LruCache(Math.max(1, capacity))
  }

  get stats(): SignerPathCacheStats {
    return { hits: this.hits, remembered: this.remembered, entries: this.entries.size }
  }

  /** The entry for exactly these bytes under `trust`, or undefined. */
  lookup(signingCertDer: Uint8Array, extraCerts: readonly Uint8Array[], ocspResponses: readonly Uint8Array[], trust: VerificationTrust): VerifiedSignerPath | undefined {
    const entry = this.entries.get(fingerprint(signingCertDer, extraCerts, ocspResponses))
    if (entry === undefined || entry.trust !== trust || !entry.signingCert.der.equals(signingCertDer)) return undefined
    if (entry.extraCerts.length !== extraCerts.length || entry.ocspResponses.length !== ocspResponses.length) return undefined
    for (let i = 0; i < extraCerts.length; i++) if (!entry.extraCerts[i]!.der.equals(extraCerts[i]!)) return undefined
    for (let i = 0; i < ocspResponses.length; i++) if (!entry.ocspResponses[i]!.equals(ocspResponses[i]!)) return undefined
    this.hits++
    return entry
  }

  /** Remembers what a signature that verified in full established about its signer's path and OCSP responses. */
  remember(entry: Omit<VerifiedSignerPath, 'ocspResponses'>, ocspResponses: readonly Uint8Array[]): void {
    // Copies: the caller's bytes may be views into a received message the cache must not keep alive (the
    // certificates' are their parsed copies already).
    const own = ocspResponses.map((der) => Buffer.from(der))
    const key = fingerprint(entry.signingCert.der, entry.extraCerts.map((c) => c.der), own)
    this.entries.set(key, { ...entry, ocspResponses: own })
    this.remembered++
  }
}

/**
 * Lengths and last four bytes of every part (a certificate and a response end in their signature), mixed into a
 * small integer. It only selects the entry to compare with; equal fingerprints of different bytes are a miss.
 */
function fingerprint(signingCertDer: Uint8Array, extraCerts: readonly Uint8Array[], ocspResponses: readonly Uint8Array[]): number {
  let h = mix(0x2545f491, tail(signingCertDer))
  for (let i = 0; i < extraCerts.length; i++) h = mix(h, tail(extraCerts[i]!))
  h = mix(h, ocspResponses.length)
  for (let i = 0; i < ocspResponses.length; i++) h = mix(h, tail(ocspResponses[i]!))
  return h & 0x3fffffff
}

function tail(bytes: Uint8Array): number {
  const n = bytes.byteLength
  let v = 0
  for (let i = Math.max(0, n - 4); i < n; i++) v = (v << 8) | bytes[i]!
  return v ^ Math.imul(n, 0x85ebca6b)
}

function mix(h: number, v: number): number {
  return Math.imul(h ^ v, 0x9e3779b1) ^ (h >>> 15)
}

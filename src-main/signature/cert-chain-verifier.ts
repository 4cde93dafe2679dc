import { X509Certificate } from 'node:crypto'
import { SecurityServerError } from '../platform'
import { isCaCertificate, issuerNameDer, parseCertificate, subjectNameDer, type ParsedCertificate } from './certificate-util'
import { checkOcspFreshness, ocspAppliesTo, parseOcspResponse, verifyOcspResponse, type OcspInfo } from './ocsp-verifier'
import type { ApprovedCa, VerificationTrust } from './verification-trust'

/**
 * Certificate paths to an approved top CA and their OCSP coverage (X-Road `CertChainVerifier`;
 * xroad-protocols.md §4.7 steps 7–8): PKIX-style path building without CRLs, validity at a given time, and an
 * OCSP response for every certificate in the path except the trust anchor.
 */

export interface CertPath {
  /** Leaf first, trust anchor (the approved top CA) last. */
  certs: ParsedCertificate[]
  ca: ApprovedCa
}

const MAX_PATH_LENGTH = 10

/**
 * Outcomes of certificate-signature checks by (certificate, issuer). Parsed certificates are memoized by content and
 * never change, so the same pair of objects is the same pair of certificates, with no hash of their bytes to take.
 */
const issuedByResults = new WeakMap<ParsedCertificate, WeakMap<ParsedCertificate, boolean>>()

function issuedBy(cert: ParsedCertificate, issuer: ParsedCertificate): boolean {
  if (!issuerNameDer(cert).equals(subjectNameDer(issuer))) return false
  let byIssuer = issuedByResults.get(cert)
  if (byIssuer === undefined) issuedByResults.set(cert, (byIssuer = new WeakMap()))
  let result = byIssuer.get(issuer)
  if (result === undefined) {
    try {
      result = new X509Certificate(cert.der).verify(issuer.publicKey)
    } catch {
      result = false
    }
    byIssuer.set(issuer, result)
  }
  return result
}

/** A trust's CA certificates, parsed once per trust (a trust is a snapshot of one global configuration). */
const trustCertificates = new WeakMap<VerificationTrust, { anchors: Array<{ ca: ApprovedCa; cert: ParsedCertificate }>; intermediates: ParsedCertificate[] }>()

function certificatesOf(trust: VerificationTrust): { anchors: Array<{ ca: ApprovedCa; cert: ParsedCertificate }>; intermediates: ParsedCertificate[] } {
  let certs = trustCertificates.get(trust)
  if (certs === undefined) {
    certs = {
      anchors: trust.approvedCas.map((ca) => ({ ca, cert: parseCertificate(ca.topCert, 'top CA certificate') })),
      intermediates: trust.approvedCas.flatMap((ca) => ca.intermediates.map((d) => parseCertificate(d, 'intermediate CA certificate'))),
    }
    trustCertificates.set(trust, certs)
  }
  return certs
}

/** Builds the path from `leaf` through `extra` certificates and the CAs' intermediates to an approved top CA. */
export function buildCertPath(leaf: ParsedCertificate, extra: ParsedCertificate[], trust: VerificationTrust): CertPath {
  const { anchors, intermediates: caIntermediates } = certificatesOf(trust)
  const intermediates = [...extra, ...caIntermediates]
  const certs = [leaf]
  let current = leaf
  for (let depth = 0; depth < MAX_PATH_LENGTH; depth++) {
    const anchor = anchors.find((a) => issuedBy(current, a.cert))
    if (anchor !== undefined) {
      if (!current.der.equals(anchor.cert.der)) certs.push(anchor.cert)
      return { certs, ca: anchor.ca }
    }
    const next = intermediates.find((c) => !certs.some((p) => p.der.equals(c.der)) && issuedBy(current, c))
    if (next === undefined) break
    certs.push(next)
    current = next
  }
  throw new SecurityServerError('cert_validation', 'Certificate is not issued by approved certification service provider.', {
    clientFault: true, detail: leaf.subjectRfc2253,
  })
}

/** Validity of every certificate but the anchor at `atTime`; intermediates must be CAs (RFC 5280 §6.1.4 (k)). */
export function validateCertPath(path: CertPath, atTime: Date): void {
  path.certs.slice(0, -1).forEach((cert, index) => {
    checkCertValidity(cert, atTime.getTime())
    if (index > 0 && !isCaCertificate(cert)) {
      throw new SecurityServerError('invalid_cert_path', `Certificate ${cert.subjectRfc2253} in the path is not a CA certificate`, { clientFault: true })
    }
  })
}

/** The validity period of one certificate at `atMs` (ms since the epoch; RFC 5280 §6.1.3 (a)(2)). */
function checkCertValidity(cert: ParsedCertificate, atMs: number): void {
  if (atMs < cert.notBefore.getTime() || atMs > cert.notAfter.getTime()) {
    const atTime = new Date(atMs)
    throw new SecurityServerError('invalid_cert_path', `Certificate ${cert.subjectRfc2253} is not valid at ${atTime.toISOString()}`, {
      clientFault: true, detail: `valid ${cert.notBefore.toISOString()} .. ${cert.notAfter.toISOString()}`,
    })
  }
}

/**
 * The time-dependent part of {@link validateCertPath} and {@link verifyPathOcsp} for a path and OCSP responses that
 * passed both before under the same trust: every certificate but the anchor valid at `atTime`, every response fresh
 * at `atTime`. What does not depend on time (path building, CA flags, the responses' signatures, responders, status)
 * does not change with it.
 */
export function revalidatePathAt(path: CertPath, ocsp: readonly OcspInfo[], trust: VerificationTrust, atTime: Date): void {
  const atMs = atTime.getTime()
  for (let i = 0; i < path.certs.length - 1; i++) checkCertValidity(path.certs[i]!, atMs)
  for (const info of ocsp) checkOcspFreshness(info.thisUpdate, info.nextUpdate, trust, atMs)
}

/**
 * Finds and verifies an OCSP response for each certificate of the path except the anchor
 * (`cert_validation` "Unable to find OCSP response for certificate" when one is missing).
 */
export function verifyPathOcsp(path: CertPath, ocspResponses: Uint8Array[], trust: VerificationTrust, atTime: Date): OcspInfo[] {
  const parsed = ocspResponses.map((der) => parseOcspResponse(der))
  return path.certs.slice(0, -1).map((cert, index) => {
    const issuer = path.certs[index + 1]!
    const found = parsed.find((r) => ocspAppliesTo(r.basic, cert, issuer))
    if (found === undefined) {
      throw new SecurityServerError('cert_validation', `Unable to find OCSP response for certificate ${cert.subjectRfc2253}`, { clientFault: true })
    }
    return verifyOcspResponse(found, cert, issuer, trust, atTime)
  })
}

import { X509Certificate, createHash } from 'node:crypto'
import { SecurityServerError, clientError, pemBlocks } from '../platform'
import { isSigningCertificate, parseCertificate } from '../signature'
import type { KeyUsage } from './token-driver'

/**
 * Own certificates: reading PEM or DER, matching a certificate to its key by public key, checking the key usage
 * against the key's role (xroad-protocols.md §4.7 step 3: signing certificates carry nonRepudiation) and the chain
 * to an approved CA, whose certificates the caller passes in (from the global configuration).
 */

export function readCertificateBytes(input: Uint8Array): Buffer {
  return readCertificateChain(input)[0]!
}

/** Every certificate in a PEM bundle (leaf first, as CAs deliver chains), or the one DER certificate (O(n), `pemBlocks`). */
export function readCertificateChain(input: Uint8Array): Buffer[] {
  let blocks
  try {
    blocks = pemBlocks(Buffer.from(input).toString('latin1'), { labels: ['CERTIFICATE'] })
  } catch (cause) {
    throw clientError('incorrect_certificate', `The file is not a PEM or DER certificate: ${(cause as Error).message}`, { cause })
  }
  if (blocks.length === 0) return [Buffer.from(input)]
  return blocks.map((b) => b.der)
}

/** True for a self-issued, self-signed certificate (a top CA, which never goes into a signature's chain). */
export function isSelfSigned(cert: X509Certificate): boolean {
  return cert.checkIssued(cert) && cert.verify(cert.publicKey)
}

export function parseOwnCertificate(der: Uint8Array): X509Certificate {
  try {
    return new X509Certificate(Buffer.from(der))
  } catch (cause) {
    throw clientError('incorrect_certificate', 'The file is not an X.509 certificate (PEM or DER)', { cause })
  }
}

export function certificateId(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('hex')
}

/** SubjectPublicKeyInfo DER of a certificate, for matching it to a key. */
export function certificatePublicKey(cert: X509Certificate): Buffer {
  return cert.publicKey.export({ type: 'spki', format: 'der' })
}

/** Refuses a certificate whose key usage does not fit the key (signing needs nonRepudiation, auth must not be a signing cert). */
export function checkCertificateUsage(der: Uint8Array, usage: KeyUsage): void {
  const signing = isSigningCertificate(parseCertificate(der, 'certificate'))
  if (usage === 'sign' && !signing) {
    throw clientError('wrong_cert_usage', 'A certificate for a signing key needs the nonRepudiation key usage')
  }
  if (usage === 'auth' && signing) {
    throw clientError('wrong_cert_usage', 'A signing certificate (nonRepudiation) cannot be used for an authentication key')
  }
}

/**
 * Builds the path from `cert` up to one of the approved CA certificates (each link checked with `checkIssued` and the
 * issuer's signature, each certificate valid at `at`) and returns it leaf first, without the trust anchor.
 */
export function chainToApprovedCa(cert: X509Certificate, caCertificates: readonly Uint8Array[], at: Date): X509Certificate[] {
  const cas = caCertificates.map((der) => parseOwnCertificate(der))
  const path: X509Certificate[] = []
  let current = cert
  for (let depth = 0; depth < 8; depth++) {
    if (new Date(current.validFrom) > at || new Date(current.validTo) < at) {
      throw clientError('cert_validation', `Certificate ${current.subject.replace(/\n/g, ', ')} is not valid at ${at.toISOString()}`)
    }
    path.push(current)
    const issuer = cas.find((ca) => current.checkIssued(ca) && current.verify(ca.publicKey))
    if (issuer === undefined) break
    if (issuer.checkIssued(issuer) && issuer.verify(issuer.publicKey)) return path
    if (issuer.fingerprint256 === current.fingerprint256) return path
    current = issuer
  }
  throw new SecurityServerError('cannot_create_cert_path', `No path from ${cert.subject.replace(/\n/g, ', ')} to an approved CA`, { clientFault: true })
}

import { randomBytes } from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import { keyTypeOf, sha512, signBytes, signatureAlgorithmFor } from './lab-pki'

/**
 * Builds a signed configuration directory (xroad-protocols.md §5.3; PR-GCONF §2.3–2.5): an outer
 * multipart/related whose first part is a multipart/mixed of the header part and one part per content file,
 * and whose second part is the signature over exactly the body of the first outer part. CRLF throughout.
 */
export const SHA512_URI = 'http://www.w3.org/2001/04/xmlenc#sha512'

/** XML-DSig algorithm URIs of the directory signature (RFC 6931 §2.3.3, §2.3.6). */
const SIGNATURE_URIS = {
  'rsa-sha512': 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512',
  'ecdsa-sha512': 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512',
} as const

export interface DirectoryContentPart {
  /** e.g. `SHARED-PARAMETERS` */
  contentIdentifier: string
  instance: string
  /** Path relative to the download host root, e.g. `/V6/20250101…/shared-params.xml`. */
  contentLocation: string
  /** The raw bytes of the file at `contentLocation` (hashed, not embedded). */
  content: Uint8Array
}

export interface SignedDirectory {
  /** The complete directory file, starting with its own `Content-Type:` line. */
  bytes: Buffer
  /** Exactly the bytes the signature covers. */
  signedData: Buffer
  signature: Buffer
}

const CRLF = '\r\n'

function boundary(): string {
  return randomBytes(15).toString('base64').replace(/[+/=]/g, 'x')
}

export function buildSignedDirectory(
  options: { version: number; expireDate: Date; parts: readonly DirectoryContentPart[] },
  signingKey: KeyObject,
  verificationCertDer: Uint8Array,
): SignedDirectory {
  const outer = boundary()
  const inner = boundary()
  // §5.3: first inner part is header-only (Expire-date in ISO-8601 UTC without fractions, and Version).
  const innerParts = [
    `--${inner}${CRLF}Expire-date: ${options.expireDate.toISOString().replace(/\.\d{3}Z$/, 'Z')}${CRLF}Version: ${options.version}${CRLF}${CRLF}`,
    ...options.parts.map(
      (part) =>
        `--${inner}${CRLF}` +
        `Content-type: application/octet-stream${CRLF}` +
        `Content-transfer-encoding: base64${CRLF}` +
        `Content-identifier: ${part.contentIdentifier}; instance='${part.instance}'${CRLF}` +
        `Content-location: ${part.contentLocation}${CRLF}` +
        `Hash-algorithm-id: ${SHA512_URI}${CRLF}${CRLF}` +
        `${sha512(part.content).toString('base64')}${CRLF}`,
    ),
  ]
  // §5.3: the signed data is the body of the first outer part, up to and including the inner close delimiter's CRLF.
  const signedData = Buffer.from(`${innerParts.join('')}--${inner}--${CRLF}`, 'utf8')
  const algorithm = signatureAlgorithmFor(keyTypeOf(signingKey), 'sha512') as keyof typeof SIGNATURE_URIS
  const signature = Buffer.from(signBytes(signingKey, signedData, algorithm))
  const certHash = sha512(verificationCertDer).toString('base64')
  const head =
    `Content-Type: multipart/related; charset=UTF-8; boundary=${outer}${CRLF}${CRLF}` +
    `--${outer}${CRLF}Content-Type: multipart/mixed; charset=UTF-8; boundary=${inner}${CRLF}${CRLF}`
  const tail =
    `${CRLF}--${outer}${CRLF}` +
    `Content-Type: application/octet-stream${CRLF}` +
    `Content-Transfer-Encoding: base64${CRLF}` +
    `Signature-Algorithm-Id: ${SIGNATURE_URIS[algorithm]}${CRLF}` +
    `Verification-certificate-hash: ${certHash}; hash-algorithm-id="${SHA512_URI}"${CRLF}${CRLF}` +
    `${signature.toString('base64')}${CRLF}` +
    `--${outer}--${CRLF}`
  return { bytes: Buffer.concat([Buffer.from(head, 'utf8'), signedData, Buffer.from(tail, 'utf8')]), signedData, signature }
}

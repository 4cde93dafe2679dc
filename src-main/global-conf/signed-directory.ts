import { existsSync, readFileSync } from 'node:fs'
import { resolve, sep } from 'node:path'
import { X509Certificate, constants, createHash, verify as cryptoVerify } from 'node:crypto'
import type { ErrorCode } from '@shared/error-codes'
import { SecurityServerError } from '../platform'

/**
 * The signed configuration directory (PR-GCONF §2.3–2.5; xroad-protocols.md §5.3): a MIME entity whose body
 * starts with its `Content-Type` line; the first outer part (multipart/mixed) holds the `Expire-date`/`Version`
 * header part and one part per content file (base64 hash), the second outer part the signature over the exact
 * body bytes of the first. CRLF and LF line endings are both accepted.
 *
 * Complexity: the directory is at most 1 MiB; parsing is O(n) (lines are found with forward `indexOf`, each part's
 * range is split once, headers are read up to their blank line and at most 64 lines each).
 */

/** Why a directory was refused; each maps to an X-Road code plus, where X-Road's code is shared, a subcode. */
export type DirectoryFailure =
  | 'malformed'
  | 'missing_signature'
  | 'invalid_signature'
  | 'missing_date'
  | 'expired'
  | 'hash_mismatch'
  | 'missing_part'
  | 'unknown_verification_certificate'

const FAILURE_CODES: Record<DirectoryFailure, { code: ErrorCode; detail?: string }> = {
  malformed: { code: 'malformed_global_conf' },
  missing_signature: { code: 'missing_signature' },
  invalid_signature: { code: 'invalid_signature_value' },
  // X-Road's ConfigurationParser: "Missing header Expire-date" (X_MALFORMED_GLOBALCONF).
  missing_date: { code: 'malformed_global_conf', detail: 'missing_expire_date' },
  expired: { code: 'global_conf_outdated' },
  // X-Road's ConfigurationDownloader.verifyContent: "Failed to verify content integrity" (X_INVALID_SIGNATURE_VALUE).
  hash_mismatch: { code: 'invalid_signature_value', detail: 'content_hash_mismatch' },
  missing_part: { code: 'malformed_global_conf', detail: 'missing_content_part' },
  unknown_verification_certificate: { code: 'cert_not_found', detail: 'unknown_verification_certificate' },
}

export function directoryError(failure: DirectoryFailure, message: string, cause?: unknown): SecurityServerError {
  const { code, detail } = FAILURE_CODES[failure]
  return new SecurityServerError(code, message, { cause, ...(detail ? { detail } : {}) })
}

/** The reason string reported for a failed verification: the X-Road code, with the subcode when there is one. */
export function verificationReason(error: unknown): string {
  if (error instanceof SecurityServerError) return error.detail ? `${error.code}.${error.detail}` : error.code
  return 'internal_error'
}

export interface ContentPart {
  /** e.g. SHARED-PARAMETERS, PRIVATE-PARAMETERS, MONITORING, FETCHINTERVAL, NEXTUPDATE. */
  readonly contentIdentifier: string
  readonly instance?: string
  /** Path of the file on the download host, e.g. `/V6/20251110170000548026000/shared-params.xml`. */
  readonly contentLocation: string
  readonly hashAlgorithmUri: string
  /** The expected hash of the file (decoded from the part body). */
  readonly hash: Uint8Array
}

export interface SignedDirectory {
  readonly expiresAt?: Date
  /** The `Version` header; 2 when absent (older central servers). */
  readonly version: number
  readonly parts: readonly ContentPart[]
  /** Exactly the body of the first outer part: what the signature covers. */
  readonly signedBytes: Uint8Array
  readonly signatureAlgorithmUri?: string
  readonly verificationCertHash?: Uint8Array
  readonly verificationCertHashAlgorithmUri: string
  readonly signature?: Uint8Array
}

export interface VerifyDirectoryOptions {
  /** Candidate verification certificates (DER): the anchor's and, for key rotation, the trusted shared parameters'. */
  readonly verificationCerts: readonly Uint8Array[]
  /** Verification time; expiry is checked against it. */
  readonly now: Date
  /** Reads the file at a part's `Content-location`; undefined when absent. Without it, part hashes are not checked. */
  readonly readPart?: (part: ContentPart) => Uint8Array | undefined
}

export interface VerifiedDirectory extends SignedDirectory {
  readonly expiresAt: Date
  readonly verificationCert: Uint8Array
}

// ---- MIME --------------------------------------------------------------------------------------------

interface Line {
  /** Offset of the first byte of the line. */
  start: number
  /** Offset just past the line content (before the line break). */
  end: number
  /** Offset just past the line break. */
  next: number
}

function splitLines(text: string, from: number, to: number): Line[] {
  const lines: Line[] = []
  let pos = from
  while (pos < to) {
    const lf = text.indexOf('\n', pos)
    const stop = lf < 0 || lf >= to ? to : lf
    const end = stop > pos && text.charCodeAt(stop - 1) === 13 ? stop - 1 : stop
    lines.push({ start: pos, end, next: stop === to ? to : stop + 1 })
    pos = stop === to ? to : stop + 1
  }
  return lines
}

type Headers = Map<string, string>

interface MimeEntity {
  headers: Headers
  /** Body offsets within the text. */
  bodyStart: number
  bodyEnd: number
}

/** A MIME entity of a configuration directory has a handful of headers (RFC 2045 §3); more is refused. */
const MAX_HEADER_LINES = 64

/**
 * Reads a header block starting at `from`; returns the headers and the offset after the blank line. Lines are read
 * one at a time up to the blank line (O(header bytes)), at most {@link MAX_HEADER_LINES} of them.
 */
function readHeaders(text: string, from: number, to: number): { headers: Headers; bodyStart: number } {
  const headers: Headers = new Map()
  let last: string | undefined
  let count = 0
  for (let pos = from; pos < to;) {
    const lf = text.indexOf('\n', pos)
    const stop = lf < 0 || lf >= to ? to : lf
    const line = { start: pos, end: stop > pos && text.charCodeAt(stop - 1) === 13 ? stop - 1 : stop, next: stop === to ? to : stop + 1 }
    pos = line.next
    const content = text.slice(line.start, line.end)
    if (content === '') return { headers, bodyStart: line.next }
    if (++count > MAX_HEADER_LINES) throw directoryError('malformed', `More than ${MAX_HEADER_LINES} MIME header lines`)
    if (/^[ \t]/.test(content) && last !== undefined) {
      headers.set(last, `${headers.get(last) ?? ''} ${content.trim()}`)
      continue
    }
    const colon = content.indexOf(':')
    if (colon <= 0) throw directoryError('malformed', `Malformed MIME header line '${content.slice(0, 60)}'`)
    last = content.slice(0, colon).trim().toLowerCase()
    if (headers.has(last)) throw directoryError('malformed', `Duplicate MIME header '${last}'`)
    headers.set(last, content.slice(colon + 1).trim())
  }
  // Headers running to the end of the entity: no body.
  return { headers, bodyStart: to }
}

/** `value; name=param; name="param"; name='param'` → main value and lower-cased parameters. */
function headerParams(value: string): { value: string; params: Map<string, string> } {
  const [main, ...rest] = value.split(';')
  const params = new Map<string, string>()
  for (const piece of rest) {
    const eq = piece.indexOf('=')
    if (eq < 0) continue
    let v = piece.slice(eq + 1).trim()
    // Both quote styles occur in `instance=` (xroad-protocols.md §5.3).
    if (v.length >= 2 && ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'")))) v = v.slice(1, -1)
    params.set(piece.slice(0, eq).trim().toLowerCase(), v)
  }
  return { value: (main ?? '').trim(), params }
}

/**
 * Splits a multipart body at its boundary (RFC 2046 §5.1.1): the line break before a delimiter belongs to the
 * delimiter, so a part's body ends before it. `requireClose` demands the closing `--boundary--`.
 */
function splitMultipart(text: string, from: number, to: number, boundary: string, requireClose: boolean): MimeEntity[] {
  const delimiter = `--${boundary}`
  const parts: Array<{ start: number; end: number }> = []
  let openStart: number | undefined
  let closed = false
  for (const line of splitLines(text, from, to)) {
    const content = text.slice(line.start, line.end).replace(/[ \t]+$/, '')
    if (content !== delimiter && content !== `${delimiter}--`) continue
    if (openStart !== undefined) {
      // The body ends before the line break that precedes the delimiter line.
      let end = line.start
      if (end > openStart && text.charCodeAt(end - 1) === 10) end--
      if (end > openStart && text.charCodeAt(end - 1) === 13) end--
      parts.push({ start: openStart, end })
    }
    if (content === `${delimiter}--`) {
      closed = true
      openStart = undefined
      break
    }
    openStart = line.next
  }
  if (openStart !== undefined) {
    if (requireClose) throw directoryError('malformed', `Multipart body lacks its closing delimiter '${delimiter}--'`)
    parts.push({ start: openStart, end: Math.max(openStart, trimTrailingBreak(text, openStart, to)) })
  }
  if (!closed && requireClose) throw directoryError('malformed', `Multipart body lacks its closing delimiter '${delimiter}--'`)
  return parts.map(({ start, end }) => {
    const { headers, bodyStart } = readHeaders(text, start, end)
    return { headers, bodyStart: Math.min(bodyStart, end), bodyEnd: end }
  })
}

function trimTrailingBreak(text: string, from: number, to: number): number {
  let end = to
  while (end > from && (text.charCodeAt(end - 1) === 10 || text.charCodeAt(end - 1) === 13)) end--
  return end
}

function boundaryOf(headers: Headers, expectedType: string): string {
  const ct = headers.get('content-type')
  if (ct === undefined) throw directoryError('malformed', `Missing Content-Type (expected ${expectedType})`)
  const { value, params } = headerParams(ct)
  if (value.toLowerCase() !== expectedType) throw directoryError('malformed', `Content-Type is '${value}', expected ${expectedType}`)
  const boundary = params.get('boundary')
  if (boundary === undefined || boundary === '') throw directoryError('malformed', `${expectedType} without a boundary`)
  return boundary
}

function decodeBase64(value: string, what: string, failure: DirectoryFailure = 'malformed'): Uint8Array {
  const compact = value.replace(/\s+/g, '')
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact)) throw directoryError(failure, `${what} is not valid base64`)
  return new Uint8Array(Buffer.from(compact, 'base64'))
}

const MAX_DIRECTORY_BYTES = 1024 * 1024

/** Parses the directory structure without verifying anything. */
export function parseSignedDirectory(input: string | Uint8Array): SignedDirectory {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : Buffer.from(input)
  if (bytes.length > MAX_DIRECTORY_BYTES) throw directoryError('malformed', `Configuration directory is larger than ${MAX_DIRECTORY_BYTES} bytes`)
  // latin1 keeps one character per byte, so string offsets are byte offsets.
  const text = bytes.toString('latin1')
  const top = readHeaders(text, 0, text.length)
  const outerBoundary = boundaryOf(top.headers, 'multipart/related')
  const outer = splitMultipart(text, top.bodyStart, text.length, outerBoundary, true)
  const [content, signaturePart] = outer
  if (content === undefined) throw directoryError('malformed', 'Configuration directory has no parts')

  const innerBoundary = boundaryOf(content.headers, 'multipart/mixed')
  const signedBytes = new Uint8Array(bytes.subarray(content.bodyStart, content.bodyEnd))
  const inner = splitMultipart(text, content.bodyStart, content.bodyEnd, innerBoundary, false)

  let expiresAt: Date | undefined
  let version = 2
  const parts: ContentPart[] = []
  for (const part of inner) {
    const h = part.headers
    const identifier = h.get('content-identifier')
    if (identifier === undefined) {
      const expire = h.get('expire-date')
      if (expire !== undefined) {
        expiresAt = new Date(expire)
        if (Number.isNaN(expiresAt.getTime())) throw directoryError('malformed', `Expire-date '${expire}' is not a date`)
      }
      const v = h.get('version')
      if (v !== undefined) {
        if (!/^\d+$/.test(v)) throw directoryError('malformed', `Version '${v}' is not a number`)
        version = Number.parseInt(v, 10)
      }
      continue
    }
    const { value: contentIdentifier, params } = headerParams(identifier)
    const location = h.get('content-location')
    const hashAlgorithmUri = h.get('hash-algorithm-id')
    if (location === undefined || location === '') throw directoryError('malformed', `Part ${contentIdentifier} lacks Content-location`)
    if (hashAlgorithmUri === undefined) throw directoryError('malformed', `Part ${contentIdentifier} lacks Hash-algorithm-id`)
    const hash = decodeBase64(text.slice(part.bodyStart, part.bodyEnd), `Hash of part ${contentIdentifier}`)
    if (hash.byteLength === 0) throw directoryError('malformed', `Part ${contentIdentifier} has no hash`)
    const instance = params.get('instance')
    parts.push({ contentIdentifier, ...(instance ? { instance } : {}), contentLocation: location, hashAlgorithmUri, hash })
  }

  let signature: Uint8Array | undefined
  let signatureAlgorithmUri: string | undefined
  let verificationCertHash: Uint8Array | undefined
  let verificationCertHashAlgorithmUri = SHA512_URI
  if (signaturePart !== undefined) {
    signatureAlgorithmUri = signaturePart.headers.get('signature-algorithm-id')
    const certHash = signaturePart.headers.get('verification-certificate-hash')
    if (certHash !== undefined) {
      const { value, params } = headerParams(certHash)
      verificationCertHash = decodeBase64(value, 'Verification-certificate-hash')
      verificationCertHashAlgorithmUri = params.get('hash-algorithm-id') ?? SHA512_URI
    }
    const body = text.slice(signaturePart.bodyStart, signaturePart.bodyEnd).trim()
    if (body !== '') signature = decodeBase64(body, 'Signature')
  }
  return {
    ...(expiresAt ? { expiresAt } : {}),
    version,
    parts,
    signedBytes,
    ...(signatureAlgorithmUri ? { signatureAlgorithmUri } : {}),
    ...(verificationCertHash ? { verificationCertHash } : {}),
    verificationCertHashAlgorithmUri,
    ...(signature ? { signature } : {}),
  }
}

// ---- algorithms --------------------------------------------------------------------------------------

const SHA512_URI = 'http://www.w3.org/2001/04/xmlenc#sha512'

/** Digest URIs used in `Hash-algorithm-id` (XML Signature / XML Encryption identifiers). */
const DIGESTS: Record<string, string> = {
  'http://www.w3.org/2000/09/xmldsig#sha1': 'sha1',
  'http://www.w3.org/2001/04/xmlenc#sha256': 'sha256',
  'http://www.w3.org/2001/04/xmldsig-more#sha384': 'sha384',
  'http://www.w3.org/2001/04/xmlenc#sha512': 'sha512',
}

export function digestForUri(uri: string): string {
  const digest = DIGESTS[uri]
  if (digest === undefined) throw directoryError('malformed', `Unsupported hash algorithm '${uri}'`)
  return digest
}

interface SignatureAlgorithm {
  digest: string
  kind: 'rsa' | 'rsa-pss' | 'ecdsa'
}

/** `Signature-Algorithm-Id` URIs (RFC 6931 §2.3; X-Road's CryptoUtils algorithm ids). */
const SIGNATURE_ALGORITHMS: Record<string, SignatureAlgorithm> = {
  'http://www.w3.org/2000/09/xmldsig#rsa-sha1': { digest: 'sha1', kind: 'rsa' },
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256': { digest: 'sha256', kind: 'rsa' },
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha384': { digest: 'sha384', kind: 'rsa' },
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512': { digest: 'sha512', kind: 'rsa' },
  'http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1': { digest: 'sha256', kind: 'rsa-pss' },
  'http://www.w3.org/2007/05/xmldsig-more#sha384-rsa-MGF1': { digest: 'sha384', kind: 'rsa-pss' },
  'http://www.w3.org/2007/05/xmldsig-more#sha512-rsa-MGF1': { digest: 'sha512', kind: 'rsa-pss' },
  'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256': { digest: 'sha256', kind: 'ecdsa' },
  'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384': { digest: 'sha384', kind: 'ecdsa' },
  'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512': { digest: 'sha512', kind: 'ecdsa' },
}

export const SIGNATURE_ALGORITHM_URIS = {
  rsaSha256: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  rsaSha512: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512',
  ecdsaSha256: 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256',
  ecdsaSha512: 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512',
} as const

function verifySignatureValue(algorithm: SignatureAlgorithm, cert: X509Certificate, data: Uint8Array, signature: Uint8Array): boolean {
  const key = cert.publicKey
  try {
    if (algorithm.kind === 'rsa') return cryptoVerify(algorithm.digest, data, key, signature)
    if (algorithm.kind === 'rsa-pss') {
      return cryptoVerify(algorithm.digest, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }, signature)
    }
    // Java's SHAxxxwithECDSA emits DER; XML-DSig style raw r||s is accepted too.
    return cryptoVerify(algorithm.digest, data, { key, dsaEncoding: 'der' }, signature)
      || cryptoVerify(algorithm.digest, data, { key, dsaEncoding: 'ieee-p1363' }, signature)
  } catch {
    return false
  }
}

// ---- verification ------------------------------------------------------------------------------------

/**
 * Verifies a directory (PR-GCONF §2.3–2.5): structure, presence of Expire-date and signature, the
 * verification certificate chosen by its hash, the signature over the first part's body, expiry, and —
 * when `readPart` is given — every content part's hash.
 */
export function verifySignedDirectory(input: string | Uint8Array, options: VerifyDirectoryOptions): VerifiedDirectory {
  const dir = parseSignedDirectory(input)
  if (dir.signature === undefined || dir.signatureAlgorithmUri === undefined) {
    throw directoryError('missing_signature', 'Configuration directory carries no signature')
  }
  if (dir.expiresAt === undefined) throw directoryError('missing_date', 'Configuration directory lacks the Expire-date header')
  const algorithm = SIGNATURE_ALGORITHMS[dir.signatureAlgorithmUri]
  if (algorithm === undefined) throw directoryError('malformed', `Unsupported Signature-Algorithm-Id '${dir.signatureAlgorithmUri}'`)
  if (dir.verificationCertHash === undefined) {
    throw directoryError('malformed', 'Signature part lacks the Verification-certificate-hash header')
  }
  const certDigest = digestForUri(dir.verificationCertHashAlgorithmUri)
  const wanted = Buffer.from(dir.verificationCertHash)
  const certDer = options.verificationCerts.find((c) => createHash(certDigest).update(c).digest().equals(wanted))
  if (certDer === undefined) {
    throw directoryError('unknown_verification_certificate',
      `No trusted verification certificate has hash ${wanted.toString('base64')}`)
  }
  let cert: X509Certificate
  try {
    cert = new X509Certificate(certDer)
  } catch (cause) {
    throw directoryError('unknown_verification_certificate', 'The matching verification certificate cannot be parsed', cause)
  }
  if (!verifySignatureValue(algorithm, cert, dir.signedBytes, dir.signature)) {
    throw directoryError('invalid_signature', 'Signature of the configuration directory does not verify')
  }
  // PR-GCONF §2.3: a directory past its Expire-date must not be used.
  if (options.now.getTime() >= dir.expiresAt.getTime()) {
    throw directoryError('expired', `Configuration directory expired at ${dir.expiresAt.toISOString()}`)
  }
  if (options.readPart !== undefined) {
    for (const part of dir.parts) {
      const data = options.readPart(part)
      if (data === undefined) throw directoryError('missing_part', `Content part ${part.contentLocation} is not available`)
      checkPartHash(part, data)
    }
  }
  return { ...dir, expiresAt: dir.expiresAt, verificationCert: certDer }
}

/** Checks a downloaded file against its part's hash (PR-GCONF §2.5). */
export function checkPartHash(part: ContentPart, data: Uint8Array): void {
  const actual = createHash(digestForUri(part.hashAlgorithmUri)).update(data).digest()
  if (!actual.equals(Buffer.from(part.hash))) {
    throw directoryError('hash_mismatch', `Hash of ${part.contentLocation} (${part.contentIdentifier}) does not match the directory`)
  }
}

/** Hash of a file as the part would state it, to decide whether a stored copy is still current. */
export function partHashMatches(part: ContentPart, data: Uint8Array): boolean {
  return createHash(digestForUri(part.hashAlgorithmUri)).update(data).digest().equals(Buffer.from(part.hash))
}

/**
 * Reads parts from a local copy of the download host's web root: `Content-location` is resolved under `root`
 * (xroad-protocols.md §5.3); a location escaping the root is refused.
 */
export function partsRootReader(root: string): (part: ContentPart) => Uint8Array | undefined {
  const base = resolve(root)
  return (part) => {
    const file = resolve(base, `.${part.contentLocation.startsWith('/') ? '' : '/'}${part.contentLocation}`)
    if (file !== base && !file.startsWith(base + sep)) {
      throw directoryError('malformed', `Content-location ${part.contentLocation} points outside the parts root`)
    }
    return existsSync(file) ? new Uint8Array(readFileSync(file)) : undefined
  }
}

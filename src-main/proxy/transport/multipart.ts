import { randomFillSync } from 'node:crypto'
import { clientError } from '../../platform'

/**
 * A bounded multipart/mixed reader and writer (RFC 2046 §5.1) for the SS↔SS transport: limits on total size,
 * part count and header size, part bodies kept as the raw bytes between delimiters (no content decoding,
 * as X-Road's mime4j reader; xroad-protocols.md §4.3). CRLF and bare-LF line ends are both accepted. Empty parts are
 * kept as parts (X-Road's decoder hands every part to its handler, whatever its length).
 *
 * Complexity: O(n·b) time for n body bytes and a boundary of b ≤ 70 characters, in practice O(n): one `Buffer.indexOf`
 * for LF + delimiter per part (only line starts are candidates, a look-alike line is refused), the cursor only moving
 * forward; part headers read within `maxHeaderBytes`; at most `maxParts` parts; no copy of a part's bytes (subarrays).
 * Refusals quote at most 60 characters of a header line.
 */
export interface MimePart {
  headers: Array<[string, string]>
  contentType: string
  body: Buffer
}

export interface MultipartLimits {
  maxBytes: number
  maxParts: number
  maxHeaderBytes: number
}

export const DEFAULT_MULTIPART_LIMITS: MultipartLimits = { maxBytes: 64 * 1024 * 1024, maxParts: 64, maxHeaderBytes: 16 * 1024 }

/** `boundary` parameter of a multipart content type; undefined when absent. */
export function boundaryOf(contentType: string): string | undefined {
  const match = /;\s*boundary=(?:"([^"]{1,70})"|([^;\s]{1,70}))/i.exec(contentType)
  return match?.[1] ?? match?.[2]
}

/** The media type of a content type, trimmed and lower-cased (read up to the first `;`, no array of its parameters). */
export function mediaTypeOf(contentType: string): string {
  const semicolon = contentType.indexOf(';')
  return (semicolon < 0 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase()
}

export function parseMultipart(body: Buffer, boundary: string, limits: MultipartLimits = DEFAULT_MULTIPART_LIMITS): MimePart[] {
  if (body.length > limits.maxBytes) throw clientError('body_too_large', `Message is larger than ${limits.maxBytes} bytes`)
  const delimiter = Buffer.from(`--${boundary}`)
  let position = findDelimiter(body, delimiter, 0, true)
  if (position < 0) throw mimeError('no opening boundary')
  const parts: MimePart[] = []
  for (;;) {
    let cursor = position + delimiter.length
    if (body[cursor] === 0x2d && body[cursor + 1] === 0x2d) return parts
    // A delimiter that ends the body closes it too (mime4j reads a missing close-delimiter as the end).
    if (skipTransportPadding(body, cursor) >= body.length && parts.length > 0) return parts
    cursor = skipLineEnd(body, skipTransportPadding(body, cursor))
    if (cursor < 0) throw mimeError('boundary line not terminated')
    const headerEnd = findHeaderEnd(body, cursor, limits.maxHeaderBytes)
    const headers = parseHeaders(body.subarray(cursor, headerEnd.start).toString('latin1'))
    const next = findDelimiter(body, delimiter, headerEnd.end, false)
    if (next < 0) throw mimeError('no closing boundary')
    const contentEnd = body[next - 1] === 0x0a ? (body[next - 2] === 0x0d ? next - 2 : next - 1) : next
    const contentType = headers.find(([n]) => n.toLowerCase() === 'content-type')?.[1] ?? 'text/plain'
    parts.push({ headers, contentType, body: body.subarray(headerEnd.end, contentEnd) })
    if (parts.length > limits.maxParts) throw clientError('invalid_message', `Message has more than ${limits.maxParts} parts`)
    position = next
  }
}

/**
 * The next delimiter line: at offset 0 (first) or right after an LF, so only line starts are ever candidates (one
 * `indexOf` for LF + delimiter). A line that starts with the delimiter but goes on otherwise is refused: RFC 2046
 * §5.1.1 forbids the delimiter inside encapsulated parts, and accepting it would cost a search per look-alike.
 */
function findDelimiter(body: Buffer, delimiter: Buffer, from: number, first: boolean): number {
  let at: number
  if (first && from === 0 && body.subarray(0, delimiter.length).equals(delimiter)) at = 0
  else {
    const lf = body.indexOf(Buffer.concat([LF, delimiter]), Math.max(0, from - 1))
    at = lf < 0 ? -1 : lf + 1
  }
  if (at < 0) return -1
  const after = body[at + delimiter.length]
  if (after === undefined || after === 0x0d || after === 0x0a || after === 0x2d || after === 0x20 || after === 0x09) return at
  throw mimeError('a line starts with the boundary delimiter but is not one')
}

const LF = Buffer.from([0x0a])

function skipTransportPadding(body: Buffer, at: number): number {
  while (body[at] === 0x20 || body[at] === 0x09) at++
  return at
}

function skipLineEnd(body: Buffer, at: number): number {
  if (body[at] === 0x0d && body[at + 1] === 0x0a) return at + 2
  if (body[at] === 0x0a) return at + 1
  return -1
}

function findHeaderEnd(body: Buffer, from: number, maxHeaderBytes: number): { start: number; end: number } {
  if (body[from] === 0x0d && body[from + 1] === 0x0a) return { start: from, end: from + 2 }
  if (body[from] === 0x0a) return { start: from, end: from + 1 }
  const limit = Math.min(body.length, from + maxHeaderBytes)
  for (let i = from; i < limit; i++) {
    if (body[i] !== 0x0a) continue
    if (body[i + 1] === 0x0a) return { start: i + 1, end: i + 2 }
    if (body[i + 1] === 0x0d && body[i + 2] === 0x0a) return { start: i + 1, end: i + 3 }
  }
  throw mimeError(`part headers missing or longer than ${maxHeaderBytes} bytes`)
}

function parseHeaders(text: string): Array<[string, string]> {
  const headers: Array<[string, string]> = []
  for (const line of text.split(/\r?\n/)) {
    if (line === '') continue
    const last = headers[headers.length - 1]
    // RFC 5322 §2.2.3: a line starting with white space continues the previous field (folding), as mime4j unfolds it.
    if (/^[ \t]/.test(line)) {
      if (last === undefined) throw mimeError(`malformed part header ${JSON.stringify(line.slice(0, 60))}`)
      last[1] = `${last[1]} ${line.trim()}`.trim()
      continue
    }
    const colon = line.indexOf(':')
    if (colon <= 0) throw mimeError(`malformed part header ${JSON.stringify(line.slice(0, 60))}`)
    headers.push([line.slice(0, colon).trim(), line.slice(colon + 1).trim()])
  }
  return headers
}

function mimeError(reason: string) {
  return clientError('mime_parsing_failed', `Failed to parse MIME message: ${reason}`)
}

/**
 * Random bytes for boundaries, drawn from the CSPRNG a pool at a time (issue 15 §5: a `randomInt` per letter was
 * ~4 µs a boundary, two boundaries per message and side).
 */
const randomPool = Buffer.alloc(4096)
let randomAt = randomPool.length
const BOUNDARY_LETTERS = 30
const letters = Buffer.alloc(BOUNDARY_LETTERS)

/** `xtop` + 30 random letters, as X-Road's `MultipartEncoder` (xroad-protocols.md §4.3). */
export function newBoundary(prefix = 'xtop'): string {
  for (let i = 0; i < BOUNDARY_LETTERS;) {
    if (randomAt === randomPool.length) {
      randomFillSync(randomPool)
      randomAt = 0
    }
    const byte = randomPool[randomAt++] as number
    // 234 = 9 × 26: the bytes above it are skipped, so every letter is equally likely.
    if (byte < 234) letters[i++] = 0x61 + (byte % 26)
  }
  return prefix + letters.toString('latin1')
}

export function encodeMultipart(boundary: string, parts: ReadonlyArray<{ contentType: string; body: Uint8Array }>): Buffer {
  const chunks: Buffer[] = []
  for (const part of parts) {
    chunks.push(Buffer.from(`--${boundary}\r\ncontent-type: ${part.contentType}\r\n\r\n`, 'latin1'), Buffer.from(part.body), Buffer.from('\r\n'))
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`))
  return Buffer.concat(chunks)
}

/**
 * The parts of a `multipart/related` SOAP message (the SOAP layer's `MultipartSplitter`): split by the Content-Type's
 * boundary; a body without its opening delimiter has no parts (X-Road's mime4j reader then reports none, and the SOAP
 * layer answers `missing_soap`).
 */
export function splitMultipart(body: Buffer, contentType: string, limits: MultipartLimits = DEFAULT_MULTIPART_LIMITS): MimePart[] {
  const boundary = boundaryOf(contentType)
  if (boundary === undefined) throw mimeError('the multipart content type has no boundary')
  if (body.indexOf(`--${boundary}`) < 0) return []
  return parseMultipart(body, boundary, limits)
}

import { clientError } from '../../platform'
import { isFilteredHeader, type HeaderList } from './rest-headers'

/**
 * The REST header part (xroad-protocols.md §2.3, `RestRequest/RestResponse.toByteArray`): what travels as
 * `application/x-road-rest-request|response`, is signed as `/message.xml` and logged. Byte-exact:
 * `METHOD CRLF rawPath[?query] CRLF {Name:Value CRLF}*` — no space after the colon, no terminating blank line.
 */
export interface RestRequestPart {
  kind: 'request'
  method: string
  /** The full request path including `/r1/…`, undecoded, with `?query` when there is one. */
  pathAndQuery: string
  headers: HeaderList
}

export interface RestResponsePart {
  kind: 'response'
  status: number
  reason: string
  headers: HeaderList
}

const CRLF = '\r\n'

export function serializeRestRequestPart(part: Omit<RestRequestPart, 'kind'>): Buffer {
  return Buffer.from(`${part.method}${CRLF}${part.pathAndQuery}${CRLF}${serializeHeaders(part.headers)}`, 'utf8')
}

export function serializeRestResponsePart(part: Omit<RestResponsePart, 'kind'>): Buffer {
  return Buffer.from(`${part.status}${CRLF}${part.reason}${CRLF}${serializeHeaders(part.headers)}`, 'utf8')
}

function serializeHeaders(headers: HeaderList): string {
  let text = ''
  for (const [name, value] of headers) {
    if (isFilteredHeader(name)) continue
    if (LINE_BREAK.test(name) || LINE_BREAK.test(value) || name.includes(':') || name === '') {
      throw clientError('invalid_request', `Invalid header: ${JSON.stringify(name)}`)
    }
    text += `${name}:${value}${CRLF}`
  }
  return text
}

const LINE_BREAK = /[\r\n]/

/**
 * Bounds of a header part from a peer: its request line and headers come from an HTTP request or response whose
 * header block HTTP servers already cap at a few tens of kilobytes.
 */
export const REST_HEADER_PART_LIMITS = { maxBytes: 256 * 1024, maxHeaders: 1000 } as const

/**
 * Parses a header part received from a peer: first byte '1'..'9' ⇒ response, else request; each header line
 * split at the first ':'; a filtered (hop-by-hop) header is refused (`Invalid header`). O(n), at most
 * {@link REST_HEADER_PART_LIMITS}; refusals quote at most 80 characters.
 */
export function parseRestHeaderPart(bytes: Uint8Array): RestRequestPart | RestResponsePart {
  if (bytes.byteLength > REST_HEADER_PART_LIMITS.maxBytes) throw invalidPart(`the header part is larger than ${REST_HEADER_PART_LIMITS.maxBytes} bytes`)
  // Decoded in place (a Buffer view of the bytes, no copy); the lines read by index, no array of header lines copied
  // out of the split and no callback per line (issue 15 §5: every message, both sides).
  const text = (Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)).toString('utf8')
  const lines = text.split(CRLF)
  const count = lines.length - 1
  if (lines[count] !== '') throw invalidPart('the header part does not end with CRLF')
  const first = count > 0 ? (lines[0] as string) : undefined
  const second = count > 1 ? (lines[1] as string) : undefined
  if (first === undefined || second === undefined || first === '') throw invalidPart('the header part has no start lines')
  if (count - 2 > REST_HEADER_PART_LIMITS.maxHeaders) throw invalidPart(`the header part has more than ${REST_HEADER_PART_LIMITS.maxHeaders} headers`)
  const headers: HeaderList = []
  for (let i = 2; i < count; i++) {
    const line = lines[i] as string
    const colon = line.indexOf(':')
    if (colon <= 0) throw invalidPart(`malformed header line ${JSON.stringify(line.slice(0, 80))}`)
    const name = line.slice(0, colon)
    if (isFilteredHeader(name)) throw clientError('invalid_message', `Invalid header: ${name}`)
    headers.push([name, line.slice(colon + 1)])
  }
  const c = first.charCodeAt(0)
  if (c >= 0x31 && c <= 0x39) {
    if (!/^[1-9]\d{2}$/.test(first)) throw invalidPart(`invalid status code ${JSON.stringify(first.slice(0, 20))}`)
    return { kind: 'response', status: Number(first), reason: second, headers }
  }
  if (!/^[A-Z]+$/.test(first)) throw invalidPart(`invalid method ${JSON.stringify(first.slice(0, 20))}`)
  if (!second.startsWith('/')) throw invalidPart('the request path must start with /')
  return { kind: 'request', method: first, pathAndQuery: second, headers }
}

function invalidPart(reason: string) {
  return clientError('invalid_message', `Malformed REST header part: ${reason}`)
}

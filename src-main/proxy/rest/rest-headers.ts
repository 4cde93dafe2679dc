/**
 * Header names and lists of PR-REST r1 (xroad-protocols.md §2.2). Names compare case-insensitively.
 */
export type HeaderList = Array<[name: string, value: string]>

export const XROAD_HEADERS = {
  client: 'x-road-client',
  id: 'x-road-id',
  userId: 'x-road-userid',
  issue: 'x-road-issue',
  representedParty: 'x-road-represented-party',
  securityServer: 'x-road-security-server',
  requestId: 'x-road-request-id',
  service: 'x-road-service',
  requestHash: 'x-road-request-hash',
  error: 'x-road-error',
} as const

/** Hop-by-hop and transport headers never put in the signed header part (`RestMessage.SKIPPED_HEADERS`). */
export const FILTERED_HEADERS: ReadonlySet<string> = new Set([
  'transfer-encoding', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'upgrade',
  'connection', 'user-agent', 'host', 'content-length', 'server', 'expect',
])

export function isFilteredHeader(name: string): boolean {
  return FILTERED_HEADERS.has(name.toLowerCase())
}

/** The last value of a header (PR-REST §4.3: with several `X-Road-Client` headers the last one counts). */
export function lastHeader(headers: HeaderList, name: string): string | undefined {
  const lower = name.toLowerCase()
  let found: string | undefined
  // Names of another length are passed over without a lower-cased copy of each (issue 15 §5).
  for (const [n, v] of headers) if (n.length === lower.length && (n === lower || n.toLowerCase() === lower)) found = v
  return found
}

const UTF8 = new TextDecoder('utf-8', { fatal: true })

/**
 * A header value as Node's HTTP parser hands it over (each octet one character, RFC 9110 §5.5 field-value octets)
 * → the text it encodes: UTF-8 when the octets are valid UTF-8, as clients send non-ASCII values (`X-Road-UserId:
 * Jüri`), else ISO-8859-1 as received. Inside the proxy header values are text; the signed header part is their
 * UTF-8 (X-Road `RestMessage.writeString`), so the octets a client sent are the octets signed, logged and forwarded.
 */
export function headerValueFromWire(value: string): string {
  if (!/[\x80-\xff]/.test(value)) return value
  try {
    return UTF8.decode(Buffer.from(value, 'latin1'))
  } catch {
    return value
  }
}

/** Text → the octets to write as a header value (UTF-8), in the one-character-per-octet form Node writes. */
export function headerValueToWire(value: string): string {
  if (!/[^\x00-\x7f]/.test(value)) return value
  return Buffer.from(value, 'utf8').toString('latin1')
}

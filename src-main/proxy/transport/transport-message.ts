import { clientError } from '../../platform'
import { boundaryOf, DEFAULT_MULTIPART_LIMITS, encodeMultipart, mediaTypeOf, newBoundary, parseMultipart, type MultipartLimits } from './multipart'

/**
 * The SS↔SS transport message (PR-MESSTRANSP §3; xroad-protocols.md §4.3): OCSP parts, the message part
 * (REST header part or SOAP), the REST body or SOAP attachments, the hash-chain parts, the signature, and on
 * a response possibly a trailing unsigned `text/xml` fault. Order is enforced as X-Road's `ProxyMessageDecoder`.
 */
export const PART_TYPES = {
  ocsp: 'application/ocsp-response',
  restRequest: 'application/x-road-rest-request',
  restResponse: 'application/x-road-rest-response',
  restBody: 'application/x-road-rest-body',
  hashChainResult: 'application/hash-chain-result',
  hashChain: 'application/hash-chain',
  signature: 'signature/bdoc-1.0/ts',
  soap: 'text/xml',
  xop: 'application/xop+xml',
  attachments: 'multipart/mixed',
} as const

export const TRANSPORT_HEADERS = {
  requestId: 'x-road-request-id',
  hashAlgorithm: 'x-hash-algorithm',
  originalContentType: 'x-original-content-type',
  proxyVersion: 'x-proxy-version',
  messageType: 'x-road-message-type',
} as const

export const HASH_ALGORITHM = 'SHA-512'

export type MessageKind = 'request' | 'response'

export interface TransportMessage {
  ocspResponses: Buffer[]
  message: { type: 'rest' | 'soap'; contentType: string; bytes: Buffer }
  /** The REST body, or each SOAP attachment part's raw bytes. */
  attachments: Buffer[]
  hashChainResult?: Buffer
  hashChain?: Buffer
  signature?: Buffer
  /** A trailing `text/xml` SOAP fault (responses only; the response is then unsigned). */
  fault?: Buffer
}

export function decodeTransportMessage(
  contentType: string,
  body: Buffer,
  kind: MessageKind,
  limits: MultipartLimits = DEFAULT_MULTIPART_LIMITS,
): TransportMessage {
  if (mediaTypeOf(contentType) !== 'multipart/mixed') {
    throw clientError('invalid_content_type', `Invalid content type: ${contentType.slice(0, 100)}`)
  }
  const boundary = boundaryOf(contentType)
  if (boundary === undefined) throw clientError('invalid_content_type', 'Multipart content type has no boundary')
  const parts = parseMultipart(body, boundary, limits)
  let i = 0
  const ocspResponses: Buffer[] = []
  while (parts[i] !== undefined && mediaTypeOf(parts[i]!.contentType) === PART_TYPES.ocsp) ocspResponses.push(parts[i++]!.body)
  const messagePart = parts[i]
  if (messagePart === undefined) throw clientError('missing_rest', 'Request does not contain a message part')
  const messageType = mediaTypeOf(messagePart.contentType)
  const expectedRest = kind === 'request' ? PART_TYPES.restRequest : PART_TYPES.restResponse
  let type: 'rest' | 'soap'
  if (messageType === expectedRest) type = 'rest'
  else if (messageType === PART_TYPES.soap || messageType === PART_TYPES.xop) type = 'soap'
  else throw clientError('invalid_content_type', `Invalid content type: ${messagePart.contentType.slice(0, 100)}`)
  i++
  const decoded: TransportMessage = { ocspResponses, message: { type, contentType: messagePart.contentType, bytes: messagePart.body }, attachments: [] }
  const next = () => (parts[i] === undefined ? undefined : mediaTypeOf(parts[i]!.contentType))
  if (type === 'rest' && next() === PART_TYPES.restBody) decoded.attachments.push(parts[i++]!.body)
  if (type === 'soap' && next() === PART_TYPES.attachments) {
    const nested = parts[i++]!
    const nestedBoundary = boundaryOf(nested.contentType)
    if (nestedBoundary === undefined) throw clientError('invalid_content_type', 'Attachment multipart has no boundary')
    decoded.attachments.push(...parseMultipart(nested.body, nestedBoundary, limits).map((p) => p.body))
  }
  if (next() === PART_TYPES.hashChainResult) {
    decoded.hashChainResult = parts[i++]!.body
    if (next() !== PART_TYPES.hashChain) throw clientError('invalid_message', 'Hash chain result without hash chain part')
    decoded.hashChain = parts[i++]!.body
  }
  if (next() === PART_TYPES.signature) decoded.signature = parts[i++]!.body
  else if (next() === PART_TYPES.soap && kind === 'response') decoded.fault = parts[i++]!.body
  else if (next() !== undefined) throw clientError('invalid_content_type', `Invalid content type: ${parts[i]!.contentType.slice(0, 100)}`)
  if (decoded.signature !== undefined && next() === PART_TYPES.soap && kind === 'response') decoded.fault = parts[i++]!.body
  if (parts[i] !== undefined) throw clientError('invalid_message', 'Extra content after the signature')
  if (decoded.signature === undefined && decoded.fault === undefined) {
    throw clientError('missing_signature', 'Message does not contain a signature')
  }
  return decoded
}

/** Checks the decoded message is a REST one (PR-MESSTRANSP §3: `x-road-message-type: REST`). */
export function requireRestMessage(message: TransportMessage): void {
  if (message.message.type !== 'rest') throw clientError('missing_rest', 'Message does not contain a REST part')
}

export interface TransportMessageInput {
  kind: MessageKind
  ocspResponses?: Uint8Array[]
  headerPart: Uint8Array
  body?: Uint8Array
  hashChainResult?: Uint8Array
  hashChain?: Uint8Array
  signature: Uint8Array
}

/** Encodes a REST transport message; returns the multipart body and its content type. */
export function encodeRestTransportMessage(input: TransportMessageInput, boundary = newBoundary()): { contentType: string; body: Buffer } {
  const parts: Array<{ contentType: string; body: Uint8Array }> = []
  for (const ocsp of input.ocspResponses ?? []) parts.push({ contentType: PART_TYPES.ocsp, body: ocsp })
  parts.push({ contentType: input.kind === 'request' ? PART_TYPES.restRequest : PART_TYPES.restResponse, body: input.headerPart })
  if (input.body !== undefined && input.body.byteLength > 0) parts.push({ contentType: PART_TYPES.restBody, body: input.body })
  if (input.hashChainResult !== undefined) {
    if (input.hashChain === undefined) throw clientError('invalid_message', 'A hash chain result needs its hash chain')
    parts.push({ contentType: PART_TYPES.hashChainResult, body: input.hashChainResult }, { contentType: PART_TYPES.hashChain, body: input.hashChain })
  }
  parts.push({ contentType: PART_TYPES.signature, body: input.signature })
  return { contentType: `multipart/mixed; charset=UTF-8; boundary=${boundary}`, body: encodeMultipart(boundary, parts) }
}

/** HTTP headers of a REST request from the consumer SS (§4.3 table). */
export function transportRequestHeaders(input: { requestId: string; originalContentType?: string; proxyVersion: string }): Array<[string, string]> {
  return [
    [TRANSPORT_HEADERS.requestId, input.requestId],
    [TRANSPORT_HEADERS.hashAlgorithm, HASH_ALGORITHM],
    ...(input.originalContentType === undefined ? [] : [[TRANSPORT_HEADERS.originalContentType, input.originalContentType] as [string, string]]),
    [TRANSPORT_HEADERS.proxyVersion, input.proxyVersion],
    [TRANSPORT_HEADERS.messageType, 'REST'],
  ]
}

/** `x-hash-algorithm` must name SHA-512 (parsed case-insensitively; §4.3). */
export function checkHashAlgorithm(value: string | undefined): void {
  if (value === undefined) throw clientError('missing_header', 'Missing header x-hash-algorithm')
  if (value.trim().toUpperCase() !== HASH_ALGORITHM) throw clientError('invalid_message', `Unsupported hash algorithm: ${value.slice(0, 40)}`)
}

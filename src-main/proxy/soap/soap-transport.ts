import { clientError } from '../../platform'
import { multipartSegments, type SoapAttachment } from '../../soap'
import type { MessagePart, MessageSignature } from '../proxy-deps'
import { boundaryOf, DEFAULT_MULTIPART_LIMITS, mediaTypeOf, newBoundary, parseMultipart, type MimePart, type MultipartLimits } from '../transport/multipart'
import { PART_TYPES, type MessageKind } from '../transport/transport-message'

/**
 * A SOAP message between security servers (PR-MESSTRANSP §3; xroad-protocols.md §4.3; X-Road's `ProxyMessageEncoder`
 * and `ProxyMessageDecoder`): OCSP parts, the SOAP part with its own content type and the MIME headers it came with,
 * the attachments in one nested `multipart/mixed` part (boundary `xatt…`) each with its own headers, the hash-chain
 * parts of a batch signature, the signature, and on a response possibly a trailing unsigned `text/xml` fault.
 * `x-road-message-type` is not sent for SOAP (its absence means SOAP).
 *
 * What is signed (§4.4): `/message.xml` = the SOAP part's bytes, `/attachmentN` = each attachment's raw bytes in order;
 * with attachments the signer makes a batch signature over their hash chain.
 */
export interface SoapPart {
  contentType: string
  /** MIME headers of the SOAP part other than its Content-Type, as the information system or service sent them. */
  headers: Array<[string, string]>
  bytes: Buffer
}

export interface SoapTransportMessage {
  ocspResponses: Buffer[]
  soap: SoapPart
  attachments: SoapAttachment[]
  hashChainResult?: Buffer
  hashChain?: Buffer
  signature?: Buffer
  /** A trailing `text/xml` fault (responses only). */
  fault?: Buffer
}

export function soapSignedParts(soap: Uint8Array, attachments: ReadonlyArray<{ body: Uint8Array }>): MessagePart[] {
  return [{ name: '/message.xml', bytes: soap }, ...attachments.map((a, i) => ({ name: `/attachment${i + 1}`, bytes: a.body }))]
}

export interface SoapTransportInput {
  kind: MessageKind
  ocspResponses?: Uint8Array[]
  soap: SoapPart
  attachments: SoapAttachment[]
  signature?: MessageSignature
  /** A fault written after the parts (unsigned response). */
  fault?: Uint8Array
}

export function encodeSoapTransportMessage(input: SoapTransportInput, unique = newBoundary('')): { contentType: string; body: Buffer } {
  const top = `xtop${unique}`
  const parts: Array<{ contentType: string; headers: Array<[string, string]>; body: Uint8Array }> = []
  for (const ocsp of input.ocspResponses ?? []) parts.push({ contentType: PART_TYPES.ocsp, headers: [], body: ocsp })
  parts.push({ contentType: input.soap.contentType, headers: input.soap.headers, body: input.soap.bytes })
  if (input.attachments.length > 0) {
    const nested = `xatt${unique}`
    const body = Buffer.concat(multipartSegments<never>(nested, input.attachments.map((a) => ({ contentType: a.contentType, headers: a.headers, body: a.body }))))
    parts.push({ contentType: `multipart/mixed; charset=UTF-8; boundary=${nested}`, headers: [], body })
  }
  const signature = input.signature
  if (signature?.hashChainResult !== undefined && signature.hashChain !== undefined) {
    parts.push({ contentType: PART_TYPES.hashChainResult, headers: [], body: signature.hashChainResult }, { contentType: PART_TYPES.hashChain, headers: [], body: signature.hashChain })
  }
  if (signature !== undefined) parts.push({ contentType: PART_TYPES.signature, headers: [], body: signature.signatureXml })
  if (input.fault !== undefined) parts.push({ contentType: 'text/xml; charset=UTF-8', headers: [], body: input.fault })
  return { contentType: `multipart/mixed; charset=UTF-8; boundary=${top}`, body: Buffer.concat(multipartSegments<never>(top, parts)) }
}

/** The part order `ProxyMessageDecoder` enforces, with the SOAP part's and the attachments' MIME headers kept. */
export function decodeSoapTransportMessage(contentType: string, body: Buffer, kind: MessageKind, limits: MultipartLimits = DEFAULT_MULTIPART_LIMITS): SoapTransportMessage {
  if (mediaTypeOf(contentType) !== 'multipart/mixed') throw clientError('invalid_content_type', `Invalid content type: ${contentType.slice(0, 100)}`)
  const boundary = boundaryOf(contentType)
  if (boundary === undefined) throw clientError('invalid_content_type', 'Multipart content type has no boundary')
  const parts = parseMultipart(body, boundary, limits)
  let i = 0
  const next = () => (parts[i] === undefined ? undefined : mediaTypeOf(parts[i]!.contentType))
  const ocspResponses: Buffer[] = []
  while (next() === PART_TYPES.ocsp) ocspResponses.push(parts[i++]!.body)
  const soapPart = parts[i]
  if (soapPart === undefined) throw clientError('missing_soap', `${kind === 'request' ? 'Request' : 'Response'} does not have SOAP message`)
  if (next() !== PART_TYPES.soap && next() !== PART_TYPES.xop) throw clientError('invalid_content_type', `Invalid content type: ${soapPart.contentType.slice(0, 100)}`)
  i++
  const decoded: SoapTransportMessage = { ocspResponses, soap: { contentType: soapPart.contentType, headers: otherHeaders(soapPart), bytes: soapPart.body }, attachments: [] }
  if (next() === PART_TYPES.attachments) {
    const nested = parts[i++]!
    const nestedBoundary = boundaryOf(nested.contentType)
    if (nestedBoundary === undefined) throw clientError('invalid_content_type', 'Attachment multipart has no boundary')
    decoded.attachments = parseMultipart(nested.body, nestedBoundary, limits).map((p) => ({ headers: otherHeaders(p), contentType: p.contentType, body: p.body }))
  }
  if (next() === PART_TYPES.hashChainResult) {
    decoded.hashChainResult = parts[i++]!.body
    if (next() !== PART_TYPES.hashChain) throw clientError('invalid_message', 'Hash chain result without hash chain part')
    decoded.hashChain = parts[i++]!.body
  }
  if (next() === PART_TYPES.signature) decoded.signature = parts[i++]!.body
  if (next() === PART_TYPES.soap && kind === 'response') decoded.fault = parts[i++]!.body
  if (parts[i] !== undefined) {
    throw decoded.signature === undefined
      ? clientError('invalid_content_type', `Invalid content type: ${parts[i]!.contentType.slice(0, 100)}`)
      : clientError('invalid_message', 'Extra content after the signature')
  }
  return decoded
}

function otherHeaders(part: MimePart): Array<[string, string]> {
  return part.headers.filter(([name]) => name.toLowerCase() !== 'content-type')
}

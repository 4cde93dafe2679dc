import { clientError, SecurityServerError, toSecurityServerError } from '../../platform'
import { mediaTypeOf, multipartSegments, readSoap, DEFAULT_SOAP_LIMITS, MAX_NESTING, type Soap } from '../../soap'
import { concatSources, type BodyLimit, type BodyReceiver, type BodySource, type BodyStore, type MessageBody } from '../body/message-body'
import type { MessagePart, MessageSignature } from '../proxy-deps'
import { boundaryOf, newBoundary, type MultipartLimits } from '../transport/multipart'
import { MultipartStreamReader, type PartHandler, type PartSink } from '../transport/multipart-stream'
import { MAX_STREAMED_PART_BYTES, PART_TYPES, TransportPartOrder, type MessageKind } from '../transport/transport-message'

/**
 * SOAP messages as the proxies carry them (issue 14 §3; X-Road's `SoapMessageDecoder`, `ProxyMessageEncoder` and
 * `ProxyMessageDecoder`; PR-MESSTRANSP §3; xroad-protocols.md §3.3, §4.3), read as they arrive: the SOAP part in memory
 * (it is parsed and hashed whole; at most `soapMaxBytes`), each attachment into a `MessageBody` — hashed (SHA-512) on
 * the way in, spooled to disk past the budget's threshold — with its MIME headers kept, nested multiparts read into
 * their parts (at most `MAX_NESTING` deep). Between security servers: OCSP parts, the SOAP part with its own content
 * type and the MIME headers it came with, the attachments in one nested `multipart/mixed` (boundary `xatt…`), the
 * hash-chain parts of a batch signature, the signature, on a response possibly a trailing `text/xml` fault;
 * `x-road-message-type` is not sent for SOAP (its absence means SOAP). What is signed (§4.4): `/message.xml` = the SOAP
 * part's bytes, `/attachmentN` = each attachment's raw bytes in order, by the digest taken as it arrived.
 *
 * Bounds: those of the streaming multipart reader (linear; `maxBytes`, `maxParts`, `maxHeaderBytes`), the SOAP part and
 * every other in-memory part bounded, attachments bounded by the limits given and the server's budget.
 */
export interface StreamedAttachment {
  contentType: string
  /** MIME headers other than Content-Type, as received. */
  headers: Array<[string, string]>
  body: MessageBody
}

export interface SoapPart {
  contentType: string
  headers: Array<[string, string]>
  bytes: Buffer
}

export interface ReceiveSoapOptions {
  bodies: BodyStore
  limits: MultipartLimits
  /** Limits each attachment is received under (the listener's, the message log's). */
  attachmentLimits: readonly BodyLimit[]
  soapMaxBytes?: number
}

function otherHeaders(headers: Array<[string, string]>): Array<[string, string]> {
  return headers.filter(([name]) => name.toLowerCase() !== 'content-type')
}

export function releaseAll(attachments: ReadonlyArray<{ body: BodySource }>): void {
  for (const a of attachments) a.body.release()
}

/** A part kept in memory, at most `max` bytes (`refusal` past it). */
function memorySink(max: number, refusal: () => SecurityServerError, done: (bytes: Buffer) => void): PartSink {
  const chunks: Buffer[] = []
  let size = 0
  return {
    write(chunk) {
      size += chunk.length
      if (size > max) throw refusal()
      chunks.push(Buffer.from(chunk))
    },
    end() {
      done(Buffer.concat(chunks, size))
    },
  }
}

function attachmentHandler(options: ReceiveSoapOptions, out: StreamedAttachment[], receivers: Set<BodyReceiver>, depth: number): PartHandler {
  return {
    startPart(headers, contentType) {
      if (!headers.some(([name]) => name.toLowerCase() === 'content-type')) throw clientError('invalid_content_type', 'Could not get content type for part')
      if (mediaTypeOf(contentType).startsWith('multipart/')) {
        // A nested multipart is read into its parts (mime4j's recursive reading).
        if (depth >= MAX_NESTING) throw clientError('mime_parsing_failed', `Multipart parts nested deeper than ${MAX_NESTING} levels`)
        const boundary = boundaryOf(contentType)
        if (boundary === undefined) throw clientError('invalid_content_type', 'Attachment multipart has no boundary')
        const nested = new MultipartStreamReader(boundary, attachmentHandler(options, out, receivers, depth + 1), options.limits)
        return { write: (chunk) => nested.push(chunk), end: () => nested.finish() }
      }
      const receiver = options.bodies.receiver({ limits: options.attachmentLimits })
      receivers.add(receiver)
      return {
        write: (chunk) => receiver.write(chunk),
        end: async () => {
          const body = await receiver.end()
          receivers.delete(receiver)
          out.push({ contentType, headers: otherHeaders(headers), body })
        },
      }
    },
  }
}

async function feed(reader: MultipartStreamReader, source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<void> {
  for await (const chunk of source) await reader.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength))
  await reader.finish()
}

export interface StreamedSoapMessage {
  contentType: string
  soap: Soap
  /** MIME headers of the SOAP part other than Content-Type, when the message was multipart. */
  soapPartHeaders?: Array<[string, string]>
  attachments: StreamedAttachment[]
}

/**
 * A SOAP message from an information system or a service (`SoapMessageDecoder`): `text/xml`/`application/xop+xml`, or
 * `multipart/related` with the SOAP message first (whatever `start` says) — no part ⇒ `missing_soap`, a part without
 * Content-Type ⇒ `invalid_content_type`, another media type ⇒ `invalid_content_type`.
 */
export async function receiveSoapMessage(contentType: string, source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, options: ReceiveSoapOptions): Promise<StreamedSoapMessage> {
  const soapMax = options.soapMaxBytes ?? DEFAULT_SOAP_LIMITS.maxBytes
  const media = mediaTypeOf(contentType)
  if (media === '') throw clientError('invalid_request', 'Could not get content type from request')
  if (media === 'text/xml' || media === 'application/xop+xml') {
    let bytes: Buffer = Buffer.alloc(0)
    const sink = memorySink(soapMax, () => clientError('invalid_soap', `SOAP message is larger than ${soapMax} bytes`), (b) => (bytes = b))
    for await (const chunk of source) await sink.write(Buffer.from(chunk))
    await sink.end()
    return { contentType, soap: readSoap(bytes, contentType), attachments: [] }
  }
  if (media !== 'multipart/related') throw clientError('invalid_content_type', `Invalid content type: ${media.slice(0, 60)}`)
  const boundary = boundaryOf(contentType)
  if (boundary === undefined) throw clientError('mime_parsing_failed', 'Failed to parse MIME message: the multipart content type has no boundary')
  const attachments: StreamedAttachment[] = []
  const receivers = new Set<BodyReceiver>()
  let first: SoapPart | undefined
  const rest = attachmentHandler(options, attachments, receivers, 1)
  const handler: PartHandler = {
    startPart(headers, partType) {
      if (!headers.some(([name]) => name.toLowerCase() === 'content-type')) throw clientError('invalid_content_type', 'Could not get content type for part')
      if (first !== undefined) return rest.startPart(headers, partType)
      const part: SoapPart = { contentType: partType, headers: otherHeaders(headers), bytes: Buffer.alloc(0) }
      first = part
      return memorySink(soapMax, () => clientError('invalid_soap', `SOAP message is larger than ${soapMax} bytes`), (bytes) => (part.bytes = bytes))
    },
  }
  try {
    await feed(new MultipartStreamReader(boundary, handler, options.limits), source)
  } catch (error) {
    for (const receiver of receivers) receiver.abort()
    releaseAll(attachments)
    // mime4j finds no part where no opening delimiter is (X-Road answers missing_soap).
    if (first === undefined && toSecurityServerError(error).code === 'mime_parsing_failed') throw clientError('missing_soap', 'Request does not contain SOAP message')
    throw error
  }
  const soapPart = first as SoapPart | undefined
  if (soapPart === undefined) throw clientError('missing_soap', 'Request does not contain SOAP message')
  try {
    return { contentType, soap: readSoap(soapPart.bytes, soapPart.contentType), soapPartHeaders: soapPart.headers, attachments }
  } catch (error) {
    releaseAll(attachments)
    throw error
  }
}

export function soapSignedParts(soap: Uint8Array, attachments: ReadonlyArray<{ body: MessageBody }>): MessagePart[] {
  return [
    { name: '/message.xml', bytes: soap },
    ...attachments.map((a, i): MessagePart => ({ name: `/attachment${i + 1}`, digest: a.body.sha512, digestAlgorithm: 'SHA-512' })),
  ]
}

/** A multipart of the SOAP part and the attachments under `boundary` (`MultipartSoapMessageEncoder`), as a stream. */
export function soapMultipartSource(boundary: string, soap: SoapPart, attachments: readonly StreamedAttachment[]): BodySource {
  return concatSources(multipartSegments<BodySource>(boundary, [
    { contentType: soap.contentType, headers: soap.headers, body: soap.bytes },
    ...attachments.map((a) => ({ contentType: a.contentType, headers: a.headers, body: a.body })),
  ]))
}

export interface SoapTransportInput {
  ocspResponses?: Uint8Array[]
  soap: SoapPart
  attachments: readonly StreamedAttachment[]
  signature: MessageSignature
}

/** The transport message as a stream; releasing it releases the attachments. */
export function encodeSoapTransportStream(input: SoapTransportInput, unique = newBoundary('')): { contentType: string; body: BodySource } {
  const top = `xtop${unique}`
  const parts: Array<{ contentType: string; headers: Array<[string, string]>; body: Uint8Array | BodySource }> = []
  for (const ocsp of input.ocspResponses ?? []) parts.push({ contentType: PART_TYPES.ocsp, headers: [], body: ocsp })
  parts.push({ contentType: input.soap.contentType, headers: input.soap.headers, body: input.soap.bytes })
  if (input.attachments.length > 0) {
    const nested = `xatt${unique}`
    parts.push({
      contentType: `multipart/mixed; charset=UTF-8; boundary=${nested}`, headers: [],
      body: concatSources(multipartSegments<BodySource>(nested, input.attachments.map((a) => ({ contentType: a.contentType, headers: a.headers, body: a.body })))),
    })
  }
  const { signature } = input
  if (signature.hashChainResult !== undefined && signature.hashChain !== undefined) {
    parts.push({ contentType: PART_TYPES.hashChainResult, headers: [], body: signature.hashChainResult }, { contentType: PART_TYPES.hashChain, headers: [], body: signature.hashChain })
  }
  parts.push({ contentType: PART_TYPES.signature, headers: [], body: signature.signatureXml })
  return { contentType: `multipart/mixed; charset=UTF-8; boundary=${top}`, body: concatSources(multipartSegments<BodySource>(top, parts)) }
}

export interface SoapTransportMessage {
  ocspResponses: Buffer[]
  soap: SoapPart
  attachments: StreamedAttachment[]
  hashChainResult?: Buffer
  hashChain?: Buffer
  signature?: Buffer
  fault?: Buffer
}

/** A transport message read as it arrives, in `ProxyMessageDecoder`'s part order; attachments into bodies. */
export async function readSoapTransportMessage(
  contentType: string, source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, kind: MessageKind, options: ReceiveSoapOptions,
): Promise<SoapTransportMessage> {
  if (mediaTypeOf(contentType) !== 'multipart/mixed') throw clientError('invalid_content_type', `Invalid content type: ${contentType.slice(0, 100)}`)
  const boundary = boundaryOf(contentType)
  if (boundary === undefined) throw clientError('invalid_content_type', 'Multipart content type has no boundary')
  const soapMax = options.soapMaxBytes ?? DEFAULT_SOAP_LIMITS.maxBytes
  const order = new TransportPartOrder(kind)
  const message: Partial<SoapTransportMessage> & { ocspResponses: Buffer[]; attachments: StreamedAttachment[] } = { ocspResponses: [], attachments: [] }
  const receivers = new Set<BodyReceiver>()
  const tooLarge = (type: string, max: number) => () => clientError('invalid_message', `A ${mediaTypeOf(type).slice(0, 60)} part is larger than ${max} bytes`)
  const handler: PartHandler = {
    startPart(headers, partType) {
      const role = order.next(partType)
      if (role === 'message' && order.type === 'rest') throw clientError('missing_soap', 'Message does not contain a SOAP part')
      switch (role) {
        case 'attachments': {
          const boundaryNested = boundaryOf(partType)
          if (boundaryNested === undefined) throw clientError('invalid_content_type', 'Attachment multipart has no boundary')
          const nested = new MultipartStreamReader(boundaryNested, attachmentHandler(options, message.attachments, receivers, 1), options.limits)
          return { write: (chunk) => nested.push(chunk), end: () => nested.finish() }
        }
        case 'message':
          return memorySink(soapMax, tooLarge(partType, soapMax), (bytes) => (message.soap = { contentType: partType, headers: otherHeaders(headers), bytes }))
        case 'ocsp':
          return memorySink(MAX_STREAMED_PART_BYTES, tooLarge(partType, MAX_STREAMED_PART_BYTES), (bytes) => message.ocspResponses.push(bytes))
        case 'body':
          throw clientError('invalid_content_type', `Invalid content type: ${partType.slice(0, 100)}`)
        default:
          return memorySink(MAX_STREAMED_PART_BYTES, tooLarge(partType, MAX_STREAMED_PART_BYTES), (bytes) => (message[role] = bytes))
      }
    },
  }
  try {
    await feed(new MultipartStreamReader(boundary, handler, options.limits), source)
    try {
      order.finish()
    } catch (error) {
      const coded = toSecurityServerError(error)
      throw coded.code === 'missing_rest' ? clientError('missing_soap', `${kind === 'request' ? 'Request' : 'Response'} does not have SOAP message`) : coded
    }
  } catch (error) {
    for (const receiver of receivers) receiver.abort()
    releaseAll(message.attachments)
    throw error
  }
  return message as SoapTransportMessage
}

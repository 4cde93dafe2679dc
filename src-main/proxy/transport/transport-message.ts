import { clientError } from '../../platform'
import { busy } from '../body/message-budget'
import { bufferBody, concatSources, type BodyLimit, type BodyReceiver, type BodySource, type BodyStore, type MessageBody } from '../body/message-body'
import { boundaryOf, DEFAULT_MULTIPART_LIMITS, encodeMultipart, mediaTypeOf, newBoundary, parseMultipart, type MultipartLimits } from './multipart'
import { readMultipartStream, type PartSink } from './multipart-stream'

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

export interface TransportMessage<Body = Buffer> {
  ocspResponses: Buffer[]
  message: { type: 'rest' | 'soap'; contentType: string; bytes: Buffer }
  /** The REST body, or each SOAP attachment part's raw bytes. */
  attachments: Body[]
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
  const boundary = transportBoundary(contentType)
  const parts = parseMultipart(body, boundary, limits)
  const order = new TransportPartOrder(kind)
  const decoded: Partial<TransportMessage> & { ocspResponses: Buffer[]; attachments: Buffer[] } = { ocspResponses: [], attachments: [] }
  for (const part of parts) {
    const role = order.next(part.contentType)
    if (role === 'body') decoded.attachments.push(part.body)
    else if (role === 'attachments') decoded.attachments.push(...nestedAttachments(part.contentType, part.body, limits))
    else place(decoded, role, part.contentType, part.body)
  }
  order.finish()
  return decoded as TransportMessage
}

/** The multipart boundary of a transport message's content type (`invalid_content_type` otherwise). */
export function transportBoundary(contentType: string): string {
  if (mediaTypeOf(contentType) !== 'multipart/mixed') {
    throw clientError('invalid_content_type', `Invalid content type: ${contentType.slice(0, 100)}`)
  }
  const boundary = boundaryOf(contentType)
  if (boundary === undefined) throw clientError('invalid_content_type', 'Multipart content type has no boundary')
  return boundary
}

/** What a part of a transport message is, by its place in the order `ProxyMessageDecoder` enforces. */
export type TransportPartRole = 'ocsp' | 'message' | 'body' | 'attachments' | 'hashChainResult' | 'hashChain' | 'signature' | 'fault'

type OrderState = 'start' | 'message' | 'body' | 'hashChainResult' | 'hashChain' | 'signature' | 'done'

/**
 * The part order of PR-MESSTRANSP §3, decided part by part as each one begins (so that a streaming reader knows
 * where a part's content goes before it arrives): OCSP responses, the message part (REST header part or SOAP),
 * the REST body or the SOAP attachments, the hash-chain result with its hash chain, the signature, and on a response
 * a trailing `text/xml` fault.
 */
export class TransportPartOrder {
  private state: OrderState = 'start'
  private messageType: 'rest' | 'soap' | undefined
  private signed = false
  private faulted = false

  constructor(private readonly kind: MessageKind) {}

  get type(): 'rest' | 'soap' | undefined {
    return this.messageType
  }

  next(contentType: string): TransportPartRole {
    const media = mediaTypeOf(contentType)
    if (this.state === 'start') {
      if (media === PART_TYPES.ocsp) return 'ocsp'
      const expectedRest = this.kind === 'request' ? PART_TYPES.restRequest : PART_TYPES.restResponse
      if (media === expectedRest) this.messageType = 'rest'
      else if (media === PART_TYPES.soap || media === PART_TYPES.xop) this.messageType = 'soap'
      else throw invalidContentType(contentType)
      this.state = 'message'
      return 'message'
    }
    // Each optional group that is absent passes the part on to the next one.
    if (this.state === 'message') {
      this.state = 'body'
      if (this.messageType === 'rest' && media === PART_TYPES.restBody) return 'body'
      if (this.messageType === 'soap' && media === PART_TYPES.attachments) return 'attachments'
    }
    if (this.state === 'body') {
      if (media === PART_TYPES.hashChainResult) {
        this.state = 'hashChainResult'
        return 'hashChainResult'
      }
      this.state = 'hashChain'
    } else if (this.state === 'hashChainResult') {
      if (media !== PART_TYPES.hashChain) throw clientError('invalid_message', 'Hash chain result without hash chain part')
      this.state = 'hashChain'
      return 'hashChain'
    }
    const soapFault = media === PART_TYPES.soap && this.kind === 'response'
    if (this.state === 'hashChain') {
      if (media === PART_TYPES.signature) {
        this.state = 'signature'
        this.signed = true
        return 'signature'
      }
      if (soapFault) return this.fault()
      throw invalidContentType(contentType)
    }
    if (this.state === 'signature' && soapFault) return this.fault()
    throw clientError('invalid_message', 'Extra content after the signature')
  }

  /**
   * A response whose only part (after any OCSP parts) is `text/xml`: possibly the fault a provider sends once it has
   * begun answering (`ProxyMessageEncoder.fault`; `ProxyMessageDecoder.handleSoap` hands a fault there to the
   * consumer). The reader leaves it to its caller to tell a fault from an unsigned SOAP message.
   */
  get soapOnlyResponse(): boolean {
    return this.kind === 'response' && this.messageType === 'soap' && this.state === 'message' && !this.signed
  }

  /**
   * The message ended: it needs its message part; a response also a signature or a fault (or it may be a fault-only
   * response). A request without a signature is read whole: the server proxy refuses it after reading, unprefixed
   * (`checkRequest`: `missing_signature`).
   */
  finish(): void {
    if (this.state === 'start') throw clientError('missing_rest', 'Request does not contain a message part')
    if (this.state === 'hashChainResult') throw clientError('invalid_message', 'Hash chain result without hash chain part')
    if (this.kind === 'response' && !this.signed && !this.faulted && !this.soapOnlyResponse) {
      throw clientError('missing_signature', 'Message does not contain a signature')
    }
  }

  private fault(): TransportPartRole {
    this.state = 'done'
    this.faulted = true
    return 'fault'
  }
}

function invalidContentType(contentType: string): Error {
  return clientError('invalid_content_type', `Invalid content type: ${contentType.slice(0, 100)}`)
}

function place(decoded: Partial<TransportMessage<unknown>>, role: Exclude<TransportPartRole, 'body' | 'attachments'>, contentType: string, bytes: Buffer): void {
  switch (role) {
    case 'ocsp':
      decoded.ocspResponses?.push(bytes)
      return
    case 'message': {
      const media = mediaTypeOf(contentType)
      decoded.message = { type: media === PART_TYPES.restRequest || media === PART_TYPES.restResponse ? 'rest' : 'soap', contentType, bytes }
      return
    }
    case 'hashChainResult':
      decoded.hashChainResult = bytes
      return
    case 'hashChain':
      decoded.hashChain = bytes
      return
    case 'signature':
      decoded.signature = bytes
      return
    case 'fault':
      decoded.fault = bytes
  }
}

function nestedAttachments(contentType: string, bytes: Buffer, limits: MultipartLimits): Buffer[] {
  const nestedBoundary = boundaryOf(contentType)
  if (nestedBoundary === undefined) throw clientError('invalid_content_type', 'Attachment multipart has no boundary')
  return parseMultipart(bytes, nestedBoundary, limits).map((p) => p.body)
}

/** Largest part other than the REST body that a streamed message may carry in memory (header part, OCSP, signature…). */
export const MAX_STREAMED_PART_BYTES = 1024 * 1024

export interface StreamedTransportOptions {
  limits: MultipartLimits
  bodies: BodyStore
  /** The message's declared length: a bound on its REST body, asked of the budget when the body part begins. */
  declaredLength?: number
  /** Limits for the REST body, decided from the message part once it has arrived (e.g. the message log's). */
  bodyLimits(messagePart: Buffer): readonly BodyLimit[]
  /** Told the length of each chunk of the message as it arrives. */
  received?(bytes: number): void
}

/**
 * Reads a transport message as it arrives: the REST body part into a `MessageBody` (hashed, spooled past the
 * budget's threshold, its limits applied as it grows), every other part into memory taken from the budget (at most
 * `MAX_STREAMED_PART_BYTES` each). The part order is checked as each part begins.
 */
export async function readTransportMessage(
  contentType: string,
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  kind: MessageKind,
  options: StreamedTransportOptions,
): Promise<TransportMessage<MessageBody>> {
  const boundary = transportBoundary(contentType)
  const order = new TransportPartOrder(kind)
  const decoded: Partial<TransportMessage<MessageBody>> & { ocspResponses: Buffer[]; attachments: MessageBody[] } = { ocspResponses: [], attachments: [] }
  const partsMemory = options.bodies.budget.tryMemory(0)
  if (partsMemory === undefined) throw busy('no room for a message in its in-flight memory budget')
  let receiver: BodyReceiver | undefined
  const handler = {
    startPart: (_headers: Array<[string, string]>, partType: string): PartSink => {
      const role = order.next(partType)
      if (role === 'body') {
        receiver = options.bodies.receiver({
          limits: options.bodyLimits(decoded.message?.bytes ?? Buffer.alloc(0)),
          ...(options.declaredLength === undefined ? {} : { expectedLength: options.declaredLength }),
        })
        const bodyReceiver = receiver
        return {
          write: (chunk) => bodyReceiver.write(chunk),
          end: async () => {
            decoded.attachments.push(await bodyReceiver.end())
            receiver = undefined
          },
        }
      }
      const chunks: Buffer[] = []
      let size = 0
      return {
        write(chunk) {
          size += chunk.length
          if (size > MAX_STREAMED_PART_BYTES) throw clientError('invalid_message', `A ${mediaTypeOf(partType).slice(0, 60)} part is larger than ${MAX_STREAMED_PART_BYTES} bytes`)
          if (!partsMemory.tryGrow(chunk.length)) throw busy('no room for the message parts in its in-flight memory budget')
          chunks.push(Buffer.from(chunk))
        },
        end() {
          // Each chunk is a copy already: a part that came in one chunk is used as it is.
          const bytes = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size)
          if (role === 'attachments') {
            for (const attachment of nestedAttachments(partType, bytes, options.limits)) decoded.attachments.push(bufferBody(attachment))
          } else {
            place(decoded, role, partType, bytes)
          }
        },
      }
    },
  }
  try {
    await readMultipartStream(source, boundary, handler, options.limits, options.received)
    order.finish()
  } catch (error) {
    receiver?.abort()
    for (const body of decoded.attachments) body.release()
    throw error
  } finally {
    // The parts are small and held by the decoded message; the budget covered them while they arrived.
    partsMemory.release()
  }
  return decoded as TransportMessage<MessageBody>
}

/** Checks the decoded message is a REST one (PR-MESSTRANSP §3: `x-road-message-type: REST`). */
export function requireRestMessage(message: TransportMessage<unknown>): void {
  if (message.message.type !== 'rest') throw clientError('missing_rest', 'Message does not contain a REST part')
}

export interface TransportMessageInput<Body = Uint8Array> {
  kind: MessageKind
  ocspResponses?: Uint8Array[]
  headerPart: Uint8Array
  body?: Body
  hashChainResult?: Uint8Array
  hashChain?: Uint8Array
  signature: Uint8Array
}

function transportParts<Body extends Uint8Array | BodySource>(input: TransportMessageInput<Body>): Array<{ contentType: string; body: Uint8Array | Body }> {
  const parts: Array<{ contentType: string; body: Uint8Array | Body }> = []
  for (const ocsp of input.ocspResponses ?? []) parts.push({ contentType: PART_TYPES.ocsp, body: ocsp })
  parts.push({ contentType: input.kind === 'request' ? PART_TYPES.restRequest : PART_TYPES.restResponse, body: input.headerPart })
  if (input.body !== undefined && sizeOf(input.body) > 0) parts.push({ contentType: PART_TYPES.restBody, body: input.body })
  if (input.hashChainResult !== undefined) {
    if (input.hashChain === undefined) throw clientError('invalid_message', 'A hash chain result needs its hash chain')
    parts.push({ contentType: PART_TYPES.hashChainResult, body: input.hashChainResult }, { contentType: PART_TYPES.hashChain, body: input.hashChain })
  }
  parts.push({ contentType: PART_TYPES.signature, body: input.signature })
  return parts
}

function sizeOf(body: Uint8Array | BodySource): number {
  return body instanceof Uint8Array ? body.byteLength : body.size
}

const transportContentType = (boundary: string): string => `multipart/mixed; charset=UTF-8; boundary=${boundary}`

/** Encodes a REST transport message; returns the multipart body and its content type. */
export function encodeRestTransportMessage(input: TransportMessageInput, boundary = newBoundary()): { contentType: string; body: Buffer } {
  return { contentType: transportContentType(boundary), body: encodeMultipart(boundary, transportParts(input)) }
}

/**
 * The same message as a stream: the small parts as buffers around the body, which is read (from memory or its
 * spool file) only as the message is written out. Releasing the result releases the body.
 */
export function encodeRestTransportStream(input: TransportMessageInput<BodySource>, boundary = newBoundary()): { contentType: string; body: BodySource } {
  // The delimiters and the small parts between two bodies are written into one buffer each (issue 15 §5: one
  // allocation per run instead of a buffer per delimiter, line end and part, then their concatenation).
  const segments: Array<Uint8Array | BodySource> = []
  const run: Array<string | Uint8Array> = []
  let runBytes = 0
  const add = (item: string | Uint8Array): void => {
    run.push(item)
    runBytes += typeof item === 'string' ? item.length : item.byteLength
  }
  for (const part of transportParts(input)) {
    add(`--${boundary}\r\ncontent-type: ${part.contentType}\r\n\r\n`)
    if (part.body instanceof Uint8Array) add(part.body)
    else {
      segments.push(writeRun(run, runBytes), part.body)
      run.length = 0
      runBytes = 0
    }
    add('\r\n')
  }
  add(`--${boundary}--\r\n`)
  segments.push(writeRun(run, runBytes))
  if (input.body !== undefined && input.body.size === 0) segments.push(input.body)
  return { contentType: transportContentType(boundary), body: concatSources(segments) }
}

/** Delimiter lines (latin1: ASCII boundaries and media types) and part bytes, in one buffer. */
function writeRun(run: ReadonlyArray<string | Uint8Array>, size: number): Buffer {
  const out = Buffer.allocUnsafe(size)
  let at = 0
  for (const item of run) {
    if (typeof item === 'string') at += out.write(item, at, 'latin1')
    else {
      out.set(item, at)
      at += item.byteLength
    }
  }
  return out
}

/**
 * A provider's fault once it has begun answering (X-Road's `ProxyMessageEncoder.fault` with nothing written before
 * it): a transport multipart whose only part is the fault, `text/xml; charset=UTF-8`.
 */
export function encodeFaultTransportMessage(faultXml: Uint8Array, boundary = newBoundary()): { contentType: string; body: Buffer } {
  return { contentType: transportContentType(boundary), body: encodeMultipart(boundary, [{ contentType: 'text/xml; charset=UTF-8', body: faultXml }]) }
}

/** HTTP headers of a REST request from the consumer SS (§4.3 table). */
export function transportRequestHeaders(input: { requestId: string; originalContentType?: string; proxyVersion: string }): Array<[string, string]> {
  const headers: Array<[string, string]> = [[TRANSPORT_HEADERS.requestId, input.requestId], [TRANSPORT_HEADERS.hashAlgorithm, HASH_ALGORITHM]]
  if (input.originalContentType !== undefined) headers.push([TRANSPORT_HEADERS.originalContentType, input.originalContentType])
  headers.push([TRANSPORT_HEADERS.proxyVersion, input.proxyVersion], [TRANSPORT_HEADERS.messageType, 'REST'])
  return headers
}

/** `x-hash-algorithm` must name SHA-512 (parsed case-insensitively; §4.3). */
export function checkHashAlgorithm(value: string | undefined): void {
  if (value === undefined) throw clientError('missing_header', 'Missing header x-hash-algorithm')
  if (value.trim().toUpperCase() !== HASH_ALGORITHM) throw clientError('invalid_message', `Unsupported hash algorithm: ${value.slice(0, 40)}`)
}

import { clientError, SecurityServerError } from '../../platform'
import type { BodyLimit, BodySource, IncomingBody } from './message-body'

/**
 * The size limits a body is received under: the listener's (`maxBodyBytes`, B7) and the message log's
 * (`max-loggable-message-body-size` when the exchange's bodies are logged; reliability-and-security.md §1.1), both
 * applied to the declared length before anything is read and to the counted length as the body arrives.
 */
export function transportLimit(maxBytes: number): BodyLimit {
  return {
    maxBytes,
    error: (size) => clientError('body_too_large', `Request body of ${size} bytes exceeds the limit of ${maxBytes} bytes`),
  }
}

/** The message log's limit, none when the exchange's bodies are not logged. */
export function loggingLimits(maxBytes: number | undefined): BodyLimit[] {
  if (maxBytes === undefined) return []
  return [{
    maxBytes,
    error: (size) => clientError('logging_failed', `Message body of ${size} bytes exceeds the loggable maximum of ${maxBytes} bytes`),
  }]
}

/** A body handed over as bytes (direct calls of the pipelines) or as a stream with its declared length. */
export function incomingStream(body: Uint8Array | IncomingBody): { stream: IncomingBody['stream']; declaredLength?: number; maxBytes?: number } {
  if (body instanceof Uint8Array) return { stream: [body], declaredLength: body.byteLength }
  return body
}

/** At most `maxBytes` of a stream in one buffer (a fault answer); more is `invalid_message`. */
export async function readBounded(stream: IncomingBody['stream'], maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of stream) {
    size += chunk.byteLength
    if (size > maxBytes) throw new SecurityServerError('invalid_message', `Answer is larger than ${maxBytes} bytes`)
    chunks.push(Buffer.from(chunk))
  }
  return Buffer.concat(chunks, size)
}

/** An empty body is no body part (xroad-protocols.md §4.4: `/attachment1` only with a body). */
export function nonEmpty<B extends BodySource>(body: B | undefined): B | undefined {
  return body === undefined || body.size === 0 ? undefined : body
}

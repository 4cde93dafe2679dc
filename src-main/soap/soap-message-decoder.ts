import { clientError } from '../platform'
import { mediaTypeOf, readSoap, DEFAULT_SOAP_LIMITS, type Soap, type SoapLimits } from './soap-parser'

/**
 * A SOAP message as an information system or a service sends it (X-Road's `SoapMessageDecoder`; PR-MESS §2.4;
 * xroad-protocols.md §3.3): `text/xml` or `application/xop+xml` is the SOAP message itself; `multipart/related`
 * (SOAP with attachments, or MTOM/XOP) has the SOAP message as its first part — as X-Road reads it, whatever `start`
 * says — and every further part is an attachment kept with its MIME headers and its raw bytes (no transfer decoding);
 * a nested multipart part is read into its own parts, as X-Road's recursive MIME reader does. A part without a
 * Content-Type ⇒ `invalid_content_type`; a first part that is not SOAP ⇒ `invalid_content_type`; no part at all ⇒
 * `missing_soap`; another media type ⇒ `invalid_content_type`.
 *
 * The MIME reading itself is the caller's (`MultipartSplitter`: the proxy's bounded multipart reader, which limits
 * size, part count and header size); this file stays pure. Complexity: O(n) over the parts, nesting at most
 * {@link MAX_NESTING} levels.
 */
export interface MimeHeaders {
  /** Every header of the part as received, Content-Type included, in order. */
  headers: Array<[string, string]>
}

export interface SoapAttachment extends MimeHeaders {
  contentType: string
  body: Buffer
}

export interface DecodedSoapMessage {
  /** The Content-Type the message came with (a multipart one keeps its boundary and `start`). */
  contentType: string
  soap: Soap
  /** Headers of the SOAP part when the message was multipart. */
  soapPartHeaders?: Array<[string, string]>
  attachments: SoapAttachment[]
}

/** Splits a multipart body into its parts by its Content-Type's boundary; returns no parts when none is found. */
export type MultipartSplitter = (body: Buffer, contentType: string) => Array<{ headers: Array<[string, string]>; body: Buffer }>

export const MAX_NESTING = 4

export function decodeSoapMessage(contentType: string, body: Buffer, split: MultipartSplitter, limits: SoapLimits = DEFAULT_SOAP_LIMITS): DecodedSoapMessage {
  const mediaType = mediaTypeOf(contentType)
  if (mediaType === '') throw clientError('invalid_request', 'Could not get content type from request')
  if (mediaType === 'text/xml' || mediaType === 'application/xop+xml') return { contentType, soap: readSoap(body, contentType, limits), attachments: [] }
  if (mediaType !== 'multipart/related') throw clientError('invalid_content_type', `Invalid content type: ${mediaType.slice(0, 60)}`)
  const parts = leafParts(split(body, contentType), split, 0)
  const first = parts[0]
  if (first === undefined) throw clientError('missing_soap', 'Request does not contain SOAP message')
  return {
    contentType,
    soap: readSoap(first.body, first.contentType, limits),
    soapPartHeaders: first.headers,
    attachments: parts.slice(1),
  }
}

function leafParts(parts: Array<{ headers: Array<[string, string]>; body: Buffer }>, split: MultipartSplitter, depth: number): SoapAttachment[] {
  const out: SoapAttachment[] = []
  for (const part of parts) {
    const contentType = part.headers.find(([name]) => name.toLowerCase() === 'content-type')?.[1]
    if (contentType === undefined) throw clientError('invalid_content_type', 'Could not get content type for part')
    // The first part of the message is the SOAP part, read as such even when it claims to be multipart.
    if ((depth > 0 || out.length > 0) && mediaTypeOf(contentType).startsWith('multipart/')) {
      if (depth >= MAX_NESTING) throw clientError('mime_parsing_failed', `Multipart parts nested deeper than ${MAX_NESTING} levels`)
      out.push(...leafParts(split(part.body, contentType), split, depth + 1))
    } else {
      out.push({ headers: part.headers, contentType, body: part.body })
    }
  }
  return out
}

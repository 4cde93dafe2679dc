/**
 * Writing a multipart SOAP message (X-Road's `MultipartEncoder`, `MultipartSoapMessageEncoder`; RFC 2046 §5.1): each
 * part as `--boundary`, its `Content-Type`, its other MIME headers as received, a blank line and its content; parts
 * separated by CRLF, closed by `--boundary--`. Used to rebuild the message for the service and the information system
 * with the original boundary (`ProxyMessage.writeSoapContent`) and for the nested attachment part between security
 * servers. The content of a part is passed through as given (bytes or a streamed body), so the result is a list of
 * segments for the caller to write out in order.
 *
 * Complexity: O(parts + header bytes); contents are not copied.
 */
export interface MultipartPart<Body> {
  contentType: string
  /** The part's other MIME headers (a Content-Type among them is left out: it is written from `contentType`). */
  headers: ReadonlyArray<readonly [string, string]>
  body: Uint8Array | Body
}

export function multipartSegments<Body>(boundary: string, parts: ReadonlyArray<MultipartPart<Body>>): Array<Uint8Array | Body> {
  const segments: Array<Uint8Array | Body> = []
  parts.forEach((part, i) => {
    let head = `${i > 0 ? '\r\n' : ''}--${boundary}\r\nContent-Type: ${part.contentType}\r\n`
    for (const [name, value] of part.headers) if (name.toLowerCase() !== 'content-type') head += `${name}: ${value}\r\n`
    segments.push(Buffer.from(`${head}\r\n`, 'latin1'), part.body)
  })
  segments.push(Buffer.from(`${parts.length > 0 ? '\r\n' : ''}--${boundary}--\r\n`, 'latin1'))
  return segments
}

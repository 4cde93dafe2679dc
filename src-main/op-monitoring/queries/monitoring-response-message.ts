import { randomBytes } from 'node:crypto'
import { XMLSerializer } from '@xmldom/xmldom'
import { childElements, parseXml, SecurityServerError } from '../../platform'
import type { MonitoringAnswer } from './monitoring-query-service'

/**
 * The response message of a monitoring service, as the service side of the server proxy receives it before it adds
 * `requestHash`, signs and logs (X-Road's op-monitor daemon and proxy monitor: `SoapUtils.toResponse` copies the
 * request message — its header unchanged — and replaces the body's content with the answer). Without attachments it is
 * the SOAP message as `text/xml; charset=UTF-8`; with them a `multipart/related; type="text/xml"` message (SwA) with the
 * SOAP part first and each attachment with its own headers (`MultipartSoapMessageEncoder`).
 *
 * The request is read with platform's `parseXml` (bounded, no DTDs) and written back with the DOM serializer.
 */
const SOAP_ENV_NS = 'http://schemas.xmlsoap.org/soap/envelope/'
const SOAP_CONTENT_TYPE = 'text/xml; charset=UTF-8'

export interface MonitoringResponseMessage {
  contentType: string
  body: Buffer
  /** The SOAP part alone (the whole body when there are no attachments). */
  soap: Buffer
}

/** The request envelope with its body's content replaced by `bodyXml`. */
export function responseEnvelope(requestEnvelope: string | Uint8Array, bodyXml: string): Buffer {
  const doc = parseXml(requestEnvelope, { maxBytes: 1024 * 1024, maxDepth: 32, maxNodes: 20_000 })
  const envelope = doc.documentElement
  const body = envelope === null ? undefined : childElements(envelope, SOAP_ENV_NS, 'Body')[0]
  if (body === undefined) throw new SecurityServerError('invalid_soap', 'The request has no SOAP body')
  while (body.firstChild !== null) body.removeChild(body.firstChild)
  const answer = parseXml(bodyXml).documentElement
  if (answer === null) throw new SecurityServerError('internal_error', 'The monitoring answer has no element')
  body.appendChild(doc.importNode(answer, true))
  return Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>${new XMLSerializer().serializeToString(envelope as never)}`, 'utf8')
}

export function monitoringResponseMessage(
  requestEnvelope: string | Uint8Array, answer: MonitoringAnswer, boundary = `xroad${randomBytes(18).toString('base64url')}`,
): MonitoringResponseMessage {
  const soap = responseEnvelope(requestEnvelope, answer.bodyXml)
  if (answer.attachments.length === 0) return { contentType: SOAP_CONTENT_TYPE, body: soap, soap }
  const parts: Buffer[] = [Buffer.from(`--${boundary}\r\nContent-Type: ${SOAP_CONTENT_TYPE}\r\n\r\n`, 'latin1'), soap]
  for (const a of answer.attachments) {
    const headers = a.headers.map(([name, value]) => `${name}: ${value}\r\n`).join('')
    parts.push(Buffer.from(`\r\n--${boundary}\r\nContent-Type: ${a.contentType}\r\n${headers}\r\n`, 'latin1'), a.content)
  }
  parts.push(Buffer.from(`\r\n--${boundary}--\r\n`, 'latin1'))
  return { contentType: `multipart/related; type="text/xml"; charset=UTF-8; boundary=${boundary}`, body: Buffer.concat(parts), soap }
}

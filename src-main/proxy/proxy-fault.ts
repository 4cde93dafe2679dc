import { randomUUID } from 'node:crypto'
import { toSecurityServerError } from '../platform'
import { faultCodeOf, soapFaultXml, SoapFaultError } from '../soap'
import type { HeaderList } from './rest/rest-headers'

/**
 * Translating a SecurityServerError into the protocol's error format at the edge: the REST error body with
 * `X-Road-Error` (PR-REST §4.6; xroad-protocols.md §2.5) and the SOAP fault (PR-MESS §2.5; §3.4).
 */
export interface ErrorResponse {
  status: number
  headers: HeaderList
  body: Buffer
  /** The UUID in `detail`, to correlate with our log line. */
  detail: string
}

/**
 * X-Road's `ClientRestMessageHandler.sendErrorResponse`: `server.*` ⇒ 500, anything else ⇒ 400, `X-Road-Error` with the
 * code; the body is XML when an `Accept` value names `text/xml`, `application/xml` or `text/*` (the first such, `text/*`
 * answered as `text/xml`, content type `…;charset=utf-8`), else JSON as `application/json` — without a charset, as
 * Jetty writes a type whose charset is implied (`JettyUtils.setContentType`). `accept` is every `Accept` value, joined
 * with commas ({@link acceptValues}).
 */
export function restErrorResponse(error: unknown, accept: string | undefined, newUuid: () => string = randomUUID): ErrorResponse {
  const coded = toSecurityServerError(error)
  const type = faultCodeOf(coded)
  const detail = coded.detail ?? newUuid()
  const status = type.startsWith('server.') ? 500 : 400
  const xmlType = errorXmlType(accept)
  // `XmlUtils.prettyPrintXml` (a JAXP transformer without indentation) and Jackson's compact generator.
  const body = xmlType !== undefined
    ? `<?xml version="1.0" encoding="UTF-8" standalone="no"?><error><type>${escapeXml(type)}</type><message>${escapeXml(coded.message)}</message><detail>${escapeXml(detail)}</detail></error>`
    : JSON.stringify({ type, message: coded.message, detail })
  return {
    status,
    headers: [
      ['Content-Type', xmlType === undefined ? 'application/json' : `${xmlType};charset=utf-8`],
      ['X-Road-Error', type],
    ],
    body: Buffer.from(body, 'utf8'),
    detail,
  }
}

const XML_TYPES = ['text/xml', 'application/xml', 'text/*']

/** `ClientRestMessageHandler.decideErrorResponseContentType`: the first XML type among the `Accept` values, if any. */
function errorXmlType(accept: string | undefined): string | undefined {
  if (accept === undefined) return undefined
  const found = accept
    .split(',')
    .map((range) => (range.split(';', 1)[0] as string).trim().toLowerCase())
    .find((type) => XML_TYPES.includes(type))
  return found === 'text/*' ? 'text/xml' : found
}

/** Every `Accept` header of a request, joined with commas (X-Road reads all of them, `getValues("Accept")`). */
export function acceptValues(headers: HeaderList): string | undefined {
  const values = headers.filter(([name]) => name.toLowerCase() === 'accept').map(([, value]) => value)
  return values.length === 0 ? undefined : values.join(',')
}

/** A SOAP fault for an error: HTTP 200, `text/xml; charset=UTF-8`, empty `SOAPAction` (§3.4). */
export function soapFaultResponse(error: unknown, newUuid: () => string = randomUUID): ErrorResponse {
  const coded = toSecurityServerError(error)
  const detail = coded.detail ?? newUuid()
  return {
    status: 200,
    headers: [['Content-Type', 'text/xml; charset=UTF-8'], ['SOAPAction', '']],
    body: Buffer.from(soapFaultXml(faultCodeOf(coded), coded.message, detail, coded instanceof SoapFaultError ? coded.faultActor : undefined), 'utf8'),
    detail,
  }
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] as string)
}

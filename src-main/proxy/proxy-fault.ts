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

/** `server.*` ⇒ 500, anything else (`client.*`) ⇒ 400; body XML when `Accept` asks for it, else JSON. */
export function restErrorResponse(error: unknown, accept: string | undefined, newUuid: () => string = randomUUID): ErrorResponse {
  const coded = toSecurityServerError(error)
  const type = faultCodeOf(coded)
  const detail = coded.detail ?? newUuid()
  const status = type.startsWith('server.') ? 500 : 400
  const wantsXml = accept !== undefined && /(^|,)\s*(application\/xml|text\/xml|text\/\*)\s*(;|,|$)/i.test(accept)
  const body = wantsXml
    ? `<error><type>${escapeXml(type)}</type><message>${escapeXml(coded.message)}</message><detail>${escapeXml(detail)}</detail></error>`
    : JSON.stringify({ type, message: coded.message, detail })
  return {
    status,
    headers: [
      ['Content-Type', wantsXml ? 'application/xml; charset=UTF-8' : 'application/json; charset=UTF-8'],
      ['X-Road-Error', type],
    ],
    body: Buffer.from(body, 'utf8'),
    detail,
  }
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

import { clientError } from '../platform'

/**
 * `SOAPAction` (SOAP 1.1 §6.1.1; X-Road's `MessageProcessorBase.validateSoapActionHeader`): absent, empty and `""` are
 * accepted; otherwise a double-quoted URI reference (RFC 2396, as `java.net.URI` parses it), else
 * `invalid_soap_action`. The value travels between security servers as `x-original-soapaction` and is given to the
 * service as `SOAPAction` unchanged.
 *
 * Complexity: one pass over the header value (bounded by the HTTP header limits).
 */
export const ORIGINAL_SOAP_ACTION_HEADER = 'x-original-soapaction'

export function validateSoapAction(soapAction: string | undefined): string | undefined {
  if (soapAction === undefined || soapAction === '' || soapAction === '""') return soapAction
  const last = soapAction.length - 1
  if (last > 1 && soapAction[0] === '"' && soapAction[last] === '"' && isUriReference(soapAction.slice(1, last))) return soapAction
  throw clientError('invalid_soap_action', 'Malformed SOAPAction header')
}

/** RFC 2396 characters (unreserved, reserved, '%' HEX HEX, '#' once) and the non-ASCII ones `java.net.URI` admits. */
function isUriReference(value: string): boolean {
  let fragment = false
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i)
    if (c === 0x25) {
      if (!isHex(value.charCodeAt(i + 1)) || !isHex(value.charCodeAt(i + 2))) return false
      i += 2
    } else if (c === 0x23) {
      if (fragment) return false
      fragment = true
    } else if (c > 0x7f) {
      if (c <= 0x9f || c === 0xa0 || c === 0x2028 || c === 0x2029) return false
    } else if (!URI_CHARS.has(value[i] as string)) return false
  }
  return true
}

const URI_CHARS = new Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.!~*'();/?:@&=+$,[]")

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66)
}

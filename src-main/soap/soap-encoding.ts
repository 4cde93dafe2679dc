import { clientError } from '../platform'

/**
 * The character encoding of a SOAP message (xroad-protocols.md §3.1): a UTF-8 byte-order mark, else the encoding the
 * XML declaration names, else the `charset` of the part's Content-Type, else UTF-8. UTF-8, ISO-8859-1 and US-ASCII
 * are read; the BOM is not part of the text but stays part of the message's bytes.
 *
 * Complexity: the declaration is looked for in the first {@link DECLARATION_WINDOW} bytes only, by a forward scan; the
 * decoding is one pass over the bytes.
 */
export type SoapCharset = 'UTF-8' | 'ISO-8859-1' | 'US-ASCII'

export interface DecodedSoap {
  text: string
  charset: SoapCharset
  /** Bytes before the text (a UTF-8 BOM: 3, else 0). */
  prefixBytes: number
}

const DECLARATION_WINDOW = 256

const CHARSET_NAMES: Record<string, SoapCharset> = {
  'utf-8': 'UTF-8', utf8: 'UTF-8',
  'iso-8859-1': 'ISO-8859-1', iso8859_1: 'ISO-8859-1', 'iso_8859-1': 'ISO-8859-1', latin1: 'ISO-8859-1', 'iso-latin-1': 'ISO-8859-1', l1: 'ISO-8859-1',
  'us-ascii': 'US-ASCII', ascii: 'US-ASCII',
}

/** The `charset` parameter of a Content-Type, unquoted; undefined when absent. */
export function charsetOf(contentType: string | undefined): string | undefined {
  if (contentType === undefined) return undefined
  for (const param of contentType.split(';').slice(1)) {
    const eq = param.indexOf('=')
    if (eq < 0 || param.slice(0, eq).trim().toLowerCase() !== 'charset') continue
    return param.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1')
  }
  return undefined
}

/** The `encoding` pseudo-attribute of an XML declaration at the start of `head` (XML 1.0 §2.8, §4.3.3). */
export function declaredEncoding(head: string): string | undefined {
  if (!head.startsWith('<?xml')) return undefined
  const end = head.indexOf('?>')
  const declaration = end < 0 ? head : head.slice(0, end)
  const at = declaration.indexOf('encoding')
  if (at < 0) return undefined
  let i = at + 'encoding'.length
  while (declaration[i] === ' ' || declaration[i] === '\t' || declaration[i] === '\r' || declaration[i] === '\n') i++
  if (declaration[i] !== '=') return undefined
  i++
  while (declaration[i] === ' ' || declaration[i] === '\t' || declaration[i] === '\r' || declaration[i] === '\n') i++
  const quote = declaration[i]
  if (quote !== '"' && quote !== "'") return undefined
  const close = declaration.indexOf(quote, i + 1)
  return close < 0 ? undefined : declaration.slice(i + 1, close)
}

function charsetNamed(name: string): SoapCharset {
  const charset = CHARSET_NAMES[name.trim().toLowerCase()]
  if (charset === undefined) throw clientError('invalid_soap', `Unsupported character encoding ${JSON.stringify(name.slice(0, 40))}`)
  return charset
}

export function decodeSoap(bytes: Uint8Array, contentType: string | undefined): DecodedSoap {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const bom = buffer[0] === 0xef && buffer[1] === 0xbb && buffer[2] === 0xbf ? 3 : 0
  const declared = declaredEncoding(buffer.subarray(bom, bom + DECLARATION_WINDOW).toString('latin1'))
  const named = bom > 0 ? 'UTF-8' : (declared ?? charsetOf(contentType) ?? 'UTF-8')
  const charset = charsetNamed(named)
  const body = buffer.subarray(bom)
  let text: string
  if (charset === 'UTF-8') {
    try {
      text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(body)
    } catch {
      throw clientError('invalid_soap', 'Malformed SOAP message: the bytes are not valid UTF-8')
    }
  } else {
    if (charset === 'US-ASCII' && body.some((b) => b > 0x7f)) throw clientError('invalid_soap', 'Malformed SOAP message: a byte outside US-ASCII')
    text = body.toString('latin1')
  }
  return { text, charset, prefixBytes: bom }
}

/** The byte offset of text offset `at` in a message decoded as `decoded`. */
export function byteOffset(decoded: DecodedSoap, at: number): number {
  const before = decoded.text.slice(0, at)
  return decoded.prefixBytes + (decoded.charset === 'UTF-8' ? Buffer.byteLength(before, 'utf8') : before.length)
}

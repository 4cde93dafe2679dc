/**
 * A single-pass well-formedness scanner for XML 1.0 (W3C XML 1.0 5th ed. §2–§4), run before the DOM is built so
 * that the DOM parser only ever sees well-formed, bounded input. It enforces the limits while reading: document
 * size, element depth, node count, attributes per element, name length and text length; it refuses document type
 * declarations (so no entity expansion, no external entities) and every entity reference but the five predefined
 * ones and character references.
 *
 * Complexity: O(n) time in the length of the document and O(depth × maxNameLength + maxAttributes × maxNameLength)
 * space. The cursor only moves forward; every `indexOf` searches for the end of the construct it is in and either
 * finds it (the cursor then moves past it) or fails the document, so no character is examined more than a
 * constant number of times. Every error message quotes at most {@link QUOTE_LIMIT} characters of the input.
 *
 * With an {@link XmlScanHandler} the scan also reports start tags (attribute values as written), end tags and
 * character data by their offsets in the text, SAX-like, for readers that must keep the document's own bytes (the
 * SOAP envelope reader): O(n) more, the attributes of one tag being collected only when a handler is given.
 */
export interface XmlScanLimits {
  maxDepth: number
  maxNodes: number
  maxAttributes: number
  maxNameLength: number
  maxTextLength: number
}

/** Events of a scan, with offsets into the scanned text; an empty-element tag reports its end right after its start. */
export interface XmlScanHandler {
  startElement(name: string, attributes: ReadonlyArray<readonly [string, string]>, start: number, end: number): void
  endElement(name: string, start: number, end: number): void
  /** Character data between markup inside the root (`cdata`: a CDATA section's content, references not to decode). */
  text(from: number, to: number, cdata: boolean): void
}

export class XmlScanError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'XmlScanError'
  }
}

/** Longest piece of the input an error message quotes. */
export const QUOTE_LIMIT = 40

export function quote(value: string): string {
  return JSON.stringify(value.length > QUOTE_LIMIT ? `${value.slice(0, QUOTE_LIMIT)}…` : value)
}

const PREDEFINED_ENTITIES = new Set(['lt', 'gt', 'amp', 'quot', 'apos'])

/** XML 1.0 §2.2 Char: the code units that may never appear (C0 controls other than TAB, LF, CR; U+FFFE, U+FFFF). */
const INVALID_CHAR = /[\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]/

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d
}

/** XML 1.0 §2.3 NameStartChar (a supplementary character is accepted by its surrogate code units). */
function isNameStart(c: number): boolean {
  if (c < 0x80) return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f || c === 0x3a
  return (c >= 0xc0 && c <= 0xd6) || (c >= 0xd8 && c <= 0xf6) || (c >= 0xf8 && c <= 0x2ff) || (c >= 0x370 && c <= 0x37d) ||
    (c >= 0x37f && c <= 0x1fff) || c === 0x200c || c === 0x200d || (c >= 0x2070 && c <= 0x218f) || (c >= 0x2c00 && c <= 0x2fef) ||
    (c >= 0x3001 && c <= 0xdfff) || (c >= 0xf900 && c <= 0xfdcf) || (c >= 0xfdf0 && c <= 0xfffd)
}

/** XML 1.0 §2.3 NameChar. */
function isNameChar(c: number): boolean {
  if (c < 0x80) return isNameStart(c) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2e
  return isNameStart(c) || c === 0xb7 || (c >= 0x300 && c <= 0x36f) || c === 0x203f || c === 0x2040
}

function isXmlChar(code: number): boolean {
  return code === 0x9 || code === 0xa || code === 0xd || (code >= 0x20 && code <= 0xd7ff) || (code >= 0xe000 && code <= 0xfffd) ||
    (code >= 0x10000 && code <= 0x10ffff)
}

export function scanXml(text: string, limits: XmlScanLimits, handler?: XmlScanHandler): void {
  new XmlScanner(text, limits, handler).scan()
}

const ENTITY_TEXT: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" }

/** Character data or an attribute value as written → its value: references resolved (the scan has checked them). */
export function decodeXmlReferences(raw: string): string {
  if (!raw.includes('&')) return raw
  let out = ''
  let from = 0
  for (let amp = raw.indexOf('&'); amp >= 0; amp = raw.indexOf('&', from)) {
    const semi = raw.indexOf(';', amp)
    if (semi < 0) break
    const body = raw.slice(amp + 1, semi)
    out += raw.slice(from, amp)
    out += body.startsWith('#x') ? String.fromCodePoint(parseInt(body.slice(2), 16))
      : body.startsWith('#') ? String.fromCodePoint(parseInt(body.slice(1), 10))
      : (ENTITY_TEXT[body] ?? `&${body};`)
    from = semi + 1
  }
  return out + raw.slice(from)
}

class XmlScanner {
  private pos = 0
  private nodes = 0
  private readonly open: string[] = []
  private rootSeen = false

  constructor(private readonly text: string, private readonly limits: XmlScanLimits, private readonly handler?: XmlScanHandler) {}

  scan(): void {
    const { text } = this
    const bad = INVALID_CHAR.exec(text)
    if (bad !== null) this.fail(`character U+${bad[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')} is not allowed in XML`, bad.index)
    // §2.8: an XML declaration may only come first.
    if (text.startsWith('<?xml') && (isSpace(text.charCodeAt(5)) || text.startsWith('?>', 5))) this.processingInstruction(true)
    while (this.pos < text.length) {
      const lt = text.indexOf('<', this.pos)
      const end = lt < 0 ? text.length : lt
      if (end > this.pos) this.characterData(this.pos, end)
      if (lt < 0) break
      this.pos = lt
      const next = text.charCodeAt(lt + 1)
      if (next === 0x2f) this.endTag()
      else if (next === 0x3f) this.processingInstruction(false)
      else if (next === 0x21) this.markupDeclaration()
      else this.startTag()
    }
    if (this.open.length > 0) {
      this.fail(`${this.open.length} element(s) not closed at the end of the document, innermost ${quote(this.open[this.open.length - 1]!)}`)
    }
    if (!this.rootSeen) this.fail('XML document has no root element')
  }

  private fail(reason: string, at = this.pos): never {
    throw new XmlScanError(`${reason} (at offset ${at})`)
  }

  private countNode(): void {
    if (++this.nodes > this.limits.maxNodes) this.fail(`XML document has more than ${this.limits.maxNodes} nodes`)
  }

  /** Text between markup: only white space outside the root element (§2.1 Misc), references checked inside it. */
  private characterData(from: number, to: number): void {
    const { text } = this
    if (this.open.length === 0) {
      for (let i = from; i < to; i++) {
        if (!isSpace(text.charCodeAt(i))) this.fail(`content outside the root element: ${quote(text.slice(i, Math.min(to, i + QUOTE_LIMIT)))}`, i)
      }
      return
    }
    if (to - from > this.limits.maxTextLength) this.fail(`text longer than ${this.limits.maxTextLength} characters`, from)
    this.countNode()
    this.handler?.text(from, to, false)
    for (let i = from; i < to; i++) {
      const c = text.charCodeAt(i)
      if (c === 0x26) i = this.reference(i, to) - 1
      // §2.4: the literal string "]]>" may not appear in content.
      else if (c === 0x3e && i >= from + 2 && text.charCodeAt(i - 1) === 0x5d && text.charCodeAt(i - 2) === 0x5d) this.fail("']]>' is not allowed in text", i - 2)
    }
  }

  /** §4.1 EntityRef/CharRef starting at `at` (the '&'); returns the index after ';'. */
  private reference(at: number, limit: number): number {
    const { text } = this
    const maxEnd = Math.min(limit, at + 2 + Math.max(this.limits.maxNameLength, 10))
    const semi = text.indexOf(';', at + 1)
    if (semi < 0 || semi >= maxEnd) this.fail("'&' does not start a complete reference", at)
    const body = text.slice(at + 1, semi)
    if (body.startsWith('#')) {
      const hex = body.startsWith('#x')
      const digits = body.slice(hex ? 2 : 1)
      if (!(hex ? /^[0-9a-fA-F]{1,6}$/ : /^[0-9]{1,7}$/).test(digits) || !isXmlChar(parseInt(digits, hex ? 16 : 10))) {
        this.fail(`invalid character reference ${quote(`&${body};`)}`, at)
      }
    } else if (!PREDEFINED_ENTITIES.has(body)) {
      this.fail(`entity reference ${quote(`&${body};`)} is not allowed (only the predefined entities; no DTDs)`, at)
    }
    return semi + 1
  }

  /** A Name (§2.3) at the cursor; the cursor moves past it. */
  private name(what: string): string {
    const { text } = this
    const start = this.pos
    if (!isNameStart(text.charCodeAt(start))) this.fail(`expected ${what}`, start)
    let i = start + 1
    const limit = Math.min(text.length, start + this.limits.maxNameLength + 1)
    while (i < limit && isNameChar(text.charCodeAt(i))) i++
    if (i - start > this.limits.maxNameLength) this.fail(`${what} longer than ${this.limits.maxNameLength} characters`, start)
    this.pos = i
    return text.slice(start, i)
  }

  private skipSpace(): boolean {
    const start = this.pos
    while (isSpace(this.text.charCodeAt(this.pos))) this.pos++
    return this.pos > start
  }

  /** §3.1 STag / EmptyElemTag, attribute values checked (§3.3.3: no '<', references well-formed). */
  private startTag(): void {
    const { text, limits } = this
    const tagStart = this.pos
    if (this.open.length === 0 && this.rootSeen) this.fail('more than one root element')
    this.pos++
    const name = this.name('an element name')
    this.countNode()
    const attributes = new Set<string>()
    const values: Array<readonly [string, string]> | undefined = this.handler === undefined ? undefined : []
    for (;;) {
      const spaced = this.skipSpace()
      const c = text.charCodeAt(this.pos)
      if (c === 0x3e) {
        this.pos++
        this.open.push(name)
        this.rootSeen = true
        if (this.open.length > limits.maxDepth) this.fail(`XML document is nested deeper than ${limits.maxDepth} levels`, tagStart)
        this.handler?.startElement(name, values ?? [], tagStart, this.pos)
        return
      }
      if (c === 0x2f && text.charCodeAt(this.pos + 1) === 0x3e) {
        this.pos += 2
        this.rootSeen = true
        if (this.open.length + 1 > limits.maxDepth) this.fail(`XML document is nested deeper than ${limits.maxDepth} levels`, tagStart)
        this.handler?.startElement(name, values ?? [], tagStart, this.pos)
        this.handler?.endElement(name, this.pos, this.pos)
        return
      }
      if (Number.isNaN(c)) this.fail(`start tag ${quote(name)} is not closed`, tagStart)
      if (!spaced) this.fail(`expected white space, '>' or '/>' in start tag ${quote(name)}`)
      const attribute = this.name('an attribute name')
      if (attributes.has(attribute)) this.fail(`attribute ${quote(attribute)} appears twice in ${quote(name)}`)
      attributes.add(attribute)
      if (attributes.size > limits.maxAttributes) this.fail(`element ${quote(name)} has more than ${limits.maxAttributes} attributes`, tagStart)
      this.skipSpace()
      if (text.charCodeAt(this.pos) !== 0x3d) this.fail(`expected '=' after attribute ${quote(attribute)}`)
      this.pos++
      this.skipSpace()
      const q = text.charCodeAt(this.pos)
      if (q !== 0x22 && q !== 0x27) this.fail(`attribute ${quote(attribute)} value is not quoted`)
      const valueStart = this.pos + 1
      const close = text.indexOf(q === 0x22 ? '"' : "'", valueStart)
      if (close < 0) this.fail(`attribute ${quote(attribute)} value is not terminated`)
      if (close - valueStart > limits.maxTextLength) this.fail(`attribute ${quote(attribute)} value longer than ${limits.maxTextLength} characters`)
      for (let i = valueStart; i < close; i++) {
        const v = text.charCodeAt(i)
        if (v === 0x3c) this.fail(`'<' in the value of attribute ${quote(attribute)}`, i)
        if (v === 0x26) i = this.reference(i, close) - 1
      }
      values?.push([attribute, text.slice(valueStart, close)])
      this.pos = close + 1
    }
  }

  /** §3.1 ETag: must close the innermost open element. */
  private endTag(): void {
    const at = this.pos
    this.pos += 2
    const name = this.name('an end tag name')
    this.skipSpace()
    if (this.text.charCodeAt(this.pos) !== 0x3e) this.fail(`end tag ${quote(name)} is not closed`, at)
    this.pos++
    const expected = this.open.pop()
    if (expected === undefined) this.fail(`end tag ${quote(name)} without a start tag`, at)
    if (expected !== name) this.fail(`end tag ${quote(name)} does not match start tag ${quote(expected)}`, at)
    this.handler?.endElement(name, at, this.pos)
  }

  /** §2.6 PI; `<?xml …?>` only as the declaration at the very start (§2.8). */
  private processingInstruction(declaration: boolean): void {
    const at = this.pos
    this.pos += 2
    const target = this.name('a processing instruction target')
    if (!declaration && target.toLowerCase() === 'xml') this.fail('the XML declaration may only appear at the start', at)
    const end = this.text.indexOf('?>', this.pos)
    if (end < 0) this.fail(`processing instruction ${quote(target)} is not closed`, at)
    if (end > this.pos && !isSpace(this.text.charCodeAt(this.pos))) this.fail(`expected white space after ${quote(target)}`)
    if (end - this.pos > this.limits.maxTextLength) this.fail(`processing instruction longer than ${this.limits.maxTextLength} characters`, at)
    if (!declaration) this.countNode()
    this.pos = end + 2
  }

  /** Comments (§2.5), CDATA sections (§2.7, only inside the root); a DOCTYPE (§2.8) is refused. */
  private markupDeclaration(): void {
    const { text } = this
    const at = this.pos
    if (text.startsWith('<!--', at)) {
      // §2.5: '--' may only appear as the end of the comment.
      const dashes = text.indexOf('--', at + 4)
      if (dashes < 0) this.fail('comment is not closed', at)
      if (text.charCodeAt(dashes + 2) !== 0x3e) this.fail("'--' is not allowed inside a comment", dashes)
      if (dashes - at - 4 > this.limits.maxTextLength) this.fail(`comment longer than ${this.limits.maxTextLength} characters`, at)
      this.countNode()
      this.pos = dashes + 3
      return
    }
    if (text.startsWith('<![CDATA[', at)) {
      if (this.open.length === 0) this.fail('CDATA section outside the root element', at)
      const end = text.indexOf(']]>', at + 9)
      if (end < 0) this.fail('CDATA section is not closed', at)
      if (end - at - 9 > this.limits.maxTextLength) this.fail(`CDATA section longer than ${this.limits.maxTextLength} characters`, at)
      this.countNode()
      this.handler?.text(at + 9, end, true)
      this.pos = end + 3
      return
    }
    if (/^<!DOCTYPE/i.test(text.slice(at, at + 9))) this.fail('XML document type declarations (DTDs) are not allowed', at)
    this.fail(`unexpected markup ${quote(text.slice(at, at + 12))}`, at)
  }
}

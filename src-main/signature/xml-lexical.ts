import type { ErrorCode } from '@shared/error-codes'
import { decodeXmlReferences, SecurityServerError } from '../platform'
import { C14N_URIS } from './xml-support'

/**
 * The strict lexical reader for the fixed-layout documents of the message path (X-Road signature documents, hash
 * chains, hash-chain results) and the canonical XML written straight from what it read, without a generic DOM and
 * without a general canonicalizer.
 *
 * Accepted: the subset of XML 1.0 + Namespaces these documents use — an optional UTF-8 XML declaration, elements
 * and attributes with ASCII names, character data with the predefined entities and character references. Refused
 * with `subsetCode` (none of which X-Road writes, and each of which would make the canonical form depend on rules
 * this reader does not implement): comments, processing instructions, CDATA sections, `]]>`, non-ASCII names,
 * `xml:*` attributes, `xmlns:p=""` undeclarations, namespace names that are not plain URI references, unbound
 * prefixes, encodings other than UTF-8 ({@link LexicalSubsetError} for all but the last two kinds). Refused with
 * `xmlCode`: DTDs, entities other than the predefined ones, malformed markup, anything over the limits.
 *
 * Complexity: the tokenizer moves a cursor forward only, finding each construct with `indexOf` or a sticky
 * expression, so it reads n characters in O(n) (the limits are checked as it goes: bytes, depth, nodes, attributes
 * per element, name and text length). Building the tree adds O(a²) per element for the duplicate-attribute check
 * (a ≤ `maxAttributes`) and a copy of the in-scope namespaces for each element that declares one (at most
 * depth × `maxAttributes` entries). Canonicalizing a subtree visits each node once and sorts each element's
 * attributes and declarations: O(s + Σ a·log a) for a subtree of s characters.
 */

export interface LexicalLimits {
  maxBytes: number
  maxDepth: number
  maxNodes: number
  maxAttributes: number
  maxNameLength: number
  /** Longest text node or attribute value; defaults to maxBytes. */
  maxTextLength?: number
}

export interface LexAttribute {
  qname: string
  prefix: string
  localName: string
  namespaceURI: string
  value: string
}

/** Shared by every element without namespace declarations, attributes or children (never written to). */
const NO_DECLARATIONS: ReadonlyArray<readonly [string, string]> = Object.freeze([])
const NO_ATTRIBUTES: readonly LexAttribute[] = Object.freeze([])
const NO_CHILDREN: ReadonlyArray<LexElement | string> = Object.freeze([])

/** Whether `text` has a character `String#trim` keeps (ASCII white space decided here, the rest by `trim`). */
function hasContent(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d) continue
    return c < 0x80 || text.trim() !== ''
  }
  return false
}

/** An element as read: what the fixed-layout readers and the canonical writer need, nothing more. */
export class LexElement {
  /** Child elements and text in document order; set by the reader at the element's end tag. */
  children: ReadonlyArray<LexElement | string> = NO_CHILDREN
  /** {@link childElements}, once asked for: null when text other than white space is among the children. */
  private elementList: readonly LexElement[] | null | undefined
  constructor(
    /** The element's name (shared by the elements of that name). */
    private readonly name: QName,
    readonly namespaceURI: string,
    readonly attributes: readonly LexAttribute[],
    /** Namespace declarations on this element ('' = default namespace). */
    readonly declarations: ReadonlyArray<readonly [string, string]>,
    /** Namespaces in scope at this element (shared with the parent when the element declares none). */
    readonly inScope: ReadonlyMap<string, string>,
  ) {}

  get qname(): string {
    return this.name.qname
  }

  get prefix(): string {
    return this.name.prefix
  }

  get localName(): string {
    return this.name.localName
  }

  getAttribute(name: string): string | null {
    const attributes = this.attributes
    for (let i = 0; i < attributes.length; i++) if (attributes[i]!.qname === name) return attributes[i]!.value
    return null
  }

  hasAttribute(name: string): boolean {
    return this.getAttribute(name) !== null
  }

  get textContent(): string {
    const children = this.children
    if (children.length === 1 && typeof children[0] === 'string') return children[0]
    let out = ''
    for (let i = 0; i < children.length; i++) {
      const c = children[i]!
      out += typeof c === 'string' ? c : c.textContent
    }
    return out
  }

  /** Child elements; non-white-space text between them is reported through `onText`. */
  elements(onText?: (text: string) => void): readonly LexElement[] {
    const only = this.childElements()
    if (only !== undefined) return only
    const out: LexElement[] = []
    for (const c of this.children) {
      if (typeof c !== 'string') out.push(c)
      else if (onText !== undefined && hasContent(c)) onText(c)
    }
    return out
  }

  /**
   * The child elements, or undefined when text other than white space is among the children (the containers of the
   * fixed layouts hold elements only). Computed once; every call shares the list (read only).
   */
  childElements(): readonly LexElement[] | undefined {
    if (this.elementList !== undefined) return this.elementList ?? undefined
    const children = this.children
    let count = 0
    for (let i = 0; i < children.length; i++) {
      const c = children[i]!
      if (typeof c !== 'string') count++
      else if (hasContent(c)) {
        this.elementList = null
        return undefined
      }
    }
    let out: LexElement[]
    if (count === children.length) out = children as LexElement[]
    else {
      out = new Array<LexElement>(count)
      for (let i = 0, o = 0; i < children.length; i++) {
        const c = children[i]!
        if (typeof c !== 'string') out[o++] = c
      }
    }
    this.elementList = out
    return out
  }
}

export interface LexDocument {
  root: LexElement
  /** Elements by `Id` / `id` attribute; `duplicateIds` lists values carried by more than one element. */
  ids: Map<string, LexElement>
  duplicateIds: string[]
}

const XML_NS = 'http://www.w3.org/XML/1998/namespace'
const XML_DECLARATION = /^<\?xml[ \t\r\n]+version[ \t\r\n]*=[ \t\r\n]*(["'])1\.[0-9]+\1(?:[ \t\r\n]+encoding[ \t\r\n]*=[ \t\r\n]*(?:"([A-Za-z][A-Za-z0-9._-]*)"|'([A-Za-z][A-Za-z0-9._-]*)'))?(?:[ \t\r\n]+standalone[ \t\r\n]*=[ \t\r\n]*(?:"(?:yes|no)"|'(?:yes|no)'))?[ \t\r\n]*\?>/

function boundNamespace(inScope: ReadonlyMap<string, string>, prefix: string, code: ErrorCode): string {
  const uri = inScope.get(prefix)
  if (uri === undefined) throw lexError(code, `Unbound namespace prefix '${prefix}'`)
  return uri
}

/** XML 1.0 §2.11 line ends, then §3.3.3 attribute-value normalization for CDATA attributes (references kept). */
function attributeValue(raw: string): string {
  return decodeXmlReferences(LINE_OR_TAB.test(raw) ? raw.replace(/\r\n?/g, '\n').replace(/[\t\n]/g, ' ') : raw)
}

const LINE_OR_TAB = /[\t\n\r]/
/** Namespace names the reader accepts (see {@link readLexical}). */
const URI_REFERENCE = /^[!#-%'-;=?-~]*$/
/** In scope at every root: only the `xml` prefix (Namespaces in XML 1.0 §3). Never written to. */
const ROOT_SCOPE: ReadonlyMap<string, string> = new Map([['xml', XML_NS]])

function textValue(raw: string): string {
  const text = raw.includes('\r') ? raw.replace(/\r\n?/g, '\n') : raw
  if (!text.includes('&')) return text
  // Santuario escapes the CR of each line end of base64 text (`&#13;`): replaced in one pass, the string built once
  // (every '&' starts a well-formed reference, checked by the tokenizer, so each match is one of them).
  const crs = text.replaceAll('&#13;', '\r')
  return crs.includes('&') ? decodeXmlReferences(crs) : crs
}

/**
 * Reads `input` into an element tree. `subsetCode` is the error for input outside the subset (and for unbound
 * prefixes); `xmlCode` the error for input that is not well-formed or exceeds the limits. Without `collectIds` the
 * document's `ids` stay empty (for readers that resolve no `#id` reference).
 */
export function readLexical(input: Uint8Array | string, limits: LexicalLimits, subsetCode: ErrorCode, xmlCode: ErrorCode = 'invalid_xml', collectIds = true): LexDocument {
  const size = typeof input === 'string' ? Buffer.byteLength(input, 'utf8') : input.byteLength
  if (size > limits.maxBytes) throw lexError(xmlCode, `XML document is larger than ${limits.maxBytes} bytes`)
  let text = typeof input === 'string' ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('utf8')
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1)
  // Comments, CDATA sections and DOCTYPEs all start with '<!', processing instructions with '<?': '<' cannot occur
  // in attribute values or text, so these two searches find every one of them (the declaration is only at 0).
  let declarationEnd = 0
  if (text.startsWith('<?xml')) {
    // XML 1.0 §2.8 XMLDecl; the bytes are read as UTF-8, so another declared encoding is outside the subset.
    const declaration = XML_DECLARATION.exec(text.slice(0, 200))
    if (declaration === null) throw lexError(xmlCode, 'XML declaration is not well-formed')
    const encoding = declaration[2] ?? declaration[3]
    if (encoding !== undefined && encoding.toUpperCase() !== 'UTF-8') throw lexError(subsetCode, `Encoding '${encoding}' is not supported`, true)
    declarationEnd = declaration[0].length
  }
  const markup = text.indexOf('<!')
  if (markup >= 0) {
    if (/^<!DOCTYPE/i.test(text.slice(markup, markup + 9))) throw lexError(xmlCode, `XML document type declarations (DTDs) are not allowed (at offset ${markup})`)
    throw lexError(subsetCode, 'Comments and CDATA sections are not allowed in this document', true)
  }
  if (text.indexOf('<?', declarationEnd) >= 0) throw lexError(subsetCode, 'Processing instructions are not allowed in this document', true)

  const tree = new TreeBuilder(subsetCode, collectIds)
  try {
    tokenize(text, declarationEnd, limits, tree)
  } catch (cause) {
    if (cause instanceof TokenError) throw lexError(cause.subset ? subsetCode : xmlCode, cause.message, cause.subset)
    throw cause
  }
  if (tree.root === undefined) throw lexError(xmlCode, 'XML document has no root element')
  return { root: tree.root, ids: tree.ids, duplicateIds: tree.duplicateIds }
}

/**
 * Builds the element tree from the tokenizer's events. A class rather than closures made per document: V8 keeps a
 * function's optimised code only while a closure of it is alive, so closures made per call lose it at every
 * major collection and are compiled again (seen at c=1 as a dozen recompilations of the reader every few seconds).
 */
class TreeBuilder implements TokenHandler {
  readonly ids = new Map<string, LexElement>()
  readonly duplicateIds: string[] = []
  root: LexElement | undefined
  private current: LexElement | undefined
  /**
   * Children of the open elements, each element's from `starts[depth]` on: an element's own list is cut to its
   * exact length at its end tag.
   */
  private readonly pending: Array<LexElement | string> = []
  private pendingTop = 0
  private readonly starts: number[] = []
  private readonly elements: LexElement[] = []

  constructor(private readonly subsetCode: ErrorCode, private readonly collectIds: boolean) {}

  start(name: QName, names: readonly QName[], raws: readonly string[], count: number): void {
    const subsetCode = this.subsetCode
    // Declarations first (they scope the element's own name and attributes), then the element, then its
    // attributes: arrays only for what an element has.
    let declarations = NO_DECLARATIONS
    let plain = 0
    for (let k = 0; k < count; k++) {
      const qname = names[k]!.qname
      if (qname === 'xmlns' || qname.startsWith('xmlns:')) {
        const prefix = qname === 'xmlns' ? '' : qname.slice(6)
        const uri = namespaceName(attributeValue(raws[k]!))
        // A namespace name is a URI reference (RFC 3986: printable ASCII without '"', '<', '>'; '&' refused too), so it never needs
        // escaping in canonical form.
        if (prefix === 'xml' || prefix === 'xmlns' || (prefix !== '' && uri === '') || !URI_REFERENCE.test(uri)) {
          throw lexError(subsetCode, `Namespace declaration '${qname}' is not allowed`, true)
        }
        if (declarations === NO_DECLARATIONS) declarations = []
        ;(declarations as Array<readonly [string, string]>).push([prefix, uri])
      } else plain++
    }
    const parentScope = this.current?.inScope ?? ROOT_SCOPE
    let inScope = parentScope
    if (declarations.length > 0) {
      const scope = new Map(parentScope)
      for (let d = 0; d < declarations.length; d++) scope.set(declarations[d]![0], declarations[d]![1])
      inScope = scope
    }
    const prefix = name.prefix
    const namespaceURI = prefix === '' ? (inScope.get('') ?? '') : boundNamespace(inScope, prefix, subsetCode)
    let attributes = NO_ATTRIBUTES
    if (plain > 0) {
      const list = new Array<LexAttribute>(plain)
      for (let k = 0, a = 0; k < count; k++) {
        const { qname, prefix: p, localName } = names[k]!
        if (qname === 'xmlns' || qname.startsWith('xmlns:')) continue
        if (p === 'xml') throw lexError(subsetCode, `Attribute '${qname}' is not allowed`, true)
        list[a++] = { qname, prefix: p, localName, namespaceURI: p === '' ? '' : boundNamespace(inScope, p, subsetCode), value: attributeValue(raws[k]!) }
      }
      attributes = list
    }
    const el = new LexElement(name, namespaceURI, attributes, declarations, inScope)
    for (let k = 0; this.collectIds && k < attributes.length; k++) {
      const a = attributes[k]!
      if (a.prefix === '' && (a.localName === 'Id' || a.localName === 'id')) {
        if (this.ids.has(a.value)) this.duplicateIds.push(a.value)
        else this.ids.set(a.value, el)
      }
    }
    if (this.current === undefined) this.root = el
    else this.pending[this.pendingTop++] = el
    this.starts.push(this.pendingTop)
    this.elements.push(el)
    this.current = el
  }

  end(): void {
    const from = this.starts.pop()!
    if (this.pendingTop > from) {
      this.current!.children = this.pending.slice(from, this.pendingTop)
      this.pendingTop = from
    }
    this.elements.pop()
    this.current = this.elements[this.elements.length - 1]
  }

  text(raw: string): void {
    this.pending[this.pendingTop++] = textValue(raw)
  }
}

// ---- tokenizer ------------------------------------------------------------------------------------

/** XML 1.0 §2.2 Char: the code units that may never appear (C0 controls other than TAB, LF, CR; U+FFFE, U+FFFF). */
const INVALID_CHAR = /[\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]/
/**
 * Names of the subset: ASCII NCNames, optionally prefixed (X-Road's vocabularies are ASCII), i.e.
 * `[A-Za-z_][A-Za-z0-9._-]*(?::[A-Za-z_][A-Za-z0-9._-]*)?`, read by {@link nameEnd} from this table of ASCII codes:
 * 1 = may start a name part, 2 = may continue one.
 */
const NAME_CHARS = new Uint8Array(128)
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c)
  if (/[A-Za-z_]/.test(ch)) NAME_CHARS[c] = 3
  else if (/[0-9.-]/.test(ch)) NAME_CHARS[c] = 2
}

function isNameStart(code: number): boolean {
  return code < 0x80 && (NAME_CHARS[code]! & 1) !== 0
}

function isNameChar(code: number): boolean {
  return code < 0x80 && (NAME_CHARS[code]! & 2) !== 0
}

/** A name split at its colon (Namespaces in XML 1.0 §3). */
interface QName {
  readonly qname: string
  readonly prefix: string
  readonly localName: string
}

/**
 * Names seen before, shared by every document: the fixed layouts use a few dozen, and each name of a document would
 * otherwise be three strings and a record. An open-addressing table found by a hash of the characters in place (a
 * known name costs no string at all); bounded in entries and name length (a full neighbourhood leaves the name
 * uninterned). An entry owns its strings ({@link internalized}: a slice would keep the whole document it was read
 * from alive, and comparing them with the readers' constants compares references).
 */
const NAME_SLOTS = 1024
const NAME_PROBES = 4
const MAX_KNOWN_NAMES = 512
const MAX_KNOWN_NAME_LENGTH = 64
const knownNames = new Array<QName | undefined>(NAME_SLOTS).fill(undefined)
let knownNameCount = 0

/**
 * `value` as V8's unique copy of it (a property key is), which the same text in the code also is: comparing two such
 * strings compares two references. Also a copy that keeps no larger string alive.
 */
function internalized(value: string): string {
  return Object.keys({ [value]: 0 })[0]!
}

/**
 * Namespace names seen before, shared by every document as {@link knownNames} are (the readers compare every
 * element's namespace with their constants). Bounded in count and length.
 */
const knownNamespaces = new Map<string, string>()
const MAX_KNOWN_NAMESPACES = 64
const MAX_KNOWN_NAMESPACE_LENGTH = 256

function namespaceName(uri: string): string {
  const known = knownNamespaces.get(uri)
  if (known !== undefined) return known
  if (knownNamespaces.size >= MAX_KNOWN_NAMESPACES || uri.length > MAX_KNOWN_NAMESPACE_LENGTH) return uri
  const kept = internalized(uri)
  knownNamespaces.set(kept, kept)
  return kept
}

function splitQName(qname: string): QName {
  const colon = qname.indexOf(':')
  return colon < 0 ? { qname, prefix: '', localName: qname } : { qname, prefix: qname.slice(0, colon), localName: qname.slice(colon + 1) }
}

/** Whether `name` occurs in `text` at `at` (a loop: `startsWith` is a call that first checks for a RegExp argument). */
function occursAt(text: string, at: number, name: string): boolean {
  for (let i = 0; i < name.length; i++) if (text.charCodeAt(at + i) !== name.charCodeAt(i)) return false
  return true
}

/** The name `text[from, to)`, whose hash {@link nameEnd} computed. */
function qnameOf(text: string, from: number, to: number, hash: number): QName {
  const length = to - from
  if (length > MAX_KNOWN_NAME_LENGTH) return splitQName(text.slice(from, to))
  for (let probe = 0; probe < NAME_PROBES; probe++) {
    const slot = (hash + probe) & (NAME_SLOTS - 1)
    const known = knownNames[slot]
    if (known === undefined) {
      if (knownNameCount >= MAX_KNOWN_NAMES) break
      const qname = internalized(text.slice(from, to))
      const colon = qname.indexOf(':')
      const name: QName = colon < 0 ? { qname, prefix: '', localName: qname }
        : { qname, prefix: internalized(qname.slice(0, colon)), localName: internalized(qname.slice(colon + 1)) }
      knownNames[slot] = name
      knownNameCount++
      return name
    }
    if (known.qname.length === length && occursAt(text, from, known.qname)) return known
  }
  return splitQName(text.slice(from, to))
}

/** End of the longest name at `at` (`at` itself when none starts there); reads only the name and the character after it. */
function nameEnd(text: string, at: number): number {
  let c = text.charCodeAt(at)
  if (!isNameStart(c)) return at
  let hash = c
  let i = at + 1
  for (c = text.charCodeAt(i); isNameChar(c); c = text.charCodeAt(++i)) hash = (Math.imul(hash, 31) + c) | 0
  if (c === 0x3a && isNameStart(text.charCodeAt(i + 1))) {
    hash = (Math.imul(hash, 31) + c) | 0
    for (c = text.charCodeAt(++i); isNameChar(c); c = text.charCodeAt(++i)) hash = (Math.imul(hash, 31) + c) | 0
  }
  lastNameHash = hash
  return i
}

/**
 * Hash of the name {@link nameEnd} read last, h = 31·h + code over its characters (the reader is synchronous): the
 * key {@link qnameOf} finds the name by.
 */
let lastNameHash = 0
const NOT_SPACE = /[^ \t\r\n]/

interface TokenHandler {
  /** A start tag; its attributes are `names[0, count)` and their values as written `raws[0, count)` (reused by the next tag). */
  start(name: QName, names: readonly QName[], raws: readonly string[], count: number): void
  end(): void
  text(raw: string): void
}

class TokenError extends Error {
  constructor(message: string, readonly subset = false) {
    super(message)
  }
}

function isXmlChar(code: number): boolean {
  return code === 0x9 || code === 0xa || code === 0xd || (code >= 0x20 && code <= 0xd7ff) || (code >= 0xe000 && code <= 0xfffd) ||
    (code >= 0x10000 && code <= 0x10ffff)
}

/**
 * End of the reference at `amp` (after its ';'), or -1 when none starts there: the predefined entities and decimal
 * (1–7 digits) or hexadecimal (1–6 digits) character references, `&(?:lt|gt|amp|quot|apos|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});`.
 * `code` receives a character reference's code point.
 */
function referenceEnd(text: string, amp: number, code: { value: number }): number {
  let i = amp + 1
  if (text.charCodeAt(i) !== 0x23) {
    for (const entity of ENTITY_NAMES) if (text.startsWith(entity, i)) return i + entity.length
    return -1
  }
  code.value = -1
  const hex = text.charCodeAt(++i) === 0x78
  if (hex) i++
  const first = i
  let value = 0
  for (;;) {
    const c = text.charCodeAt(i)
    const digit = c >= 0x30 && c <= 0x39 ? c - 0x30 : hex && c >= 0x61 && c <= 0x66 ? c - 0x57 : hex && c >= 0x41 && c <= 0x46 ? c - 0x37 : -1
    if (digit < 0) break
    value = value * (hex ? 16 : 10) + digit
    i++
  }
  if (i === first || i - first > (hex ? 6 : 7) || text.charCodeAt(i) !== 0x3b) return -1
  code.value = value
  return i + 1
}

const ENTITY_NAMES = ['lt;', 'gt;', 'amp;', 'quot;', 'apos;']
/** {@link referenceEnd}'s code point (the reader is synchronous: one is enough). */
const referenceCode = { value: -1 }

/** Checks every reference in `text[from, to)`: only the predefined entities and character references of Chars. */
function checkReferences(text: string, from: number, to: number): void {
  const code = referenceCode
  for (let amp = text.indexOf('&', from); amp >= 0 && amp < to; amp = text.indexOf('&', amp + 1)) {
    code.value = -1
    const end = referenceEnd(text, amp, code)
    if (end < 0 || end > to) throw new TokenError(`'&' does not start a predefined entity or character reference (at offset ${amp})`)
    if (code.value >= 0 && !isXmlChar(code.value)) throw new TokenError(`Invalid character reference (at offset ${amp})`)
  }
}

/** A line feed and up to 63 spaces: the white space between the elements of a pretty-printed document. */
const INDENTS = Array.from({ length: 64 }, (_, spaces) => `\n${' '.repeat(spaces)}`)

/** `text[from, to)` as a shared string when it is a line feed and spaces only (no string made for it), else undefined. */
function indentation(text: string, from: number, to: number): string | undefined {
  if (text.charCodeAt(from) !== 0x0a || to - from > INDENTS.length) return undefined
  for (let i = from + 1; i < to; i++) if (text.charCodeAt(i) !== 0x20) return undefined
  return INDENTS[to - from - 1]
}

/** End of the name at `at`, checked against the name length limit. */
function nameAt(text: string, at: number, what: string, maxNameLength: number): number {
  const e = nameEnd(text, at)
  if (e === at) throw new TokenError(`Expected ${what} (at offset ${at})`, text.charCodeAt(at) >= 0x80)
  if (e - at > maxNameLength) throw new TokenError(`Name longer than ${maxNameLength} characters (at offset ${at})`)
  return e
}

/** The first position at or after `at` that is not XML white space. */
function spaceEnd(text: string, at: number): number {
  let i = at
  for (let c = text.charCodeAt(i); c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d; c = text.charCodeAt(++i));
  return i
}

function tooManyNodes(limits: LexicalLimits): TokenError {
  return new TokenError(`XML document has more than ${limits.maxNodes} nodes`)
}

/**
 * Tokenizes the subset (the caller has refused '<!' and '<?' past the declaration): start tags, end tags and text,
 * each found with `indexOf`/sticky expressions from a cursor that only moves forward, so every character is looked at
 * a constant number of times — O(n). Enforces well-formedness (XML 1.0 §2–§4 for the subset) and the limits.
 */
function tokenize(text: string, from: number, limits: LexicalLimits, handler: TokenHandler): void {
  const maxName = limits.maxNameLength
  const bad = INVALID_CHAR.exec(text)
  if (bad !== null) throw new TokenError(`Character U+${bad[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')} is not allowed in XML (at offset ${bad.index})`)
  if (text.indexOf(']]>') >= 0) throw new TokenError("']]>' is not allowed in this document", true)
  const maxText = limits.maxTextLength ?? limits.maxBytes
  const open: string[] = []
  /** The current start tag's attributes (names and values as written), reused from tag to tag. */
  const names: QName[] = []
  const raws: string[] = []
  let nodes = 0
  let rootSeen = false
  let pos = from
  while (pos < text.length) {
    const lt = text.indexOf('<', pos)
    const end = lt < 0 ? text.length : lt
    if (end > pos) {
      if (open.length === 0) {
        const content = NOT_SPACE.exec(text.slice(pos, end))
        if (content !== null) throw new TokenError(`Content outside the root element (at offset ${pos + content.index})`)
      } else {
        if (end - pos > maxText) throw new TokenError(`Text longer than ${maxText} characters (at offset ${pos})`)
        checkReferences(text, pos, end)
        if (++nodes > limits.maxNodes) throw tooManyNodes(limits)
        handler.text(indentation(text, pos, end) ?? text.slice(pos, end))
      }
    }
    if (lt < 0) break
    if (text.charCodeAt(lt + 1) === 0x2f) {
      const tagEnd = nameAt(text, lt + 2, 'an end tag name', maxName)
      const close = spaceEnd(text, tagEnd)
      if (text.charCodeAt(close) !== 0x3e) throw new TokenError(`End tag '${text.slice(lt + 2, tagEnd)}' is not closed (at offset ${lt})`)
      // Compared in place: the end tag's name is not kept.
      const started = open.pop()
      if (started === undefined || started.length !== tagEnd - lt - 2 || !occursAt(text, lt + 2, started)) {
        throw new TokenError(`End tag '${text.slice(lt + 2, tagEnd)}' does not match its start tag (at offset ${lt})`)
      }
      handler.end()
      pos = close + 1
      continue
    }
    if (open.length === 0 && rootSeen) throw new TokenError(`More than one root element (at offset ${lt})`)
    const tagEnd = nameAt(text, lt + 1, 'an element name', maxName)
    const qname = qnameOf(text, lt + 1, tagEnd, lastNameHash)
    const tag = qname.qname
    if (++nodes > limits.maxNodes) throw tooManyNodes(limits)
    let attributes = 0
    let i = tagEnd
    for (;;) {
      const spaced = spaceEnd(text, i)
      const c = text.charCodeAt(spaced)
      if (c === 0x3e || (c === 0x2f && text.charCodeAt(spaced + 1) === 0x3e)) {
        rootSeen = true
        if (open.length + 1 > limits.maxDepth) throw new TokenError(`XML document is nested deeper than ${limits.maxDepth} levels (at offset ${lt})`)
        handler.start(qname, names, raws, attributes)
        if (c === 0x3e) {
          open.push(tag)
          pos = spaced + 1
        } else {
          handler.end()
          pos = spaced + 2
        }
        break
      }
      if (Number.isNaN(c)) throw new TokenError(`Start tag '${tag}' is not closed (at offset ${lt})`)
      if (spaced === i) throw new TokenError(`Expected white space, '>' or '/>' in start tag '${tag}' (at offset ${i})`)
      const attributeEnd = nameAt(text, spaced, 'an attribute name', maxName)
      const attributeName = qnameOf(text, spaced, attributeEnd, lastNameHash)
      const attribute = attributeName.qname
      for (let k = 0; k < attributes; k++) if (names[k]!.qname === attribute) throw new TokenError(`Attribute '${attribute}' appears twice (at offset ${spaced})`)
      if (attributes >= limits.maxAttributes) throw new TokenError(`Element '${tag}' has more than ${limits.maxAttributes} attributes (at offset ${lt})`)
      let at = spaceEnd(text, attributeEnd)
      if (text.charCodeAt(at) !== 0x3d) throw new TokenError(`Expected '=' after attribute '${attribute}' (at offset ${at})`)
      at = spaceEnd(text, at + 1)
      const q = text.charCodeAt(at)
      if (q !== 0x22 && q !== 0x27) throw new TokenError(`Value of attribute '${attribute}' is not quoted (at offset ${at})`)
      const close = text.indexOf(q === 0x22 ? '"' : "'", at + 1)
      if (close < 0) throw new TokenError(`Value of attribute '${attribute}' is not terminated (at offset ${at})`)
      if (close - at - 1 > maxText) throw new TokenError(`Value of attribute '${attribute}' longer than ${maxText} characters (at offset ${at})`)
      const raw = text.slice(at + 1, close)
      if (raw.indexOf('<') >= 0) throw new TokenError(`'<' in the value of attribute '${attribute}' (at offset ${at})`)
      checkReferences(text, at + 1, close)
      names[attributes] = attributeName
      raws[attributes] = raw
      attributes++
      i = close + 1
    }
  }
  if (open.length > 0) throw new TokenError(`${open.length} element(s) not closed at the end of the document`)
  if (!rootSeen) throw new TokenError('XML document has no root element')
}

/** A refusal because the input is outside the reader's subset (it may still be well-formed XML). */
export class LexicalSubsetError extends SecurityServerError {}

function lexError(code: ErrorCode, message: string, subset = false): SecurityServerError {
  const bounded = message.length > 300 ? `${message.slice(0, 300)}…` : message
  return subset ? new LexicalSubsetError(code, bounded, { clientFault: true }) : new SecurityServerError(code, bounded, { clientFault: true })
}

// ---- canonical XML --------------------------------------------------------------------------------

/** Canonical XML 1.0 §2.3 text node: `&`, `<`, `>` and CR escaped. */
export function c14nText(value: string): string {
  return /[&<>\r]/.test(value)
    ? value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#xD;')
    : value
}

/** Canonical XML 1.0 §2.3 attribute value: `&`, `<`, `"`, TAB, LF and CR escaped (`>` is not). */
export function c14nAttr(value: string): string {
  return /[&<"\t\n\r]/.test(value)
    ? value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;')
      .replace(/\t/g, '&#x9;').replace(/\n/g, '&#xA;').replace(/\r/g, '&#xD;')
    : value
}

function compareCodePoints(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** Canonical XML 1.0 §2.2 attribute order: by namespace URI, then local name. */
function compareAttributes(a: LexAttribute, b: LexAttribute): number {
  return compareCodePoints(a.namespaceURI, b.namespaceURI) || compareCodePoints(a.localName, b.localName)
}

/** Nothing rendered above the apex. Never written to. */
const NO_SCOPE: ReadonlyMap<string, string> = new Map()

/**
 * The canonical form of the subtree at `apex` (a document subset of exactly that element and its descendants, as a
 * same-document `#id` reference or SignedInfo selects it): Canonical XML 1.0 (inclusive: every namespace in scope at
 * the apex is rendered there) or Exclusive XML Canonicalization 1.0 (only visibly utilized namespaces, plus the
 * InclusiveNamespaces PrefixList). The with-comments variants give the same bytes, the reader having refused comments.
 */
export function canonicalizeLexical(apex: LexElement, algorithmUri: string, inclusivePrefixes: string[] = []): string {
  const exclusive = algorithmUri === C14N_URIS.exclusive || algorithmUri === C14N_URIS.exclusiveWithComments
  if (!exclusive && algorithmUri !== C14N_URIS.inclusive && algorithmUri !== C14N_URIS.inclusiveWithComments) {
    throw new SecurityServerError('malformed_signature', `Unsupported canonicalization method '${algorithmUri}'`, { clientFault: true })
  }
  return new LexicalCanonicalizer(exclusive, inclusivePrefixes.map(listedPrefix)).run(apex)
}

/** A PrefixList entry as the prefix it names (`#default`: the default namespace). */
function listedPrefix(p: string): string {
  return p === '#default' ? '' : p
}

/**
 * One canonicalization (`canonicalizeLexical`): the output's pieces and the namespace declarations of the element
 * being written. A class rather than closures made per call, for the reason `TreeBuilder` gives.
 */
class LexicalCanonicalizer {
  private out: string[] = []
  private o = 0
  // The namespace declarations one element renders, as prefixes and URIs (reused from element to element: each is
  // written out before the element's children are visited).
  private readonly declPrefixes: string[] = []
  private readonly declUris: string[] = []
  private declCount = 0

  constructor(private readonly exclusive: boolean, private readonly listed: readonly string[]) {}

  run(apex: LexElement): string {
    // The output's pieces, in an array of the most the subtree can need (grown piece by piece, its store would be
    // copied a dozen times), cut to what was written.
    this.out = new Array<string>(this.pieces(apex, true))
    this.write(apex, NO_SCOPE, true)
    this.out.length = this.o
    return this.out.join('')
  }

  private pieces(el: LexElement, isApex: boolean): number {
    const declarations = !this.exclusive ? (isApex ? el.inScope.size : el.declarations.length) : 1 + el.attributes.length + this.listed.length
    let n = 6 + 5 * (declarations + el.attributes.length) + el.children.length
    for (let k = 0; k < el.children.length; k++) {
      const c = el.children[k]!
      if (typeof c !== 'string') n += this.pieces(c, false)
    }
    return n
  }

  /** Renders `p` at `el` when its URI there differs from the one rendered above (each prefix once). */
  private consider(el: LexElement, p: string, rendered: ReadonlyMap<string, string>): void {
    if (p === 'xml') return
    const uri = el.inScope.get(p) ?? ''
    if (uri === (rendered.get(p) ?? '')) return
    for (let d = 0; d < this.declCount; d++) if (this.declPrefixes[d] === p) return
    this.declPrefixes[this.declCount] = p
    this.declUris[this.declCount] = uri
    this.declCount++
  }

  private write(el: LexElement, rendered: ReadonlyMap<string, string>, isApex: boolean): void {
    const { declPrefixes, declUris, listed } = this
    // Namespace prefixes this element must consider rendering: inclusive, every one in scope at the apex and the
    // element's own declarations below it; exclusive, the visibly utilized ones and the listed ones in scope.
    this.declCount = 0
    if (!this.exclusive) {
      if (isApex) for (const p of el.inScope.keys()) this.consider(el, p, rendered)
      else for (let d = 0; d < el.declarations.length; d++) this.consider(el, el.declarations[d]![0], rendered)
    } else {
      this.consider(el, el.prefix, rendered)
      for (let k = 0; k < el.attributes.length; k++) if (el.attributes[k]!.prefix !== '') this.consider(el, el.attributes[k]!.prefix, rendered)
      for (let k = 0; k < listed.length; k++) if (el.inScope.has(listed[k]!)) this.consider(el, listed[k]!, rendered)
    }
    const declCount = this.declCount
    let next = rendered
    if (declCount > 0) {
      const scope = new Map(rendered)
      for (let d = 0; d < declCount; d++) scope.set(declPrefixes[d]!, declUris[d]!)
      next = scope
      // Insertion sort by prefix (an element declares a handful).
      for (let d = 1; d < declCount; d++) {
        const p = declPrefixes[d]!
        const u = declUris[d]!
        let e = d - 1
        for (; e >= 0 && compareCodePoints(declPrefixes[e]!, p) > 0; e--) {
          declPrefixes[e + 1] = declPrefixes[e]!
          declUris[e + 1] = declUris[e]!
        }
        declPrefixes[e + 1] = p
        declUris[e + 1] = u
      }
    }
    const out = this.out
    let o = this.o
    out[o++] = '<'
    out[o++] = el.qname
    for (let d = 0; d < declCount; d++) {
      const p = declPrefixes[d]!
      if (p === '') out[o++] = ' xmlns="'
      else {
        out[o++] = ' xmlns:'
        out[o++] = p
        out[o++] = '="'
      }
      out[o++] = c14nAttr(declUris[d]!)
      out[o++] = '"'
    }
    let attrs = el.attributes
    for (let k = 1; k < attrs.length; k++) {
      if (compareAttributes(attrs[k - 1]!, attrs[k]!) > 0) {
        attrs = [...attrs].sort(compareAttributes)
        break
      }
    }
    for (let k = 0; k < attrs.length; k++) {
      out[o++] = ' '
      out[o++] = attrs[k]!.qname
      out[o++] = '="'
      out[o++] = c14nAttr(attrs[k]!.value)
      out[o++] = '"'
    }
    out[o++] = '>'
    const children = el.children
    for (let k = 0; k < children.length; k++) {
      const c = children[k]!
      if (typeof c === 'string') out[o++] = c14nText(c)
      else {
        this.o = o
        this.write(c, next, false)
        o = this.o
      }
    }
    out[o++] = '</'
    out[o++] = el.qname
    out[o++] = '>'
    this.o = o
  }
}

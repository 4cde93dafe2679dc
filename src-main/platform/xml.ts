import { DOMParser, type Document, type Element } from '@xmldom/xmldom'
import type { XmlIdentifierFields } from '@shared/domain/identifiers'
import { SecurityServerError } from './errors'

/**
 * Hardened XML parsing for everything Gatehouse reads from outside (anchors, global configuration, SOAP,
 * signatures): no DTDs at all (so no entity expansion and no external entities), bounded size and depth,
 * and parser warnings treated as errors (reliability-and-security.md §5).
 */
export interface XmlLimits {
  maxBytes?: number
  maxDepth?: number
}

export const DEFAULT_XML_LIMITS = { maxBytes: 50 * 1024 * 1024, maxDepth: 64 } as const

export function parseXml(input: string | Uint8Array, limits: XmlLimits = {}): Document {
  const maxBytes = limits.maxBytes ?? DEFAULT_XML_LIMITS.maxBytes
  const maxDepth = limits.maxDepth ?? DEFAULT_XML_LIMITS.maxDepth
  const size = typeof input === 'string' ? Buffer.byteLength(input, 'utf8') : input.byteLength
  if (size > maxBytes) throw invalidXml(`XML document is larger than ${maxBytes} bytes`)
  let text = typeof input === 'string' ? input : Buffer.from(input).toString('utf8')
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1)
  if (/<!DOCTYPE/i.test(text) || /<!ENTITY/i.test(text)) {
    throw invalidXml('XML document type declarations (DTDs) are not allowed')
  }
  checkDepth(text, maxDepth)
  let problem: string | undefined
  const parser = new DOMParser({
    onError: (level, message) => {
      if (problem === undefined && level !== 'warning') problem = message
    },
  })
  let doc: Document
  try {
    doc = parser.parseFromString(text, 'text/xml')
  } catch (cause) {
    throw invalidXml(`Malformed XML: ${(cause as Error).message}`, cause)
  }
  if (problem !== undefined) throw invalidXml(`Malformed XML: ${problem}`)
  if (!doc.documentElement) throw invalidXml('XML document has no root element')
  return doc
}

/** Counts element nesting without building a tree, so a deeply nested document is refused cheaply. */
function checkDepth(text: string, maxDepth: number): void {
  let depth = 0
  const tag = /<(\/?)([^\s/>!?]+)[^>]*?(\/?)>|<!\[CDATA\[[\s\S]*?\]\]>|<!--[\s\S]*?-->|<\?[\s\S]*?\?>/g
  for (let m = tag.exec(text); m !== null; m = tag.exec(text)) {
    if (m[2] === undefined) continue
    if (m[1] === '/') depth--
    else if (m[3] !== '/') {
      depth++
      if (depth > maxDepth) throw invalidXml(`XML document is nested deeper than ${maxDepth} levels`)
    }
  }
}

function invalidXml(message: string, cause?: unknown): SecurityServerError {
  return new SecurityServerError('invalid_xml', message, { cause, clientFault: true })
}

/** Child elements of `parent` (optionally only those with the given namespace and local name). */
export function childElements(parent: Element, namespace?: string | null, localName?: string): Element[] {
  const out: Element[] = []
  for (let node = parent.firstChild; node !== null; node = node.nextSibling) {
    if (node.nodeType !== 1) continue
    const el = node as Element
    if (localName !== undefined && el.localName !== localName) continue
    if (namespace !== undefined && (el.namespaceURI ?? null) !== namespace) continue
    out.push(el)
  }
  return out
}

/** The one child with this name, or undefined; more than one is an error. */
export function optionalChild(parent: Element, namespace: string | null, localName: string): Element | undefined {
  const found = childElements(parent, namespace, localName)
  if (found.length > 1) throw invalidXml(`Element '${localName}' appears more than once in '${parent.localName}'`)
  return found[0]
}

export function requiredChild(parent: Element, namespace: string | null, localName: string): Element {
  const found = optionalChild(parent, namespace, localName)
  if (found === undefined) throw invalidXml(`Element '${parent.localName}' lacks '${localName}'`)
  return found
}

export function textOf(el: Element): string {
  return el.textContent ?? ''
}

/** The fields of an identifier element, for `identifierFromXml` in src-shared. */
export function identifierFields(el: Element, identifiersNs = 'http://x-road.eu/xsd/identifiers'): XmlIdentifierFields {
  const objectType = el.getAttributeNS(identifiersNs, 'objectType')
  return {
    objectType: objectType === null || objectType === '' ? null : objectType,
    children: childElements(el).map((c) => ({ namespace: c.namespaceURI ?? null, localName: c.localName ?? '', text: textOf(c) })),
  }
}

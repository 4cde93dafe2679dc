import { DOMParser, type Document, type Element } from '@xmldom/xmldom'
import type { XmlIdentifierFields } from '@shared/domain/identifiers'
import { SecurityServerError } from './errors'
import { scanXml, XmlScanError } from './xml-scanner'

/**
 * Hardened XML parsing for everything Gatehouse reads from outside (anchors, global configuration, SOAP,
 * signatures, hash chains, ASiC manifests): the document is first read by a linear well-formedness scanner
 * (`xml-scanner.ts`) that refuses DTDs and enforces every limit while reading, and only then handed to
 * @xmldom/xmldom for the DOM the signature code needs (reliability-and-security.md §5).
 *
 * Complexity: O(n) in the document's length for the scan; the DOM parser then sees only well-formed input of at most
 * `maxNodes` nodes, `maxDepth` levels and `maxAttributes` attributes per element, on which it is linear too
 * (tests/hardening/xml-hardening.test.ts measures both against benign documents of the same size). Error messages
 * are bounded ({@link MAX_XML_ERROR_LENGTH}).
 */
export interface XmlLimits {
  /** Largest document in bytes (UTF-8). */
  maxBytes?: number
  /** Deepest element nesting. */
  maxDepth?: number
  /** Most elements, text nodes, CDATA sections, comments and processing instructions together. */
  maxNodes?: number
  /** Most attributes (namespace declarations included) on one element. */
  maxAttributes?: number
  /** Longest element, attribute or processing-instruction name. */
  maxNameLength?: number
  /** Longest text node, attribute value, CDATA section, comment or processing instruction; defaults to maxBytes. */
  maxTextLength?: number
}

export const DEFAULT_XML_LIMITS = {
  maxBytes: 50 * 1024 * 1024, maxDepth: 64, maxNodes: 1_000_000, maxAttributes: 256, maxNameLength: 1024,
} as const

/** Longest message a refusal carries (the DOM parser's own messages can quote whole documents). */
export const MAX_XML_ERROR_LENGTH = 300

export function parseXml(input: string | Uint8Array, limits: XmlLimits = {}): Document {
  const maxBytes = limits.maxBytes ?? DEFAULT_XML_LIMITS.maxBytes
  const size = typeof input === 'string' ? Buffer.byteLength(input, 'utf8') : input.byteLength
  if (size > maxBytes) throw invalidXml(`XML document is larger than ${maxBytes} bytes`)
  let text = typeof input === 'string' ? input : Buffer.from(input).toString('utf8')
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1)
  try {
    scanXml(text, {
      maxDepth: limits.maxDepth ?? DEFAULT_XML_LIMITS.maxDepth,
      maxNodes: limits.maxNodes ?? DEFAULT_XML_LIMITS.maxNodes,
      maxAttributes: limits.maxAttributes ?? DEFAULT_XML_LIMITS.maxAttributes,
      maxNameLength: limits.maxNameLength ?? DEFAULT_XML_LIMITS.maxNameLength,
      maxTextLength: limits.maxTextLength ?? maxBytes,
    })
  } catch (cause) {
    if (cause instanceof XmlScanError) throw invalidXml(cause.message)
    throw cause
  }
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
    // Not kept as the cause: the DOM parser's message may quote the whole document.
    throw invalidXml(`Malformed XML: ${(cause as Error).message}`)
  }
  if (problem !== undefined) throw invalidXml(`Malformed XML: ${problem}`)
  if (!doc.documentElement) throw invalidXml('XML document has no root element')
  return doc
}

function invalidXml(message: string, cause?: unknown): SecurityServerError {
  const bounded = message.length > MAX_XML_ERROR_LENGTH ? `${message.slice(0, MAX_XML_ERROR_LENGTH)}…` : message
  return new SecurityServerError('invalid_xml', bounded, { cause, clientFault: true })
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

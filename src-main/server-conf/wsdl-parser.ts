import type { Element } from '@xmldom/xmldom'
import { validateIdentifierPart } from '@shared/domain/identifiers'
import { childElements, parseXml, SecurityServerError, textOf } from '../platform'

/**
 * Reads the services a WSDL 1.1 document describes, as X-Road's admin service does (`WsdlParser.parseWSDL`): for every
 * port of every `wsdl:service` whose binding is SOAP over HTTP (`soap:binding` or `soap12:binding` with transport
 * `http://schemas.xmlsoap.org/soap/http`), each binding operation is a service; its version is the text of the binding
 * operation's extension element named `version` in any namespace (`xrd:version`, `xroad:version`), its title the
 * `title` child of the port-type operation's `wsdl:documentation`, and its URL the port's `soap:address`/`soap12:address`
 * location. The same name and version seen twice keeps the last, as X-Road's map does. Imports are not followed (X-Road
 * turns `javax.wsdl.importDocuments` off).
 *
 * Input is read with platform's `parseXml`: no DTD (an XXE-laden or entity-expanding WSDL is refused before any DOM is
 * built), at most {@link WSDL_LIMITS} bytes, depth and nodes, enforced while scanning. Complexity: O(n) in the
 * document for the scan and DOM; then O(b + p + s·o) over bindings b, port types p, ports s and operations o — each
 * lookup goes through a map built once, so the walk is linear in the number of elements visited.
 */
export interface WsdlService {
  /** The operation name: the service code. */
  code: string
  version?: string
  title?: string
  /** The port's address; undefined when the port has none. */
  url?: string
}

const WSDL_NS = 'http://schemas.xmlsoap.org/wsdl/'
const SOAP_NS = 'http://schemas.xmlsoap.org/wsdl/soap/'
const SOAP12_NS = 'http://schemas.xmlsoap.org/wsdl/soap12/'
const SOAP_HTTP_TRANSPORT = 'http://schemas.xmlsoap.org/soap/http'

/** X-Road's WsdlParser.MAX_DESCRIPTION_SIZE is 10 MiB; the other bounds keep a hostile WSDL small in memory. */
export const WSDL_LIMITS = { maxBytes: 10 * 1024 * 1024, maxDepth: 64, maxNodes: 500_000, maxAttributes: 128, maxNameLength: 512 } as const
/** Most services one WSDL may describe: beyond this a description is not something an administrator can review. */
export const MAX_WSDL_SERVICES = 2000

function invalidWsdl(message: string, cause?: unknown): SecurityServerError {
  return new SecurityServerError('invalid_wsdl', message, { cause, clientFault: true })
}

export function parseWsdl(input: string | Uint8Array): WsdlService[] {
  let root: Element
  try {
    root = parseXml(input, WSDL_LIMITS).documentElement as Element
  } catch (error) {
    if (error instanceof SecurityServerError && error.code === 'invalid_xml') {
      const dtd = /DTD|entity reference/.test(error.message)
      throw invalidWsdl(dtd ? `The WSDL declares a DTD or entities, which are refused (XXE): ${error.message}` : `The WSDL is not well-formed XML: ${error.message}`, error)
    }
    throw error
  }
  if (root.namespaceURI !== WSDL_NS || root.localName !== 'definitions') {
    throw invalidWsdl(`The document is not a WSDL 1.1 description: its root element is ${shortName(root)}, not wsdl:definitions`)
  }
  const targetNamespace = root.getAttribute('targetNamespace') ?? ''
  const bindings = byName(childElements(root, WSDL_NS, 'binding'), 'binding')
  const portTypes = byName(childElements(root, WSDL_NS, 'portType'), 'portType')

  const result = new Map<string, WsdlService>()
  for (const service of childElements(root, WSDL_NS, 'service')) {
    for (const port of childElements(service, WSDL_NS, 'port')) {
      const binding = resolve(port, port.getAttribute('binding'), targetNamespace, bindings)
      if (binding === undefined || !isSoapOverHttp(binding)) continue
      const url = addressOf(port)
      const portType = resolve(binding, binding.getAttribute('type'), targetNamespace, portTypes)
      const seen = new Set<string>()
      for (const operation of childElements(binding, WSDL_NS, 'operation')) {
        const code = operation.getAttribute('name') ?? ''
        if (code === '') throw invalidWsdl(`A binding operation of ${quoteName(binding.getAttribute('name'))} has no name`)
        const version = versionOf(operation)
        const key = `${code}\u0000${version ?? ''}`
        // WSDL 1.1 §2.5 / WSDL4J: one binding names an operation once ("Duplicate operation with name=").
        if (seen.has(key)) throw invalidWsdl(`WSDL violates specification: duplicate operation ${quoteName(code)} in binding ${quoteName(binding.getAttribute('name'))}`)
        seen.add(key)
        const title = portType === undefined ? undefined : titleOf(portType, code)
        result.set(key, {
          code,
          ...(version === undefined ? {} : { version }),
          ...(title === undefined ? {} : { title }),
          ...(url === undefined ? {} : { url }),
        })
        if (result.size > MAX_WSDL_SERVICES) throw invalidWsdl(`The WSDL describes more than ${MAX_WSDL_SERVICES} services`)
      }
    }
  }
  if (result.size === 0) throw invalidWsdl('The WSDL describes no SOAP-over-HTTP operations (no wsdl:service port with a SOAP binding over HTTP)')
  return [...result.values()]
}

/**
 * The service codes and versions that are not valid X-Road identifier parts (X-Road `IdentifierValidator`:
 * `invalid_wsdl_service_identifier` lists them).
 */
export function invalidServiceIdentifiers(services: readonly WsdlService[]): string[] {
  const invalid: string[] = []
  for (const s of services) {
    for (const [field, value] of [['serviceCode', s.code], ['serviceVersion', s.version]] as const) {
      if (value === undefined) continue
      try {
        validateIdentifierPart(field, value)
      } catch {
        invalid.push(value)
      }
    }
  }
  return invalid
}

/** Service URLs that are neither http nor https (X-Road `validateServiceUrls`: `invalid_service_url`). */
export function invalidServiceUrls(services: readonly WsdlService[]): string[] {
  return services.flatMap((s) => (s.url !== undefined && !s.url.startsWith('http://') && !s.url.startsWith('https://') ? [s.url] : []))
}

function byName(elements: Element[], what: string): Map<string, Element> {
  const map = new Map<string, Element>()
  for (const el of elements) {
    const name = el.getAttribute('name') ?? ''
    if (name === '') throw invalidWsdl(`A wsdl:${what} has no name`)
    if (map.has(name)) throw invalidWsdl(`WSDL violates specification: two wsdl:${what} elements are named ${quoteName(name)}`)
    map.set(name, el)
  }
  return map
}

/** A QName reference (`tns:Name`) resolved to an element of this document's target namespace. */
function resolve(at: Element, qname: string | null, targetNamespace: string, elements: Map<string, Element>): Element | undefined {
  if (qname === null || qname === '') return undefined
  const colon = qname.indexOf(':')
  const prefix = colon < 0 ? null : qname.slice(0, colon)
  const local = colon < 0 ? qname : qname.slice(colon + 1)
  const namespace = at.lookupNamespaceURI(prefix) ?? ''
  return namespace === targetNamespace ? elements.get(local) : undefined
}

/** WsdlParser.hasSoapOverHttpBinding: the first SOAP binding element decides. */
function isSoapOverHttp(binding: Element): boolean {
  for (const ext of childElements(binding)) {
    if (ext.localName === 'binding' && (ext.namespaceURI === SOAP_NS || ext.namespaceURI === SOAP12_NS)) {
      return ext.getAttribute('transport') === SOAP_HTTP_TRANSPORT
    }
  }
  return false
}

function addressOf(port: Element): string | undefined {
  for (const ext of childElements(port)) {
    if (ext.localName === 'address' && (ext.namespaceURI === SOAP_NS || ext.namespaceURI === SOAP12_NS)) {
      return ext.getAttribute('location') ?? undefined
    }
  }
  return undefined
}

/** WsdlParser.getVersion: the first extension element of the binding operation whose local name is `version`. */
function versionOf(operation: Element): string | undefined {
  const ext = childElements(operation).find((e) => e.namespaceURI !== WSDL_NS && e.localName === 'version')
  return ext === undefined ? undefined : firstText(ext)
}

function titleOf(portType: Element, operationName: string): string | undefined {
  const operation = childElements(portType, WSDL_NS, 'operation').find((o) => o.getAttribute('name') === operationName)
  const documentation = operation === undefined ? undefined : childElements(operation, WSDL_NS, 'documentation')[0]
  const title = documentation === undefined ? undefined : childElements(documentation).find((e) => e.localName === 'title')
  return title === undefined ? undefined : firstText(title)
}

/** WsdlParser.getValue: the first child node's value, trimmed. */
function firstText(el: Element): string | undefined {
  const first = el.firstChild
  if (first === null) return undefined
  const value = first.nodeType === 3 || first.nodeType === 4 ? (first.nodeValue ?? '') : textOf(el)
  return value.trim()
}

function shortName(el: Element): string {
  return quoteName(el.nodeName)
}

function quoteName(name: string | null): string {
  const text = name ?? ''
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text)
}

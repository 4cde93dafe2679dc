import type { Element } from '@xmldom/xmldom'
import {
  identifierFromXml, type ClientId, type XRoadId, type XRoadObjectType,
} from '@shared/domain/identifiers'
import type { ErrorCode } from '@shared/error-codes'
import { SecurityServerError, childElements, identifierFields, parseXml, pemBlocks, textOf, type PemBlock } from '../platform'

/**
 * XML helpers shared by the global-configuration parsers. Configuration elements are unqualified children
 * of a root in `http://x-road.eu/xsd/xroad.xsd` (JAXB output, xroad-protocols.md §5.4); identifiers are in
 * `http://x-road.eu/xsd/identifiers`.
 */
export const XROAD_CONF_NS = 'http://x-road.eu/xsd/xroad.xsd'

/** Global configuration is at most a few MB (the confproxy fixture is 780 KB); nesting is shallow. */
const CONF_XML_LIMITS = { maxBytes: 20 * 1024 * 1024, maxDepth: 32 }

export function confError(message: string, cause?: unknown, code: ErrorCode = 'malformed_global_conf'): SecurityServerError {
  return new SecurityServerError(code, message, { cause })
}

/** Parses a configuration document and checks its root element. */
export function parseConfRoot(xml: string | Uint8Array, rootName: string, code: ErrorCode = 'malformed_global_conf'): Element {
  let root: Element
  try {
    const doc = parseXml(xml, CONF_XML_LIMITS)
    root = doc.documentElement as Element
  } catch (cause) {
    const why = cause instanceof Error ? cause.message : String(cause)
    throw confError(`Cannot parse ${rootName}: ${why}`, cause, code)
  }
  if (root.localName !== rootName || root.namespaceURI !== XROAD_CONF_NS) {
    throw confError(`Expected root element {${XROAD_CONF_NS}}${rootName}, found '${root.tagName}'`, undefined, code)
  }
  return root
}

export function children(parent: Element, name: string): Element[] {
  return childElements(parent, undefined, name)
}

export function childrenOf(parent: Element): Element[] {
  return childElements(parent)
}

export function child(parent: Element, name: string, code: ErrorCode = 'malformed_global_conf'): Element | undefined {
  const found = children(parent, name)
  if (found.length > 1) throw confError(`Element '${name}' appears more than once in '${parent.localName}'`, undefined, code)
  return found[0]
}

export function requiredChild(parent: Element, name: string, code: ErrorCode = 'malformed_global_conf'): Element {
  const found = child(parent, name, code)
  if (found === undefined) throw confError(`Element '${parent.localName}' lacks '${name}'`, undefined, code)
  return found
}

export function text(el: Element): string {
  return textOf(el).trim()
}

export function requiredText(parent: Element, name: string, code: ErrorCode = 'malformed_global_conf'): string {
  const value = text(requiredChild(parent, name, code))
  if (value === '') throw confError(`Element '${name}' in '${parent.localName}' is empty`, undefined, code)
  return value
}

export function optionalText(parent: Element, name: string, code: ErrorCode = 'malformed_global_conf'): string | undefined {
  const el = child(parent, name, code)
  if (el === undefined) return undefined
  const value = text(el)
  return value === '' ? undefined : value
}

export function integerText(parent: Element, name: string, code: ErrorCode = 'malformed_global_conf'): number {
  const value = requiredText(parent, name, code)
  if (!/^-?\d+$/.test(value)) throw confError(`Element '${name}' must be an integer, got '${value}'`, undefined, code)
  return Number.parseInt(value, 10)
}

export function booleanText(value: string, name: string, code: ErrorCode = 'malformed_global_conf'): boolean {
  // XML Schema boolean lexical space: true, false, 1, 0.
  if (value === 'true' || value === '1') return true
  if (value === 'false' || value === '0') return false
  throw confError(`Element '${name}' must be a boolean, got '${value}'`, undefined, code)
}

/**
 * A client identifier in configuration (`groupMember`, `managementRequestServiceProviderId`). X-Road's converter
 * builds the ClientId from the fields present, so a MEMBER with a `subsystemCode` (it occurs in X-Road's own
 * good test configurations) is read as that subsystem [inferred from `globalconf_good_v2/bar`].
 */
export function clientIdOf(el: Element, code: ErrorCode = 'malformed_global_conf'): ClientId {
  const fields = identifierFields(el)
  const hasSubsystem = fields.children.some((c) => c.localName === 'subsystemCode')
  const effective = fields.objectType === 'MEMBER' && hasSubsystem ? { ...fields, objectType: 'SUBSYSTEM' } : fields
  try {
    return identifierFromXml(effective, ['MEMBER', 'SUBSYSTEM']) as ClientId
  } catch (cause) {
    const why = cause instanceof Error ? cause.message : String(cause)
    throw confError(`Invalid identifier in '${el.localName}': ${why}`, cause, code)
  }
}

/** An identifier element, with identifier errors reported as malformed configuration. */
export function identifierOf<T extends XRoadId>(el: Element, accepted: readonly XRoadObjectType[], code: ErrorCode = 'malformed_global_conf'): T {
  try {
    return identifierFromXml(identifierFields(el), accepted) as T
  } catch (cause) {
    const why = cause instanceof Error ? cause.message : String(cause)
    throw confError(`Invalid identifier in '${el.localName}': ${why}`, cause, code)
  }
}


/**
 * Decodes a `<cert>` value: base64 of DER, or base64 of PEM text — both occur in real 7.8 configuration
 * (xroad-protocols.md §5.4, MANIFEST dev-signed-V3-V6). Whitespace inside the base64 is allowed.
 */
export function decodeCertificate(value: string, what: string, code: ErrorCode = 'malformed_global_conf'): Uint8Array {
  const compact = value.replace(/\s+/g, '')
  if (compact === '' || !/^[A-Za-z0-9+/]+={0,2}$/.test(compact)) {
    throw confError(`${what} is not valid base64`, undefined, code)
  }
  const bytes = Buffer.from(compact, 'base64')
  const asText = bytes.subarray(0, 64).toString('latin1')
  if (asText.includes('-----BEGIN')) {
    let pem: PemBlock | undefined
    try {
      pem = pemBlocks(bytes.toString('latin1'), { labels: ['CERTIFICATE'] })[0]
    } catch (cause) {
      throw confError(`${what} holds malformed PEM text: ${(cause as Error).message}`, cause, code)
    }
    if (pem === undefined) throw confError(`${what} holds PEM text without a CERTIFICATE block`, undefined, code)
    return new Uint8Array(pem.der)
  }
  return new Uint8Array(bytes)
}

export function certText(parent: Element, name: string, code: ErrorCode = 'malformed_global_conf'): Uint8Array {
  return decodeCertificate(requiredText(parent, name, code), `'${parent.localName}/${name}'`, code)
}

export function optionalCertText(parent: Element, name: string, code: ErrorCode = 'malformed_global_conf'): Uint8Array | undefined {
  const value = optionalText(parent, name, code)
  return value === undefined ? undefined : decodeCertificate(value, `'${parent.localName}/${name}'`, code)
}

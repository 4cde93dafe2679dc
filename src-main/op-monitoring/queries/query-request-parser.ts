import type { Element } from '@xmldom/xmldom'
import { IdentifierError, identifierFromXml, type ClientId } from '@shared/domain/identifiers'
import { childElements, identifierFields, parseXml, SecurityServerError, textOf } from '../../platform'
import { MONITORING_NS, OP_MONITORING_NS } from './monitoring-services'

/**
 * The request bodies of the monitoring services, read as X-Road reads them: `getSecurityServerOperationalData` and
 * `getSecurityServerHealthData` validated against op-monitoring.xsd (`QueryRequestHandler.getRequestData` unmarshals
 * with the schema; a violation is `client.invalid_request`), `getSecurityServerMetrics` by its `m:outputField`
 * elements only (`ProxyMonitorServiceHandlerImpl.getMetricNames` reads them from the whole message and validates
 * nothing else).
 *
 * Input is the whole SOAP envelope, parsed with platform's `parseXml` (linear scan with limits before the DOM);
 * every check below visits each element once, so reading is O(n) in the message.
 */
const SOAP_ENV_NS = 'http://schemas.xmlsoap.org/soap/envelope/'

/** A monitoring query is small; these bound what a request may hold. */
const QUERY_XML_LIMITS = { maxBytes: 1024 * 1024, maxDepth: 32, maxNodes: 20_000, maxAttributes: 64, maxNameLength: 256 }

export interface OperationalDataRequest {
  /** Seconds since the epoch, within xs:long and clamped to the safe integer range. */
  recordsFrom: number
  recordsTo: number
  /** `searchCriteria/client`: the service provider the records must name. */
  client?: ClientId
  /** `outputSpec/outputField`, duplicates removed; empty for all fields. */
  outputFields: ReadonlySet<string>
}

export interface HealthDataRequest {
  /** `filterCriteria/client`: only the services of this provider. */
  client?: ClientId
}

export interface MetricsRequest {
  /** `m:outputField` names; empty for every metric. */
  outputFields: readonly string[]
}

export function invalidRequest(message: string, cause?: unknown): SecurityServerError {
  return new SecurityServerError('invalid_request', message, { cause, clientFault: true }).withPrefix('client')
}

function envelopeOf(envelope: string | Uint8Array): Element {
  const doc = parseXml(envelope, QUERY_XML_LIMITS)
  const root = doc.documentElement
  if (root === null || root.localName !== 'Envelope' || root.namespaceURI !== SOAP_ENV_NS) throw invalidRequest('The message is not a SOAP envelope')
  return root
}

function bodyElement(envelope: Element, namespace: string, localName: string): Element {
  const body = childElements(envelope, SOAP_ENV_NS, 'Body')[0]
  const content = body === undefined ? [] : childElements(body)
  const first = content[0]
  if (first === undefined || first.namespaceURI !== namespace || first.localName !== localName) {
    throw invalidRequest(`The SOAP body must contain the element {${namespace}}${localName}`)
  }
  return first
}

/** An element's children checked against an xs:sequence of the named elements (namespace `ns`) with their occurrences. */
function sequence(parent: Element, ns: string, spec: ReadonlyArray<readonly [name: string, min: number, max: number]>): Map<string, Element[]> {
  for (let node = parent.firstChild; node !== null; node = node.nextSibling) {
    if ((node.nodeType === 3 || node.nodeType === 4) && (node.nodeValue ?? '').trim() !== '') {
      throw invalidRequest(`Element '${parent.localName}' may not contain text`)
    }
  }
  const found = new Map<string, Element[]>()
  let at = 0
  for (const child of childElements(parent)) {
    while (at < spec.length && (child.namespaceURI !== ns || child.localName !== spec[at]![0])) {
      const [name, min] = spec[at]!
      if ((found.get(name)?.length ?? 0) < min) throw invalidRequest(`Element '${parent.localName}' lacks '${name}'`)
      at++
    }
    const entry = spec[at]
    if (entry === undefined) throw invalidRequest(`Unexpected element '${child.localName}' in '${parent.localName}'`)
    const list = found.get(entry[0]) ?? []
    list.push(child)
    found.set(entry[0], list)
    if (list.length > entry[2]) throw invalidRequest(`Element '${entry[0]}' appears too often in '${parent.localName}'`)
  }
  for (; at < spec.length; at++) {
    const [name, min] = spec[at]!
    if ((found.get(name)?.length ?? 0) < min) throw invalidRequest(`Element '${parent.localName}' lacks '${name}'`)
  }
  return found
}

function simpleContent(el: Element): string {
  if (childElements(el).length > 0) throw invalidRequest(`Element '${el.localName}' may not contain elements`)
  return textOf(el)
}

const XS_LONG_MIN = -(2n ** 63n)
const XS_LONG_MAX = 2n ** 63n - 1n

/** xs:long (XML Schema Part 2 §3.3.16, white space collapsed): a value outside JavaScript's safe range is clamped to it. */
function xsLong(el: Element): number {
  const text = simpleContent(el).trim()
  if (!/^[+-]?[0-9]{1,25}$/.test(text)) throw invalidRequest(`'${el.localName}' is not an xs:long: ${JSON.stringify(text.slice(0, 40))}`)
  const value = BigInt(text)
  if (value < XS_LONG_MIN || value > XS_LONG_MAX) throw invalidRequest(`'${el.localName}' is out of the xs:long range`)
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) return Number.MAX_SAFE_INTEGER
  if (value < BigInt(Number.MIN_SAFE_INTEGER)) return Number.MIN_SAFE_INTEGER
  return Number(value)
}

/** `id:XRoadClientIdentifierType`: a MEMBER or SUBSYSTEM identifier. */
function clientIdentifier(el: Element): ClientId {
  try {
    return identifierFromXml(identifierFields(el), ['MEMBER', 'SUBSYSTEM']) as ClientId
  } catch (error) {
    if (error instanceof IdentifierError) throw invalidRequest(`Invalid '${el.localName}' identifier: ${error.message}`, error)
    throw error
  }
}

/** PR-OPMON §2; op-monitoring.xsd `GetSecurityServerOperationalDataType`. */
export function parseOperationalDataRequest(envelope: string | Uint8Array): OperationalDataRequest {
  const request = bodyElement(envelopeOf(envelope), OP_MONITORING_NS, 'getSecurityServerOperationalData')
  const parts = sequence(request, OP_MONITORING_NS, [['searchCriteria', 1, 1], ['outputSpec', 0, 1]])
  const criteria = sequence(parts.get('searchCriteria')![0]!, OP_MONITORING_NS, [['recordsFrom', 1, 1], ['recordsTo', 1, 1], ['client', 0, 1]])
  const outputSpec = parts.get('outputSpec')?.[0]
  const outputFields = new Set<string>()
  if (outputSpec !== undefined) {
    const fields = sequence(outputSpec, OP_MONITORING_NS, [['outputField', 0, Number.MAX_SAFE_INTEGER]])
    for (const field of fields.get('outputField') ?? []) outputFields.add(simpleContent(field))
  }
  const client = criteria.get('client')?.[0]
  return {
    recordsFrom: xsLong(criteria.get('recordsFrom')![0]!),
    recordsTo: xsLong(criteria.get('recordsTo')![0]!),
    ...(client === undefined ? {} : { client: clientIdentifier(client) }),
    outputFields,
  }
}

/** PR-OPMON §3; op-monitoring.xsd `GetSecurityServerHealthDataType`. */
export function parseHealthDataRequest(envelope: string | Uint8Array): HealthDataRequest {
  const request = bodyElement(envelopeOf(envelope), OP_MONITORING_NS, 'getSecurityServerHealthData')
  const filter = sequence(request, OP_MONITORING_NS, [['filterCriteria', 0, 1]]).get('filterCriteria')?.[0]
  if (filter === undefined) return {}
  const client = sequence(filter, OP_MONITORING_NS, [['client', 0, 1]]).get('client')?.[0]
  return client === undefined ? {} : { client: clientIdentifier(client) }
}

/**
 * PR-ENVMONMES §2.1: the `m:outputField` elements name the metrics wanted, none for all. X-Road looks them up in
 * the whole message (`getElementsByTagNameNS`), so a body in another namespace asks for every metric.
 */
export function parseMetricsRequest(envelope: string | Uint8Array): MetricsRequest {
  const root = envelopeOf(envelope)
  const outputFields: string[] = []
  for (const field of Array.from(root.getElementsByTagNameNS(MONITORING_NS, 'outputField'))) outputFields.push(textOf(field))
  return { outputFields }
}

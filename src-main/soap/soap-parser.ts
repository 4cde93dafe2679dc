import {
  clientId, IDENTIFIERS_NS, IdentifierError, securityServerId, serviceId, memberId,
  type ClientId, type IdentifierField, type SecurityServerId, type ServiceId,
} from '@shared/domain/identifiers'
import { clientError, decodeXmlReferences, scanXml, SecurityServerError, XmlScanError, type XmlScanHandler } from '../platform'
import { byteOffset, decodeSoap, type DecodedSoap, type SoapCharset } from './soap-encoding'
import {
  REPRESENTATION_NS, SECURITY_TOKEN_NS, SOAP_ENCODING_NS, SOAP_ENV_NS, XROAD_NS,
  type RepresentedParty, type RequestHash, type SecurityToken, type SoapHeader,
} from './soap-header'

/**
 * The SOAP envelope reader (X-Road's `SaxSoapParserImpl`; PR-MESS §2; xroad-protocols.md §3.1): a SOAP 1.1 envelope
 * with the X-Road header and a body of exactly one wrapper element (document/literal or rpc), or a SOAP fault. It runs
 * on the platform's XML scanner as event handler, so the message is never turned into a tree and its own bytes are what
 * is hashed, signed, logged and passed on; the reader only notes where the header's `id` ends and where a
 * `requestHash` sits, for the provider's response rewrite (`request-hash.ts`).
 *
 * Refusals are X-Road's: malformed XML, a DTD, an unbound prefix, a root that is not the envelope ⇒ `invalid_soap`;
 * a duplicate header field or identifier part ⇒ `duplicate_header_field`; a missing or unknown `id:objectType` ⇒
 * `invalid_xml`; `protocolVersion` not starting with `4.` ⇒ `invalid_protocol_version`; no header ⇒ `missing_header`;
 * no `protocolVersion`, `client`, `id` or `service` ⇒ `missing_header_field`; no body ⇒ `missing_body`; a body without
 * exactly one element ⇒ `invalid_body`; a wrapper whose name does not start with the service code ⇒
 * `inconsistent_headers` (X-Road's `SoapUtils.validateServiceName` compares with `startsWith`, which also admits
 * `{serviceCode}Response`).
 *
 * Complexity: O(n) in the message's length — one decoding pass, the scanner's single forward pass (limits applied while
 * reading: size, depth, nodes, attributes per element, name length), O(1) work per event (namespace prefixes resolved
 * through per-prefix stacks, not by walking the ancestors), at most `maxHeaderFields` header elements. Memory: the
 * decoded text plus the header's values. Refusals quote at most a few dozen characters of the input.
 */
export interface SoapLimits {
  maxBytes: number
  maxDepth: number
  maxNodes: number
  maxAttributes: number
  maxNameLength: number
  /** Most child elements of the SOAP header. */
  maxHeaderFields: number
}

export const DEFAULT_SOAP_LIMITS: SoapLimits = {
  maxBytes: 64 * 1024 * 1024, maxDepth: 64, maxNodes: 1_000_000, maxAttributes: 256, maxNameLength: 1024, maxHeaderFields: 256,
}

/** Byte positions in the message for the provider's `requestHash` rewrite (X-Road's `ResponseSoapParserImpl`). */
export interface SoapLayout {
  /** Byte offset right after `</…:id>` in the header. */
  idEnd: number
  /** The prefix of the `id` element as written ('' when in a default namespace). */
  idPrefix: string
  /** The first white-space-only text in the header: the indentation X-Road copies before the inserted element. */
  indent: string
  /** Byte spans of `requestHash` elements in the header. */
  requestHashes: Array<[number, number]>
}

export interface SoapMessage {
  kind: 'message'
  /** The message's own bytes, as received (a UTF-8 BOM included). */
  bytes: Buffer
  contentType: string
  charset: SoapCharset
  header: SoapHeader
  /** Local name of the body's wrapper element. */
  serviceName: string
  /** `SOAP-ENV:encodingStyle` on the envelope is SOAP encoding (rpc/encoded). */
  rpc: boolean
  layout: SoapLayout
}

export interface SoapFault {
  kind: 'fault'
  bytes: Buffer
  contentType: string
  faultCode: string
  faultString: string
  faultActor?: string
  faultDetail?: string
}

export type Soap = SoapMessage | SoapFault

const ALLOWED_MIME_TYPES = ['text/xml', 'application/xop+xml']

/** The base media type of a Content-Type, lower case. */
export function mediaTypeOf(contentType: string): string {
  return (contentType.split(';')[0] ?? '').trim().toLowerCase()
}

/** Reads one SOAP message (the whole body of a `text/xml` request, or the root part of a multipart one). */
export function readSoap(bytes: Uint8Array, contentType: string, limits: SoapLimits = DEFAULT_SOAP_LIMITS): Soap {
  // SoapUtils.validateMimeType: explicit check for a better error code.
  const mediaType = mediaTypeOf(contentType)
  if (mediaType !== '' && !ALLOWED_MIME_TYPES.includes(mediaType)) {
    throw clientError('invalid_content_type', `Invalid content type: ${mediaType.slice(0, 60)}`)
  }
  if (bytes.byteLength > limits.maxBytes) throw clientError('invalid_soap', `SOAP message is larger than ${limits.maxBytes} bytes`)
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const decoded = decodeSoap(buffer, contentType)
  const reader = new EnvelopeReader(decoded.text, limits)
  try {
    scanXml(decoded.text, { ...limits, maxTextLength: limits.maxBytes }, reader)
  } catch (error) {
    if (error instanceof XmlScanError) throw clientError('invalid_soap', `Malformed SOAP message: ${error.message}`)
    throw error
  }
  return reader.result(buffer, contentType, decoded)
}

type Frame =
  | { kind: 'ignore' }
  | { kind: 'envelope' }
  | { kind: 'header' }
  | { kind: 'body' }
  | { kind: 'value'; text: string; set: (value: string) => void; isId?: boolean; prefix?: string }
  | { kind: 'identifier'; field: 'client' | 'service' | 'securityServer'; objectType: string; parts: Map<IdentifierField, string> }
  | { kind: 'representedParty'; party: RepresentedParty }
  | { kind: 'fault' }
  | { kind: 'faultDetail'; text: string }

interface Name {
  prefix: string
  local: string
  namespace: string | null
}

type HeaderFields = Omit<Partial<SoapHeader>, 'client' | 'service' | 'securityServer'> & {
  client?: ClientId
  service?: ServiceId
  securityServer?: SecurityServerId
}

const IDENTIFIER_PARTS: Record<'client' | 'service' | 'securityServer', IdentifierField[]> = {
  client: ['xRoadInstance', 'memberClass', 'memberCode', 'subsystemCode'],
  service: ['xRoadInstance', 'memberClass', 'memberCode', 'subsystemCode', 'serviceCode', 'serviceVersion'],
  securityServer: ['xRoadInstance', 'memberClass', 'memberCode', 'serverCode'],
}
const OBJECT_TYPES: Record<'client' | 'service' | 'securityServer', string[]> = {
  client: ['MEMBER', 'SUBSYSTEM'], service: ['SERVICE'], securityServer: ['SERVER'],
}
/** Every object type X-Road's `XRoadObjectType` knows: another value is "unknown", one of these "unexpected". */
const KNOWN_OBJECT_TYPES = new Set(['MEMBER', 'SUBSYSTEM', 'SERVICE', 'SERVER', 'GLOBALGROUP', 'LOCALGROUP', 'SECURITYCATEGORY'])

function duplicate(name: string): SecurityServerError {
  return clientError('duplicate_header_field', `SOAP header contains duplicate field '${name.slice(0, 60)}'`)
}

class EnvelopeReader implements XmlScanHandler {
  private readonly frames: Frame[] = []
  private readonly namespaces = new Map<string, string[]>([['xml', ['http://www.w3.org/XML/1998/namespace']]])
  private readonly declared: string[][] = []
  private readonly header: HeaderFields = {}
  private headerSeen = false
  /** Header elements open (a header nested in a header element counts too). */
  private headersOpen = 0
  private headerFinished = false
  private headerFields = 0
  private bodySeen = false
  private serviceName: string | undefined
  private rpc = false
  private fault: { code?: string; string?: string; actor?: string; detail?: string } | undefined
  private idEnd = -1
  private idPrefix = ''
  private indent: string | undefined
  private readonly requestHashes: Array<[number, number]> = []
  private requestHashStart = -1

  constructor(private readonly source: string, private readonly limits: SoapLimits) {}

  startElement(qname: string, attributes: ReadonlyArray<readonly [string, string]>, start: number): void {
    const declared: string[] = []
    for (const [name, raw] of attributes) {
      if (name === 'xmlns' || name.startsWith('xmlns:')) {
        const prefix = name === 'xmlns' ? '' : name.slice(6)
        const stack = this.namespaces.get(prefix) ?? []
        stack.push(decodeXmlReferences(raw))
        this.namespaces.set(prefix, stack)
        declared.push(prefix)
      }
    }
    this.declared.push(declared)
    const name = this.resolve(qname, true)
    const attribute = (namespace: string | null, local: string): string | undefined => {
      for (const [n, raw] of attributes) {
        if (n === 'xmlns' || n.startsWith('xmlns:')) continue
        const resolved = this.resolve(n, false)
        if (resolved.local === local && resolved.namespace === namespace) return decodeXmlReferences(raw)
      }
      return undefined
    }
    const parent = this.frames[this.frames.length - 1]
    this.frames.push(parent === undefined ? this.root(name, attribute) : this.child(parent, name, attribute, start))
  }

  endElement(_qname: string, _start: number, end: number): void {
    const frame = this.frames.pop() as Frame
    for (const prefix of this.declared.pop() ?? []) this.namespaces.get(prefix)?.pop()
    switch (frame.kind) {
      case 'value':
        frame.set(frame.text)
        if (frame.isId === true) {
          this.idEnd = end
          this.idPrefix = frame.prefix ?? ''
        }
        if (this.requestHashStart >= 0) {
          this.requestHashes.push([this.requestHashStart, end])
          this.requestHashStart = -1
        }
        break
      case 'identifier':
        this.header[frame.field] = this.identifier(frame) as never
        break
      case 'representedParty':
        this.header.representedParty = frame.party
        break
      case 'header':
        this.headerFinished = true
        this.headersOpen--
        break
      case 'faultDetail':
        if (this.fault !== undefined && (this.fault.detail ?? '') === '') this.fault.detail = frame.text
        break
      default:
    }
  }

  text(from: number, to: number, cdata: boolean): void {
    const frame = this.frames[this.frames.length - 1]
    if (frame === undefined) return
    const collect = frame.kind === 'value' || frame.kind === 'faultDetail'
    const wantIndent = this.indent === undefined && this.headersOpen > 0
    if (!collect && !wantIndent) return
    const raw = this.source.slice(from, to)
    if (wantIndent && raw.trim() === '') this.indent = raw
    if (collect) frame.text += cdata ? raw : decodeXmlReferences(raw)
  }

  private resolve(qname: string, element: boolean): Name {
    const colon = qname.indexOf(':')
    const prefix = colon < 0 ? '' : qname.slice(0, colon)
    const local = colon < 0 ? qname : qname.slice(colon + 1)
    if (prefix === '' && !element) return { prefix, local, namespace: null }
    const stack = this.namespaces.get(prefix)
    const namespace = stack === undefined || stack.length === 0 ? undefined : stack[stack.length - 1]
    if (namespace === undefined) {
      if (prefix === '') return { prefix, local, namespace: null }
      throw clientError('invalid_soap', `Malformed SOAP message: namespace prefix ${JSON.stringify(prefix.slice(0, 40))} is not declared`)
    }
    return { prefix, local, namespace: namespace === '' ? null : namespace }
  }

  private root(name: Name, attribute: (ns: string | null, local: string) => string | undefined): Frame {
    if (name.namespace !== SOAP_ENV_NS || name.local !== 'Envelope') throw clientError('invalid_soap', 'Malformed SOAP message: envelope missing')
    this.rpc = attribute(SOAP_ENV_NS, 'encodingStyle') === SOAP_ENCODING_NS
    return { kind: 'envelope' }
  }

  private child(parent: Frame, name: Name, attribute: (ns: string | null, local: string) => string | undefined, start: number): Frame {
    switch (parent.kind) {
      case 'envelope':
        if (name.namespace === SOAP_ENV_NS && name.local === 'Header') {
          this.headerSeen = true
          this.headersOpen++
          return { kind: 'header' }
        }
        if (name.namespace === SOAP_ENV_NS && name.local === 'Body') {
          this.bodySeen = true
          return { kind: 'body' }
        }
        return { kind: 'ignore' }
      case 'header':
        if (++this.headerFields > this.limits.maxHeaderFields) {
          throw clientError('invalid_soap', `SOAP header has more than ${this.limits.maxHeaderFields} elements`)
        }
        return this.headerField(name, attribute, start)
      case 'identifier':
        return this.identifierPart(parent, name)
      case 'representedParty': {
        if (name.namespace !== REPRESENTATION_NS || (name.local !== 'partyClass' && name.local !== 'partyCode')) return { kind: 'ignore' }
        const key = name.local
        if (parent.party[key] !== undefined) throw duplicate(`{${REPRESENTATION_NS}}${key}`)
        return { kind: 'value', text: '', set: (v) => (parent.party[key] = v) }
      }
      case 'body':
        if (name.namespace === SOAP_ENV_NS && name.local === 'Fault') {
          this.fault = {}
          return { kind: 'fault' }
        }
        if (this.serviceName !== undefined) throw clientError('invalid_body', 'Malformed SOAP message: body must have exactly one child element')
        this.serviceName = name.local
        return { kind: 'ignore' }
      case 'fault': {
        const fault = this.fault as NonNullable<EnvelopeReader['fault']>
        if (name.local === 'faultcode') return { kind: 'value', text: '', set: (v) => (fault.code = v) }
        if (name.local === 'faultstring') return { kind: 'value', text: '', set: (v) => (fault.string = v) }
        if (name.local === 'faultactor') return { kind: 'value', text: '', set: (v) => (fault.actor = v) }
        if (name.local === 'detail') return { kind: 'faultDetail', text: '' }
        return { kind: 'ignore' }
      }
      case 'faultDetail': {
        const fault = this.fault as NonNullable<EnvelopeReader['fault']>
        if (name.local === 'faultDetail') return { kind: 'value', text: '', set: (v) => (fault.detail = v) }
        return { kind: 'ignore' }
      }
      default:
        return { kind: 'ignore' }
    }
  }

  private headerField(name: Name, attribute: (ns: string | null, local: string) => string | undefined, start: number): Frame {
    const header = this.header
    const qname = `{${name.namespace ?? ''}}${name.local}`
    const once = (present: unknown): void => {
      if (present !== undefined) throw duplicate(qname)
    }
    if (name.namespace === XROAD_NS) {
      switch (name.local) {
        case 'id':
          once(header.id)
          return { kind: 'value', text: '', set: (v) => (header.id = v), isId: true, prefix: name.prefix }
        case 'userId':
          once(header.userId)
          return { kind: 'value', text: '', set: (v) => (header.userId = v) }
        case 'issue':
          once(header.issue)
          return { kind: 'value', text: '', set: (v) => (header.issue = v) }
        case 'protocolVersion':
          once(header.protocolVersion)
          return { kind: 'value', text: '', set: (v) => (header.protocolVersion = checkProtocolVersion(v)) }
        case 'client':
        case 'service':
        case 'securityServer':
          once(header[name.local])
          return { kind: 'identifier', field: name.local, objectType: objectTypeOf(attribute, OBJECT_TYPES[name.local]), parts: new Map() }
        case 'requestHash': {
          once(header.requestHash)
          const algorithmId = attribute(null, 'algorithmId')
          this.requestHashStart = start
          return { kind: 'value', text: '', set: (v) => (header.requestHash = { value: v, ...(algorithmId === undefined ? {} : { algorithmId }) } satisfies RequestHash) }
        }
        default:
          return { kind: 'ignore' }
      }
    }
    if (name.namespace === REPRESENTATION_NS && name.local === 'representedParty') {
      once(header.representedParty)
      return { kind: 'representedParty', party: {} }
    }
    if (name.namespace === SECURITY_TOKEN_NS && name.local === 'securityToken') {
      once(header.securityToken)
      const tokenType = attribute(null, 'tokenType')
      return { kind: 'value', text: '', set: (v) => (header.securityToken = { value: v, ...(tokenType === undefined ? {} : { tokenType }) } satisfies SecurityToken) }
    }
    return { kind: 'ignore' }
  }

  private identifierPart(parent: Extract<Frame, { kind: 'identifier' }>, name: Name): Frame {
    const field = name.local as IdentifierField
    if (name.namespace !== IDENTIFIERS_NS || !IDENTIFIER_PARTS[parent.field].includes(field)) return { kind: 'ignore' }
    if (parent.parts.has(field)) throw duplicate(`{${IDENTIFIERS_NS}}${field}`)
    return { kind: 'value', text: '', set: (v) => parent.parts.set(field, v) }
  }

  private identifier(frame: Extract<Frame, { kind: 'identifier' }>): ClientId | ServiceId | SecurityServerId {
    const part = (field: IdentifierField): string => {
      const value = frame.parts.get(field)
      if (value === undefined) throw clientError('invalid_xml', `Identifier '${frame.field}' lacks '${field}'`)
      return value
    }
    try {
      const member = () => memberId(part('xRoadInstance'), part('memberClass'), part('memberCode'))
      switch (frame.field) {
        case 'client':
          // X-Road's ClientId.Conf.create: a subsystem code makes a subsystem whatever the objectType said.
          return clientId(part('xRoadInstance'), part('memberClass'), part('memberCode'), frame.parts.get('subsystemCode'))
        case 'service':
          return serviceId(
            clientId(part('xRoadInstance'), part('memberClass'), part('memberCode'), frame.parts.get('subsystemCode')),
            part('serviceCode'),
            frame.parts.get('serviceVersion'),
          )
        case 'securityServer':
          return securityServerId(member(), part('serverCode'))
      }
    } catch (error) {
      if (error instanceof IdentifierError) throw clientError('invalid_client_identifier', `Invalid ${frame.field} identifier: ${error.message}`)
      throw error
    }
  }

  result(bytes: Buffer, contentType: string, decoded: DecodedSoap): Soap {
    if (this.fault !== undefined) {
      return {
        kind: 'fault', bytes, contentType,
        faultCode: this.fault.code ?? '', faultString: this.fault.string ?? '',
        ...(this.fault.actor === undefined ? {} : { faultActor: this.fault.actor }),
        ...(this.fault.detail === undefined ? {} : { faultDetail: this.fault.detail }),
      }
    }
    const header = this.validatedHeader()
    if (!this.bodySeen) throw clientError('missing_body', 'Malformed SOAP message: body missing')
    if (this.serviceName === undefined) throw clientError('invalid_body', 'Malformed SOAP message: body must have exactly one child element')
    if (!this.serviceName.startsWith(header.service.serviceCode)) {
      throw clientError('inconsistent_headers', 'Malformed SOAP message: service code does not match in header and body')
    }
    return {
      kind: 'message', bytes, contentType, charset: decoded.charset, header, serviceName: this.serviceName, rpc: this.rpc,
      layout: {
        idEnd: byteOffset(decoded, this.idEnd),
        idPrefix: this.idPrefix,
        indent: this.indent ?? '',
        requestHashes: this.requestHashes.map(([from, to]) => [byteOffset(decoded, from), byteOffset(decoded, to)]),
      },
    }
  }

  private validatedHeader(): SoapHeader {
    // SaxSoapParserImpl.SoapEnvelopeHandler.validateHeader, in its order.
    if (!this.headerSeen || !this.headerFinished) throw clientError('missing_header', 'Malformed SOAP message: header missing')
    const h = this.header
    if (h.protocolVersion === undefined) throw clientError('missing_header_field', "Required field 'protocolVersion' is missing")
    if (h.client === undefined) throw clientError('missing_header_field', "Required field 'client' is missing")
    if (h.id === undefined) throw clientError('missing_header_field', "Required field 'id' is missing")
    if (h.service === undefined) throw clientError('missing_header_field', 'Message header must contain service id')
    return { ...h, client: h.client, service: h.service, id: h.id, protocolVersion: h.protocolVersion }
  }
}

/** `ProtocolVersion.validate`: the version must start with `4.` (PR-MESS §2.3 says `4.0`; X-Road accepts `4.x`). */
export function checkProtocolVersion(value: string): string {
  if (!value.startsWith('4.')) {
    throw clientError('invalid_protocol_version', `Invalid protocol version (supported: 4.x, provided: ${value.slice(0, 40)})`)
  }
  return value
}

function objectTypeOf(attribute: (ns: string | null, local: string) => string | undefined, expected: string[]): string {
  const objectType = attribute(IDENTIFIERS_NS, 'objectType')
  if (objectType === undefined) throw clientError('invalid_xml', 'Missing objectType attribute')
  if (!KNOWN_OBJECT_TYPES.has(objectType)) throw clientError('invalid_xml', `Unknown objectType: ${objectType.slice(0, 40)}`)
  if (!expected.includes(objectType)) throw clientError('invalid_xml', `Unexpected objectType: ${objectType}`)
  return objectType
}

/**
 * X-Road identifiers (xroad-protocols.md §1; PR-MESS §1.3, §2.1; PR-REST §4.2–4.3; identifiers.xsd):
 * the typed model, strict validation, the REST path/header form and the SOAP XML form.
 */

export const IDENTIFIERS_NS = 'http://x-road.eu/xsd/identifiers'

export type XRoadObjectType = 'MEMBER' | 'SUBSYSTEM' | 'SERVICE' | 'SERVER' | 'GLOBALGROUP' | 'LOCALGROUP'

export interface MemberId {
  readonly objectType: 'MEMBER'
  readonly xRoadInstance: string
  readonly memberClass: string
  readonly memberCode: string
}

export interface SubsystemId {
  readonly objectType: 'SUBSYSTEM'
  readonly xRoadInstance: string
  readonly memberClass: string
  readonly memberCode: string
  readonly subsystemCode: string
}

/** A service client or provider: a member or one of its subsystems. */
export type ClientId = MemberId | SubsystemId

export interface ServiceId {
  readonly objectType: 'SERVICE'
  readonly xRoadInstance: string
  readonly memberClass: string
  readonly memberCode: string
  readonly subsystemCode?: string
  readonly serviceCode: string
  readonly serviceVersion?: string
}

export interface SecurityServerId {
  readonly objectType: 'SERVER'
  readonly xRoadInstance: string
  readonly memberClass: string
  readonly memberCode: string
  readonly serverCode: string
}

export interface GlobalGroupId {
  readonly objectType: 'GLOBALGROUP'
  readonly xRoadInstance: string
  readonly groupCode: string
}

export interface LocalGroupId {
  readonly objectType: 'LOCALGROUP'
  readonly groupCode: string
}

export type XRoadId = ClientId | ServiceId | SecurityServerId | GlobalGroupId | LocalGroupId

export type IdentifierField =
  | 'xRoadInstance'
  | 'memberClass'
  | 'memberCode'
  | 'subsystemCode'
  | 'serviceCode'
  | 'serviceVersion'
  | 'serverCode'
  | 'groupCode'

export type IdentifierProblem =
  | 'empty'
  | 'too_long'
  | 'control_character'
  | 'forbidden_character'
  | 'surrounding_whitespace'
  | 'wrong_object_type'
  | 'wrong_part_count'
  | 'bad_percent_encoding'
  | 'missing_field'
  | 'unexpected_field'
  | 'duplicate_field'

/** Thrown for any malformed identifier; `problem` and `field` say exactly what is wrong. */
export class IdentifierError extends Error {
  readonly code = 'invalid_identifier'
  constructor(
    readonly problem: IdentifierProblem,
    message: string,
    readonly field?: IdentifierField,
  ) {
    super(message)
    this.name = 'IdentifierError'
  }
}

/** Column width of identifier parts in X-Road's databases. */
export const MAX_IDENTIFIER_PART_LENGTH = 255

/**
 * Characters X-Road's proxy flags in identifier values (`MessageProcessorBase.checkIdentifier`): they break the REST
 * path form, the colon form and file names. X-Road only logs a warning and serves the message (its `RestProxyTest`
 * accepts `s%2Fub`), and a central server may list such a member; so identifiers received — global configuration,
 * messages, stored configuration — accept them (`checkReceivedPart`), and only identifiers Gatehouse itself creates
 * (lab members, a new server code) are refused with them (`validateIdentifierPart`).
 */
const FORBIDDEN_CHARACTERS = ['/', '\\', '%', ':', ';', '\u200B', '\uFEFF'] as const

function hasControlCharacter(value: string): boolean {
  for (const ch of value) {
    const cp = ch.codePointAt(0) ?? 0
    if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) return true
  }
  return false
}

/**
 * Checks one identifier part as received from elsewhere and returns it unchanged: not empty, at most 255 characters,
 * no control character (X-Road flags those too, `MessageProcessorBase.validateIdentifierField`), no surrounding white
 * space. The characters X-Road only warns about are accepted (docs/xroad-differences.md "Identifier characters").
 */
export function checkReceivedPart(field: IdentifierField, value: string): string {
  if (value.length === 0) throw new IdentifierError('empty', `${field} must not be empty`, field)
  if (value.length > MAX_IDENTIFIER_PART_LENGTH) {
    throw new IdentifierError('too_long', `${field} is longer than ${MAX_IDENTIFIER_PART_LENGTH} characters`, field)
  }
  if (hasControlCharacter(value)) {
    throw new IdentifierError('control_character', `${field} contains a control character`, field)
  }
  if (value.trim() !== value) {
    throw new IdentifierError('surrounding_whitespace', `${field} has leading or trailing whitespace`, field)
  }
  return value
}

/**
 * Validates one identifier part Gatehouse creates (a lab member, a new server code) and returns it unchanged: the
 * received checks plus none of the characters X-Road flags.
 */
export function validateIdentifierPart(field: IdentifierField, value: string): string {
  checkReceivedPart(field, value)
  const forbidden = FORBIDDEN_CHARACTERS.find((ch) => value.includes(ch))
  if (forbidden !== undefined) {
    const shown = forbidden.length === 1 && forbidden >= ' ' ? `'${forbidden}'` : `U+${forbidden.codePointAt(0)?.toString(16).toUpperCase().padStart(4, '0')}`
    throw new IdentifierError('forbidden_character', `${field} contains the forbidden character ${shown}`, field)
  }
  return value
}

// ---- constructors (check every part as received; see FORBIDDEN_CHARACTERS) ----------------------------------------------------------

export function memberId(xRoadInstance: string, memberClass: string, memberCode: string): MemberId {
  return {
    objectType: 'MEMBER',
    xRoadInstance: checkReceivedPart('xRoadInstance', xRoadInstance),
    memberClass: checkReceivedPart('memberClass', memberClass),
    memberCode: checkReceivedPart('memberCode', memberCode),
  }
}

export function subsystemId(
  xRoadInstance: string,
  memberClass: string,
  memberCode: string,
  subsystemCode: string,
): SubsystemId {
  // Literals, not spreads of one another (issue 15 §5: identifiers are made per message); parts checked in field order.
  return {
    objectType: 'SUBSYSTEM',
    xRoadInstance: checkReceivedPart('xRoadInstance', xRoadInstance),
    memberClass: checkReceivedPart('memberClass', memberClass),
    memberCode: checkReceivedPart('memberCode', memberCode),
    subsystemCode: checkReceivedPart('subsystemCode', subsystemCode),
  }
}

export function clientId(
  xRoadInstance: string,
  memberClass: string,
  memberCode: string,
  subsystemCode?: string,
): ClientId {
  return subsystemCode === undefined
    ? memberId(xRoadInstance, memberClass, memberCode)
    : subsystemId(xRoadInstance, memberClass, memberCode, subsystemCode)
}

export function serviceId(
  provider: ClientId,
  serviceCode: string,
  serviceVersion?: string,
): ServiceId {
  const service: { -readonly [K in keyof ServiceId]: ServiceId[K] } = {
    objectType: 'SERVICE',
    xRoadInstance: provider.xRoadInstance,
    memberClass: provider.memberClass,
    memberCode: provider.memberCode,
    serviceCode: checkReceivedPart('serviceCode', serviceCode),
  }
  if (provider.objectType === 'SUBSYSTEM') service.subsystemCode = provider.subsystemCode
  if (serviceVersion !== undefined) service.serviceVersion = checkReceivedPart('serviceVersion', serviceVersion)
  return service
}

export function securityServerId(owner: MemberId | ClientId, serverCode: string): SecurityServerId {
  return {
    objectType: 'SERVER',
    xRoadInstance: owner.xRoadInstance,
    memberClass: owner.memberClass,
    memberCode: owner.memberCode,
    serverCode: checkReceivedPart('serverCode', serverCode),
  }
}

export function globalGroupId(xRoadInstance: string, groupCode: string): GlobalGroupId {
  return {
    objectType: 'GLOBALGROUP',
    xRoadInstance: checkReceivedPart('xRoadInstance', xRoadInstance),
    groupCode: checkReceivedPart('groupCode', groupCode),
  }
}

export function localGroupId(groupCode: string): LocalGroupId {
  return { objectType: 'LOCALGROUP', groupCode: checkReceivedPart('groupCode', groupCode) }
}

// ---- relations --------------------------------------------------------------------------------------

/** The member a client, service or server belongs to. */
export function memberOf(id: ClientId | ServiceId | SecurityServerId): MemberId {
  return { objectType: 'MEMBER', xRoadInstance: id.xRoadInstance, memberClass: id.memberClass, memberCode: id.memberCode }
}

/** The provider (member or subsystem) of a service. */
export function serviceProvider(service: ServiceId): ClientId {
  return service.subsystemCode === undefined
    ? memberOf(service)
    : { objectType: 'SUBSYSTEM', xRoadInstance: service.xRoadInstance, memberClass: service.memberClass, memberCode: service.memberCode, subsystemCode: service.subsystemCode }
}

/** X-Road's `memberEquals`: instance, class and code equal; subsystem ignored (SignatureVerifier.verifySignerName). */
export function memberEquals(a: ClientId | ServiceId | SecurityServerId, b: ClientId | ServiceId | SecurityServerId): boolean {
  return a.xRoadInstance === b.xRoadInstance && a.memberClass === b.memberClass && a.memberCode === b.memberCode
}

/**
 * The same identifier: same object type and the same parts, as their `encodeIdentifier` forms are equal (that encoding
 * is injective per type), compared field by field without encoding either (issue 15: it runs per server of global
 * configuration on every message).
 */
export function identifierEquals(a: XRoadId, b: XRoadId): boolean {
  if (a.objectType !== b.objectType) return false
  const x = a as Partial<Record<IdentifierField, string>>
  const y = b as Partial<Record<IdentifierField, string>>
  for (const field of IDENTITY_FIELDS[a.objectType]) if (x[field] !== y[field]) return false
  return true
}

/** The fields that make up each object type's identity (those `identifierParts` and `encodeIdentifier` write). */
const IDENTITY_FIELDS: Record<XRoadId['objectType'], readonly IdentifierField[]> = {
  MEMBER: ['xRoadInstance', 'memberClass', 'memberCode'],
  SUBSYSTEM: ['xRoadInstance', 'memberClass', 'memberCode', 'subsystemCode'],
  SERVICE: ['xRoadInstance', 'memberClass', 'memberCode', 'subsystemCode', 'serviceCode', 'serviceVersion'],
  SERVER: ['xRoadInstance', 'memberClass', 'memberCode', 'serverCode'],
  GLOBALGROUP: ['xRoadInstance', 'groupCode'],
  LOCALGROUP: ['groupCode'],
}

// ---- REST path / header form (PR-REST §4.2–4.3) ------------------------------------------------------

/**
 * Guava's `urlPathSegmentEscaper`, which X-Road uses for the identifier headers it emits
 * (`RestResponse.encodeXRoadId`): unreserved and sub-delims plus ':' and '@' stay, everything else is %XX (UTF-8).
 */
export function encodePathSegment(value: string): string {
  // Most identifier parts hold only characters that stay as they are: skip the escaping (issue 15, per message).
  if (PATH_SEGMENT_AS_IS.test(value)) return value
  return encodeURIComponent(value).replace(PATH_SEGMENT_SAFE_ESCAPES, (escape) => decodeURIComponent(escape))
}

/** What `encodePathSegment` leaves alone: `encodeURIComponent`'s unreserved set plus the safe escapes below. */
const PATH_SEGMENT_AS_IS = /^[A-Za-z0-9\-_.!~*'()$&+,;=:@]*$/

/** `$ & + , ; = : @`: safe in a path segment (RFC 3986 pchar) but escaped by `encodeURIComponent`. */
const PATH_SEGMENT_SAFE_ESCAPES = /%(24|26|2B|2C|3B|3D|3A|40)/g

/** Percent-decodes one path segment; malformed escapes are an identifier error. */
export function decodePathSegment(segment: string, field: IdentifierField): string {
  // Without a '%' there is nothing to decode (decodeURIComponent returns such a segment as it is).
  if (!segment.includes('%')) return segment
  try {
    return decodeURIComponent(segment)
  } catch {
    throw new IdentifierError('bad_percent_encoding', `${field} has a malformed percent-encoding`, field)
  }
}

function splitParts(value: string, counts: readonly number[], what: string): string[] {
  const parts = value.split('/')
  if (!counts.includes(parts.length)) {
    throw new IdentifierError(
      'wrong_part_count',
      `${what} must have ${counts.join(' or ')} '/'-separated parts, got ${parts.length}`,
    )
  }
  return parts
}

const CLIENT_FIELDS: readonly IdentifierField[] = ['xRoadInstance', 'memberClass', 'memberCode', 'subsystemCode']

/** Parses `INSTANCE/CLASS/MEMBER[/SUBSYSTEM]` (the `X-Road-Client` header), each part percent-encoded. */
export function parseClientIdPath(value: string): ClientId {
  const parts = splitParts(value, [3, 4], 'A client identifier')
  const [i, c, m, s] = parts.map((p, n) => decodePathSegment(p, CLIENT_FIELDS[n] as IdentifierField))
  return clientId(i as string, c as string, m as string, s)
}

/** Parses `INSTANCE/CLASS/MEMBER/SUBSYSTEM/SERVICE` (the `X-Road-Service` header; subsystem required, as in 7.x). */
export function parseServiceIdPath(value: string): ServiceId {
  const parts = splitParts(value, [5], 'A service identifier')
  const fields: IdentifierField[] = [...CLIENT_FIELDS, 'serviceCode']
  const [i, c, m, s, code] = parts.map((p, n) => decodePathSegment(p, fields[n] as IdentifierField))
  return serviceId(subsystemId(i as string, c as string, m as string, s as string), code as string)
}

/** Parses `INSTANCE/CLASS/MEMBER/SERVERCODE` (the `X-Road-Security-Server` header). */
export function parseSecurityServerIdPath(value: string): SecurityServerId {
  const parts = splitParts(value, [4], 'A security server identifier')
  const fields: IdentifierField[] = ['xRoadInstance', 'memberClass', 'memberCode', 'serverCode']
  const [i, c, m, code] = parts.map((p, n) => decodePathSegment(p, fields[n] as IdentifierField))
  return securityServerId(memberId(i as string, c as string, m as string), code as string)
}

/** The REST path/header form of any identifier (no object-type prefix). */
export function formatIdPath(id: XRoadId): string {
  return joinParts(id, encodePathSegment)
}

/**
 * The parts of `identifierParts`, each encoded, joined by '/': written out for the identifiers of every message
 * (subsystems, members, services), without an array of parts (issue 15 §5).
 */
function joinParts(id: XRoadId, encode: (part: string) => string): string {
  switch (id.objectType) {
    case 'MEMBER':
      return `${encode(id.xRoadInstance)}/${encode(id.memberClass)}/${encode(id.memberCode)}`
    case 'SUBSYSTEM':
      return `${encode(id.xRoadInstance)}/${encode(id.memberClass)}/${encode(id.memberCode)}/${encode(id.subsystemCode)}`
    case 'SERVICE': {
      const member = `${encode(id.xRoadInstance)}/${encode(id.memberClass)}/${encode(id.memberCode)}`
      const service = id.subsystemCode === undefined ? `${member}/${encode(id.serviceCode)}` : `${member}/${encode(id.subsystemCode)}/${encode(id.serviceCode)}`
      return id.serviceVersion === undefined ? service : `${service}/${encode(id.serviceVersion)}`
    }
    default:
      return identifierParts(id).map(encode).join('/')
  }
}

function identifierParts(id: XRoadId): string[] {
  switch (id.objectType) {
    case 'MEMBER':
      return [id.xRoadInstance, id.memberClass, id.memberCode]
    case 'SUBSYSTEM':
      return [id.xRoadInstance, id.memberClass, id.memberCode, id.subsystemCode]
    case 'SERVICE':
      return [
        id.xRoadInstance,
        id.memberClass,
        id.memberCode,
        ...(id.subsystemCode === undefined ? [] : [id.subsystemCode]),
        id.serviceCode,
        ...(id.serviceVersion === undefined ? [] : [id.serviceVersion]),
      ]
    case 'SERVER':
      return [id.xRoadInstance, id.memberClass, id.memberCode, id.serverCode]
    case 'GLOBALGROUP':
      return [id.xRoadInstance, id.groupCode]
    case 'LOCALGROUP':
      return [id.groupCode]
  }
}

// ---- canonical string form (`SUBSYSTEM:EE/GOV/123/SUB`), used as a database key and in logs ---------

/**
 * One part of the canonical form: the path-segment encoding with `;` escaped too, so that the `;v=` marking a service
 * version cannot occur inside a part (received identifiers may hold `;`). Identifiers without `;` encode as before.
 */
function canonicalPart(value: string): string {
  if (CANONICAL_AS_IS.test(value)) return value
  return encodePathSegment(value).replace(/;/g, '%3B')
}

/** What `canonicalPart` leaves alone: as `PATH_SEGMENT_AS_IS`, without `;`. */
const CANONICAL_AS_IS = /^[A-Za-z0-9\-_.!~*'()$&+,=:@]*$/

/** `OBJECTTYPE:part/part/…` with each part percent-encoded; unambiguous and reversible. */
export function encodeIdentifier(id: XRoadId): string {
  if (id.objectType === 'SERVICE') {
    // Service version and subsystem are both optional, so mark the version explicitly.
    const member = `${canonicalPart(id.xRoadInstance)}/${canonicalPart(id.memberClass)}/${canonicalPart(id.memberCode)}`
    const provider = id.subsystemCode === undefined ? member : `${member}/${canonicalPart(id.subsystemCode)}`
    const version = id.serviceVersion === undefined ? '' : `;v=${canonicalPart(id.serviceVersion)}`
    return `SERVICE:${provider}/${canonicalPart(id.serviceCode)}${version}`
  }
  return `${id.objectType}:${joinParts(id, canonicalPart)}`
}

/** Inverse of `encodeIdentifier`. */
export function decodeIdentifier(encoded: string): XRoadId {
  const colon = encoded.indexOf(':')
  if (colon < 0) throw new IdentifierError('wrong_object_type', 'An encoded identifier must start with its object type')
  const type = encoded.slice(0, colon)
  const rest = encoded.slice(colon + 1)
  switch (type) {
    case 'MEMBER': {
      const id = parseClientIdPath(rest)
      if (id.objectType !== 'MEMBER') throw new IdentifierError('wrong_part_count', 'A member identifier has 3 parts')
      return id
    }
    case 'SUBSYSTEM': {
      const id = parseClientIdPath(rest)
      if (id.objectType !== 'SUBSYSTEM') throw new IdentifierError('wrong_part_count', 'A subsystem identifier has 4 parts')
      return id
    }
    case 'SERVICE': {
      const [path, version] = rest.split(';v=') as [string, string | undefined]
      const parts = splitParts(path, [4, 5], 'A service identifier')
      const code = decodePathSegment(parts.pop() as string, 'serviceCode')
      const provider = parseClientIdPath(parts.join('/'))
      return serviceId(provider, code, version === undefined ? undefined : decodePathSegment(version, 'serviceVersion'))
    }
    case 'SERVER':
      return parseSecurityServerIdPath(rest)
    case 'GLOBALGROUP': {
      const [i, g] = splitParts(rest, [2], 'A global group identifier')
      return globalGroupId(decodePathSegment(i as string, 'xRoadInstance'), decodePathSegment(g as string, 'groupCode'))
    }
    case 'LOCALGROUP':
      return localGroupId(decodePathSegment(rest, 'groupCode'))
    default:
      throw new IdentifierError('wrong_object_type', `Unknown identifier object type '${type}'`)
  }
}

/** Human-readable form used by X-Road's `toString()`: `SUBSYSTEM:EE/BUSINESS/123/sub`. */
export function describeIdentifier(id: XRoadId): string {
  return `${id.objectType}:${identifierParts(id).join('/')}`
}

// ---- SOAP XML form (identifiers.xsd) -----------------------------------------------------------------

/** Element order per object type, as identifiers.xsd defines it. */
const XML_FIELDS: Record<XRoadObjectType, { required: IdentifierField[]; optional: IdentifierField[] }> = {
  MEMBER: { required: ['xRoadInstance', 'memberClass', 'memberCode'], optional: [] },
  SUBSYSTEM: { required: ['xRoadInstance', 'memberClass', 'memberCode', 'subsystemCode'], optional: [] },
  SERVICE: {
    required: ['xRoadInstance', 'memberClass', 'memberCode', 'serviceCode'],
    optional: ['subsystemCode', 'serviceVersion'],
  },
  SERVER: { required: ['xRoadInstance', 'memberClass', 'memberCode', 'serverCode'], optional: [] },
  GLOBALGROUP: { required: ['xRoadInstance', 'groupCode'], optional: [] },
  LOCALGROUP: { required: ['groupCode'], optional: [] },
}
const XML_ORDER: IdentifierField[] = [
  'xRoadInstance', 'memberClass', 'memberCode', 'subsystemCode', 'groupCode', 'serviceCode', 'serviceVersion', 'serverCode',
]

/**
 * What an XML parser hands over for one identifier element: its `id:objectType` attribute and its child
 * elements in the identifiers namespace (local name and text). Parsing XML itself happens in src-main.
 */
export interface XmlIdentifierFields {
  objectType: string | null
  children: ReadonlyArray<{ namespace: string | null; localName: string; text: string }>
}

/**
 * Builds an identifier from its XML fields, enforcing the object types the context accepts
 * (e.g. only MEMBER or SUBSYSTEM for `xroad:client`).
 */
export function identifierFromXml(fields: XmlIdentifierFields, accepted: readonly XRoadObjectType[]): XRoadId {
  const type = fields.objectType
  if (type === null) throw new IdentifierError('wrong_object_type', 'The id:objectType attribute is missing')
  if (!(type in XML_FIELDS) || !accepted.includes(type as XRoadObjectType)) {
    throw new IdentifierError('wrong_object_type', `Object type '${type}' is not accepted here (expected ${accepted.join(' or ')})`)
  }
  const spec = XML_FIELDS[type as XRoadObjectType]
  const values = new Map<IdentifierField, string>()
  for (const child of fields.children) {
    if (child.namespace !== IDENTIFIERS_NS) {
      throw new IdentifierError('unexpected_field', `Unexpected element '${child.localName}' outside the identifiers namespace`)
    }
    const field = child.localName as IdentifierField
    if (!spec.required.includes(field) && !spec.optional.includes(field)) {
      throw new IdentifierError('unexpected_field', `Element '${child.localName}' is not allowed in a ${type} identifier`, field)
    }
    if (values.has(field)) throw new IdentifierError('duplicate_field', `Element '${field}' appears twice`, field)
    values.set(field, child.text)
  }
  for (const field of spec.required) {
    if (!values.has(field)) throw new IdentifierError('missing_field', `A ${type} identifier needs '${field}'`, field)
  }
  const get = (f: IdentifierField): string => values.get(f) as string
  switch (type as XRoadObjectType) {
    case 'MEMBER':
      return memberId(get('xRoadInstance'), get('memberClass'), get('memberCode'))
    case 'SUBSYSTEM':
      return subsystemId(get('xRoadInstance'), get('memberClass'), get('memberCode'), get('subsystemCode'))
    case 'SERVICE':
      return serviceId(
        clientId(get('xRoadInstance'), get('memberClass'), get('memberCode'), values.get('subsystemCode')),
        get('serviceCode'),
        values.get('serviceVersion'),
      )
    case 'SERVER':
      return securityServerId(memberId(get('xRoadInstance'), get('memberClass'), get('memberCode')), get('serverCode'))
    case 'GLOBALGROUP':
      return globalGroupId(get('xRoadInstance'), get('groupCode'))
    case 'LOCALGROUP':
      return localGroupId(get('groupCode'))
  }
}

function escapeXmlText(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

/**
 * Serializes an identifier as an XML element, e.g. `<xroad:client id:objectType="SUBSYSTEM">…</xroad:client>`.
 * `qualifiedName` is the element name with its prefix; the caller declares the prefixes (by default `id`).
 */
export function identifierToXml(id: XRoadId, qualifiedName: string, idPrefix = 'id'): string {
  const record = id as unknown as Record<string, string | undefined>
  const children = XML_ORDER.filter((f) => record[f] !== undefined)
    .map((f) => `<${idPrefix}:${f}>${escapeXmlText(record[f] as string)}</${idPrefix}:${f}>`)
    .join('')
  return `<${qualifiedName} ${idPrefix}:objectType="${id.objectType}">${children}</${qualifiedName}>`
}

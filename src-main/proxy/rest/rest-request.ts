import { randomUUID } from 'node:crypto'
import {
  decodePathSegment, parseClientIdPath, parseSecurityServerIdPath, serviceId, subsystemId,
  type ClientId, type SecurityServerId, type ServiceId,
} from '@shared/domain/identifiers'
import { REST_METHODS, type RestMethod } from '../../access-control'
import { clientError, toSecurityServerError } from '../../platform'
import { serializeRestRequestPart } from './rest-header-part'
import { FILTERED_HEADERS, XROAD_HEADERS, type HeaderList } from './rest-headers'

/**
 * A REST r1 request from an information system (PR-REST §4.1–4.3; xroad-protocols.md §2.1–2.2): the
 * `/r1/{instance}/{class}/{member}/{subsystem}/{service}[/path][?query]` target and the X-Road headers.
 */
export interface RepresentedParty {
  partyClass?: string
  partyCode: string
}

export interface RestRequest {
  method: RestMethod
  /** Everything after the 5th identifier segment, undecoded ('' when none). */
  servicePath: string
  /** The undecoded full path `/r1/…` and `?query` as received. */
  pathAndQuery: string
  rawQuery: string | undefined
  clientId: ClientId
  serviceId: ServiceId
  messageId: string
  requestId: string
  userId?: string
  issue?: string
  representedParty?: RepresentedParty
  targetSecurityServer?: SecurityServerId
  /** The headers of the signed header part: incoming minus filtered, then `x-road-request-id` (and a generated `x-road-id`). */
  headers: HeaderList
}

export interface IncomingRestRequest {
  method: string
  /** The request target as on the request line (origin form). */
  url: string
  headers: HeaderList
}

export const PROTOCOL_VERSION_SEGMENT = 'r1'

const LINE_BREAK_OR_NUL = /[\r\n\0]/

export function parseRestRequest(incoming: IncomingRestRequest, instance: string, newUuid: () => string = randomUUID): RestRequest {
  const method = incoming.method.toUpperCase()
  // `RestRequest.Verb.valueOf`: any other method is an IllegalArgumentException, i.e. X-Road's `internal_error`.
  if (!(REST_METHODS as readonly string[]).includes(method)) {
    throw clientError('internal_error', `Unsupported HTTP method: ${incoming.method.slice(0, 20)}`)
  }
  // Issue 15 §5: one pass over the headers — checked, the X-Road ones picked out (the last of each counts, PR-REST §4.3),
  // and the ones the header part keeps collected (RestRequest ctor: no filtered header, no client-supplied request id
  // or request hash).
  let clientHeader: string | undefined
  let securityServerHeader: string | undefined
  let representedHeader: string | undefined
  let messageId: string | undefined
  let userId: string | undefined
  let issue: string | undefined
  const headers: HeaderList = []
  for (const header of incoming.headers) {
    const [name, value] = header
    if (LINE_BREAK_OR_NUL.test(name) || LINE_BREAK_OR_NUL.test(value)) throw clientError('invalid_request', 'Header contains a line break or NUL')
    const lower = name.toLowerCase()
    if (lower.startsWith('x-road-')) {
      if (lower === XROAD_HEADERS.client) clientHeader = value
      else if (lower === XROAD_HEADERS.securityServer) securityServerHeader = value
      else if (lower === XROAD_HEADERS.representedParty) representedHeader = value
      else if (lower === XROAD_HEADERS.id) messageId = value
      else if (lower === XROAD_HEADERS.userId) userId = value
      else if (lower === XROAD_HEADERS.issue) issue = value
      else if (lower === XROAD_HEADERS.requestId || lower === XROAD_HEADERS.requestHash) continue
    }
    if (!FILTERED_HEADERS.has(lower)) headers.push(header)
  }
  const { path, query } = splitTarget(incoming.url)
  // RestRequest.decodeIdentifiers: split("/", 8) must give at least 7 parts (subsystem required in 7.x).
  const parts = path.split('/')
  const version = parts[1] ?? ''
  if (!/^r\d$/.test(version)) throw clientError('invalid_protocol_version', `Invalid protocol version: ${version.slice(0, 20)}`)
  if (version !== PROTOCOL_VERSION_SEGMENT) throw clientError('invalid_protocol_version', `Unsupported protocol version: ${version}`)
  if (parts.length < 7 || parts[2] === '' || parts[3] === '' || parts[4] === '' || parts[5] === '' || parts[6] === '') {
    throw clientError('internal_error', `Invalid request URI: ${path.slice(0, 200)}`)
  }
  const service = serviceFromPath(parts as [string, string, string, string, string, string, string])
  const client = clientHeader === undefined || clientHeader.trim() === '' ? undefined : clientFromHeader(clientHeader.trim())
  const targetSecurityServer =
    securityServerHeader === undefined
      ? undefined
      : identifierOrInvalid('Invalid SecurityServer Id', () => parseSecurityServerIdPath(securityServerHeader.trim()))
  if (targetSecurityServer !== undefined && targetSecurityServer.xRoadInstance !== service.xRoadInstance) {
    throw clientError('invalid_security_server', 'X-Road-Security-Server is in another instance than the service')
  }
  const representedParty = representedHeader === undefined ? undefined : parseRepresentedParty(representedHeader)
  // `MessageProcessorBase.verifyClientStatus`: checked once the headers are decoded.
  if (client === undefined) throw clientError('invalid_client_identifier', 'The client identifier is missing')

  // RestRequest ctor: our own request id after the headers kept.
  const requestId = newUuid()
  headers.push([XROAD_HEADERS.requestId, requestId])
  if (messageId === undefined || messageId === '') {
    // ClientRestMessageProcessor: a missing id becomes `{instance}-{UUID}`. X-Road keeps an empty one and then refuses
    // the provider's answer to it (`RestResponse.of`: "Invalid REST Response message") after the service was called;
    // here it is treated as missing (docs/xroad-differences.md "REST: an empty X-Road-Id").
    messageId = `${instance}-${newUuid()}`
    for (let i = headers.length - 1; i >= 0; i--) if ((headers[i] as [string, string])[0].toLowerCase() === XROAD_HEADERS.id) headers.splice(i, 1)
    headers.push([XROAD_HEADERS.id, messageId])
  }
  // Issue 15 §5: a literal, the optional fields set only when present (in the order the object always had), no spreads.
  const request: RestRequest = {
    method: method as RestMethod,
    servicePath: parts.length === 7 ? '' : `/${parts.slice(7).join('/')}`,
    pathAndQuery: query === undefined ? path : `${path}?${query}`,
    rawQuery: query,
    clientId: client,
    serviceId: service,
    messageId,
    requestId,
  } as RestRequest
  if (userId !== undefined) request.userId = userId
  if (issue !== undefined) request.issue = issue
  if (representedParty !== undefined) request.representedParty = representedParty
  if (targetSecurityServer !== undefined) request.targetSecurityServer = targetSecurityServer
  request.headers = headers
  return request
}

/** The service of `/r1/{instance}/{class}/{member}/{subsystem}/{service}` (`RestRequest.decodeIdentifiers`). */
function serviceFromPath([, , instanceSeg, classSeg, memberSeg, subsystemSeg, serviceSeg]: [string, string, string, string, string, string, string]): ServiceId {
  try {
    return serviceId(
      subsystemId(
        decodePathSegment(instanceSeg, 'xRoadInstance'),
        decodePathSegment(classSeg, 'memberClass'),
        decodePathSegment(memberSeg, 'memberCode'),
        decodePathSegment(subsystemSeg, 'subsystemCode'),
      ),
      decodePathSegment(serviceSeg, 'serviceCode'),
    )
  } catch (error) {
    throw invalidIdentifier('Invalid request URI', error)
  }
}

/** `X-Road-Client` (`RestRequest.decodeClientId`). */
function clientFromHeader(value: string): ClientId {
  try {
    return parseClientIdPath(value)
  } catch (error) {
    throw invalidIdentifier('Invalid Client Id', error)
  }
}

/** The `application/x-road-rest-request` part of a parsed request. */
export function restRequestHeaderPart(request: RestRequest): Buffer {
  return serializeRestRequestPart({ method: request.method, pathAndQuery: request.pathAndQuery, headers: request.headers })
}

function splitTarget(url: string): { path: string; query: string | undefined } {
  if (!url.startsWith('/')) throw clientError('invalid_request', 'Invalid request URI: the target must be an absolute path')
  const hash = url.indexOf('#')
  const target = hash < 0 ? url : url.slice(0, hash)
  const q = target.indexOf('?')
  return q < 0 ? { path: target, query: undefined } : { path: target.slice(0, q), query: target.slice(q + 1) }
}

/** `[{partyClass}/]{partyCode}` (PR-REST §4.3). */
function parseRepresentedParty(value: string): RepresentedParty {
  const parts = value.split('/')
  if (parts.length > 2 || parts.some((p) => p === '')) {
    throw clientError('internal_error', 'Invalid RepresentedParty Id: X-Road-Represented-Party must be [partyClass/]partyCode')
  }
  const decoded = parts.map((p) => identifierOrInvalid('Invalid RepresentedParty Id', () => decodePathSegment(p, 'memberCode')))
  return decoded.length === 2 ? { partyClass: decoded[0] as string, partyCode: decoded[1] as string } : { partyCode: decoded[0] as string }
}

/**
 * X-Road's `RestRequest.decodeIdentifiers`/`decodeClientId`/`decodeServerId` throw an IllegalArgumentException for a
 * malformed identifier, which the proxy reports as `internal_error` (`XrdRuntimeException.systemException`); the
 * message names what was malformed as X-Road's does, then why.
 */
function identifierOrInvalid<T>(what: string, parse: () => T): T {
  try {
    return parse()
  } catch (error) {
    throw invalidIdentifier(what, error)
  }
}

function invalidIdentifier(what: string, error: unknown): Error {
  const coded = toSecurityServerError(error)
  return clientError('internal_error', `${what}: ${coded.message}`, { cause: error })
}

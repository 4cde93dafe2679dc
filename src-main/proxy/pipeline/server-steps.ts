import { describeIdentifier, serviceProvider, type ClientId } from '@shared/domain/identifiers'
import { decideAccess } from '../../access-control'
import { isErrorCode } from '@shared/error-codes'
import type { Element } from '@xmldom/xmldom'
import { clientError, optionalChild, parseXml, requiredChild, SecurityServerError, textOf } from '../../platform'
import type { GlobalConfView, ServerConfView } from '../proxy-deps'
import { parseRestHeaderPart, type RestRequestPart } from '../rest/rest-header-part'
import { lastHeader, XROAD_HEADERS } from '../rest/rest-headers'
import { parseRestRequest, type RestRequest } from '../rest/rest-request'
import type { TransportMessage } from '../transport/transport-message'

/**
 * The provider-side steps of xroad-protocols.md §4.3 (`ServerRestMessageProcessor`), each small and pure
 * over its inputs so the pipeline reads as their list.
 */
const SOAP_ENV_NS = 'http://schemas.xmlsoap.org/soap/envelope/'

export const MIN_SUPPORTED_CLIENT_VERSION = [7, 0, 0] as const

/** `x-proxy-version` must be a semver at least the minimum supported (`client_proxy_version_not_supported`). */
export function checkProxyVersion(value: string | undefined): void {
  const match = value === undefined ? null : /^(\d+)\.(\d+)\.(\d+)/.exec(value.trim())
  if (match === null) throw clientError('client_proxy_version_not_supported', `Unsupported client proxy version: ${String(value).slice(0, 40)}`)
  const version = match.slice(1, 4).map(Number)
  for (let i = 0; i < 3; i++) {
    const have = version[i] as number
    const min = MIN_SUPPORTED_CLIENT_VERSION[i] as number
    if (have > min) return
    if (have < min) {
      throw clientError('client_proxy_version_not_supported', `Client proxy version ${value} is not supported`)
    }
  }
}

/** The REST request inside a transport message, with the ids the consumer assigned. */
export function readRestRequest(message: TransportMessage<unknown>, instance: string): { part: RestRequestPart; request: RestRequest } {
  if (message.message.type !== 'rest') throw clientError('missing_rest', 'Message does not contain a REST request part')
  const part = parseRestHeaderPart(message.message.bytes)
  if (part.kind !== 'request') throw clientError('invalid_message', 'Expected a REST request part')
  const requestId = lastHeader(part.headers, XROAD_HEADERS.requestId)
  const messageId = lastHeader(part.headers, XROAD_HEADERS.id)
  if (requestId === undefined || messageId === undefined) throw clientError('missing_header', 'REST request part lacks x-road-request-id or x-road-id')
  const parsed = parseRestRequest({ method: part.method, url: part.pathAndQuery, headers: part.headers }, instance, () => requestId)
  return { part, request: { ...parsed, requestId, messageId, headers: part.headers } }
}

/** The client must be a member known to global configuration (`unknown_member`). */
export function checkClientKnown(client: ClientId, globalConf: GlobalConfView): void {
  if (!globalConf.memberExists(client)) throw clientError('unknown_member', `Client ${describeIdentifier(client)} is not known`)
}

/** Access rights over server configuration (§4.3: `unknown_service`, `access_denied`, `service_disabled`). */
export function checkAccess(request: RestRequest, serverConf: ServerConfView, globalConf: GlobalConfView): void {
  const provider = serviceProvider(request.serviceId)
  const decision = decideAccess(
    { client: request.clientId, service: request.serviceId, method: request.method, path: request.servicePath },
    serverConf.accessRightsFor(request.serviceId),
    {
      localGroupMembers: (code) => serverConf.localGroupMembers(provider, code),
      isGlobalGroupMember: (client, group) => globalConf.isGlobalGroupMember(client, group),
    },
  )
  if (!decision.allowed) throw clientError(decision.code, decision.message)
}

/** The service URL plus the service path (no `//`) and the raw query (`ServerRestMessageProcessor.concatPath`). */
export function serviceUrl(base: string, servicePath: string, rawQuery: string | undefined): string {
  const joined = base.endsWith('/') && servicePath.startsWith('/') ? base + servicePath.slice(1) : base + servicePath
  return rawQuery === undefined ? joined : `${joined}?${rawQuery}`
}

/** Parses a provider's plain SOAP fault answer into a coded error carrying the provider's fault code. */
export function faultToError(faultXml: string | Uint8Array): SecurityServerError {
  let fault: Element | undefined
  try {
    const envelope = parseXml(faultXml, { maxBytes: 1024 * 1024, maxDepth: 16 }).documentElement
    if (envelope === null || envelope.localName !== 'Envelope' || envelope.namespaceURI !== SOAP_ENV_NS) throw clientError('invalid_soap', 'Not a SOAP envelope')
    // PR-MESS §2.5 / SOAP 1.1 §4.4: Envelope/Body/Fault with unqualified faultcode and faultstring.
    fault = optionalChild(requiredChild(envelope, SOAP_ENV_NS, 'Body'), SOAP_ENV_NS, 'Fault')
  } catch (error) {
    return new SecurityServerError('invalid_soap', 'Provider answered with malformed fault XML', { cause: error })
  }
  if (fault === undefined) return new SecurityServerError('invalid_soap', 'Provider answered text/xml without a SOAP fault')
  const codeElement = optionalChild(fault, null, 'faultcode')
  const stringElement = optionalChild(fault, null, 'faultstring')
  const code = (codeElement === undefined ? '' : textOf(codeElement).trim()).slice(0, 200) || 'server.serverproxy.internal_error'
  const message = (stringElement === undefined ? '' : textOf(stringElement)).slice(0, 2000) || 'Provider returned a fault'
  const parts = code.split('.')
  const leaf = parts.pop() as string
  return new SecurityServerError(isErrorCode(leaf) ? leaf : 'service_failed', message, { prefixes: parts })
}

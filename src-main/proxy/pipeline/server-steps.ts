import { describeIdentifier, serviceProvider, type ClientId } from '@shared/domain/identifiers'
import { decideAccess } from '../../access-control'
import { clientError, SecurityServerError } from '../../platform'
import { DEFAULT_SOAP_LIMITS, readSoap, SoapFaultError, type Soap } from '../../soap'
import type { GlobalConfView, ServerConfView } from '../proxy-deps'
import { parseRestHeaderPart, type RestRequestPart } from '../rest/rest-header-part'
import { lastHeader, XROAD_HEADERS } from '../rest/rest-headers'
import { parseRestRequest, type RestRequest } from '../rest/rest-request'
import type { TransportMessage } from '../transport/transport-message'

/**
 * The provider-side steps of xroad-protocols.md §4.3 (`ServerRestMessageProcessor`), each small and pure
 * over its inputs so the pipeline reads as their list.
 */
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

/**
 * A provider's SOAP fault (a plain `text/xml` answer, or the last part of a response) as an error that keeps the
 * fault's own code, string, actor and detail (X-Road's `SoapFault.toCodedException`; PR-MESS §2.5); anything else
 * there is `invalid_soap`.
 */
export function faultToError(faultXml: Uint8Array): SecurityServerError {
  let soap: Soap
  try {
    soap = readSoap(faultXml, 'text/xml', { ...DEFAULT_SOAP_LIMITS, maxBytes: MAX_FAULT_BYTES })
  } catch (error) {
    // X-Road reads the answer as a SOAP message: its own refusal (missing_body, invalid_soap…) is the failure.
    // Not the caller's fault here but the provider's: no longer a client fault.
    const coded = error instanceof SecurityServerError ? error : undefined
    return new SecurityServerError(coded?.code ?? 'invalid_soap', coded?.message ?? 'Provider answered with malformed fault XML', { cause: error })
  }
  if (soap.kind !== 'fault') return new SecurityServerError('invalid_message', 'Provider answered text/xml with a SOAP message instead of a multipart response')
  return new SoapFaultError({ ...soap, faultCode: soap.faultCode.trim().slice(0, 200), faultString: soap.faultString.slice(0, 2000) })
}

const MAX_FAULT_BYTES = 1024 * 1024

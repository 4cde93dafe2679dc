import { describeIdentifier, type ClientId, type ServiceId } from '@shared/domain/identifiers'
import { providerOf } from '../identifier-text'
import { decideAccess } from '../../access-control'
import { clientError, SecurityServerError, toSecurityServerError } from '../../platform'
import { DEFAULT_SOAP_LIMITS, readSoap, SoapFaultError, type Soap } from '../../soap'
import type { GlobalConfView, MessagePart, MessageSignature, MessageSigner, ServerConfView } from '../proxy-deps'
import { parseRestHeaderPart, type RestRequestPart } from '../rest/rest-header-part'
import { lastHeader, XROAD_HEADERS } from '../rest/rest-headers'
import { parseRestRequest, type RestRequest } from '../rest/rest-request'
import type { TransportMessage } from '../transport/transport-message'

/**
 * The provider-side steps of xroad-protocols.md §4.3 in X-Road's order (`ServerProxyHandler`, then
 * `ServerRestMessageProcessor` / `ServerMessageProcessor`), each small and pure over its inputs so the pipelines read
 * as their list:
 *  1. before reading: POST, global configuration valid, `x-proxy-version` against the configured minimum;
 *  2. while reading (`ProxyMessageDecoder.parse`; a failure is `service_failed.*`): the transport message, and as its
 *     message part arrives the provider registered here (`unknown_member`), its signing context, the consumer's TLS
 *     certificate (`ssl_authentication_failed`);
 *  3. the message complete: `missing_rest`/`missing_soap`, `missing_signature`;
 *  4. access: `unknown_service` → `service_type` → `access_denied` → `service_disabled`;
 *  5. the signature (`signature_verification.*`), the request logged;
 *  6. from here the provider has begun answering: a failure (`service_missing_url`, `network_error`, `io_error`, the
 *     service's fault, signing or logging the response) is a fault inside the response multipart
 *     (`ProxyMessageEncoder.fault`), see `FaultAfterAnswerBegan`.
 */

/** The value of a missing or blank `x-proxy-version` (X-Road's `ClientProxyVersionVerifier.UNKNOWN_VERSION`). */
export const UNKNOWN_PROXY_VERSION = 'unknown'

/**
 * X-Road's `ClientProxyVersionVerifier.check`: a missing or blank `x-proxy-version` reads as `unknown`; it is checked
 * only when a minimum is configured (`proxy.server-min-supported-client-version`, unset by default), and then must
 * be a version at least that minimum (`client_proxy_version_not_supported`). X-Road's semver parser fails on
 * `unknown` with an internal error; a version that does not parse is refused with the same code as an old one here.
 */
export function checkProxyVersion(value: string | undefined, minimum: string | undefined): string {
  const version = value === undefined || value.trim() === '' ? UNKNOWN_PROXY_VERSION : value.trim()
  if (minimum === undefined || minimum.trim() === '') return version
  const min = parseVersion(minimum)
  const have = parseVersion(version)
  if (min === undefined) return version
  if (have === undefined || compareVersions(have, min) < 0) {
    throw clientError('client_proxy_version_not_supported', `The minimum supported version for client security server is: ${minimum.trim()} `)
  }
  return version
}

function parseVersion(text: string): number[] | undefined {
  const match = /^(\d+)\.(\d+)\.(\d+)/.exec(text.trim())
  return match === null ? undefined : match.slice(1, 4).map(Number)
}

function compareVersions(a: number[], b: number[]): number {
  for (let i = 0; i < 3; i++) {
    const d = (a[i] as number) - (b[i] as number)
    if (d !== 0) return d
  }
  return 0
}

/**
 * Step 2 (`ProxyMessageDecoder.parse` wrapped in `withPrefix(X_SERVICE_FAILED_X)`): whatever fails while the
 * message is read, the checks made as its message part arrives included, is `service_failed.*` — except the limits of
 * the transfer itself (size, time, the memory budget, the message log's body limit), which are not faults in the message.
 */
export async function whileReading<T>(step: () => T | Promise<T>): Promise<T> {
  try {
    return await step()
  } catch (error) {
    throw readingFailure(error)
  }
}

/** What `whileReading` makes of a failure (for a pipeline that catches it itself, without a closure per message). */
export function readingFailure(error: unknown): SecurityServerError {
  const coded = toSecurityServerError(error)
  return TRANSFER_LIMITS.has(coded.code) ? coded : coded.withPrefix('service_failed')
}

const TRANSFER_LIMITS = new Set(['body_too_large', 'timeout', 'server_busy', 'logging_failed'])

/**
 * `verifyClientStatus`: the service's provider must be a client of this security server in state REGISTERED
 * (`unknown_member`, "Client '…' not found").
 */
export function checkProviderRegistered(provider: ClientId, serverConf: ServerConfView): void {
  if (!serverConf.isRegisteredClient(provider)) throw clientError('unknown_member', `Client '${describeIdentifier(provider)}' not found`)
}

/**
 * `signingCtxProvider.createSigningCtx(member)`: the member must have a signing key this server can sign with
 * (`KeyConf.getSigningInfo`: `cannot_create_signature`).
 */
export async function checkSigningContext(member: ClientId, signer: MessageSigner): Promise<void> {
  if (signer.checkSigningContext === undefined) return
  try {
    await signer.checkSigningContext(member)
  } catch (error) {
    throw signingInfoFailure(member, error)
  }
}

/**
 * Signs a message after `checkSigningContext`. A signing context that became unusable in between (its OCSP response
 * went stale while the body was read) is the same `cannot_create_signature`; a failed token signature comes from the
 * batch signer already as `cannot_create_signature.<code>`.
 */
export async function signMessage(member: ClientId, parts: MessagePart[], signer: MessageSigner): Promise<MessageSignature> {
  try {
    return await signer.sign(member, parts)
  } catch (error) {
    if (toSecurityServerError(error).code === 'cannot_sign') throw signingInfoFailure(member, error)
    throw error
  }
}

function signingInfoFailure(member: ClientId, error: unknown): SecurityServerError {
  const coded = toSecurityServerError(error)
  return new SecurityServerError('cannot_create_signature', `Failed to get signing info for member '${describeIdentifier(member)}': ${coded.message}`, { cause: error })
}

/** Step 5 (`Verifier.verify`): every failure of the signature check is `signature_verification.*`. */
export async function verifyRequestSignature(verify: () => Promise<void>): Promise<void> {
  try {
    await verify()
  } catch (error) {
    throw signatureFailure(error)
  }
}

/** What `verifyRequestSignature` makes of a failure (for a pipeline that catches it itself). */
export function signatureFailure(error: unknown): SecurityServerError {
  return toSecurityServerError(error).withPrefix('signature_verification')
}

/**
 * Step 6: a failure once the provider has begun answering (X-Road's processors create the response encoder just
 * before the service is called — REST — or once its answer has arrived — SOAP — and then send
 * `ProxyMessageEncoder.fault`: a multipart whose last part is the `text/xml` fault). `headers` are the response headers
 * set with the encoder (`x-original-content-type` for SOAP).
 */
export class FaultAfterAnswerBegan extends Error {
  constructor(readonly error: unknown, readonly headers: Array<[string, string]> = []) {
    super(toSecurityServerError(error).message)
    this.name = 'FaultAfterAnswerBegan'
  }
}

/** Runs `step`; a failure in it becomes a fault inside the response multipart. */
export async function answering<T>(step: () => T | Promise<T>, headers: () => Array<[string, string]> = () => []): Promise<T> {
  try {
    return await step()
  } catch (error) {
    throw error instanceof FaultAfterAnswerBegan ? error : new FaultAfterAnswerBegan(error, headers())
  }
}

/** What `answering` makes of a failure without response headers (for a pipeline that catches it itself). */
export function answerFailure(error: unknown): FaultAfterAnswerBegan {
  return error instanceof FaultAfterAnswerBegan ? error : new FaultAfterAnswerBegan(error)
}

/** The service's address (`service_missing_url` when it has none; `DefaultRestServiceHandlerImpl.startHandling`). */
export function serviceAddress(service: { url: string } | undefined, id: ServiceId): string {
  if (service === undefined || service.url.trim() === '') throw new SecurityServerError('service_missing_url', `Service address not specified for '${describeIdentifier(id)}'`)
  return service.url
}

/** The REST request inside a transport message, with the ids the consumer assigned. */
export function readRestRequest(message: TransportMessage<unknown>, instance: string): { part: RestRequestPart; request: RestRequest } {
  if (message.message.type !== 'rest') throw clientError('missing_rest', 'Message does not contain a REST request part')
  return readRestRequestPart(message.message.bytes, instance)
}

/** The REST request a header part carries (`readRestRequest` without the transport message around it). */
export function readRestRequestPart(headerPart: Uint8Array, instance: string): { part: RestRequestPart; request: RestRequest } {
  const part = parseRestHeaderPart(headerPart)
  if (part.kind !== 'request') throw clientError('invalid_message', 'Expected a REST request part')
  const requestId = lastHeader(part.headers, XROAD_HEADERS.requestId)
  const messageId = lastHeader(part.headers, XROAD_HEADERS.id)
  if (requestId === undefined || messageId === undefined) throw clientError('missing_header', 'REST request part lacks x-road-request-id or x-road-id')
  const request = parseRestRequest({ method: part.method, url: part.pathAndQuery, headers: part.headers }, instance, () => requestId)
  // The consumer's ids and the header part's headers as they came, set on the fresh request (no copy of it spread out).
  request.requestId = requestId
  request.messageId = messageId
  request.headers = part.headers
  return { part, request }
}

/** Step 4, access over server configuration (§4.3: `unknown_service`, `service_type`, `access_denied`, `service_disabled`). */
export function checkAccess(request: RestRequest, serverConf: ServerConfView, globalConf: GlobalConfView): void {
  const provider = providerOf(request.serviceId)
  const rights = serverConf.accessRightsFor(request.serviceId)
  // ServerRestMessageProcessor.verifyAccess: a known service from a WSDL is `service_type`, after `unknown_service`.
  if (rights !== undefined && serverConf.service(request.serviceId)?.type === 'WSDL') {
    throw clientError('service_type', 'Service is a SOAP service and cannot be called using REST interface')
  }
  const decision = decideAccess(
    { client: request.clientId, service: request.serviceId, method: request.method, path: request.servicePath },
    rights,
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

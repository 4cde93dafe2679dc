import type { ClientId, ServiceId } from '@shared/domain/identifiers'
import { idPath } from '../identifier-text'
import { SecurityServerError } from '../../platform'
import { computeRequestHash, requestHashEquals } from './request-hash'
import type { RestResponsePart } from './rest-header-part'
import { FILTERED_HEADERS, XROAD_HEADERS, type HeaderList } from './rest-headers'

/**
 * The provider's response header part and the consumer's consistency check (xroad-protocols.md §2.2, §2.4;
 * `RestResponse` ctor, `ClientRestMessageProcessor.checkConsistency`).
 */
export interface ResponseContext {
  messageId: string
  clientId: ClientId
  serviceId: ServiceId
  requestId: string
  requestHash: string
}

/**
 * The service's headers minus filtered ones and the X-Road ones the provider sets, then the provider's in X-Road's
 * fixed order (`RestResponse` ctor: a service's own `x-road-service` is kept, before the provider's).
 */
export function providerResponseHeaders(serviceHeaders: HeaderList, context: ResponseContext): HeaderList {
  // One pass over the service's headers, each name lower-cased once (issue 15 §5).
  const headers: HeaderList = []
  for (const header of serviceHeaders) {
    const lower = header[0].toLowerCase()
    if (!PROVIDER_SET.has(lower) && !FILTERED_HEADERS.has(lower)) headers.push(header)
  }
  headers.push(
    [XROAD_HEADERS.id, context.messageId],
    [XROAD_HEADERS.client, idPath(context.clientId)],
    [XROAD_HEADERS.service, idPath(context.serviceId)],
    [XROAD_HEADERS.requestId, context.requestId],
    [XROAD_HEADERS.requestHash, context.requestHash],
  )
  return headers
}

/** The X-Road headers of a service's response the provider replaces with its own. */
const PROVIDER_SET: ReadonlySet<string> = new Set([XROAD_HEADERS.id, XROAD_HEADERS.requestHash, XROAD_HEADERS.client, XROAD_HEADERS.requestId])

/**
 * The consumer's check that the provider answered this request: `x-road-client`, `x-road-id`,
 * `x-road-service`, `x-road-request-id` equal and the request hash over what we sent (`inconsistent_response`).
 */
export function checkResponseConsistency(
  response: RestResponsePart,
  request: Omit<ResponseContext, 'requestHash'> & { headerPart: Uint8Array; body?: Uint8Array | { size: number; sha512: Uint8Array } },
): void {
  // One pass picks out the five headers (the last of each counts, names compared case-insensitively as `lastHeader`),
  // then they are compared in X-Road's order (issue 15 §5: no scan of the headers per name, no list of expected pairs).
  let client: string | undefined
  let id: string | undefined
  let service: string | undefined
  let requestId: string | undefined
  let hash: string | undefined
  for (const [name, value] of response.headers) {
    if (name.length < XROAD_HEADERS.id.length || name.length > XROAD_HEADERS.requestHash.length) continue
    switch (name.toLowerCase()) {
      case XROAD_HEADERS.client: client = value; break
      case XROAD_HEADERS.id: id = value; break
      case XROAD_HEADERS.service: service = value; break
      case XROAD_HEADERS.requestId: requestId = value; break
      case XROAD_HEADERS.requestHash: hash = value; break
    }
  }
  if (client !== idPath(request.clientId)) throw inconsistentHeader(XROAD_HEADERS.client)
  if (id !== request.messageId) throw inconsistentHeader(XROAD_HEADERS.id)
  if (service !== idPath(request.serviceId)) throw inconsistentHeader(XROAD_HEADERS.service)
  if (requestId !== request.requestId) throw inconsistentHeader(XROAD_HEADERS.requestId)
  if (hash === undefined || !requestHashEquals(hash, computeRequestHash(request.headerPart, request.body))) {
    throw new SecurityServerError('inconsistent_response', 'Response request hash does not match the request')
  }
}

function inconsistentHeader(name: string): SecurityServerError {
  return new SecurityServerError('inconsistent_response', `Response header ${name} does not match the request`)
}

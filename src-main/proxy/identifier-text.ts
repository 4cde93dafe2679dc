import { encodeIdentifier, formatIdPath, serviceProvider, type ClientId, type ServiceId, type XRoadId } from '@shared/domain/identifiers'

/**
 * Issue 15 §5 "identifiers encoded once": an exchange's identifiers are parsed once into objects (readonly by type)
 * and then named many times — as cache keys of the configuration lookups, in the response's `X-Road-Client` and
 * `X-Road-Service` headers, in the consistency check, in the operational record. Each text form (and a service's
 * provider) is computed once per identifier object and remembered with it; a new object is computed again.
 */
const encoded = new WeakMap<XRoadId, string>()
const paths = new WeakMap<XRoadId, string>()
const providers = new WeakMap<ServiceId, ClientId>()

/** `encodeIdentifier(id)`, once per object. */
export function encodedId(id: XRoadId): string {
  let text = encoded.get(id)
  if (text === undefined) encoded.set(id, (text = encodeIdentifier(id)))
  return text
}

/** `formatIdPath(id)` (the REST path and header form), once per object. */
export function idPath(id: XRoadId): string {
  let text = paths.get(id)
  if (text === undefined) paths.set(id, (text = formatIdPath(id)))
  return text
}

/** `serviceProvider(service)`, the same object each time for one service object (so its encodings are reused too). */
export function providerOf(service: ServiceId): ClientId {
  let provider = providers.get(service)
  if (provider === undefined) providers.set(service, (provider = serviceProvider(service)))
  return provider
}

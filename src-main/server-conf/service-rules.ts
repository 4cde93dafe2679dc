import { decodeIdentifier, serviceId as makeServiceId, type ClientId } from '@shared/domain/identifiers'
import { REST_METHODS, type EndpointMethod } from '../access-control'
import { clientError } from '../platform'
import type { ServiceRow } from './service-repository'
import type { ConfiguredService } from './server-conf'
import type { ServiceDescriptionType } from './service-descriptions'

/** What every service use case shares: the base endpoint, defaults, the row-to-model mapping and the checks of URLs and endpoints. */

/** X-Road's base endpoint: a right on it is a right on the whole service. */
export const BASE_ENDPOINT = { method: '*', path: '**' } as const
/** X-Road ServiceDescriptionService.DEFAULT_SERVICE_TIMEOUT. */
export const DEFAULT_SERVICE_TIMEOUT_SECONDS = 60
export const MAX_URL_LENGTH = 2048

export function toService(row: ServiceRow): ConfiguredService {
  const provider = decodeIdentifier(row.client_identifier) as ClientId
  return {
    serviceId: makeServiceId(provider, row.service_code, row.service_version === '' ? undefined : row.service_version),
    descriptionId: row.description_id,
    descriptionType: row.description_type as ServiceDescriptionType,
    ...(row.title === null ? {} : { title: row.title }),
    url: row.url,
    timeoutSeconds: row.timeout_seconds,
    sslVerify: row.ssl_verify === 1,
    disabled: row.disabled === 1,
    ...(row.disabled_notice === null ? {} : { disabledNotice: row.disabled_notice }),
  }
}

/** A REST service URL is absolute http(s) with a host and no credentials or fragment (`service_malformed_url`). */
export function validateServiceUrl(url: string): string {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw clientError('service_malformed_url', `Malformed service URL: ${url}`, { detail: 'url' })
  }
  if (url.length > MAX_URL_LENGTH || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || parsed.hostname === '') {
    throw clientError('service_malformed_url', `Service URL must be an absolute http or https URL: ${url}`, { detail: 'url' })
  }
  if (parsed.username !== '' || parsed.password !== '' || parsed.hash !== '') {
    throw clientError('service_malformed_url', 'Service URL must not carry credentials or a fragment', { detail: 'url' })
  }
  return url
}

export function validateTimeout(seconds: number): number {
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > 3600) {
    throw clientError('validation_failed', `Service timeout must be an integer number of seconds in 1..3600, got ${seconds}`, { detail: 'timeoutSeconds' })
  }
  return seconds
}

export function validateMethod(method: string): EndpointMethod {
  const upper = method.toUpperCase()
  if (upper !== '*' && !(REST_METHODS as readonly string[]).includes(upper)) {
    throw clientError('validation_failed', `Endpoint method must be * or one of ${REST_METHODS.join(', ')}`, { detail: 'method' })
  }
  return upper as EndpointMethod
}

/** Endpoint paths are decoded patterns starting with `/` (or the base `**`), without query or dot segments. */
export function validateEndpointPath(path: string): string {
  if (path === BASE_ENDPOINT.path) return path
  if (!path.startsWith('/') || path.length > MAX_URL_LENGTH || /[?#\\;]/.test(path) || /(^|\/)\.\.?(\/|$)/.test(path)) {
    throw clientError('validation_failed', `Endpoint path must start with / and contain no query, ';', '\\' or dot segments: ${path}`, { detail: 'path' })
  }
  return path
}


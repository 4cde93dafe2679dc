import { describeIdentifier, serviceId, serviceProvider, type ClientId, type ServiceId } from '@shared/domain/identifiers'
import { SecurityServerError } from '../../platform'
import { anonymiseOpenApi, type OpenApiFormat } from '../../server-conf'
import type { HeaderList } from '../rest/rest-headers'
import type { RestRequest } from '../rest/rest-request'
import { aclEndpoints, endpointCovers, isBaseEndpoint, type MetaserviceConfView } from './metaservice-conf'
import { ALLOWED_METHODS, GET_OPENAPI, LIST_METHODS } from './soap-metaservices'

/**
 * The REST metaservices a provider's security server answers itself (PR-MREST §4–5; X-Road's
 * `RestMetadataServiceHandlerImpl`): a GET whose service code is `listMethods`, `allowedMethods` or `getOpenAPI`,
 * whoever the provider in the path is (another method goes to the service of that code, which cannot exist: those
 * codes are reserved).
 *
 * - `listMethods`: the provider's REST and OpenAPI services (`service_type` REST / OPENAPI) with their endpoints
 *   (the generated `* **` endpoint of a whole service left out);
 * - `allowedMethods`: the services on which the caller has an access right, each with the endpoints those rights
 *   cover;
 * - `getOpenAPI?serviceCode=…`: the OpenAPI description of that service, its `servers` urls reduced to their paths.
 *
 * Both lists are JSON `{"service":[…]}` (`RestServiceDetailsListType` through Jackson with snake_case names, nulls
 * left out) as `application/json`, whatever the `Accept` header: X-Road 7.8 has no XML form of them (its
 * service-metainfo.xsd declares no element for `RestServiceDetailsListType`). No access right is needed; the request's
 * signature is verified and the exchange signed and logged like any other. The answer carries the request's own
 * headers (X-Road builds the `RestResponse` from them) beside its Content-Type.
 */
export interface LocalRestAnswer {
  status: number
  reason: string
  headers: HeaderList
  body: Buffer
}

export interface LocalRestServiceHandler {
  respond(): Promise<LocalRestAnswer>
}

const JSON_CONTENT_TYPE = 'application/json'
/** `RestMetadataServiceHandlerImpl.DEFAULT_GETOPENAPI_CONTENT_TYPE`: the origin named none. */
const DEFAULT_OPENAPI_CONTENT_TYPE = 'text/plain'
const OPENAPI_MAX_BYTES = 10 * 1024 * 1024

export function restMetaserviceHandler(request: Pick<RestRequest, 'method' | 'serviceId' | 'clientId' | 'rawQuery' | 'headers'>, conf: MetaserviceConfView): LocalRestServiceHandler | undefined {
  if (request.method !== 'GET') return undefined
  const code = request.serviceId.serviceCode
  if (code !== LIST_METHODS && code !== ALLOWED_METHODS && code !== GET_OPENAPI) return undefined
  const provider = serviceProvider(request.serviceId)
  const answer = (contentType: string, body: Buffer): LocalRestAnswer => ({
    status: 200, reason: 'OK', headers: [...request.headers.filter(([name]) => name.toLowerCase() !== 'content-type'), ['Content-Type', contentType]], body,
  })
  return {
    async respond() {
      if (code === LIST_METHODS) return answer(JSON_CONTENT_TYPE, Buffer.from(JSON.stringify({ service: restServices(conf, provider) }), 'utf8'))
      if (code === ALLOWED_METHODS) return answer(JSON_CONTENT_TYPE, Buffer.from(JSON.stringify({ service: allowedRestServices(conf, provider, request.clientId) }), 'utf8'))
      const description = await openApiDescription(conf, provider, request.rawQuery)
      return answer(description.contentType, description.body)
    },
  }
}

/** One entry of `RestServiceDetailsListType.service`, in the order Jackson writes X-Road's `XRoadRestServiceDetailsType`. */
export interface RestServiceDetails {
  member_class: string
  member_code: string
  object_type: 'SERVICE'
  service_code: string
  service_type: 'REST' | 'OPENAPI'
  subsystem_code?: string
  xroad_instance: string
  endpoint_list: Array<{ method: string; path: string }>
}

/** `ServerConfImpl.getRestServices`: REST and OpenAPI services with their endpoints but the base one. */
export function restServices(conf: MetaserviceConfView, provider: ClientId): RestServiceDetails[] {
  return conf.servicesOf(provider).flatMap((service) => {
    if (service.type === 'WSDL') return []
    const endpoints = (conf.accessRightsFor(service.serviceId)?.endpoints ?? []).filter((e) => !isBaseEndpoint(e))
    return [details(service.serviceId, service.type, endpoints)]
  })
}

/**
 * `ServerConfImpl.getAllowedRestServices`: a service is listed when the caller has a right on any of its endpoints,
 * with the (non-base) endpoints one of those rights covers — so a right on the whole service lists every endpoint.
 */
export function allowedRestServices(conf: MetaserviceConfView, provider: ClientId, client: ClientId): RestServiceDetails[] {
  return conf.servicesOf(provider).flatMap((service) => {
    if (service.type === 'WSDL') return []
    const rights = conf.accessRightsFor(service.serviceId)
    if (rights === undefined) return []
    const acl = aclEndpoints(conf, client, rights)
    if (acl.length === 0) return []
    const endpoints = rights.endpoints.filter((e) => !isBaseEndpoint(e) && acl.some((a) => endpointCovers(a, e)))
    return [details(service.serviceId, service.type, endpoints)]
  })
}

function details(id: ServiceId, type: 'REST' | 'OPENAPI3', endpoints: ReadonlyArray<{ method: string; path: string }>): RestServiceDetails {
  return {
    member_class: id.memberClass,
    member_code: id.memberCode,
    object_type: 'SERVICE',
    service_code: id.serviceCode,
    service_type: type === 'OPENAPI3' ? 'OPENAPI' : 'REST',
    ...(id.subsystemCode === undefined ? {} : { subsystem_code: id.subsystemCode }),
    xroad_instance: id.xRoadInstance,
    endpoint_list: endpoints.map((e) => ({ method: e.method, path: e.path })),
  }
}

/**
 * `handleGetOpenApi`: the `serviceCode` query parameter (name in any case; the last one counts) names a service of
 * the provider, without version. X-Road's errors: none given ⇒ `invalid_request`; no such service or not an OpenAPI
 * one ⇒ `internal_error`. The description is read from its URL as X-Road does (the service's "Verify TLS
 * certificate" applies; a status other than 200 ⇒ `internal_error`), or — for an uploaded file, which X-Road does not
 * have — served from the copy server configuration keeps. JSON or YAML is told by the origin's Content-Type, then by
 * the URL's `.json` ending (an uploaded file: by its first character); the answer has the origin's Content-Type, else
 * `text/plain` (a JSON file uploaded here: `application/json`).
 */
async function openApiDescription(conf: MetaserviceConfView, provider: ClientId, rawQuery: string | undefined): Promise<{ contentType: string; body: Buffer }> {
  let code: string | undefined
  for (const [name, value] of new URLSearchParams(rawQuery ?? '')) if (name.toLowerCase() === 'servicecode') code = value
  if (code === undefined || code === '') throw new SecurityServerError('invalid_request', 'Missing serviceCode in message body')
  const target = serviceId(provider, code)
  const description = conf.descriptionOf(target)
  if (description === undefined) throw new SecurityServerError('internal_error', `Service not found: ${describeIdentifier(target)}`)
  if (description.type !== 'OPENAPI3') throw new SecurityServerError('internal_error', `Invalid service type: ${description.type}`)
  let text: string
  let format: OpenApiFormat
  let contentType: string
  if (description.document !== undefined) {
    text = Buffer.from(description.document).toString('utf8')
    format = text.replace(/^\uFEFF/, '').trimStart().startsWith('{') ? 'json' : 'yaml'
    contentType = format === 'json' ? JSON_CONTENT_TYPE : DEFAULT_OPENAPI_CONTENT_TYPE
  } else {
    const downloaded = await conf.download(description.url, {
      verifyTls: description.sslVerify, maxBytes: OPENAPI_MAX_BYTES, failureCode: 'internal_error', what: `Failed reading service description from ${description.url}`,
    })
    text = downloaded.body.toString('utf8')
    format = formatOf(downloaded.contentType, description.url)
    contentType = downloaded.contentType ?? DEFAULT_OPENAPI_CONTENT_TYPE
  }
  return { contentType, body: Buffer.from(anonymiseOpenApi(text, format), 'utf8') }
}

/** `RestMetadataServiceHandlerImpl.getFileType`. */
function formatOf(contentType: string | undefined, url: string): OpenApiFormat {
  if (contentType !== undefined) {
    if (contentType.includes('application/json')) return 'json'
    if (contentType === 'application/x-yaml') return 'yaml'
  }
  let path = url
  try {
    path = new URL(url).pathname
  } catch {
    // A stored URL is absolute; should it not parse, its text decides.
  }
  return path.endsWith('.json') ? 'json' : 'yaml'
}

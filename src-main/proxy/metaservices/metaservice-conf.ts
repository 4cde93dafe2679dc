import { serviceProvider, type ClientId, type GlobalGroupId, type ServiceId } from '@shared/domain/identifiers'
import { endpointPathMatches, subjectIncludes, type EndpointRule, type ServiceAccessRights } from '../../access-control'

/**
 * What the metaservices read from server configuration (PR-META §3–4, PR-MREST §4–5), as X-Road's `ServerConfImpl`
 * answers `getServicesByDescriptionType`, `getAllowedServicesByDescriptionType`, `getRestServices`,
 * `getAllowedRestServices`, `getServiceDescriptionURL`: read at each request from the configuration of that moment
 * (nothing is cached on the message path).
 */
export type DescriptionKind = 'WSDL' | 'REST' | 'OPENAPI3'

export interface MetaserviceService {
  /** With its version when it has one (a WSDL operation's `xrd:version`). */
  serviceId: ServiceId
  type: DescriptionKind
}

/** Where a service's description is read from. */
export interface DescriptionSource {
  type: DescriptionKind
  url: string
  /** An uploaded OpenAPI file (Gatehouse keeps it; X-Road only reads descriptions from URLs). */
  document?: Uint8Array
  /** The service's "Verify TLS certificate": also applies to reading its description (PR-META §4, PR-MREST §5). */
  sslVerify: boolean
}

export interface DownloadedDocument {
  body: Buffer
  contentType?: string
}

export interface MetaserviceConfView {
  /** Every service the provider (a member or subsystem of this server) offers, in configuration order. */
  servicesOf(provider: ClientId): MetaserviceService[]
  /** The service's endpoints with the subjects allowed on each; undefined when there is no such service. */
  accessRightsFor(id: ServiceId): ServiceAccessRights | undefined
  localGroupMembers(owner: ClientId, groupCode: string): ClientId[]
  isGlobalGroupMember(client: ClientId, group: GlobalGroupId): boolean
  /** The description of exactly this service (code and version); undefined when there is no such service. */
  descriptionOf(id: ServiceId): DescriptionSource | undefined
  /**
   * Reads a description from its URL (http/https only, bounded size and time). Fails with `failureCode` and a message
   * naming the URL when the answer is not HTTP 200 or cannot be read.
   */
  download(url: string, options: { verifyTls: boolean; maxBytes: number; failureCode: 'internal_error'; what: string }): Promise<DownloadedDocument>
}

/** X-Road `EndpointType.isBaseEndpoint`: the generated `* **` endpoint of a whole service. */
export function isBaseEndpoint(endpoint: { method: string; path: string }): boolean {
  return endpoint.method === '*' && endpoint.path === '**'
}

/**
 * X-Road `ServerConfImpl.getAclEndpoints`: the endpoints of a service on which `client` has an access right of its
 * own, through a local group of the provider or through a global group (no implicit rights).
 */
export function aclEndpoints(conf: MetaserviceConfView, client: ClientId, rights: ServiceAccessRights): EndpointRule[] {
  const provider = serviceProvider(rights.serviceId)
  const groups = {
    localGroupMembers: (code: string) => conf.localGroupMembers(provider, code),
    isGlobalGroupMember: (member: ClientId, group: GlobalGroupId) => conf.isGlobalGroupMember(member, group),
  }
  return rights.endpoints.filter((endpoint) => endpoint.subjects.some((subject) => subjectIncludes(subject, client, groups)))
}

/**
 * X-Road `Endpoint.matches(method, path)` of an access right's endpoint against a listed endpoint, whose path is a
 * pattern itself (`/pets/*` is matched by `/pets/*` and `/**` as a literal path would be).
 */
export function endpointCovers(acl: { method: string; path: string }, endpoint: { method: string; path: string }): boolean {
  return (acl.method === '*' || acl.method.toUpperCase() === endpoint.method.toUpperCase()) && endpointPathMatches(acl.path, endpoint.path)
}

import type { ClientId, GlobalGroupId, LocalGroupId, ServiceId } from '@shared/domain/identifiers'

/**
 * The data an access decision is made over: one service's endpoints with the subjects allowed on each
 * (X-Road's `AccessRightType` on `EndpointType`; a right on the whole service is a right on its base endpoint
 * `* /**`), and how group memberships are looked up.
 */
export type AccessSubject = ClientId | LocalGroupId | GlobalGroupId

/** REST methods of PR-REST §4.1 (`RestRequest.Verb`), and `*` for any. */
export const REST_METHODS = ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT', 'TRACE'] as const
export type RestMethod = (typeof REST_METHODS)[number]
export type EndpointMethod = RestMethod | '*'

export interface EndpointRule {
  method: EndpointMethod
  /** Decoded path pattern: `*` matches within one segment, `**` across segments (X-Road `EndpointType`). */
  path: string
  subjects: readonly AccessSubject[]
}

export interface ServiceAccessRights {
  serviceId: ServiceId
  /** Set when the service is disabled: the notice X-Road returns with `service_disabled`. */
  disabledNotice?: string
  disabled: boolean
  endpoints: readonly EndpointRule[]
}

export interface GroupMembership {
  /** Members of the provider's local groups, by group code. */
  localGroupMembers(groupCode: string): readonly ClientId[]
  /** Global-group membership, answered from global configuration. */
  isGlobalGroupMember(client: ClientId, group: GlobalGroupId): boolean
}

export interface AccessRequest {
  client: ClientId
  service: ServiceId
  method: string
  /** The service path as received, still percent-encoded (what follows the 5th identifier segment). */
  path: string
}

export type AccessDenialCode = 'access_denied' | 'unknown_service' | 'service_disabled' | 'invalid_request'

export type AccessDecision =
  | { allowed: true; normalizedPath: string }
  | { allowed: false; code: AccessDenialCode; message: string }

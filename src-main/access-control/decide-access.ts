import { describeIdentifier, identifierEquals, type ClientId } from '@shared/domain/identifiers'
import type { AccessDecision, AccessRequest, AccessSubject, EndpointRule, GroupMembership, ServiceAccessRights } from './access-rules'
import { endpointPathMatches, hasTraversal, normalizeServicePath } from './rest-path'

/**
 * May `client` call `method path` of `service`? A pure decision in X-Road's order (xroad-protocols.md §4.3,
 * `ServerRestMessageProcessor.verifyAccess`): unknown service → ambiguous path → path traversal → access rights →
 * disabled.
 * `rights` is undefined when this server has no such service.
 */
export function decideAccess(
  request: AccessRequest,
  rights: ServiceAccessRights | undefined,
  groups: GroupMembership,
): AccessDecision {
  if (rights === undefined || !identifierEquals(rights.serviceId, request.service)) {
    return { allowed: false, code: 'unknown_service', message: `Unknown service: ${describeIdentifier(request.service)}` }
  }
  const normalized = normalizeServicePath(request.path)
  if (!normalized.ok) {
    return { allowed: false, code: 'invalid_request', message: `Invalid service path: ${normalized.reason}` }
  }
  // X-Road `ServerConfImpl.checkAccessRights`: a `..` left after normalising means the query is not allowed.
  if (hasTraversal(normalized.path)) {
    return { allowed: false, code: 'access_denied', message: `Request is not allowed: ${describeIdentifier(request.service)} (path traversal)` }
  }
  const method = request.method.toUpperCase()
  const allowed = rights.endpoints.some(
    (endpoint) => endpointMatches(endpoint, method, normalized.path) && endpoint.subjects.some((s) => subjectIncludes(s, request.client, groups)),
  )
  if (!allowed) {
    return {
      allowed: false,
      code: 'access_denied',
      message: `Request is not allowed: ${describeIdentifier(request.service)}`,
    }
  }
  // PR-REST §4.6; X-Road checks the disabled notice after the access right (ServerRestMessageProcessor).
  if (rights.disabled) {
    return {
      allowed: false,
      code: 'service_disabled',
      message: `Service ${describeIdentifier(request.service)} is disabled${rights.disabledNotice ? `: ${rights.disabledNotice}` : ''}`,
    }
  }
  return { allowed: true, normalizedPath: normalized.path }
}

function endpointMatches(endpoint: EndpointRule, method: string, path: string): boolean {
  return (endpoint.method === '*' || endpoint.method === method) && endpointPathMatches(endpoint.path, path)
}

/** A subject covers the client when it is that exact member/subsystem or a group containing it. */
export function subjectIncludes(subject: AccessSubject, client: ClientId, groups: GroupMembership): boolean {
  switch (subject.objectType) {
    case 'MEMBER':
    case 'SUBSYSTEM':
      return identifierEquals(subject, client)
    case 'LOCALGROUP':
      return groups.localGroupMembers(subject.groupCode).some((member) => identifierEquals(member, client))
    case 'GLOBALGROUP':
      return groups.isGlobalGroupMember(client, subject)
  }
}

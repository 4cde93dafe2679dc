/**
 * Access control: the pure decision whether a service client may call a REST endpoint of a service, over the
 * access rights, endpoints and group memberships handed in. No SQL, no I/O.
 */
export { decideAccess, subjectIncludes } from './decide-access'
export { normalizeServicePath, endpointPathMatches, type PathNormalization } from './rest-path'
export {
  REST_METHODS,
  type AccessSubject, type RestMethod, type EndpointMethod, type EndpointRule, type ServiceAccessRights,
  type GroupMembership, type AccessRequest, type AccessDenialCode, type AccessDecision,
} from './access-rules'

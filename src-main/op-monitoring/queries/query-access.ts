import { describeIdentifier, identifierEquals, type ClientId, type SecurityServerId, type ServiceId } from '@shared/domain/identifiers'
import { SecurityServerError } from '../../platform'

/**
 * Who sees what of the monitoring services. None of them goes through the access rights of server configuration
 * (`OpMonitoringServiceHandlerImpl.shouldVerifyAccess` and `ProxyMonitorServiceHandlerImpl.shouldVerifyAccess`
 * return false); the signature of the request is verified as for any service.
 *
 * - Operational data (`OperationalDataRequestHandler.getClientForFilter`): the owner of the security server the
 *   request's `securityServer` header names, as global configuration knows it, and the central monitoring client
 *   (global configuration's MONITORING part, `GlobalConfExtensions.getMonitoringClient`) get every record; any other
 *   client only the records where it is the client or the service provider, without the internal IP
 *   (`OperationalDataRecordQuery`). Without a `securityServer` header the requester is not taken for the owner.
 * - Health data (`HealthDataRequestHandler`): anyone may ask; no filter by requester.
 * - Metrics (`ProxyMonitorServiceHandlerImpl.verifyAccess`): only this server's owner and the monitoring client;
 *   anyone else is refused with `access_denied`.
 */
export interface MonitoringParties {
  /** The owner global configuration names for a security server, if it knows the server. */
  serverOwner(server: SecurityServerId): ClientId | undefined
  monitoringClient?: ClientId
}

/** The client whose records the requester may see, or undefined for all records. */
export function operationalDataClientFilter(requester: ClientId, targetServer: SecurityServerId | undefined, parties: MonitoringParties): ClientId | undefined {
  if (parties.monitoringClient !== undefined && identifierEquals(requester, parties.monitoringClient)) return undefined
  const owner = targetServer === undefined ? undefined : parties.serverOwner(targetServer)
  if (owner !== undefined && identifierEquals(requester, owner)) return undefined
  return requester
}

/** `verifyAccess` of the metrics service; returns whether the requester is the owner (X-Road's `isOwner`). */
export function checkMetricsAccess(requester: ClientId, owner: ClientId, monitoringClient: ClientId | undefined, service: ServiceId): { owner: boolean } {
  if (identifierEquals(requester, owner)) return { owner: true }
  if (monitoringClient !== undefined && identifierEquals(requester, monitoringClient)) return { owner: false }
  throw new SecurityServerError('access_denied', `Request is not allowed: ${describeIdentifier(service)}`, { clientFault: true })
}

import { identifierEquals, serviceProvider, type ClientId, type ServiceId } from '@shared/domain/identifiers'

/**
 * The monitoring services a security server answers itself instead of forwarding to a service URL: operational data
 * and health data (PR-OPMON §2–3) and environmental metrics (PR-ENVMONMES §2), all offered by the server's owner.
 */
export const OP_MONITORING_NS = 'http://x-road.eu/xsd/op-monitoring.xsd'
export const MONITORING_NS = 'http://x-road.eu/xsd/monitoring'

export const GET_SECURITY_SERVER_OPERATIONAL_DATA = 'getSecurityServerOperationalData'
export const GET_SECURITY_SERVER_HEALTH_DATA = 'getSecurityServerHealthData'
export const GET_SECURITY_SERVER_METRICS = 'getSecurityServerMetrics'

export type MonitoringService = 'operationalData' | 'healthData' | 'metrics'

/**
 * Which monitoring service a request's `service` header names, if any, for a server owned by `owner`:
 * - operational and health data when the service code matches and the service's provider is the owner, whatever
 *   the version (`OpMonitoringServiceHandlerImpl.canHandle`: `requestServiceId.getClientId().equals(owner)`);
 * - metrics only for exactly `owner`'s `getSecurityServerMetrics` without a version
 *   (`ProxyMonitorServiceHandlerImpl.canHandle`: `ServiceId.Conf.create(owner, SERVICE_CODE).equals(requestServiceId)`).
 */
export function monitoringServiceOf(service: ServiceId, owner: ClientId): MonitoringService | undefined {
  const byOwner = identifierEquals(serviceProvider(service), owner)
  if (!byOwner) return undefined
  switch (service.serviceCode) {
    case GET_SECURITY_SERVER_OPERATIONAL_DATA:
      return 'operationalData'
    case GET_SECURITY_SERVER_HEALTH_DATA:
      return 'healthData'
    case GET_SECURITY_SERVER_METRICS:
      return service.serviceVersion === undefined ? 'metrics' : undefined
    default:
      return undefined
  }
}

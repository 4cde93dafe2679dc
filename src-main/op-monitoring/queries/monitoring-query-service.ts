import type { ClientId, SecurityServerId, ServiceId } from '@shared/domain/identifiers'
import { toSecurityServerError } from '../../platform'
import type { OpMonitor } from '../op-monitor'
import type { EnvironmentMonitor, MetricsContext } from './environment-monitor'
import { healthDataResponseXml } from './health-data'
import { metricsResponseXml } from './metrics-response'
import { monitoringResponseMessage, type MonitoringResponseMessage } from './monitoring-response-message'
import { monitoringServiceOf, type MonitoringService } from './monitoring-services'
import { operationalDataResponse, type MonitoringAttachment } from './operational-data-response'
import { checkMetricsAccess, operationalDataClientFilter, type MonitoringParties } from './query-access'
import { parseHealthDataRequest, parseMetricsRequest, parseOperationalDataRequest } from './query-request-parser'

/**
 * Answers a monitoring request the security server serves itself (see `monitoringServiceOf`): reads the body, applies
 * who may see what (`query-access.ts`) and builds the body content of the response, with the attachment the
 * operational data answer carries. The server proxy wraps it into the X-Road response message (the request's header
 * with `requestHash`, signed and logged as any response).
 */
export interface MonitoringQueryHeader {
  client: ClientId
  service: ServiceId
  securityServer?: SecurityServerId
}

export interface MonitoringAnswer {
  /** The element that becomes the response's SOAP body content. */
  bodyXml: string
  /** SwA attachments (operational data: the gzip JSON records). */
  attachments: MonitoringAttachment[]
}

export interface MonitoringQueryDeps {
  opMonitor: OpMonitor
  environment: EnvironmentMonitor
  /** This server and its owner. */
  serverId: SecurityServerId
  owner: ClientId
  /** Owners of servers and the monitoring client, from the current global configuration. */
  parties: MonitoringParties
  /** Reported as `proxyVersion`. */
  proxyVersion: string
  /** What the metrics answer needs besides who asks (certificates, data directory, `env-monitor.limit-remote-data-set`). */
  metricsContext(): Omit<MetricsContext, 'owner'>
}

export async function answerMonitoringQuery(
  service: MonitoringService, header: MonitoringQueryHeader, envelope: string | Uint8Array, deps: MonitoringQueryDeps,
): Promise<MonitoringAnswer> {
  switch (service) {
    case 'operationalData': {
      const request = parseOperationalDataRequest(envelope)
      const filter = operationalDataClientFilter(header.client, header.securityServer, deps.parties)
      const response = operationalDataResponse(deps.opMonitor.operationalData(request, filter))
      return { bodyXml: response.bodyXml, attachments: [response.attachment] }
    }
    case 'healthData': {
      const request = parseHealthDataRequest(envelope)
      return { bodyXml: healthDataResponseXml(deps.opMonitor.healthData(request.client)), attachments: [] }
    }
    case 'metrics': {
      const { owner } = checkMetricsAccess(header.client, deps.owner, deps.parties.monitoringClient, header.service)
      const request = parseMetricsRequest(envelope)
      const metrics = await deps.environment.systemMetrics(request.outputFields, { ...deps.metricsContext(), owner })
      return { bodyXml: metricsResponseXml(deps.serverId, deps.proxyVersion, metrics), attachments: [] }
    }
  }
}

/**
 * The server proxy's handler for a request to a monitoring service (X-Road's `OpMonitoringServiceHandlerImpl` and
 * `ProxyMonitorServiceHandlerImpl`): chosen by the `service` header (`monitoringServiceOf` with this server's owner);
 * undefined for any other service, which then goes to its service URL.
 */
export interface MonitoringHandler {
  service: MonitoringService
  /**
   * In place of the access rights check (`shouldVerifyAccess` is false for both): nothing for operational and health
   * data, the owner or the monitoring client for metrics (`ProxyMonitorServiceHandlerImpl.verifyAccess`).
   */
  verifyAccess(): void
  /**
   * Operational and health data are X-Road's op-monitor daemon's answers: a failure there is the daemon's SOAP fault
   * (`OpMonitorDaemonRequestHandler.handleQueryRequest`: code prefixed `server.serverproxy.opmonitor`), which the server
   * proxy passes on as a service's own fault. A metrics failure is the server proxy's own (`server.serverproxy.…`).
   */
  readonly faultsAsService: boolean
  /** The response message, after the request's signature is verified and the request logged. */
  respond(requestEnvelope: string | Uint8Array): Promise<MonitoringResponseMessage>
}

/** `ErrorCodes.SERVER_SERVER_PROXY_OPMONITOR_X`. */
export const OPMONITOR_FAULT_PREFIX = 'server.serverproxy.opmonitor'

export function monitoringHandlerFor(header: MonitoringQueryHeader, deps: MonitoringQueryDeps): MonitoringHandler | undefined {
  const service = monitoringServiceOf(header.service, deps.owner)
  if (service === undefined) return undefined
  const faultsAsService = service !== 'metrics'
  return {
    service,
    faultsAsService,
    verifyAccess() {
      if (service === 'metrics') checkMetricsAccess(header.client, deps.owner, deps.parties.monitoringClient, header.service)
    },
    async respond(requestEnvelope) {
      try {
        return monitoringResponseMessage(requestEnvelope, await answerMonitoringQuery(service, header, requestEnvelope, deps))
      } catch (error) {
        throw faultsAsService ? toSecurityServerError(error).withPrefix(OPMONITOR_FAULT_PREFIX) : error
      }
    },
  }
}

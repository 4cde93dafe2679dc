/**
 * Operational monitoring: one record per exchange (timings, parties, sizes, outcome) in X-Road's op-monitoring fields,
 * buffered and written off the hot path, queried for the dashboard and by X-Road's monitoring services (operational
 * data, health data, environmental metrics), retention-limited.
 */
export { opMonitoringMigrations } from './migrations'
export { createOpMonitor, DEFAULT_OP_MONITOR_SETTINGS, PURGE_STEP_ROWS, type OpMonitor, type OpMonitorSettings } from './op-monitor'
export type { OperationalRecord, TrafficBucket } from './operational-record'
export type { ExchangeOutcomeRow } from './operational-data-repository'
export type { FailureFilter } from './operations-repository'
export { bucketSecondsFor, pathOfEncoded } from './operations-summary'
export { latencyOf } from './latency-tally'
export {
  parseOperationalDataRequest, parseHealthDataRequest, parseMetricsRequest,
  type OperationalDataRequest, type HealthDataRequest, type MetricsRequest,
} from './queries/query-request-parser'
export {
  monitoringServiceOf, OP_MONITORING_NS, MONITORING_NS, GET_SECURITY_SERVER_OPERATIONAL_DATA, GET_SECURITY_SERVER_HEALTH_DATA,
  GET_SECURITY_SERVER_METRICS, type MonitoringService,
} from './queries/monitoring-services'
export { operationalDataClientFilter, checkMetricsAccess, type MonitoringParties } from './queries/query-access'
export type { OperationalDataResult } from './queries/operational-data-query'
export {
  operationalDataResponse, operationalDataPayload, OPERATIONAL_DATA_CONTENT_ID, OPERATIONAL_DATA_CONTENT_TYPE,
  type OperationalDataResponse, type MonitoringAttachment,
} from './queries/operational-data-response'
export { healthDataResponseXml, type HealthData } from './queries/health-data'
export {
  createEnvironmentMonitor, DEFAULT_ENVIRONMENT_MONITOR_SETTINGS, type EnvironmentMonitor, type Metric, type MetricsContext,
  type MonitoredCertificate,
} from './queries/environment-monitor'
export { metricsResponseXml } from './queries/metrics-response'
export {
  answerMonitoringQuery, monitoringHandlerFor, OPMONITOR_FAULT_PREFIX, type MonitoringHandler, type MonitoringAnswer, type MonitoringQueryDeps, type MonitoringQueryHeader,
} from './queries/monitoring-query-service'
export { parseCleanInterval, DEFAULT_CLEAN_INTERVAL, CronError, type CleanSchedule } from './clean-schedule'
export { monitoringResponseMessage, responseEnvelope, type MonitoringResponseMessage } from './queries/monitoring-response-message'

/**
 * Operational monitoring: one record per exchange (timings, parties, sizes, outcome) in X-Road's
 * op-monitoring fields, buffered and written off the hot path, queried for the dashboard and retention-limited.
 */
export { opMonitoringMigrations } from './migrations'
export { createOpMonitor, DEFAULT_OP_MONITOR_SETTINGS, type OpMonitor, type OpMonitorSettings } from './op-monitor'
export type { OperationalRecord, TrafficBucket } from './operational-record'
export type { ExchangeOutcomeRow } from './operational-data-repository'
export type { FailureFilter } from './operations-repository'
export { bucketSecondsFor, latencyOf, pathOfEncoded } from './operations-summary'

import {
  decodeIdentifier, identifierEquals, identifierToXml, IDENTIFIERS_NS, serviceProvider, type ClientId, type ServiceId,
} from '@shared/domain/identifiers'
import type { ReadableDb } from '../../platform'
import { producerRequestsBetween, producerServiceHistory, type PeriodRequestRow } from './monitoring-query-repository'
import { OP_MONITORING_NS } from './monitoring-services'

/**
 * `getSecurityServerHealthData` (PR-OPMON §3; X-Road's `HealthDataMetrics` and `HealthDataRequestHandler`), computed
 * from the stored records instead of an in-memory registry, with the same meaning:
 * - only requests handled as the service provider count (`securityServerType` Producer) and only those with a service;
 * - a service is listed once it has been called since monitoring started, with the response time of its last successful
 *   and last unsuccessful request and its last service type;
 * - the counts are over the last `statisticsPeriodSeconds` (`op-monitor.health-statistics-period-seconds`, X-Road's
 *   sliding time windows); duration (`responseOutTs − requestInTs`) and size statistics over the successful requests
 *   of that period only, and only when there was one; the standard deviation is the sample one (Dropwizard's
 *   `UniformSnapshot`: divisor n − 1, 0 for fewer than two values).
 */
export const DEFAULT_HEALTH_STATISTICS_PERIOD_SECONDS = 600

export interface Distribution {
  min: number
  max: number
  mean: number
  stdDev: number
}

export interface LastPeriodStatistics {
  successfulRequestCount: number
  unsuccessfulRequestCount: number
  requestDuration?: Distribution
  requestSize?: Distribution
  responseSize?: Distribution
}

export interface ServiceEvents {
  service: ServiceId
  lastSuccessfulRequestTimestamp?: number
  lastUnsuccessfulRequestTimestamp?: number
  serviceType?: string
  lastPeriodStatistics: LastPeriodStatistics
}

export interface HealthData {
  monitoringStartupTimestamp: number
  statisticsPeriodSeconds: number
  servicesEvents: ServiceEvents[]
}

/** Dropwizard `UniformSnapshot` over `values` (non-empty). */
export function distribution(values: readonly number[]): Distribution {
  let min = Infinity
  let max = -Infinity
  let sum = 0
  for (const v of values) {
    if (v < min) min = v
    if (v > max) max = v
    sum += v
  }
  const mean = sum / values.length
  let squares = 0
  for (const v of values) squares += (v - mean) * (v - mean)
  return { min, max, mean, stdDev: values.length <= 1 ? 0 : Math.sqrt(squares / (values.length - 1)) }
}

function periodStatistics(rows: readonly PeriodRequestRow[]): LastPeriodStatistics {
  const ok = rows.filter((r) => r.succeeded === 1)
  const stats: LastPeriodStatistics = { successfulRequestCount: ok.length, unsuccessfulRequestCount: rows.length - ok.length }
  if (ok.length === 0) return stats
  const of = (values: Array<number | null>): Distribution | undefined => {
    const present = values.filter((v): v is number => v !== null)
    return present.length === 0 ? undefined : distribution(present)
  }
  const requestDuration = of(ok.map((r) => r.durationMs))
  const requestSize = of(ok.map((r) => r.requestSize))
  const responseSize = of(ok.map((r) => r.responseSize))
  return {
    ...stats,
    ...(requestDuration === undefined ? {} : { requestDuration }),
    ...(requestSize === undefined ? {} : { requestSize }),
    ...(responseSize === undefined ? {} : { responseSize }),
  }
}

/** Health data at `nowMs` of the monitoring started at `startupMs`, only the services of `provider` when given. */
export function healthData(
  db: ReadableDb, options: { nowMs: number; startupMs: number; statisticsPeriodSeconds: number; provider?: ClientId },
): HealthData {
  const periodStart = Math.max(options.startupMs - 1, options.nowMs - options.statisticsPeriodSeconds * 1000)
  const inPeriod = new Map<string, PeriodRequestRow[]>()
  for (const row of producerRequestsBetween(db, periodStart, options.nowMs)) {
    const list = inPeriod.get(row.serviceId) ?? []
    list.push(row)
    inPeriod.set(row.serviceId, list)
  }
  const servicesEvents: ServiceEvents[] = []
  for (const history of producerServiceHistory(db, options.startupMs)) {
    let service: ServiceId
    try {
      const id = decodeIdentifier(history.serviceId)
      if (id.objectType !== 'SERVICE') continue
      service = id
    } catch {
      continue
    }
    if (options.provider !== undefined && !identifierEquals(serviceProvider(service), options.provider)) continue
    servicesEvents.push({
      service,
      ...(history.lastSuccessfulMs === null ? {} : { lastSuccessfulRequestTimestamp: history.lastSuccessfulMs }),
      ...(history.lastUnsuccessfulMs === null ? {} : { lastUnsuccessfulRequestTimestamp: history.lastUnsuccessfulMs }),
      ...(history.serviceType === null ? {} : { serviceType: history.serviceType }),
      lastPeriodStatistics: periodStatistics(inPeriod.get(history.serviceId) ?? []),
    })
  }
  return { monitoringStartupTimestamp: options.startupMs, statisticsPeriodSeconds: options.statisticsPeriodSeconds, servicesEvents }
}

/** xs:double as Java prints it for whole numbers ("12.0") and otherwise the shortest round-trip form. */
function xsDouble(value: number): string {
  return Number.isInteger(value) ? value.toFixed(1) : String(value)
}

/** `<prefix>Min<What>`, `<prefix>Average<What>`, `<prefix>Max<What>`, `<prefix><What>StdDev` (LastPeriodStatisticsType). */
function distributionXml(prefix: 'request' | 'response', what: 'Duration' | 'Size', d: Distribution | undefined): string {
  if (d === undefined) return ''
  const element = (name: string, value: string): string => `<om:${prefix}${name}>${value}</om:${prefix}${name}>`
  return element(`Min${what}`, String(d.min)) + element(`Average${what}`, xsDouble(d.mean)) + element(`Max${what}`, String(d.max)) +
    element(`${what}StdDev`, xsDouble(d.stdDev))
}

/** The `om:getSecurityServerHealthDataResponse` element (op-monitoring.xsd `GetSecurityServerHealthDataResponseType`). */
export function healthDataResponseXml(data: HealthData): string {
  const services = data.servicesEvents.map((e) => {
    const s = e.lastPeriodStatistics
    return (
      '<om:serviceEvents>' +
      identifierToXml(e.service, 'om:service') +
      (e.lastSuccessfulRequestTimestamp === undefined ? '' : `<om:lastSuccessfulRequestTimestamp>${e.lastSuccessfulRequestTimestamp}</om:lastSuccessfulRequestTimestamp>`) +
      (e.lastUnsuccessfulRequestTimestamp === undefined ? '' : `<om:lastUnsuccessfulRequestTimestamp>${e.lastUnsuccessfulRequestTimestamp}</om:lastUnsuccessfulRequestTimestamp>`) +
      (e.serviceType === undefined ? '' : `<om:serviceType>${escapeText(e.serviceType)}</om:serviceType>`) +
      '<om:lastPeriodStatistics>' +
      `<om:successfulRequestCount>${s.successfulRequestCount}</om:successfulRequestCount>` +
      `<om:unsuccessfulRequestCount>${s.unsuccessfulRequestCount}</om:unsuccessfulRequestCount>` +
      distributionXml('request', 'Duration', s.requestDuration) +
      distributionXml('request', 'Size', s.requestSize) +
      distributionXml('response', 'Size', s.responseSize) +
      '</om:lastPeriodStatistics></om:serviceEvents>'
    )
  })
  return (
    `<om:getSecurityServerHealthDataResponse xmlns:om="${OP_MONITORING_NS}" xmlns:id="${IDENTIFIERS_NS}">` +
    `<om:monitoringStartupTimestamp>${data.monitoringStartupTimestamp}</om:monitoringStartupTimestamp>` +
    `<om:statisticsPeriodSeconds>${data.statisticsPeriodSeconds}</om:statisticsPeriodSeconds>` +
    `<om:servicesEvents>${services.join('')}</om:servicesEvents>` +
    '</om:getSecurityServerHealthDataResponse>'
  )
}

function escapeText(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

import { decodeIdentifier, formatIdPath } from '@shared/domain/identifiers'
import type {
  FailedExchange, FaultCount, LatencyPercentiles, OperationsSide, OperationsSummary, PartyTraffic, OperationsTrafficPoint,
} from '@shared/admin-api/operations-api'
import type { ReadableDb } from '../platform'
import {
  countByBucket, countByFault, countByParty, findFailures, iterateLatencies, oldestRecordTs, servicesOfFault,
  type FailureFilter, type RangeFilter,
} from './operations-repository'

/**
 * The operations screen's figures from the operational-monitoring records of a time range: counts grouped in SQL,
 * latency percentiles (nearest rank) computed here from one pass over the range's latencies.
 */
const PARTY_LIMIT = 50
const FAULT_SERVICES = 5

/** About 60 points over the range, on whole minutes (or whole seconds under an hour). */
export function bucketSecondsFor(rangeSeconds: number): number {
  // Rounded: a range a second longer than an hour (bounds rounded outwards) still gets minutes.
  const raw = Math.max(1, Math.round(rangeSeconds / 60))
  const steps = [1, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400]
  return steps.find((s) => s >= raw) ?? 86_400
}

export function sideFilter(side: OperationsSide | undefined): RangeFilter['side'] {
  return side === 'client' ? 'Client' : side === 'producer' ? 'Producer' : undefined
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: Float64Array, p: number): number | null {
  if (sorted.length === 0) return null
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] as number
}

export function latencyOf(values: number[]): LatencyPercentiles {
  const sorted = Float64Array.from(values).sort()
  return {
    count: sorted.length,
    p50Ms: percentile(sorted, 0.5),
    p90Ms: percentile(sorted, 0.9),
    p95Ms: percentile(sorted, 0.95),
    p99Ms: percentile(sorted, 0.99),
    maxMs: sorted.length === 0 ? null : (sorted[sorted.length - 1] as number),
  }
}

/** The path form of an encoded identifier ('' stays ''; an undecodable one is shown as stored). */
export function pathOfEncoded(encoded: string): string {
  if (encoded === '') return ''
  try {
    return formatIdPath(decodeIdentifier(encoded))
  } catch {
    return encoded
  }
}

function push(map: Map<string | number, number[]>, key: string | number, value: number): void {
  const list = map.get(key)
  if (list === undefined) map.set(key, [value])
  else list.push(value)
}

export function operationsSummary(
  db: ReadableDb, range: { fromS: number; toS: number; side: OperationsSide }, retentionDays: number,
): OperationsSummary {
  const filter: RangeFilter = { fromS: range.fromS, toS: range.toS, ...(sideFilter(range.side) === undefined ? {} : { side: sideFilter(range.side) }) }
  const bucketSeconds = bucketSecondsFor(range.toS - range.fromS)
  const all: number[] = []
  const byBucket = new Map<string | number, number[]>()
  const byService = new Map<string | number, number[]>()
  const byClient = new Map<string | number, number[]>()
  for (const [atS, service, client, ms] of iterateLatencies(db, filter)) {
    all.push(ms)
    push(byBucket, atS - ((atS - range.fromS) % bucketSeconds), ms)
    push(byService, service, ms)
    push(byClient, client, ms)
  }
  const traffic: OperationsTrafficPoint[] = countByBucket(db, filter, bucketSeconds).map((b) => {
    const latency = latencyOf(byBucket.get(b.start) ?? [])
    return { start: new Date(b.start * 1000).toISOString(), succeeded: b.succeeded, failed: b.failed, p50Ms: latency.p50Ms, p95Ms: latency.p95Ms, p99Ms: latency.p99Ms }
  })
  const parties = (party: 'service' | 'client', latencies: Map<string | number, number[]>): PartyTraffic[] =>
    countByParty(db, filter, party, PARTY_LIMIT).map((p) => ({
      id: p.id, path: pathOfEncoded(p.id), succeeded: p.succeeded, failed: p.failed, latency: latencyOf(latencies.get(p.id) ?? []),
    }))
  const faults: FaultCount[] = countByFault(db, filter).map((f) => ({
    faultCode: f.faultCode, count: f.count, firstAt: new Date(f.firstS * 1000).toISOString(), lastAt: new Date(f.lastS * 1000).toISOString(),
    services: servicesOfFault(db, filter, f.faultCode, FAULT_SERVICES).map(pathOfEncoded),
  }))
  const totals = traffic.reduce((t, b) => ({ succeeded: t.succeeded + b.succeeded, failed: t.failed + b.failed }), { succeeded: 0, failed: 0 })
  const oldest = oldestRecordTs(db)
  return {
    from: new Date(range.fromS * 1000).toISOString(), to: new Date(range.toS * 1000).toISOString(), side: range.side, bucketSeconds,
    totals, latency: latencyOf(all), traffic, services: parties('service', byService), clients: parties('client', byClient), faults,
    retentionDays, oldestRecordAt: oldest === null ? null : new Date(oldest * 1000).toISOString(),
  }
}

export function failedExchanges(db: ReadableDb, filter: FailureFilter, limit: number): FailedExchange[] {
  return findFailures(db, filter, limit).map((r) => ({
    at: new Date(r.monitoringDataTs * 1000).toISOString(),
    side: r.securityServerType === 'Client' ? 'client' : 'producer',
    client: r.clientId, clientPath: r.clientId === null ? null : pathOfEncoded(r.clientId),
    service: r.serviceId, servicePath: r.serviceId === null ? null : pathOfEncoded(r.serviceId),
    messageId: r.messageId, faultCode: r.faultCode, faultString: r.faultString, statusCode: r.statusCode, durationMs: r.durationMs,
  }))
}

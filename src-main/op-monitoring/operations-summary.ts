import { setImmediate as nextTurn } from 'node:timers/promises'
import { decodeIdentifier, formatIdPath } from '@shared/domain/identifiers'
import type {
  FailedExchange, FaultCount, LatencyPercentiles, OperationsSide, OperationsSummary, PartyTraffic, OperationsTrafficPoint,
} from '@shared/admin-api/operations-api'
import type { ReadableDb } from '../platform'
import { findFailures, oldestRecordTs, readRangeRows, type FailureFilter, type RangeFilter, type RangePosition } from './operations-repository'

/**
 * The operations screen's figures from the operational-monitoring records of a time range, in one pass over the
 * range read `SUMMARY_STEP_ROWS` records at a time with the event loop turning between steps, into tallies of fixed
 * size: counts per time bucket, service, client and fault code, and latency percentiles (nearest rank) from counts
 * of each latency — exact below `EXACT_LATENCY_MS`, in steps of 1 % above. Grouped in SQL and with every latency of
 * the range kept for its percentiles, a day of a server at 12 exchanges a second (a million records) held the event
 * loop for 3–7 s and took 60 MB.
 */
const PARTY_LIMIT = 50
const FAULT_SERVICES = 5
/** Records read per synchronous step of a summary. */
export const SUMMARY_STEP_ROWS = 5000
/** Latencies (ms) below this are counted one by one; above it, in buckets 1 % wide. */
export const EXACT_LATENCY_MS = 1024
const LOG_STEP = Math.log(1.01)

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

function latencyBucket(ms: number): number {
  return ms < EXACT_LATENCY_MS ? ms : EXACT_LATENCY_MS + Math.floor(Math.log(ms / EXACT_LATENCY_MS) / LOG_STEP)
}

/** The smallest latency of a bucket (ms). */
function bucketFloor(bucket: number): number {
  return bucket < EXACT_LATENCY_MS ? bucket : Math.ceil(EXACT_LATENCY_MS * Math.exp((bucket - EXACT_LATENCY_MS) * LOG_STEP))
}

/** Counts of latencies by bucket: its size grows with the distinct latencies seen, not with the records. */
export class LatencyTally {
  private readonly counts = new Map<number, number>()
  private count = 0
  private max = 0

  add(ms: number): void {
    const bucket = latencyBucket(ms)
    this.counts.set(bucket, (this.counts.get(bucket) ?? 0) + 1)
    this.count++
    if (ms > this.max) this.max = ms
  }

  /** Nearest-rank percentiles, as `latencyOf` gives them over the latencies themselves (exact below `EXACT_LATENCY_MS`). */
  percentiles(): LatencyPercentiles {
    if (this.count === 0) return latencyOf([])
    const buckets = [...this.counts.keys()].sort((a, b) => a - b)
    const at = (p: number): number => {
      const rank = Math.min(this.count, Math.max(1, Math.ceil(p * this.count)))
      let seen = 0
      for (const bucket of buckets) {
        seen += this.counts.get(bucket) as number
        if (seen >= rank) return Math.min(this.max, bucketFloor(bucket))
      }
      return this.max
    }
    return { count: this.count, p50Ms: at(0.5), p90Ms: at(0.9), p95Ms: at(0.95), p99Ms: at(0.99), maxMs: this.max }
  }
}

interface Tally {
  succeeded: number
  failed: number
  latency: LatencyTally
}

function tally<K>(map: Map<K, Tally>, key: K, succeeded: number, ms: number): void {
  let t = map.get(key)
  if (t === undefined) map.set(key, (t = { succeeded: 0, failed: 0, latency: new LatencyTally() }))
  if (succeeded === 1) t.succeeded++
  else t.failed++
  t.latency.add(ms)
}

interface FaultTally {
  count: number
  firstS: number
  lastS: number
  /** The first `FAULT_SERVICES` distinct services (encoded) the fault came with. */
  services: string[]
}

export async function operationsSummary(
  db: ReadableDb, range: { fromS: number; toS: number; side: OperationsSide }, retentionDays: number,
): Promise<OperationsSummary> {
  const filter: RangeFilter = { fromS: range.fromS, toS: range.toS, ...(sideFilter(range.side) === undefined ? {} : { side: sideFilter(range.side) }) }
  const bucketSeconds = bucketSecondsFor(range.toS - range.fromS)
  const all = new LatencyTally()
  const buckets = new Map<number, Tally>()
  const services = new Map<string, Tally>()
  const clients = new Map<string, Tally>()
  const faultTallies = new Map<string, FaultTally>()
  let after: RangePosition | undefined
  for (;;) {
    const rows = readRangeRows(db, filter, after, SUMMARY_STEP_ROWS)
    for (const [, atS, service, client, succeeded, faultCode, ms] of rows) {
      all.add(ms)
      tally(buckets, atS - ((atS - range.fromS) % bucketSeconds), succeeded, ms)
      tally(services, service, succeeded, ms)
      tally(clients, client, succeeded, ms)
      if (succeeded === 1) continue
      const fault = faultTallies.get(faultCode)
      if (fault === undefined) faultTallies.set(faultCode, { count: 1, firstS: atS, lastS: atS, services: [service] })
      else {
        fault.count++
        fault.lastS = atS
        if (fault.services.length < FAULT_SERVICES && !fault.services.includes(service)) fault.services.push(service)
      }
    }
    const last = rows[rows.length - 1]
    if (rows.length < SUMMARY_STEP_ROWS || last === undefined) break
    after = { atS: last[1], id: last[0] }
    await nextTurn()
  }
  const traffic: OperationsTrafficPoint[] = [...buckets].sort(([a], [b]) => a - b).map(([start, t]) => {
    const latency = t.latency.percentiles()
    return { start: new Date(start * 1000).toISOString(), succeeded: t.succeeded, failed: t.failed, p50Ms: latency.p50Ms, p95Ms: latency.p95Ms, p99Ms: latency.p99Ms }
  })
  const parties = (tallies: Map<string, Tally>): PartyTraffic[] =>
    [...tallies]
      .sort(([a, x], [b, y]) => y.succeeded + y.failed - (x.succeeded + x.failed) || (a < b ? -1 : a > b ? 1 : 0))
      .slice(0, PARTY_LIMIT)
      .map(([id, t]) => ({ id, path: pathOfEncoded(id), succeeded: t.succeeded, failed: t.failed, latency: t.latency.percentiles() }))
  const faults: FaultCount[] = [...faultTallies]
    .sort(([a, x], [b, y]) => y.count - x.count || (a < b ? -1 : a > b ? 1 : 0))
    .map(([faultCode, f]) => ({
      faultCode, count: f.count, firstAt: new Date(f.firstS * 1000).toISOString(), lastAt: new Date(f.lastS * 1000).toISOString(),
      services: f.services.map(pathOfEncoded),
    }))
  const totals = traffic.reduce((t, b) => ({ succeeded: t.succeeded + b.succeeded, failed: t.failed + b.failed }), { succeeded: 0, failed: 0 })
  const oldest = oldestRecordTs(db)
  return {
    from: new Date(range.fromS * 1000).toISOString(), to: new Date(range.toS * 1000).toISOString(), side: range.side, bucketSeconds,
    totals, latency: all.percentiles(), traffic, services: parties(services), clients: parties(clients), faults,
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

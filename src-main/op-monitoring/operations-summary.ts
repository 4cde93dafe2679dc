import { setImmediate as nextTurn } from 'node:timers/promises'
import { decodeIdentifier, formatIdPath } from '@shared/domain/identifiers'
import type {
  FailedExchange, FaultCount, OperationsSide, OperationsSummary, PartyTraffic, OperationsTrafficPoint,
} from '@shared/admin-api/operations-api'
import type { ReadableDb } from '../platform'
import { LatencyTally } from './latency-tally'
import { ROLLUP_SPANS } from './operational-data-repository'
import {
  findFailures, oldestRecordTs, readRangeRows, readRollups, rollupsFromMinute, type FailureFilter, type RangeFilter, type RangePosition, type RollupRow,
} from './operations-repository'

/**
 * The operations screen's figures for a time range, into tallies of fixed size: counts per time bucket, service,
 * client and fault code, and latency percentiles (nearest rank) from counts of each latency (`LatencyTally`: exact
 * below `EXACT_LATENCY_MS`, in steps of 1 % above). Its whole half hours and minutes come from the roll-ups written
 * with the records (migration 0004, `rangeParts`), only its edges and what was stored before the roll-ups from the
 * records, `SUMMARY_STEP_ROWS` a step; the event loop turns between steps. Read from the records alone, a day of a
 * server at 12 exchanges a second (a million records) took 2.9 s; grouped in SQL with every latency kept, it held the
 * event loop 3–7 s and took 60 MB.
 */
const PARTY_LIMIT = 50
const FAULT_SERVICES = 5
/** Records read per synchronous step of a summary. */
export const SUMMARY_STEP_ROWS = 5000
/** Spans of roll-ups read per synchronous step of a summary (about a thousand rows for a server with dozens of parties). */
export const ROLLUP_STEP_SPANS = 4

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

/** The path form of an encoded identifier ('' stays ''; an undecodable one is shown as stored). */
export function pathOfEncoded(encoded: string): string {
  if (encoded === '') return ''
  try {
    return formatIdPath(decodeIdentifier(encoded))
  } catch {
    return encoded
  }
}

interface Tally {
  succeeded: number
  failed: number
  latency: LatencyTally
}

function countRecord(t: Tally, succeeded: number, ms: number): void {
  if (succeeded === 1) t.succeeded++
  else t.failed++
  t.latency.add(ms)
}

function countRollup(t: Tally, succeeded: number, count: number, latencies: Buffer, maxMs: number): void {
  if (succeeded === 1) t.succeeded += count
  else t.failed += count
  t.latency.addEncoded(latencies, maxMs)
}

function tallyOf<K>(map: Map<K, Tally>, key: K): Tally {
  let t = map.get(key)
  if (t === undefined) map.set(key, (t = { succeeded: 0, failed: 0, latency: new LatencyTally() }))
  return t
}

interface FaultTally {
  count: number
  firstS: number
  lastS: number
  /** The first `FAULT_SERVICES` distinct services (encoded) the fault came with. */
  services: string[]
}

/**
 * What a summary counts, fed in time order: records one by one, or a minute's roll-up rows (the same counts, the
 * same latency buckets). Fixed size: per time bucket, service, client and fault code.
 */
class SummaryTallies {
  readonly all = new LatencyTally()
  readonly buckets = new Map<number, Tally>()
  readonly services = new Map<string, Tally>()
  readonly clients = new Map<string, Tally>()
  readonly faults = new Map<string, FaultTally>()

  constructor(private readonly bucketSeconds: number) {}

  record(atS: number, service: string, client: string, succeeded: number, faultCode: string, ms: number): void {
    this.all.add(ms)
    countRecord(tallyOf(this.buckets, this.bucketOf(atS)), succeeded, ms)
    countRecord(tallyOf(this.services, service), succeeded, ms)
    countRecord(tallyOf(this.clients, client), succeeded, ms)
    if (succeeded !== 1) this.fault(faultCode, 1, atS, atS, service)
  }

  rollup([startS, service, client, succeeded, faultCode, count, firstS, lastS, maxMs, latencies]: RollupRow): void {
    this.all.addEncoded(latencies, maxMs)
    countRollup(tallyOf(this.buckets, this.bucketOf(startS)), succeeded, count, latencies, maxMs)
    countRollup(tallyOf(this.services, service), succeeded, count, latencies, maxMs)
    countRollup(tallyOf(this.clients, client), succeeded, count, latencies, maxMs)
    if (succeeded !== 1) this.fault(faultCode, count, firstS, lastS, service)
  }

  /** Time buckets on whole multiples of their length (a roll-up's span then lies within one). */
  private bucketOf(atS: number): number {
    return atS - (atS % this.bucketSeconds)
  }

  private fault(faultCode: string, count: number, firstS: number, lastS: number, service: string): void {
    const fault = this.faults.get(faultCode)
    if (fault === undefined) {
      this.faults.set(faultCode, { count, firstS, lastS, services: [service] })
      return
    }
    fault.count += count
    fault.firstS = Math.min(fault.firstS, firstS)
    fault.lastS = Math.max(fault.lastS, lastS)
    if (fault.services.length < FAULT_SERVICES && !fault.services.includes(service)) fault.services.push(service)
  }
}

/** Counts the records of [fromS, toS) one by one, `SUMMARY_STEP_ROWS` a step with the event loop turning between steps. */
async function countRecords(db: ReadableDb, tallies: SummaryTallies, filter: RangeFilter): Promise<void> {
  if (filter.fromS >= filter.toS) return
  let after: RangePosition | undefined
  for (;;) {
    const rows = readRangeRows(db, filter, after, SUMMARY_STEP_ROWS)
    for (const [, atS, service, client, succeeded, faultCode, ms] of rows) tallies.record(atS, service, client, succeeded, faultCode, ms)
    const last = rows[rows.length - 1]
    if (rows.length < SUMMARY_STEP_ROWS || last === undefined) return
    after = { atS: last[1], id: last[0] }
    await nextTurn()
  }
}

/** Counts the roll-ups of `spanS` starting in [fromS, toS), `ROLLUP_STEP_SPANS` spans a step with the event loop turning between steps. */
async function countRollups(db: ReadableDb, tallies: SummaryTallies, spanS: number, fromS: number, toS: number, side: RangeFilter['side']): Promise<void> {
  for (let start = fromS; start < toS; start += ROLLUP_STEP_SPANS * spanS) {
    if (start > fromS) await nextTurn()
    for (const row of readRollups(db, spanS, start, Math.min(toS, start + ROLLUP_STEP_SPANS * spanS), side)) tallies.rollup(row)
  }
}

/** Where a part of the range is counted from: its records, or the roll-ups of a span (seconds). */
type RangePart = [fromS: number, toS: number, source: 'records' | (typeof ROLLUP_SPANS)[number]]

const floorTo = (s: number, step: number): number => s - (s % step)
const ceilTo = (s: number, step: number): number => floorTo(s + step - 1, step)

/**
 * The range in parts, in time order: the whole half hours from their roll-ups where the time buckets are whole half
 * hours, the other whole minutes from theirs where the buckets are whole minutes — for the spans rolled up, since
 * `rolledFromS` (migration 0004) — and the rest, the range's edges and what was stored before the roll-ups, from the records.
 */
export function rangeParts(fromS: number, toS: number, bucketSeconds: number, rolledFromS: number): RangePart[] {
  const minutesFrom = Math.max(ceilTo(fromS, 60), rolledFromS)
  const minutesTo = floorTo(toS, 60)
  if (bucketSeconds % 60 !== 0 || minutesFrom >= minutesTo) return [[fromS, toS, 'records']]
  const halvesFrom = ceilTo(minutesFrom, 1800)
  const halvesTo = floorTo(minutesTo, 1800)
  const middle: RangePart[] = bucketSeconds % 1800 === 0 && halvesFrom < halvesTo
    ? [[minutesFrom, halvesFrom, 60], [halvesFrom, halvesTo, 1800], [halvesTo, minutesTo, 60]]
    : [[minutesFrom, minutesTo, 60]]
  return [[fromS, minutesFrom, 'records'] as RangePart, ...middle, [minutesTo, toS, 'records'] as RangePart].filter(([from, to]) => from < to)
}

export async function operationsSummary(
  db: ReadableDb, range: { fromS: number; toS: number; side: OperationsSide }, retentionDays: number,
): Promise<OperationsSummary> {
  const side = sideFilter(range.side)
  const bucketSeconds = bucketSecondsFor(range.toS - range.fromS)
  const tallies = new SummaryTallies(bucketSeconds)
  for (const [fromS, toS, source] of rangeParts(range.fromS, range.toS, bucketSeconds, rollupsFromMinute(db))) {
    if (source === 'records') await countRecords(db, tallies, { fromS, toS, ...(side === undefined ? {} : { side }) })
    else await countRollups(db, tallies, source, fromS, toS, side)
  }
  const traffic: OperationsTrafficPoint[] = [...tallies.buckets].sort(([a], [b]) => a - b).map(([start, t]) => {
    const latency = t.latency.percentiles()
    return { start: new Date(start * 1000).toISOString(), succeeded: t.succeeded, failed: t.failed, p50Ms: latency.p50Ms, p95Ms: latency.p95Ms, p99Ms: latency.p99Ms }
  })
  const parties = (map: Map<string, Tally>): PartyTraffic[] =>
    [...map]
      .sort(([a, x], [b, y]) => y.succeeded + y.failed - (x.succeeded + x.failed) || (a < b ? -1 : a > b ? 1 : 0))
      .slice(0, PARTY_LIMIT)
      .map(([id, t]) => ({ id, path: pathOfEncoded(id), succeeded: t.succeeded, failed: t.failed, latency: t.latency.percentiles() }))
  const faults: FaultCount[] = [...tallies.faults]
    .sort(([a, x], [b, y]) => y.count - x.count || (a < b ? -1 : a > b ? 1 : 0))
    .map(([faultCode, f]) => ({
      faultCode, count: f.count, firstAt: new Date(f.firstS * 1000).toISOString(), lastAt: new Date(f.lastS * 1000).toISOString(),
      services: f.services.map(pathOfEncoded),
    }))
  const totals = traffic.reduce((t, b) => ({ succeeded: t.succeeded + b.succeeded, failed: t.failed + b.failed }), { succeeded: 0, failed: 0 })
  const oldest = oldestRecordTs(db)
  return {
    from: new Date(range.fromS * 1000).toISOString(), to: new Date(range.toS * 1000).toISOString(), side: range.side, bucketSeconds,
    totals, latency: tallies.all.percentiles(), traffic, services: parties(tallies.services), clients: parties(tallies.clients), faults,
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

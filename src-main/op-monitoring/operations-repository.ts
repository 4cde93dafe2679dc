import type { ReadableDb } from '../platform'

/**
 * Queries of the operations screen over `operational_data`: counts grouped by time bucket, service, client and fault
 * code, the latencies of a range for percentiles, and the failed records themselves. Every query is bounded by a time
 * range on `monitoring_data_ts` (index `operational_data_ts`; failures: the partial index `operational_data_failures`).
 */
export interface RangeFilter {
  /** Seconds since the epoch: from inclusive, to exclusive. */
  fromS: number
  toS: number
  side?: 'Client' | 'Producer'
}

function where(f: RangeFilter, alias = ''): { sql: string; args: unknown[] } {
  const sql = [`${alias}monitoring_data_ts >= ?`, `${alias}monitoring_data_ts < ?`]
  const args: unknown[] = [f.fromS, f.toS]
  if (f.side !== undefined) {
    sql.push(`${alias}security_server_type = ?`)
    args.push(f.side)
  }
  return { sql: sql.join(' AND '), args }
}

export interface BucketCount {
  start: number
  succeeded: number
  failed: number
}

/** Exchanges per bucket (bucket start in seconds), oldest first; empty buckets are absent. */
export function countByBucket(db: ReadableDb, f: RangeFilter, bucketSeconds: number): BucketCount[] {
  const w = where(f)
  return db
    .prepare(
      `SELECT monitoring_data_ts - ((monitoring_data_ts - ?) % ?) AS start, SUM(succeeded) AS succeeded, SUM(1 - succeeded) AS failed
       FROM operational_data WHERE ${w.sql} GROUP BY start ORDER BY start`,
    )
    .all(f.fromS, bucketSeconds, ...w.args) as BucketCount[]
}

export interface PartyCount {
  id: string
  succeeded: number
  failed: number
}

/** Exchanges per service or per client (null ids as ''), busiest first, at most `limit`. */
export function countByParty(db: ReadableDb, f: RangeFilter, party: 'service' | 'client', limit: number): PartyCount[] {
  const column = party === 'service' ? 'service_id' : 'client_id'
  const w = where(f)
  const rows = db
    .prepare(
      // Not `AS id`: GROUP BY would take the table's own id column.
      `SELECT COALESCE(${column}, '') AS party, SUM(succeeded) AS succeeded, SUM(1 - succeeded) AS failed
       FROM operational_data WHERE ${w.sql} GROUP BY party ORDER BY COUNT(*) DESC, party LIMIT ?`,
    )
    .all(...w.args, limit) as Array<{ party: string; succeeded: number; failed: number }>
  return rows.map((r) => ({ id: r.party, succeeded: r.succeeded, failed: r.failed }))
}

export interface FaultRow {
  faultCode: string
  count: number
  firstS: number
  lastS: number
}

/** Failed exchanges per fault code (null as ''), most frequent first. */
export function countByFault(db: ReadableDb, f: RangeFilter): FaultRow[] {
  const w = where(f)
  return db
    .prepare(
      `SELECT COALESCE(fault_code, '') AS faultCode, COUNT(*) AS count, MIN(monitoring_data_ts) AS firstS, MAX(monitoring_data_ts) AS lastS
       FROM operational_data WHERE succeeded = 0 AND ${w.sql} GROUP BY faultCode ORDER BY count DESC, faultCode`,
    )
    .all(...w.args) as FaultRow[]
}

/** The distinct services (encoded, null as '') the failures of one fault code were for, at most `limit`. */
export function servicesOfFault(db: ReadableDb, f: RangeFilter, faultCode: string, limit: number): string[] {
  const w = where(f)
  const rows = db
    .prepare(
      `SELECT DISTINCT COALESCE(service_id, '') AS service FROM operational_data
       WHERE succeeded = 0 AND COALESCE(fault_code, '') = ? AND ${w.sql} LIMIT ?`,
    )
    .all(faultCode, ...w.args, limit) as Array<{ service: string }>
  return rows.map((r) => r.service)
}

/** One record's time (s), service and client (encoded, '' when absent) and latency (ms), in no particular order. */
export type LatencyRow = [atS: number, service: string, client: string, ms: number]

/** The latencies of the range, row by row (no array of the whole range is built here). */
export function iterateLatencies(db: ReadableDb, f: RangeFilter): IterableIterator<LatencyRow> {
  const w = where(f)
  return db
    .prepare(
      `SELECT monitoring_data_ts, COALESCE(service_id, ''), COALESCE(client_id, ''), MAX(0, response_out_ts - request_in_ts)
       FROM operational_data WHERE ${w.sql}`,
    )
    .raw()
    .iterate(...w.args) as IterableIterator<LatencyRow>
}

export interface FailureFilter extends RangeFilter {
  faultCode?: string
  service?: string
  client?: string
}

export interface FailureRow {
  monitoringDataTs: number
  securityServerType: 'Client' | 'Producer'
  clientId: string | null
  serviceId: string | null
  messageId: string | null
  faultCode: string | null
  faultString: string | null
  statusCode: number | null
  durationMs: number
}

/** Failed records of the range, newest first, at most `limit`. */
export function findFailures(db: ReadableDb, f: FailureFilter, limit: number): FailureRow[] {
  const w = where(f)
  const sql = [w.sql]
  const args = [...w.args]
  if (f.faultCode !== undefined) {
    sql.push(`COALESCE(fault_code, '') = ?`)
    args.push(f.faultCode)
  }
  if (f.service !== undefined) {
    sql.push('service_id = ?')
    args.push(f.service)
  }
  if (f.client !== undefined) {
    sql.push('client_id = ?')
    args.push(f.client)
  }
  return db
    .prepare(
      `SELECT monitoring_data_ts AS monitoringDataTs, security_server_type AS securityServerType, client_id AS clientId,
              service_id AS serviceId, message_id AS messageId, fault_code AS faultCode, fault_string AS faultString,
              status_code AS statusCode, MAX(0, response_out_ts - request_in_ts) AS durationMs
       FROM operational_data WHERE succeeded = 0 AND ${sql.join(' AND ')} ORDER BY monitoring_data_ts DESC, id DESC LIMIT ?`,
    )
    .all(...args, limit) as FailureRow[]
}

/** The time (s) of the oldest record kept, or null. */
export function oldestRecordTs(db: ReadableDb): number | null {
  const row = db.prepare('SELECT MIN(monitoring_data_ts) AS ts FROM operational_data').get() as { ts: number | null }
  return row.ts
}

/** Whether any exchange was recorded since `fromS` (either side), for "is traffic expected here": one index probe. */
export function anyExchangeSince(db: ReadableDb, fromS: number): boolean {
  return (db.prepare('SELECT EXISTS (SELECT 1 FROM operational_data WHERE monitoring_data_ts >= ?) AS found').get(fromS) as { found: number }).found === 1
}

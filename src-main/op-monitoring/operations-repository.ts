import type { ReadableDb } from '../platform'

/**
 * Queries of the operations screen over `operational_data`: a range's records in steps (the summary groups them by
 * time bucket, service, client and fault code), and the failed records themselves. Every query is bounded by a time
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

/**
 * One record of a range as the summary reads it: its id and time (s), service and client (encoded, '' when absent),
 * whether it succeeded (1/0), its fault code ('' when none) and latency (ms).
 */
export type RangeRow = [id: number, atS: number, service: string, client: string, succeeded: number, faultCode: string, ms: number]

/** Where a step of reading a range stopped: the last row's time and id (rows come in that order). */
export interface RangePosition {
  atS: number
  id: number
}

/**
 * Up to `limit` records of the range after `after` (from its start when undefined), in time and id order — the order
 * of the index `operational_data_ts` (time, then the row id) — so that a range is read in steps of bounded size.
 */
export function readRangeRows(db: ReadableDb, f: RangeFilter, after: RangePosition | undefined, limit: number): RangeRow[] {
  // Resumed from the last row's second (the index is searched from there), past the rows of that second already read.
  const w = where(after === undefined ? f : { ...f, fromS: after.atS })
  const resume = after === undefined ? '' : ' AND (monitoring_data_ts > ? OR id > ?)'
  return db
    .prepare(
      `SELECT id, monitoring_data_ts, COALESCE(service_id, ''), COALESCE(client_id, ''), succeeded, COALESCE(fault_code, ''),
         MAX(0, response_out_ts - request_in_ts)
       FROM operational_data WHERE ${w.sql}${resume} ORDER BY monitoring_data_ts, id LIMIT ?`,
    )
    .raw()
    .all(...w.args, ...(after === undefined ? [] : [after.atS, after.id]), limit) as RangeRow[]
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

/** The first minute (s) whose records are all in the per-minute roll-ups (migration 0004). */
export function rollupsFromMinute(db: ReadableDb): number {
  return (db.prepare('SELECT from_minute_s AS m FROM operations_rollup_state WHERE id = 1').get() as { m: number } | undefined)?.m ?? 0
}

/**
 * One roll-up row (operations_rollups): the records of a span (a minute or a half hour) with one side, service, client
 * (encoded, '' when absent), outcome and fault code ('' when none): how many, their first and last second, their
 * largest latency (ms) and their latencies counted by bucket (`LatencyTally.encode`).
 */
export type RollupRow = [startS: number, service: string, client: string, succeeded: number, faultCode: string, count: number, firstS: number, lastS: number, maxMs: number, latencies: Buffer]

/** The roll-up rows of the spans of `spanS` starting in [fromS, toS) (index: the primary key), by start and first second. */
export function readRollups(db: ReadableDb, spanS: number, fromS: number, toS: number, side: RangeFilter['side']): RollupRow[] {
  return db
    .prepare(
      `SELECT start_s, service, client, succeeded, fault_code, count, first_s, last_s, max_ms, latencies FROM operations_rollups
       WHERE span_s = ? AND start_s >= ? AND start_s < ?${side === undefined ? '' : ' AND side = ?'} ORDER BY start_s, first_s`,
    )
    .raw()
    .all(spanS, fromS, toS, ...(side === undefined ? [] : [side])) as RollupRow[]
}

import type { ReadableDb } from '../../platform'
import { findOperationalRecordsWhere } from '../operational-data-repository'
import type { OperationalRecord } from '../operational-record'

/**
 * The queries behind `getSecurityServerOperationalData` and `getSecurityServerHealthData` over `operational_data`
 * (X-Road's `OperationalDataRecordQuery`, `HealthDataMetrics`). Every query is bounded by a range on
 * `monitoring_data_ts` (index `operational_data_ts`).
 *
 * Identifiers are stored in their encoded form (`encodeIdentifier`): a client is `MEMBER:I/C/M` or
 * `SUBSYSTEM:I/C/M/S`, a service `SERVICE:I/C/M[/S]/code[;v=version]` with every part percent-encoded, so a part never
 * holds a '/'. A service belongs to provider `I/C/M[/S]` when its id starts with `SERVICE:I/C/M[/S]/` and no '/'
 * follows (the service code and version marker hold none); `substr` compares literally, where `LIKE` would read the
 * '%' of percent-encoding as a wildcard.
 */
export interface PartyFilter {
  /** Encoded client id (`encodeIdentifier`) matched as the record's client or its service's provider. */
  clientOrProvider?: { client: string; servicePrefix: string }
  /** Service prefix (`SERVICE:I/C/M[/S]/`) of the provider the records' services must belong to. */
  providerPrefix?: string
}

function partyWhere(f: PartyFilter): { sql: string[]; args: unknown[] } {
  const sql: string[] = []
  const args: unknown[] = []
  const provider = (prefix: string): string => {
    args.push(prefix.length, prefix, prefix.length + 1)
    return '(substr(service_id, 1, ?) = ? AND instr(substr(service_id, ?), \'/\') = 0)'
  }
  if (f.clientOrProvider !== undefined) {
    args.push(f.clientOrProvider.client)
    sql.push(`(client_id = ? OR ${provider(f.clientOrProvider.servicePrefix)})`)
  }
  if (f.providerPrefix !== undefined) sql.push(provider(f.providerPrefix))
  return { sql, args }
}

/** Records with `monitoringDataTs` in [fromS, toS] matching the filter, by time then insertion, at most `limit`. */
export function findMonitoringRecords(db: ReadableDb, fromS: number, toS: number, filter: PartyFilter, limit: number): OperationalRecord[] {
  const p = partyWhere(filter)
  return findOperationalRecordsWhere(db, ['monitoring_data_ts BETWEEN ? AND ?', ...p.sql].join(' AND '), [fromS, toS, ...p.args], limit)
}

/** True when some record in [fromS, toS] matches the filter. */
export function hasMonitoringRecords(db: ReadableDb, fromS: number, toS: number, filter: PartyFilter): boolean {
  const p = partyWhere(filter)
  const row = db
    .prepare(`SELECT 1 AS found FROM operational_data WHERE ${['monitoring_data_ts BETWEEN ? AND ?', ...p.sql].join(' AND ')} LIMIT 1`)
    .get(fromS, toS, ...p.args)
  return row !== undefined
}

/** Per service handled as provider since `sinceMs`: the last successful and unsuccessful response and the last service type. */
export interface ServiceHistoryRow {
  serviceId: string
  lastSuccessfulMs: number | null
  lastUnsuccessfulMs: number | null
  serviceType: string | null
}

export function producerServiceHistory(db: ReadableDb, sinceMs: number): ServiceHistoryRow[] {
  const sinceS = Math.floor(sinceMs / 1000)
  return db
    .prepare(
      `SELECT o.service_id AS serviceId,
              MAX(CASE WHEN o.succeeded = 1 THEN o.response_out_ts END) AS lastSuccessfulMs,
              MAX(CASE WHEN o.succeeded = 0 THEN o.response_out_ts END) AS lastUnsuccessfulMs,
              (SELECT l.service_type FROM operational_data l
                WHERE l.service_id = o.service_id AND l.security_server_type = 'Producer' AND l.monitoring_data_ts >= ?
                  AND l.response_out_ts >= ?
                ORDER BY l.monitoring_data_ts DESC, l.id DESC LIMIT 1) AS serviceType
       FROM operational_data o
       WHERE o.security_server_type = 'Producer' AND o.service_id IS NOT NULL AND o.monitoring_data_ts >= ? AND o.response_out_ts >= ?
       GROUP BY o.service_id ORDER BY o.service_id`,
    )
    .all(sinceS, sinceMs, sinceS, sinceMs) as ServiceHistoryRow[]
}

/** One request a provider handled in a statistics period. */
export interface PeriodRequestRow {
  serviceId: string
  succeeded: number
  durationMs: number
  requestSize: number | null
  responseSize: number | null
}

/** The requests handled as provider with their response sent after `afterMs` (exclusive) and at most at `untilMs`. */
export function producerRequestsBetween(db: ReadableDb, afterMs: number, untilMs: number): PeriodRequestRow[] {
  return db
    .prepare(
      `SELECT service_id AS serviceId, succeeded, response_out_ts - request_in_ts AS durationMs, request_size AS requestSize,
              response_size AS responseSize
       FROM operational_data
       WHERE security_server_type = 'Producer' AND service_id IS NOT NULL AND monitoring_data_ts BETWEEN ? AND ?
         AND response_out_ts > ? AND response_out_ts <= ?
       ORDER BY id`,
    )
    .all(Math.floor(afterMs / 1000), Math.floor(untilMs / 1000), afterMs, untilMs) as PeriodRequestRow[]
}

import type { ReadableDb, WritableDb } from '../platform'
import type { OperationalRecord, TrafficBucket } from './operational-record'
import { LatencyTally } from './latency-tally'

const COLUMNS = [
  'monitoring_data_ts', 'security_server_type', 'request_in_ts', 'request_out_ts', 'response_in_ts', 'response_out_ts',
  'client_id', 'service_id', 'rest_method', 'rest_path', 'message_id', 'x_request_id', 'message_user_id', 'message_issue',
  'represented_party', 'message_protocol_version', 'client_security_server_address', 'service_security_server_address',
  'request_size', 'response_size', 'status_code', 'succeeded', 'fault_code', 'fault_string', 'service_type',
] as const

function toRow(r: OperationalRecord): unknown[] {
  return [
    r.monitoringDataTs, r.securityServerType, r.requestInTs, r.requestOutTs ?? null, r.responseInTs ?? null, r.responseOutTs,
    r.clientId ?? null, r.serviceId ?? null, r.restMethod ?? null, r.restPath ?? null, r.messageId ?? null, r.xRequestId ?? null,
    r.messageUserId ?? null, r.messageIssue ?? null, r.representedParty ?? null, r.messageProtocolVersion ?? null,
    r.clientSecurityServerAddress ?? null, r.serviceSecurityServerAddress ?? null, r.requestSize ?? null, r.responseSize ?? null,
    r.statusCode ?? null, r.succeeded ? 1 : 0, r.faultCode ?? null, r.faultString ?? null, r.serviceType ?? null,
  ]
}

/** Stores a batch of records, and adds them to their roll-ups (migration 0004), in one transaction. */
export function insertOperationalRecords(db: WritableDb, records: readonly OperationalRecord[]): void {
  const insert = db.prepare(`INSERT INTO operational_data (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map(() => '?').join(', ')})`)
  db.transaction(() => {
    for (const record of records) insert.run(...toRow(record))
    addToRollups(db, records)
  })()
}

/** A record's latency as the operations screen counts it (ms from the request in to the response out, at least 0). */
function latencyMsOf(record: Pick<OperationalRecord, 'requestInTs' | 'responseOutTs'>): number {
  return Math.max(0, record.responseOutTs - record.requestInTs)
}

/** The spans records are rolled up by (seconds): a minute, and a half hour for the ranges of a day and more. */
export const ROLLUP_SPANS = [60, 1800] as const

interface RollupDelta {
  key: [spanS: number, startS: number, side: string, service: string, client: string, succeeded: number, faultCode: string]
  firstS: number
  lastS: number
  latency: LatencyTally
}

/**
 * Adds records to the roll-up rows of their minute and half hour, side, service, client, outcome and fault code (the
 * batch grouped first: one read and one write per row touched, whatever the batch's size).
 */
function addToRollups(db: WritableDb, records: readonly OperationalRecord[]): void {
  const deltas = new Map<string, RollupDelta>()
  for (const r of records) {
    const at = r.monitoringDataTs
    const ms = latencyMsOf(r)
    for (const span of ROLLUP_SPANS) {
      const key: RollupDelta['key'] = [span, at - (at % span), r.securityServerType, r.serviceId ?? '', r.clientId ?? '', r.succeeded ? 1 : 0, r.succeeded ? '' : (r.faultCode ?? '')]
      const id = key.join('\u0000')
      let delta = deltas.get(id)
      if (delta === undefined) deltas.set(id, (delta = { key, firstS: at, lastS: at, latency: new LatencyTally() }))
      delta.firstS = Math.min(delta.firstS, at)
      delta.lastS = Math.max(delta.lastS, at)
      delta.latency.add(ms)
    }
  }
  const find = db.prepare(`SELECT first_s AS firstS, last_s AS lastS, max_ms AS maxMs, latencies FROM operations_rollups
    WHERE span_s = ? AND start_s = ? AND side = ? AND service = ? AND client = ? AND succeeded = ? AND fault_code = ?`)
  const store = db.prepare(`INSERT OR REPLACE INTO operations_rollups
    (span_s, start_s, side, service, client, succeeded, fault_code, count, first_s, last_s, max_ms, latencies) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
  for (const { key, firstS, lastS, latency } of deltas.values()) {
    const stored = find.get(...key) as { firstS: number; lastS: number; maxMs: number; latencies: Buffer } | undefined
    if (stored !== undefined) latency.addEncoded(stored.latencies, stored.maxMs)
    store.run(...key, latency.size, Math.min(firstS, stored?.firstS ?? firstS), Math.max(lastS, stored?.lastS ?? lastS), latency.maxMs, latency.encode())
  }
}

/**
 * Deletes the roll-ups of spans that ended by `cutoffS`, those starting within an hour of the oldest a call; returns
 * how many went (0: none left to go).
 */
export function deleteRollupsBefore(db: WritableDb, cutoffS: number): number {
  const oldest = db.prepare('SELECT MIN(start_s) AS s FROM operations_rollups').get() as { s: number | null }
  if (oldest.s === null) return 0
  return db.prepare('DELETE FROM operations_rollups WHERE start_s < ? AND start_s + span_s <= ?').run(Math.min(cutoffS, oldest.s + 3600), cutoffS).changes
}

interface Row {
  monitoring_data_ts: number
  security_server_type: 'Client' | 'Producer'
  request_in_ts: number
  request_out_ts: number | null
  response_in_ts: number | null
  response_out_ts: number
  client_id: string | null
  service_id: string | null
  rest_method: string | null
  rest_path: string | null
  message_id: string | null
  x_request_id: string | null
  message_user_id: string | null
  message_issue: string | null
  represented_party: string | null
  message_protocol_version: string | null
  client_security_server_address: string | null
  service_security_server_address: string | null
  request_size: number | null
  response_size: number | null
  status_code: number | null
  succeeded: number
  fault_code: string | null
  fault_string: string | null
  service_type: string | null
}

function fromRow(r: Row): OperationalRecord {
  const optional = <T>(v: T | null): T | undefined => (v === null ? undefined : v)
  return {
    monitoringDataTs: r.monitoring_data_ts,
    securityServerType: r.security_server_type,
    requestInTs: r.request_in_ts,
    requestOutTs: optional(r.request_out_ts),
    responseInTs: optional(r.response_in_ts),
    responseOutTs: r.response_out_ts,
    clientId: optional(r.client_id),
    serviceId: optional(r.service_id),
    restMethod: optional(r.rest_method),
    restPath: optional(r.rest_path),
    messageId: optional(r.message_id),
    xRequestId: optional(r.x_request_id),
    messageUserId: optional(r.message_user_id),
    messageIssue: optional(r.message_issue),
    representedParty: optional(r.represented_party),
    messageProtocolVersion: optional(r.message_protocol_version),
    clientSecurityServerAddress: optional(r.client_security_server_address),
    serviceSecurityServerAddress: optional(r.service_security_server_address),
    requestSize: optional(r.request_size),
    responseSize: optional(r.response_size),
    statusCode: optional(r.status_code),
    succeeded: r.succeeded === 1,
    faultCode: optional(r.fault_code),
    faultString: optional(r.fault_string),
    serviceType: optional(r.service_type) as OperationalRecord['serviceType'],
  }
}

/** Records with `monitoringDataTs` in [fromS, toS] (seconds), oldest first, at most `limit`. */
export function findOperationalRecords(db: ReadableDb, fromS: number, toS: number, limit: number): OperationalRecord[] {
  const rows = db
    .prepare(`SELECT ${COLUMNS.join(', ')} FROM operational_data WHERE monitoring_data_ts BETWEEN ? AND ? ORDER BY id LIMIT ?`)
    .all(fromS, toS, limit) as Row[]
  return rows.map(fromRow)
}

/**
 * Records matching `where` (a condition over `operational_data`'s columns with `?` placeholders for `args`), by
 * `monitoringDataTs` then insertion order, at most `limit`.
 */
export function findOperationalRecordsWhere(db: ReadableDb, where: string, args: readonly unknown[], limit: number): OperationalRecord[] {
  const rows = db
    .prepare(`SELECT ${COLUMNS.join(', ')} FROM operational_data WHERE ${where} ORDER BY monitoring_data_ts, id LIMIT ?`)
    .all(...args, limit) as Row[]
  return rows.map(fromRow)
}

/** Exchanges per time bucket since `fromS`, split by outcome, for the dashboard's message-rate chart. */
export function countTraffic(db: ReadableDb, fromS: number, bucketSeconds: number): TrafficBucket[] {
  return db
    .prepare(
      `SELECT monitoring_data_ts - (monitoring_data_ts % ?) AS start, SUM(succeeded) AS succeeded, SUM(1 - succeeded) AS failed
       FROM operational_data WHERE monitoring_data_ts >= ? GROUP BY start ORDER BY start`,
    )
    .all(bucketSeconds, fromS) as TrafficBucket[]
}

/** Deletes up to `limit` of the oldest records older than `beforeS` (one step of a purge); returns how many went. */
export function deleteOperationalRecordsBefore(db: WritableDb, beforeS: number, limit: number): number {
  return db
    .prepare('DELETE FROM operational_data WHERE id IN (SELECT id FROM operational_data WHERE monitoring_data_ts < ? ORDER BY monitoring_data_ts LIMIT ?)')
    .run(beforeS, limit).changes
}

/** The outcome fields of one operational record, for joining exchanges of the message log by message id. */
export interface ExchangeOutcomeRow {
  messageId: string
  securityServerType: 'Client' | 'Producer'
  succeeded: boolean
  faultCode: string | null
  faultString: string | null
  statusCode: number | null
  monitoringDataTs: number
}

/** Outcomes of the exchanges with these message ids (index `operational_data_message_id`), in stored order. */
export function findOutcomesByMessageIds(db: ReadableDb, messageIds: readonly string[]): ExchangeOutcomeRow[] {
  if (messageIds.length === 0) return []
  const rows = db
    .prepare(
      `SELECT message_id, security_server_type, succeeded, fault_code, fault_string, status_code, monitoring_data_ts
       FROM operational_data WHERE message_id IN (${messageIds.map(() => '?').join(', ')}) ORDER BY id`,
    )
    .all(...messageIds) as Array<{
      message_id: string; security_server_type: 'Client' | 'Producer'; succeeded: number; fault_code: string | null
      fault_string: string | null; status_code: number | null; monitoring_data_ts: number
    }>
  return rows.map((r) => ({
    messageId: r.message_id, securityServerType: r.security_server_type, succeeded: r.succeeded === 1, faultCode: r.fault_code,
    faultString: r.fault_string, statusCode: r.status_code, monitoringDataTs: r.monitoring_data_ts,
  }))
}

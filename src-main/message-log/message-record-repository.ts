import type { ReadableDb, WritableDb } from '../platform'

/** SQL of the message log: records, attachments, time-stamp records, archive linking and time-stamping state. */

export interface NewMessageRecord {
  queryId: string
  xRequestId: string | null
  client: string
  service: string
  response: boolean
  message: Uint8Array
  bodyLogged: boolean
  signatureXml: string
  signatureHash: string
  hashChainResult: string | null
  hashChain: string | null
  timeMs: number
  attachments: Array<{ content: Uint8Array | null; size: number; sha512: string }>
}

export interface StoredMessageRecord {
  id: number
  queryId: string
  xRequestId: string | null
  client: string
  service: string
  response: boolean
  message: Buffer
  bodyLogged: boolean
  signatureXml: string
  signatureHash: string
  hashChainResult: string | null
  hashChain: string | null
  timeMs: number
  timestampRecordId: number | null
  timestampHashChain: string | null
  archivedAtMs: number | null
  archiveFile: string | null
}

export interface StoredAttachment {
  position: number
  content: Buffer | null
  size: number
  sha512: string
}

export interface StoredTimestampRecord {
  id: number
  timeMs: number
  token: Buffer
  hashChainResult: string | null
  tsaUrl: string
}

interface RecordRow {
  id: number
  query_id: string
  x_request_id: string | null
  client: string
  service: string
  response: number
  message: Buffer
  body_logged: number
  signature_xml: string
  signature_hash: string
  hash_chain_result: string | null
  hash_chain: string | null
  time_ms: number
  timestamp_record_id: number | null
  timestamp_hash_chain: string | null
  archived_at_ms: number | null
  archive_file: string | null
}

function toRecord(row: RecordRow): StoredMessageRecord {
  return {
    id: row.id,
    queryId: row.query_id,
    xRequestId: row.x_request_id,
    client: row.client,
    service: row.service,
    response: row.response === 1,
    message: row.message,
    bodyLogged: row.body_logged === 1,
    signatureXml: row.signature_xml,
    signatureHash: row.signature_hash,
    hashChainResult: row.hash_chain_result,
    hashChain: row.hash_chain,
    timeMs: row.time_ms,
    timestampRecordId: row.timestamp_record_id,
    timestampHashChain: row.timestamp_hash_chain,
    archivedAtMs: row.archived_at_ms,
    archiveFile: row.archive_file,
  }
}

export function insertMessageRecord(db: WritableDb, record: NewMessageRecord): number {
  const result = db
    .prepare(
      `INSERT INTO message_records (query_id, x_request_id, client, service, response, message, body_logged, signature_xml,
         signature_hash, hash_chain_result, hash_chain, time_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(
      record.queryId, record.xRequestId, record.client, record.service, record.response ? 1 : 0, record.message,
      record.bodyLogged ? 1 : 0, record.signatureXml, record.signatureHash, record.hashChainResult, record.hashChain,
      record.timeMs,
    )
  const id = Number(result.lastInsertRowid)
  const insertAttachment = db.prepare('INSERT INTO message_attachments (record_id, position, content, size, sha512) VALUES (?, ?, ?, ?, ?)')
  record.attachments.forEach((a, i) => insertAttachment.run(id, i + 1, a.content, a.size, a.sha512))
  return id
}

export function findMessageRecord(db: ReadableDb, id: number): StoredMessageRecord | undefined {
  const row = db.prepare('SELECT * FROM message_records WHERE id = ?').get(id) as RecordRow | undefined
  return row === undefined ? undefined : toRecord(row)
}

export function findRecordsByQueryId(db: ReadableDb, queryId: string): StoredMessageRecord[] {
  const rows = db.prepare('SELECT * FROM message_records WHERE query_id = ? ORDER BY id').all(queryId) as RecordRow[]
  return rows.map(toRecord)
}

export function listAttachments(db: ReadableDb, recordId: number): StoredAttachment[] {
  return db
    .prepare('SELECT position, content, size, sha512 FROM message_attachments WHERE record_id = ? ORDER BY position')
    .all(recordId) as StoredAttachment[]
}

export interface RecordSearch {
  fromMs?: number
  toMs?: number
  client?: string
  service?: string
  queryId?: string
  limit: number
}

export interface RecordMetadataRow {
  id: number
  queryId: string
  xRequestId: string | null
  client: string
  service: string
  response: boolean
  timeMs: number
  timestamped: boolean
  archived: boolean
  bodyLogged: boolean
}

export function searchRecordMetadata(db: ReadableDb, search: RecordSearch): RecordMetadataRow[] {
  const where: string[] = []
  const params: Array<string | number> = []
  if (search.fromMs !== undefined) { where.push('time_ms >= ?'); params.push(search.fromMs) }
  if (search.toMs !== undefined) { where.push('time_ms < ?'); params.push(search.toMs) }
  if (search.client !== undefined) { where.push('client = ?'); params.push(search.client) }
  if (search.service !== undefined) { where.push('service = ?'); params.push(search.service) }
  if (search.queryId !== undefined) { where.push('query_id = ?'); params.push(search.queryId) }
  const sql = `SELECT id, query_id, x_request_id, client, service, response, time_ms, body_logged,
      timestamp_record_id IS NOT NULL AS timestamped, archived_at_ms IS NOT NULL AS archived
    FROM message_records ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY time_ms, id LIMIT ?`
  const rows = db.prepare(sql).all(...params, search.limit) as Array<{
    id: number; query_id: string; x_request_id: string | null; client: string; service: string; response: number
    time_ms: number; body_logged: number; timestamped: number; archived: number
  }>
  return rows.map((r) => ({
    id: r.id, queryId: r.query_id, xRequestId: r.x_request_id, client: r.client, service: r.service,
    response: r.response === 1, timeMs: r.time_ms, timestamped: r.timestamped === 1, archived: r.archived === 1,
    bodyLogged: r.body_logged === 1,
  }))
}

/** The oldest records still waiting for a time-stamp, oldest first (the task queue is the database). */
export function listUnstampedRecords(db: ReadableDb, limit: number): Array<{ id: number; signatureHash: string; signatureXml: string; timeMs: number }> {
  return db
    .prepare(
      `SELECT id, signature_hash AS signatureHash, signature_xml AS signatureXml, time_ms AS timeMs
       FROM message_records WHERE timestamp_record_id IS NULL ORDER BY time_ms, id LIMIT ?`,
    )
    .all(limit) as Array<{ id: number; signatureHash: string; signatureXml: string; timeMs: number }>
}

export function oldestUnstampedTime(db: ReadableDb): number | null {
  const row = db.prepare('SELECT MIN(time_ms) AS t FROM message_records WHERE timestamp_record_id IS NULL').get() as { t: number | null }
  return row.t
}

export function insertTimestampRecord(db: WritableDb, ts: { timeMs: number; token: Uint8Array; hashChainResult: string | null; tsaUrl: string }): number {
  const result = db
    .prepare('INSERT INTO timestamp_records (time_ms, token, hash_chain_result, tsa_url) VALUES (?, ?, ?, ?)')
    .run(ts.timeMs, ts.token, ts.hashChainResult, ts.tsaUrl)
  return Number(result.lastInsertRowid)
}

/** Links a record to its time-stamp; idempotent (only records not yet stamped, reliability-and-security.md §1.2). */
export function linkTimestamp(db: WritableDb, recordId: number, timestampRecordId: number, tsHashChain: string | null): boolean {
  const result = db
    .prepare('UPDATE message_records SET timestamp_record_id = ?, timestamp_hash_chain = ? WHERE id = ? AND timestamp_record_id IS NULL')
    .run(timestampRecordId, tsHashChain, recordId)
  return result.changes === 1
}

export function findTimestampRecord(db: ReadableDb, id: number): StoredTimestampRecord | undefined {
  const row = db.prepare('SELECT id, time_ms, token, hash_chain_result, tsa_url FROM timestamp_records WHERE id = ?').get(id) as
    | { id: number; time_ms: number; token: Buffer; hash_chain_result: string | null; tsa_url: string }
    | undefined
  return row === undefined
    ? undefined
    : { id: row.id, timeMs: row.time_ms, token: row.token, hashChainResult: row.hash_chain_result, tsaUrl: row.tsa_url }
}

export interface TimestampingState {
  lastSuccessMs: number | null
  failingSinceMs: number | null
  lastError: string | null
}

export function readTimestampingState(db: ReadableDb): TimestampingState {
  const row = db.prepare('SELECT last_success_ms, failing_since_ms, last_error FROM timestamping_state WHERE id = 1').get() as
    | { last_success_ms: number | null; failing_since_ms: number | null; last_error: string | null }
    | undefined
  return { lastSuccessMs: row?.last_success_ms ?? null, failingSinceMs: row?.failing_since_ms ?? null, lastError: row?.last_error ?? null }
}

export function recordTimestampingSuccess(db: WritableDb, atMs: number): void {
  db.prepare(
    `INSERT INTO timestamping_state (id, last_success_ms, failing_since_ms, last_error) VALUES (1, ?, NULL, NULL)
     ON CONFLICT (id) DO UPDATE SET last_success_ms = excluded.last_success_ms, failing_since_ms = NULL, last_error = NULL`,
  ).run(atMs)
}

/** Keeps the first failure time of an ongoing outage (the fail-closed clock survives restarts). */
export function recordTimestampingFailure(db: WritableDb, atMs: number, error: string): void {
  db.prepare(
    `INSERT INTO timestamping_state (id, last_success_ms, failing_since_ms, last_error) VALUES (1, NULL, ?, ?)
     ON CONFLICT (id) DO UPDATE SET failing_since_ms = COALESCE(failing_since_ms, excluded.failing_since_ms), last_error = excluded.last_error`,
  ).run(atMs, error)
}

/** Stamped, not yet archived records, oldest first. */
export function listArchivableRecords(db: ReadableDb, limit: number): StoredMessageRecord[] {
  const rows = db
    .prepare('SELECT * FROM message_records WHERE archived_at_ms IS NULL AND timestamp_record_id IS NOT NULL ORDER BY id LIMIT ?')
    .all(limit) as RecordRow[]
  return rows.map(toRecord)
}

export function markArchived(db: WritableDb, recordIds: readonly number[], atMs: number, archiveFile: string): void {
  const update = db.prepare('UPDATE message_records SET archived_at_ms = ?, archive_file = ? WHERE id = ? AND archived_at_ms IS NULL')
  for (const id of recordIds) update.run(atMs, archiveFile, id)
}

export function findLastArchiveDigest(db: ReadableDb, groupKey: string): { digest: string; fileName: string } | undefined {
  const row = db.prepare('SELECT digest, file_name FROM last_archive_digest WHERE group_key = ?').get(groupKey) as
    | { digest: string; file_name: string }
    | undefined
  return row === undefined ? undefined : { digest: row.digest, fileName: row.file_name }
}

export function saveLastArchiveDigest(db: WritableDb, groupKey: string, digest: string, fileName: string, atMs: number): void {
  db.prepare(
    `INSERT INTO last_archive_digest (group_key, digest, file_name, updated_at_ms) VALUES (?, ?, ?, ?)
     ON CONFLICT (group_key) DO UPDATE SET digest = excluded.digest, file_name = excluded.file_name, updated_at_ms = excluded.updated_at_ms`,
  ).run(groupKey, digest, fileName, atMs)
}

/** Deletes archived records older than the cut-off; time-stamp records no longer referenced go too. */
export function purgeArchivedRecords(db: WritableDb, olderThanMs: number): number {
  const removed = db.prepare('DELETE FROM message_records WHERE archived_at_ms IS NOT NULL AND time_ms < ?').run(olderThanMs).changes
  db.prepare('DELETE FROM timestamp_records WHERE id NOT IN (SELECT timestamp_record_id FROM message_records WHERE timestamp_record_id IS NOT NULL)').run()
  return removed
}

export interface VolumeStatistics {
  records: number
  bytes: number
  oldestMs: number | null
  newestMs: number | null
}

/** Records and stored bytes (message, signature, attachments) since a time, for the disk-use forecast. */
export function volumeSince(db: ReadableDb, sinceMs: number): VolumeStatistics {
  const row = db
    .prepare(
      `SELECT COUNT(*) AS records,
         COALESCE(SUM(LENGTH(message) + LENGTH(signature_xml) + COALESCE(LENGTH(hash_chain), 0)), 0) AS bytes,
         MIN(time_ms) AS oldest, MAX(time_ms) AS newest
       FROM message_records WHERE time_ms >= ?`,
    )
    .get(sinceMs) as { records: number; bytes: number; oldest: number | null; newest: number | null }
  const att = db
    .prepare(
      `SELECT COALESCE(SUM(COALESCE(LENGTH(a.content), 0)), 0) AS bytes FROM message_attachments a
       JOIN message_records r ON r.id = a.record_id WHERE r.time_ms >= ?`,
    )
    .get(sinceMs) as { bytes: number }
  return { records: row.records, bytes: row.bytes + att.bytes, oldestMs: row.oldest, newestMs: row.newest }
}

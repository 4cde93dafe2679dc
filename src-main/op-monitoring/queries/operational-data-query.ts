import { encodeIdentifier, formatIdPath, type ClientId } from '@shared/domain/identifiers'
import type { ReadableDb } from '../../platform'
import { findMonitoringRecords, hasMonitoringRecords, type PartyFilter } from './monitoring-query-repository'
import { OUTPUT_FIELDS, projectRecord, responseFields, toXRoadRecord, type XRoadOperationalRecord } from './operational-data-fields'
import { invalidRequest, type OperationalDataRequest } from './query-request-parser'

/**
 * `getSecurityServerOperationalData` over the stored records (PR-OPMON §2; X-Road's
 * `OperationalDataRequestHandler` and `OperationalDataRecordManager.queryOperationalDataInTransaction`).
 */
export interface OperationalDataQuerySettings {
  /** `op-monitor.max-records-in-payload` (default 10 000). */
  maxRecordsInPayload: number
  /** `op-monitor.records-available-timestamp-offset-seconds` (default 60): the newest seconds are not served yet. */
  recordsAvailableTimestampOffsetSeconds: number
}

export const DEFAULT_OPERATIONAL_DATA_QUERY_SETTINGS: OperationalDataQuerySettings = {
  maxRecordsInPayload: 10_000, recordsAvailableTimestampOffsetSeconds: 60,
}

export interface OperationalDataResult {
  records: XRoadOperationalRecord[]
  /** `recordsFrom` for the next query, when records were left out or `recordsTo` was shifted. */
  nextRecordsFrom?: number
}

/** `OperationalDataRequestHandler.checkTimestamps`. */
export function checkTimestamps(recordsFrom: number, recordsTo: number, recordsAvailableBefore: number): void {
  if (recordsFrom < 0) throw invalidRequest('Records from timestamp is a negative number')
  if (recordsTo < 0) throw invalidRequest('Records to timestamp is a negative number')
  if (recordsTo < recordsFrom) throw invalidRequest('Records to timestamp is earlier than records from timestamp')
  if (recordsFrom >= recordsAvailableBefore) throw invalidRequest(`Records not available from ${recordsFrom} yet`)
}

/** `OperationalDataRequestHandler.checkOutputFields`. */
export function checkOutputFields(outputFields: ReadonlySet<string>): void {
  for (const field of outputFields) {
    if (!OUTPUT_FIELDS.has(field)) throw invalidRequest(`Unknown output field in search criteria: ${field}`)
  }
}

function partyFilter(client: ClientId | undefined, provider: ClientId | undefined): PartyFilter {
  return {
    ...(client === undefined ? {} : { clientOrProvider: { client: encodeIdentifier(client), servicePrefix: `SERVICE:${formatIdPath(client)}/` } }),
    ...(provider === undefined ? {} : { providerPrefix: `SERVICE:${formatIdPath(provider)}/` }),
  }
}

/**
 * The records of `request` a requester may see (`filterByClient` from `operationalDataClientFilter`), at `nowS`.
 * `recordsTo` at or past the available boundary (now − offset) is moved before it and `nextRecordsFrom` set to the
 * boundary. At most `maxRecordsInPayload` records, plus all others of the last second included (a second is never
 * split between two answers); when records of later seconds were left out, `nextRecordsFrom` is the second after it.
 */
export function queryOperationalData(
  db: ReadableDb, request: OperationalDataRequest, filterByClient: ClientId | undefined, nowS: number,
  settings: OperationalDataQuerySettings = DEFAULT_OPERATIONAL_DATA_QUERY_SETTINGS,
): OperationalDataResult {
  const recordsAvailableBefore = nowS - settings.recordsAvailableTimestampOffsetSeconds
  checkTimestamps(request.recordsFrom, request.recordsTo, recordsAvailableBefore)
  checkOutputFields(request.outputFields)
  let recordsTo = request.recordsTo
  let nextRecordsFrom: number | undefined
  if (recordsTo >= recordsAvailableBefore) {
    recordsTo = recordsAvailableBefore - 1
    nextRecordsFrom = recordsAvailableBefore
  }
  const filter = partyFilter(filterByClient, request.client)
  const max = settings.maxRecordsInPayload
  let rows = findMonitoringRecords(db, request.recordsFrom, recordsTo, filter, max)
  if (rows.length === max && max > 0) {
    const lastTs = rows[rows.length - 1]!.monitoringDataTs
    const sameSecond = findMonitoringRecords(db, lastTs, lastTs, filter, Number.MAX_SAFE_INTEGER)
    rows = [...rows.filter((r) => r.monitoringDataTs !== lastTs), ...sameSecond]
    if (lastTs < recordsTo && hasMonitoringRecords(db, lastTs + 1, recordsTo, filter)) nextRecordsFrom = lastTs + 1
  }
  // `monitoringDataTs` stays only when asked for or when all fields are (`removeMonitoringDataTsIfNotSpecified`).
  const fields = responseFields(request.outputFields, filterByClient !== undefined)
  return {
    records: rows.map((r) => projectRecord(toXRoadRecord(r), fields)),
    ...(nextRecordsFrom === undefined ? {} : { nextRecordsFrom }),
  }
}

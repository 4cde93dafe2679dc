import { setImmediate as nextTurn } from 'node:timers/promises'
import type { Clock, Logger, WritableDb } from '../platform'
import {
  countTraffic, deleteRollupsBefore, deleteOperationalRecordsBefore, findOperationalRecords, findOutcomesByMessageIds, insertOperationalRecords,
  type ExchangeOutcomeRow,
} from './operational-data-repository'
import type { OperationalRecord, TrafficBucket } from './operational-record'
import type { FailedExchange, OperationsSide, OperationsSummary } from '@shared/admin-api/operations-api'
import { anyExchangeSince, type FailureFilter } from './operations-repository'
import { failedExchanges, operationsSummary } from './operations-summary'
import type { ClientId } from '@shared/domain/identifiers'
import { queryOperationalData, type OperationalDataResult } from './queries/operational-data-query'
import { DEFAULT_HEALTH_STATISTICS_PERIOD_SECONDS, healthData, type HealthData } from './queries/health-data'
import type { OperationalDataRequest } from './queries/query-request-parser'

/** X-Road bounds `faultString` to 2048 characters and other strings to 255 (PR-OPMON schema). */
const MAX_FAULT_STRING = 2048
const MAX_STRING = 255

export interface OpMonitorSettings {
  /** Records are buffered and written in one transaction at most this often. */
  flushIntervalMs: number
  /** Flush early (in the next turn of the event loop, after the exchange's answer went out) once this many records wait. */
  maxBuffered: number
  /**
   * The most records that may wait (X-Road's op-monitor buffer `size`); past it a record is dropped and counted, as
   * X-Road's buffer drops when full (monitoring is best effort; the message exchange never waits for it).
   */
  maxQueued: number
  /** Records older than this are deleted (X-Road `op-monitor.keep-records-for-days`, default 7). */
  keepRecordsForDays: number
  /** `op-monitor.max-records-in-payload`: most records in one `getSecurityServerOperationalData` answer (default 10 000). */
  maxRecordsInPayload: number
  /** `op-monitor.records-available-timestamp-offset-seconds`: the newest seconds not served yet (default 60). */
  recordsAvailableTimestampOffsetSeconds: number
  /** `op-monitor.health-statistics-period-seconds`: the period of the health data statistics (default 600). */
  healthStatisticsPeriodSeconds: number
}

/** Records a purge step deletes in one statement (a few milliseconds of the event loop). */
export const PURGE_STEP_ROWS = 2000

export const DEFAULT_OP_MONITOR_SETTINGS: OpMonitorSettings = {
  flushIntervalMs: 1000, maxBuffered: 500, maxQueued: 20_000, keepRecordsForDays: 7, maxRecordsInPayload: 10_000,
  recordsAvailableTimestampOffsetSeconds: 60, healthStatisticsPeriodSeconds: DEFAULT_HEALTH_STATISTICS_PERIOD_SECONDS,
}

export interface OpMonitor {
  /**
   * Queues a record; it never fails nor delays the exchange that produced it (monitoring is best effort, as in X-Road):
   * the waiting records are written in one transaction per batch, never inside this call. The record is kept as
   * given (copied only to clip a field): the caller hands it over and does not change it afterwards.
   */
  record(record: OperationalRecord): void
  /** Writes every waiting record now (queries call it first, so they see every exchange so far). */
  flush(): void
  /** Records dropped because the queue was full (since start). */
  readonly dropped: number
  search(fromS: number, toS: number, limit?: number): OperationalRecord[]
  traffic(sinceS: number, bucketSeconds: number): TrafficBucket[]
  /** Outcome fields of the records with these message ids (query ids), at most 500 ids per call. */
  outcomes(messageIds: readonly string[]): ExchangeOutcomeRow[]
  /** The operations screen's figures for a range (seconds: from inclusive, to exclusive). */
  summary(range: { fromS: number; toS: number; side: OperationsSide }): Promise<OperationsSummary>
  /** Failed exchanges of a range, newest first. */
  failures(filter: FailureFilter, limit: number): FailedExchange[]
  /** Whether an exchange was recorded since `fromS` (seconds), either side. */
  anyExchangeSince(fromS: number): boolean
  /**
   * `getSecurityServerOperationalData` (PR-OPMON §2): the records of the request's range a requester may see
   * (`filterByClient` from `operationalDataClientFilter`, undefined for all).
   */
  operationalData(request: OperationalDataRequest, filterByClient: ClientId | undefined): OperationalDataResult
  /** `getSecurityServerHealthData` (PR-OPMON §3), only the services of `provider` when given. */
  healthData(provider?: ClientId): HealthData
  /** When this monitor started (ms): health data counts from then (`monitoringStartupTimestamp`). */
  readonly startedAtMs: number
  readonly keepRecordsForDays: number
  /** Applies changed settings at once. */
  updateSettings(changes: Partial<OpMonitorSettings>): void
  /**
   * Deletes the records older than `keepRecordsForDays`, `PURGE_STEP_ROWS` a statement with the event loop turning
   * between them: a half day's records of a busy server at once (X-Road's `clean-interval` is 12 hours) held the event
   * loop for as long as they took; then the roll-ups of the minutes and half hours wholly before the cut-off. Resolves
   * with how many records went.
   */
  purge(): Promise<number>
  close(): void
}

function fits(value: string | undefined, max: number): boolean {
  return value === undefined || value.length <= max
}

function clip(value: string | undefined, max: number): string | undefined {
  return value === undefined || value.length <= max ? value : value.slice(0, max)
}

export function createOpMonitor(deps: { db: WritableDb; clock: Clock; logger: Logger; settings?: Partial<OpMonitorSettings> }): OpMonitor {
  const settings = { ...DEFAULT_OP_MONITOR_SETTINGS, ...deps.settings }
  const startedAtMs = deps.clock.now().getTime()
  let buffer: OperationalRecord[] = []
  let timer: NodeJS.Timeout | undefined
  let immediate: NodeJS.Immediate | undefined
  let dropped = 0
  let droppedReported = 0

  const flush = (): void => {
    if (timer !== undefined) {
      clearTimeout(timer)
      timer = undefined
    }
    if (immediate !== undefined) {
      clearImmediate(immediate)
      immediate = undefined
    }
    if (dropped > droppedReported) {
      deps.logger.warn({ dropped: dropped - droppedReported }, 'operational monitoring records dropped: the queue was full')
      droppedReported = dropped
    }
    if (buffer.length === 0) return
    const batch = buffer
    buffer = []
    try {
      insertOperationalRecords(deps.db, batch)
    } catch (error) {
      deps.logger.error({ err: error, dropped: batch.length }, 'operational monitoring records could not be stored')
    }
  }

  return {
    record(record) {
      if (buffer.length >= settings.maxQueued) {
        dropped++
        return
      }
      // Copied only when a field must be clipped (the observer hands over a record of its own).
      buffer.push(fits(record.faultString, MAX_FAULT_STRING) && fits(record.restPath, MAX_STRING) && fits(record.messageId, MAX_STRING)
        && fits(record.messageUserId, MAX_STRING) && fits(record.messageIssue, MAX_STRING) ? record : {
        ...record,
        faultString: clip(record.faultString, MAX_FAULT_STRING),
        restPath: clip(record.restPath, MAX_STRING),
        messageId: clip(record.messageId, MAX_STRING),
        messageUserId: clip(record.messageUserId, MAX_STRING),
        messageIssue: clip(record.messageIssue, MAX_STRING),
      })
      // A full batch is written in the next turn of the event loop: the exchange that filled it answers first.
      if (buffer.length >= settings.maxBuffered) {
        immediate ??= setImmediate(flush)
        immediate.unref()
      } else if (timer === undefined) {
        timer = setTimeout(flush, settings.flushIntervalMs)
        timer.unref()
      }
    },
    flush,
    get dropped() {
      return dropped
    },
    search(fromS, toS, limit = 10_000) {
      flush()
      return findOperationalRecords(deps.db, fromS, toS, limit)
    },
    traffic(sinceS, bucketSeconds) {
      flush()
      return countTraffic(deps.db, sinceS, bucketSeconds)
    },
    outcomes(messageIds) {
      flush()
      return findOutcomesByMessageIds(deps.db, messageIds.slice(0, 500))
    },
    summary(range) {
      flush()
      return operationsSummary(deps.db, range, settings.keepRecordsForDays)
    },
    failures(filter, limit) {
      flush()
      return failedExchanges(deps.db, filter, limit)
    },
    anyExchangeSince(fromS) {
      flush()
      return anyExchangeSince(deps.db, fromS)
    },
    operationalData(request, filterByClient) {
      flush()
      return queryOperationalData(deps.db, request, filterByClient, Math.floor(deps.clock.now().getTime() / 1000), settings)
    },
    healthData(provider) {
      flush()
      return healthData(deps.db, {
        nowMs: deps.clock.now().getTime(), startupMs: startedAtMs, statisticsPeriodSeconds: settings.healthStatisticsPeriodSeconds,
        ...(provider === undefined ? {} : { provider }),
      })
    },
    startedAtMs,
    get keepRecordsForDays() {
      return settings.keepRecordsForDays
    },
    updateSettings(changes) {
      Object.assign(settings, changes)
    },
    async purge() {
      const cutoff = Math.floor(deps.clock.now().getTime() / 1000) - settings.keepRecordsForDays * 86_400
      let purged = 0
      for (;;) {
        const removed = deleteOperationalRecordsBefore(deps.db, cutoff, PURGE_STEP_ROWS)
        purged += removed
        if (removed < PURGE_STEP_ROWS) break
        await nextTurn()
      }
      // The roll-ups of the spans wholly before the cut-off, an hour of them a step.
      while (deleteRollupsBefore(deps.db, cutoff) > 0) await nextTurn()
      return purged
    },
    // An orderly stop loses nothing: what waits is written before the database closes.
    close: flush,
  }
}

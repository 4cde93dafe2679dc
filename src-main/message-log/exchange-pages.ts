import type { ReadableDb } from '../platform'
import {
  listExchangeRecords, pageExchangeAnchors,
  type ExchangeAnchor, type ExchangeFilter, type ExchangePageStart, type RecordMetadataRow, type RecordPosition,
} from './message-record-repository'

/**
 * Pages of exchanges for the message-log screen: an exchange is every record logged under one query id (X-Road's unit
 * of evidence export, xroad-protocols.md §6.3 `/asic?queryId=…`), usually its request and its response. Pages are
 * newest first by the exchange's newest matching record and move by cursor (that record's time and id), so each page
 * costs the same however deep it is, and records logged meanwhile do not shift the pages already seen.
 */
export const MAX_RECORDS_PER_EXCHANGE = 20

export interface ExchangeOnPage {
  anchor: ExchangeAnchor
  /** The exchange's records in logged order (all of them, matching the filter or not), at most 20. */
  records: RecordMetadataRow[]
  /** More records share this query id than `records` holds (a query id reused by its client). */
  moreRecords: boolean
}

export interface ExchangePage {
  exchanges: ExchangeOnPage[]
  /** Start of the page of newer exchanges, or null when this page holds the newest. */
  newer: RecordPosition | null
  /** Start of the page of older exchanges, or null when this page holds the oldest. */
  older: RecordPosition | null
}

const positionOf = (a: ExchangeAnchor): RecordPosition => ({ timeMs: a.timeMs, id: a.id })

export function pageExchanges(db: ReadableDb, filter: ExchangeFilter, start: ExchangePageStart, pageSize: number): ExchangePage {
  const { anchors, more } = pageExchangeAnchors(db, filter, start, pageSize)
  const first = anchors[0]
  const last = anchors.at(-1)
  const towardsOlder = 'olderThan' in start || ('from' in start && start.from === 'newest')
  // Whether anything lies on the side the page did not travel towards: one anchor probe, LIMIT 2.
  const exists = (probe: ExchangePageStart): boolean => pageExchangeAnchors(db, filter, probe, 1).anchors.length > 0
  let newer: RecordPosition | null
  let older: RecordPosition | null
  if (first === undefined || last === undefined) {
    // An empty page (a cursor past the end, or nothing matches): point back at what remains, if anything.
    const cursor = 'olderThan' in start ? start.olderThan : 'newerThan' in start ? start.newerThan : undefined
    newer = cursor !== undefined && 'olderThan' in start && exists({ newerThan: cursor }) ? cursor : null
    older = cursor !== undefined && 'newerThan' in start && exists({ olderThan: cursor }) ? cursor : null
  } else if (towardsOlder) {
    older = more ? positionOf(last) : null
    newer = 'olderThan' in start && exists({ newerThan: positionOf(first) }) ? positionOf(first) : null
  } else {
    newer = more ? positionOf(first) : null
    older = 'newerThan' in start && exists({ olderThan: positionOf(last) }) ? positionOf(last) : null
  }
  return {
    exchanges: anchors.map((anchor) => {
      const records = listExchangeRecords(db, anchor.queryId, MAX_RECORDS_PER_EXCHANGE + 1)
      return { anchor, records: records.slice(0, MAX_RECORDS_PER_EXCHANGE), moreRecords: records.length > MAX_RECORDS_PER_EXCHANGE }
    }),
    newer,
    older,
  }
}

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { join } from 'node:path'
import { closeDatabase, inTransaction, type ReadableDb, type WritableDb } from '../../src-main/platform'
import {
  insertMessageRecord, insertTimestampRecord, linkTimestamp, markArchived, pageExchangeAnchors,
  type ExchangeFilter, type ExchangePageStart,
} from '../../src-main/message-log/message-record-repository'
import { MAX_RECORDS_PER_EXCHANGE, type ExchangePage } from '../../src-main/message-log'
import { pageExchanges } from '../../src-main/message-log/exchange-pages'
import { openMessageLogDb, tempDir } from './support/message-log-harness'

/**
 * Exchange pages at volume: 10 000 exchanges (20 000+ records) in a real SQLite database, paged newest first by keyset
 * on (time, id). Every page is checked against the expected order, the first and the last pages exactly; the work per
 * page is bounded because each query walks an index in page order and stops at the page size (EXPLAIN QUERY PLAN: an
 * index search, no full scan, no sort of the whole result).
 */
const EXCHANGES = 10_000
const T0 = Date.parse('2026-02-01T00:00:00Z')
const CLIENT_A = 'SUBSYSTEM:LAB/GOV/1001/consumer'
const CLIENT_B = 'SUBSYSTEM:LAB/GOV/1003/other'
const SERVICE_PETS = 'SERVICE:LAB/GOV/2002/provider/pets'
const SERVICE_CATS = 'SERVICE:LAB/GOV/2002/provider/cats'

interface Row {
  id: number
  queryId: string
  client: string
  service: string
  response: boolean
  timeMs: number
  status: 'unstamped' | 'timestamped' | 'archived'
}

let dir: string
let db: WritableDb
/** What was stored, to compute the expected pages independently of the SQL. */
const rows: Row[] = []
const reusedId = 'q-reused'

let seq = 0

function record(queryId: string, client: string, service: string, response: boolean, timeMs: number): number {
  // The evidence chain is not what these tests look at: each record gets the next number and placeholder hashes.
  const id = insertMessageRecord(db, {
    queryId, xRequestId: null, client, service, response, message: Buffer.from(`m ${queryId}`), bodyLogged: true,
    signatureXml: '<sig/>', signatureHash: 'h', hashChainResult: null, hashChain: null, timeMs, attachments: [],
  }, { seq: ++seq, prevHash: Buffer.alloc(32), chainHash: Buffer.alloc(32) })
  rows.push({ id, queryId, client, service, response, timeMs, status: 'unstamped' })
  return id
}

const matches = (r: Row, f: ExchangeFilter): boolean =>
  (f.fromMs === undefined || r.timeMs >= f.fromMs) && (f.toMs === undefined || r.timeMs < f.toMs) &&
  (f.client === undefined || r.client === f.client) && (f.service === undefined || r.service === f.service) &&
  (f.queryId === undefined || r.queryId === f.queryId) && (f.response === undefined || r.response === f.response) &&
  (f.status === undefined || r.status === f.status)

/** The exchanges a filter selects, newest first by their newest matching record (time, then id). */
function expectedIds(filter: ExchangeFilter = {}): string[] {
  const anchors = new Map<string, Row>()
  for (const r of rows) {
    if (!matches(r, filter)) continue
    const current = anchors.get(r.queryId)
    if (current === undefined || r.timeMs > current.timeMs || (r.timeMs === current.timeMs && r.id > current.id)) anchors.set(r.queryId, r)
  }
  return [...anchors.values()].sort((a, b) => b.timeMs - a.timeMs || b.id - a.id).map((r) => r.queryId)
}

beforeAll(() => {
  dir = tempDir('gh-mlog-pages-')
  db = openMessageLogDb(join(dir, 'messagelog.sqlite'))
  inTransaction(db, () => {
    for (let i = 0; i < EXCHANGES; i++) {
      const queryId = `q-${String(i).padStart(5, '0')}`
      const client = i % 4 === 3 ? CLIENT_B : CLIENT_A
      const service = i % 2 === 0 ? SERVICE_PETS : SERVICE_CATS
      // Three exchanges share each millisecond, so the order within a millisecond is the record id's.
      const t = T0 + Math.floor(i / 3) * 10
      record(queryId, client, service, false, t)
      // Every 500th exchange failed before its response was logged: a request only.
      if (i % 500 !== 7) record(queryId, client, service, true, t + 4)
    }
    // A query id its client reused for 25 messages: one exchange, listed once, with its first 20 records.
    for (let k = 0; k < 25; k++) record(reusedId, CLIENT_A, SERVICE_PETS, k % 2 === 1, T0 + 1_000_000 + k)
    const ts = insertTimestampRecord(db, { timeMs: T0, token: Buffer.from('tst'), hashChainResult: null, tsaUrl: 'http://tsa' })
    // The first 200 records are time-stamped, the first 80 of them archived.
    for (let id = 1; id <= 200; id++) linkTimestamp(db, id, ts, null)
    markArchived(db, Array.from({ length: 80 }, (_, k) => k + 1), T0, 'mlog-test.zip')
  })
  for (const r of rows) if (r.id <= 200) r.status = r.id <= 80 ? 'archived' : 'timestamped'
})

afterAll(() => {
  closeDatabase(db)
})

const ids = (page: ExchangePage): string[] => page.exchanges.map((e) => e.anchor.queryId)

/** Every page from `start` on, in the direction it travels, as the screen would walk them. */
function walk(filter: ExchangeFilter, first: ExchangePageStart, pageSize: number, direction: 'older' | 'newer'): ExchangePage[] {
  const pages: ExchangePage[] = []
  let start: ExchangePageStart | null = first
  while (start !== null) {
    const page = pageExchanges(db, filter, start, pageSize)
    pages.push(page)
    const next = direction === 'older' ? page.older : page.newer
    start = next === null ? null : direction === 'older' ? { olderThan: next } : { newerThan: next }
    if (pages.length > EXCHANGES) throw new Error('pages do not end')
  }
  return pages
}

/** The plan SQLite would use for the page query `pageExchangeAnchors` sends (captured from a recording handle). */
function planOf(filter: ExchangeFilter, start: ExchangePageStart): string[] {
  const sent: Array<{ sql: string; params: unknown[] }> = []
  const recording = {
    prepare(sql: string) {
      const statement = db.prepare(sql)
      return { all: (...params: unknown[]) => (sent.push({ sql, params }), statement.all(...params)) }
    },
  } as unknown as ReadableDb
  pageExchangeAnchors(recording, filter, start, 25)
  const query = sent[0]
  if (query === undefined) throw new Error('no query was sent')
  return (db.prepare(`EXPLAIN QUERY PLAN ${query.sql}`).all(...query.params) as Array<{ detail: string }>).map((r) => r.detail)
}

describe('exchange pages over 20 000 records', () => {
  it('holds the volume the test promises', () => {
    expect((db.prepare('SELECT COUNT(*) AS n FROM message_records').get() as { n: number }).n).toBeGreaterThanOrEqual(20_000)
  })

  it('gives the newest page first and the oldest page last, exactly, with cursors only where more exist', () => {
    const expected = expectedIds()
    expect(expected).toHaveLength(EXCHANGES + 1)
    const newest = pageExchanges(db, {}, { from: 'newest' }, 100)
    expect(ids(newest)).toEqual(expected.slice(0, 100))
    expect(newest.exchanges[0]?.anchor.queryId).toBe(reusedId)
    expect(newest.newer).toBeNull()
    expect(newest.older).toEqual({ timeMs: newest.exchanges[99]?.anchor.timeMs, id: newest.exchanges[99]?.anchor.id })
    const reused = newest.exchanges.find((e) => e.anchor.queryId === reusedId)
    expect(reused?.records).toHaveLength(MAX_RECORDS_PER_EXCHANGE)
    expect(reused?.moreRecords).toBe(true)

    const oldest = pageExchanges(db, {}, { from: 'oldest' }, 100)
    expect(ids(oldest)).toEqual(expected.slice(-100))
    expect(oldest.older).toBeNull()
    expect(oldest.newer).not.toBeNull()
    const last = oldest.exchanges.at(-1)
    expect(last?.anchor.queryId).toBe('q-00000')
    expect(last?.records.map((r) => r.response)).toEqual([false, true])
    expect(last?.moreRecords).toBe(false)
  })

  it('walks every page older and back newer: each exchange once, in order, the last page ending at the oldest', () => {
    const expected = expectedIds()
    const pages = walk({}, { from: 'newest' }, 100, 'older')
    expect(pages).toHaveLength(Math.ceil(expected.length / 100))
    expect(pages.flatMap(ids)).toEqual(expected)
    expect(pages.at(-1)?.older).toBeNull()
    expect(ids(pages.at(-1) as ExchangePage)).toEqual(expected.slice(100 * (pages.length - 1)))
    for (const page of pages.slice(1)) expect(page.newer).not.toBeNull()
    const recordsOf = new Map<string, number>()
    for (const r of rows) recordsOf.set(r.queryId, (recordsOf.get(r.queryId) ?? 0) + 1)
    for (const page of pages) {
      for (const e of page.exchanges) {
        expect(e.records.length, e.anchor.queryId).toBe(Math.min(recordsOf.get(e.anchor.queryId) ?? 0, MAX_RECORDS_PER_EXCHANGE))
        expect(e.records.every((r) => r.queryId === e.anchor.queryId)).toBe(true)
      }
    }
    // Back from the oldest page towards the newest: the same exchanges in the same order.
    const back = walk({}, { from: 'oldest' }, 50, 'newer')
    expect(back.slice().reverse().flatMap(ids)).toEqual(expected)
    expect(back.at(-1)?.newer).toBeNull()
  })

  it('pages back newer from a cursor to the page it came from', () => {
    const first = pageExchanges(db, {}, { from: 'newest' }, 25)
    const second = pageExchanges(db, {}, { olderThan: first.older as { timeMs: number; id: number } }, 25)
    expect(second.newer).not.toBeNull()
    const back = pageExchanges(db, {}, { newerThan: second.newer as { timeMs: number; id: number } }, 25)
    expect(ids(back)).toEqual(ids(first))
    expect(back.newer).toBeNull()
  })

  it('applies every filter in SQL: client, service, query id, direction, status and time range', () => {
    const filters: ExchangeFilter[] = [
      { client: CLIENT_B },
      { service: SERVICE_CATS, client: CLIENT_A },
      { queryId: 'q-04242' },
      { queryId: reusedId, response: false },
      { response: true },
      { response: false, service: SERVICE_PETS },
      { status: 'archived' },
      { status: 'timestamped' },
      { status: 'unstamped', client: CLIENT_B },
      { fromMs: T0 + 10_000, toMs: T0 + 20_002 },
    ]
    for (const filter of filters) {
      const found = walk(filter, { from: 'newest' }, 100, 'older').flatMap(ids)
      expect(found.length, JSON.stringify(filter)).toBeGreaterThan(0)
      expect(found, JSON.stringify(filter)).toEqual(expectedIds(filter))
    }
    // Responses only: not the exchanges that failed before a response was logged.
    expect(expectedIds({ response: true })).not.toContain('q-00007')
    // The time range cuts exchanges: one whose response falls after the range is listed by its request.
    expect(expectedIds({ fromMs: T0 + 10_000, toMs: T0 + 20_002 })).toContain('q-06000')
    expect(pageExchanges(db, { client: 'SUBSYSTEM:LAB/GOV/9/none' }, { from: 'newest' }, 25)).toEqual({ exchanges: [], newer: null, older: null })
  })

  it('keeps pages stable while new exchanges are logged: the next page follows the cursor, not an offset', () => {
    const first = pageExchanges(db, {}, { from: 'newest' }, 25)
    inTransaction(db, () => {
      for (let k = 0; k < 30; k++) record(`q-new-${k}`, CLIENT_A, SERVICE_PETS, false, T0 + 2_000_000 + k)
    })
    const second = pageExchanges(db, {}, { olderThan: first.older as { timeMs: number; id: number } }, 25)
    expect(ids(second)).toEqual(expectedIds().filter((q) => !q.startsWith('q-new-')).slice(25, 50))
    expect(ids(pageExchanges(db, {}, { from: 'newest' }, 25))[0]).toBe('q-new-29')
    db.prepare("DELETE FROM message_records WHERE query_id LIKE 'q-new-%'").run()
    rows.splice(rows.findIndex((r) => r.queryId.startsWith('q-new-')))
  })

  it('walks an index in page order and stops at the page size (EXPLAIN QUERY PLAN)', () => {
    const cursor = { timeMs: T0 + 20_000, id: 5000 }
    const cases: Array<[ExchangeFilter, string]> = [
      [{}, 'message_records_time'],
      [{ client: CLIENT_B }, 'message_records_client_time'],
      [{ service: SERVICE_PETS, response: true, status: 'timestamped' }, 'message_records_service_time'],
      [{ queryId: 'q-00042' }, 'message_records_query_id'],
    ]
    const plans: string[] = []
    for (const [filter, index] of cases) {
      for (const start of [{ from: 'newest' }, { olderThan: cursor }, { newerThan: cursor }, { from: 'oldest' }] as ExchangePageStart[]) {
        const plan = planOf(filter, start)
        const label = `${JSON.stringify(filter)} ${JSON.stringify(start)}: ${plan.join(' | ')}`
        // An index walked in order (SCAN … USING INDEX from one end, SEARCH … from a cursor or an equality), never the table.
        expect(plan[0], label).toMatch(new RegExp(`^(SCAN|SEARCH) r USING (COVERING )?INDEX ${index}\\b`))
        if ('olderThan' in start || 'newerThan' in start || index !== 'message_records_time') expect(plan[0], label).toMatch(/^SEARCH r /)
        // The anchor check probes the query id index per candidate row.
        expect(plan.some((step) => /SEARCH n USING (COVERING )?INDEX message_records_query_id \(query_id=\?\)/.test(step)), label).toBe(true)
        expect(plan.some((step) => /^SCAN \w+$/.test(step)), label).toBe(false)
        plans.push(label)
        // Rows come in (time, id) order from the index: no sort of everything that matches.
        if (index !== 'message_records_query_id') expect(plan.some((step) => step.includes('TEMP B-TREE')), label).toBe(false)
      }
    }
    expect(plans).toHaveLength(16)
  })
})

import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { alertsMigrations } from '../../src-main/alerts'
import { closeDatabase, inTransaction, ManualClock, migrate, openDatabase, schemaVersions, silentLogger } from '../../src-main/platform'
import { bucketSecondsFor, createOpMonitor, opMonitoringMigrations, type OperationalRecord } from '../../src-main/op-monitoring'
import { insertOperationalRecords } from '../../src-main/op-monitoring/operational-data-repository'
import { rangeParts, ROLLUP_STEP_SPANS, SUMMARY_STEP_ROWS } from '../../src-main/op-monitoring/operations-summary'
import { EXACT_LATENCY_MS, LatencyTally, latencyOf } from '../../src-main/op-monitoring/latency-tally'
import { createOperationsAdmin } from '../../src-main/admin/operations-admin'
import type { AdminDomains } from '../../src-main/admin'
import { useTempDirs } from '../support/temp-dir'

/** The operations screen's queries over operational-monitoring records: grouping, percentiles, failures, the index. */
const tempDir = useTempDirs()
const T0 = 1_800_000_000 // seconds, on a whole hour

const PETS = 'SERVICE:LAB/GOV/2002/provider/pets'
const ECHO = 'SERVICE:LAB/GOV/2002/provider/echo'
const CONSUMER = 'SUBSYSTEM:LAB/GOV/1001/consumer'
const OTHER = 'SUBSYSTEM:LAB/GOV/1003/other'

function record(atS: number, ms: number, patch: Partial<OperationalRecord> = {}): OperationalRecord {
  return {
    monitoringDataTs: atS, securityServerType: 'Client', requestInTs: atS * 1000, responseOutTs: atS * 1000 + ms,
    clientId: CONSUMER, serviceId: PETS, succeeded: true, ...patch,
  }
}

/** What `work` resolves with, and how many turns the event loop made while it ran. */
async function countingTurns<T>(work: Promise<T>): Promise<{ result: T; turns: number }> {
  let turns = 0
  let done = false
  const counting = (): void => {
    turns++
    if (!done) setImmediate(counting)
  }
  setImmediate(counting)
  const result = await work.finally(() => (done = true))
  return { result, turns }
}

function setup() {
  const db = openDatabase(join(tempDir(), 'opmonitor.sqlite'))
  migrate(db, [opMonitoringMigrations])
  const monitor = createOpMonitor({ db, clock: new ManualClock(T0 * 1000), logger: silentLogger(), settings: { flushIntervalMs: 60_000, maxBuffered: 10_000, keepRecordsForDays: 7 } })
  return { db, monitor }
}

describe('operations queries', () => {
  it('migrations 0003 and 0004: a partial index of failures used by the failure queries, roll-ups read through their key', () => {
    const { db } = setup()
    expect(schemaVersions(db)).toEqual([{ component: 'op-monitoring', version: 4 }])
    const index = db.prepare("SELECT sql FROM sqlite_master WHERE name = 'operational_data_failures'").get() as { sql: string }
    expect(index.sql).toContain('WHERE succeeded = 0')
    const plan = db.prepare('EXPLAIN QUERY PLAN SELECT fault_code FROM operational_data WHERE succeeded = 0 AND monitoring_data_ts >= 1 AND monitoring_data_ts < 2').all() as Array<{ detail: string }>
    expect(plan.map((p) => p.detail).join(' ')).toContain('operational_data_failures')
    // Migration 0004 on a fresh database: everything from now on is rolled up.
    expect(db.prepare('SELECT from_minute_s AS m FROM operations_rollup_state').get()).toEqual({ m: 0 })
    const rollups = db.prepare('EXPLAIN QUERY PLAN SELECT count FROM operations_rollups WHERE span_s = 60 AND start_s >= 0 AND start_s < 60 ORDER BY start_s, first_s').all() as Array<{ detail: string }>
    expect(rollups.map((p) => p.detail).join(' ')).toContain('PRIMARY KEY (span_s=? AND start_s>? AND start_s<?)')
    closeDatabase(db)
  })

  it('groups traffic by bucket, service and client, with nearest-rank latency percentiles', async () => {
    const { db, monitor } = setup()
    // 100 successful calls to pets at 1..100 ms, one per 36 s over the first hour; 10 to echo at 500 ms; 4 failures.
    for (let i = 0; i < 100; i++) monitor.record(record(T0 + i * 36, i + 1))
    for (let i = 0; i < 10; i++) monitor.record(record(T0 + 3600 + i, 500, { serviceId: ECHO, clientId: OTHER }))
    for (let i = 0; i < 3; i++) monitor.record(record(T0 + 3700 + i, 20, { succeeded: false, faultCode: 'server.serverproxy.access_denied', faultString: 'denied', messageId: `LAB-denied-${i}` }))
    monitor.record(record(T0 + 3800, 5, { succeeded: false, serviceId: undefined, faultCode: undefined, securityServerType: 'Producer' }))
    // Outside the range: not counted.
    monitor.record(record(T0 + 7200, 1))
    const summary = await monitor.summary({ fromS: T0, toS: T0 + 7200, side: 'all' })
    expect(summary.bucketSeconds).toBe(bucketSecondsFor(7200))
    expect(summary.bucketSeconds).toBe(120)
    expect(summary.totals).toEqual({ succeeded: 110, failed: 4 })
    expect(summary.traffic.reduce((n, b) => n + b.succeeded + b.failed, 0)).toBe(114)
    expect(summary.traffic[0]).toMatchObject({ start: new Date(T0 * 1000).toISOString(), succeeded: 4, failed: 0, p50Ms: 2 })
    const pets = summary.services.find((s) => s.id === PETS)
    expect(pets).toMatchObject({ path: 'LAB/GOV/2002/provider/pets', succeeded: 100, failed: 3 })
    // 103 latencies: 1..100 and three of 20 → p50 is the 52nd smallest: 49.
    expect(pets?.latency).toEqual({ count: 103, p50Ms: 49, p90Ms: 90, p95Ms: 95, p99Ms: 99, maxMs: 100 })
    expect(summary.services.map((s) => s.path)).toEqual(['LAB/GOV/2002/provider/pets', 'LAB/GOV/2002/provider/echo', ''])
    expect(summary.clients.map((c) => [c.path, c.succeeded + c.failed])).toEqual([['LAB/GOV/1001/consumer', 104], ['LAB/GOV/1003/other', 10]])
    expect(summary.faults).toEqual([
      { faultCode: 'server.serverproxy.access_denied', count: 3, firstAt: new Date((T0 + 3700) * 1000).toISOString(), lastAt: new Date((T0 + 3702) * 1000).toISOString(), services: ['LAB/GOV/2002/provider/pets'] },
      { faultCode: '', count: 1, firstAt: new Date((T0 + 3800) * 1000).toISOString(), lastAt: new Date((T0 + 3800) * 1000).toISOString(), services: [''] },
    ])
    expect(summary.latency.maxMs).toBe(500)
    expect(summary.oldestRecordAt).toBe(new Date(T0 * 1000).toISOString())
    expect((await monitor.summary({ fromS: T0, toS: T0 + 7200, side: 'producer' })).totals).toEqual({ succeeded: 0, failed: 1 })
    closeDatabase(db)
  })

  it('reads a long range in steps with the event loop turning between them, and counts every record once', async () => {
    const { db, monitor } = setup()
    const records = SUMMARY_STEP_ROWS * 2 + 123
    // Many records in the same second: the steps resume by (time, id), not by time alone.
    const rows = Array.from({ length: records }, (_, i) => record(T0 + Math.floor(i / 1000), i % 7 === 0 ? 2000 + i : i % 50, {
      succeeded: i % 10 !== 0, ...(i % 10 === 0 ? { faultCode: `fault.${i % 3}` } : {}), serviceId: i % 2 === 0 ? PETS : ECHO,
    }))
    inTransaction(db, () => insertOperationalRecords(db, rows))
    // From a second that is not a whole minute: read from the records (the roll-ups' test is below).
    const { result: summary, turns } = await countingTurns(monitor.summary({ fromS: T0 - 1, toS: T0 + 3600, side: 'all' }))
    expect(turns).toBeGreaterThanOrEqual(2)
    const failed = rows.filter((r) => !r.succeeded).length
    expect(summary.totals).toEqual({ succeeded: records - failed, failed })
    expect(summary.services.map((p) => [p.id, p.succeeded + p.failed])).toEqual([[PETS, Math.ceil(records / 2)], [ECHO, Math.floor(records / 2)]])
    expect(summary.faults.reduce((n, f) => n + f.count, 0)).toBe(failed)
    expect(summary.latency.count).toBe(records)
    expect(summary.latency.maxMs).toBe(Math.max(...rows.map((r) => r.responseOutTs - r.requestInTs)))
    closeDatabase(db)
  })

  it('answers whole minutes from the roll-ups with the figures the records give, records from before migration 0004 and the range\'s edges from the records', async () => {
    const db = openDatabase(join(tempDir(), 'opmonitor.sqlite'))
    migrate(db, [{ ...opMonitoringMigrations, migrations: opMonitoringMigrations.migrations.slice(0, 3) }])
    let seed = 11
    const random = (n: number): number => Math.floor(((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31) * n)
    const services = [PETS, ECHO, undefined]
    const clients = [CONSUMER, OTHER]
    const faults = ['server.serverproxy.access_denied', 'client.clientproxy.unknown_service', undefined]
    const generate = (fromS: number, count: number): OperationalRecord[] => Array.from({ length: count }, (_, i) => record(fromS + Math.floor(i * 7.3), random(8) === 0 ? 1000 + random(90_000) : random(300), {
      serviceId: services[random(3)], clientId: clients[random(2)], securityServerType: random(3) === 0 ? 'Producer' : 'Client',
      ...(random(6) === 0 ? { succeeded: false, faultCode: faults[random(3)] } : {}),
    }))
    // Three hours before the roll-ups exist, then migration 0004, then three hours more through the monitor.
    const before = db.prepare(`INSERT INTO operational_data (monitoring_data_ts, security_server_type, request_in_ts, response_out_ts, client_id, service_id, succeeded, fault_code)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
    inTransaction(db, () => {
      for (const r of generate(T0, 1500)) before.run(r.monitoringDataTs, r.securityServerType, r.requestInTs, r.responseOutTs, r.clientId ?? null, r.serviceId ?? null, r.succeeded ? 1 : 0, r.faultCode ?? null)
    })
    migrate(db, [opMonitoringMigrations])
    expect(db.prepare('SELECT from_minute_s AS m FROM operations_rollup_state').get()).toEqual({ m: T0 + Math.floor(1499 * 7.3) - ((T0 + Math.floor(1499 * 7.3)) % 60) + 60 })
    const monitor = createOpMonitor({ db, clock: new ManualClock(T0 * 1000), logger: silentLogger(), settings: { flushIntervalMs: 60_000, maxBuffered: 97, keepRecordsForDays: 7 } })
    // Written a few at a time, as flushes under light traffic: a minute's rows are added to again and again.
    generate(T0 + 3 * 3600, 1500).forEach((r, i) => {
      monitor.record(r)
      if (i % 5 === 4) monitor.flush()
    })
    monitor.flush()
    expect((db.prepare('SELECT COUNT(*) AS n FROM operations_rollups WHERE span_s = 60').get() as { n: number }).n).toBeGreaterThan(100)
    const byRecords = async (range: Parameters<typeof monitor.summary>[0]): Promise<unknown> => {
      const rolled = db.prepare('SELECT from_minute_s AS m FROM operations_rollup_state').get() as { m: number }
      db.prepare('UPDATE operations_rollup_state SET from_minute_s = ?').run(Number.MAX_SAFE_INTEGER)
      try {
        return await monitor.summary(range)
      } finally {
        db.prepare('UPDATE operations_rollup_state SET from_minute_s = ?').run(rolled.m)
      }
    }
    // Fault services in order of first occurrence: by the second for the roll-ups, so compared as sets.
    const comparable = (summary: unknown): unknown => {
      const s = summary as { faults: Array<{ services: string[] }> }
      return { ...s, faults: s.faults.map((f) => ({ ...f, services: [...f.services].sort() })) }
    }
    for (const range of [
      { fromS: T0, toS: T0 + 6 * 3600, side: 'all' as const },
      { fromS: T0 + 3600, toS: T0 + 5 * 3600 + 30, side: 'client' as const },
      { fromS: T0 + 4 * 3600, toS: T0 + 7 * 3600, side: 'producer' as const },
      // A day from a whole minute (half-hour buckets: half hours, minutes and records), and one from an odd second.
      { fromS: T0 - 18 * 3600 + 420, toS: T0 + 6 * 3600 + 420, side: 'all' as const },
      { fromS: T0 - 18 * 3600 + 421, toS: T0 + 6 * 3600 + 421, side: 'all' as const },
    ]) {
      const summary = await monitor.summary(range)
      expect(summary.totals.succeeded + summary.totals.failed).toBeGreaterThan(100)
      expect(comparable(summary)).toEqual(comparable(await byRecords(range)))
    }
    // The roll-ups of the spans wholly before the cut-off go with the records (the cut-off is 30 s into a minute).
    const purging = createOpMonitor({ db, clock: new ManualClock((T0 + 4 * 3600 + 7 * 86_400) * 1000 + 30_000), logger: silentLogger(), settings: { keepRecordsForDays: 7 } })
    await purging.purge()
    expect(db.prepare('SELECT span_s, MIN(start_s) AS s FROM operations_rollups GROUP BY span_s ORDER BY span_s').all()).toEqual([{ span_s: 60, s: T0 + 4 * 3600 }, { span_s: 1800, s: T0 + 4 * 3600 }])
    closeDatabase(db)
  })

  it('reads a week of roll-ups by the half hour, ROLLUP_STEP_SPANS a step, the event loop turning between steps', async () => {
    const { db, monitor } = setup()
    // A record every 10 minutes for 7 days.
    for (let i = 0; i < 7 * 144; i++) monitor.record(record(T0 + i * 600, i % 100))
    const { result: summary, turns } = await countingTurns(monitor.summary({ fromS: T0, toS: T0 + 7 * 86_400, side: 'all' }))
    expect(summary.totals).toEqual({ succeeded: 7 * 144, failed: 0 })
    expect(turns).toBeGreaterThanOrEqual(7 * 48 / ROLLUP_STEP_SPANS - 2)
    closeDatabase(db)
  })

  it('splits a range into records, minutes and half hours by its buckets and where the roll-ups begin', () => {
    // A day from 10:07:00: half-hour buckets; the roll-ups began long before.
    expect(rangeParts(T0 + 420, T0 + 86_400 + 420, 1800, 0)).toEqual([[T0 + 420, T0 + 1800, 60], [T0 + 1800, T0 + 86_400, 1800], [T0 + 86_400, T0 + 86_400 + 420, 60]])
    // From an odd second to one: the records at both edges.
    expect(rangeParts(T0 + 421, T0 + 86_400 + 421, 1800, 0)).toEqual([
      [T0 + 421, T0 + 480, 'records'], [T0 + 480, T0 + 1800, 60], [T0 + 1800, T0 + 86_400, 1800], [T0 + 86_400, T0 + 86_400 + 420, 60], [T0 + 86_400 + 420, T0 + 86_400 + 421, 'records'],
    ])
    // Two-minute buckets: minutes only; the roll-ups began at T0 + 600: the records before.
    expect(rangeParts(T0, T0 + 7200, 120, T0 + 600)).toEqual([[T0, T0 + 600, 'records'], [T0 + 600, T0 + 7200, 60]])
    // Under an hour (buckets of seconds), or nothing rolled up yet: the records alone.
    expect(rangeParts(T0, T0 + 1800, 30, 0)).toEqual([[T0, T0 + 1800, 'records']])
    expect(rangeParts(T0, T0 + 7200, 120, T0 + 7200)).toEqual([[T0, T0 + 7200, 'records']])
  })

  it('gives the exact nearest-rank percentiles below EXACT_LATENCY_MS and within 1 % above', () => {
    let seed = 7
    const random = (): number => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31)
    for (let round = 0; round < 300; round++) {
      const values = Array.from({ length: 1 + Math.floor(random() * 400) }, () => Math.floor(random() * (round % 2 === 0 ? EXACT_LATENCY_MS : 200_000)))
      const tally = new LatencyTally()
      for (const v of values) tally.add(v)
      const exact = latencyOf(values)
      const counted = tally.percentiles()
      if (round % 2 === 0) {
        expect(counted).toEqual(exact)
        continue
      }
      expect(counted.count).toBe(exact.count)
      expect(counted.maxMs).toBe(exact.maxMs)
      for (const key of ['p50Ms', 'p90Ms', 'p95Ms', 'p99Ms'] as const) {
        const e = exact[key] as number
        expect(counted[key] as number).toBeLessThanOrEqual(e)
        expect(counted[key] as number).toBeGreaterThanOrEqual(e < EXACT_LATENCY_MS ? e : Math.floor(e / 1.01))
      }
    }
  })

  it('lists failures newest first, by code, service or client, through the admin group that validates the range', async () => {
    const { db, monitor } = setup()
    for (let i = 0; i < 5; i++) monitor.record(record(T0 + i, 10, { succeeded: false, faultCode: 'server.serverproxy.service_failed.http_error', messageId: `LAB-${i}`, statusCode: 502 }))
    monitor.record(record(T0 + 10, 10, { succeeded: false, faultCode: 'client.clientproxy.unknown_service', clientId: OTHER }))
    monitor.record(record(T0 + 11, 10))
    const admin = createOperationsAdmin(() => ({ opMonitor: monitor }) as unknown as AdminDomains)
    const range = { from: new Date(T0 * 1000).toISOString(), to: new Date((T0 + 60) * 1000).toISOString() }
    const all = await admin.failures(range)
    expect(all.map((f) => f.messageId)).toEqual([null, 'LAB-4', 'LAB-3', 'LAB-2', 'LAB-1', 'LAB-0'])
    const http = await admin.failures({ ...range, faultCode: 'server.serverproxy.service_failed.http_error', limit: 2 })
    expect(http).toEqual([
      expect.objectContaining({ messageId: 'LAB-4', side: 'client', servicePath: 'LAB/GOV/2002/provider/pets', clientPath: 'LAB/GOV/1001/consumer', statusCode: 502, durationMs: 10 }),
      expect.objectContaining({ messageId: 'LAB-3' }),
    ])
    expect((await admin.failures({ ...range, client: 'LAB/GOV/1003/other' })).map((f) => f.faultCode)).toEqual(['client.clientproxy.unknown_service'])
    expect((await admin.failures({ ...range, service: 'LAB/GOV/2002/provider/echo' }))).toEqual([])
    await expect(admin.summary({ from: range.to, to: range.from })).rejects.toMatchObject({ code: 'validation_failed', detail: 'to' })
    await expect(admin.summary({ from: '2020-01-01T00:00:00Z', to: '2022-01-01T00:00:00Z' })).rejects.toMatchObject({ code: 'validation_failed', detail: 'from' })
    await expect(admin.failures({ ...range, service: 'not a service' })).rejects.toMatchObject({ code: 'validation_failed' })
    closeDatabase(db)
  })
})

describe('alerts migrations', () => {
  it('0001 creates STRICT alert tables with one active row per condition on a fresh database', () => {
    const db = openDatabase(':memory:')
    expect(migrate(db, [alertsMigrations])).toBe(1)
    expect(schemaVersions(db)).toEqual([{ component: 'alerts', version: 1 }])
    const tables = db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name LIKE 'alert%' ORDER BY name").all() as Array<{ name: string; sql: string }>
    expect(tables.map((t) => t.name)).toEqual(['alert_settings', 'alerts'])
    expect(tables.every((t) => t.sql.trimEnd().endsWith('STRICT'))).toBe(true)
    const insert = db.prepare("INSERT INTO alerts (id, code, severity, message, raised_at, cleared_at) VALUES ('a', 'disk-filling', 'warning', 'm', 't', ?)")
    insert.run('t1')
    insert.run(null)
    expect(() => insert.run(null)).toThrow(/UNIQUE/)
    expect(() => db.prepare("INSERT INTO alerts (id, code, severity, message, raised_at) VALUES ('b', 'x', 'loud', 'm', 't')").run()).toThrow(/CHECK/)
    db.close()
  })
})

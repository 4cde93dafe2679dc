import { describe, expect, it } from 'vitest'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { closeDatabase, createLogger, ManualClock, migrate, openDatabase, silentLogger, type Logger } from '../../src-main/platform'
import { createOpMonitor, opMonitoringMigrations, PURGE_STEP_ROWS, type OperationalRecord } from '../../src-main/op-monitoring'
import { useTempDirs } from '../support/temp-dir'

const tempDir = useTempDirs()

function record(atS: number, succeeded: boolean, extra: Partial<OperationalRecord> = {}): OperationalRecord {
  return {
    monitoringDataTs: atS,
    securityServerType: 'Client',
    requestInTs: atS * 1000,
    responseOutTs: atS * 1000 + 12,
    clientId: 'SUBSYSTEM:LAB/GOV/1/consumer',
    serviceId: 'SERVICE:LAB/GOV/2/provider/echo',
    restMethod: 'GET',
    succeeded,
    ...extra,
  }
}

function setup(flushIntervalMs = 60_000, maxBuffered = 1000, logger: Logger = silentLogger(), maxQueued = 20_000) {
  const db = openDatabase(join(tempDir(), 'opmonitor.sqlite'))
  migrate(db, [opMonitoringMigrations])
  const clock = new ManualClock('2026-11-22T12:00:00Z')
  const monitor = createOpMonitor({ db, clock, logger, settings: { flushIntervalMs, maxBuffered, maxQueued, keepRecordsForDays: 7 } })
  return { db, clock, monitor }
}

/** A logger whose JSON lines land in `lines`. */
function capturingLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = []
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>)
      done()
    },
  })
  return { logger: createLogger({ level: 'info', destination }), lines }
}

describe('operational monitoring', () => {
  it('migration 0001 on a fresh database stores and returns every field', () => {
    const { db, monitor } = setup()
    const full = record(1000, false, {
      requestOutTs: 1000001, responseInTs: 1000010, messageId: 'LAB-1', xRequestId: 'r-1', messageUserId: 'EE123',
      messageIssue: 'case-7', representedParty: 'COM/999', messageProtocolVersion: '4.0', restPath: '/pets',
      clientSecurityServerAddress: '127.0.0.1', serviceSecurityServerAddress: '127.0.0.2', requestSize: 10, responseSize: 20,
      statusCode: 500, faultCode: 'server.serverproxy.access_denied', faultString: 'denied', serviceType: 'REST',
    })
    monitor.record(full)
    expect(monitor.search(0, 2000)).toEqual([full])
    closeDatabase(db)
  })

  it('buffers records and writes them in one batch, in the turn after the buffer fills (never inside the exchange)', async () => {
    const { db, monitor } = setup(60_000, 3)
    const count = (): unknown => db.prepare('SELECT COUNT(*) AS c FROM operational_data').get()
    let commits = 0
    const transaction = db.transaction.bind(db)
    db.transaction = ((work: never) => {
      commits++
      return transaction(work)
    }) as typeof db.transaction
    monitor.record(record(1, true))
    monitor.record(record(2, true))
    expect(count()).toEqual({ c: 0 })
    monitor.record(record(3, true))
    monitor.record(record(4, true))
    // The exchange that filled the buffer is not held up by the write: it happens in the next turn, all waiting at once.
    expect(count()).toEqual({ c: 0 })
    await new Promise((r) => setImmediate(r))
    expect(count()).toEqual({ c: 4 })
    expect(commits).toBe(1)
    closeDatabase(db)
  })

  it('bounds the queue: past maxQueued a record is dropped, counted and reported once at the next write', async () => {
    const { logger, lines } = capturingLogger()
    const { db, monitor } = setup(60_000, 1000, logger, 3)
    for (let s = 1; s <= 5; s++) monitor.record(record(s, true))
    expect(monitor.dropped).toBe(2)
    expect(monitor.search(0, 10).map((r) => r.monitoringDataTs)).toEqual([1, 2, 3])
    monitor.record(record(6, true))
    expect(monitor.dropped).toBe(2)
    monitor.flush()
    logger.flush()
    await new Promise((r) => setImmediate(r))
    expect(lines).toEqual([expect.objectContaining({ level: 'warn', msg: 'operational monitoring records dropped: the queue was full', dropped: 2 })])
    closeDatabase(db)
  })

  it('an orderly close writes every waiting record before the database closes', () => {
    const { db, monitor } = setup(60_000, 1000)
    for (let s = 1; s <= 3; s++) monitor.record(record(s, true))
    expect(db.prepare('SELECT COUNT(*) AS c FROM operational_data').get()).toEqual({ c: 0 })
    monitor.close()
    expect(db.prepare('SELECT COUNT(*) AS c FROM operational_data').get()).toEqual({ c: 3 })
    closeDatabase(db)
  })

  it('counts traffic per bucket by outcome and clips over-long strings', () => {
    const { db, monitor } = setup()
    for (const s of [60, 61, 62, 125]) monitor.record(record(s, s !== 62, { faultString: 'x'.repeat(5000) }))
    expect(monitor.traffic(0, 60)).toEqual([
      { start: 60, succeeded: 2, failed: 1 },
      { start: 120, succeeded: 1, failed: 0 },
    ])
    expect(monitor.search(0, 200)[0]?.faultString).toHaveLength(2048)
    closeDatabase(db)
  })

  it('purges records older than the retention period', async () => {
    const { db, clock, monitor } = setup()
    const now = Math.floor(clock.now().getTime() / 1000)
    monitor.record(record(now - 8 * 86_400, true))
    monitor.record(record(now - 86_400, true))
    monitor.flush()
    expect(await monitor.purge()).toBe(1)
    expect(monitor.search(0, now)).toHaveLength(1)
    closeDatabase(db)
  })

  it('tells whether any exchange was recorded since a time', () => {
    const { db, clock, monitor } = setup()
    const now = Math.floor(clock.now().getTime() / 1000)
    expect(monitor.anyExchangeSince(0)).toBe(false)
    monitor.record(record(now - 60, false))
    expect(monitor.anyExchangeSince(now - 3600)).toBe(true)
    expect(monitor.anyExchangeSince(now - 60)).toBe(true)
    expect(monitor.anyExchangeSince(now - 59)).toBe(false)
    closeDatabase(db)
  })

  it('purges a long backlog in steps, the event loop turning between them, oldest first', async () => {
    const { db, clock, monitor } = setup(60_000, 100_000, silentLogger(), 100_000)
    const now = Math.floor(clock.now().getTime() / 1000)
    const old = PURGE_STEP_ROWS * 2 + 7
    for (let i = 0; i < old; i++) monitor.record(record(now - 9 * 86_400 + i, true))
    monitor.record(record(now - 86_400, true))
    monitor.flush()
    let turns = 0
    const counting = (): void => {
      turns++
      if (!done) setImmediate(counting)
    }
    let done = false
    setImmediate(counting)
    expect(await monitor.purge().finally(() => (done = true))).toBe(old)
    expect(turns).toBeGreaterThanOrEqual(2)
    expect(monitor.search(0, now).map((r) => r.monitoringDataTs)).toEqual([now - 86_400])
    expect(await monitor.purge()).toBe(0)
    closeDatabase(db)
  })

  it('a storage failure drops the batch with a log line but never throws into the exchange', async () => {
    const { logger, lines } = capturingLogger()
    const { db, monitor } = setup(60_000, 1000, logger)
    closeDatabase(db)
    expect(() => {
      monitor.record(record(1, true))
      monitor.record(record(2, true))
      monitor.flush()
    }).not.toThrow()
    logger.flush()
    await new Promise((r) => setImmediate(r))
    expect(lines).toEqual([expect.objectContaining({ level: 'error', msg: 'operational monitoring records could not be stored', dropped: 2 })])
  })

  it('migration 0002 indexes the message id, and outcomes are found by message id (buffered records too)', () => {
    const { db, monitor } = setup()
    expect(db.prepare("SELECT sql FROM sqlite_master WHERE name = 'operational_data_message_id'").get()).toEqual({
      sql: 'CREATE INDEX operational_data_message_id ON operational_data (message_id)',
    })
    monitor.record(record(10, true, { messageId: 'LAB-ok', statusCode: 200 }))
    monitor.record(record(11, false, { messageId: 'LAB-bad', securityServerType: 'Producer', faultCode: 'server.serverproxy.service_failed', faultString: 'down' }))
    monitor.record(record(12, false, { messageId: 'LAB-bad', faultCode: 'server.clientproxy.service_failed', faultString: 'down' }))
    monitor.record(record(13, true, { messageId: 'LAB-other' }))
    // Not flushed yet: `outcomes` flushes first, like `search`.
    const found = monitor.outcomes(['LAB-bad', 'LAB-ok', 'LAB-none'])
    expect(found.map((r) => [r.messageId, r.securityServerType, r.succeeded, r.faultCode])).toEqual([
      ['LAB-ok', 'Client', true, null],
      ['LAB-bad', 'Producer', false, 'server.serverproxy.service_failed'],
      ['LAB-bad', 'Client', false, 'server.clientproxy.service_failed'],
    ])
    expect(found[0]?.statusCode).toBe(200)
    expect(monitor.outcomes([])).toEqual([])
    const plan = db.prepare('EXPLAIN QUERY PLAN SELECT succeeded, fault_code FROM operational_data WHERE message_id IN (?, ?) ORDER BY id').all('a', 'b') as Array<{ detail: string }>
    expect(plan[0]?.detail).toMatch(/^SEARCH operational_data USING INDEX operational_data_message_id \(message_id=\?\)/)
    closeDatabase(db)
  })
})

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import { closeDatabase, ManualClock, migrate, openDatabase, silentLogger } from '../../src-main/platform'
import { createOpMonitor, opMonitoringMigrations, type OperationalRecord } from '../../src-main/op-monitoring'
import { insertOperationalRecords } from '../../src-main/op-monitoring/operational-data-repository'

/**
 * `npx tsx --tsconfig tsconfig.json scripts/bench/operations-summary.ts [--per-second R] [--days D] [--services S] [--clients C]`:
 * what the operations screen's summary costs over a busy server's records. R exchanges a second for D days (default 12
 * for 1: a million records) of a lab's mix (S services and C clients, default 4 and 3, both sides, 3 % failures under
 * 3 fault codes, latencies 2–300 ms and a tail to 20 s), written as the op monitor writes them (batches of 500, roll-ups included: the write's cost a record
 * is shown), then summarised over the last hour, day and week (whole minutes, as the screen asks), from the
 * roll-ups (minutes and half hours) and from the records alone: the time each took and the longest the event loop was held at once.
 */
const FAULTS = ['server.serverproxy.access_denied', 'server.serverproxy.service_failed.http_error', 'client.clientproxy.network_error']

async function main(): Promise<void> {
  const { values } = parseArgs({ options: {
    'per-second': { type: 'string', default: '12' }, days: { type: 'string', default: '1' }, services: { type: 'string', default: '4' }, clients: { type: 'string', default: '3' },
  } })
  const perSecond = Number(values['per-second'])
  const days = Number(values.days)
  const SERVICES = Array.from({ length: Number(values.services) }, (_, i) => `SERVICE:LAB/GOV/2002/provider/service-${i}`)
  const CLIENTS = Array.from({ length: Number(values.clients) }, (_, i) => `SUBSYSTEM:LAB/GOV/1001/client-${i}`)
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-operations-'))
  const db = openDatabase(join(dir, 'opmonitor.sqlite'))
  try {
    migrate(db, [opMonitoringMigrations])
    const endS = Math.floor(Date.now() / 60_000) * 60
    const startS = endS - days * 86_400
    const total = Math.floor(days * 86_400 * perSecond)
    let seed = 7
    const random = (n: number): number => Math.floor(((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31) * n)
    let writeMs = 0
    for (let i = 0; i < total;) {
      const batch: OperationalRecord[] = []
      for (; batch.length < 500 && i < total; i++) {
        const atS = startS + Math.floor(i / perSecond)
        const ms = random(50) === 0 ? 300 + random(20_000) : 2 + random(300)
        const failed = random(33) === 0
        batch.push({
          monitoringDataTs: atS, securityServerType: random(2) === 0 ? 'Client' : 'Producer', requestInTs: atS * 1000, responseOutTs: atS * 1000 + ms,
          clientId: CLIENTS[random(CLIENTS.length)], serviceId: SERVICES[random(SERVICES.length)], succeeded: !failed,
          ...(failed ? { faultCode: FAULTS[random(FAULTS.length)] } : {}),
        })
      }
      const began = performance.now()
      insertOperationalRecords(db, batch)
      writeMs += performance.now() - began
    }
    const rollups = (db.prepare('SELECT COUNT(*) AS n FROM operations_rollups').get() as { n: number }).n
    process.stdout.write(`${total} records over ${days} day(s), ${rollups} roll-up rows; writing ${((writeMs * 1000) / total).toFixed(1)} µs a record (batches of 500, roll-ups included)\n`)
    const monitor = createOpMonitor({ db, clock: new ManualClock(endS * 1000), logger: silentLogger(), settings: { keepRecordsForDays: 30 } })
    for (const [label, seconds] of [['hour', 3600], ['day', 86_400], ['week', 7 * 86_400]] as const) {
      if (seconds > days * 86_400 * 7) continue
      for (const source of ['roll-ups', 'records'] as const) {
        db.prepare('UPDATE operations_rollup_state SET from_minute_s = ?').run(source === 'records' ? Number.MAX_SAFE_INTEGER : 0)
        const delay = monitorEventLoopDelay({ resolution: 1 })
        delay.enable()
        const began = performance.now()
        const summary = await monitor.summary({ fromS: endS - seconds, toS: endS, side: 'all' })
        const took = performance.now() - began
        await new Promise((resolve) => setTimeout(resolve, 5))
        delay.disable()
        process.stdout.write(`  last ${label}, from the ${source}: ${(took / 1000).toFixed(3)} s, event loop held at most ${(delay.max / 1e6).toFixed(1)} ms; ${summary.totals.succeeded + summary.totals.failed} exchanges, p99 ${summary.latency.p99Ms} ms\n`)
      }
    }
  } finally {
    closeDatabase(db)
    rmSync(dir, { recursive: true, force: true })
  }
}

void main()

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { ManualClock, closeDatabase, silentLogger } from '../../src-main/platform'
import { writeSystemParameter } from '../../src-main/server-conf'
import { appendAuditEntry, listAuditEntries, verifyAuditLog } from '../../src-main/audit-log'
import type { GlobalConf } from '../../src-main/global-conf'
import { dataDirLayout, openServerConfDatabase } from '../../src-main/server'
import { createSecurityServerCore, selectedTsas, type SecurityServerCore } from '../../src-main/server/security-server-core'
import { applySystemParameters } from '../../src-main/server/system-parameters'

/** Administrator settings (the admin `settings` group) reach the domains they govern when the core is built. */
const dirs: string[] = []
const cores: SecurityServerCore[] = []
afterEach(async () => {
  for (const core of cores.splice(0)) await core.close()
  dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true }))
})

function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'gh-sysparam-'))
  dirs.push(dir)
  return dir
}

function store(dir: string, values: Record<string, string>): void {
  const db = openServerConfDatabase(dataDirLayout(dir))
  try {
    for (const [name, value] of Object.entries(values)) writeSystemParameter(db, name, value, new Date())
  } finally {
    closeDatabase(db)
  }
}

const clock = new ManualClock('2025-03-01T12:00:00Z')

describe('stored system parameters', () => {
  it('govern the message log, operational monitoring and OCSP fetching of the next core', async () => {
    const dir = dataDir()
    store(dir, {
      'message-log.keep-records-for': '12',
      'message-log.archive-interval': '600',
      'message-log.message-body-logging': 'false',
      'message-log.acceptable-timestamp-failure-period': '0',
      'message-log.evidence-loss-fail-closed': 'false',
      'op-monitor.keep-records-for-days': '2',
      'signer.ocsp-fetch-interval': '300',
      'configuration-client.update-interval': '5',
    })
    const core = createSecurityServerCore(dataDirLayout(dir), clock, silentLogger(), { messageLog: { keepRecordsForDays: 99, timeStampingIntervalSeconds: 120 } })
    cores.push(core)
    expect(core.messageLog.settings).toMatchObject({
      keepRecordsForDays: 12, archiveIntervalSeconds: 600, messageBodyLogging: false, acceptableTimestampFailurePeriodSeconds: 0,
      evidenceLossFailClosed: false,
      // Not an administrator setting: the caller's override stands.
      timeStampingIntervalSeconds: 120,
      archiveDir: dataDirLayout(dir).archiveDir,
    })
    expect(core.parameters.ocspFetchIntervalSeconds).toBe(300)
    expect(core.parameters.confUpdateIntervalSeconds).toBe(5)

    // Monitoring retention of 2 days: a 3-day-old record is purged, a 1-day-old one kept.
    const nowS = Math.floor(clock.now().getTime() / 1000)
    const record = (ageDays: number) => ({
      monitoringDataTs: nowS - ageDays * 86_400, securityServerType: 'Client' as const, requestInTs: 1, responseOutTs: 2, succeeded: true,
    })
    core.opMonitor.record(record(3))
    core.opMonitor.record(record(1))
    core.opMonitor.flush()
    expect(await core.opMonitor.purge()).toBe(1)
    expect(core.opMonitor.search(0, nowS + 1)).toHaveLength(1)
  })

  it('leave X-Road defaults without stored values and ignore values out of range', async () => {
    const dir = dataDir()
    store(dir, { 'message-log.keep-records-for': '-4', 'message-log.message-body-logging': 'yes', 'no.such.parameter': '1' })
    const core = createSecurityServerCore(dataDirLayout(dir), clock, silentLogger())
    cores.push(core)
    expect(core.messageLog.settings).toMatchObject({ keepRecordsForDays: 30, messageBodyLogging: true, timeStampingIntervalSeconds: 60, evidenceLossFailClosed: true })
    expect(core.parameters.ocspFetchIntervalSeconds).toBeUndefined()
    expect(applySystemParameters(new Map([['signer.ocsp-fetch-interval', '59']]), silentLogger())).toEqual({
      messageLog: {}, opMonitor: {}, envMonitorLimitRemoteDataSet: false, auditLogKeepDays: 0, backup: { intervalHours: 24, keepScheduled: 7 }, clientTlsAllowTls13: false,
    })
    expect(applySystemParameters(new Map([['proxy.client-tls-allow-tls13', 'true']]), silentLogger()).clientTlsAllowTls13).toBe(true)
    expect(applySystemParameters(new Map([['audit-log.keep-entries-for', '90'], ['backup.interval-hours', '6'], ['backup.keep-scheduled', '0']]), silentLogger()))
      .toMatchObject({ auditLogKeepDays: 90, backup: { intervalHours: 6, keepScheduled: 7 } })
    expect(applySystemParameters(new Map([['configuration-client.update-interval', '0']]), silentLogger()).confUpdateIntervalSeconds).toBeUndefined()
    // The server proxy's minimum client version: unset or empty is no minimum; a malformed one is ignored.
    expect(applySystemParameters(new Map([['proxy.server-min-supported-client-version', '7.1.3']]), silentLogger()).minSupportedClientVersion).toBe('7.1.3')
    expect(applySystemParameters(new Map([['proxy.server-min-supported-client-version', '']]), silentLogger()).minSupportedClientVersion).toBeUndefined()
    expect(applySystemParameters(new Map([['proxy.server-min-supported-client-version', 'seven']]), silentLogger()).minSupportedClientVersion).toBeUndefined()
  })

  it('set the operational data limits, health statistics period, clean interval and remote data set of X-Road', async () => {
    const dir = dataDir()
    store(dir, {
      'op-monitor.max-records-in-payload': '2', 'op-monitor.records-available-timestamp-offset-seconds': '0',
      'op-monitor.health-statistics-period-seconds': '60', 'op-monitor.clean-interval': '0 30 3 * * ?',
      'env-monitor.limit-remote-data-set': 'true',
    })
    const core = createSecurityServerCore(dataDirLayout(dir), clock, silentLogger())
    cores.push(core)
    expect(core.parameters).toMatchObject({
      opMonitor: { maxRecordsInPayload: 2, recordsAvailableTimestampOffsetSeconds: 0, healthStatisticsPeriodSeconds: 60 },
      opMonitorCleanInterval: '0 30 3 * * ?', envMonitorLimitRemoteDataSet: true,
    })
    const nowS = Math.floor(clock.now().getTime() / 1000)
    for (const t of [nowS - 3, nowS - 2, nowS - 1]) {
      core.opMonitor.record({ monitoringDataTs: t, securityServerType: 'Producer', requestInTs: t * 1000, responseOutTs: t * 1000 + 5, succeeded: true })
    }
    // No offset: the last second is served at once; two records, then where to go on.
    const result = core.opMonitor.operationalData({ recordsFrom: 0, recordsTo: nowS - 1, outputFields: new Set(['monitoringDataTs']) }, undefined)
    expect(result).toEqual({ records: [{ monitoringDataTs: nowS - 3 }, { monitoringDataTs: nowS - 2 }], nextRecordsFrom: nowS - 1 })
    expect(core.opMonitor.healthData().statisticsPeriodSeconds).toBe(60)
    // A cron expression outside what X-Road's Quartz reads here is ignored.
    expect(applySystemParameters(new Map([['op-monitor.clean-interval', '0 0 0 L * ?']]), silentLogger()).opMonitorCleanInterval).toBeUndefined()

    // Changed at run time, applied at once.
    const db = core.databases.serverConf
    writeSystemParameter(db, 'op-monitor.max-records-in-payload', '10', new Date())
    core.applySystemParameters()
    expect(core.opMonitor.operationalData({ recordsFrom: 0, recordsTo: nowS - 1, outputFields: new Set() }, undefined).records).toHaveLength(3)
  })

  it('prune audit-log entries older than `audit-log.keep-entries-for` at start, recording the pruning, and the chain still verifies', async () => {
    const dir = dataDir()
    store(dir, { 'audit-log.keep-entries-for': '10' })
    const db = openServerConfDatabase(dataDirLayout(dir))
    for (const [i, at] of ['2025-01-01T00:00:00.000Z', '2025-02-01T00:00:00.000Z', '2025-02-27T00:00:00.000Z'].entries()) {
      appendAuditEntry(db, { at, actor: 'alice', event: 'settings.set', outcome: 'success', object: `p${i}`, data: {}, errorCode: null })
    }
    closeDatabase(db)
    const core = createSecurityServerCore(dataDirLayout(dir), clock, silentLogger())
    cores.push(core)
    await core.start()
    const entries = listAuditEntries(core.databases.local)
    expect(entries.map((e) => [e.event, e.object])).toEqual([['audit.prune', 'audit log'], ['settings.set', 'p2']])
    expect(entries[0]?.data).toMatchObject({ pruned: 2, anchor: { id: 2 } })
    expect(verifyAuditLog(core.databases.local)).toMatchObject({ ok: true, entries: 2, anchor: { lastPrunedId: 2, entriesPruned: 2 } })
  })
})

describe('time-stamping service selection', () => {
  const tsa = (name: string) => ({ name, url: `http://${name}.example/`, cert: new Uint8Array([1]) })
  const conf = { getTsas: () => [tsa('A'), tsa('B'), tsa('C')] } as unknown as GlobalConf

  it('uses the selection in its order, skips TSAs no longer approved, and falls back to configuration order', () => {
    expect(selectedTsas(conf, []).map((t) => t.name)).toEqual(['A', 'B', 'C'])
    expect(selectedTsas(conf, ['C', 'A']).map((t) => t.name)).toEqual(['C', 'A'])
    expect(selectedTsas(conf, ['Gone', 'B']).map((t) => t.name)).toEqual(['B'])
    expect(selectedTsas(undefined, ['A'])).toEqual([])
  })

  it('is stored in server configuration and validated', () => {
    const core = createSecurityServerCore(dataDirLayout(dataDir()), clock, silentLogger())
    cores.push(core)
    expect(core.serverConf.timestampingServices()).toEqual([])
    expect(core.serverConf.selectTimestampingServices(['B', ' A '])).toEqual(['B', 'A'])
    expect(() => core.serverConf.selectTimestampingServices(['A', 'A'])).toThrow(expect.objectContaining({ code: 'validation_failed' }))
    expect(() => core.serverConf.selectTimestampingServices([''])).toThrow(expect.objectContaining({ code: 'validation_failed' }))
    expect(core.serverConf.timestampingServices()).toEqual(['B', 'A'])
    expect(core.serverConf.selectTimestampingServices([])).toEqual([])
  })
})

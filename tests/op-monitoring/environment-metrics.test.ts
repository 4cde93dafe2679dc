import { spawnSync } from 'node:child_process'
import { existsSync, writeFileSync } from 'node:fs'
import { totalmem } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { memberId, securityServerId } from '@shared/domain/identifiers'
import { ManualClock, parseXml } from '../../src-main/platform'
import { createEnvironmentMonitor, metricsResponseXml, type Metric, type MetricsContext } from '../../src-main/op-monitoring'
import { describeFixtures } from '../support/describe-fixtures'
import { fixturePath } from '../support/fixtures'
import { XMLLINT, itWith } from '../support/requirements'
import { useTempDirs } from '../support/temp-dir'

const tempDir = useTempDirs()
const SERVER = securityServerId(memberId('DEV', 'COM', '1234'), 'SS0')
const CERT = {
  sha1Hash: 'A1B2', notBefore: new Date('2026-01-01T00:00:00Z'), notAfter: new Date('2028-01-01T00:00:00Z'),
  certificateType: 'AUTH_OR_SIGN' as const, active: true,
}

function context(over: Partial<MetricsContext> = {}): MetricsContext {
  return { owner: true, limitRemoteDataSet: false, certificates: [CERT], dataDir: tempDir(), ...over }
}

function names(set: Metric): string[] {
  return set.kind === 'set' ? set.metrics.map((m) => m.name) : []
}

function find(set: Metric, name: string): Metric | undefined {
  return set.kind === 'set' ? set.metrics.find((m) => m.name === name) : undefined
}

describe('environmental metrics', () => {
  it('measures what the system reports: OS, memory, disk, CPU load and descriptor histograms, certificates', async () => {
    const clock = new ManualClock('2026-11-22T12:00:00Z')
    const monitor = createEnvironmentMonitor({ clock })
    monitor.sample()
    clock.advance(5000)
    monitor.sample()
    const metrics = await monitor.systemMetrics(['OperatingSystem', 'TotalPhysicalMemory', 'FreePhysicalMemory', 'SystemCpuLoad', 'DiskSpaceTotal_/', 'DiskSpaceFree_/', 'Certificates'], context())
    expect(metrics.name).toBe('systemMetrics')
    expect(find(metrics, 'TotalPhysicalMemory')).toEqual({ kind: 'numeric', name: 'TotalPhysicalMemory', value: totalmem() })
    const os = find(metrics, 'OperatingSystem')
    expect(os?.kind).toBe('string')
    if (existsSync('/proc/version')) expect((os as { value: string }).value).toMatch(/^Linux version /)
    const free = find(metrics, 'FreePhysicalMemory')
    expect(free).toMatchObject({ kind: 'histogram', updated: clock.now() })
    const f = free as { min: number; max: number; median: number }
    expect(f.min).toBeGreaterThan(0)
    expect(f.min).toBeLessThanOrEqual(f.median)
    expect(f.median).toBeLessThanOrEqual(f.max)
    expect(f.max).toBeLessThanOrEqual(totalmem())
    const load = find(metrics, 'SystemCpuLoad') as { min: number; max: number } | undefined
    if (load !== undefined) {
      expect(load.min).toBeGreaterThanOrEqual(0)
      expect(load.max).toBeLessThanOrEqual(100)
    }
    const disk = find(metrics, 'DiskSpaceTotal_/') as { value: number } | undefined
    expect(disk?.value).toBeGreaterThan(0)
    expect((find(metrics, 'DiskSpaceFree_/') as { value: number }).value).toBeLessThanOrEqual(disk!.value)
    expect(find(metrics, 'Certificates')).toEqual({
      kind: 'set', name: 'Certificates', metrics: [{
        kind: 'set', name: 'certificate-A1B2', metrics: [
          { kind: 'string', name: 'sha1Hash', value: 'A1B2' }, { kind: 'string', name: 'notBefore', value: '2026-01-01T00:00:00Z' },
          { kind: 'string', name: 'notAfter', value: '2028-01-01T00:00:00Z' }, { kind: 'string', name: 'certificateType', value: 'AUTH_OR_SIGN' },
          { kind: 'string', name: 'active', value: 'true' },
        ],
      }],
    })
    // Only what was asked for.
    expect(names(metrics).every((n) => ['OperatingSystem', 'TotalPhysicalMemory', 'FreePhysicalMemory', 'SystemCpuLoad', 'DiskSpaceTotal_/', 'DiskSpaceFree_/', 'Certificates'].includes(n))).toBe(true)
  })

  it('lists this process among the processes where ps is available', async () => {
    const monitor = createEnvironmentMonitor({ clock: new ManualClock() })
    const metrics = await monitor.systemMetrics(['Processes', 'Xroad Processes'], context())
    const ps = spawnSync('ps', ['-aew', '--format', 'pid'], { encoding: 'utf8' })
    if (ps.status !== 0) {
      expect(find(metrics, 'Processes')).toBeUndefined()
      return
    }
    const own = find(metrics, 'Xroad Processes')
    expect(own).toMatchObject({ kind: 'set', metrics: [{ kind: 'set', name: String(process.pid) }] })
    expect(names(find(metrics, 'Processes')!)).toContain(String(process.pid))
  })

  it('gives others than the owner only the OS and certificates when the remote data set is limited', async () => {
    const monitor = createEnvironmentMonitor({ clock: new ManualClock() })
    monitor.sample()
    expect(names(await monitor.systemMetrics([], context({ owner: false, limitRemoteDataSet: true })))).toEqual(['Certificates', 'OperatingSystem'])
    const all = names(await monitor.systemMetrics([], context({ owner: false, limitRemoteDataSet: false })))
    expect(all).toContain('TotalPhysicalMemory')
    expect(all).toContain('FreePhysicalMemory')
  })
})

describeFixtures('metrics answer against monitoring.xsd', () => {
  itWith([XMLLINT], 'the full answer validates, numbers as xs:decimal', async () => {
    const monitor = createEnvironmentMonitor({ clock: new ManualClock('2026-11-22T12:00:00Z') })
    monitor.sample()
    const xml = metricsResponseXml(SERVER, '7.8.0-gatehouse', await monitor.systemMetrics([], context()))
    const doc = parseXml(xml).documentElement!
    const ns = 'http://x-road.eu/xsd/monitoring'
    const top = doc.getElementsByTagNameNS(ns, 'metricSet')[0]!
    expect(top.getElementsByTagNameNS(ns, 'name')[0]!.textContent).toBe('SERVER:DEV/COM/1234/SS0')
    expect(xml).toContain('<m:stringMetric><m:name>proxyVersion</m:name><m:value>7.8.0-gatehouse</m:value></m:stringMetric><m:metricSet><m:name>systemMetrics</m:name>')
    const file = join(tempDir(), 'metrics.xml')
    writeFileSync(file, xml)
    const lint = spawnSync('xmllint', ['--noout', '--nonet', '--schema', fixturePath('schemas/proxymonitor/monitoring.xsd'), file], { encoding: 'utf8' })
    expect(`${lint.stdout}${lint.stderr}`).toContain('validates')
    expect(lint.status).toBe(0)
    writeFileSync(file, xml.replace(/<m:value>(\d+)<\/m:value><\/m:numericMetric>/, '<m:value>1e5</m:value></m:numericMetric>'))
    expect(spawnSync('xmllint', ['--noout', '--nonet', '--schema', fixturePath('schemas/proxymonitor/monitoring.xsd'), file]).status).not.toBe(0)
  })
})

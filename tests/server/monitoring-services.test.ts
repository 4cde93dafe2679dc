import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { memberId, serviceId, subsystemId } from '@shared/domain/identifiers'
import { loadOrCreateAdminTls } from '../../src-main/admin/admin-tls'
import { answerMonitoringQuery } from '../../src-main/op-monitoring'
import { ManualClock, silentLogger } from '../../src-main/platform'
import { dataDirLayout } from '../../src-main/server'
import { writeSystemParameter } from '../../src-main/server-conf'
import { monitoringQueryDeps } from '../../src-main/server/monitoring-services'
import { createSecurityServerCore, type SecurityServerCore } from '../../src-main/server/security-server-core'

const dirs: string[] = []
const cores: SecurityServerCore[] = []
afterEach(async () => {
  for (const core of cores.splice(0)) await core.close()
  dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true }))
})

const OWNER = memberId('DEV', 'COM', '1234')
const metricsRequest = (names: string[]): string =>
  '<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:m="http://x-road.eu/xsd/monitoring"><SOAP-ENV:Body>' +
  `<m:getSecurityServerMetrics><m:outputSpec>${names.map((n) => `<m:outputField>${n}</m:outputField>`).join('')}</m:outputSpec>` +
  '</m:getSecurityServerMetrics></SOAP-ENV:Body></SOAP-ENV:Envelope>'

describe('monitoring services of a running server', () => {
  it('know this server, its owner and certificates from the current state; nothing before the server has an identity', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-monitoring-'))
    dirs.push(dir)
    const clock = new ManualClock('2026-11-22T12:00:00Z')
    const core = createSecurityServerCore(dataDirLayout(dir), clock, silentLogger())
    cores.push(core)
    expect(monitoringQueryDeps(core, undefined)).toBeUndefined()

    core.serverConf.initialize(OWNER, 'SS0')
    await loadOrCreateAdminTls(core.layout.tlsDir, clock)
    const deps = monitoringQueryDeps(core, undefined)!
    expect(deps.serverId).toMatchObject({ serverCode: 'SS0', memberCode: '1234' })
    expect(deps.parties.monitoringClient).toBeUndefined()
    const service = serviceId(OWNER, 'getSecurityServerMetrics')
    const answer = await answerMonitoringQuery('metrics', { client: OWNER, service }, metricsRequest(['Certificates', 'TotalPhysicalMemory']), deps)
    expect(answer.bodyXml).toContain('<m:name>SERVER:DEV/COM/1234/SS0</m:name>')
    expect(answer.bodyXml).toMatch(/<m:name>certificateType<\/m:name><m:value>SECURITY_SERVER_TLS<\/m:value>/)
    expect(answer.bodyXml).toMatch(/<m:metricSet><m:name>certificate-([0-9A-F]{2}:){31}[0-9A-F]{2}<\/m:name><m:stringMetric><m:name>sha1Hash<\/m:name>/)
    expect(answer.bodyXml).toContain('<m:name>TotalPhysicalMemory</m:name>')

    // env-monitor.limit-remote-data-set applies to the monitoring client at once, not to the owner.
    const monitoring = subsystemId('DEV', 'GOV', '1', 'MON')
    const limited = { ...deps, parties: { ...deps.parties, monitoringClient: monitoring } }
    writeSystemParameter(core.databases.serverConf, 'env-monitor.limit-remote-data-set', 'true', clock.now())
    core.applySystemParameters()
    const remote = await answerMonitoringQuery('metrics', { client: monitoring, service }, metricsRequest([]), limited)
    expect(remote.bodyXml).not.toContain('TotalPhysicalMemory')
    expect(remote.bodyXml).toContain('<m:name>OperatingSystem</m:name>')
  })
})

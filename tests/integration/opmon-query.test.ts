import { spawnSync } from 'node:child_process'
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { XMLSerializer } from '@xmldom/xmldom'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { identifierToXml, serviceId, type ClientId, type SecurityServerId, type ServiceId } from '@shared/domain/identifiers'
import { findRecordsByQueryId } from '../../src-main/message-log'
import { parseXml } from '../../src-main/platform'
import { splitMultipart } from '../../src-main/proxy'
import { writeSystemParameter } from '../../src-main/server-conf'
import { decodeSoapMessage, type SoapMessage } from '../../src-main/soap'
import { describeFixtures } from '../support/describe-fixtures'
import { fixturePath, readFixture } from '../support/fixtures'
import { readYamlSchema, schemaErrors } from '../support/json-schema-check'
import { XMLLINT, itWith } from '../support/requirements'
import { startLabPair, type LabPair } from './lab-pair'

/**
 * X-Road's monitoring requests from the fixtures, sent by the consumer's information system through its client proxy
 * to the provider's security server, which answers them itself (PR-OPMON, PR-ENVMONMES): the fixture requests keep
 * their bodies, their headers name the lab's consumer, the provider's owner and its server. Answers are signed and
 * logged like any, and validate against op-monitoring.xsd and the records' JSON schema.
 */
let pair: LabPair
let schemaDir: string
const OM = 'http://x-road.eu/xsd/op-monitoring.xsd'

let sequence = 0

/** A fixture request with its header naming `client`, the service `code` of the provider's owner and the provider's server. */
function retarget(fixture: string, client: ClientId, code: string, server: SecurityServerId = pair.provider.serverId): { id: string; bytes: Buffer } {
  const id = `opmon-${++sequence}-${Date.now()}`
  const text = readFixture(fixture).toString('utf8')
    .replace(/<xroad:client [\s\S]*?<\/xroad:client>/, identifierToXml(client, 'xroad:client'))
    .replace(/<xroad:service [\s\S]*?<\/xroad:service>/, identifierToXml(serviceId(pair.provider.member, code), 'xroad:service'))
    .replace(/<xroad:securityServer [\s\S]*?<\/xroad:securityServer>/, identifierToXml(server, 'xroad:securityServer'))
    .replace(/<xroad:id>[^<]*<\/xroad:id>/, `<xroad:id>${id}</xroad:id>`)
  return { id, bytes: Buffer.from(text, 'utf8') }
}

async function post(body: Buffer, clientProxyUrl = pair.consumer.clientProxyUrl) {
  const response = await fetch(`${clientProxyUrl}/`, { method: 'POST', headers: { 'Content-Type': 'text/xml; charset=UTF-8' }, body })
  const bytes = Buffer.from(await response.arrayBuffer())
  const contentType = response.headers.get('content-type') ?? ''
  const decoded = decodeSoapMessage(contentType, bytes, splitMultipart)
  return { status: response.status, contentType, decoded, fault: decoded.soap.kind === 'fault' ? decoded.soap.faultCode : undefined }
}

/** The body's answer element on its own, for xmllint against op-monitoring.xsd. */
function validateAnswer(soap: SoapMessage, localName: string): void {
  const answer = parseXml(soap.bytes).documentElement!.getElementsByTagNameNS(OM, localName)[0]
  expect(answer, `${localName} in the body`).toBeDefined()
  const file = join(schemaDir, `${localName}-${sequence}.xml`)
  writeFileSync(file, new XMLSerializer().serializeToString(answer as never))
  const lint = spawnSync('xmllint', ['--noout', '--nonet', '--schema', join(schemaDir, 'op-monitoring.xsd'), file], { encoding: 'utf8' })
  expect(`${lint.stdout}${lint.stderr}`).toContain('validates')
  expect(lint.status).toBe(0)
}

describeFixtures('monitoring queries between two security servers', () => {
  beforeAll(async () => {
    pair = await startLabPair()
    // One REST exchange for the records; the provider serves the newest records at once (no hold-back offset).
    const core = pair.provider.server.core
    writeSystemParameter(core.databases.serverConf, 'op-monitor.records-available-timestamp-offset-seconds', '0', new Date())
    core.applySystemParameters()
    const res = await fetch(`${pair.consumer.clientProxyUrl}/r1/LAB/GOV/2002/provider/pets/pets/1`, { headers: { 'X-Road-Client': 'LAB/GOV/1001/consumer' } })
    expect(res.status).toBe(200)
    await new Promise((resolve) => setTimeout(resolve, 1100))
    schemaDir = mkdtempSync(join(tmpdir(), 'gatehouse-opmon-xsd-'))
    for (const name of ['op-monitoring.xsd', 'swaref.xsd']) copyFileSync(fixturePath('schemas/opmonitor', name), join(schemaDir, name))
    copyFileSync(fixturePath('schemas/common-domain/identifiers.xsd'), join(schemaDir, 'identifiers.xsd'))
  }, 120_000)

  afterAll(async () => {
    await pair?.close()
    if (schemaDir) rmSync(schemaDir, { recursive: true, force: true })
  })

  itWith([XMLLINT], 'getSecurityServerOperationalData: the consumer gets its own records as a gzip JSON attachment, signed and logged', async () => {
    const request = retarget('messages/system-test-soap/operational-data.request', pair.consumer.subsystem, 'getSecurityServerOperationalData')
    const res = await post(request.bytes)
    expect(res.fault).toBeUndefined()
    expect(res.contentType).toMatch(/^multipart\/related; type="text\/xml"/)
    const soap = res.decoded.soap as SoapMessage
    expect(soap.header.id).toBe(request.id)
    expect(soap.header.requestHash).toBeDefined()
    validateAnswer(soap, 'getSecurityServerOperationalDataResponse')
    const body = parseXml(soap.bytes).documentElement!
    expect(body.getElementsByTagNameNS(OM, 'records')[0]!.textContent).toBe('cid:operational-monitoring-data.json.gz')
    // The fixture asks up to 2031: the answer stops before now and says where to continue.
    expect(Number(body.getElementsByTagNameNS(OM, 'nextRecordsFrom')[0]!.textContent)).toBeGreaterThan(Date.now() / 1000 - 10)

    expect(res.decoded.attachments).toHaveLength(1)
    const attachment = res.decoded.attachments[0]!
    expect(attachment.contentType).toBe('application/gzip')
    expect(attachment.headers).toEqual(expect.arrayContaining([['Content-ID', '<operational-monitoring-data.json.gz>']]))
    const payload = JSON.parse(gunzipSync(attachment.body).toString('utf8')) as { records: Array<Record<string, unknown>> }
    expect(schemaErrors(readYamlSchema(fixturePath('schemas/opmonitor/query_operational_data_response_payload_schema.yaml')), payload)).toEqual([])
    expect(Number(body.getElementsByTagNameNS(OM, 'recordsCount')[0]!.textContent)).toBe(payload.records.length)
    // The REST exchange as the provider recorded it; the consumer is not the owner, so only records naming it.
    expect(payload.records).toEqual(expect.arrayContaining([expect.objectContaining({
      securityServerType: 'Producer', clientMemberCode: '1001', clientSubsystemCode: 'consumer', serviceCode: 'pets', succeeded: true,
    })]))
    expect(payload.records.every((r) => r.clientSubsystemCode === 'consumer' || r.serviceSubsystemCode === 'consumer')).toBe(true)

    // Logged on both sides like any exchange.
    for (const side of [pair.consumer, pair.provider]) {
      expect(findRecordsByQueryId(side.server.core.databases.messageLog, request.id).map((r) => r.response)).toEqual([false, true])
    }
  })

  itWith([XMLLINT], 'getSecurityServerHealthData: the provider subsystem\'s services with the period statistics', async () => {
    const request = retarget('messages/system-test-soap/health-data.request', pair.consumer.subsystem, 'getSecurityServerHealthData')
    const filtered = Buffer.from(request.bytes.toString('utf8')
      .replace(/<om:client [\s\S]*?<\/om:client>/, identifierToXml(pair.provider.subsystem, 'om:client')), 'utf8')
    const res = await post(filtered)
    expect(res.fault).toBeUndefined()
    expect(res.contentType).toBe('text/xml; charset=UTF-8')
    const soap = res.decoded.soap as SoapMessage
    validateAnswer(soap, 'getSecurityServerHealthDataResponse')
    const text = soap.bytes.toString('utf8')
    expect(text).toContain('<id:serviceCode>pets</id:serviceCode>')
    expect(Number(/<om:successfulRequestCount>(\d+)</.exec(text)?.[1])).toBeGreaterThanOrEqual(1)
    expect(text).toContain('<om:statisticsPeriodSeconds>600</om:statisticsPeriodSeconds>')
  })

  it('refuses a bad query with the op-monitor daemon\'s fault, and metrics to a client neither owner nor monitoring client', async () => {
    const bad = retarget('messages/system-test-soap/operational-data.request', pair.consumer.subsystem, 'getSecurityServerOperationalData')
    const reversed = Buffer.from(bad.bytes.toString('utf8').replace('<om:recordsFrom>0</om:recordsFrom>', '<om:recordsFrom>99</om:recordsFrom>')
      .replace(/<om:recordsTo>\d+<\/om:recordsTo>/, '<om:recordsTo>98</om:recordsTo>'), 'utf8')
    expect((await post(reversed)).fault).toBe('server.serverproxy.opmonitor.client.invalid_request')
    const metrics = retarget('messages/proxymonitor/queries/getMetrics.query', pair.consumer.subsystem, 'getSecurityServerMetrics')
    expect((await post(metrics.bytes)).fault).toBe('server.serverproxy.access_denied')
  })

  itWith([XMLLINT], 'getSecurityServerMetrics: the owner asks its own server through its client proxy and gets what the system measures', async () => {
    const request = retarget('messages/proxymonitor/queries/getMetrics.query', pair.provider.member, 'getSecurityServerMetrics')
    const res = await post(request.bytes, pair.provider.clientProxyUrl)
    expect(res.fault).toBeUndefined()
    const soap = res.decoded.soap as SoapMessage
    const answer = parseXml(soap.bytes).documentElement!.getElementsByTagNameNS('http://x-road.eu/xsd/monitoring', 'getSecurityServerMetricsResponse')[0]!
    const file = join(schemaDir, 'metrics.xml')
    writeFileSync(file, new XMLSerializer().serializeToString(answer as never))
    const lint = spawnSync('xmllint', ['--noout', '--nonet', '--schema', fixturePath('schemas/proxymonitor/monitoring.xsd'), file], { encoding: 'utf8' })
    expect(`${lint.stdout}${lint.stderr}`).toContain('validates')
    const text = soap.bytes.toString('utf8')
    expect(text).toContain(`<m:name>SERVER:LAB/GOV/2002/${pair.provider.serverId.serverCode}</m:name>`)
    expect(text).toMatch(/<m:numericMetric><m:name>TotalPhysicalMemory<\/m:name><m:value>\d+<\/m:value>/)
    expect(text).toContain('<m:value>AUTH_OR_SIGN</m:value>')
  })

  it('does not answer a monitoring service of another provider than the owner: that is an ordinary unknown service', async () => {
    const request = retarget('messages/system-test-soap/operational-data.request', pair.consumer.subsystem, 'getSecurityServerOperationalData')
    const other: ServiceId = serviceId(pair.provider.subsystem, 'getSecurityServerOperationalData')
    const text = request.bytes.toString('utf8').replace(/<xroad:service [\s\S]*?<\/xroad:service>/, identifierToXml(other, 'xroad:service'))
    const res = await post(Buffer.from(text, 'utf8'))
    expect(res.fault).toBe('server.serverproxy.unknown_service')
  })
})

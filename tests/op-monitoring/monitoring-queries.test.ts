import { spawnSync } from 'node:child_process'
import { copyFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import {
  encodeIdentifier, memberId, securityServerId, serviceId, subsystemId, type ClientId,
} from '@shared/domain/identifiers'
import { closeDatabase, ManualClock, migrate, openDatabase, parseXml, silentLogger, SecurityServerError } from '../../src-main/platform'
import { boundaryOf, parseMultipart } from '../../src-main/proxy'
import {
  answerMonitoringQuery, checkMetricsAccess, createEnvironmentMonitor, createOpMonitor, monitoringHandlerFor, monitoringResponseMessage, healthDataResponseXml, monitoringServiceOf, operationalDataClientFilter,
  operationalDataResponse, opMonitoringMigrations, parseHealthDataRequest, parseMetricsRequest, parseOperationalDataRequest,
  OPERATIONAL_DATA_CONTENT_ID, type OperationalDataRequest, type OperationalRecord, type OpMonitorSettings,
} from '../../src-main/op-monitoring'
import { describeFixtures } from '../support/describe-fixtures'
import { fixturePath, readFixture } from '../support/fixtures'
import { declaredItemProperties, readYamlSchema, schemaErrors } from '../support/json-schema-check'
import { XMLLINT, itWith } from '../support/requirements'
import { useTempDirs } from '../support/temp-dir'

const tempDir = useTempDirs()

const OWNER = memberId('DEV', 'COM', '1234')
const PROVIDER_SUB = subsystemId('DEV', 'COM', '1234', 'PROVIDER')
const CONSUMER = subsystemId('DEV', 'GOV', '5678', 'APP')
const OTHER = subsystemId('DEV', 'GOV', '9999', 'OTHER')
const SERVER = securityServerId(OWNER, 'SS0')
/** 2026-11-22T12:00:00Z */
const NOW_S = 1_795_348_800

function envelope(body: string): string {
  return `<?xml version="1.0" encoding="utf-8"?>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:om="http://x-road.eu/xsd/op-monitoring.xsd"
  xmlns:id="http://x-road.eu/xsd/identifiers"><SOAP-ENV:Header/><SOAP-ENV:Body>${body}</SOAP-ENV:Body></SOAP-ENV:Envelope>`
}

function opDataRequest(from: number, to: number, extra = ''): string {
  return envelope(`<om:getSecurityServerOperationalData><om:searchCriteria><om:recordsFrom>${from}</om:recordsFrom>` +
    `<om:recordsTo>${to}</om:recordsTo>${extra}</om:searchCriteria></om:getSecurityServerOperationalData>`)
}

function record(atS: number, o: { client?: ClientId; service?: string; side?: 'Client' | 'Producer'; succeeded?: boolean; ms?: number } = {}): OperationalRecord {
  return {
    monitoringDataTs: atS,
    securityServerType: o.side ?? 'Producer',
    requestInTs: atS * 1000,
    requestOutTs: atS * 1000 + 2,
    responseInTs: atS * 1000 + (o.ms ?? 10) - 2,
    responseOutTs: atS * 1000 + (o.ms ?? 10),
    clientId: encodeIdentifier(o.client ?? CONSUMER),
    serviceId: o.service ?? encodeIdentifier(serviceId(PROVIDER_SUB, 'echo', 'v1')),
    messageId: `m-${atS}`,
    messageProtocolVersion: '4.0',
    requestSize: 100,
    responseSize: 200,
    succeeded: o.succeeded ?? true,
    serviceType: 'WSDL',
    ...(o.succeeded === false ? { faultCode: 'server.serverproxy.service_failed', faultString: 'failed' } : {}),
  }
}

function setup(settings: Partial<OpMonitorSettings> = {}, records: OperationalRecord[] = []) {
  const db = openDatabase(join(tempDir(), 'opmonitor.sqlite'))
  migrate(db, [opMonitoringMigrations])
  const clock = new ManualClock(new Date(NOW_S * 1000).toISOString())
  const monitor = createOpMonitor({ db, clock, logger: silentLogger(), settings })
  for (const r of records) monitor.record(r)
  monitor.flush()
  return { db, clock, monitor, close: () => closeDatabase(db) }
}

function fault(fn: () => unknown): SecurityServerError {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(SecurityServerError)
    return error as SecurityServerError
  }
  throw new Error('expected a refusal')
}

/** The schemas of op-monitoring.xsd's imports, assembled (outside the project) with the paths the XSD names. */
function opMonitoringSchema(): string {
  const dir = tempDir()
  for (const name of ['op-monitoring.xsd', 'swaref.xsd']) copyFileSync(fixturePath('schemas/opmonitor', name), join(dir, name))
  copyFileSync(fixturePath('schemas/common-domain/identifiers.xsd'), join(dir, 'identifiers.xsd'))
  return join(dir, 'op-monitoring.xsd')
}

function xmllint(schema: string, xml: string): { status: number | null; output: string } {
  const file = join(tempDir(), `doc-${Math.random().toString(36).slice(2)}.xml`)
  writeFileSync(file, `<?xml version="1.0" encoding="UTF-8"?>\n${xml}`)
  const result = spawnSync('xmllint', ['--noout', '--nonet', '--schema', schema, file], { encoding: 'utf8', timeout: 20_000 })
  return { status: result.status, output: `${result.stdout}${result.stderr}` }
}

describeFixtures('monitoring requests from X-Road fixtures', () => {
  it('reads operational data requests (opmonitor and system-test-soap)', () => {
    expect(parseOperationalDataRequest(readFixture('messages/opmonitor/operationaldata.request'))).toEqual({
      recordsFrom: 1477468193, recordsTo: 1477468205, outputFields: new Set(),
    })
    expect(parseOperationalDataRequest(readFixture('messages/system-test-soap/operational-data.request'))).toEqual({
      recordsFrom: 0, recordsTo: 1924995955342, outputFields: new Set(),
    })
  })

  it('reads health data requests with their filter client', () => {
    expect(parseHealthDataRequest(readFixture('messages/opmonitor/healthdata.request'))).toEqual({
      client: subsystemId('XTEE-CI-XM', 'GOV', '00000001', 'System1'),
    })
    expect(parseHealthDataRequest(readFixture('messages/system-test-soap/health-data.request'))).toEqual({ client: OWNER })
  })

  it('reads a metrics request whose body is in another namespace as a request for every metric', () => {
    expect(parseMetricsRequest(readFixture('messages/proxymonitor/queries/getMetrics.query'))).toEqual({ outputFields: [] })
  })
})

describe('monitoring request bodies', () => {
  it('reads the client and output fields of an operational data request', () => {
    const request = parseOperationalDataRequest(envelope(
      '<om:getSecurityServerOperationalData><om:searchCriteria><om:recordsFrom> 10 </om:recordsFrom><om:recordsTo>+20</om:recordsTo>' +
      '<om:client id:objectType="SUBSYSTEM"><id:xRoadInstance>DEV</id:xRoadInstance><id:memberClass>COM</id:memberClass>' +
      '<id:memberCode>1234</id:memberCode><id:subsystemCode>PROVIDER</id:subsystemCode></om:client></om:searchCriteria>' +
      '<om:outputSpec><om:outputField>requestInTs</om:outputField><om:outputField>serviceCode</om:outputField></om:outputSpec>' +
      '</om:getSecurityServerOperationalData>'))
    expect(request).toEqual({ recordsFrom: 10, recordsTo: 20, client: PROVIDER_SUB, outputFields: new Set(['requestInTs', 'serviceCode']) })
  })

  it.each([
    ['no recordsTo', opDataRequest(1, 2).replace(/<om:recordsTo>.*<\/om:recordsTo>/, '')],
    ['elements out of order', envelope('<om:getSecurityServerOperationalData><om:searchCriteria><om:recordsTo>2</om:recordsTo>' +
      '<om:recordsFrom>1</om:recordsFrom></om:searchCriteria></om:getSecurityServerOperationalData>')],
    ['a number that is not an xs:long', opDataRequest(1, 2).replace('<om:recordsTo>2', '<om:recordsTo>2.5')],
    ['a number beyond xs:long', opDataRequest(1, 2).replace('<om:recordsTo>2', '<om:recordsTo>9223372036854775808')],
    ['text in element content', opDataRequest(1, 2).replace('<om:searchCriteria>', '<om:searchCriteria>x')],
    ['an unknown element', opDataRequest(1, 2, '<om:extra/>')],
    ['a service as client', opDataRequest(1, 2, '<om:client id:objectType="SERVICE"><id:xRoadInstance>D</id:xRoadInstance>' +
      '<id:memberClass>C</id:memberClass><id:memberCode>M</id:memberCode><id:serviceCode>s</id:serviceCode></om:client>')],
    ['another body element', envelope('<om:getSecurityServerHealthData/>')],
  ])('refuses an operational data request with %s as client.invalid_request', (_name, xml) => {
    const error = fault(() => parseOperationalDataRequest(xml))
    expect(error.faultCode).toBe('client.invalid_request')
    expect(error.clientFault).toBe(true)
  })

  it('refuses a document type declaration before anything else is read', () => {
    const error = fault(() => parseOperationalDataRequest(`<!DOCTYPE x [<!ENTITY a "b">]>${opDataRequest(1, 2).replace(/^<\?xml[^>]*>/, '')}`))
    expect(error.code).toBe('invalid_xml')
  })

  it('reads health data requests without a filter, and metric names in the monitoring namespace', () => {
    expect(parseHealthDataRequest(envelope('<om:getSecurityServerHealthData/>'))).toEqual({})
    expect(parseHealthDataRequest(envelope('<om:getSecurityServerHealthData><om:filterCriteria/></om:getSecurityServerHealthData>'))).toEqual({})
    expect(parseMetricsRequest(envelope('<m:getSecurityServerMetrics xmlns:m="http://x-road.eu/xsd/monitoring"><m:outputSpec>' +
      '<m:outputField>OperatingSystem</m:outputField><m:outputField>TotalPhysicalMemory</m:outputField></m:outputSpec></m:getSecurityServerMetrics>')))
      .toEqual({ outputFields: ['OperatingSystem', 'TotalPhysicalMemory'] })
  })
})

describe('who may query what', () => {
  const parties = { serverOwner: (s: { serverCode: string }) => (s.serverCode === 'SS0' ? OWNER : undefined), monitoringClient: OTHER }

  it('gives the owner of the target server and the monitoring client every record, anyone else their own', () => {
    expect(operationalDataClientFilter(OWNER, SERVER, parties)).toBeUndefined()
    expect(operationalDataClientFilter(OTHER, undefined, parties)).toBeUndefined()
    expect(operationalDataClientFilter(CONSUMER, SERVER, parties)).toEqual(CONSUMER)
    // A subsystem of the owner is not the owner; nor is the owner without a securityServer header.
    expect(operationalDataClientFilter(PROVIDER_SUB, SERVER, parties)).toEqual(PROVIDER_SUB)
    expect(operationalDataClientFilter(OWNER, undefined, parties)).toEqual(OWNER)
    expect(operationalDataClientFilter(OWNER, securityServerId(OWNER, 'OTHER'), parties)).toEqual(OWNER)
  })

  it('answers the monitoring services only for the owner as provider; metrics only without a version', () => {
    expect(monitoringServiceOf(serviceId(OWNER, 'getSecurityServerOperationalData'), OWNER)).toBe('operationalData')
    expect(monitoringServiceOf(serviceId(OWNER, 'getSecurityServerHealthData', 'v1'), OWNER)).toBe('healthData')
    expect(monitoringServiceOf(serviceId(OWNER, 'getSecurityServerMetrics'), OWNER)).toBe('metrics')
    expect(monitoringServiceOf(serviceId(OWNER, 'getSecurityServerMetrics', 'v1'), OWNER)).toBeUndefined()
    expect(monitoringServiceOf(serviceId(PROVIDER_SUB, 'getSecurityServerOperationalData'), OWNER)).toBeUndefined()
    expect(monitoringServiceOf(serviceId(OWNER, 'echo'), OWNER)).toBeUndefined()
  })

  it('lets only the owner and the monitoring client read metrics', () => {
    const service = serviceId(OWNER, 'getSecurityServerMetrics')
    expect(checkMetricsAccess(OWNER, OWNER, OTHER, service)).toEqual({ owner: true })
    expect(checkMetricsAccess(OTHER, OWNER, OTHER, service)).toEqual({ owner: false })
    const error = fault(() => checkMetricsAccess(CONSUMER, OWNER, undefined, service))
    expect(error.code).toBe('access_denied')
    expect(error.message).toBe('Request is not allowed: SERVICE:DEV/COM/1234/getSecurityServerMetrics')
  })
})

describe('operational data query', () => {
  const full = (from: number, to: number, client?: ClientId, fields: string[] = []): OperationalDataRequest =>
    ({ recordsFrom: from, recordsTo: to, ...(client === undefined ? {} : { client }), outputFields: new Set(fields) })

  it('checks the range as X-Road does', () => {
    const { monitor, close } = setup()
    try {
      expect(fault(() => monitor.operationalData(full(-1, 5), undefined)).message).toBe('Records from timestamp is a negative number')
      expect(fault(() => monitor.operationalData(full(5, 4), undefined)).message).toBe('Records to timestamp is earlier than records from timestamp')
      expect(fault(() => monitor.operationalData(full(NOW_S - 60, NOW_S), undefined)).message).toBe(`Records not available from ${NOW_S - 60} yet`)
      expect(fault(() => monitor.operationalData(full(0, 5, undefined, ['nope']), undefined)).message).toBe('Unknown output field in search criteria: nope')
    } finally {
      close()
    }
  })

  it('shifts recordsTo before the unavailable last minute and says where to continue', () => {
    const { monitor, close } = setup({}, [record(NOW_S - 120), record(NOW_S - 61), record(NOW_S - 60), record(NOW_S - 5)])
    try {
      const result = monitor.operationalData(full(0, NOW_S + 1000), undefined)
      expect(result.records.map((r) => r.monitoringDataTs)).toEqual([NOW_S - 120, NOW_S - 61])
      expect(result.nextRecordsFrom).toBe(NOW_S - 60)
      expect(monitor.operationalData(full(0, NOW_S - 100), undefined).nextRecordsFrom).toBeUndefined()
    } finally {
      close()
    }
  })

  it('limits the payload but never splits a second, and continues after it only when more is left', () => {
    const t = NOW_S - 1000
    const { monitor, close } = setup({ maxRecordsInPayload: 3 }, [record(t), record(t + 1), record(t + 1), record(t + 1), record(t + 5)])
    try {
      const first = monitor.operationalData(full(t, t + 10), undefined)
      expect(first.records.map((r) => r.monitoringDataTs)).toEqual([t, t + 1, t + 1, t + 1])
      expect(first.nextRecordsFrom).toBe(t + 2)
      const rest = monitor.operationalData(full(t + 2, t + 10), undefined)
      expect(rest.records.map((r) => r.monitoringDataTs)).toEqual([t + 5])
      expect(rest.nextRecordsFrom).toBeUndefined()
      // Exactly the limit with nothing after it: no continuation.
      expect(monitor.operationalData(full(t, t + 1), undefined).nextRecordsFrom).toBeUndefined()
    } finally {
      close()
    }
  })

  it('shows a client the records where it is the client or the provider, and filters by provider exactly', () => {
    const t = NOW_S - 1000
    const memberService = encodeIdentifier(serviceId(OWNER, 'memberEcho'))
    const otherService = encodeIdentifier(serviceId(OTHER, 'theirs'))
    const { monitor, close } = setup({}, [
      record(t, { client: CONSUMER }),
      record(t + 1, { client: OTHER }),
      record(t + 2, { client: CONSUMER, service: memberService }),
      record(t + 3, { client: PROVIDER_SUB, service: otherService, side: 'Client' }),
    ])
    try {
      const ts = (client: ClientId | undefined, provider?: ClientId): unknown[] =>
        monitor.operationalData(full(t, t + 10, provider), client).records.map((r) => r.monitoringDataTs)
      expect(ts(undefined)).toEqual([t, t + 1, t + 2, t + 3])
      expect(ts(CONSUMER)).toEqual([t, t + 2])
      // OTHER is the client of one record and the provider of another.
      expect(ts(OTHER)).toEqual([t + 1, t + 3])
      // The member's services are not its subsystem's, and the other way round.
      expect(ts(undefined, OWNER)).toEqual([t + 2])
      expect(ts(undefined, PROVIDER_SUB)).toEqual([t, t + 1])
      expect(ts(CONSUMER, PROVIDER_SUB)).toEqual([t])
    } finally {
      close()
    }
  })

  it('gives the requested fields only, monitoringDataTs included only when asked for', () => {
    const t = NOW_S - 1000
    const { monitor, close } = setup({}, [record(t)])
    try {
      expect(monitor.operationalData(full(t, t, undefined, ['serviceCode', 'requestInTs']), undefined).records)
        .toEqual([{ serviceCode: 'echo', requestInTs: t * 1000 }])
      expect(monitor.operationalData(full(t, t, undefined, ['monitoringDataTs', 'clientSubsystemCode']), CONSUMER).records)
        .toEqual([{ monitoringDataTs: t, clientSubsystemCode: 'APP' }])
      expect(monitor.operationalData(full(t, t), undefined).records).toEqual([{
        monitoringDataTs: t, securityServerType: 'Producer', requestInTs: t * 1000, requestOutTs: t * 1000 + 2, responseInTs: t * 1000 + 8,
        responseOutTs: t * 1000 + 10, clientXRoadInstance: 'DEV', clientMemberClass: 'GOV', clientMemberCode: '5678',
        clientSubsystemCode: 'APP', serviceXRoadInstance: 'DEV', serviceMemberClass: 'COM', serviceMemberCode: '1234',
        serviceSubsystemCode: 'PROVIDER', serviceCode: 'echo', serviceVersion: 'v1', messageId: `m-${t}`, messageProtocolVersion: '4.0',
        requestSize: 100, responseSize: 200, succeeded: true, serviceType: 'WSDL',
      }])
    } finally {
      close()
    }
  })
})

describeFixtures('monitoring answers against X-Road schemas', () => {
  itWith([XMLLINT], 'operational data: the body validates against op-monitoring.xsd, the attachment is gzip JSON per the payload schema', () => {
    const t = NOW_S - 1000
    const { monitor, close } = setup({ maxRecordsInPayload: 1 }, [
      record(t, { succeeded: false }), record(t + 1), { ...record(t + 2), representedParty: 'COM/999', messageUserId: 'EE123', xRequestId: 'r-1' },
    ])
    try {
      const result = monitor.operationalData(parseOperationalDataRequest(opDataRequest(0, NOW_S + 10)), undefined)
      const response = operationalDataResponse(result)
      const schema = opMonitoringSchema()
      const lint = xmllint(schema, response.bodyXml)
      expect(lint.output).toContain('validates')
      expect(lint.status).toBe(0)
      const body = parseXml(response.bodyXml).documentElement!
      expect(body.getElementsByTagNameNS('http://x-road.eu/xsd/op-monitoring.xsd', 'records')[0]!.textContent).toBe(`cid:${OPERATIONAL_DATA_CONTENT_ID}`)
      expect(body.getElementsByTagNameNS('http://x-road.eu/xsd/op-monitoring.xsd', 'recordsCount')[0]!.textContent).toBe('1')
      expect(body.getElementsByTagNameNS('http://x-road.eu/xsd/op-monitoring.xsd', 'nextRecordsFrom')[0]!.textContent).toBe(String(t + 1))
      expect(response.attachment).toMatchObject({
        contentId: 'operational-monitoring-data.json.gz', contentType: 'application/gzip',
        headers: [['Content-Transfer-Encoding', 'binary'], ['Content-ID', '<operational-monitoring-data.json.gz>']],
      })

      const payloadSchema = readYamlSchema(fixturePath('schemas/opmonitor/query_operational_data_response_payload_schema.yaml'))
      monitor.updateSettings({ maxRecordsInPayload: 10 })
      const all = operationalDataResponse(monitor.operationalData(parseOperationalDataRequest(opDataRequest(0, t + 10)), undefined))
      const payload = JSON.parse(gunzipSync(all.attachment.content).toString('utf8')) as { records: Array<Record<string, unknown>> }
      expect(payload.records).toHaveLength(3)
      expect(schemaErrors(payloadSchema, payload)).toEqual([])
      expect(payload.records[2]).toMatchObject({ representedPartyClass: 'COM', representedPartyCode: '999', messageUserId: 'EE123' })
      // Every field is one the schema declares, but xRequestId, which X-Road's record has and its schema lacks.
      const declared = new Set([...declaredItemProperties(payloadSchema, 'records'), 'xRequestId'])
      expect(payload.records.flatMap(Object.keys).filter((k) => !declared.has(k))).toEqual([])
      // The checker refuses what breaks the schema, so the passes above mean something.
      expect(schemaErrors(payloadSchema, { records: [{ ...payload.records[0], succeeded: 'yes', securityServerType: 'Proxy' }] })).toHaveLength(2)
      expect(xmllint(schema, response.bodyXml.replace(/<om:recordsCount>1/, '<om:recordsCount>x')).status).not.toBe(0)
    } finally {
      close()
    }
  })

  itWith([XMLLINT], 'health data: statistics of the period over the provider side, per service, validating against op-monitoring.xsd', () => {
    const { clock, monitor, close } = setup({ healthStatisticsPeriodSeconds: 600 })
    try {
      const later = (s: number): number => NOW_S + s
      const memberService = serviceId(OWNER, 'memberEcho')
      // Before the statistics period, then three successes (10, 20, 60 ms) and a failure in it; a client-side record is not counted.
      clock.set(new Date(later(1000) * 1000).toISOString())
      monitor.record(record(later(10), { ms: 40 }))
      monitor.record(record(later(500), { ms: 10 }))
      monitor.record(record(later(600), { ms: 20 }))
      monitor.record({ ...record(later(700), { ms: 60 }), requestSize: 300, responseSize: undefined })
      monitor.record(record(later(800), { succeeded: false, ms: 5 }))
      monitor.record(record(later(900), { side: 'Client', ms: 1 }))
      monitor.record(record(later(950), { service: encodeIdentifier(memberService), succeeded: false }))
      const data = monitor.healthData()
      expect(data.monitoringStartupTimestamp).toBe(NOW_S * 1000)
      expect(data.statisticsPeriodSeconds).toBe(600)
      expect(data.servicesEvents.map((e) => encodeIdentifier(e.service))).toEqual([
        'SERVICE:DEV/COM/1234/PROVIDER/echo;v=v1', 'SERVICE:DEV/COM/1234/memberEcho',
      ])
      const echo = data.servicesEvents[0]!
      expect(echo.lastSuccessfulRequestTimestamp).toBe(later(700) * 1000 + 60)
      expect(echo.lastUnsuccessfulRequestTimestamp).toBe(later(800) * 1000 + 5)
      expect(echo.serviceType).toBe('WSDL')
      const stats = echo.lastPeriodStatistics
      expect(stats.successfulRequestCount).toBe(3)
      expect(stats.unsuccessfulRequestCount).toBe(1)
      expect(stats.requestDuration).toEqual({ min: 10, max: 60, mean: 30, stdDev: Math.sqrt(((10 - 30) ** 2 + (20 - 30) ** 2 + (60 - 30) ** 2) / 2) })
      expect(stats.requestSize).toMatchObject({ min: 100, max: 300 })
      expect(stats.responseSize).toEqual({ min: 200, max: 200, mean: 200, stdDev: 0 })
      const member = data.servicesEvents[1]!
      expect(member.lastSuccessfulRequestTimestamp).toBeUndefined()
      expect(member.lastPeriodStatistics).toEqual({ successfulRequestCount: 0, unsuccessfulRequestCount: 1 })
      expect(monitor.healthData(OWNER).servicesEvents.map((e) => e.service.serviceCode)).toEqual(['memberEcho'])
      expect(monitor.healthData(CONSUMER).servicesEvents).toEqual([])

      const xml = healthDataResponseXml(data)
      expect(xml).toContain('<om:requestAverageDuration>30.0</om:requestAverageDuration>')
      const lint = xmllint(opMonitoringSchema(), xml)
      expect(lint.output).toContain('validates')
      expect(lint.status).toBe(0)
      expect(xmllint(opMonitoringSchema(), healthDataResponseXml({ ...data, servicesEvents: [] }))).toMatchObject({ status: 0 })
    } finally {
      close()
    }
  })
})

describeFixtures('answering the fixture requests as the server proxy will', () => {
  const header = (client: ClientId, code: string) => ({ client, service: serviceId(OWNER, code), securityServer: SERVER })

  function deps(monitor: ReturnType<typeof setup>['monitor']) {
    return {
      opMonitor: monitor, environment: createEnvironmentMonitor({ clock: new ManualClock() }), serverId: SERVER, owner: OWNER,
      parties: { serverOwner: () => OWNER }, proxyVersion: 'test',
      metricsContext: () => ({ limitRemoteDataSet: false, certificates: [], dataDir: tempDir() }),
    }
  }

  itWith([XMLLINT], 'operational data: the request header comes back unchanged, the records as a gzip swaRef attachment', async () => {
    const t = NOW_S - 1000
    const { monitor, close } = setup({}, [record(t, { client: CONSUMER }), record(t + 1, { client: OTHER })])
    try {
      const request = readFixture('messages/system-test-soap/operational-data.request')
      const owner = await answerMonitoringQuery('operationalData', header(OWNER, 'getSecurityServerOperationalData'), request, deps(monitor))
      const message = monitoringResponseMessage(request, owner, 'xroadTESTBOUNDARY')
      expect(message.contentType).toBe('multipart/related; type="text/xml"; charset=UTF-8; boundary=xroadTESTBOUNDARY')
      const parts = parseMultipart(message.body, boundaryOf(message.contentType)!)
      expect(parts.map((p) => p.contentType)).toEqual(['text/xml; charset=UTF-8', 'application/gzip'])
      expect(parts[1]!.headers).toEqual(expect.arrayContaining([['Content-ID', '<operational-monitoring-data.json.gz>'], ['Content-Transfer-Encoding', 'binary']]))
      const records = (JSON.parse(gunzipSync(parts[1]!.body).toString('utf8')) as { records: unknown[] }).records
      expect(records).toHaveLength(2)

      const soap = parseXml(parts[0]!.body).documentElement!
      const [head, body] = ['Header', 'Body'].map((n) => soap.getElementsByTagNameNS('http://schemas.xmlsoap.org/soap/envelope/', n)[0]!)
      const requestHead = parseXml(request).documentElement!.getElementsByTagNameNS('http://schemas.xmlsoap.org/soap/envelope/', 'Header')[0]!
      expect(head!.textContent).toBe(requestHead.textContent)
      const answer = body!.getElementsByTagNameNS('http://x-road.eu/xsd/op-monitoring.xsd', 'getSecurityServerOperationalDataResponse')[0]!
      expect(answer.getElementsByTagNameNS('http://x-road.eu/xsd/op-monitoring.xsd', 'recordsCount')[0]!.textContent).toBe('2')
      // The fixture asks up to 2031: the answer ends before the last minute and says where to go on.
      expect(answer.getElementsByTagNameNS('http://x-road.eu/xsd/op-monitoring.xsd', 'nextRecordsFrom')[0]!.textContent).toBe(String(NOW_S - 60))
      expect(xmllint(opMonitoringSchema(), owner.bodyXml)).toMatchObject({ status: 0 })

      // Another client sees only its own exchange.
      const consumer = await answerMonitoringQuery('operationalData', header(CONSUMER, 'getSecurityServerOperationalData'), request, deps(monitor))
      const theirs = JSON.parse(gunzipSync(consumer.attachments[0]!.content).toString('utf8')) as { records: Array<Record<string, unknown>> }
      expect(theirs.records.map((r) => r.clientMemberCode)).toEqual(['5678'])
    } finally {
      close()
    }
  })

  it('the server proxy gets a handler only for the monitoring services, with the access check in place of access rights', async () => {
    const { monitor, close } = setup({}, [record(NOW_S - 100)])
    try {
      expect(monitoringHandlerFor({ client: CONSUMER, service: serviceId(PROVIDER_SUB, 'echo') }, deps(monitor))).toBeUndefined()
      expect(monitoringHandlerFor(header(CONSUMER, 'getSecurityServerOperationalData'), deps(monitor))?.verifyAccess()).toBeUndefined()
      expect(() => monitoringHandlerFor(header(CONSUMER, 'getSecurityServerMetrics'), deps(monitor))!.verifyAccess()).toThrow(/not allowed/)
      const health = monitoringHandlerFor(header(CONSUMER, 'getSecurityServerHealthData'), deps(monitor))!
      expect(health.service).toBe('healthData')
      const message = await health.respond(readFixture('messages/opmonitor/healthdata.request'))
      expect(message.contentType).toBe('text/xml; charset=UTF-8')
      expect(message.body.toString('utf8')).toContain('<xroad:id>DBOxxqv2csKysKHNwRCrU4QV0EWkqSUY</xroad:id>')
      // A refused query is the op-monitor daemon's fault, passed on as the service's.
      const data = monitoringHandlerFor(header(CONSUMER, 'getSecurityServerOperationalData'), deps(monitor))!
      expect(data.faultsAsService).toBe(true)
      await expect(data.respond(opDataRequest(5, 4))).rejects.toMatchObject({ faultCode: 'server.serverproxy.opmonitor.client.invalid_request' })
      expect(monitoringHandlerFor(header(OWNER, 'getSecurityServerMetrics'), deps(monitor))!.faultsAsService).toBe(false)
    } finally {
      close()
    }
  })

  it('health data answers in a plain SOAP message; metrics refuse a stranger', async () => {
    const { monitor, close } = setup({}, [record(NOW_S - 10)])
    try {
      const request = readFixture('messages/system-test-soap/health-data.request')
      const answer = await answerMonitoringQuery('healthData', header(CONSUMER, 'getSecurityServerHealthData'), request, deps(monitor))
      const message = monitoringResponseMessage(request, answer)
      expect(message.contentType).toBe('text/xml; charset=UTF-8')
      // The fixture filters by the owner member: its subsystem's service is not listed.
      expect(message.body.toString('utf8')).toContain('<om:servicesEvents/>')
      const metrics = readFixture('messages/proxymonitor/queries/getMetrics.query')
      await expect(answerMonitoringQuery('metrics', header(CONSUMER, 'getSecurityServerMetrics'), metrics, deps(monitor)))
        .rejects.toMatchObject({ code: 'access_denied' })
      const own = await answerMonitoringQuery('metrics', header(OWNER, 'getSecurityServerMetrics'), metrics, deps(monitor))
      expect(own.bodyXml).toContain('<m:name>SERVER:DEV/COM/1234/SS0</m:name>')
    } finally {
      close()
    }
  })
})

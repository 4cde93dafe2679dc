import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { identifierToXml, serviceId, type ClientId, type ServiceId } from '@shared/domain/identifiers'
import { findRecordsByQueryId } from '../../src-main/message-log'
import { parseXml } from '../../src-main/platform'
import { splitMultipart, WSDL_ENDPOINT_ADDRESS } from '../../src-main/proxy'
import { decodeSoapMessage, XROAD_NS, type SoapMessage } from '../../src-main/soap'
import { describeFixtures } from '../support/describe-fixtures'
import { readFixture } from '../support/fixtures'
import { startLabPair, type LabPair } from './lab-pair'

/**
 * The metaservices between two real security servers on loopback (PR-META, PR-MREST): X-Road's metaservice test
 * requests, retargeted at the lab's consumer and provider, sent by the consumer's information system through its client
 * proxy and answered by the provider's server proxy itself — signed and logged on both sides like any exchange, no
 * access right needed; the REST metaservices over `/r1/`; `GET /listClients` on the client proxy.
 */
const META = 'messages/metaservice'
const IDS = 'http://x-road.eu/xsd/identifiers'
let pair: LabPair
let http: Server
let base: string
let sequence = 0

/** A fixture request naming the lab's consumer as client and `service` (a metaservice of the provider). */
function retarget(fixture: string, client: ClientId, service: ServiceId): { id: string; bytes: Buffer } {
  const id = `meta-${++sequence}-${Date.now()}`
  const text = readFixture(META, 'queries', fixture).toString('utf8')
    .replace(/<xroad:client [\s\S]*?<\/xroad:client>/, identifierToXml(client, 'xroad:client'))
    .replace(/<xroad:service [\s\S]*?<\/xroad:service>/, identifierToXml(service, 'xroad:service'))
    .replace(/<xroad:id>[^<]*<\/xroad:id>/, `<xroad:id>${id}</xroad:id>`)
  return { id, bytes: Buffer.from(text, 'utf8') }
}

async function send(body: Buffer) {
  const response = await fetch(`${pair.consumer.clientProxyUrl}/`, { method: 'POST', headers: { 'Content-Type': 'text/xml; charset=UTF-8' }, body })
  const bytes = Buffer.from(await response.arrayBuffer())
  const contentType = response.headers.get('content-type') ?? ''
  return { ...decodeSoapMessage(contentType, bytes, splitMultipart), status: response.status, contentType }
}

async function post(body: Buffer) {
  const answer = await send(body)
  if (answer.soap.kind === 'fault') throw new Error(`fault ${answer.soap.faultCode}: ${answer.soap.faultString}`)
  return { ...answer, soap: answer.soap }
}

function listed(soap: SoapMessage, element: string): string[] {
  const answer = parseXml(soap.bytes).getElementsByTagNameNS(XROAD_NS, element)[0]
  expect(answer, element).toBeDefined()
  return Array.from(answer!.getElementsByTagNameNS(XROAD_NS, 'service')).map((s) =>
    ['serviceCode', 'serviceVersion'].map((n) => s.getElementsByTagNameNS(IDS, n)[0]?.textContent).filter((v) => v !== undefined).join('/'))
}

function expectLoggedOnBothSides(id: string): void {
  for (const side of [pair.consumer, pair.provider]) {
    expect(findRecordsByQueryId(side.server.core.databases.messageLog, id).map((r) => r.response)).toEqual([false, true])
  }
}

const restHeaders = () => ({ 'X-Road-Client': 'LAB/GOV/1001/consumer' })
const providerPath = () => `${pair.consumer.clientProxyUrl}/r1/LAB/GOV/2002/provider`

describeFixtures('metaservices between two security servers', () => {
  beforeAll(async () => {
    pair = await startLabPair()
    http = createServer((req, res) => {
      if (req.url === '/wsdlMock') res.writeHead(200, { 'Content-Type': 'text/xml' }).end(readFixture(META, 'resources/__files/wsdl.wsdl'))
      else if (req.url === '/petstore.yaml') res.writeHead(200, { 'Content-Type': 'application/x-yaml' }).end(readFixture(META, 'resources/__files/petstore.yaml'))
      else res.writeHead(404).end()
    })
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
    base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`
    const conf = pair.provider.server.core.serverConf
    const wsdl = conf.addWsdlDescription(pair.provider.subsystem, `${base}/wsdlMock`, [
      { code: 'getRandom', url: `${base}/random` }, { code: 'helloService', version: 'v1', url: `${base}/hello` },
    ])
    conf.setServiceDescriptionEnabled(wsdl.id, true)
    conf.grantAccess(serviceId(pair.provider.subsystem, 'getRandom'), pair.consumer.subsystem)
    conf.addOpenApiDescription(pair.provider.subsystem, {
      url: `${base}/petstore.yaml`, serviceCode: 'petstore', ignoreWarnings: true,
      parsed: { baseUrl: `${base}/api`, endpoints: [{ method: 'GET', path: '/pets' }], warnings: [] },
    })
  }, 120_000)

  afterAll(async () => {
    await new Promise<void>((resolve) => (http === undefined ? resolve() : http.close(() => resolve())))
    await pair?.close()
  })

  it('SOAP listMethods and allowedMethods: the provider\'s WSDL services, and those open to the consumer, signed and logged', async () => {
    const list = retarget('listMethods.query', pair.consumer.subsystem, serviceId(pair.provider.subsystem, 'listMethods', 'v1'))
    const listAnswer = await post(list.bytes)
    expect(listAnswer.contentType).toBe('text/xml; charset=UTF-8')
    expect(listAnswer.soap.header.requestHash).toBeDefined()
    expect(listed(listAnswer.soap, 'listMethodsResponse').sort()).toEqual(['getRandom', 'helloService/v1'])
    expectLoggedOnBothSides(list.id)

    const allowed = retarget('allowedMethods.query', pair.consumer.subsystem, serviceId(pair.provider.subsystem, 'allowedMethods'))
    expect(listed((await post(allowed.bytes)).soap, 'allowedMethodsResponse')).toEqual(['getRandom'])
    expectLoggedOnBothSides(allowed.id)

    // The provider's owner member, as in the fixture: routed to its server, which answers for it (no services).
    const ofMember = retarget('allowedMethods.query', pair.consumer.subsystem, serviceId(pair.provider.member, 'allowedMethods'))
    expect(listed((await post(ofMember.bytes)).soap, 'allowedMethodsResponse')).toEqual([])
  })

  it('SOAP getWsdl: the WSDL as an attachment with its endpoint hidden', async () => {
    const request = retarget('getWsdl.query', pair.consumer.subsystem, serviceId(pair.provider.subsystem, 'getWsdl'))
    const answer = await post(request.bytes)
    expect(answer.contentType).toMatch(/^multipart\/related; type="text\/xml"/)
    expect(parseXml(answer.soap.bytes).getElementsByTagNameNS(XROAD_NS, 'getWsdlResponse')[0]?.textContent?.trim()).toBe('getRandom')
    expect(answer.attachments).toHaveLength(1)
    expect(answer.attachments[0]!.contentType).toBe('text/xml')
    const wsdl = answer.attachments[0]!.body.toString('utf8')
    expect(wsdl).toContain(`location="${WSDL_ENDPOINT_ADDRESS}"`)
    expect(wsdl).toContain('<wsdl:operation name="helloService">')
    expectLoggedOnBothSides(request.id)

    // A service without a WSDL: the provider's own fault, as X-Road's server proxy answers it.
    const unknown = retarget('getWsdl.query', pair.consumer.subsystem, serviceId(pair.provider.subsystem, 'getWsdl'))
    const fault = (await send(Buffer.from(unknown.bytes.toString('utf8').replace('>getRandom<', '>pets<'), 'utf8'))).soap
    expect(fault).toMatchObject({ kind: 'fault', faultCode: 'server.serverproxy.service_type', faultString: 'Service is a REST service and does not have a WSDL' })
  })

  it('REST listMethods, allowedMethods and getOpenAPI through the client proxy', async () => {
    const list = await fetch(`${providerPath()}/listMethods`, { headers: restHeaders() })
    expect(list.status).toBe(200)
    expect(list.headers.get('content-type')).toBe('application/json')
    expect(list.headers.get('x-road-request-hash')).toBeTruthy()
    const services = (await list.json() as { service: Array<{ service_code: string; service_type: string; endpoint_list: unknown[] }> }).service
    expect(services.map((s) => [s.service_code, s.service_type, s.endpoint_list])).toEqual([
      ['pets', 'REST', []], ['petstore', 'OPENAPI', [{ method: 'GET', path: '/pets' }]],
    ])

    const allowed = await fetch(`${providerPath()}/allowedMethods`, { headers: restHeaders() })
    expect((await allowed.json() as { service: Array<{ service_code: string }> }).service.map((s) => s.service_code)).toEqual(['pets'])

    const openapi = await fetch(`${providerPath()}/getOpenAPI?serviceCode=petstore`, { headers: restHeaders() })
    expect(openapi.status).toBe(200)
    expect(openapi.headers.get('content-type')).toBe('application/x-yaml')
    const yaml = await openapi.text()
    expect(yaml).toContain('- url: /v1/cats')
    expect(yaml).not.toContain('petstore.swagger.io')

    const missing = await fetch(`${providerPath()}/getOpenAPI`, { headers: restHeaders() })
    expect(missing.status).not.toBe(200)
    expect(await missing.text()).toMatch(/invalid_?request/i)
  })

  it('GET /listClients: XML by default, JSON when accepted, other instances by xRoadInstance', async () => {
    const xml = await fetch(`${pair.consumer.clientProxyUrl}/listClients`)
    expect(xml.status).toBe(200)
    expect(xml.headers.get('content-type')).toBe('text/xml; charset=UTF-8')
    const doc = parseXml(await xml.text())
    expect([doc.documentElement?.namespaceURI, doc.documentElement?.localName]).toEqual([XROAD_NS, 'clientList'])
    const members = Array.from(doc.getElementsByTagNameNS(XROAD_NS, 'member')).map((m) =>
      [m.getElementsByTagNameNS(IDS, 'memberCode')[0]?.textContent, m.getElementsByTagNameNS(IDS, 'subsystemCode')[0]?.textContent, m.getElementsByTagNameNS(XROAD_NS, 'name')[0]?.textContent])
    expect(members).toEqual(expect.arrayContaining([['1001', undefined, 'Consumer Agency'], ['1001', 'consumer', 'Consumer Agency'], ['2002', 'provider', 'Provider Agency']]))

    const json = await fetch(`${pair.consumer.clientProxyUrl}/listClients?xRoadInstance=LAB`, { headers: { Accept: 'application/json' } })
    expect(json.headers.get('content-type')).toBe('application/json; charset=utf-8')
    const listedJson = (await json.json() as { member: Array<{ id: Record<string, string>; name?: string }> }).member
    expect(listedJson).toHaveLength(members.length)
    expect(listedJson).toEqual(expect.arrayContaining([
      { id: { member_class: 'GOV', member_code: '1001', object_type: 'SUBSYSTEM', subsystem_code: 'consumer', xroad_instance: 'LAB' }, name: 'Consumer Agency' },
    ]))

    const other = await fetch(`${pair.consumer.clientProxyUrl}/listClients?xRoadInstance=ELSEWHERE`, { headers: { Accept: 'application/json' } })
    expect(await other.json()).toEqual({ member: [] })

    // Only a GET is listClients (X-Road's MetadataHandler); a POST there is a SOAP request like on any other path.
    const posted = await fetch(`${pair.consumer.clientProxyUrl}/listClients`, { method: 'POST', headers: { 'Content-Type': 'text/xml' }, body: 'not soap' })
    expect(posted.headers.get('content-type')).toMatch(/^text\/xml/)
    expect(await posted.text()).toContain('faultcode')
  })
})

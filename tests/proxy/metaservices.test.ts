import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { XMLSerializer, type Document, type Element } from '@xmldom/xmldom'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  encodeIdentifier, globalGroupId, localGroupId, memberId, serviceId, subsystemId, type ClientId,
} from '@shared/domain/identifiers'
import { loadOrCreateAdminTls } from '../../src-main/admin/admin-tls'
import { closeDatabase, migrate, openDatabase, parseXml, SecurityServerError, systemClock, type WritableDb } from '../../src-main/platform'
import {
  acceptsJson, clientListXml, listClientsResponse, restMetaserviceHandler, soapMetaserviceHandler, splitMultipart, WSDL_ENDPOINT_ADDRESS,
  type MetaserviceConfView,
} from '../../src-main/proxy'
import { createServerConf, serverConfMigrations, type ServerConf } from '../../src-main/server-conf'
import { metaserviceConfView } from '../../src-main/server/metaservices'
import { decodeSoapMessage, readSoap, XROAD_NS, type SoapMessage } from '../../src-main/soap'
import { describeFixtures } from '../support/describe-fixtures'
import { fixturePath, readFixture } from '../support/fixtures'
import { XMLLINT, itWith } from '../support/requirements'
import { useTempDirs } from '../support/temp-dir'

/**
 * The metaservices' handlers (PR-META, PR-MREST; X-Road's `MetadataServiceHandlerImpl`, `RestMetadataServiceHandlerImpl`,
 * `MetadataClientRequestProcessor`) over a real server configuration in SQLite and descriptions served from loopback
 * HTTP: X-Road's own metaservice test requests (../shared/fixtures/xroad/messages/metaservice) answered as X-Road's test
 * cases expect, the answers' XML validated against service-metainfo.xsd, the getWsdl answer compared in shape with
 * X-Road's `wsdl_response.xml`, and each refusal with X-Road's code.
 */
const META = 'messages/metaservice'
const IDS = 'http://x-road.eu/xsd/identifiers'
const WSDL_NS = 'http://schemas.xmlsoap.org/wsdl/'
const SOAP_ADDRESS_NS = 'http://schemas.xmlsoap.org/wsdl/soap/'

// The fixture requests' parties: consumer `EE/BUSINESS/consumer`, provider `EE/BUSINESS/producer` (member) and
// `EE/BUSINESS/producer/SUB` (subsystem).
const consumer = memberId('EE', 'BUSINESS', 'consumer') as ClientId
const stranger = memberId('EE', 'BUSINESS', 'stranger') as ClientId
const producer = memberId('EE', 'BUSINESS', 'producer') as ClientId
const producerSub = subsystemId('EE', 'BUSINESS', 'producer', 'SUB') as ClientId
const federated = globalGroupId('EE', 'partners')

let db: WritableDb
let conf: ServerConf
let view: MetaserviceConfView
let http: Server
let base: string
let missing = 0
const tempDir = useTempDirs()

/** A fresh configuration per test: the member and the subsystem provider with WSDL, REST and OpenAPI services. */
function setUp(): void {
  db = openDatabase(join(tempDir(), 'serverconf.sqlite'))
  migrate(db, [serverConfMigrations])
  conf = createServerConf(db)
  for (const provider of [producer, producerSub]) {
    conf.addClient(provider, 'REGISTERED')
    const wsdl = conf.addWsdlDescription(provider, `${base}/wsdlMock`, [
      { code: 'getRandom', url: `${base}/random` }, { code: 'helloService', version: 'v1', url: `${base}/hello` },
      { code: 'ListMembers', url: `${base}/members` },
    ])
    conf.setServiceDescriptionEnabled(wsdl.id, true)
    conf.addRestDescription(provider, `${base}/rest`, 'pets')
    conf.addEndpoint(serviceId(provider, 'pets'), { method: 'GET', path: '/pets/*' })
    conf.addEndpoint(serviceId(provider, 'pets'), { method: 'POST', path: '/pets' })
    conf.addOpenApiDescription(provider, {
      url: `${base}/petstore.yaml`, serviceCode: 'petstore', ignoreWarnings: true,
      parsed: { baseUrl: `${base}/api`, endpoints: [{ method: 'GET', path: '/pets' }, { method: 'GET', path: '/pets/*' }], warnings: [] },
    })
  }
  conf.addLocalGroup(producer, 'friends', 'Friends')
  conf.addLocalGroupMember(producer, 'friends', consumer)
  conf.grantAccess(serviceId(producer, 'getRandom'), consumer)
  conf.grantAccess(serviceId(producer, 'helloService', 'v1'), localGroupId('friends'))
  conf.grantAccess(serviceId(producer, 'pets'), consumer, { method: 'GET', path: '/pets/*' })
  conf.grantAccess(serviceId(producer, 'petstore'), federated)
  view = metaserviceConfView(conf, () => undefined)
  // Global groups come from global configuration: the consumer is in `partners`.
  view = { ...view, isGlobalGroupMember: (client, group) => group.groupCode === 'partners' && encodeIdentifier(client) === encodeIdentifier(consumer) }
}

/** The OpenAPI description read from another URL from now on (its endpoints as they were). */
function moveOpenApi(id: number, url: string): void {
  conf.refreshOpenApiDescription(id, {
    url, ignoreWarnings: true, parsed: { baseUrl: `${base}/api`, endpoints: [{ method: 'GET', path: '/pets' }, { method: 'GET', path: '/pets/*' }], warnings: [] },
  })
}

function closeConf(): void {
  closeDatabase(db)
}

/** The fixture request as the provider's server proxy hands it to a local handler. */
async function answerSoap(request: Buffer | string): Promise<{ contentType: string; body: Buffer; soap: SoapMessage; attachments: ReturnType<typeof decodeSoapMessage>['attachments'] }> {
  const bytes = typeof request === 'string' ? Buffer.from(request, 'utf8') : request
  const read = readSoap(bytes, 'text/xml; charset=UTF-8')
  if (read.kind !== 'message') throw new Error('the request is a fault')
  const handler = soapMetaserviceHandler(read.header, view)
  if (handler === undefined) throw new Error(`no metaservice for ${read.header.service.serviceCode}`)
  handler.verifyAccess()
  const answer = await handler.respond(read.bytes)
  const decoded = decodeSoapMessage(answer.contentType, answer.body, splitMultipart)
  expect(decoded.soap.kind).toBe('message')
  const soap = decoded.soap as SoapMessage
  // SoapUtils.toResponse: the request's header comes back as it was (the server proxy adds requestHash).
  expect(soap.header.id).toBe(read.header.id)
  expect(soap.header.client).toEqual(read.header.client)
  expect(soap.header.service).toEqual(read.header.service)
  return { ...answer, soap, attachments: decoded.attachments }
}

function bodyAnswer(soap: SoapMessage): Element {
  const doc = parseXml(soap.bytes)
  const body = doc.documentElement!.getElementsByTagNameNS('http://schemas.xmlsoap.org/soap/envelope/', 'Body')[0]!
  const first = Array.from(body.childNodes).find((n) => n.nodeType === 1) as Element | undefined
  expect(first).toBeDefined()
  return first as Element
}

function listedServices(answer: Element): string[] {
  return Array.from(answer.getElementsByTagNameNS(XROAD_NS, 'service')).map((s) => {
    const part = (name: string) => s.getElementsByTagNameNS(IDS, name)[0]?.textContent
    return [part('xRoadInstance'), part('memberClass'), part('memberCode'), part('subsystemCode'), part('serviceCode'), part('serviceVersion')]
      .filter((p) => p !== undefined).join('/')
  })
}

/** xmllint --schema service-metainfo.xsd on one element of an answer. */
function validateMetainfo(element: Element | string): void {
  const file = join(tempDir(), 'answer.xml')
  writeFileSync(file, typeof element === 'string' ? element : new XMLSerializer().serializeToString(element as never))
  const lint = spawnSync('xmllint', ['--noout', '--nonet', '--schema', fixturePath('schemas/common-domain/service-metainfo.xsd'), file], { encoding: 'utf8' })
  expect(`${lint.stdout}${lint.stderr}`).toContain('validates')
  expect(lint.status).toBe(0)
}

async function refusal(promise: Promise<unknown>): Promise<SecurityServerError> {
  const error = await promise.then(() => undefined, (e: unknown) => e)
  expect(error).toBeInstanceOf(SecurityServerError)
  return error as SecurityServerError
}

function restGet(provider: ClientId, code: string, client: ClientId, query?: string, headers: Array<[string, string]> = []) {
  return restMetaserviceHandler({ method: 'GET', serviceId: serviceId(provider, code), clientId: client, rawQuery: query, headers }, view)
}

async function restAnswer(provider: ClientId, code: string, client: ClientId, query?: string, headers: Array<[string, string]> = []) {
  const handler = restGet(provider, code, client, query, headers)
  expect(handler).toBeDefined()
  return handler!.respond()
}

/** The parts of a multipart fixture (LF line ends): content type and body text. */
function fixtureParts(text: string): Array<{ contentType: string; body: string }> {
  const boundary = /^--(\S+)/.exec(text)![1]!
  return text.split(`--${boundary}`).slice(1, -1).map((part) => {
    const trimmed = part.replace(/^\r?\n/, '')
    const split = trimmed.search(/\r?\n\r?\n/)
    const head = trimmed.slice(0, split)
    return { contentType: /content-type:\s*(.*)/i.exec(head)![1]!.trim(), body: trimmed.slice(split).trim() }
  })
}

function describeElement(el: Element): unknown {
  const children = Array.from(el.childNodes).filter((n) => n.nodeType === 1) as Element[]
  return { ns: el.namespaceURI, name: el.localName, ...(children.length === 0 ? { text: el.textContent } : { children: children.map(describeElement) }) }
}

describeFixtures('metaservice handlers', () => {
  beforeAll(async () => {
    const files: Record<string, { type: string; body: () => Buffer }> = {
      '/wsdlMock': { type: 'text/xml', body: () => readFixture(META, 'resources/__files/wsdl.wsdl') },
      '/petstore.yaml': { type: 'application/x-yaml', body: () => readFixture(META, 'resources/__files/petstore.yaml') },
      '/petstore.json': { type: 'application/json', body: () => readFixture(META, 'resources/__files/petstore.json') },
      '/plain.yaml': { type: '', body: () => readFixture(META, 'resources/__files/petstore.yaml') },
      '/incompatible.yaml': { type: 'application/x-yaml', body: () => readFixture(META, 'resources/__files/openapi_incompatible_version.yaml') },
    }
    http = createServer((req, res) => {
      const file = files[req.url ?? '']
      if (file === undefined) {
        missing++
        res.writeHead(404).end('no such file')
        return
      }
      res.writeHead(200, file.type === '' ? {} : { 'Content-Type': file.type }).end(file.body())
    })
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
    base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`
  })

  afterAll(async () => {
    await new Promise<void>((resolve) => http.close(() => resolve()))
  })

  describe('SOAP metaservices (X-Road test queries)', () => {
    itWith([XMLLINT], 'listMethods.query: every WSDL service of EE/BUSINESS/producer/SUB with its version, REST and OpenAPI ones not', async () => {
      setUp()
      try {
        const answer = await answerSoap(readFixture(META, 'queries/listMethods.query'))
        expect(answer.contentType).toBe('text/xml; charset=UTF-8')
        expect(answer.attachments).toHaveLength(0)
        const list = bodyAnswer(answer.soap)
        expect([list.namespaceURI, list.localName]).toEqual([XROAD_NS, 'listMethodsResponse'])
        expect(listedServices(list).sort()).toEqual([
          'EE/BUSINESS/producer/SUB/ListMembers', 'EE/BUSINESS/producer/SUB/getRandom', 'EE/BUSINESS/producer/SUB/helloService/v1',
        ])
        validateMetainfo(list)
      } finally {
        closeConf()
      }
    })

    itWith([XMLLINT], 'allowedMethods.query: the services the consumer has a right on, directly or through a local group', async () => {
      setUp()
      try {
        const answer = await answerSoap(readFixture(META, 'queries/allowedMethods.query'))
        const list = bodyAnswer(answer.soap)
        expect([list.namespaceURI, list.localName]).toEqual([XROAD_NS, 'allowedMethodsResponse'])
        expect(listedServices(list).sort()).toEqual(['EE/BUSINESS/producer/getRandom', 'EE/BUSINESS/producer/helloService/v1'])
        validateMetainfo(list)
        // Another caller without rights gets an empty list, not a refusal.
        const other = readFixture(META, 'queries/allowedMethods.query').toString('utf8').replace('<id:memberCode>consumer</id:memberCode>', '<id:memberCode>stranger</id:memberCode>')
        const none = bodyAnswer((await answerSoap(other)).soap)
        expect(listedServices(none)).toEqual([])
        validateMetainfo(none)
      } finally {
        closeConf()
      }
    })

    it('getWsdl.query: the WSDL of getRandom as a text/xml attachment, addresses hidden, in the shape of X-Road\'s wsdl_response.xml', async () => {
      setUp()
      try {
        const answer = await answerSoap(readFixture(META, 'queries/getWsdl.query'))
        expect(answer.contentType).toMatch(/^multipart\/related; type="text\/xml"; charset=UTF-8; boundary=xroad\S+$/)
        const expected = fixtureParts(readFixture(META, 'resources/__files/wsdl_response.xml').toString('utf8'))
        expect(expected).toHaveLength(2)

        // The SOAP part: the request's body element renamed getWsdlResponse with its serviceCode, as in X-Road's answer.
        expect(answer.soap.contentType).toBe(expected[0]!.contentType)
        const ours = bodyAnswer(answer.soap)
        const theirs = bodyAnswer(readSoap(Buffer.from(expected[0]!.body, 'utf8'), 'text/xml') as SoapMessage)
        expect(describeElement(ours)).toEqual(describeElement(theirs))

        // The attachment: text/xml, binary, a wsdl=UUID@x-road.eu Content-ID; the WSDL's operations; the address hidden.
        expect(answer.attachments).toHaveLength(1)
        const attachment = answer.attachments[0]!
        expect(attachment.contentType).toBe(expected[1]!.contentType)
        expect(attachment.headers).toEqual(expect.arrayContaining([['Content-Transfer-Encoding', 'binary'], ['Content-ID', expect.stringMatching(/^<wsdl=[0-9a-f-]{36}@x-road\.eu>$/)]]))
        const wsdl = parseXml(attachment.body)
        const operations = (doc: Document) => Array.from(doc.getElementsByTagNameNS(WSDL_NS, 'portType')[0]!.getElementsByTagNameNS(WSDL_NS, 'operation')).map((o) => o.getAttribute('name'))
        expect(operations(wsdl)).toEqual(operations(parseXml(expected[1]!.body)))
        expect(operations(wsdl)).toEqual(['getRandom', 'helloService'])
        const addresses = Array.from(wsdl.getElementsByTagNameNS(SOAP_ADDRESS_NS, 'address')).map((a) => a.getAttribute('location'))
        expect(addresses).toEqual([WSDL_ENDPOINT_ADDRESS])
        expect(attachment.body.toString('utf8')).not.toContain('172.28.128.2')
        // OverwriteAttributeFilter passes comments on (CommentsHandler).
        expect(attachment.body.toString('utf8')).toContain('<!-- test comment 2 -->')
      } finally {
        closeConf()
      }
    })

    it('getWsdl refusals with X-Road\'s codes: no serviceCode, no such service, a REST service, an unreadable WSDL', async () => {
      setUp()
      try {
        const query = readFixture(META, 'queries/getWsdl.query').toString('utf8')
        const withCode = (inner: string) => query.replace(/<xroad:getWsdl>[\s\S]*<\/xroad:getWsdl>/, `<xroad:getWsdl>${inner}</xroad:getWsdl>`)
        expect((await refusal(answerSoap(withCode('')))).code).toBe('invalid_request')
        expect((await refusal(answerSoap(withCode('<xroad:serviceCode> </xroad:serviceCode>')))).message).toBe('Missing serviceCode in message body')
        const unknown = await refusal(answerSoap(withCode('<xroad:serviceCode>nothing</xroad:serviceCode>')))
        expect([unknown.code, unknown.message]).toEqual(['unknown_service', 'Could not find wsdl URL for service SERVICE:EE/BUSINESS/producer/nothing'])
        // helloService has version v1: asked without it, it is another service.
        expect((await refusal(answerSoap(withCode('<xroad:serviceCode>helloService</xroad:serviceCode>')))).code).toBe('unknown_service')
        const hello = await answerSoap(withCode('<xroad:serviceCode>helloService</xroad:serviceCode><xroad:serviceVersion>v1</xroad:serviceVersion>'))
        expect(hello.attachments).toHaveLength(1)
        const rest = await refusal(answerSoap(withCode('<xroad:serviceCode>pets</xroad:serviceCode>')))
        expect([rest.code, rest.message]).toEqual(['service_type', 'Service is a REST service and does not have a WSDL'])
        const wsdl = conf.listServiceDescriptions(producer).find((d) => d.type === 'WSDL')!
        conf.refreshWsdlDescription(wsdl.id, { url: `${base}/gone.wsdl`, services: [{ code: 'getRandom', url: `${base}/random` }], ignoreWarnings: true })
        const before = missing
        expect((await refusal(answerSoap(withCode('<xroad:serviceCode>getRandom</xroad:serviceCode>')))).code).toBe('internal_error')
        expect(missing).toBe(before + 1)
      } finally {
        closeConf()
      }
    })

    it('getWsdl reads an https WSDL as the service\'s "Verify TLS certificate" says', async () => {
      setUp()
      const tls = await loadOrCreateAdminTls(join(tempDir(), 'tls'), systemClock)
      const secure = createHttpsServer({ key: tls.key, cert: tls.cert }, (_req, res) => {
        res.writeHead(200, { 'Content-Type': 'text/xml' }).end(readFixture(META, 'resources/__files/wsdl.wsdl'))
      })
      await new Promise<void>((resolve) => secure.listen(0, '127.0.0.1', resolve))
      try {
        const wsdl = conf.listServiceDescriptions(producer).find((d) => d.type === 'WSDL')!
        conf.refreshWsdlDescription(wsdl.id, {
          url: `https://127.0.0.1:${(secure.address() as AddressInfo).port}/wsdl`, services: [{ code: 'getRandom', url: `${base}/random` }], ignoreWarnings: true,
        })
        const getRandom = serviceId(producer, 'getRandom')
        const query = readFixture(META, 'queries/getWsdl.query')
        conf.updateService(getRandom, { sslVerify: true })
        const refused = await refusal(answerSoap(query))
        expect([refused.code, refused.message]).toEqual(['internal_error', expect.stringMatching(/^Reading the WSDL failed: .*self-signed/)])
        conf.updateService(getRandom, { sslVerify: false })
        expect((await answerSoap(query)).attachments).toHaveLength(1)
      } finally {
        await new Promise<void>((resolve) => secure.close(() => resolve()))
        closeConf()
      }
    })

    it('other service codes (getstate.query) are not metaservices', () => {
      const read = readSoap(readFixture(META, 'queries/getstate.query'), 'text/xml; charset=UTF-8') as SoapMessage
      expect(soapMetaserviceHandler(read.header, {} as MetaserviceConfView)).toBeUndefined()
    })
  })

  describe('REST metaservices', () => {
    it('listMethods: the REST and OpenAPI services with their endpoints, base endpoints left out, as X-Road\'s JSON', async () => {
      setUp()
      try {
        const answer = await restAnswer(producerSub, 'listMethods', consumer, undefined, [['Accept', 'application/xml']])
        expect(answer.status).toBe(200)
        // X-Road answers JSON whatever Accept says, and the RestResponse carries the request's headers.
        expect(answer.headers).toEqual([['Accept', 'application/xml'], ['Content-Type', 'application/json']])
        expect(JSON.parse(answer.body.toString('utf8'))).toEqual({
          service: [
            {
              member_class: 'BUSINESS', member_code: 'producer', object_type: 'SERVICE', service_code: 'pets', service_type: 'REST',
              subsystem_code: 'SUB', xroad_instance: 'EE', endpoint_list: [{ method: 'GET', path: '/pets/*' }, { method: 'POST', path: '/pets' }],
            },
            {
              member_class: 'BUSINESS', member_code: 'producer', object_type: 'SERVICE', service_code: 'petstore', service_type: 'OPENAPI',
              subsystem_code: 'SUB', xroad_instance: 'EE', endpoint_list: [{ method: 'GET', path: '/pets' }, { method: 'GET', path: '/pets/*' }],
            },
          ],
        })
        // Jackson's property order of XRoadRestServiceDetailsType (PR-MREST Annex B.1).
        expect(answer.body.toString('utf8')).toMatch(/^\{"service":\[\{"member_class":"BUSINESS","member_code":"producer","object_type":"SERVICE","service_code":"pets","service_type":"REST","subsystem_code":"SUB","xroad_instance":"EE","endpoint_list":\[/)
      } finally {
        closeConf()
      }
    })

    it('allowedMethods: services with a right of the caller (own or a global group\'s), with the endpoints the rights cover', async () => {
      setUp()
      try {
        const answer = await restAnswer(producer, 'allowedMethods', consumer)
        const services = (JSON.parse(answer.body.toString('utf8')) as { service: Array<{ service_code: string; endpoint_list: unknown[] }> }).service
        expect(services.map((s) => [s.service_code, s.endpoint_list])).toEqual([
          ['pets', [{ method: 'GET', path: '/pets/*' }]],
          // The right of `partners` is on the whole service (its base endpoint): every endpoint is covered.
          ['petstore', [{ method: 'GET', path: '/pets' }, { method: 'GET', path: '/pets/*' }]],
        ])
        expect((await restAnswer(producer, 'allowedMethods', stranger)).body.toString('utf8')).toBe('{"service":[]}')
      } finally {
        closeConf()
      }
    })

    it('getOpenAPI: the YAML description with each servers url reduced to its path, the origin\'s content type', async () => {
      setUp()
      try {
        const answer = await restAnswer(producer, 'getOpenAPI', consumer, 'serviceCode=petstore')
        expect(answer.headers).toEqual([['Content-Type', 'application/x-yaml']])
        const yaml = answer.body.toString('utf8')
        // X-Road's RestMetadataServiceHandlerTest.shouldOverrideServerUrlsForYaml, in content.
        expect(yaml).not.toContain('http://petstore.swagger.io/v1/cats')
        expect(yaml.match(/\/v1\/cats/g)).toHaveLength(1)
        expect(yaml).toMatch(/- url: \/v1\/cats\n\s+- url: null\n\s+- url:\n\s+- url: ""\n\s+- url: \[ ?"this", "should", "be", "a string" ?\]/)
      } finally {
        closeConf()
      }
    })

    it('getOpenAPI: JSON by its content type, urls with variables kept; text/plain when the origin names no type', async () => {
      setUp()
      try {
        const description = conf.listServiceDescriptions(producer).find((d) => d.type === 'OPENAPI3')!
        moveOpenApi(description.id, `${base}/petstore.json`)
        const answer = await restAnswer(producer, 'getOpenAPI', consumer, 'ServiceCode=petstore')
        expect(answer.headers).toEqual([['Content-Type', 'application/json']])
        const json = answer.body.toString('utf8')
        expect(json).not.toContain('https://petstore.swagger.io/v2')
        expect(json).toContain('"url":"/v2"')
        expect(json).toContain('https://{username}.petstore.swagger.io:{port}/{basePath}')
        expect(JSON.parse(json)).toMatchObject({ openapi: '3.0.0' })
        moveOpenApi(description.id, `${base}/plain.yaml`)
        const plain = await restAnswer(producer, 'getOpenAPI', consumer, 'serviceCode=petstore')
        expect(plain.headers).toEqual([['Content-Type', 'text/plain']])
        expect(plain.body.toString('utf8')).toContain('- url: /v1/cats')
      } finally {
        closeConf()
      }
    })

    it('getOpenAPI: an uploaded description is served from the copy server configuration keeps', async () => {
      setUp()
      try {
        const document = readFixture(META, 'resources/__files/petstore.json')
        conf.addOpenApiDescription(producer, {
          url: 'petstore.json', document: new Uint8Array(document), serviceCode: 'uploaded', ignoreWarnings: true,
          parsed: { baseUrl: `${base}/api`, endpoints: [], warnings: [] },
        })
        const before = missing
        const answer = await restAnswer(producer, 'getOpenAPI', consumer, 'serviceCode=uploaded')
        expect(missing).toBe(before)
        expect(answer.headers).toEqual([['Content-Type', 'application/json']])
        expect(answer.body.toString('utf8')).toContain('"url":"/v2"')
      } finally {
        closeConf()
      }
    })

    it('getOpenAPI refusals with X-Road\'s codes', async () => {
      setUp()
      try {
        const cases: Array<[string | undefined, string, string]> = [
          [undefined, 'invalid_request', 'Missing serviceCode in message body'],
          ['serviceCode=', 'invalid_request', 'Missing serviceCode in message body'],
          ['serviceCode=nothing', 'internal_error', 'Service not found: SERVICE:EE/BUSINESS/producer/nothing'],
          ['serviceCode=pets', 'internal_error', 'Invalid service type: REST'],
          ['serviceCode=getRandom', 'internal_error', 'Invalid service type: WSDL'],
        ]
        for (const [query, code, message] of cases) {
          const error = await refusal(restAnswer(producer, 'getOpenAPI', consumer, query))
          expect([error.code, error.message]).toEqual([code, message])
        }
        const description = conf.listServiceDescriptions(producer).find((d) => d.type === 'OPENAPI3')!
        moveOpenApi(description.id, `${base}/incompatible.yaml`)
        const incompatible = await refusal(restAnswer(producer, 'getOpenAPI', consumer, 'serviceCode=petstore'))
        expect([incompatible.code, incompatible.message]).toEqual(['internal_error', expect.stringContaining('Incompatible openapi version')])
        moveOpenApi(description.id, `${base}/gone.yaml`)
        expect((await refusal(restAnswer(producer, 'getOpenAPI', consumer, 'serviceCode=petstore'))).code).toBe('internal_error')
      } finally {
        closeConf()
      }
    })

    it('only a GET of the three codes is a metaservice', () => {
      const other = (method: string, code: string) =>
        restMetaserviceHandler({ method: method as 'GET', serviceId: serviceId(producer, code), clientId: consumer, rawQuery: undefined, headers: [] }, {} as MetaserviceConfView)
      expect(other('POST', 'listMethods')).toBeUndefined()
      expect(other('GET', 'getWsdl')).toBeUndefined()
      expect(other('GET', 'pets')).toBeUndefined()
      for (const code of ['listMethods', 'allowedMethods', 'getOpenAPI']) expect(other('GET', code)).toBeDefined()
    })
  })

  describe('listClients', () => {
    const clients = [
      { id: memberId('EE', 'BUSINESS', 'producer') as ClientId, name: 'producer-name' },
      { id: subsystemId('EE', 'BUSINESS', 'producer', 'subsystem') as ClientId, name: 'producer-name', subsystemName: 'subsystem-name' },
      { id: memberId('EE', 'BUSINESS', 'a&b') as ClientId, name: 'A & <B>' },
    ]

    itWith([XMLLINT], 'XML by default: xroad:clientList as JAXB writes it, valid against service-metainfo.xsd', () => {
      const answer = listClientsResponse(clients, [])
      expect(answer.headers).toEqual([['Content-Type', 'text/xml; charset=UTF-8']])
      const xml = answer.body.toString('utf8')
      expect(xml).toBe(clientListXml(clients))
      expect(xml.split('\n').slice(0, 9)).toEqual([
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>',
        '<ns2:clientList xmlns:ns1="http://x-road.eu/xsd/identifiers" xmlns:ns2="http://x-road.eu/xsd/xroad.xsd">',
        '    <ns2:member>',
        '        <ns2:id ns1:objectType="MEMBER">',
        '            <ns1:xRoadInstance>EE</ns1:xRoadInstance>',
        '            <ns1:memberClass>BUSINESS</ns1:memberClass>',
        '            <ns1:memberCode>producer</ns1:memberCode>',
        '        </ns2:id>',
        '        <ns2:name>producer-name</ns2:name>',
      ])
      expect(xml).toContain('<ns2:subsystemName>subsystem-name</ns2:subsystemName>')
      expect(xml).toContain('<ns2:name>A &amp; &lt;B&gt;</ns2:name>')
      validateMetainfo(xml)
      validateMetainfo(clientListXml([]))
    })

    it('JSON when Accept names application/json: X-Road\'s MetadataClientRequestProcessorTest answer', () => {
      const answer = listClientsResponse(clients.slice(0, 2), ['application/json'])
      expect(answer.headers).toEqual([['Content-Type', 'application/json; charset=utf-8']])
      expect(JSON.parse(answer.body.toString('utf8'))).toEqual({
        member: [
          { id: { member_class: 'BUSINESS', member_code: 'producer', object_type: 'MEMBER', xroad_instance: 'EE' }, name: 'producer-name' },
          {
            id: { member_class: 'BUSINESS', member_code: 'producer', object_type: 'SUBSYSTEM', subsystem_code: 'subsystem', xroad_instance: 'EE' },
            name: 'producer-name', subsystem_name: 'subsystem-name',
          },
        ],
      })
    })

    it('acceptsJson as X-Road: any listed application/json, quality ignored', () => {
      expect(acceptsJson(['text/xml;q=1.0', 'application/json;q=0.9 , text/*'])).toBe(true)
      expect(acceptsJson(['Application/JSON; charset=utf-8'])).toBe(true)
      expect(acceptsJson([])).toBe(false)
      expect(acceptsJson(['x-this/that;q=1.0;param=value', 'text/xml, */*'])).toBe(false)
      expect(acceptsJson(['application/json-rpc'])).toBe(false)
    })
  })
})

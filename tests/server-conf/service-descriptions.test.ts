import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { serviceId, subsystemId, type ClientId } from '@shared/domain/identifiers'
import { decideAccess } from '../../src-main/access-control'
import { migrate, type SqlWriter } from '../../src-main/platform'
import {
  createServerConf, downloadDescription, parseOpenApi, parseWsdl, serverConfMigrations, yamlNestingDepth, type ServerConf,
} from '../../src-main/server-conf'
import { describeStorage } from '../support/postgres'

/**
 * Service descriptions: the WSDL and OpenAPI readers on hand-made descriptions (and X-Road's own test descriptions
 * when its repository mirror is on this machine), the add/refresh/enable/delete use cases over a real SQLite
 * database and a real PostgreSQL (the repository contract, issue 18), and downloads from a loopback HTTP server.
 */
const FIXTURES = join(__dirname, '..', 'fixtures', 'service-descriptions')
const fixture = (name: string): string => readFileSync(join(FIXTURES, name), 'utf8')

const provider = subsystemId('DEV', 'GOV', '1234', 'PETS')
const consumer = subsystemId('DEV', 'COM', '5678', 'APP') as ClientId
const noGroups = { localGroupMembers: () => [], isGlobalGroupMember: () => false }

describe('WSDL reader', () => {
  it('reads each SOAP-over-HTTP binding operation as a service with its version, title and address', () => {
    expect(parseWsdl(fixture('getrandom.wsdl'))).toEqual([
      { code: 'getRandom', version: 'v1', title: 'Random number', url: 'http://127.0.0.1:8081/random' },
      { code: 'helloService', version: 'v2', title: 'Hello service', url: 'https://127.0.0.1:8443/hello' },
      { code: 'listPeople', url: 'http://127.0.0.1:8081/people' },
    ])
  })

  it('refuses a WSDL with a DTD or entities (XXE, billion laughs) saying so', () => {
    for (const name of ['xxe.wsdl', 'billion-laughs.wsdl']) {
      expect(() => parseWsdl(fixture(name))).toThrow(expect.objectContaining({ code: 'invalid_wsdl', message: expect.stringMatching(/DTD or entities.*refused \(XXE\)/) }))
    }
  })

  it.each([
    ['not XML', 'FooBar!', /not well-formed XML/],
    ['a SOAP fault instead of a WSDL', '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body/></s:Envelope>', /not a WSDL 1.1 description/],
    ['a WSDL without SOAP ports', '<wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" targetNamespace="urn:x"/>', /no SOAP-over-HTTP operations/],
  ])('refuses %s with invalid_wsdl', (_name, text, message) => {
    expect(() => parseWsdl(text)).toThrow(expect.objectContaining({ code: 'invalid_wsdl', message: expect.stringMatching(message) }))
  })

  it('refuses an operation named twice in one binding, as WSDL4J does', () => {
    const twice = fixture('getrandom.wsdl').replace('<wsdl:operation name="listPeople">', '<wsdl:operation name="listPeople"/><wsdl:operation name="listPeople">')
    expect(() => parseWsdl(twice)).toThrow(/duplicate operation "listPeople"/)
  })
})

/** X-Road's own test descriptions, read from its repository mirror when this machine has one (no network). */
const MIRROR = '/work/.mirror/nordic-institute+X-Road/repo'
const XROAD_RESOURCES = 'src/security-server/admin-service/application/src/test/resources'
const xroadFile = (path: string): string => execFileSync('git', ['--git-dir', MIRROR, 'show', `HEAD:${XROAD_RESOURCES}/${path}`], { encoding: 'utf8' })

describe.skipIf(!existsSync(MIRROR))("X-Road's WsdlParserTest and OpenApiParserTest descriptions (from the local mirror)", () => {
  it('valid.wsdl has 3 services, each v1; invalid.wsdl and xxe.wsdl are refused', () => {
    const services = parseWsdl(xroadFile('wsdl/valid.wsdl'))
    expect(services.map((s) => `${s.code}.${s.version}`).sort()).toEqual(['xroadBigAttachment.v1', 'xroadGetRandom.v1', 'xroadSmallAttachment.v1'])
    expect(() => parseWsdl(xroadFile('wsdl/invalid.wsdl'))).toThrow(expect.objectContaining({ code: 'invalid_wsdl' }))
    expect(() => parseWsdl(xroadFile('wsdl/xxe.wsdl'))).toThrow(expect.objectContaining({ code: 'invalid_wsdl' }))
  })

  it('valid.json and v310.json are read; invalid_version.json is refused', () => {
    const valid = parseOpenApi(xroadFile('openapiparser/valid.json'), { url: 'http://127.0.0.1/openapi.json', name: 'valid.json' })
    expect(valid.baseUrl).toBe('https://example.org/api')
    expect(valid.endpoints.length).toBeGreaterThan(0)
    expect(parseOpenApi(xroadFile('openapiparser/v310.json'), { url: 'http://127.0.0.1/o.json', name: 'v310.json' }).endpoints.length).toBeGreaterThan(0)
    expect(() => parseOpenApi(xroadFile('openapiparser/invalid_version.json'), { name: 'invalid_version.json' }))
      .toThrow(expect.objectContaining({ code: 'unsupported_openapi_version', message: 'OpenAPI version 3.2.0 not supported' }))
  })
})

describe('OpenAPI reader', () => {
  it('derives method + path endpoints with {parameters} as * and resolves the server URL against the description URL', () => {
    const parsed = parseOpenApi(fixture('petstore.openapi.json'), { url: 'http://127.0.0.1:9/api/openapi.json', name: 'petstore' })
    expect(parsed).toEqual({
      baseUrl: 'http://127.0.0.1:9/v1',
      endpoints: [
        { method: 'GET', path: '/pets' }, { method: 'POST', path: '/pets' }, { method: 'GET', path: '/pets/*' }, { method: 'DELETE', path: '/pets/*' },
      ],
      warnings: [],
    })
  })

  it('reads the YAML form as the JSON form, refusing duplicate keys, constructing nothing from tags', () => {
    const yaml = [
      '# the pets API, as most OpenAPI files are written',
      'openapi: 3.0.3',
      'info: { title: "Pets: the API", version: \'1\' }',
      'servers:',
      '  - url: https://{host}/v1',
      '    variables:',
      '      host: { default: pets.example }',
      'paths:',
      '  /pets:',
      '    get: { summary: "list #1" }',
      '    post: {}',
      '  /pets/{petId}:',
      '    get:',
      '      parameters: [ { name: petId, in: path } ]',
      '    delete: {}',
    ].join('\n')
    expect(parseOpenApi(yaml, { name: 'pets.yaml' })).toEqual({
      baseUrl: 'https://pets.example/v1',
      endpoints: [{ method: 'GET', path: '/pets' }, { method: 'POST', path: '/pets' }, { method: 'GET', path: '/pets/*' }, { method: 'DELETE', path: '/pets/*' }],
      warnings: [],
    })
    expect(() => parseOpenApi('openapi: 3.0.0\ninfo: {}\ninfo: {}', { name: 'twice.yaml' })).toThrow(expect.objectContaining({ code: 'openapi_parsing_error' }))
    // A language-specific tag is only text in the core schema: nothing is constructed from it.
    expect(parseOpenApi('openapi: 3.0.0\ninfo: !!js/function "() => 1"\npaths: {}', { name: 'tag.yaml' })).toMatchObject({ warnings: ['attribute info is missing'] })
    expect(() => parseOpenApi('openapi: "3.0.0\n  paths: [', { name: 'broken.yaml' })).toThrow(expect.objectContaining({ code: 'openapi_parsing_error' }))
  })

  it('bounds YAML nesting from above in one pass: quotes and comments hide a bracket only where YAML reads text', () => {
    expect(yamlNestingDepth('a:\n  b:\n    c: [1, {d: 2}]\n', 64)).toBe(5)
    expect(yamlNestingDepth("a: '[[[['\nb: x # [[[[\n", 64)).toBe(1)
    // Not a quote (inside a plain scalar) and not a comment (no space before #): the brackets count.
    expect(yamlNestingDepth("a: it's [[[[\nb: x#[[[[\n", 64)).toBeGreaterThanOrEqual(5)
    // A quote ends with its line, so an unclosed one cannot hide the next line's brackets.
    expect(yamlNestingDepth("a: 'open\nb: [[[[[[\n", 64)).toBeGreaterThanOrEqual(7)
    expect(yamlNestingDepth('['.repeat(1000), 64)).toBe(65)
  })

  it('refuses OpenAPI 2 (Swagger) with its reason, warns about a missing info or paths', () => {
    expect(() => parseOpenApi(fixture('swagger2.json'), { name: 'swagger2.json' }))
      .toThrow(expect.objectContaining({ code: 'unsupported_openapi_version', message: 'OpenAPI version 2.0 not supported' }))
    expect(() => parseOpenApi('swagger: "2.0"\ninfo: {}', { name: 'pets.yaml' })).toThrow(expect.objectContaining({ code: 'unsupported_openapi_version' }))
    expect(() => parseOpenApi('{"info": {}}', { name: 'x.json' })).toThrow(expect.objectContaining({ code: 'openapi_parsing_error' }))
    expect(parseOpenApi('{"openapi": "3.0.1", "servers": [{"url": "https://{host}:8443/api", "variables": {"host": {"default": "pets.example"}}}]}', { name: 'x' }))
      .toEqual({ baseUrl: 'https://pets.example:8443/api', endpoints: [], warnings: ['attribute info is missing', 'attribute paths is missing'] })
  })
})

describeStorage('service description use cases', (engine) => {
  let db: SqlWriter
  let conf: ServerConf
  const open = (): void => {
    db = engine.open()
    migrate(db, [serverConfMigrations])
    conf = createServerConf(db)
    conf.addClient(provider, 'REGISTERED')
  }
  const close = (): void => engine.close(db)

  it('adds a WSDL disabled ("Out of order"), its services keyed by code and version, each with its own access rights', () => {
    open()
    try {
      const added = conf.addWsdlDescription(provider, 'http://127.0.0.1:1/random.wsdl', parseWsdl(fixture('getrandom.wsdl')))
      expect(added).toMatchObject({ type: 'WSDL', disabled: true, disabledNotice: 'Out of order', uploaded: false })
      expect(added.services.map((s) => [s.serviceId.serviceCode, s.serviceId.serviceVersion, s.title])).toEqual([
        ['getRandom', 'v1', 'Random number'], ['helloService', 'v2', 'Hello service'], ['listPeople', undefined, undefined],
      ])
      const v1 = serviceId(provider, 'getRandom', 'v1')
      conf.grantAccess(v1, consumer)
      conf.setServiceDescriptionEnabled(added.id, true)
      const request = (id: typeof v1) => ({ client: consumer, service: id, method: 'POST', path: '' })
      expect(decideAccess(request(v1), conf.accessRightsFor(v1), noGroups)).toMatchObject({ allowed: true })
      // Another version of the same code is another service: no right there, and an unversioned request names none.
      expect(conf.accessRightsFor(serviceId(provider, 'getRandom', 'v2'))).toBeUndefined()
      expect(conf.accessRightsFor(serviceId(provider, 'getRandom'))).toBeUndefined()

      conf.setServiceDescriptionEnabled(added.id, false, 'Back on Monday')
      expect(decideAccess(request(v1), conf.accessRightsFor(v1), noGroups)).toMatchObject({ allowed: false, code: 'service_disabled', message: expect.stringMatching(/Back on Monday/) })

      expect(() => conf.addWsdlDescription(provider, 'HTTP://127.0.0.1:1/RANDOM.wsdl', [])).toThrow(expect.objectContaining({ code: 'wsdl_exists' }))
      expect(() => conf.addWsdlDescription(provider, 'http://127.0.0.1:1/other.wsdl', [{ code: 'GETRANDOM', version: 'V1' }]))
        .toThrow(expect.objectContaining({ code: 'service_already_exists' }))
      expect(() => conf.addWsdlDescription(provider, 'http://127.0.0.1:1/bad.wsdl', [{ code: 'a:b' }])).toThrow(expect.objectContaining({ code: 'invalid_wsdl_service_identifier' }))
      expect(() => conf.addWsdlDescription(provider, 'http://127.0.0.1:1/bad.wsdl', [{ code: 'x', url: 'ftp://h/x' }])).toThrow(expect.objectContaining({ code: 'invalid_service_url' }))
      expect(() => conf.addWsdlDescription(provider, 'http://127.0.0.1:1/bad.wsdl', [{ code: 'listMethods' }])).toThrow(expect.objectContaining({ code: 'service_code_reserved' }))
      expect(() => conf.deleteService(v1)).toThrow(expect.objectContaining({ code: 'wrong_servicedescription_type' }))
      expect(() => conf.addEndpoint(v1, { method: 'GET', path: '/x' })).toThrow(expect.objectContaining({ code: 'wrong_servicedescription_type' }))
    } finally {
      close()
    }
  })

  it('refreshes a WSDL: warns with what is added and removed and the rights that would go, applies only when confirmed', () => {
    open()
    try {
      const added = conf.addWsdlDescription(provider, 'http://127.0.0.1:1/random.wsdl', parseWsdl(fixture('getrandom.wsdl')))
      const hello = serviceId(provider, 'helloService', 'v2')
      conf.updateService(hello, { timeoutSeconds: 5, sslVerify: false })
      conf.grantAccess(serviceId(provider, 'getRandom', 'v1'), consumer)
      conf.grantAccess(hello, consumer)
      const refreshed = parseWsdl(fixture('getrandom-refreshed.wsdl'))

      const preview = conf.refreshWsdlDescription(added.id, { services: refreshed, ignoreWarnings: false })
      expect(preview.applied).toBe(false)
      expect(preview.warnings).toEqual([
        { code: 'adding_services', metadata: ['getRandom.v2', 'listPeople.v1'] },
        { code: 'deleting_services', metadata: ['getRandom.v1', 'listPeople'] },
      ])
      expect(preview.accessRightsRemoved.map((r) => r.serviceId.serviceVersion)).toEqual(['v1'])
      expect(conf.findService(serviceId(provider, 'getRandom', 'v1'))).toBeDefined()

      const done = conf.refreshWsdlDescription(added.id, { services: refreshed, ignoreWarnings: true })
      expect(done.applied).toBe(true)
      expect(done.description?.services.map((s) => `${s.serviceId.serviceCode}.${s.serviceId.serviceVersion}`)).toEqual(['getRandom.v2', 'helloService.v2', 'listPeople.v1'])
      expect(conf.listAccessRights(hello)).toHaveLength(1)
      expect(conf.findService(hello)).toMatchObject({ timeoutSeconds: 5, sslVerify: false })
      expect(conf.refreshWsdlDescription(added.id, { services: refreshed, ignoreWarnings: false })).toMatchObject({ applied: true, warnings: [] })
    } finally {
      close()
    }
  })

  it('adds an OpenAPI 3 description with read-only generated endpoints and refreshes them, hand-made endpoints kept', () => {
    open()
    try {
      const url = 'http://127.0.0.1:9/api/openapi.json'
      const change = conf.addOpenApiDescription(provider, { url, serviceCode: 'pets', parsed: parseOpenApi(fixture('petstore.openapi.json'), { url, name: url }), ignoreWarnings: false })
      expect(change.applied).toBe(true)
      const pets = serviceId(provider, 'pets')
      expect(conf.findService(pets)).toMatchObject({ url: 'http://127.0.0.1:9/v1', descriptionType: 'OPENAPI3', disabled: true })
      expect(conf.listEndpoints(pets).map((e) => `${e.method} ${e.path} ${e.generated}`)).toEqual([
        '* ** true', 'GET /pets true', 'POST /pets true', 'GET /pets/* true', 'DELETE /pets/* true',
      ])
      expect(() => conf.updateEndpoint(pets, { method: 'GET', path: '/pets' }, { method: 'GET', path: '/cats' })).toThrow(expect.objectContaining({ code: 'illegal_generated_endpoint_update' }))
      conf.addEndpoint(pets, { method: 'GET', path: '/owners/*/pets' })
      conf.addEndpoint(pets, { method: 'GET', path: '/health' })
      conf.grantAccess(pets, consumer, { method: 'DELETE', path: '/pets/*' })

      const next = parseOpenApi(fixture('petstore-refreshed.openapi.json'), { url, name: url })
      const preview = conf.refreshOpenApiDescription(change.description!.id, { parsed: next, ignoreWarnings: false })
      expect(preview).toMatchObject({ applied: false, warnings: [{ code: 'deleting_endpoints', metadata: ['DELETE /pets/*'] }] })
      expect(preview.accessRightsRemoved).toHaveLength(1)
      conf.refreshOpenApiDescription(change.description!.id, { parsed: next, ignoreWarnings: true })
      expect(conf.listEndpoints(pets).map((e) => `${e.method} ${e.path} ${e.generated}`)).toEqual([
        '* ** true', 'GET /pets true', 'POST /pets true', 'GET /pets/* true', 'GET /owners/*/pets true', 'GET /health false',
      ])
      expect(conf.listAccessRights(pets)).toEqual([])

      expect(() => conf.addOpenApiDescription(provider, { url, serviceCode: 'other', parsed: next, ignoreWarnings: true })).toThrow(expect.objectContaining({ code: 'url_already_exists' }))
      expect(() => conf.addRestDescription(provider, 'http://127.0.0.1:9/other', 'PETS')).toThrow(expect.objectContaining({ code: 'service_code_already_exists' }))
      const warned = conf.addOpenApiDescription(provider, { url: 'http://127.0.0.1:9/w.json', serviceCode: 'w', parsed: parseOpenApi('{"openapi":"3.0.0","servers":[{"url":"http://h/"}]}', { name: 'w' }), ignoreWarnings: false })
      expect(warned).toEqual({ applied: false, warnings: [{ code: 'openapi_validation_warnings', metadata: ['attribute info is missing', 'attribute paths is missing'] }], accessRightsRemoved: [] })
      expect(conf.listServiceDescriptions(provider)).toHaveLength(1)
    } finally {
      close()
    }
  })

  it('adds, edits and deletes a REST description; deleting takes the services and their access rights', () => {
    open()
    try {
      const rest = conf.addRestDescription(provider, 'http://127.0.0.1:9/owners', 'owners')
      const owners = serviceId(provider, 'owners')
      conf.grantAccess(owners, consumer)
      const edited = conf.updateServiceDescription(rest.id, { url: 'https://127.0.0.1:9/owners', serviceCode: 'people' })
      expect(edited.url).toBe('https://127.0.0.1:9/owners')
      expect(edited.services.map((s) => [s.serviceId.serviceCode, s.url])).toEqual([['people', 'https://127.0.0.1:9/owners']])
      expect(conf.deleteServiceDescription(rest.id).map((r) => r.subject)).toEqual([consumer])
      expect(conf.listServiceDescriptions(provider)).toEqual([])
      expect(() => conf.deleteServiceDescription(rest.id)).toThrow(expect.objectContaining({ code: 'service_description_not_found' }))
    } finally {
      close()
    }
  })
})

describe('downloading a description', () => {
  let server: Server
  let base: string
  const big = 'x'.repeat(300_000)
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/random.wsdl') res.end(fixture('getrandom.wsdl'))
      else if (req.url === '/big') res.end(big)
      else if (req.url === '/slow') setTimeout(() => res.end('late'), 2_000)
      else {
        res.statusCode = 404
        res.end('not here')
      }
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(async () => {
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })
  const options = { maxBytes: 100_000, timeoutMs: 500, failureCode: 'wsdl_download_failed' as const, what: 'Reading WSDL failed' }

  it('reads a description and refuses what is too big, too slow, missing, or not http(s)', async () => {
    expect(parseWsdl(await downloadDescription(`${base}/random.wsdl`, options))).toHaveLength(3)
    await expect(downloadDescription(`${base}/big`, options)).rejects.toMatchObject({ code: 'wsdl_download_failed', message: expect.stringMatching(/Size exceeds 100000 bytes/) })
    await expect(downloadDescription(`${base}/slow`, options)).rejects.toMatchObject({ code: 'wsdl_download_failed', message: expect.stringMatching(/within 500 ms/) })
    await expect(downloadDescription(`${base}/nothing`, options)).rejects.toMatchObject({ code: 'wsdl_download_failed', message: expect.stringMatching(/HTTP 404/) })
    await expect(downloadDescription('file:///etc/passwd', options)).rejects.toMatchObject({ code: 'malformed_url', message: expect.stringMatching(/not file:/) })
    await expect(downloadDescription('http://127.0.0.1:1/x', options)).rejects.toMatchObject({ code: 'wsdl_download_failed' })
  })
})

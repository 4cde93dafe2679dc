import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { subsystemId } from '@shared/domain/identifiers'
import type { AdminRole } from '@shared/admin-api/admin-roles'
import type { IpcResult } from '@shared/admin-api/ipc-result'
import type { AccessRightDto, AuditLogEntry, ServiceDescriptionChangeDto, ServiceDescriptionDto } from '@shared/admin-api/admin-api'
import { createSecurityServer, parseServerConfig, type SecurityServer } from '../../src-main/server'
import { createLogger } from '../../src-main/platform'

/**
 * Service descriptions through `admin.call`, as the GUI and the HTTPS API reach them: a WSDL and an OpenAPI 3
 * description read from a loopback HTTP server, an OpenAPI file, a REST base URL; refresh with its warnings and the
 * confirmation; enable/disable; delete; roles; and what the audit log records.
 */
const FIXTURES = join(__dirname, '..', 'fixtures', 'service-descriptions')
const PROVIDER = 'SUBSYSTEM:DEV/GOV/1234/PETS'
interface Caller {
  actor: string
  roles: readonly AdminRole[]
}
const admin: Caller = { actor: 'services-admin', roles: ['service-administrator'] }
const observer: Caller = { actor: 'watcher', roles: ['observer'] }

let dir: string
let server: SecurityServer
let http: Server
let base: string
/** What the loopback server serves at each path; tests change it to simulate a new release of a description. */
const served = new Map<string, string>()

async function call<T>(domain: string, method: string, input: unknown, caller: Caller = admin): Promise<T> {
  const result = (await server.admin.call(caller, domain, method, [input])) as IpcResult<T>
  if (!result.ok) throw Object.assign(new Error(`${domain}.${method}: ${result.error.code} ${result.error.message}`), result.error)
  return result.value
}
async function failure(domain: string, method: string, input: unknown, caller: Caller = admin): Promise<{ code: string; message: string; detail?: string }> {
  const result = await server.admin.call(caller, domain, method, [input])
  expect(result.ok, `${domain}.${method} should fail`).toBe(false)
  return result.ok ? { code: '', message: '' } : result.error
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gatehouse-service-descriptions-'))
  const config = parseServerConfig({ internal: { adminPort: null, clientProxyHttpPort: null, clientProxyHttpsPort: null }, external: { serverProxyPort: null, ocspResponderPort: null }, shutdownGraceMs: 100 }, 'test')
  server = createSecurityServer({ dataDir: join(dir, 'data'), config, logger: createLogger({ level: 'silent' }) })
  await server.start()
  server.core.serverConf.addClient(subsystemId('DEV', 'GOV', '1234', 'PETS'), 'REGISTERED')
  http = createServer((req, res) => {
    const body = served.get(req.url ?? '')
    res.statusCode = body === undefined ? 404 : 200
    res.end(body ?? 'not found')
  })
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`
  served.set('/random.wsdl', readFileSync(join(FIXTURES, 'getrandom.wsdl'), 'utf8'))
  served.set('/xxe.wsdl', readFileSync(join(FIXTURES, 'xxe.wsdl'), 'utf8'))
  served.set('/api/openapi.json', readFileSync(join(FIXTURES, 'petstore.openapi.json'), 'utf8'))
  served.set('/swagger.json', readFileSync(join(FIXTURES, 'swagger2.json'), 'utf8'))
}, 60_000)

afterAll(async () => {
  http?.closeAllConnections()
  await new Promise<void>((resolve) => (http ? http.close(() => resolve()) : resolve()))
  await server?.stop()
  rmSync(dir, { recursive: true, force: true })
})

describe('WSDL descriptions', () => {
  it('adds a WSDL by URL: each operation and version a service, disabled with "Out of order"; a refresh shows what changes', async () => {
    const added = await call<ServiceDescriptionDto>('serviceDescriptions', 'addWsdl', { client: PROVIDER, url: `${base}/random.wsdl` })
    expect(added).toMatchObject({ type: 'WSDL', disabled: true, disabledNotice: 'Out of order', client: PROVIDER })
    expect(added.services.map((s) => [s.id, s.serviceVersion, s.title, s.descriptionType])).toEqual([
      ['SERVICE:DEV/GOV/1234/PETS/getRandom;v=v1', 'v1', 'Random number', 'WSDL'],
      ['SERVICE:DEV/GOV/1234/PETS/helloService;v=v2', 'v2', 'Hello service', 'WSDL'],
      ['SERVICE:DEV/GOV/1234/PETS/listPeople', null, null, 'WSDL'],
    ])
    // Access rights and per-service settings through the existing methods, by the versioned id.
    await call('accessRights', 'grant', { service: 'SERVICE:DEV/GOV/1234/PETS/getRandom;v=v1', subject: 'SUBSYSTEM:DEV/COM/5678/APP' })
    await call('services', 'update', { service: 'SERVICE:DEV/GOV/1234/PETS/helloService;v=v2', timeoutSeconds: 10, sslVerify: false })

    served.set('/random.wsdl', readFileSync(join(FIXTURES, 'getrandom-refreshed.wsdl'), 'utf8'))
    const preview = await call<ServiceDescriptionChangeDto>('serviceDescriptions', 'refresh', { id: added.id })
    expect(preview.applied).toBe(false)
    expect(preview.warnings).toEqual([
      { code: 'adding_services', metadata: ['getRandom.v2', 'listPeople.v1'] },
      { code: 'deleting_services', metadata: ['getRandom.v1', 'listPeople'] },
    ])
    expect(preview.accessRightsRemoved.map((r) => r.subject)).toEqual(['SUBSYSTEM:DEV/COM/5678/APP'])
    const done = await call<ServiceDescriptionChangeDto>('serviceDescriptions', 'refresh', { id: added.id, ignoreWarnings: true })
    expect(done.applied).toBe(true)
    expect(done.description?.services.map((s) => [s.serviceCode, s.serviceVersion, s.timeoutSeconds])).toEqual([
      ['getRandom', 'v2', 60], ['helloService', 'v2', 10], ['listPeople', 'v1', 60],
    ])

    const enabled = await call<ServiceDescriptionDto>('serviceDescriptions', 'setEnabled', { id: added.id, enabled: true })
    expect(enabled.services.every((s) => !s.disabled)).toBe(true)
    const disabled = await call<ServiceDescriptionDto>('serviceDescriptions', 'setEnabled', { id: added.id, enabled: false, notice: 'Upgrade until 14:00' })
    expect(disabled).toMatchObject({ disabled: true, disabledNotice: 'Upgrade until 14:00' })
    expect(disabled.services.every((s) => s.disabled && s.disabledNotice === 'Upgrade until 14:00')).toBe(true)
  })

  it('refuses what X-Road refuses, with its codes and the field', async () => {
    expect(await failure('serviceDescriptions', 'addWsdl', { client: PROVIDER, url: `${base}/random.wsdl` })).toMatchObject({ code: 'wsdl_exists', detail: 'url' })
    expect(await failure('serviceDescriptions', 'addWsdl', { client: PROVIDER, url: `${base}/xxe.wsdl` })).toMatchObject({ code: 'invalid_wsdl', message: expect.stringMatching(/XXE/) })
    expect(await failure('serviceDescriptions', 'addWsdl', { client: PROVIDER, url: `${base}/missing.wsdl` })).toMatchObject({ code: 'wsdl_download_failed', detail: 'url' })
    expect(await failure('serviceDescriptions', 'addWsdl', { client: PROVIDER, url: 'file:///etc/passwd' })).toMatchObject({ code: 'malformed_url', detail: 'url' })
    expect(await failure('serviceDescriptions', 'addWsdl', { client: 'MEMBER:DEV/GOV/1234', url: `${base}/other.wsdl` })).toMatchObject({ code: 'validation_failed', detail: 'client' })
    expect((await failure('serviceDescriptions', 'addWsdl', { client: PROVIDER, url: `${base}/x.wsdl` }, observer)).code).toBe('forbidden')
  })
})

describe('OpenAPI and REST descriptions', () => {
  it('adds an OpenAPI 3 description by URL and by file; refuses OpenAPI 2 and a file given with a URL', async () => {
    const byUrl = await call<ServiceDescriptionChangeDto>('serviceDescriptions', 'addOpenApi', { client: PROVIDER, serviceCode: 'pets', url: `${base}/api/openapi.json` })
    expect(byUrl.applied).toBe(true)
    expect(byUrl.description?.services[0]).toMatchObject({ serviceCode: 'pets', url: `${base}/v1`, descriptionType: 'OPENAPI3' })
    expect(byUrl.description?.services[0]?.endpoints.filter((e) => e.generated).map((e) => `${e.method} ${e.path}`)).toEqual([
      '* **', 'GET /pets', 'POST /pets', 'GET /pets/*', 'DELETE /pets/*',
    ])
    const content = readFileSync(join(FIXTURES, 'petstore-refreshed.openapi.json'), 'utf8').replace('"url": "/v1"', '"url": "https://pets.example/v2"')
    const file = { name: 'pets-v2.json', contentBase64: Buffer.from(content).toString('base64') }
    const byFile = await call<ServiceDescriptionChangeDto>('serviceDescriptions', 'addOpenApi', { client: PROVIDER, serviceCode: 'pets2', file })
    expect(byFile.description).toMatchObject({ url: 'pets-v2.json', uploaded: true, services: [{ url: 'https://pets.example/v2' }] })
    expect(await failure('serviceDescriptions', 'refresh', { id: byFile.description!.id })).toMatchObject({ code: 'validation_failed', detail: 'file' })
    expect((await call<ServiceDescriptionChangeDto>('serviceDescriptions', 'refresh', { id: byFile.description!.id, file })).applied).toBe(true)

    expect(await failure('serviceDescriptions', 'addOpenApi', { client: PROVIDER, serviceCode: 'old', url: `${base}/swagger.json` }))
      .toMatchObject({ code: 'unsupported_openapi_version', message: 'OpenAPI version 2.0 not supported' })
    expect(await failure('serviceDescriptions', 'addOpenApi', { client: PROVIDER, serviceCode: 'x', url: `${base}/api/openapi.json`, file }))
      .toMatchObject({ code: 'validation_failed' })
  })

  it('adds, edits and deletes a REST description; deleting reports the access rights that went', async () => {
    const rest = await call<ServiceDescriptionDto>('serviceDescriptions', 'addRest', { client: PROVIDER, serviceCode: 'owners', url: 'http://127.0.0.1:9/owners' })
    await call('accessRights', 'grant', { service: 'DEV/GOV/1234/PETS/owners', subject: 'SUBSYSTEM:DEV/COM/5678/APP' })
    expect(await failure('serviceDescriptions', 'addRest', { client: PROVIDER, serviceCode: 'OWNERS', url: 'http://127.0.0.1:9/other' })).toMatchObject({ code: 'service_code_already_exists' })
    expect((await call<ServiceDescriptionDto>('serviceDescriptions', 'update', { id: rest.id, url: 'http://127.0.0.1:9/people' })).services[0]?.url).toBe('http://127.0.0.1:9/people')
    expect(await failure('serviceDescriptions', 'refresh', { id: rest.id })).toMatchObject({ code: 'wrong_servicedescription_type' })
    const gone = await call<AccessRightDto[]>('serviceDescriptions', 'delete', { id: rest.id })
    expect(gone.map((r) => r.subject)).toEqual(['SUBSYSTEM:DEV/COM/5678/APP'])
    expect((await call<ServiceDescriptionDto[]>('serviceDescriptions', 'list', { client: PROVIDER })).map((d) => d.type)).toEqual(['WSDL', 'OPENAPI3', 'OPENAPI3'])
  })

  it('records each change in the audit log with the description as the object and its state before and after', async () => {
    const entries = await call<AuditLogEntry[]>('audit', 'search', { event: 'serviceDescriptions.' }, { actor: 'auditor', roles: ['security-officer'] })
    const events = entries.map((e) => `${e.event} ${e.outcome}`)
    expect(events).toEqual(expect.arrayContaining(['serviceDescriptions.addWsdl success', 'serviceDescriptions.refresh success', 'serviceDescriptions.addWsdl failure']))
    const deleted = entries.find((e) => e.event === 'serviceDescriptions.delete')
    expect(deleted?.object).toMatch(/^servicedescription:\d+$/)
    expect(deleted?.data).toMatchObject({ before: { type: 'REST' }, after: null })
    const upload = entries.find((e) => e.event === 'serviceDescriptions.addOpenApi' && e.outcome === 'success' && JSON.stringify(e.data).includes('pets-v2.json'))
    expect(upload?.actor).toBe('services-admin')
  })
})

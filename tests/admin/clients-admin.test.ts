import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer as createNetServer, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { globalGroupId, memberId } from '@shared/domain/identifiers'
import { ADMIN_ROLES } from '@shared/admin-api/admin-roles'
import type { IpcResult } from '@shared/admin-api/ipc-result'
import type {
  AccessRightDto, ClientDto, ClientRemovalDto, ClientRequestDto, GlobalGroupDto, GlobalMemberDto, GlobalServerDto,
  InternalTlsCertificateDto, IsCertificateDto, LabManagementDto, LabOperationDto, LabStatus, LocalGroupDto, ServiceDto,
} from '@shared/admin-api/admin-api'
import { createAdminRuntime, type AdminRuntime } from '../../src-main/admin'
import { openLab } from '../../src-main/lab'
import { createSecurityServer, parseServerConfig, type SecurityServer } from '../../src-main/server'
import { createLogger, systemClock } from '../../src-main/platform'
import { runGatehouseAsync } from '../support/cli'
import { freePortPair } from '../integration/lab-pair'

/**
 * Clients, services, endpoints, local groups and access rights after setup, through `admin.call` as the GUI does, on a
 * server that created its own lab and is the lab's management security server: registering a subsystem sends a
 * clientReg management request through this server's own client proxy to the lab's management service, which approves
 * it; unregistering sends clientDeletion. Neither touches the lab's registry directly. The owner cannot be registered,
 * unregistered or deleted; deleting takes services, endpoints, rights and groups along; IS connection type and TLS
 * certificates. `gatehouse client register` sends the same request from another process.
 */
const PIN = 'Clients-Token-9753'
const caller = { actor: 'tester', roles: ADMIN_ROLES }
const OWNER = 'MEMBER:DEMO/GOV/7001'
const PORTAL = 'SUBSYSTEM:DEMO/GOV/7001/portal'
const BILLING = 'SUBSYSTEM:DEMO/GOV/7001/billing'
const SERVER = 'SERVER:DEMO/GOV/7001/ss1'

let dir: string
let dataDir: string
let server: SecurityServer
let runtime: AdminRuntime
let clientProxyUrl: string
/** A second admin runtime over the same server that has no client proxy to send through. */
let withoutProxy: AdminRuntime
const logLines: string[] = []

async function callOn<T>(on: AdminRuntime, domain: string, method: string, ...args: unknown[]): Promise<T> {
  const result = (await on.service.call(caller, domain, method, args)) as IpcResult<T>
  if (!result.ok) throw Object.assign(new Error(`${domain}.${method}: ${result.error.code} ${result.error.message}`), { code: result.error.code })
  return result.value
}
const call = <T>(domain: string, method: string, ...args: unknown[]): Promise<T> => callOn<T>(runtime, domain, method, ...args)

async function failureOn(on: AdminRuntime, domain: string, method: string, ...args: unknown[]): Promise<{ code: string; detail?: string; message?: string }> {
  const result = await on.service.call(caller, domain, method, args)
  expect(result.ok, `${domain}.${method} should fail`).toBe(false)
  return result.ok ? { code: '' } : { code: result.error.code, ...(result.error.detail === undefined ? {} : { detail: result.error.detail }), message: result.error.message }
}
async function failure(domain: string, method: string, ...args: unknown[]): Promise<{ code: string; detail?: string }> {
  const { message: _message, ...rest } = await failureOn(runtime, domain, method, ...args)
  return rest
}

async function until<T>(probe: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (done(value) || Date.now() > end) return value
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

async function freePort(): Promise<number> {
  const probe = createNetServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const port = (probe.address() as AddressInfo).port
  await new Promise((resolve) => probe.close(resolve))
  return port
}

const client = async (id: string): Promise<ClientDto | undefined> => (await call<ClientDto[]>('clients', 'list')).find((c) => c.id === id)
const clientsOfThisServer = async (): Promise<string[]> => (await call<GlobalServerDto[]>('globalConf', 'servers')).find((s) => s.id === SERVER)?.clients ?? []
const labRequests = async (): Promise<LabManagementDto['requests']> => (await call<LabManagementDto>('lab', 'managementRequests')).requests

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gatehouse-clients-admin-'))
  dataDir = join(dir, 'data')
  // The lab registers this server at its server proxy's port; management requests leave through the client proxy. Both
  // listen once the server has joined the instance.
  const clientProxyPort = await freePort()
  clientProxyUrl = `http://127.0.0.1:${clientProxyPort}/`
  const serverProxyPort = await freePortPair()
  const config = parseServerConfig({
    internal: { host: '127.0.0.1', adminPort: null, clientProxyHttpPort: clientProxyPort, clientProxyHttpsPort: null },
    // Peers fetch OCSP responses at the server proxy's port + 77 (X-Road's 5500/5577); here the server is its own peer.
    external: { host: '127.0.0.1', serverProxyPort, ocspResponderPort: serverProxyPort + 77 },
    shutdownGraceMs: 100,
  }, 'test')
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logLines.push(chunk.toString('utf8'))
      done()
    },
  })
  const logger = createLogger({ level: 'debug', destination: sink })
  server = createSecurityServer({ dataDir, config, logger })
  await server.start()
  const system = (root: string) => ({
    version: 'test', dataDir: root, backupsDir: join(root, 'backups'), clock: systemClock, databases: [],
    status: () => ({ state: 'running' as const, startedAt: null, initialized: true, listeners: [] }),
  })
  runtime = createAdminRuntime({
    serverConfDb: () => server.core.databases.local, domains: server.core, clock: systemClock, logger, serverProxyPort: config.external.serverProxyPort,
    system: system(dataDir), clientProxyUrl: () => clientProxyUrl,
  })
  withoutProxy = createAdminRuntime({ serverConfDb: () => server.core.databases.local, domains: server.core, clock: systemClock, logger, system: system(join(dir, 'elsewhere')) })

  await call('lab', 'create', { instance: 'DEMO', memberClass: 'GOV', memberCode: '7001', memberName: 'Demo Agency', subsystemCode: 'portal', serverCode: 'ss1', softwareTokenPin: PIN })
  const waiting = await until(async () => (await call<LabStatus>('lab', 'status')).operation as LabOperationDto, (op) => op.state !== 'running')
  expect(waiting.state, JSON.stringify(waiting.steps)).toBe('awaiting-confirmation')
  await call('lab', 'confirm', { confirmedHash: waiting.anchor?.hash })
  const joined = await until(async () => (await call<LabStatus>('lab', 'status')).operation as LabOperationDto, (op) => op.state !== 'running')
  expect(joined.state, JSON.stringify(joined.steps)).toBe('done')
  // The lab operator's bootstrap: this server serves the lab's management services (X-Road's management security server).
  await call('lab', 'serveManagementServices')
  await call('globalConf', 'refresh')
}, 120_000)

afterAll(async () => {
  await withoutProxy?.close()
  await runtime?.close()
  await server?.stop()
  rmSync(dir, { recursive: true, force: true })
})

describe('registering clients', () => {
  it('adds a subsystem of a member from global configuration and registers it with a clientReg management request', async () => {
    const members = await call<GlobalMemberDto[]>('globalConf', 'members')
    expect(members).toEqual([{ id: OWNER, name: 'Demo Agency', memberClass: 'GOV', subsystems: [PORTAL, 'SUBSYSTEM:DEMO/GOV/7001/MANAGEMENT'] }])
    expect(await call<ClientDto>('clients', 'add', { client: 'DEMO/GOV/7001/billing' })).toMatchObject({ id: BILLING, state: 'SAVED', owner: false })
    expect(await failure('clients', 'add', { client: 'OTHER/GOV/7001/x' })).toEqual(expect.objectContaining({ code: 'validation_failed', detail: 'client' }))

    const registered = await call<ClientRequestDto>('clients', 'register', { client: BILLING })
    expect(registered).toMatchObject({
      dryRun: false, service: 'clientReg', via: 'client-proxy', requestId: expect.any(Number),
      request: { service: 'clientReg', subject: BILLING, status: 'SUBMITTED' }, client: { id: BILLING, state: 'REGISTRATION_IN_PROGRESS' },
    })
    // The same request as management.registerClient: stored once, and the lab received and approved it.
    expect((await call<Array<{ requestId: number }>>('management', 'requests', { subject: BILLING })).map((r) => r.requestId)).toEqual([registered.requestId])
    expect((await labRequests()).find((r) => r.id === registered.requestId)).toMatchObject({ type: 'clientReg', status: 'APPROVED' })
    // The lab signed new configuration; the next download lists the client on this server and it becomes REGISTERED.
    await call('globalConf', 'refresh')
    expect(await clientsOfThisServer()).toEqual(expect.arrayContaining([PORTAL, BILLING]))
    expect((await call<GlobalMemberDto[]>('globalConf', 'members'))[0]?.subsystems).toContain(BILLING)
    expect((await until(() => client(BILLING), (c) => c?.state === 'REGISTERED'))?.state).toBe('REGISTERED')
    expect((await failure('clients', 'register', { client: BILLING })).code).toBe('action_not_possible')
  })

  it('a request the central server refuses, or that cannot be signed, leaves the client SAVED with the reason', async () => {
    // The lab lists PORTAL on this server already: its management service refuses a second clientReg.
    await call('clients', 'setState', { client: PORTAL, state: 'SAVED' })
    const before = (await call<unknown[]>('management', 'requests')).length
    const refused = await failureOn(runtime, 'clients', 'register', { client: PORTAL })
    // Relayed as X-Road's management service relays the central server's refusal: internal_error, "<code> with statusCode <status>".
    expect(refused).toMatchObject({ code: 'internal_error', message: 'management_request_client_already_registered with statusCode 409' })
    expect((await client(PORTAL))?.state).toBe('SAVED')
    expect(await call<unknown[]>('management', 'requests')).toHaveLength(before)
    await call('clients', 'setState', { client: PORTAL, state: 'REGISTERED' })

    // No member DEMO/GOV/4242 signing certificate here: nothing is sent.
    await call('clients', 'add', { client: 'DEMO/GOV/4242/app' })
    expect(await failureOn(runtime, 'clients', 'register', { client: 'DEMO/GOV/4242/app' })).toMatchObject({ code: 'cannot_sign', message: expect.stringContaining('MEMBER:DEMO/GOV/4242') })
    expect((await client('SUBSYSTEM:DEMO/GOV/4242/app'))?.state).toBe('SAVED')
    const removal = await call<ClientRemovalDto>('clients', 'delete', { client: 'SUBSYSTEM:DEMO/GOV/4242/app' })
    expect(removal).toEqual({ services: [], accessRights: 0, localGroups: [], isCertificates: 0, rightsAsSubject: 0, groupMemberships: 0 })
    expect(await client('SUBSYSTEM:DEMO/GOV/4242/app')).toBeUndefined()
  })

  it('without a client proxy to send through, nothing is sent and the client stays SAVED', async () => {
    await call('clients', 'add', { client: 'DEMO/GOV/7001/reports' })
    expect(await failureOn(withoutProxy, 'clients', 'register', { client: 'DEMO/GOV/7001/reports' })).toMatchObject({ code: 'network_error' })
    expect((await client('SUBSYSTEM:DEMO/GOV/7001/reports'))?.state).toBe('SAVED')
    expect(await call('management', 'requests', { subject: 'SUBSYSTEM:DEMO/GOV/7001/reports' })).toEqual([])
  })

  it('gatehouse client register sends the same clientReg from another process and answers the request id and state', async () => {
    const run = await runGatehouseAsync(['client', 'register', '--data-dir', dataDir, '--client', 'DEMO/GOV/7001/reports', '--client-proxy', clientProxyUrl, '--pin', PIN, '--json'])
    expect(run.stderr).toBe('')
    expect(run.status).toBe(0)
    const json = JSON.parse(run.stdout) as { service: string; requestId: number; client: { id: string; state: string } }
    expect(json).toMatchObject({ service: 'clientReg', requestId: expect.any(Number), client: { id: 'DEMO/GOV/7001/reports', state: 'REGISTRATION_IN_PROGRESS' } })
    expect((await labRequests()).find((r) => r.id === json.requestId)).toMatchObject({ type: 'clientReg', status: 'APPROVED' })
    await call('globalConf', 'refresh')
    expect(await clientsOfThisServer()).toContain('SUBSYSTEM:DEMO/GOV/7001/reports')
  })

  it('refuses to register, unregister, disable-then-delete or delete the owner member, with the reason', async () => {
    expect((await client(OWNER))?.owner).toBe(true)
    expect((await failure('clients', 'register', { client: OWNER })).code).toBe('cannot_register_owner')
    expect((await failure('clients', 'unregister', { client: OWNER })).code).toBe('cannot_unregister_owner')
    expect((await failure('clients', 'delete', { client: OWNER })).code).toBe('cannot_delete_owner')
    expect((await failure('clients', 'delete', { client: PORTAL })).code).toBe('action_not_possible')
  })
})

describe('disabling, unregistering and deleting a client', () => {
  it('disables and enables a registered client', async () => {
    expect(await call<ClientDto>('clients', 'setEnabled', { client: BILLING, enabled: false })).toMatchObject({ state: 'DISABLED' })
    expect((await failure('clients', 'setEnabled', { client: BILLING, enabled: false })).code).toBe('action_not_possible')
    expect(await call<ClientDto>('clients', 'setEnabled', { client: BILLING, enabled: true })).toMatchObject({ state: 'REGISTERED' })
  })

  it('unregisters with a clientDeletion request, then deletes with its services, endpoints, rights and groups', async () => {
    const service = await call<ServiceDto>('services', 'add', { client: BILLING, serviceCode: 'invoices', url: 'http://127.0.0.1:9/invoices' })
    await call('services', 'addEndpoint', { service: service.id, method: 'GET', path: '/invoices/*' })
    await call('accessRights', 'grant', { service: service.id, subject: PORTAL })
    await call('localGroups', 'add', { client: BILLING, groupCode: 'auditors', description: 'Auditors' })
    // BILLING may call a service of PORTAL and is a member of PORTAL's group: both go when BILLING is deleted.
    const portalService = await call<ServiceDto>('services', 'add', { client: PORTAL, serviceCode: 'news', url: 'http://127.0.0.1:9/news' })
    await call('accessRights', 'grant', { service: portalService.id, subject: BILLING })
    await call('localGroups', 'add', { client: PORTAL, groupCode: 'internal', description: 'Internal' })
    await call('localGroups', 'addMember', { client: PORTAL, groupCode: 'internal', member: BILLING })

    expect((await failure('clients', 'delete', { client: BILLING })).code).toBe('action_not_possible')
    const unregistered = await call<ClientRequestDto>('clients', 'unregister', { client: BILLING })
    expect(unregistered).toMatchObject({ service: 'clientDeletion', requestId: expect.any(Number), client: { state: 'DELETION_IN_PROGRESS' } })
    expect((await labRequests()).find((r) => r.id === unregistered.requestId)).toMatchObject({ type: 'clientDeletion', status: 'APPROVED' })
    await call('globalConf', 'refresh')
    expect(await clientsOfThisServer()).not.toContain(BILLING)
    expect(await clientsOfThisServer()).toContain(PORTAL)
    // The runtime marks a client the instance removed as DISABLED; it is not listed here any more, so it may be deleted.
    expect(await client(BILLING)).toMatchObject({ listedOnThisServer: false })
    expect((await client(PORTAL))?.listedOnThisServer).toBe(true)

    const removal = await call<ClientRemovalDto>('clients', 'delete', { client: BILLING })
    expect(removal).toEqual({ services: [service.id], accessRights: 1, localGroups: ['auditors'], isCertificates: 0, rightsAsSubject: 1, groupMemberships: 1 })
    expect(await client(BILLING)).toBeUndefined()
    expect((await call<ServiceDto[]>('services', 'list', { client: BILLING }))).toEqual([])
    expect((await call<AccessRightDto[]>('accessRights', 'list', { service: portalService.id }))).toEqual([])
    expect((await call<LocalGroupDto[]>('localGroups', 'list', { client: PORTAL }))[0]?.members).toEqual([])
    await call('services', 'delete', { service: portalService.id })
    await call('localGroups', 'delete', { client: PORTAL, groupCode: 'internal' })
  })
})

describe('information-system connection', () => {
  it('sets the connection type and keeps IS TLS certificates with their hash and validity', async () => {
    expect(await call<ClientDto>('clients', 'setIsAuthentication', { client: PORTAL, mode: 'SSLAUTH' })).toMatchObject({ isAuthentication: 'SSLAUTH' })
    expect((await failure('clients', 'setIsAuthentication', { client: PORTAL, mode: 'HTTPS' })).code).toBe('validation_failed')
    const internal = await call<InternalTlsCertificateDto>('clients', 'internalTlsCertificate')
    expect(internal.pem).toBe(readFileSync(join(dataDir, 'tls', 'admin.crt'), 'utf8'))
    expect(internal.sha256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/)
    expect(new Date(internal.notAfter).getTime()).toBeGreaterThan(Date.now())

    // Any X.509 certificate will do as the IS certificate: here the lab CA's, as DER in base64.
    const authority = openLab(join(dataDir, 'lab'))
    const caDer = Buffer.from(authority.certificateDer('ca'))
    authority.close()
    const added = await call<IsCertificateDto>('clients', 'addIsCertificate', { client: PORTAL, content: caDer.toString('base64'), encoding: 'base64' })
    expect(added.sha256).toMatch(/^[0-9a-f]{64}$/)
    expect(added.subject).toContain('DEMO')
    expect(new Date(added.notAfter as string).getTime()).toBeGreaterThan(Date.now())
    expect((await failure('clients', 'addIsCertificate', { client: PORTAL, content: caDer.toString('base64'), encoding: 'base64' })).code).toBe('cert_exists')
    expect(await failure('clients', 'addIsCertificate', { client: PORTAL, content: 'not a certificate' })).toEqual({ code: 'incorrect_certificate', detail: 'content' })
    await call('clients', 'addIsCertificate', { client: PORTAL, content: internal.pem })
    expect((await call<IsCertificateDto[]>('clients', 'isCertificates', { client: PORTAL })).map((c) => c.sha256)).toHaveLength(2)
    await call('clients', 'removeIsCertificate', { client: PORTAL, sha256: added.sha256 })
    expect((await failure('clients', 'removeIsCertificate', { client: PORTAL, sha256: added.sha256 })).code).toBe('cert_not_found')
    expect((await call<IsCertificateDto[]>('clients', 'isCertificates', { client: PORTAL })).map((c) => c.subject)).toEqual([expect.stringContaining('Gatehouse')])
    await call('clients', 'setIsAuthentication', { client: PORTAL, mode: 'NOSSL' })
  })
})

describe('services, endpoints, local groups and access rights', () => {
  it('edits a service and its endpoints, keeps the generated one, and deletes what it is asked to', async () => {
    const added = await call<ServiceDto>('services', 'add', { client: PORTAL, serviceCode: 'weather', url: 'http://127.0.0.1:9/api' })
    const edited = await call<ServiceDto>('services', 'update', { service: added.id, url: 'https://weather.internal/v2', timeoutSeconds: 20, sslVerify: false })
    expect(edited).toMatchObject({ url: 'https://weather.internal/v2', timeoutSeconds: 20, sslVerify: false })
    await call('services', 'addEndpoint', { service: added.id, method: 'GET', path: '/forecast/*' })
    const moved = await call<ServiceDto>('services', 'updateEndpoint', { service: added.id, endpoint: { method: 'GET', path: '/forecast/*' }, method: 'POST', path: '/forecast' })
    expect(moved.endpoints.map((e) => `${e.method} ${e.path}`)).toEqual(['* **', 'POST /forecast'])
    expect((await failure('services', 'updateEndpoint', { service: added.id, endpoint: { method: '*', path: '**' }, method: 'GET', path: '/x' })).code).toBe('illegal_generated_endpoint_update')
    expect((await failure('services', 'deleteEndpoint', { service: added.id, endpoint: { method: '*', path: '**' } })).code).toBe('illegal_generated_endpoint_remove')

    await call('accessRights', 'grant', { service: added.id, subject: PORTAL, endpoint: { method: 'POST', path: '/forecast' } })
    const withoutEndpoint = await call<ServiceDto>('services', 'deleteEndpoint', { service: added.id, endpoint: { method: 'POST', path: '/forecast' } })
    expect(withoutEndpoint.endpoints).toEqual([{ method: '*', path: '**', generated: true }])
    expect(await call<AccessRightDto[]>('accessRights', 'list', { service: added.id })).toEqual([])

    await call('localGroups', 'add', { client: PORTAL, groupCode: 'partners', description: 'Partners' })
    expect(await call<LocalGroupDto>('localGroups', 'update', { client: PORTAL, groupCode: 'partners', description: 'Partner agencies' })).toMatchObject({ description: 'Partner agencies' })
    await call('accessRights', 'grant', { service: added.id, subject: 'LOCALGROUP:partners' })
    await call('accessRights', 'grant', { service: added.id, subject: PORTAL })
    const groupRights = await call<AccessRightDto[]>('localGroups', 'delete', { client: PORTAL, groupCode: 'partners' })
    expect(groupRights.map((r) => r.subject)).toEqual(['LOCALGROUP:partners'])
    expect((await failure('localGroups', 'delete', { client: PORTAL, groupCode: 'partners' })).code).toBe('not_found')

    const serviceRights = await call<AccessRightDto[]>('services', 'delete', { service: added.id })
    expect(serviceRights.map((r) => [r.subject, r.subjectLabel])).toEqual([[PORTAL, 'Demo Agency · DEMO/GOV/7001/portal']])
    expect((await failure('services', 'delete', { service: added.id })).code).toBe('unknown_service')
  })

  it('lists the global groups of global configuration for the access-right picker', async () => {
    const owners = { id: 'GLOBALGROUP:DEMO/security-server-owners', instance: 'DEMO', groupCode: 'security-server-owners', description: expect.any(String), members: [OWNER] }
    expect(await call<GlobalGroupDto[]>('globalConf', 'globalGroups')).toEqual([owners])
    const authority = openLab(join(dataDir, 'lab'))
    authority.addGlobalGroup(globalGroupId('DEMO', 'auditors'), 'Auditors')
    authority.addGlobalGroupMember('auditors', memberId('DEMO', 'GOV', '7001'))
    authority.close()
    await call('globalConf', 'refresh')
    expect(await call<GlobalGroupDto[]>('globalConf', 'globalGroups')).toEqual(expect.arrayContaining([
      owners, { id: 'GLOBALGROUP:DEMO/auditors', instance: 'DEMO', groupCode: 'auditors', description: 'Auditors', members: [OWNER] },
    ]))
  })

  it('audits every change', async () => {
    const events = (await runtime.service.audit.search({ limit: 1000 })).map((e) => `${e.event} ${e.outcome}`)
    for (const event of ['clients.register success', 'clients.unregister success', 'clients.delete success', 'clients.delete failure', 'clients.addIsCertificate success', 'services.delete success', 'services.updateEndpoint success', 'localGroups.delete success']) {
      expect(events).toContain(event)
    }
    expect(logLines.join('')).not.toContain(PIN)
  })
})

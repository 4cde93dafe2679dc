import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ADMIN_ROLES } from '@shared/admin-api/admin-roles'
import { subsystemId } from '@shared/domain/identifiers'
import type { IpcResult } from '@shared/admin-api/ipc-result'
import type {
  AnchorPreview, CertificateDto, GlobalConfStatus, InitializationStatus, LabAnchorDto, LabCertificateDto, LabCertificateFileDto, LabCsrInspectionDto,
  LabGlobalGroupDto, LabManagementDto, LabMemberDto, LabOperationDto, LabServerDto, GlobalServerDto, LabStatus, LabTrustServicesDto, TokenDto,
} from '@shared/admin-api/admin-api'
import type { ErrorDto } from '@shared/error-codes'
import { createAdminRuntime, type AdminRuntime } from '../../src-main/admin'
import { installedPkcs11Modules } from '../../src-main/admin/keys-admin'
import { createSecurityServer, parseServerConfig, type SecurityServer } from '../../src-main/server'
import { createLogger, systemClock } from '../../src-main/platform'
import { createSoftHsmToken } from '../support/softhsm'
import { SOFTHSM, itWith } from '../support/requirements'
import { makeCsr } from '../lab/lab-test-support'

/**
 * "Create a lab on this machine" from an empty data dir, through `admin.call` as the GUI does: the operation runs
 * step by step, waits for the anchor hash, joins, and ends with global configuration downloaded and a good OCSP
 * status for the signing certificate. Then the token screen's PIN change and PKCS#11 methods.
 */
const PIN = 'Lab-Token-1357'
const caller = { actor: 'tester', roles: ADMIN_ROLES }
const SERVER_PROXY_PORT = 15_500

let dir: string
let server: SecurityServer
let runtime: AdminRuntime
const logLines: string[] = []

async function call<T>(domain: string, method: string, ...args: unknown[]): Promise<T> {
  const result = (await runtime.service.call(caller, domain, method, args)) as IpcResult<T>
  if (!result.ok) throw Object.assign(new Error(`${domain}.${method}: ${result.error.code} ${result.error.message}`), { code: result.error.code })
  return result.value
}

async function failure(domain: string, method: string, ...args: unknown[]): Promise<string> {
  const result = await runtime.service.call(caller, domain, method, args)
  expect(result.ok, `${domain}.${method} should fail`).toBe(false)
  return result.ok ? '' : result.error.code
}

/** The error of a call that must fail, as the GUI receives it (code, message, field in `detail`). */
async function refusal(domain: string, method: string, input: unknown, roles: readonly string[] = ADMIN_ROLES): Promise<ErrorDto> {
  const result = await runtime.service.call({ actor: 'tester', roles: roles as typeof ADMIN_ROLES }, domain, method, [input])
  expect(result.ok, `${domain}.${method} should fail`).toBe(false)
  return result.ok ? { code: '', message: '' } : result.error
}

async function operationUntil(states: Array<LabOperationDto['state']>, timeoutMs = 30_000): Promise<LabOperationDto> {
  const end = Date.now() + timeoutMs
  for (;;) {
    const status = await call<LabStatus>('lab', 'status')
    const op = status.operation as LabOperationDto
    if (states.includes(op.state)) return op
    if (Date.now() > end) throw new Error(`lab operation still ${op.state}: ${JSON.stringify(op.steps)}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gatehouse-lab-admin-'))
  const dataDir = join(dir, 'data')
  const config = parseServerConfig({ internal: { adminPort: null, clientProxyHttpPort: null, clientProxyHttpsPort: null }, external: { serverProxyPort: null, ocspResponderPort: null }, shutdownGraceMs: 100 }, 'test')
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logLines.push(chunk.toString('utf8'))
      done()
    },
  })
  const logger = createLogger({ level: 'debug', destination: sink })
  server = createSecurityServer({ dataDir, config, logger })
  await server.start()
  // A runtime of our own over the server's domains, so the test can close the lab services it starts.
  runtime = createAdminRuntime({
    serverConfDb: () => server.core.databases.local, domains: server.core, clock: systemClock, logger, serverProxyPort: SERVER_PROXY_PORT,
    system: { version: 'test', dataDir, backupsDir: join(dataDir, 'backups'), clock: systemClock, databases: [], status: () => ({ state: 'running', startedAt: null, initialized: false, listeners: [] }) },
  })
}, 30_000)

afterAll(async () => {
  await runtime?.close()
  await server?.stop()
  rmSync(dir, { recursive: true, force: true })
})

describe('lab.create', () => {
  it('refuses bad input before doing anything', async () => {
    expect(await failure('lab', 'create', { instance: 'LAB/X', memberClass: 'GOV', memberCode: '1', memberName: 'A', serverCode: 'ss', softwareTokenPin: PIN })).toBe('validation_failed')
    expect(await failure('lab', 'confirm', { confirmedHash: 'AB' })).toBe('conflict')
    expect(existsSync(join(dir, 'data', 'lab'))).toBe(false)
  })

  it('builds the lab step by step and waits for the anchor hash', async () => {
    const started = await call<LabOperationDto>('lab', 'create', {
      instance: 'DEMO', memberClass: 'GOV', memberCode: '7001', memberName: 'Demo Agency', subsystemCode: 'portal', serverCode: 'ss1', softwareTokenPin: PIN,
    })
    expect(started.steps.map((s) => s.id)).toEqual(['lab', 'services', 'member', 'token', 'keys', 'certificates', 'register', 'confirm', 'join'])
    expect(await failure('lab', 'create', { instance: 'DEMO', memberClass: 'GOV', memberCode: '7001', memberName: 'Demo Agency', serverCode: 'ss1', softwareTokenPin: PIN })).toBe('conflict')
    const op = await operationUntil(['awaiting-confirmation', 'failed'])
    expect(op.error).toBeNull()
    expect(op.state).toBe('awaiting-confirmation')
    expect(op.steps.filter((s) => s.state === 'done').map((s) => s.id)).toEqual(['lab', 'services', 'member', 'token', 'keys', 'certificates', 'register'])
    expect(op.steps.find((s) => s.id === 'register')?.detail).toContain(`127.0.0.1:${SERVER_PROXY_PORT}`)
    // The GUI translates each step from its outcome and parameters; the English detail is the fallback.
    expect(op.steps.find((s) => s.id === 'register')).toMatchObject({ outcome: 'done', params: { address: `127.0.0.1:${SERVER_PROXY_PORT}`, server: 'DEMO/GOV/7001/ss1', subsystem: 'DEMO/GOV/7001/portal' } })
    expect(op.steps.find((s) => s.id === 'token')?.outcome).toBe('created')
    expect(op.steps.find((s) => s.id === 'confirm')).toMatchObject({ state: 'running', outcome: 'waiting' })
    expect(op.anchor?.instance).toBe('DEMO')
    expect(op.anchor?.hash).toMatch(/^([0-9A-F]{2}:)+[0-9A-F]{2}$/)

    const status = await call<LabStatus>('lab', 'status')
    expect(status.exists).toBe(true)
    expect(status.services.running).toBe(true)
    expect(status.services.ocspUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    // Not joined yet: the server is still uninitialized, the token already holds two keys with active certificates.
    expect((await call<InitializationStatus>('initialization', 'status')).initialized).toBe(false)
    const certs = await call<CertificateDto[]>('certificates', 'list')
    expect(certs.map((c) => `${c.usage}:${c.state}`).sort()).toEqual(['auth:active', 'sign:active'])
  })

  it('refuses a hash that is not the anchor hash, then joins with the right one', async () => {
    expect(await failure('lab', 'confirm', { confirmedHash: 'AB:CD' })).toBe('validation_failed')
    const waiting = (await call<LabStatus>('lab', 'status')).operation as LabOperationDto
    expect(waiting.state).toBe('awaiting-confirmation')
    await call('lab', 'confirm', { confirmedHash: (waiting.anchor as { hash: string }).hash })
    const op = await operationUntil(['done', 'failed'], 60_000)
    expect(op.error).toBeNull()
    expect(op.steps.every((s) => s.state === 'done')).toBe(true)

    const init = await call<InitializationStatus>('initialization', 'status')
    expect(init).toMatchObject({ initialized: true, owner: 'MEMBER:DEMO/GOV/7001', serverCode: 'ss1', softwareTokenInitialized: true })
    expect(init.anchor?.hash).toBe(waiting.anchor?.hash)
    const conf = await call<GlobalConfStatus>('globalConf', 'status')
    expect(conf).toMatchObject({ available: true, instance: 'DEMO' })
    const sign = (await call<CertificateDto[]>('certificates', 'list')).find((c) => c.usage === 'sign')
    expect(sign?.ocsp.status).toBe('good')
    expect(server.core.serverConf.listClients().map((c) => c.id.objectType === 'SUBSYSTEM' && c.id.subsystemCode)).toContain('portal')
    expect(await failure('lab', 'create', { instance: 'DEMO', memberClass: 'GOV', memberCode: '7001', memberName: 'Demo Agency', serverCode: 'ss1', softwareTokenPin: PIN })).toBe('already_initialized')
  })

  it('never writes the PIN to the log or the audit log', async () => {
    const audit = server.core.databases.serverConf.prepare('SELECT event, data FROM audit_log').all() as Array<{ event: string; data: string }>
    expect(audit.map((a) => a.event)).toEqual(expect.arrayContaining(['lab.create', 'lab.confirm']))
    expect(JSON.stringify(audit)).not.toContain(PIN)
    expect(logLines.join('')).not.toContain(PIN)
  })
})

describe('lab administration', () => {
  const observer = ['observer'] as const
  const hostServer = 'SERVER:DEMO/GOV/7001/ss1'

  it('lets every role read and only a system administrator change, auditing changes', async () => {
    for (const method of ['members', 'servers', 'certificates', 'globalGroups', 'trustServices', 'anchor']) {
      const result = await runtime.service.call({ actor: 'watcher', roles: [...observer] }, 'lab', method, [])
      expect(result.ok, `observer reads lab.${method}`).toBe(true)
    }
    const refused = await refusal('lab', 'addMember', { memberClass: 'COM', memberCode: '1', name: 'X' }, ['security-officer', 'registration-officer', 'service-administrator', 'observer', 'key-custodian'])
    expect(refused.code).toBe('forbidden')
    expect((await call<LabMemberDto[]>('lab', 'members')).map((m) => m.memberCode)).toEqual(['7001'])
  })

  it('lists the wizard-made lab: owner member, this server with its auth certificate and client, trust services, anchor', async () => {
    const [owner] = await call<LabMemberDto[]>('lab', 'members')
    expect(owner).toMatchObject({ id: 'MEMBER:DEMO/GOV/7001', name: 'Demo Agency', ownedServers: [hostServer], clientOf: [] })
    expect(owner?.subsystems).toEqual([{ id: 'SUBSYSTEM:DEMO/GOV/7001/portal', code: 'portal', servers: [hostServer], globalGroups: [] }])
    const [server] = await call<LabServerDto[]>('lab', 'servers')
    expect(server).toMatchObject({ id: hostServer, owner: 'MEMBER:DEMO/GOV/7001', ownerName: 'Demo Agency', address: `127.0.0.1:${SERVER_PROXY_PORT}`, clients: ['SUBSYSTEM:DEMO/GOV/7001/portal'], thisServer: true })
    expect(server?.authCertificates).toHaveLength(1)
    expect(server?.authCertificates[0]).toMatchObject({ subject: 'C=DEMO, CN=ss1', revoked: false })
    const certs = await call<LabCertificateDto[]>('lab', 'certificates')
    expect(certs.map((c) => c.usage).sort()).toEqual(['auth', 'ca', 'ocsp', 'sign', 'tsa'])
    expect(certs.find((c) => c.usage === 'auth')).toMatchObject({ status: 'good', registeredOn: [hostServer], hash: server?.authCertificates[0]?.hash })

    const trust = await call<LabTrustServicesDto>('lab', 'trustServices')
    expect(trust).toMatchObject({ instance: 'DEMO', confExpireSeconds: 600, caSubject: expect.stringContaining('Gatehouse Lab CA DEMO') })
    expect(trust.services.running).toBe(true)
    expect(trust.memberClasses.map((c) => c.code)).toEqual(['COM', 'GOV', 'ORG'])
    const anchor = await call<LabAnchorDto>('lab', 'anchor')
    expect(anchor.fileName).toBe('configuration-anchor-DEMO.xml')
    expect(anchor.downloadUrl).toBe(trust.services.configurationUrl)
    // The joining server's wizard shows the same hash for the same file.
    expect((await call<AnchorPreview>('initialization', 'importAnchor', anchor.content)).hash).toBe(anchor.hash)
  })

  it('adds a member with a subsystem, signs its CSRs and registers its server with the client; the next download shows it', async () => {
    expect(await refusal('lab', 'addMember', { memberClass: 'XYZ', memberCode: '8002', name: 'Second Agency' })).toMatchObject({ code: 'validation_failed', detail: 'memberClass' })
    expect(await refusal('lab', 'addMember', { memberClass: 'COM', memberCode: '80/02', name: 'Second Agency' })).toMatchObject({ code: 'validation_failed', detail: 'memberCode' })
    expect(await refusal('lab', 'addMember', { memberClass: 'GOV', memberCode: '7001', name: 'Again' })).toMatchObject({ code: 'conflict', detail: 'memberCode' })
    const second = await call<LabMemberDto>('lab', 'addMember', { memberClass: 'COM', memberCode: '8002', name: 'Second Agency', subsystemCode: 'client' })
    expect(second.subsystems.map((x) => x.code)).toEqual(['client'])
    await call('lab', 'addSubsystem', { member: 'DEMO/COM/8002', subsystemCode: 'archive' })
    expect(await refusal('lab', 'addSubsystem', { member: 'DEMO/COM/8002', subsystemCode: 'archive' })).toMatchObject({ code: 'conflict', detail: 'subsystemCode' })

    const signCsr = await makeCsr('C=DEMO, O=COM, CN=8002')
    const inspected = await call<LabCsrInspectionDto>('lab', 'inspectCsr', { content: signCsr.pem, encoding: 'utf8' })
    expect(inspected).toMatchObject({ usage: 'sign', usageFrom: 'subject', subject: 'C=DEMO, O=COM, CN=8002', member: 'MEMBER:DEMO/COM/8002', serverCode: null })
    const sign = await call<LabCertificateFileDto>('lab', 'signCsr', { content: signCsr.pem, encoding: 'utf8' })
    expect(sign).toMatchObject({ usage: 'sign', subject: 'C=DEMO, O=COM, CN=8002' })
    expect(sign.fileName).toMatch(/^DEMO-COM-8002-sign-[0-9A-F]{8}$/)
    expect(sign.pem).toContain('-----BEGIN CERTIFICATE-----')

    const authCsr = await makeCsr('C=DEMO, CN=ss2')
    const auth = await call<LabCertificateFileDto>('lab', 'signCsr', { content: Buffer.from(authCsr.der).toString('base64'), encoding: 'base64' })
    expect(auth.usage).toBe('auth')
    const again = await call<LabCertificateFileDto>('lab', 'certificate', { serial: auth.serial })
    expect(again.derBase64).toBe(auth.derBase64)
    expect(await refusal('lab', 'signCsr', { content: 'not a csr', encoding: 'utf8' })).toMatchObject({ code: 'bad_request' })
    expect((await refusal('lab', 'inspectCsr', { content: (await makeCsr('C=DEMO, O=COM, CN=9999')).pem, encoding: 'utf8' })).code).toBe('unknown_member')

    const base = { owner: 'DEMO/COM/8002', serverCode: 'ss2', address: '127.0.0.1:15501' }
    expect(await refusal('lab', 'registerServer', base)).toMatchObject({ code: 'validation_failed', detail: 'certificate' })
    expect(await refusal('lab', 'registerServer', { ...base, serverCode: 'ss3', certificateSerial: auth.serial })).toMatchObject({ code: 'validation_failed', detail: 'serverCode' })
    expect(await refusal('lab', 'registerServer', { ...base, certificateSerial: sign.serial })).toMatchObject({ code: 'wrong_cert_usage', detail: 'certificate' })
    expect(await refusal('lab', 'registerServer', { ...base, owner: 'DEMO/COM', certificateSerial: auth.serial })).toMatchObject({ code: 'validation_failed', detail: 'owner' })
    const server = await call<LabServerDto>('lab', 'registerServer', { ...base, certificateSerial: auth.serial })
    expect(server).toMatchObject({ id: 'SERVER:DEMO/COM/8002/ss2', ownerName: 'Second Agency', address: '127.0.0.1:15501', thisServer: false })
    expect(server.authCertificates.map((c) => c.serial)).toEqual([auth.serial])
    const withClient = await call<LabServerDto>('lab', 'addServerClient', { server: server.id, client: 'DEMO/COM/8002/client' })
    expect(withClient.clients).toEqual(['SUBSYSTEM:DEMO/COM/8002/client'])

    // The lab's server downloads its own lab's configuration: the new server is there at the next download.
    await call<GlobalConfStatus>('globalConf', 'refresh')
    const listed = await call<GlobalServerDto[]>('globalConf', 'servers')
    expect(listed.find((s) => s.id === 'SERVER:DEMO/COM/8002/ss2')).toMatchObject({ address: '127.0.0.1:15501', clients: ['SUBSYSTEM:DEMO/COM/8002/client'] })
  })

  it('refuses to delete what a server uses, with the reason; removes clients, auth certificates and servers', async () => {
    const used = await refusal('lab', 'deleteSubsystem', { subsystem: 'SUBSYSTEM:DEMO/COM/8002/client' })
    expect(used.code).toBe('conflict')
    expect(used.message).toContain('SERVER:DEMO/COM/8002/ss2')
    expect((await refusal('lab', 'deleteMember', { member: 'MEMBER:DEMO/GOV/7001' })).message).toContain(`owns ${hostServer}`)
    expect(await refusal('lab', 'deleteSubsystem', { subsystem: 'MEMBER:DEMO/COM/8002' })).toMatchObject({ code: 'validation_failed', detail: 'subsystem' })
    await call('lab', 'deleteSubsystem', { subsystem: 'SUBSYSTEM:DEMO/COM/8002/archive' })

    const moved = await call<LabServerDto>('lab', 'setServerAddress', { server: 'SERVER:DEMO/COM/8002/ss2', address: 'ss2.example.org' })
    expect(moved.address).toBe('ss2.example.org')
    expect(await refusal('lab', 'setServerAddress', { server: 'SERVER:DEMO/COM/8002/ss2', address: 'http://x/y' })).toMatchObject({ code: 'validation_failed', detail: 'address' })
    const removed = await call<LabServerDto>('lab', 'removeServerClient', { server: moved.id, client: 'SUBSYSTEM:DEMO/COM/8002/client' })
    expect(removed.clients).toEqual([])
    const noCert = await call<LabServerDto>('lab', 'deleteAuthCertificate', { server: moved.id, hash: moved.authCertificates[0]?.hash })
    expect(noCert.authCertificates).toEqual([])
    await call('lab', 'deleteServer', { server: moved.id })
    expect((await call<LabServerDto[]>('lab', 'servers')).map((s) => s.id)).toEqual([hostServer])
    await call('lab', 'deleteMember', { member: 'DEMO/COM/8002' })
    expect((await call<LabMemberDto[]>('lab', 'members')).map((m) => m.memberCode)).toEqual(['7001'])
  })

  it('revokes a certificate, manages global groups and the configuration expiry', async () => {
    const auth = (await call<LabCertificateDto[]>('lab', 'certificates')).find((c) => c.usage === 'auth' && c.registeredOn.length === 0)
    const revoked = await call<LabCertificateDto>('lab', 'revokeCertificate', { serial: auth?.serial })
    expect(revoked).toMatchObject({ status: 'revoked', revokedAt: expect.any(String) })
    expect(await refusal('lab', 'revokeCertificate', { serial: 'xyz' })).toMatchObject({ code: 'validation_failed', detail: 'serial' })
    const tsa = (await call<LabCertificateDto[]>('lab', 'certificates')).find((c) => c.usage === 'tsa')
    expect(await refusal('lab', 'revokeCertificate', { serial: tsa?.serial })).toMatchObject({ code: 'validation_failed', detail: 'serial' })

    const group = await call<LabGlobalGroupDto>('lab', 'addGlobalGroup', { code: 'partners', description: 'Partner agencies' })
    expect(group).toEqual({ id: 'GLOBALGROUP:DEMO/partners', code: 'partners', description: 'Partner agencies', members: [] })
    expect(await refusal('lab', 'addGlobalGroup', { code: 'partners', description: 'Again' })).toMatchObject({ code: 'conflict', detail: 'code' })
    const filled = await call<LabGlobalGroupDto>('lab', 'addGlobalGroupMember', { code: 'partners', member: 'SUBSYSTEM:DEMO/GOV/7001/portal' })
    expect(filled.members).toEqual(['SUBSYSTEM:DEMO/GOV/7001/portal'])
    expect((await call<LabMemberDto[]>('lab', 'members'))[0]?.subsystems[0]?.globalGroups).toEqual(['partners'])
    expect((await call<LabGlobalGroupDto>('lab', 'removeGlobalGroupMember', { code: 'partners', member: 'DEMO/GOV/7001/portal' })).members).toEqual([])
    await call('lab', 'deleteGlobalGroup', { code: 'partners' })
    expect(await call<LabGlobalGroupDto[]>('lab', 'globalGroups')).toEqual([])

    expect(await refusal('lab', 'setConfExpiry', { seconds: 30 })).toMatchObject({ code: 'validation_failed', detail: 'seconds' })
    expect((await call<LabTrustServicesDto>('lab', 'setConfExpiry', { seconds: 900 })).confExpireSeconds).toBe(900)

    const audited = (server.core.databases.serverConf.prepare("SELECT event, outcome FROM audit_log WHERE event LIKE 'lab.%'").all() as Array<{ event: string; outcome: string }>)
    expect(audited).toEqual(expect.arrayContaining([
      { event: 'lab.addMember', outcome: 'success' }, { event: 'lab.signCsr', outcome: 'success' }, { event: 'lab.registerServer', outcome: 'success' },
      { event: 'lab.deleteSubsystem', outcome: 'failure' }, { event: 'lab.revokeCertificate', outcome: 'success' }, { event: 'lab.setConfExpiry', outcome: 'success' },
    ]))
    expect(audited.some((a) => a.event === 'lab.members')).toBe(false)
  })

  it('shows the management service and its auto-approval options; refuses to decide a request that does not exist', async () => {
    const management = await call<LabManagementDto>('lab', 'managementRequests')
    expect(management).toMatchObject({ providerId: 'SUBSYSTEM:DEMO/ORG/LAB/MANAGEMENT', autoApproval: { authCertReg: true, clientReg: true }, requests: [] })
    expect(management.authCertRegUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/managementservice\/$/)
    expect(management.managementServiceUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/managementservice\/manage$/)
    expect((await call<LabManagementDto>('lab', 'setManagementAutoApproval', { clientReg: false })).autoApproval).toEqual({ authCertReg: true, clientReg: false, ownerChange: true })
    expect(await refusal('lab', 'setManagementAutoApproval', { clientReg: 'no' })).toMatchObject({ code: 'validation_failed' })
    expect(await refusal('lab', 'approveManagementRequest', { id: 99 })).toMatchObject({ code: 'management_request_not_found', detail: 'id' })
    expect(await refusal('lab', 'declineManagementRequest', { id: 0 })).toMatchObject({ code: 'validation_failed' })
    await call('lab', 'setManagementAutoApproval', { clientReg: true })

    // This server becomes the management security server: the provider is its owner's MANAGEMENT, served here.
    const served = await call<LabManagementDto>('lab', 'serveManagementServices')
    expect(served).toMatchObject({ providerId: 'SUBSYSTEM:DEMO/GOV/7001/MANAGEMENT', managementSecurityServer: 'SERVER:DEMO/GOV/7001/ss1' })
    const provider = subsystemId('DEMO', 'GOV', '7001', 'MANAGEMENT')
    expect(server.core.serverConf.findClient(provider)?.state).toBe('REGISTERED')
    expect(server.core.serverConf.listServices(provider).map((s) => s.serviceId.serviceCode).sort()).toEqual(
      ['addressChange', 'authCertDeletion', 'clientDeletion', 'clientDisable', 'clientEnable', 'clientReg', 'clientRename', 'maintenanceModeDisable', 'maintenanceModeEnable', 'ownerChange'],
    )
    await call('lab', 'serveManagementServices')
    expect(server.core.serverConf.listServiceDescriptions(provider)).toHaveLength(1)
    const audited = server.core.databases.serverConf.prepare("SELECT event, outcome FROM audit_log WHERE event LIKE 'lab.%Management%'").all()
    expect(audited).toEqual(expect.arrayContaining([
      { event: 'lab.setManagementAutoApproval', outcome: 'success' }, { event: 'lab.approveManagementRequest', outcome: 'failure' },
    ]))
  })
})

describe('tokens: PIN change and PKCS#11', () => {
  it('changes the software token PIN under its policy', async () => {
    expect(await failure('tokens', 'changePin', { tokenId: '0', oldPin: 'wrong-pin-1', newPin: 'New-Pin-2468' })).toBe('pin_incorrect')
    expect(await failure('tokens', 'changePin', { tokenId: '0', oldPin: PIN, newPin: 'abc' })).toBe('token_pin_policy_failure')
    await call('tokens', 'changePin', { tokenId: '0', oldPin: PIN, newPin: 'New-Pin-2468' })
    await call('tokens', 'logout', { tokenId: '0' })
    expect(await failure('tokens', 'login', { tokenId: '0', pin: PIN })).toBe('pin_incorrect')
    const token = await call<TokenDto>('tokens', 'login', { tokenId: '0', pin: 'New-Pin-2468' })
    expect(token.state).toBe('logged-in')
    expect(logLines.join('')).not.toContain('New-Pin-2468')
  })

  it('lists only installed PKCS#11 presets, one per library', () => {
    const present = new Set(['/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so', '/usr/lib/softhsm/libsofthsm2.so'])
    const found = installedPkcs11Modules((p) => present.has(p))
    expect(found.map((m) => m.id)).toEqual(['softhsm2', 'opensc'])
    expect(found.map((m) => m.path)).toEqual(['/usr/lib/softhsm/libsofthsm2.so', '/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so'])
  })

  it('refuses a PKCS#11 module that is not there or a relative path', async () => {
    expect(await failure('tokens', 'addHsm', { modulePath: '/nonexistent/libnothing.so', tokenLabel: 'hsm' })).toBe('validation_failed')
    expect(await failure('tokens', 'addHsm', { modulePath: 'libsofthsm2.so', tokenLabel: 'hsm' })).toBe('validation_failed')
    expect(await failure('tokens', 'addHsm', { modulePath: '/usr/lib/softhsm/libsofthsm2.so', tokenLabel: '' })).toBe('validation_failed')
  })

  itWith([SOFTHSM], 'adds a SoftHSM2 token by module path and label', async () => {
    const hsm = createSoftHsmToken({ label: 'lab-hsm', pin: '4321' })
    try {
      const token = await call<TokenDto>('tokens', 'addHsm', { modulePath: hsm.module, tokenLabel: 'lab-hsm' })
      expect(token).toMatchObject({ kind: 'pkcs11', label: 'lab-hsm', available: true, state: 'logged-out' })
      expect(await failure('tokens', 'addHsm', { modulePath: hsm.module, tokenLabel: 'lab-hsm' })).toBe('conflict')
      expect(await failure('tokens', 'addHsm', { modulePath: hsm.module, tokenLabel: 'no-such-token' })).toBe('token_not_available')
      const loggedIn = await call<TokenDto>('tokens', 'login', { tokenId: token.id, pin: '4321' })
      expect(loggedIn.state).toBe('logged-in')
      await call('tokens', 'logout', { tokenId: token.id })
    } finally {
      hsm.cleanup()
    }
  })
})

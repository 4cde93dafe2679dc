import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { memberId } from '@shared/domain/identifiers'
import { ADMIN_ROLES } from '@shared/admin-api/admin-roles'
import type { IpcResult } from '@shared/admin-api/ipc-result'
import type { CertificateDto, Diagnostics, GeneratedCsrDto, GlobalConfStatus, InitializationStatus, KeyDto, ServiceDto, TokenDto } from '@shared/admin-api/admin-api'
import { createSecurityServer, parseServerConfig, type SecurityServer } from '../../src-main/server'
import { createLogger } from '../../src-main/platform'
import { anchorHash } from '../../src-main/global-conf'
import { CERT_ALARM_DAYS, CERT_WARN_DAYS, certificateLight } from '../../src-main/admin/diagnostics-admin'
import { initLab, openLab, startLabServer, type RunningLabServer } from '../../src-main/lab'

/**
 * The security-server admin groups against a real data dir: a lab trust domain served over HTTP, the software
 * token with a PIN, keys, a CSR the lab CA signs, certificate import and activation, clients, services and
 * access rights, settings and diagnostics — all through `admin.call`, the checked entry both transports use.
 */
const PIN = 'Token-PIN-2468'
const caller = { actor: 'tester', roles: ADMIN_ROLES }
const owner = memberId('LAB', 'GOV', '1234')

let dir: string
let lab: RunningLabServer
let server: SecurityServer
let anchorXml: string
const logLines: string[] = []

async function call<T>(domain: string, method: string, ...args: unknown[]): Promise<T> {
  const result = (await server.admin.call(caller, domain, method, args)) as IpcResult<T>
  if (!result.ok) throw Object.assign(new Error(`${domain}.${method}: ${result.error.code} ${result.error.message}`), { code: result.error.code })
  return result.value
}

async function failure(domain: string, method: string, ...args: unknown[]): Promise<string> {
  const result = await server.admin.call(caller, domain, method, args)
  expect(result.ok, `${domain}.${method} should fail`).toBe(false)
  return result.ok ? '' : result.error.code
}

async function until<T>(probe: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (done(value) || Date.now() > end) return value
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gatehouse-admin-domains-'))
  const labDir = join(dir, 'lab')
  await initLab(labDir, { keyAlgorithm: 'ec-p256' })
  const authority = openLab(labDir)
  authority.addMember(owner, 'Agency', 'SUB')
  authority.close()
  lab = await startLabServer(labDir, { ports: { ocsp: 0, tsa: 0, conf: 0 }, confExpireSeconds: 600 })
  anchorXml = readFileSync(lab.anchor, 'utf8')
  const config = parseServerConfig({ internal: { adminPort: null, clientProxyHttpPort: null, clientProxyHttpsPort: null }, external: { serverProxyPort: null, ocspResponderPort: null }, shutdownGraceMs: 100 }, 'test')
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logLines.push(chunk.toString('utf8'))
      done()
    },
  })
  server = createSecurityServer({ dataDir: join(dir, 'data'), config, logger: createLogger({ level: 'debug', destination: sink }) })
  await server.start()
}, 30_000)

afterAll(async () => {
  await server?.stop()
  await lab?.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('initialization', () => {
  it('shows the anchor hash without storing, refuses an unconfirmed hash, then joins', async () => {
    const preview = await call<{ instance: string; hash: string; sources: string[] }>('initialization', 'importAnchor', anchorXml)
    expect(preview.instance).toBe('LAB')
    expect(preview.hash).toBe(anchorHash(anchorXml))
    expect(preview.sources[0]).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/internalconf$/)
    expect((await call<InitializationStatus>('initialization', 'status')).initialized).toBe(false)
    expect(await failure('initialization', 'importAnchor', '<configurationAnchor>')).toBe('malformed_anchor')
    const input = { anchorXml, confirmedHash: preview.hash, owner: 'LAB/GOV/1234', serverCode: 'SS1', softwareTokenPin: PIN }
    expect(await failure('initialization', 'initialize', { ...input, confirmedHash: 'AB:CD' })).toBe('validation_failed')
    expect(await failure('initialization', 'initialize', { ...input, owner: 'OTHER/GOV/1234' })).toBe('validation_failed')
    expect((await call<InitializationStatus>('initialization', 'status')).initialized).toBe(false)
    const status = await call<InitializationStatus>('initialization', 'initialize', input)
    expect(status).toMatchObject({ initialized: true, owner: 'MEMBER:LAB/GOV/1234', serverCode: 'SS1', serverId: 'SERVER:LAB/GOV/1234/SS1', softwareTokenInitialized: true })
    expect(status.anchor?.hash).toBe(preview.hash)
    expect(await failure('initialization', 'initialize', input)).toBe('already_initialized')
  })

  it('downloads global configuration from the anchor and reports its freshness', async () => {
    const status = await until(() => call<GlobalConfStatus>('globalConf', 'status'), (s) => s.available)
    expect(status).toMatchObject({ available: true, anchorImported: true, instance: 'LAB', expired: false, lastError: null, light: 'green' })
    expect(status.version).toBeGreaterThanOrEqual(2)
    expect(status.expiresInSeconds).toBeGreaterThan(0)
    expect(status.ageSeconds).toBeGreaterThanOrEqual(0)
    const members = await call<Array<{ id: string; name: string; subsystems: string[] }>>('globalConf', 'members')
    expect(members).toContainEqual(expect.objectContaining({ id: 'MEMBER:LAB/GOV/1234', name: 'Agency', subsystems: ['SUBSYSTEM:LAB/GOV/1234/SUB'] }))
  })
})

describe('tokens, keys, CSRs and certificates', () => {
  let key: KeyDto

  it('logs the software token in with its PIN, refusing a wrong one', async () => {
    await call('tokens', 'logout', { tokenId: '0' })
    expect((await call<TokenDto[]>('tokens', 'list'))[0]).toMatchObject({ id: '0', kind: 'software', state: 'logged-out' })
    expect(await failure('keys', 'generate', { tokenId: '0', usage: 'sign', algorithm: 'ec-p256', label: 'sign key' })).toBe('token_not_active')
    expect(await failure('tokens', 'login', { tokenId: '0', pin: 'wrong-pin-1' })).toBe('pin_incorrect')
    const token = await call<TokenDto>('tokens', 'login', { tokenId: '0', pin: PIN })
    expect(token).toMatchObject({ state: 'logged-in', loggedIn: true })
    expect(await failure('tokens', 'login', { tokenId: 'nope', pin: PIN })).toBe('token_not_found')
  })

  it('generates a key, a CSR with the approved CA profile, imports and activates the issued certificate', async () => {
    expect(await failure('keys', 'generate', { tokenId: '0', usage: 'sign', algorithm: 'dsa-1024', label: 'x' })).toBe('validation_failed')
    key = await call<KeyDto>('keys', 'generate', { tokenId: '0', usage: 'sign', algorithm: 'ec-p256', label: 'sign key' })
    expect(key).toMatchObject({ tokenId: '0', usage: 'sign', algorithm: 'ec-p256', label: 'sign key', certificateCount: 0 })
    const cas = await call<Array<{ name: string; certificateProfile: string; defaultCsrFormat: string }>>('csrs', 'authorities')
    expect(cas.length).toBeGreaterThan(0)
    const byDefault = await call<GeneratedCsrDto>('csrs', 'generate', { keyId: key.id, caName: cas[0]?.name })
    expect(byDefault.format).toBe(cas[0]?.defaultCsrFormat)
    expect(await failure('csrs', 'generate', { keyId: key.id, caName: 'No Such CA' })).toBe('not_found')
    const csr = await call<GeneratedCsrDto>('csrs', 'generate', { keyId: key.id, caName: cas[0]?.name, format: 'pem' })
    expect(csr).toMatchObject({ format: 'pem', encoding: 'utf8', mimeType: 'application/x-pem-file' })
    expect(csr.fileName).toMatch(/^sign_csr_1234_\d{8}\.pem$/)
    expect(csr.content).toContain('-----BEGIN CERTIFICATE REQUEST-----')
    const der = await call<GeneratedCsrDto>('csrs', 'generate', { keyId: key.id, caName: cas[0]?.name, format: 'der' })
    expect(Buffer.from(der.content, 'base64')[0]).toBe(0x30)

    const authority = openLab(join(dir, 'lab'))
    const issued = await authority.issueCertificate(csr.content, 'sign')
    authority.close()
    expect(await failure('certificates', 'import', { content: 'not a certificate' })).toMatch(/incorrect_certificate|cert/)
    const cert = await call<CertificateDto>('certificates', 'import', { content: issued.pem })
    expect(cert).toMatchObject({ keyId: key.id, usage: 'sign', state: 'saved', member: 'MEMBER:LAB/GOV/1234' })
    expect(cert.daysLeft).toBeGreaterThan(300)
    expect(await failure('certificates', 'import', { content: Buffer.from(issued.der).toString('base64'), encoding: 'base64' })).toBe('cert_exists')
    expect(await call<CertificateDto>('certificates', 'activate', { certId: cert.id })).toMatchObject({ state: 'active' })
    expect(await call<CertificateDto>('certificates', 'disable', { certId: cert.id })).toMatchObject({ state: 'disabled' })
    await call('certificates', 'activate', { certId: cert.id })
    expect((await call<KeyDto[]>('keys', 'list')).find((k) => k.id === key.id)?.certificateCount).toBe(1)
  })

  it('deletes a key', async () => {
    const spare = await call<KeyDto>('keys', 'generate', { tokenId: '0', usage: 'auth', algorithm: 'ec-p256', label: 'spare' })
    await call('keys', 'delete', { keyId: spare.id })
    expect((await call<KeyDto[]>('keys', 'list')).map((k) => k.id)).not.toContain(spare.id)
    expect(await failure('keys', 'delete', { keyId: spare.id })).toBe('key_not_found')
  })
})

describe('clients, services, access rights and local groups', () => {
  const sub = 'LAB/GOV/1234/SUB'
  const service = 'SERVICE:LAB/GOV/1234/SUB/weather'

  it('adds a subsystem and a REST service with an endpoint, and disables it with a notice', async () => {
    const client = await call<{ id: string; state: string; name: string | null }>('clients', 'add', { client: sub })
    expect(client).toMatchObject({ id: 'SUBSYSTEM:LAB/GOV/1234/SUB', state: 'SAVED' })
    expect(await failure('clients', 'add', { client: sub })).toBe('conflict')
    expect(await failure('clients', 'add', { client: 'LAB/GOV' })).toBe('validation_failed')
    expect(await call('clients', 'setState', { client: sub, state: 'REGISTERED' })).toMatchObject({ state: 'REGISTERED' })
    const clients = await call<Array<{ id: string; owner: boolean; name: string | null }>>('clients', 'list')
    expect(clients.find((c) => c.owner)).toMatchObject({ id: 'MEMBER:LAB/GOV/1234', name: 'Agency' })

    expect(await failure('services', 'add', { client: sub, serviceCode: 'weather', url: 'ftp://x' })).toBe('service_malformed_url')
    expect(await failure('services', 'add', { client: 'LAB/GOV/1234', serviceCode: 'weather', url: 'http://127.0.0.1:9/' })).toBe('validation_failed')
    const added = await call<ServiceDto>('services', 'add', { client: sub, serviceCode: 'weather', url: 'http://127.0.0.1:9/api', timeoutSeconds: 30 })
    expect(added).toMatchObject({ id: service, timeoutSeconds: 30, disabled: false, endpoints: [{ method: '*', path: '**', generated: true }] })
    const withEndpoint = await call<ServiceDto>('services', 'addEndpoint', { service, method: 'get', path: '/forecast/*' })
    expect(withEndpoint.endpoints).toContainEqual({ method: 'GET', path: '/forecast/*', generated: false })
    const disabled = await call<ServiceDto>('services', 'setEnabled', { service, enabled: false, notice: 'Maintenance until noon' })
    expect(disabled).toMatchObject({ disabled: true, disabledNotice: 'Maintenance until noon' })
    expect(await call<ServiceDto>('services', 'setEnabled', { service, enabled: true })).toMatchObject({ disabled: false })
    expect((await call<ServiceDto[]>('services', 'list', { client: sub })).map((s) => s.id)).toEqual([service])
  })

  it('grants to a subsystem, a local group and an endpoint, shows who may call what, and revokes', async () => {
    await call('clients', 'add', { client: 'LAB/GOV/5678/APP' })
    const group = await call<{ members: string[] }>('localGroups', 'add', { client: sub, groupCode: 'partners', description: 'Partner apps' })
    expect(group.members).toEqual([])
    expect((await call<{ members: string[] }>('localGroups', 'addMember', { client: sub, groupCode: 'partners', member: 'LAB/GOV/5678/APP' })).members).toEqual(['SUBSYSTEM:LAB/GOV/5678/APP'])
    expect(await failure('localGroups', 'addMember', { client: sub, groupCode: 'partners', member: 'LAB/GOV/5678/APP' })).toBe('conflict')

    await call('accessRights', 'grant', { service, subject: 'SUBSYSTEM:LAB/GOV/5678/APP' })
    await call('accessRights', 'grant', { service, subject: 'LOCALGROUP:partners', endpoint: { method: 'GET', path: '/forecast/*' } })
    expect(await failure('accessRights', 'grant', { service, subject: 'LOCALGROUP:nobody' })).toBe('not_found')
    expect(await failure('accessRights', 'grant', { service, subject: 'GLOBALGROUP:LAB/no-such-group' })).toBe('not_found')
    expect(await failure('accessRights', 'grant', { service, subject: 'SERVICE:LAB/GOV/1234/SUB/x' })).toBe('validation_failed')
    const rights = await call<Array<{ subject: string; endpoint: { method: string } }>>('accessRights', 'list', { service })
    expect(rights.map((r) => `${r.endpoint.method} ${r.subject}`).sort()).toEqual(['* SUBSYSTEM:LAB/GOV/5678/APP', 'GET LOCALGROUP:partners'])
    const matrix = await call<Array<{ serviceCode: string; subjectKind: string; members: string[]; endpoint: { path: string } }>>('accessRights', 'matrix')
    expect(matrix).toContainEqual(expect.objectContaining({ serviceCode: 'weather', subjectKind: 'LOCALGROUP', members: ['SUBSYSTEM:LAB/GOV/5678/APP'], endpoint: { method: 'GET', path: '/forecast/*' } }))
    await call('accessRights', 'revoke', { service, subject: 'LAB/GOV/5678/APP' })
    expect((await call<unknown[]>('accessRights', 'matrix')).length).toBe(1)
    expect(await failure('accessRights', 'revoke', { service, subject: 'LAB/GOV/5678/APP' })).toBe('not_found')
    expect((await call<{ members: string[] }>('localGroups', 'removeMember', { client: sub, groupCode: 'partners', member: 'LAB/GOV/5678/APP' })).members).toEqual([])
  })
})

describe('settings and diagnostics', () => {
  it('validates settings, shows defaults and resets', async () => {
    const list = await call<Array<{ name: string; value: string; defaultValue: string; isDefault: boolean }>>('settings', 'list')
    const keep = list.find((s) => s.name === 'message-log.keep-records-for')
    expect(keep).toMatchObject({ value: '30', defaultValue: '30', isDefault: true })
    expect(await failure('settings', 'set', { name: 'message-log.keep-records-for', value: 'forever' })).toBe('validation_failed')
    expect(await failure('settings', 'set', { name: 'message-log.keep-records-for', value: '99999' })).toBe('validation_failed')
    expect(await failure('settings', 'set', { name: 'no.such.parameter', value: '1' })).toBe('not_found')
    expect(await call('settings', 'set', { name: 'message-log.keep-records-for', value: ' 90 ' })).toMatchObject({ value: '90', isDefault: false })
    expect(await call('settings', 'set', { name: 'message-log.message-body-logging', value: 'false' })).toMatchObject({ value: 'false' })
    expect(await call('settings', 'reset', { name: 'message-log.keep-records-for' })).toMatchObject({ value: '30', isDefault: true })
    // op-monitor.clean-interval is a Quartz cron expression, read by the same parser the purge schedule uses.
    expect(list.find((s) => s.name === 'op-monitor.clean-interval')).toMatchObject({ kind: 'schedule', value: '0 0 0/12 1/1 * ? *' })
    expect(await failure('settings', 'set', { name: 'op-monitor.clean-interval', value: '0 0 0 L * ?' })).toBe('validation_failed')
    expect(await call('settings', 'set', { name: 'op-monitor.clean-interval', value: ' 0 30 3 * * ? ' })).toMatchObject({ value: '0 30 3 * * ?' })
    // X-Road's server-min-supported-client-version: unset (no minimum) by default, a major.minor.patch version when set.
    expect(list.find((s) => s.name === 'proxy.server-min-supported-client-version')).toMatchObject({ kind: 'version', value: '', isDefault: true })
    expect(await failure('settings', 'set', { name: 'proxy.server-min-supported-client-version', value: '7.1' })).toBe('validation_failed')
    expect(await call('settings', 'set', { name: 'proxy.server-min-supported-client-version', value: ' 7.1.3 ' })).toMatchObject({ value: '7.1.3', isDefault: false })
    expect(await call('settings', 'reset', { name: 'proxy.server-min-supported-client-version' })).toMatchObject({ value: '', isDefault: true })
  })

  it('lights a certificate by its state, days left and OCSP status', () => {
    expect(certificateLight('active', 400, 'good')).toBe('green')
    expect(certificateLight('active', 400, 'none')).toBe('yellow')
    expect(certificateLight('active', CERT_WARN_DAYS - 1, 'good')).toBe('yellow')
    expect(certificateLight('active', CERT_ALARM_DAYS - 1, 'good')).toBe('red')
    expect(certificateLight('active', 400, 'revoked')).toBe('red')
    expect(certificateLight('expired', 400, 'good')).toBe('red')
    expect(certificateLight('saved', 400, 'good')).toBe('gray')
  })

  it('explains global configuration, tokens, certificates and traffic', async () => {
    // Activation started the certificate's first OCSP fetch in the background; the verdict is read once it has landed.
    const result = await until(() => call<Diagnostics>('diagnostics', 'run', { windowMinutes: 30 }), (d) => d.certificates[0]?.ocsp === 'good')
    const lights = Object.fromEntries(result.checks.map((c) => [c.key, c.light]))
    expect(lights).toEqual({ 'global-conf': 'green', tokens: 'green', certificates: 'green', timestamping: 'gray', traffic: 'gray' })
    expect(result.checks.every((c) => c.explanation.length > 20)).toBe(true)
    // Each verdict as a code with its facts, for the GUI to word in the reader's language.
    expect(Object.fromEntries(result.checks.map((c) => [c.key, c.code]))).toEqual({
      'global-conf': 'global-conf-up-to-date', tokens: 'tokens-logged-in', certificates: 'certificates-ok', timestamping: 'timestamping-idle', traffic: 'traffic-none',
    })
    const byKey = (checks: Diagnostics['checks'], key: string) => checks.find((c) => c.key === key)
    expect(byKey(result.checks, 'global-conf')?.params.ageSeconds).toEqual(expect.any(Number))
    expect(byKey(result.checks, 'certificates')?.params).toEqual({ daysLeft: result.certificates[0]?.daysLeft, count: 1 })
    expect(byKey(result.checks, 'traffic')?.params).toEqual({ windowSeconds: 1800 })
    expect(result.certificates[0]).toMatchObject({ state: 'active', usage: 'sign', ocsp: 'good', light: 'green' })
    expect(result.traffic).toMatchObject({ bucketSeconds: 60, succeeded: 0, failed: 0 })
    await call('tokens', 'logout', { tokenId: '0' })
    const after = await call<Diagnostics>('diagnostics', 'run')
    expect(byKey(after.checks, 'tokens')).toMatchObject({ light: 'yellow', code: 'tokens-logged-out', params: { tokens: 'softToken', count: 1 } })
    expect(await failure('diagnostics', 'run', { windowMinutes: 0 })).toBe('validation_failed')
  })

  it('keeps PINs out of the audit log and the server log, and audits the changes', async () => {
    const audit = await server.admin.audit.search({ limit: 1000 })
    const events = audit.map((e) => `${e.event} ${e.outcome}`)
    expect(events).toContain('tokens.login success')
    expect(events).toContain('tokens.login failure')
    expect(events).toContain('initialization.initialize success')
    expect(events).toContain('accessRights.grant success')
    for (const text of [JSON.stringify(audit), logLines.join('\n')]) {
      expect(text).not.toContain(PIN)
      expect(text).not.toContain('wrong-pin-1')
    }
  })
})

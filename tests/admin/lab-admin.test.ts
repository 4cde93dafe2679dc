import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ADMIN_ROLES } from '@shared/admin-api/admin-roles'
import type { IpcResult } from '@shared/admin-api/ipc-result'
import type { CertificateDto, GlobalConfStatus, InitializationStatus, LabOperationDto, LabStatus, TokenDto } from '@shared/admin-api/admin-api'
import { createAdminRuntime, type AdminRuntime } from '../../src-main/admin'
import { installedPkcs11Modules } from '../../src-main/admin/keys-admin'
import { createSecurityServer, parseServerConfig, type SecurityServer } from '../../src-main/server'
import { createLogger, systemClock } from '../../src-main/platform'
import { createSoftHsmToken } from '../support/softhsm'
import { SOFTHSM, itWith } from '../support/requirements'

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
    serverConfDb: () => server.core.databases.serverConf, domains: server.core, clock: systemClock, logger, serverProxyPort: SERVER_PROXY_PORT,
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

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { BootstrapSettingsDto, SystemStatus } from '@shared/admin-api/admin-api'
import { SYSTEM_CALLER } from '../../src-main/admin/caller-context'
import { silentLogger } from '../../src-main/platform'
import { createSecurityServer, loadServerConfig, superviseSecurityServer, type SecurityServer, type Supervisor } from '../../src-main/server'

/**
 * Settings without a shell: system parameters apply to the running domains at once; the bootstrap file is edited
 * through the admin API, the status says a restart is needed, and `system.restart` restarts the server in its own
 * process on the new configuration (falling back to the last good one when the file is broken).
 */
let root: string
const supervisors: Supervisor[] = []

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'gatehouse-supervisor-'))
})

afterEach(async () => {
  for (const s of supervisors.splice(0)) await s.stop()
})

afterAll(() => rmSync(root, { recursive: true, force: true }))

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port
      server.close(() => resolve(port))
    })
  })
}

async function call<T>(server: SecurityServer, domain: string, method: string, ...args: unknown[]): Promise<T> {
  const result = await server.admin.call(SYSTEM_CALLER, domain, method, args)
  if (!result.ok) throw Object.assign(new Error(`${result.error.code}: ${result.error.message}`), { code: result.error.code, detail: result.error.detail })
  return result.value as T
}

async function supervise(name: string, bootstrap: object): Promise<{ dataDir: string; supervisor: Supervisor }> {
  const dataDir = join(root, name)
  mkdirSync(dataDir, { recursive: true })
  writeFileSync(join(dataDir, 'gatehouse.json'), JSON.stringify(bootstrap))
  const supervisor = await superviseSecurityServer({
    logger: silentLogger(),
    loadConfig: () => loadServerConfig(dataDir),
    create: (config, restart) => createSecurityServer({ dataDir, config, logger: silentLogger(), restart }),
  })
  supervisors.push(supervisor)
  return { dataDir, supervisor }
}

async function restarted(supervisor: Supervisor, before: SecurityServer): Promise<SecurityServer> {
  const end = Date.now() + 20_000
  while (supervisor.current() === before) {
    if (Date.now() > end) throw new Error('the server did not restart')
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  await supervisor.idle()
  return supervisor.current()
}

const bootstrapFor = (adminPort: number) => ({
  internal: { host: '127.0.0.1', adminPort, clientProxyHttpPort: null, clientProxyHttpsPort: null },
  external: { host: '127.0.0.1', serverProxyPort: null, ocspResponderPort: null },
  logging: { level: 'silent' },
  shutdownGraceMs: 100,
})

describe('listener settings through the admin API', () => {
  it('saves a new admin port, says a restart is needed, and restarts in place onto it', async () => {
    const [first, second] = [await freePort(), await freePort()]
    const { dataDir, supervisor } = await supervise('port-change', bootstrapFor(first))
    const old = supervisor.current()
    const saved = await call<BootstrapSettingsDto>(old, 'settings', 'setBootstrap', { adminPort: second })
    expect(saved.values.adminPort).toBe(second)
    expect(saved.running.adminPort).toBe(first)
    expect(saved.pendingRestart).toEqual(['adminPort'])
    // Other fields of the file are kept.
    expect(JSON.parse(readFileSync(join(dataDir, 'gatehouse.json'), 'utf8')).shutdownGraceMs).toBe(100)
    const pending = await call<SystemStatus>(old, 'system', 'status')
    expect(pending.restart).toEqual({ supported: true, required: true, reasons: ['internal.adminPort'] })

    expect(await call(old, 'system', 'restart')).toEqual({ restarting: true })
    const next = await restarted(supervisor, old)
    const status = await call<SystemStatus>(next, 'system', 'status')
    expect(status.listeners.find((l) => l.name === 'admin')?.url).toBe(`https://127.0.0.1:${second}/`)
    expect(status.restart.required).toBe(false)
    const audit = await next.admin.audit.search({ event: 'system.restart' })
    expect(audit.map((e) => e.outcome)).toEqual(['success'])
  })

  it('refuses two listeners on one port at the field, and a broken file never stops the server', async () => {
    const port = await freePort()
    const { dataDir, supervisor } = await supervise('broken', bootstrapFor(port))
    const server = supervisor.current()
    await expect(call(server, 'settings', 'setBootstrap', { clientProxyHttpPort: port })).rejects.toMatchObject({ code: 'validation_failed', detail: 'clientProxyHttpPort' })
    await expect(call(server, 'settings', 'setBootstrap', { adminPort: null })).rejects.toMatchObject({ code: 'validation_failed' })

    writeFileSync(join(dataDir, 'gatehouse.json'), '{ "internal": { "adminPort": "not a port" } }')
    const status = await call<SystemStatus>(server, 'system', 'status')
    expect(status.restart.required).toBe(true)
    expect(status.restart.reasons[0]).toContain('internal.adminPort')
    await call(server, 'system', 'restart')
    const next = await restarted(supervisor, server)
    const after = await call<SystemStatus>(next, 'system', 'status')
    expect(after.state).toBe('running')
    expect(after.listeners.find((l) => l.name === 'admin')?.url).toBe(`https://127.0.0.1:${port}/`)
  })

  it('applies the log level at once, without a restart', async () => {
    const { supervisor } = await supervise('log-level', bootstrapFor(0))
    const server = supervisor.current()
    const saved = await call<BootstrapSettingsDto>(server, 'settings', 'setBootstrap', { logLevel: 'debug' })
    expect(saved.running.logLevel).toBe('debug')
    expect(saved.pendingRestart).toEqual([])
    expect((await call<SystemStatus>(server, 'system', 'status')).restart.required).toBe(false)
  })

  it('an unsupervised server says it cannot restart itself', async () => {
    const dataDir = join(root, 'unsupervised')
    const server = createSecurityServer({ dataDir, config: loadServerConfig(dataDir), logger: silentLogger() })
    try {
      expect((await call<SystemStatus>(server, 'system', 'status')).restart.supported).toBe(false)
      await expect(call(server, 'system', 'restart')).rejects.toMatchObject({ code: 'unsupported' })
    } finally {
      await server.stop()
    }
  })
})

describe('system parameters apply to the running domains at once', () => {
  it('message-log and monitoring settings change in place when set and when reset', async () => {
    const { supervisor } = await supervise('parameters', bootstrapFor(0))
    const server = supervisor.current()
    const { messageLog } = server.core
    expect(messageLog.settings.archiveIntervalSeconds).toBe(86_400)
    await call(server, 'settings', 'set', { name: 'message-log.archive-interval', value: '600' })
    await call(server, 'settings', 'set', { name: 'message-log.message-body-logging', value: 'false' })
    await call(server, 'settings', 'set', { name: 'signer.ocsp-fetch-interval', value: '300' })
    expect(messageLog.settings.archiveIntervalSeconds).toBe(600)
    expect(messageLog.settings.messageBodyLogging).toBe(false)
    expect(server.core.parameters.ocspFetchIntervalSeconds).toBe(300)
    await call(server, 'settings', 'reset', { name: 'message-log.archive-interval' })
    expect(messageLog.settings.archiveIntervalSeconds).toBe(86_400)
  })
})

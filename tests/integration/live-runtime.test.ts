import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { subsystemId } from '@shared/domain/identifiers'
import type { ReadinessCheck, SystemStatus } from '@shared/admin-api/admin-api'
import { SYSTEM_CALLER } from '../../src-main/admin/caller-context'
import { silentLogger } from '../../src-main/platform'
import { createSecurityServer, parseServerConfig, type SecurityServer } from '../../src-main/server'
import { SOFTWARE_TOKEN_ID } from '../../src-main/signer'
import { startLabPair, TOKEN_PIN, type LabPair } from './lab-pair'

/**
 * The running server follows its configuration (issue 11, DESIGN "The running server follows its configuration"):
 * a token logged out or in, a certificate disabled or activated, a server started with its token logged out, a
 * server initialized while running, a registration that appears in global configuration — each takes effect in
 * real traffic over loopback mutual TLS without a restart, and the status says why traffic cannot flow meanwhile.
 */
let pair: LabPair
const scratch: string[] = []

beforeAll(async () => {
  pair = await startLabPair({ messageLog: { timeStampingIntervalSeconds: 3600 } })
}, 90_000)

afterAll(async () => {
  await pair?.close()
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true })
})

interface Answer {
  status: number
  text: string
}

async function callPets(): Promise<Answer> {
  const response = await fetch(`${pair.consumer.clientProxyUrl}/r1/LAB/GOV/2002/provider/pets/pets/1`, { headers: { 'X-Road-Client': 'LAB/GOV/1001/consumer' } })
  return { status: response.status, text: await response.text() }
}

const errorType = (answer: Answer): string => (JSON.parse(answer.text) as { type: string }).type

async function admin<T>(server: SecurityServer, domain: string, method: string, ...args: unknown[]): Promise<T> {
  const result = await server.admin.call(SYSTEM_CALLER, domain, method, args)
  if (!result.ok) throw new Error(`${domain}.${method}: ${result.error.code} ${result.error.message}`)
  return result.value as T
}

/** The runtime follows asynchronously: wait until its status shows what the test expects. */
async function until<T>(what: string, read: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs
  let last: T = await read()
  while (!ok(last)) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(last).slice(0, 600)}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
    last = await read()
  }
  return last
}

const check = (status: SystemStatus, key: ReadinessCheck['key']): ReadinessCheck | undefined => status.readiness.checks.find((c) => c.key === key)
const statusOf = (server: SecurityServer) => () => admin<SystemStatus>(server, 'system', 'status')

describe('a running pair follows token and certificate changes', () => {
  it('keeps its pooled connection to the provider through a new global configuration with the same CAs (each download makes one)', async () => {
    const total = async (server: SecurityServer, metric: string): Promise<number> =>
      Number(new RegExp(`^${metric} (\\d+)$`, 'm').exec((await server.metrics.scrape(undefined)).body)?.[1] ?? Number.NaN)
    const { consumer, provider } = pair
    expect((await callPets()).status).toBe(200)
    const opened = await total(consumer.server, 'gatehouse_peer_tls_connections_opened_total')
    const accepted = await total(provider.server, 'gatehouse_serverproxy_tls_connections_accepted_total')
    expect(opened).toBeGreaterThanOrEqual(1)
    expect(accepted).toBe(opened)

    const confs = [consumer, provider].map((side) => side.server.core.globalConf.current())
    pair.labServer.regenerate()
    for (const side of [consumer, provider]) await admin(side.server, 'globalConf', 'refresh')
    expect([consumer, provider].map((side, i) => side.server.core.globalConf.current() !== confs[i])).toEqual([true, true])
    // The runtimes re-derive on the change event; their reconcile is done once a status read after it shows ready.
    for (const side of [consumer, provider]) await until('readiness after the new configuration', statusOf(side.server), (s) => s.readiness.ready)
    await new Promise((resolve) => setTimeout(resolve, 500))
    for (let i = 0; i < 3; i++) expect((await callPets()).status).toBe(200)
    expect(await total(consumer.server, 'gatehouse_peer_tls_connections_opened_total')).toBe(opened)
    expect(await total(provider.server, 'gatehouse_serverproxy_tls_connections_accepted_total')).toBe(accepted)
  })

  it('serves, stops with X-Road errors while the provider token is logged out, and serves again after a GUI login', async () => {
    expect((await callPets()).status).toBe(200)
    const provider = pair.provider.server
    expect((await statusOf(provider)()).readiness.ready).toBe(true)

    await admin(provider, 'tokens', 'logout', { tokenId: SOFTWARE_TOKEN_ID })
    const out = await until('provider readiness to report the logged-out token', statusOf(provider), (s) => check(s, 'authentication')?.code === 'auth-token-logged-out')
    expect(out.readiness.ready).toBe(false)
    expect(check(out, 'authentication')?.light).toBe('red')
    expect(check(out, 'signing')?.code).toBe('sign-token-logged-out')
    const refused = await callPets()
    expect(refused.status).toBe(500)
    expect(errorType(refused)).toMatch(/^server\.(client|server)proxy\.(ssl_authentication_failed|cannot_create_signature)$/)
    const served = pair.sample.served()

    await admin(provider, 'tokens', 'login', { tokenId: SOFTWARE_TOKEN_ID, pin: TOKEN_PIN })
    await until('provider readiness after login', statusOf(provider), (s) => s.readiness.ready)
    const again = await callPets()
    expect(again.status, again.text).toBe(200)
    expect(pair.sample.served()).toBe(served + 1)
  })

  it('a disabled authentication certificate stops outgoing requests with ssl_authentication_failed; activating it restores them', async () => {
    const consumer = pair.consumer.server
    const certs = await admin<Array<{ id: string; usage: string | null; state: string }>>(consumer, 'certificates', 'list')
    const auth = certs.find((c) => c.usage === 'auth') as { id: string }
    await admin(consumer, 'certificates', 'disable', { certId: auth.id })
    const out = await until('consumer readiness without its auth certificate', statusOf(consumer), (s) => check(s, 'authentication')?.code === 'auth-cert-not-active')
    expect(check(out, 'authentication')?.message).toContain('disabled')
    const refused = await callPets()
    expect(refused.status).toBe(500)
    expect(errorType(refused)).toBe('server.clientproxy.ssl_authentication_failed')
    expect(JSON.parse(refused.text).message).toContain('cannot authenticate')

    await admin(consumer, 'certificates', 'activate', { certId: auth.id })
    await until('consumer readiness with its auth certificate', statusOf(consumer), (s) => s.readiness.ready)
    expect((await callPets()).status).toBe(200)
  })
})

describe('a server started with its token logged out (the normal case after a reboot)', () => {
  let restarted: SecurityServer

  beforeAll(async () => {
    await pair.provider.server.stop()
    const config = parseServerConfig({
      internal: { host: '127.0.0.1', adminPort: null, clientProxyHttpPort: 0, clientProxyHttpsPort: null },
      external: { host: '127.0.0.1', serverProxyPort: pair.provider.serverProxyPort, ocspResponderPort: pair.provider.ocspResponderPort },
      logging: { level: 'silent' },
      shutdownGraceMs: 200,
    }, 'live-runtime')
    restarted = createSecurityServer({ dataDir: pair.provider.dataDir, config, logger: silentLogger(), messageLog: { timeStampingIntervalSeconds: 3600 } })
    await restarted.start()
  }, 60_000)

  afterAll(async () => {
    await restarted?.stop()
  })

  it('listens, answers with X-Road errors that say why, then serves after the token is logged in through the admin API', async () => {
    const status = await until('listeners of the restarted provider', statusOf(restarted), (s) => s.expectedListeners.every((l) => l.listening))
    expect(status.expectedListeners.map((l) => l.name).sort()).toEqual(['clientProxyHttp', 'ocspResponder', 'serverProxy'])
    expect(check(status, 'authentication')?.code).toBe('auth-token-logged-out')
    expect(check(status, 'authentication')?.params.tokenId).toBe(SOFTWARE_TOKEN_ID)

    const refused = await callPets()
    expect(refused.status).toBe(500)
    expect(errorType(refused)).toBe('server.clientproxy.ssl_authentication_failed')

    await admin(restarted, 'tokens', 'login', { tokenId: SOFTWARE_TOKEN_ID, pin: TOKEN_PIN })
    await until('readiness after login', statusOf(restarted), (s) => s.readiness.ready)
    const served = await callPets()
    expect(served.status, served.text).toBe(200)
  })

  it('follows a registration that appears in global configuration: a new client becomes REGISTERED by itself', async () => {
    const client = subsystemId('LAB', 'GOV', '2002', 'archive')
    await admin(restarted, 'clients', 'add', { client: 'LAB/GOV/2002/archive' })
    const before = await admin<Array<{ path: string; state: string }>>(restarted, 'clients', 'list')
    expect(before.find((c) => c.path === 'LAB/GOV/2002/archive')?.state).toBe('SAVED')
    const waiting = await until('registration check to list the waiting client', statusOf(restarted), (s) => check(s, 'registration')?.code === 'clients-not-registered')
    expect(check(waiting, 'registration')?.params.clients).toContain('archive')

    pair.lab.addMember({ objectType: 'MEMBER', xRoadInstance: 'LAB', memberClass: 'GOV', memberCode: '2002' }, 'Provider Agency', 'archive')
    pair.lab.addClient(pair.provider.serverId, client)
    pair.labServer.regenerate()
    await admin(restarted, 'globalConf', 'refresh')
    const after = await until('the client to follow global configuration', () => admin<Array<{ path: string; state: string }>>(restarted, 'clients', 'list'),
      (list) => list.find((c) => c.path === 'LAB/GOV/2002/archive')?.state === 'REGISTERED')
    expect(after.find((c) => c.path === 'LAB/GOV/2002/archive')?.state).toBe('REGISTERED')
    expect(check(await statusOf(restarted)(), 'registration')?.code).toBe('registration-ready')
  })
})

describe('a server that joins an instance while running', () => {
  it('opens its proxy listeners after the first-run initialization, without a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-live-'))
    scratch.push(dir)
    const config = parseServerConfig({
      internal: { host: '127.0.0.1', adminPort: null, clientProxyHttpPort: 0, clientProxyHttpsPort: null },
      external: { host: '127.0.0.1', serverProxyPort: 0, ocspResponderPort: 0 },
      logging: { level: 'silent' },
      shutdownGraceMs: 200,
    }, 'live-runtime')
    const server = createSecurityServer({ dataDir: join(dir, 'data'), config, logger: silentLogger() })
    try {
      await server.start()
      const before = await statusOf(server)()
      expect(before.initialized).toBe(false)
      expect(before.readiness.ready).toBe(false)
      expect(before.expectedListeners.every((l) => !l.listening)).toBe(true)
      expect(before.expectedListeners.find((l) => l.name === 'serverProxy')?.problem).toContain('not joined')
      expect(check(before, 'listeners')?.code).toBe('listeners-waiting')

      const anchorXml = readFileSync(pair.labServer.anchor, 'utf8')
      const preview = await admin<{ hash: string }>(server, 'initialization', 'importAnchor', anchorXml)
      await admin(server, 'initialization', 'initialize', { anchorXml, confirmedHash: preview.hash, owner: 'LAB/GOV/3003', serverCode: 'ss-late', softwareTokenPin: 'Late-Pin-1234' })
      const after = await until('the listeners to open after initialization', statusOf(server), (s) => s.expectedListeners.every((l) => l.listening))
      expect(after.listeners.map((l) => l.name).sort()).toEqual(['clientProxyHttp', 'ocspResponder', 'serverProxy'])
      expect(check(after, 'authentication')?.code).toBe('auth-cert-missing')
      expect(check(after, 'listeners')?.code).toBe('listeners-ready')
    } finally {
      await server.stop()
    }
  })
})

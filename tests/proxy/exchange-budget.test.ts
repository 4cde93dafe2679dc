import { createHash, randomBytes } from 'node:crypto'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request as httpRequest } from 'node:http'
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import {
  BodyStore, DELIVERY_HEADER, MessageBudget, bufferBody, createPeerClient, readSource, startClientProxyListener, startServerProxyListener,
  type ClientProxyDeps, type PeerClientWithStats, type RunningClientProxy, type RunningListener,
} from '../../src-main/proxy'
import { fakeWorld, type FakeWorld } from './support/fake-world'
import { createTestPki, type TestCert, type TestPki } from './support/tls-pki'

/**
 * Both proxies over real loopback TLS with the memory budget (issue 14 §3, §7): a large body streams through spooled
 * and arrives whole; the message log's limit and the budget refuse a body before it is read (with `Expect:
 * 100-continue` the client is never told to send it); a chunked body is refused as it passes the limit; every error
 * after the query id is known carries `X-Road-Id` and whether the request may have reached the provider; nothing is
 * left in the budget or the spool afterwards.
 */
const sha256 = (der: Uint8Array) => createHash('sha256').update(der).digest('hex')
const MIB = 1024 * 1024
const ECHO = '/r1/DEV/GOV/1234/PROVIDER/orders/api/echo'
const scratch = mkdtempSync(join(tmpdir(), 'gh-exchange-budget-'))

let pki: TestPki
let consumerCert: TestCert
let providerCert: TestCert
let world: FakeWorld
let serverProxy: RunningListener
let peer: PeerClientWithStats
let clientProxy: RunningClientProxy
let clientDeps: ClientProxyDeps
let consumerBodies: BodyStore
let providerBodies: BodyStore

const budget = () => new MessageBudget({ maxInFlightBytes: 4 * MIB, spoolThresholdBytes: 128 * 1024, maxSpoolBytes: 64 * MIB, loadWaitMs: 2000 })

beforeAll(async () => {
  pki = createTestPki()
  consumerCert = pki.issue('consumer-ss')
  providerCert = pki.issue('provider-ss')
  world = fakeWorld()
  world.trustedAuthHashes.add(sha256(consumerCert.der))
  world.providerAuthHashes.add(sha256(providerCert.der))
  consumerBodies = new BodyStore(budget(), join(scratch, 'consumer-spool'))
  providerBodies = new BodyStore(budget(), join(scratch, 'provider-spool'))
  world.serverDeps.bodies = providerBodies
  serverProxy = await startServerProxyListener({
    host: '127.0.0.1', port: 0, tls: { keyPem: providerCert.keyPem, certChainPem: providerCert.chainPem },
    isTrustedAuthCert: (der) => world.trustedAuthHashes.has(sha256(der)), deps: world.serverDeps,
  })
  peer = createPeerClient({
    tls: { keyPem: consumerCert.keyPem, certChainPem: consumerCert.chainPem },
    authCertMatchesMember: (der) => world.providerAuthHashes.has(sha256(der)), connectTimeoutMs: 2000, responseTimeoutMs: 5000,
  })
  clientDeps = { ...world.clientDeps(peer), bodies: consumerBodies }
  clientProxy = await startClientProxyListener({ host: '127.0.0.1', httpPort: 0, httpsPort: null, deps: clientDeps })
}, 30_000)

afterAll(async () => {
  peer?.close()
  await clientProxy?.close()
  await serverProxy?.close()
  pki?.dispose()
  rmSync(scratch, { recursive: true, force: true })
})

const ORIGINAL = { messageLog: () => world.serverDeps.messageLog, service: () => world.serverDeps.serviceClient }
let restore: Array<() => void> = []
beforeEach(() => {
  for (const undo of restore.splice(0)) undo()
  world.addresses.splice(0, world.addresses.length, `127.0.0.1:${serverProxy.port}`)
  const log = clientDeps.messageLog
  const serverLog = ORIGINAL.messageLog()
  const service = ORIGINAL.service()
  restore = [() => (clientDeps.messageLog = log), () => (world.serverDeps.messageLog = serverLog), () => (world.serverDeps.serviceClient = service)]
})

interface Answer {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: Buffer
  continued: boolean
  /** When the client had sent its last byte (ms since the epoch; 0 if it never did). */
  endedAt: number
}

/** A POST to the client proxy; `body` is written in the given pieces, `gapMs` apart. */
function post(path: string, pieces: Buffer[], options: { headers?: Record<string, string>; expectContinue?: boolean; gapMs?: number } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let continued = false
    let endedAt = 0
    const req = httpRequest({
      host: '127.0.0.1', port: clientProxy.http?.port, method: 'POST', path, agent: false,
      headers: { 'X-Road-Client': 'DEV/COM/4422/CLIENT', 'Content-Type': 'application/octet-stream', ...options.headers, ...(options.expectContinue ? { Expect: '100-continue' } : {}) },
    })
    const send = async (): Promise<void> => {
      for (const piece of pieces) {
        if (req.destroyed) return
        req.write(piece)
        if (options.gapMs !== undefined) await new Promise((r) => setTimeout(r, options.gapMs))
      }
      endedAt = Date.now()
      req.end()
    }
    req.once('continue', () => {
      continued = true
      void send()
    })
    req.once('response', (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.once('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), continued, endedAt }))
    })
    req.once('error', reject)
    if (!options.expectContinue) void send()
  })
}

/** Everything taken is given back (the last body is released once written out, just after the client has it). */
async function expectNothingHeld(): Promise<void> {
  await vi.waitFor(() => {
    for (const store of [consumerBodies, providerBodies]) {
      expect(store.budget.stats()).toMatchObject({ memoryInUse: 0, spoolInUse: 0, waiting: 0 })
      expect(readdirSync(store.spoolDir).filter((n) => n.endsWith('.body'))).toEqual([])
    }
  }, { timeout: 2000 })
}

describe('bodies through both proxies under the budget', () => {
  it('streams an 8 MB body to the service and its 8 MB answer back, spooled on both sides, byte for byte', async () => {
    const payload = randomBytes(8 * MIB)
    let spooledAtService = false
    world.serverDeps.serviceClient = {
      call: async (call) => {
        const got = await readSource(call.body!)
        spooledAtService = readdirSync(providerBodies.spoolDir).length > 0
        return { status: 200, reason: 'OK', headers: [['Content-Type', 'application/octet-stream']], body: bufferBody(got) }
      },
    }
    const answer = await post(ECHO, [payload.subarray(0, 3 * MIB), payload.subarray(3 * MIB)], { headers: { 'Content-Length': String(payload.length) } })
    expect(answer.status).toBe(200)
    expect(answer.body.equals(payload)).toBe(true)
    expect(spooledAtService).toBe(true)
    expect(consumerBodies.budget.stats().spoolPeak).toBeGreaterThanOrEqual(payload.length)
    expect(consumerBodies.budget.stats().memoryPeak).toBeLessThan(4 * MIB)
    await expectNothingHeld()
  }, 30_000)

  it("refuses a declared length over the message log's limit before the body is sent (100-continue never given)", async () => {
    let called = 0
    world.serverDeps.serviceClient = { call: async () => { called++; throw new Error('must not be called') } }
    clientDeps.messageLog = { ...clientDeps.messageLog, bodyLimit: () => 1000 }
    const answer = await post(ECHO, [Buffer.alloc(5000)], { headers: { 'Content-Length': '5000' }, expectContinue: true })
    expect(answer.status).toBe(500)
    expect(answer.headers['x-road-error']).toBe('server.clientproxy.logging_failed')
    expect(answer.continued).toBe(false)
    expect(answer.headers[DELIVERY_HEADER.toLowerCase()]).toBe('not-sent')
    expect(called).toBe(0)
    await expectNothingHeld()
  })

  it('refuses a chunked body as soon as it passes the limit, while the client is still sending, keeping none of the rest', async () => {
    clientDeps.messageLog = { ...clientDeps.messageLog, bodyLimit: () => 100_000 }
    const fresh = new BodyStore(budget(), join(scratch, 'fresh-spool'))
    clientDeps.bodies = fresh
    let refusedAt = 0
    clientDeps.observer = { observe: (o) => void (refusedAt = o.responseOutTs) }
    restore.push(() => {
      clientDeps.bodies = consumerBodies
      delete clientDeps.observer
    })
    const pieces = Array.from({ length: 40 }, () => Buffer.alloc(16 * 1024, 0x61))
    const answer = await post(ECHO, pieces, { gapMs: 10 })
    expect(answer.status).toBe(500)
    expect(answer.headers['x-road-error']).toBe('server.clientproxy.logging_failed')
    // Refused while the client was still sending; what it sent after that was read and dropped, never kept.
    expect(refusedAt).toBeGreaterThan(0)
    expect(refusedAt).toBeLessThan(answer.endedAt)
    expect(fresh.budget.stats().memoryPeak).toBeLessThanOrEqual(100_000 + 64 * 1024)
    expect(fresh.budget.stats()).toMatchObject({ memoryInUse: 0, spoolPeak: 0 })
  })

  it("refuses with server_busy, before the body is sent, when the budget can't take it; the provider's budget likewise", async () => {
    const held = consumerBodies.budget.tryMemory(4 * MIB)!
    try {
      const answer = await post(ECHO, [Buffer.alloc(1000)], { headers: { 'Content-Length': '1000' }, expectContinue: true })
      expect(answer.status).toBe(500)
      expect(answer.headers['x-road-error']).toBe('server.clientproxy.server_busy')
      expect(answer.continued).toBe(false)
      expect(answer.headers['x-road-id']).toMatch(/^DEV-/)
      expect(answer.headers[DELIVERY_HEADER.toLowerCase()]).toBe('not-sent')
    } finally {
      held.release()
    }
    const providerHeld = providerBodies.budget.tryMemory(4 * MIB)!
    try {
      const answer = await post(ECHO, [Buffer.alloc(1000)], { headers: { 'Content-Length': '1000' } })
      expect(answer.status).toBe(500)
      expect(answer.headers['x-road-error']).toBe('server.serverproxy.server_busy')
      expect(answer.headers[DELIVERY_HEADER.toLowerCase()]).toBe('reached-provider')
    } finally {
      providerHeld.release()
    }
    await expectNothingHeld()
  })
})

describe('a failed request says whether it may have reached the provider (X-Road-Id and Gatehouse-Request-Delivery)', () => {
  let dropper: TlsServer
  beforeAll(async () => {
    // A provider that reads the request and dies before answering (a kill -9 mid-request).
    dropper = createTlsServer({ key: providerCert.keyPem, cert: providerCert.chainPem, requestCert: true, rejectUnauthorized: false }, (socket) => {
      socket.once('data', () => setTimeout(() => socket.destroy(), 20))
    })
    await new Promise<void>((r) => dropper.listen(0, '127.0.0.1', () => r()))
  })
  afterAll(() => new Promise<void>((r) => dropper.close(() => r())))

  it('not-sent: the provider could not be reached, the request never left', async () => {
    world.addresses.splice(0, world.addresses.length, '127.0.0.1:1')
    const answer = await post(ECHO, [Buffer.from('x')], { headers: { 'X-Road-Id': 'my-query-1' } })
    expect(answer.headers['x-road-error']).toBe('server.clientproxy.network_error')
    expect(answer.headers['x-road-id']).toBe('my-query-1')
    expect(answer.headers[DELIVERY_HEADER.toLowerCase()]).toBe('not-sent')
  })

  it('may-have-reached-provider: the connection broke after the request was sent; the message says so with the query id', async () => {
    world.addresses.splice(0, world.addresses.length, `127.0.0.1:${(dropper.address() as AddressInfo).port}`)
    const answer = await post(ECHO, [Buffer.from('x')], { headers: { 'X-Road-Id': 'my-query-2' } })
    expect(answer.status).toBe(500)
    expect(answer.headers['x-road-id']).toBe('my-query-2')
    expect(answer.headers[DELIVERY_HEADER.toLowerCase()]).toBe('may-have-reached-provider')
    expect(JSON.parse(answer.body.toString()).message).toContain('query id my-query-2: the request may have reached the provider')
    await expectNothingHeld()
  })

  it('reached-provider: the provider answered with a fault', async () => {
    const answer = await post('/r1/DEV/GOV/1234/PROVIDER/orders/forbidden', [Buffer.from('x')], { headers: { 'X-Road-Id': 'my-query-3' } })
    expect(answer.headers['x-road-error']).toBe('server.serverproxy.access_denied')
    expect(answer.headers['x-road-id']).toBe('my-query-3')
    expect(answer.headers[DELIVERY_HEADER.toLowerCase()]).toBe('reached-provider')
  })

  it('no query id yet: a request refused before it was parsed carries neither header', async () => {
    const answer = await post(ECHO, [Buffer.from('x')], { headers: { 'X-Road-Client': 'not an id' } })
    expect(answer.status).toBe(500)
    expect(answer.headers['x-road-id']).toBeUndefined()
    expect(answer.headers[DELIVERY_HEADER.toLowerCase()]).toBeUndefined()
  })
})

import 'reflect-metadata'
import { createHash, randomUUID } from 'node:crypto'
import { Writable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ProbeResult } from '@shared/admin-api/admin-api'
import { readZipEntries } from '../../src-main/message-log'
import { createLogger, ManualClock } from '../../src-main/platform'
import { startLabPair, TOKEN_PIN, type LabPair } from './lab-pair'

/**
 * Diagnostics that probe, against a real lab pair on loopback: every TSA, OCSP responder, configuration source and
 * listener answers while the lab is up; a metaservice test call goes through the consumer's client proxy to the
 * provider; the health-check endpoint moves between 200, 500 and 503 as the token logs out, maintenance is switched on
 * and the configuration expires; the bundle holds logs, settings and results but no secret; and each lab service
 * stopped in turn is named by its probe with the reason.
 */
let pair: LabPair
// The servers' clock follows real time until a case moves it past a cache or the configuration's expiry.
const clock = new ManualClock()
const ticker = setInterval(() => clock.advance(100), 100)
ticker.unref()
const sink = new Writable({ write: (_chunk, _encoding, done) => done() })

beforeAll(async () => {
  pair = await startLabPair({ clock, healthCheck: true, logger: createLogger({ level: 'debug', destination: sink }) })
}, 90_000)

afterAll(async () => {
  clearInterval(ticker)
  await pair?.close()
})

const consumerAdmin = () => pair.consumer.server.admin
const CONSUMER = 'LAB/GOV/1001/consumer'
const PROVIDER = 'LAB/GOV/2002/provider'

function only(results: ProbeResult[], kind: ProbeResult['kind'], target?: string): ProbeResult {
  const found = results.filter((r) => r.kind === kind && (target === undefined || r.target === target))
  expect(found, `${kind} ${target ?? ''}`).toHaveLength(1)
  return found[0] as ProbeResult
}

const stepNames = (result: ProbeResult): string[] => result.steps.map((s) => `${s.name}${s.ok ? '' : '!'}`)

async function healthUrl(): Promise<string> {
  const status = await consumerAdmin().diagnostics.health()
  expect(status.enabled).toBe(true)
  expect(status.url).not.toBeNull()
  return status.url as string
}

async function health(): Promise<{ status: number; body: string }> {
  const response = await fetch(await healthUrl())
  return { status: response.status, body: await response.text() }
}

describe('diagnostics probes against the lab', () => {
  it('every TSA, OCSP responder, configuration source and listener answers, each step timed', async () => {
    const report = await consumerAdmin().diagnostics.probe()
    const results = report.probes
    expect(new Set(results.map((r) => r.kind))).toEqual(new Set(['tsa', 'ocsp', 'conf-source', 'listener']))

    const tsa = only(results, 'tsa')
    expect(tsa).toMatchObject({ code: 'tsa-ok', light: 'green', address: pair.labServer.urls.tsa, params: { inUse: true } })
    expect(stepNames(tsa)).toEqual(['connect', 'answer', 'verify'])

    const ocsp = only(results, 'ocsp')
    expect(ocsp).toMatchObject({ code: 'ocsp-good', light: 'green', address: pair.labServer.urls.ocsp, params: { status: 'good' } })
    expect(String(ocsp.params.certificate)).toContain('ss-consumer')
    expect(stepNames(ocsp)).toEqual(['connect', 'answer', 'verify'])

    const conf = only(results, 'conf-source')
    expect(conf).toMatchObject({ code: 'conf-ok', light: 'green', target: pair.labServer.urls.internalconf })
    expect(conf.params.parts).toBeGreaterThan(0)
    expect(stepNames(conf)).toEqual(['connect', 'answer', 'verify', 'parts'])

    const listeners = results.filter((r) => r.kind === 'listener')
    expect(listeners.map((l) => l.target).sort()).toEqual(['clientProxyHttp', 'healthCheck', 'ocspResponder', 'serverProxy'])
    expect(only(results, 'listener', 'clientProxyHttp')).toMatchObject({ code: 'listener-ok', params: { status: 200 } })
    expect(only(results, 'listener', 'clientProxyHttp').params.members).toBeGreaterThan(0)
    const serverProxy = only(results, 'listener', 'serverProxy')
    expect(serverProxy).toMatchObject({ code: 'listener-auth-cert', light: 'green', params: { protocol: 'TLSv1.2' } })
    expect(serverProxy.params.fingerprint).toBe(createHash('sha256').update(pair.consumer.authCertDer).digest('hex'))
    expect(stepNames(serverProxy)).toEqual(['connect', 'tls'])
    expect(only(results, 'listener', 'ocspResponder')).toMatchObject({ code: 'listener-ok', params: { status: 200 } })
    expect(only(results, 'listener', 'healthCheck')).toMatchObject({ code: 'listener-ok', params: { status: 200 } })

    for (const result of results) {
      expect(result.explanation).not.toBe('')
      for (const step of result.steps) expect(step.ms).toBeGreaterThanOrEqual(0)
      expect(result.totalMs).toBeGreaterThanOrEqual(result.steps.reduce((sum, s) => sum + s.ms, 0) - 1)
    }
  })

  it('a metaservice test call goes through the consumer\'s client proxy to the provider, which lists its services', async () => {
    const { probes } = await consumerAdmin().diagnostics.probe({ kinds: ['peer'], peer: { client: CONSUMER, provider: PROVIDER, method: 'listMethods' } })
    const peer = only(probes, 'peer')
    // The provider's server proxy answers the REST metaservice itself (PR-MREST §4): its one REST service, pets.
    expect(peer).toMatchObject({
      code: 'peer-ok', light: 'green', target: PROVIDER,
      address: `127.0.0.1:${pair.provider.serverProxyPort}`, params: { services: 1, status: 200, method: 'listMethods' },
    })
    expect(stepNames(peer)).toEqual(['route', 'connect', 'tls', 'peer-auth', 'sign', 'peer', 'verify'])
    const targets = await consumerAdmin().diagnostics.probeTargets()
    expect(targets.clients).toContain(CONSUMER)
    expect(targets.providers.map((p) => p.id)).toEqual(expect.arrayContaining([PROVIDER, CONSUMER]))
    await expect(consumerAdmin().diagnostics.probe({ peer: { client: PROVIDER, provider: PROVIDER, method: 'allowedMethods' } }))
      .rejects.toMatchObject({ code: 'validation_failed', detail: 'client' })
  })

  it('the health check answers 200, then 500 once the token logs out, and 503 in maintenance mode', async () => {
    expect(await health()).toEqual({ status: 200, body: '' })
    const signer = pair.consumer.server.core.signer
    const token = (await signer.listTokens())[0]
    if (token === undefined) throw new Error('the consumer has no token')
    await signer.logout(token.id)
    // A success is kept 2 s (X-Road's cacheResultFor(2, 30)).
    clock.advance(2100)
    expect(await health()).toEqual({ status: 500, body: 'No authentication key available. Signer might be down.\n' })
    await consumerAdmin().tokens.login({ tokenId: token.id, pin: TOKEN_PIN })
    // A failure is kept 30 s, so the balancer does not flap.
    expect((await health()).status).toBe(500)
    clock.advance(30_100)
    expect(await health()).toEqual({ status: 200, body: '' })

    const on = await consumerAdmin().diagnostics.setMaintenanceMode({ enabled: true })
    expect(on).toMatchObject({ maintenanceMode: true, httpStatus: 503, message: 'Health check interface is in maintenance mode.' })
    expect(await health()).toEqual({ status: 503, body: 'Health check interface is in maintenance mode.\n' })
    await consumerAdmin().diagnostics.setMaintenanceMode({ enabled: false })
    expect((await health()).status).toBe(200)
    const status = await consumerAdmin().diagnostics.health()
    expect(status.checks.map((c) => [c.name, c.ok])).toEqual([['global-conf', true], ['auth-key-ocsp', true], ['server-conf', true], ['message-log', true]])
  })

  it('the bundle holds logs, settings, versions and results, and no PIN, key or message body', async () => {
    const marker = `body-that-must-stay-private-${randomUUID()}`
    const response = await fetch(`${pair.consumer.clientProxyUrl}/r1/${PROVIDER}/pets/echo`, {
      method: 'POST', headers: { 'X-Road-Client': CONSUMER, 'Content-Type': 'text/plain' }, body: marker,
    })
    expect(await response.text()).toBe(marker)
    const token = (await pair.consumer.server.core.signer.listTokens())[0] as { id: string }
    await consumerAdmin().tokens.login({ tokenId: token.id, pin: TOKEN_PIN })
    // A careless log call with secrets in its fields: redacted before it reaches the ring the bundle reads.
    pair.consumer.server.core.logger.warn({ pin: TOKEN_PIN, password: TOKEN_PIN, body: marker }, 'a log line with secrets in its fields')

    const bundle = await consumerAdmin().diagnostics.bundle()
    expect(bundle.mimeType).toBe('application/zip')
    const entries = await readZipEntries(Buffer.from(bundle.content, 'base64'))
    const folder = bundle.fileName.replace(/\.zip$/, '')
    expect(entries.map((e) => e.name)).toEqual(['manifest.json', 'versions.json', 'status.json', 'diagnostics.json', 'probes.json', 'health.json', 'settings.json', 'logs/recent.jsonl'].map((n) => `${folder}/${n}`))
    expect(bundle.entries).toEqual(entries.map((e) => e.name))
    const text = (name: string): string => (entries.find((e) => e.name === `${folder}/${name}`)?.data ?? Buffer.alloc(0)).toString('utf8')

    expect(JSON.parse(text('versions.json'))).toMatchObject({ node: process.versions.node })
    const probes = JSON.parse(text('probes.json')) as { probes: ProbeResult[] }
    expect(probes.probes.map((p) => p.kind)).toEqual(expect.arrayContaining(['tsa', 'ocsp', 'conf-source', 'listener', 'peer']))
    const settings = JSON.parse(text('settings.json')) as { identity: { serverId: string }; tokens: unknown[]; systemParameters: unknown[] }
    expect(settings.identity.serverId).toBe('LAB/GOV/1001/ss-consumer')
    expect(settings.systemParameters.length).toBeGreaterThan(0)
    expect(JSON.parse(text('status.json'))).toMatchObject({ readiness: { checks: expect.any(Array) } })
    const logLines = text('logs/recent.jsonl').trim().split('\n')
    expect(logLines.length).toBeGreaterThan(10)
    for (const line of logLines) expect(() => JSON.parse(line)).not.toThrow()
    expect(logLines.some((l) => l.includes('a log line with secrets in its fields') && l.includes('"pin":"[redacted]"'))).toBe(true)

    const everything = entries.map((e) => e.data.toString('utf8')).join('\n')
    expect(everything).not.toContain(TOKEN_PIN)
    expect(everything).not.toContain(marker)
    expect(everything).not.toMatch(/PRIVATE KEY/)
    expect(everything).not.toContain(Buffer.from(marker).toString('base64'))
  })

  it('each lab service stopped in turn: its probe says which and why, the others still answer', async () => {
    await pair.labServer.stopService('tsa')
    let { probes } = await consumerAdmin().diagnostics.probe({ kinds: ['tsa', 'ocsp', 'conf-source'] })
    const tsa = only(probes, 'tsa')
    expect(tsa).toMatchObject({ code: 'tsa-unreachable', light: 'red', params: { stage: 'connect', network: 'refused' } })
    expect(String(tsa.params.error)).toMatch(/^connection refused/)
    expect(stepNames(tsa)).toEqual(['connect!'])
    expect(tsa.explanation).toContain(pair.labServer.urls.tsa)
    expect(only(probes, 'ocsp').code).toBe('ocsp-good')
    expect(only(probes, 'conf-source').code).toBe('conf-ok')

    await pair.labServer.stopService('ocsp')
    ;({ probes } = await consumerAdmin().diagnostics.probe({ kinds: ['ocsp', 'conf-source'] }))
    expect(only(probes, 'ocsp')).toMatchObject({ code: 'ocsp-unreachable', light: 'red', address: pair.labServer.urls.ocsp })
    expect(only(probes, 'conf-source').code).toBe('conf-ok')

    await pair.labServer.stopService('conf')
    ;({ probes } = await consumerAdmin().diagnostics.probe({ kinds: ['conf-source'] }))
    expect(only(probes, 'conf-source')).toMatchObject({ code: 'conf-unreachable', light: 'red', target: pair.labServer.urls.internalconf })
  })

  it('with the provider\'s server down, the test call says the peer cannot be reached', async () => {
    await pair.provider.server.stop()
    const { probes } = await consumerAdmin().diagnostics.probe({ kinds: ['peer'], peer: { client: CONSUMER, provider: PROVIDER, method: 'allowedMethods' } })
    const peer = only(probes, 'peer')
    expect(peer).toMatchObject({ code: 'peer-unreachable', light: 'red', params: { stage: 'connect' } })
    expect(stepNames(peer)).toEqual(['route', 'connect!'])
  })

  it('an expired configuration turns the health check to 500 with X-Road\'s reason', async () => {
    const expires = pair.consumer.server.core.globalConf.current()?.expiresAt
    if (expires === undefined) throw new Error('no configuration expiry')
    clock.set(expires.getTime() + 1000)
    expect(await health()).toEqual({ status: 500, body: 'Global configuration is expired\n' })
    expect(await consumerAdmin().diagnostics.health()).toMatchObject({ httpStatus: 500, message: 'Global configuration is expired' })
  })
})

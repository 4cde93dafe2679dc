import { createSocket, type Socket } from 'node:dgram'
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http'
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { AlertDto } from '@shared/admin-api/operations-api'
import type { ReadinessCheck } from '@shared/admin-api/admin-api'
import {
  alertsMigrations, createAlertCenter, evaluateAlerts, formatSyslogMessage, webhookSignature, type AlertChange, type AlertSnapshot,
} from '../../src-main/alerts'
import { closeDatabase, ManualClock, migrate, openDatabase, silentLogger, type WritableDb } from '../../src-main/platform'
import { useTempDirs } from '../support/temp-dir'

/**
 * Alert rules on snapshots, and the alert center over a real serverconf database delivering to a real webhook
 * receiver (HTTP on loopback, HMAC checked) and real syslog listeners (UDP datagrams, TCP octet counting).
 */
const tempDir = useTempDirs()
const NOW = '2026-03-01T12:00:00.000Z'
const DAY = 86_400_000

function snapshot(patch: Partial<AlertSnapshot> = {}): AlertSnapshot {
  return {
    now: new Date(NOW), initialized: true, certificates: [], tokens: [], trafficExpected: true, readiness: [], diskDaysThreshold: 14, ...patch,
  }
}

function cert(id: string, daysLeft: number, patch: Partial<AlertSnapshot['certificates'][number]> = {}): AlertSnapshot['certificates'][number] {
  return {
    id, subject: `CN=${id}`, usage: 'sign', state: 'active', tokenId: 'soft', notAfter: new Date(Date.parse(NOW) + daysLeft * DAY + 3_600_000).toISOString(),
    ocsp: { status: 'good' }, ...patch,
  }
}

function check(key: ReadinessCheck['key'], light: ReadinessCheck['light'], code: ReadinessCheck['code'], params: ReadinessCheck['params'] = {}): ReadinessCheck {
  return { key, light, code, params, message: `${code} message` }
}

describe('alert rules', () => {
  it('raises certificate expiry at 60, 30, 7 and 1 days, each threshold its own alert, and expiry itself', () => {
    const ids = (days: number) => evaluateAlerts(snapshot({ certificates: [cert('c', days)] })).map((a) => [a.id, a.severity])
    expect(ids(61)).toEqual([])
    expect(ids(59)).toEqual([['certificate-expiring:c:60', 'info']])
    expect(ids(29)).toEqual([['certificate-expiring:c:30', 'warning']])
    expect(ids(6)).toEqual([['certificate-expiring:c:7', 'critical']])
    expect(ids(0)).toEqual([['certificate-expiring:c:1', 'critical']])
    expect(evaluateAlerts(snapshot({ certificates: [cert('c', -2)] })).map((a) => a.id)).toEqual(['certificate-expired:c'])
    // Only certificates in use count: a disabled or saved one is not an alert.
    expect(evaluateAlerts(snapshot({ certificates: [cert('c', 3, { state: 'disabled' }), cert('d', 3, { state: 'saved' })] }))).toEqual([])
  })

  it('raises OCSP stale (not fetched yet only after a while), and time-stamping failing with the time left', () => {
    const [stale] = evaluateAlerts(snapshot({ certificates: [cert('c', 200, { ocsp: { status: 'stale', lastError: 'connection refused' } })] }))
    expect(stale).toMatchObject({ id: 'ocsp-stale:c', code: 'ocsp-stale', delayMs: 0, params: { status: 'stale', error: 'connection refused' } })
    expect(evaluateAlerts(snapshot({ certificates: [cert('c', 200, { ocsp: { status: 'none' } })] }))[0]?.delayMs).toBe(120_000)
    const stops = new Date(Date.parse(NOW) + 2 * 3600_000).toISOString()
    const failing = (secondsLeft: number) => evaluateAlerts(snapshot({
      timestamping: { light: 'yellow', acceptingMessages: true, trafficStopsAt: stops, secondsLeft, lastError: 'TSA timeout' },
    }))
    expect(failing(7200)).toEqual([expect.objectContaining({ id: 'timestamping-failing:warning', params: { error: 'TSA timeout', trafficStopsAt: stops } })])
    expect(failing(600)[0]?.id).toBe('timestamping-failing:critical')
  })

  it('raises a logged-out token only while traffic is expected, and says so instead of the readiness check', () => {
    const state = snapshot({
      certificates: [cert('c', 200, { usage: 'auth', state: 'registered', tokenId: 't1' })],
      tokens: [{ id: 't1', label: 'Software token', loggedIn: false, available: true }, { id: 't2', label: 'Spare', loggedIn: false, available: true }],
      readiness: [check('authentication', 'red', 'auth-token-logged-out', { token: 'Software token', tokenId: 't1' }), check('configuration', 'red', 'global-conf-expired', { expiresAt: NOW })],
    })
    expect(evaluateAlerts(state).map((a) => a.id)).toEqual(['readiness-red:configuration:global-conf-expired', 'token-logged-out:t1'])
    expect(evaluateAlerts({ ...state, trafficExpected: false }).map((a) => a.id)).toEqual([
      'readiness-red:authentication:auth-token-logged-out', 'readiness-red:configuration:global-conf-expired',
    ])
  })

  it('raises global configuration near expiry, a disk filling before the threshold, and any red readiness area', () => {
    const alerts = evaluateAlerts(snapshot({
      globalConf: { light: 'yellow', expired: false, expiresAt: '2026-03-01T12:02:00.000Z', lastError: 'HTTP 503' },
      disk: { daysUntilFull: 2.5, freeBytes: 1000 },
      readiness: [check('evidence' as ReadinessCheck['key'], 'red', 'evidence-gap' as ReadinessCheck['code'], { records: 3 }), check('listeners', 'green', 'listeners-ready')],
    }))
    expect(alerts.map((a) => [a.id, a.severity])).toEqual([
      ['readiness-red:evidence:evidence-gap', 'critical'], ['global-conf-expiring', 'warning'], ['disk-filling:critical', 'critical'],
    ])
    expect(alerts[0]?.params).toEqual({ area: 'evidence', check: 'evidence-gap', records: 3 })
    expect(evaluateAlerts(snapshot({ disk: { daysUntilFull: 20, freeBytes: 1 } }))).toEqual([])
    expect(evaluateAlerts(snapshot({ disk: { daysUntilFull: 10, freeBytes: 1 } }))[0]?.id).toBe('disk-filling:warning')
    expect(evaluateAlerts(snapshot({ initialized: false, readiness: [check('configuration', 'gray', 'not-initialized')] }))).toEqual([])
  })
})

interface Received {
  headers: Record<string, string | string[] | undefined>
  body: string
}

describe('alert center', () => {
  const closers: Array<() => Promise<void> | void> = []
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close()
  })

  function setup() {
    const db = openDatabase(join(tempDir(), 'serverconf.sqlite')) as WritableDb
    migrate(db, [alertsMigrations])
    closers.push(() => closeDatabase(db))
    const clock = new ManualClock(NOW)
    const changes: Array<[AlertChange, AlertDto]> = []
    const make = () => createAlertCenter({
      db: () => db, clock, logger: silentLogger(), onChange: (change, alert) => changes.push([change, alert]), serverId: () => 'LAB/GOV/1001/ss1',
      webhook: { retryDelayMs: 50, timeoutMs: 2000 },
    })
    return { db, clock, changes, center: make(), make }
  }

  async function webhookReceiver(statuses: number[] = []): Promise<{ url: string; received: Received[] }> {
    const received: Received[] = []
    const server: HttpServer = createHttpServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') })
        res.writeHead(statuses.shift() ?? 204)
        res.end()
      })
    })
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
    closers.push(() => new Promise<void>((done) => server.close(() => done())))
    return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/hooks/gatehouse`, received }
  }

  async function udpListener(): Promise<{ port: number; messages: string[] }> {
    const messages: string[] = []
    const socket: Socket = createSocket('udp4')
    socket.on('message', (m) => messages.push(m.toString('utf8')))
    await new Promise<void>((done) => socket.bind(0, '127.0.0.1', done))
    closers.push(() => new Promise<void>((done) => socket.close(() => done())))
    return { port: socket.address().port, messages }
  }

  async function tcpListener(): Promise<{ port: number; frames: () => string[] }> {
    let data = ''
    const server: TcpServer = createTcpServer((socket) => socket.on('data', (c: Buffer) => (data += c.toString('utf8'))))
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
    closers.push(() => new Promise<void>((done) => server.close(() => done())))
    // RFC 6587 §3.4.1: MSG-LEN SP SYSLOG-MSG, repeated.
    const frames = (): string[] => {
      const out: string[] = []
      let rest = Buffer.from(data, 'utf8')
      while (rest.length > 0) {
        const space = rest.indexOf(0x20)
        const length = Number(rest.subarray(0, space).toString('ascii'))
        out.push(rest.subarray(space + 1, space + 1 + length).toString('utf8'))
        rest = rest.subarray(space + 1 + length)
      }
      return out
    }
    return { port: (server.address() as { port: number }).port, frames }
  }

  it('raises after the delay, keeps one alert per condition, clears it, and remembers acknowledgements across restarts', () => {
    const { center, clock, changes, make } = setup()
    const token = evaluateAlerts(snapshot({
      certificates: [cert('c', 200, { tokenId: 't1' })], tokens: [{ id: 't1', label: 'HSM', loggedIn: false, available: true }],
    }))
    center.update(token)
    expect(center.list(false)).toEqual([])
    clock.advance(31_000)
    center.update(token)
    center.update(token)
    expect(center.list(false).map((a) => a.id)).toEqual(['token-logged-out:t1'])
    expect(changes.map(([c, a]) => [c, a.id])).toEqual([['raised', 'token-logged-out:t1']])
    const acknowledged = center.acknowledge('token-logged-out:t1', 'alice')
    expect(acknowledged).toMatchObject({ acknowledgedBy: 'alice', acknowledgedAt: new Date(Date.parse(NOW) + 31_000).toISOString() })
    // A new center over the same database (a restart) neither forgets the acknowledgement nor announces the alert again.
    const again = make()
    again.update(token)
    expect(again.list(false)).toEqual([expect.objectContaining({ id: 'token-logged-out:t1', acknowledgedBy: 'alice' })])
    expect(changes.filter(([c]) => c === 'raised')).toHaveLength(1)
    clock.advance(1000)
    again.update([])
    expect(again.list(false)).toEqual([])
    expect(again.list(true)).toEqual([expect.objectContaining({ id: 'token-logged-out:t1', clearedAt: clock.now().toISOString() })])
    expect(changes.map(([c]) => c)).toEqual(['raised', 'acknowledged', 'cleared'])
    expect(() => again.acknowledge('token-logged-out:t1', 'bob')).toThrow(/No active alert/)
  })

  it('drops a condition that ends before its delay, and announces a certificate again at each new threshold', () => {
    const { center, clock, changes } = setup()
    const tokenOut = evaluateAlerts(snapshot({ certificates: [cert('c', 200)], tokens: [{ id: 'soft', label: 'Software token', loggedIn: false, available: true }] }))
    center.update(tokenOut)
    clock.advance(20_000)
    center.update([])
    clock.advance(20_000)
    center.update(tokenOut)
    expect(center.list(false)).toEqual([])
    center.update(evaluateAlerts(snapshot({ certificates: [cert('c', 29)] })))
    center.update(evaluateAlerts(snapshot({ certificates: [cert('c', 6)] })))
    expect(changes.map(([c, a]) => `${c} ${a.id}`)).toEqual([
      'raised certificate-expiring:c:30', 'cleared certificate-expiring:c:30', 'raised certificate-expiring:c:7',
    ])
  })

  it('posts raised and cleared alerts to a webhook receiver, signed with the secret, retrying a 5xx answer', async () => {
    const { center, clock } = setup()
    const hook = await webhookReceiver([503])
    center.setSettings({ webhook: { enabled: true, url: hook.url, secret: 'shared-secret-1' } })
    expect(center.settings().webhook).toEqual({ enabled: true, url: hook.url, secretSet: true })
    const expiring = evaluateAlerts(snapshot({ certificates: [cert('c', 6)] }))
    center.update(expiring)
    await center.idle()
    clock.advance(1000)
    center.update([])
    await center.idle()
    // The first POST got 503 and was sent again.
    expect(hook.received).toHaveLength(3)
    const [first, retry, cleared] = hook.received as [Received, Received, Received]
    expect(retry.body).toBe(first.body)
    for (const r of hook.received) {
      expect(r.headers['x-gatehouse-signature']).toBe(webhookSignature('shared-secret-1', r.body))
      expect(r.headers['content-type']).toBe('application/json; charset=utf-8')
    }
    expect(JSON.parse(retry.body)).toMatchObject({ event: 'raised', server: 'LAB/GOV/1001/ss1', alert: { id: 'certificate-expiring:c:7', severity: 'critical', code: 'certificate-expiring' } })
    expect(retry.headers['x-gatehouse-event']).toBe('raised')
    expect(JSON.parse(cleared.body)).toMatchObject({ event: 'cleared', alert: { id: 'certificate-expiring:c:7', clearedAt: clock.now().toISOString() } })
    expect(center.settings().lastDeliveries).toEqual([{ channel: 'webhook', at: clock.now().toISOString(), ok: true, error: null }])
  })

  it('sends RFC 5424 messages to a UDP syslog listener and a TCP one with octet counting', async () => {
    const { center } = setup()
    const udp = await udpListener()
    center.setSettings({ syslog: { enabled: true, host: '127.0.0.1', port: udp.port, protocol: 'udp', facility: 16 } })
    center.update(evaluateAlerts(snapshot({ disk: { daysUntilFull: 1.2, freeBytes: 5_000_000 } })))
    await center.idle()
    await expect.poll(() => udp.messages.length).toBe(1)
    // PRI = 16 (local0) × 8 + 2 (critical).
    expect(udp.messages[0]).toMatch(/^<130>1 2026-03-01T12:00:00\.000Z \S+ gatehouse \d+ disk-filling \[gatehouse@32473 id="disk-filling:critical" event="raised" severity="critical" server="LAB\/GOV\/1001\/ss1"\] At the recent rate/)

    const tcp = await tcpListener()
    center.setSettings({ syslog: { protocol: 'tcp', port: tcp.port } })
    const results = await center.testDelivery()
    expect(results).toEqual([{ channel: 'syslog', at: NOW, ok: true, error: null }])
    center.update([])
    await center.idle()
    await expect.poll(() => tcp.frames().length).toBe(2)
    expect(tcp.frames()[0]).toMatch(/^<134>1 .* readiness-red \[gatehouse@32473 id="test" event="test" severity="info" server="LAB\/GOV\/1001\/ss1"\] Test alert from Gatehouse/)
    // A cleared alert is a notice (5): <133>.
    expect(tcp.frames()[1]).toMatch(/^<133>1 .* disk-filling \[.*event="cleared".*\] Resolved: At the recent rate/)
  })

  it('reports a channel that cannot be reached, and refuses settings that cannot work', async () => {
    const { center } = setup()
    const hook = await webhookReceiver()
    const dead = hook.url.replace(/:\d+\//, ':1/')
    center.setSettings({ webhook: { enabled: true, url: dead } })
    const [result] = await center.testDelivery()
    expect(result).toMatchObject({ channel: 'webhook', ok: false, error: expect.stringMatching(/ECONNREFUSED/) })
    expect(() => center.setSettings({ webhook: { url: 'ftp://example.org/' } })).toThrow(expect.objectContaining({ code: 'validation_failed', detail: 'webhook.url' }))
    expect(() => center.setSettings({ webhook: { url: '' } })).toThrow(expect.objectContaining({ detail: 'webhook.url' }))
    expect(() => center.setSettings({ syslog: { port: 70_000 } })).toThrow(expect.objectContaining({ detail: 'syslog.port' }))
    expect(() => center.setSettings({ diskDaysThreshold: 0 })).toThrow(expect.objectContaining({ detail: 'diskDaysThreshold' }))
    expect(center.settings().webhook.url).toBe(dead)
    center.setSettings({ webhook: { secret: '' } })
    expect(center.settings().webhook.secretSet).toBe(false)
  })

  it('formats syslog structured data with RFC 5424 escaping', () => {
    const line = formatSyslogMessage({ severity: 4, msgId: 'ocsp stale', data: { error: 'a "quoted" ] \\ value' }, text: 'line one\nline two', at: new Date(NOW) }, 1, 'host one')
    expect(line).toBe(`<12>1 ${NOW} host_one gatehouse ${process.pid} ocsp_stale [gatehouse@32473 error="a \\"quoted\\" \\] \\\\ value"] line one line two`)
  })
})

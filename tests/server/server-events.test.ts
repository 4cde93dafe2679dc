import 'reflect-metadata'
import { createSocket } from 'node:dgram'
import { createServer as createHttpServer, type IncomingMessage } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ServerEvent } from '@shared/server-events'
import { ManualClock } from '../../src-main/platform'
import { webhookSignature } from '../../src-main/alerts'
import { startLabPair, TOKEN_PIN, type LabPair } from '../integration/lab-pair'
import { adminPortOf, adminRequest, apiKeyFor } from '../support/admin-https'

/**
 * Server events over real HTTPS (Server-Sent Events on the admin listener of a lab server) and alerts end to end: a
 * token logged out while its subsystem is registered raises `token-logged-out` after its delay, pushed to the event
 * stream, a loopback webhook receiver and a UDP syslog listener; acknowledged over the API; cleared by logging in.
 */
interface Stream {
  events: Array<ServerEvent & { receivedAt: number }>
  status: number
  close(): void
}

function openStream(port: number, headers: Record<string, string>): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const events: Stream['events'] = []
    const req = httpsRequest({ host: '127.0.0.1', port, path: '/api/events', rejectUnauthorized: false, headers: { host: `127.0.0.1:${port}`, accept: 'text/event-stream', ...headers } }, (res: IncomingMessage) => {
      let buffer = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        buffer += chunk
        let end = buffer.indexOf('\n\n')
        while (end >= 0) {
          const block = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          const name = /^event: (.+)$/m.exec(block)?.[1]
          const data = /^data: (.+)$/m.exec(block)?.[1]
          if (name !== undefined && data !== undefined) events.push({ name, payload: JSON.parse(data), receivedAt: performance.now() } as Stream['events'][number])
          end = buffer.indexOf('\n\n')
        }
      })
      resolve({ events, status: res.statusCode ?? 0, close: () => req.destroy() })
    })
    req.on('error', (error) => (error.message.includes('socket hang up') ? undefined : reject(error)))
    req.end()
  })
}

describe('server events and alerts over real HTTPS', () => {
  let pair: LabPair
  let port: number
  let observer: string
  let admin: string
  const clock = new ManualClock()
  const hooks: Array<{ headers: IncomingMessage['headers']; body: string }> = []
  const syslog: string[] = []
  const closers: Array<() => void> = []
  const latencies: Record<string, number> = {}

  beforeAll(async () => {
    pair = await startLabPair({ adminPort: 0, clock, reconcileIntervalMs: 200 })
    port = await adminPortOf(pair.consumer.server)
    observer = (await apiKeyFor(pair.consumer.server, ['observer'])).header
    admin = (await apiKeyFor(pair.consumer.server, ['system-administrator'])).header
    const hook = createHttpServer((req, res) => {
      let body = ''
      req.on('data', (c: Buffer) => (body += c.toString('utf8')))
      req.on('end', () => {
        hooks.push({ headers: req.headers, body })
        res.writeHead(200).end()
      })
    })
    await new Promise<void>((done) => hook.listen(0, '127.0.0.1', done))
    closers.push(() => hook.close())
    const udp = createSocket('udp4')
    udp.on('message', (m) => syslog.push(m.toString('utf8')))
    await new Promise<void>((done) => udp.bind(0, '127.0.0.1', done))
    closers.push(() => udp.close())
    const settings = await adminRequest(port, 'POST', '/api/alerts/setSettings', { authorization: admin }, [{
      webhook: { enabled: true, url: `http://127.0.0.1:${(hook.address() as { port: number }).port}/gatehouse`, secret: 'hook-secret' },
      syslog: { enabled: true, host: '127.0.0.1', port: udp.address().port, protocol: 'udp', facility: 16 },
    }])
    expect(settings.status).toBe(200)
  }, 120_000)

  afterAll(async () => {
    for (const close of closers) close()
    await pair?.close()
    console.log(`server event latency: ${Object.entries(latencies).map(([k, v]) => `${k} ${v.toFixed(1)} ms`).join(', ')}`)
  })

  it('refuses the stream without credentials and with a wrong key', async () => {
    expect((await adminRequest(port, 'GET', '/api/events')).status).toBe(401)
    expect((await adminRequest(port, 'GET', '/api/events', { authorization: 'X-Road-ApiKey token=nope' })).status).toBe(401)
  })

  it('pushes a change made through the API to every open stream', async () => {
    const stream = await openStream(port, { authorization: observer })
    closers.push(stream.close)
    expect(stream.status).toBe(200)
    const sent = performance.now()
    const reply = await adminRequest(port, 'POST', '/api/alerts/setSettings', { authorization: admin }, [{ diskDaysThreshold: 10 }])
    expect(reply.status).toBe(200)
    await expect.poll(() => stream.events.find((e) => e.name === 'configuration-changed')).toMatchObject({ payload: { event: 'alerts.setSettings' } })
    latencies['admin call → event'] = (stream.events.find((e) => e.name === 'configuration-changed')?.receivedAt ?? 0) - sent
    stream.close()
  })

  it('raises a logged-out token as an alert on the stream, the webhook and syslog; acknowledges and clears it', async () => {
    const stream = await openStream(port, { authorization: observer })
    closers.push(stream.close)
    const { signer } = pair.consumer.server.core
    const token = (await signer.listTokens())[0] as { id: string }
    await signer.logout(token.id)
    // The readiness changes at once; the alert waits 30 s (a token being logged in at start is not an alert).
    await expect.poll(() => stream.events.some((e) => e.name === 'status-changed' && !e.payload.ready), { timeout: 10_000 }).toBe(true)
    expect(stream.events.some((e) => e.name === 'alert')).toBe(false)
    clock.advance(31_000)
    const advanced = performance.now()
    await expect.poll(() => stream.events.find((e) => e.name === 'alert' && e.payload.change === 'raised' && e.payload.alert.code === 'token-logged-out'), { timeout: 10_000 })
      .toMatchObject({ payload: { alert: { id: `token-logged-out:${token.id}`, severity: 'critical', params: { tokenId: token.id } } } })
    const raised = stream.events.find((e) => e.name === 'alert' && e.payload.alert.code === 'token-logged-out') as ServerEvent & { receivedAt: number }
    latencies['clock step → alert (≤ one 200 ms reconcile)'] = raised.receivedAt - advanced

    await expect.poll(() => hooks.length, { timeout: 10_000 }).toBeGreaterThan(0)
    const hook = hooks.find((h) => h.body.includes('token-logged-out')) as { headers: IncomingMessage['headers']; body: string }
    expect(hook.headers['x-gatehouse-signature']).toBe(webhookSignature('hook-secret', hook.body))
    expect(JSON.parse(hook.body)).toMatchObject({ event: 'raised', server: 'LAB/GOV/1001/ss-consumer', alert: { code: 'token-logged-out' } })
    await expect.poll(() => syslog.find((m) => m.includes(' token-logged-out ')), { timeout: 10_000 }).toMatch(/^<130>1 \S+ \S+ gatehouse \d+ token-logged-out \[gatehouse@32473 id="token-logged-out:/)

    const listed = await adminRequest(port, 'POST', '/api/alerts/list', { authorization: observer }, [{}])
    expect(JSON.parse(listed.body).value).toContainEqual(expect.objectContaining({ code: 'token-logged-out', acknowledgedAt: null }))
    // The observer only reads; acknowledging is for the roles that act.
    const refused = await adminRequest(port, 'POST', '/api/alerts/acknowledge', { authorization: observer }, [{ id: `token-logged-out:${token.id}` }])
    expect(refused.status).toBe(403)
    const acknowledged = await adminRequest(port, 'POST', '/api/alerts/acknowledge', { authorization: admin }, [{ id: `token-logged-out:${token.id}` }])
    expect(JSON.parse(acknowledged.body).value).toMatchObject({ acknowledgedBy: expect.stringMatching(/^apikey:/) })
    await expect.poll(() => stream.events.some((e) => e.name === 'alert' && e.payload.change === 'acknowledged')).toBe(true)

    // From the login's end (the software token's PIN check itself takes a moment).
    await signer.login(token.id, TOKEN_PIN)
    const loggingIn = performance.now()
    await expect.poll(() => stream.events.find((e) => e.name === 'alert' && e.payload.change === 'cleared'), { timeout: 10_000 })
      .toMatchObject({ payload: { alert: { id: `token-logged-out:${token.id}`, clearedAt: expect.any(String) } } })
    const cleared = stream.events.find((e) => e.name === 'alert' && e.payload.change === 'cleared') as ServerEvent & { receivedAt: number }
    latencies['token logged in → alert cleared'] = cleared.receivedAt - loggingIn
    await expect.poll(() => hooks.some((h) => JSON.parse(h.body).event === 'cleared'), { timeout: 10_000 }).toBe(true)
    stream.close()
  }, 60_000)
})

import { mkdtempSync, rmSync } from 'node:fs'
import { request as httpsRequest } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { SessionInfo } from '@shared/admin-api/session'
import { sessionCookieName } from '../../src-main/admin/http/admin-http-server'
import { GATEHOUSE_VERSION, createSecurityServer, parseServerConfig, type SecurityServer } from '../../src-main/server'
import { silentLogger } from '../../src-main/platform'

/**
 * Several servers on one machine (issue 11): two admin interfaces on 127.0.0.1 with different ports, signed in from
 * one cookie jar that, like a browser's, keeps cookies per host and ignores the port. Each server's session cookie has
 * its own name, so signing in to the second does not replace the first one's session; each session keeps its own
 * CSRF token; the cookie name survives a restart of the server.
 */
const PASSWORD = 'two-servers-passphrase-42'

/** Cookies of 127.0.0.1 by name, whatever the port (RFC 6265 §8.5: cookies do not provide isolation by port). */
const jar = new Map<string, string>()

interface Reply {
  status: number
  json: { ok?: boolean; value?: unknown; error?: { code: string } } & Partial<SessionInfo>
}

function call(port: number, method: 'GET' | 'POST', path: string, body?: unknown, csrf?: string): Promise<Reply> {
  const text = body === undefined ? undefined : JSON.stringify(body)
  return new Promise((resolve, reject) => {
    const cookie = [...jar].map(([name, value]) => `${name}=${value}`).join('; ')
    const req = httpsRequest(
      {
        host: '127.0.0.1', port, method, path, rejectUnauthorized: false,
        headers: {
          host: `127.0.0.1:${port}`, ...(text ? { 'content-type': 'application/json' } : {}),
          ...(cookie ? { cookie } : {}), ...(csrf ? { 'x-csrf-token': csrf } : {}),
        },
      },
      (res) => {
        for (const header of res.headers['set-cookie'] ?? []) {
          const [pair] = header.split(';')
          const [name, ...value] = (pair ?? '').split('=')
          if (/Max-Age=0/.test(header)) jar.delete(name as string)
          else jar.set(name as string, value.join('='))
        }
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Reply['json'] }))
      },
    )
    req.on('error', reject)
    req.end(text)
  })
}

interface Running {
  dataDir: string
  server: SecurityServer
  port: number
}

async function start(dataDir: string): Promise<Running> {
  const config = parseServerConfig({ internal: { host: '127.0.0.1', adminPort: 0, clientProxyHttpPort: null, clientProxyHttpsPort: null }, external: { serverProxyPort: null, ocspResponderPort: null }, shutdownGraceMs: 100 }, 'test')
  const server = createSecurityServer({ dataDir, config, logger: silentLogger() })
  const listeners = await server.start()
  return { dataDir, server, port: Number(new URL((listeners.find((l) => l.name === 'admin') as { url: string }).url).port) }
}

let first: Running
let second: Running

beforeAll(async () => {
  first = await start(mkdtempSync(join(tmpdir(), 'gatehouse-two-a-')))
  second = await start(mkdtempSync(join(tmpdir(), 'gatehouse-two-b-')))
}, 60_000)

afterAll(async () => {
  for (const s of [first, second]) {
    await s?.server.stop()
    if (s) rmSync(s.dataDir, { recursive: true, force: true })
  }
})

describe('two servers on one machine, one cookie jar', () => {
  let csrfFirst = ''
  let csrfSecond = ''

  it('names each server on its session endpoint, before sign-in too', async () => {
    const a = await call(first.port, 'GET', '/api/session')
    const b = await call(second.port, 'GET', '/api/session')
    expect(a.json.server).toEqual({ serverId: null, address: `127.0.0.1:${first.port}`, version: GATEHOUSE_VERSION })
    expect(b.json.server).toEqual({ serverId: null, address: `127.0.0.1:${second.port}`, version: GATEHOUSE_VERSION })
  })

  it('keeps both sessions when signing in to the second server after the first', async () => {
    const a = await call(first.port, 'POST', '/api/session/setup', { username: 'alice', password: PASSWORD })
    expect(a.status).toBe(200)
    csrfFirst = (a.json.value as SessionInfo).csrfToken ?? ''
    const b = await call(second.port, 'POST', '/api/session/setup', { username: 'bob', password: PASSWORD })
    expect(b.status).toBe(200)
    csrfSecond = (b.json.value as SessionInfo).csrfToken ?? ''
    // Two cookies in the jar, one per server, named after each server's data directory.
    expect([...jar.keys()].sort()).toEqual([sessionCookieName(first.dataDir), sessionCookieName(second.dataDir)].sort())
    expect(sessionCookieName(first.dataDir)).not.toBe(sessionCookieName(second.dataDir))
    expect(csrfFirst).not.toBe(csrfSecond)

    const sessionA = await call(first.port, 'GET', '/api/session')
    const sessionB = await call(second.port, 'GET', '/api/session')
    expect([sessionA.json.authenticated, sessionA.json.username]).toEqual([true, 'alice'])
    expect([sessionB.json.authenticated, sessionB.json.username]).toEqual([true, 'bob'])
    expect((await call(first.port, 'POST', '/api/system/status', [], csrfFirst)).status).toBe(200)
    expect((await call(second.port, 'POST', '/api/system/status', [], csrfSecond)).status).toBe(200)
  })

  it('scopes CSRF tokens to their own server session', async () => {
    const crossed = await call(first.port, 'POST', '/api/system/status', [], csrfSecond)
    expect([crossed.status, crossed.json.error?.code]).toEqual([403, 'csrf_failed'])
  })

  it('signing out of one server leaves the other signed in', async () => {
    expect((await call(second.port, 'POST', '/api/session/logout', [], csrfSecond)).status).toBe(200)
    expect(jar.has(sessionCookieName(second.dataDir))).toBe(false)
    expect((await call(second.port, 'GET', '/api/session')).json.authenticated).toBe(false)
    const stillA = await call(first.port, 'POST', '/api/system/status', [], csrfFirst)
    expect(stillA.status).toBe(200)
    const b = await call(second.port, 'POST', '/api/session/login', { username: 'bob', password: PASSWORD })
    csrfSecond = (b.json.value as SessionInfo).csrfToken ?? ''
    expect((await call(second.port, 'POST', '/api/system/status', [], csrfSecond)).status).toBe(200)
  })

  it('keeps the cookie name and the session across a restart (on whatever port it gets)', async () => {
    const before = sessionCookieName(first.dataDir)
    await first.server.stop()
    first = await start(first.dataDir)
    expect(sessionCookieName(first.dataDir)).toBe(before)
    const again = await call(first.port, 'GET', '/api/session')
    expect([again.json.authenticated, again.json.username, again.json.csrfToken]).toEqual([true, 'alice', csrfFirst])
    expect((await call(first.port, 'POST', '/api/system/status', [], csrfFirst)).status).toBe(200)
    expect((await call(second.port, 'POST', '/api/system/status', [], csrfSecond)).status).toBe(200)
  })
})

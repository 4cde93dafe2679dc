import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { request as httpsRequest } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { adminMethodList, ADMIN_API_METHODS, type AdminDomain } from '@shared/admin-api/admin-api-methods'
import { ADMIN_ROLES, type AdminRole } from '@shared/admin-api/admin-roles'
import { createSecurityServer, parseServerConfig, type SecurityServer } from '../../src-main/server'
import { createLogger } from '../../src-main/platform'

/** The headless admin API's protections over real HTTPS on 127.0.0.1 (issue 7 "Security checks"). */
const PASSWORD = 'a-very-secret-passphrase-42'

interface Reply {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
  json: { ok: boolean; value?: unknown; error?: { code: string; message: string } } & Record<string, unknown>
}

let dataDir: string
let server: SecurityServer
let port: number
const logLines: string[] = []

function call(method: string, path: string, options: { headers?: Record<string, string>; body?: unknown; host?: string } = {}): Promise<Reply> {
  const body = options.body === undefined ? undefined : JSON.stringify(options.body)
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        rejectUnauthorized: false,
        headers: { host: options.host ?? `127.0.0.1:${port}`, ...(body ? { 'content-type': 'application/json' } : {}), ...options.headers },
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8')
          let json: Reply['json'] = { ok: false }
          try {
            json = JSON.parse(text)
          } catch {
            // static files are not JSON
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, json })
        })
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}

async function login(username: string, password: string): Promise<{ cookie: string; csrf: string; reply: Reply }> {
  const reply = await call('POST', '/api/session/login', { body: { username, password } })
  const setCookie = (reply.headers['set-cookie'] as string[] | undefined)?.[0] ?? ''
  return { cookie: setCookie.split(';')[0] ?? '', csrf: (reply.json.value as { csrfToken?: string } | undefined)?.csrfToken ?? '', reply }
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-admin-http-'))
  const config = parseServerConfig({ internal: { adminPort: 0, clientProxyHttpPort: null, clientProxyHttpsPort: null }, external: { serverProxyPort: null, ocspResponderPort: null }, shutdownGraceMs: 100 }, 'test')
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logLines.push(chunk.toString('utf8'))
      done()
    },
  })
  const logger = createLogger({ level: 'debug', destination: sink })
  server = createSecurityServer({ dataDir, config, logger })
  const listeners = await server.start()
  port = Number(new URL((listeners.find((l) => l.name === 'admin') as { url: string }).url).port)
})

afterAll(async () => {
  await server.stop()
  rmSync(dataDir, { recursive: true, force: true })
})

describe('admin HTTPS API', () => {
  it('generates a self-signed TLS certificate into DATA_DIR/tls', () => {
    expect(readFileSync(join(dataDir, 'tls', 'admin.crt'), 'utf8')).toContain('BEGIN CERTIFICATE')
    expect(readFileSync(join(dataDir, 'tls', 'admin.key'), 'utf8')).toContain('BEGIN PRIVATE KEY')
  })

  it('reports first-run setup and creates the first administrator from loopback only once', async () => {
    const before = await call('GET', '/api/session')
    expect(before.json).toMatchObject({ authenticated: false, setupRequired: true })
    const short = await call('POST', '/api/session/setup', { body: { username: 'admin', password: 'short' } })
    expect(short.status).toBe(400)
    expect(short.json.error?.code).toBe('validation_failed')
    const setup = await call('POST', '/api/session/setup', { body: { username: 'admin', password: PASSWORD } })
    expect(setup.status).toBe(200)
    expect(setup.headers['set-cookie']?.[0]).toMatch(/^__Host-gatehouse-[0-9a-f]{16}=[^;]+; Path=\/; HttpOnly; Secure; SameSite=Strict$/)
    const again = await call('POST', '/api/session/setup', { body: { username: 'other', password: PASSWORD } })
    expect(again.status).toBe(409)
  })

  it('refuses every allow-listed route without authentication', async () => {
    const routes = adminMethodList()
    expect(routes.length).toBeGreaterThan(5)
    for (const [domain, method] of routes) {
      const reply = await call('POST', `/api/${domain}/${method}`, { body: [] })
      expect(reply.status, `${domain}.${method}`).toBe(401)
      expect(reply.json.error?.code).toBe('unauthorized')
    }
    expect((await call('POST', '/api/session/logout', { body: [] })).status).toBe(401)
    const badKey = await call('POST', '/api/system/status', { body: [], headers: { authorization: 'X-Road-ApiKey token=not-a-real-key' } })
    expect(badKey.status).toBe(401)
  })

  it('refuses a session call without the CSRF token, or with a wrong one', async () => {
    const { cookie, csrf } = await login('admin', PASSWORD)
    const without = await call('POST', '/api/system/status', { body: [], headers: { cookie } })
    expect(without.status).toBe(403)
    expect(without.json.error?.code).toBe('csrf_failed')
    const wrong = await call('POST', '/api/system/status', { body: [], headers: { cookie, 'x-csrf-token': `${csrf.slice(1)}x` } })
    expect(wrong.json.error?.code).toBe('csrf_failed')
    const crossOrigin = await call('POST', '/api/system/status', { body: [], headers: { cookie, 'x-csrf-token': csrf, origin: 'https://evil.example' } })
    expect(crossOrigin.json.error?.code).toBe('csrf_failed')
    const ok = await call('POST', '/api/system/status', { body: [], headers: { cookie, 'x-csrf-token': csrf } })
    expect(ok.status).toBe(200)
    expect(ok.json.value).toMatchObject({ state: 'running' })
  })

  it('refuses a Host header that is not this server (DNS rebinding)', async () => {
    const reply = await call('GET', '/api/session', { host: `evil.example:${port}` })
    expect(reply.status).toBe(403)
    expect(reply.json.error?.code).toBe('forbidden')
    expect((await call('GET', '/', { host: `127.0.0.1:${port + 1}` })).status).toBe(403)
    expect((await call('GET', '/api/session', { host: `localhost:${port}` })).status).toBe(200)
  })

  it('rate-limits a login brute force, even for the right password', async () => {
    const codes: string[] = []
    for (let i = 0; i < 6; i++) codes.push((await login('admin', `wrong-password-${i}xx`)).reply.json.error?.code ?? 'ok')
    expect(codes.slice(0, 5)).toEqual(Array(5).fill('unauthorized'))
    expect(codes[5]).toBe('rate_limited')
    const right = await login('admin', PASSWORD)
    expect(right.reply.status).toBe(429)
    expect(right.reply.headers['retry-after']).toMatch(/^\d+$/)
  })

  it('serves the OpenAPI description of every route', async () => {
    const reply = await call('GET', '/api/openapi.json')
    const paths = Object.keys((reply.json as unknown as { paths: Record<string, unknown> }).paths)
    for (const [domain, method] of adminMethodList()) expect(paths).toContain(`/api/${domain}/${method}`)
    expect(paths).toContain('/api/session/login')
  })
})

describe('role × action matrix (API keys with one role each)', () => {
  it('lets each role call exactly the methods the allow-list grants it', async () => {
    const keys = new Map<AdminRole, string>()
    for (const role of ADMIN_ROLES) {
      const created = await server.admin.apiKeys.create({ label: `key for ${role}`, roles: [role] })
      keys.set(role, created.key)
    }
    const spare = await server.admin.apiKeys.create({ label: 'roles edited by the matrix', roles: ['observer'] })
    // Arguments that pass validation, so a granted call is not refused for another reason.
    const args: Record<string, unknown[]> = {
      'apiKeys.setRoles': [{ id: spare.id, roles: ['observer'] }],
      'globalConf.selectTimestampingServices': [{ names: [] }],
      'users.add': [{ username: 'matrix-user', password: PASSWORD, roles: ['observer'] }],
      'users.setRoles': [{ username: 'matrix-user', roles: ['observer'] }],
      'users.setPassword': [{ username: 'matrix-user', password: PASSWORD }],
      'users.remove': [{ username: 'matrix-user' }],
      'apiKeys.create': [{ label: 'made by matrix', roles: ['observer'] }],
      'apiKeys.revoke': [{ id: 1 }],
      'audit.search': [{}],
      'settings.set': [{ name: 'message-log.keep-records-for', value: '31' }],
      'settings.reset': [{ name: 'message-log.keep-records-for' }],
      'diagnostics.run': [{ windowMinutes: 5 }],
      'messageLog.search': [{ direction: 'request', status: 'unstamped', limit: 10 }],
      'messageLog.forecast': [{ windowDays: 3 }],
      'operations.summary': [{ from: '2026-01-01T00:00:00.000Z', to: '2026-01-02T00:00:00.000Z' }],
      'operations.failures': [{ from: '2026-01-01T00:00:00.000Z', to: '2026-01-02T00:00:00.000Z' }],
    }
    // Reads that need an argument naming something that does not exist on this blank server (or a lab it does not host).
    const needsInput = new Set([
      'initialization.importAnchor', 'accessRights.list', 'localGroups.list', 'clients.isCertificates', 'messageLog.record', 'messageLog.verify',
      'lab.trustServices', 'lab.anchor', 'lab.inspectCsr', 'lab.certificate', 'lab.managementRequests', 'globalConf.anchor', 'globalConf.previewAnchor',
      'system.downloadBackup', 'system.uploadBackup', 'serviceDescriptions.list', 'serviceDescriptions.get',
    ])
    for (const role of ADMIN_ROLES) {
      for (const [domain, method] of adminMethodList()) {
        if (`${domain}.${method}` === 'apiKeys.revoke') continue // would revoke a key the matrix still uses
        const policy = (ADMIN_API_METHODS[domain as AdminDomain] as Record<string, { roles: readonly string[]; audit: boolean }>)[method]
        const granted = policy?.roles.includes(role)
        const key = `${domain}.${method}`
        const mustSucceed = args[key] !== undefined || (policy?.audit === false && !needsInput.has(key))
        const reply = await call('POST', `/api/${domain}/${method}`, {
          body: args[`${domain}.${method}`] ?? [],
          headers: { authorization: `X-Road-ApiKey token=${keys.get(role)}` },
        })
        if (granted && mustSucceed) expect(reply.json.ok, `${role} → ${key}: ${JSON.stringify(reply.json.error)}`).toBe(true)
        // A granted change without valid arguments is refused for its input, never for the role.
        else if (granted) expect([reply.status, reply.json.error?.code], `${role} → ${key}`).not.toEqual([403, 'forbidden'])
        else expect([reply.status, reply.json.error?.code], `${role} → ${domain}.${method}`).toEqual([403, 'forbidden'])
      }
    }
  })

  it('stops a revoked API key at once', async () => {
    const created = await server.admin.apiKeys.create({ label: 'to revoke', roles: ['observer'] })
    const headers = { authorization: `X-Road-ApiKey token=${created.key}` }
    expect((await call('POST', '/api/system/status', { body: [], headers })).status).toBe(200)
    await server.admin.apiKeys.revoke({ id: created.id })
    expect((await call('POST', '/api/system/status', { body: [], headers })).status).toBe(401)
  })
})

describe('audit trail and secrets', () => {
  it('records admin actions with who, what, outcome; denied calls too', async () => {
    const entries = await server.admin.audit.search({ limit: 1000 })
    const events = entries.map((e) => `${e.actor} ${e.event} ${e.outcome}`)
    expect(events).toContain('admin session.setup success')
    expect(events).toContain('admin session.login failure')
    expect(events.some((e) => /^apikey:\d+ users\.add success$/.test(e))).toBe(true)
    expect(events.some((e) => /^apikey:\d+ users\.add failure$/.test(e))).toBe(true)
    const filtered = await server.admin.audit.search({ event: 'session.login', outcome: 'failure' })
    expect(filtered.length).toBeGreaterThan(0)
    expect(filtered.every((e) => e.event === 'session.login' && e.outcome === 'failure')).toBe(true)
  })

  it('never writes a password or key to the log, the audit log or a response', async () => {
    const keys = (await server.admin.apiKeys.list()).length
    expect(keys).toBeGreaterThan(0)
    const audit = JSON.stringify(await server.admin.audit.search({ limit: 1000 }))
    const users = JSON.stringify(await server.admin.users.list())
    const logs = logLines.join('\n')
    for (const text of [audit, users, logs]) {
      expect(text).not.toContain(PASSWORD)
      expect(text).not.toContain('wrong-password-')
      expect(text).not.toContain('scrypt$')
    }
  })
})

import { mkdtempSync, rmSync } from 'node:fs'
import { request as httpsRequest } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ADMIN_ROLES } from '@shared/admin-api/admin-roles'
import { createSecurityServer, parseServerConfig, type SecurityServer } from '../../src-main/server'
import { silentLogger } from '../../src-main/platform'

/**
 * Accounts over the real HTTPS admin API: an administrator resets another user's password and edits roles, a user
 * changes their own password (other sessions end, this one stays), the refusals that keep the server manageable
 * (last system administrator, one's own account), and API key role editing.
 */
const ADMIN_PASSWORD = 'administrator-passphrase-1'
const BOB_FIRST = 'bob-first-passphrase'
const BOB_RESET = 'bob-reset-by-the-admin'
const BOB_OWN = 'bob-chose-this-himself'

interface Reply {
  status: number
  headers: Record<string, string | string[] | undefined>
  json: { ok: boolean; value?: unknown; error?: { code: string; message: string; detail?: string } }
}

interface Session {
  cookie: string
  csrf: string
}

let dataDir: string
let server: SecurityServer
let port: number

function send(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  const text = JSON.stringify(body)
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      { host: '127.0.0.1', port, method: 'POST', path, rejectUnauthorized: false, headers: { host: `127.0.0.1:${port}`, 'content-type': 'application/json', ...headers } },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) }))
      },
    )
    req.on('error', reject)
    req.end(text)
  })
}

async function signIn(username: string, password: string, path = '/api/session/login'): Promise<Session> {
  const reply = await send(path, { username, password })
  expect(reply.json.ok, `${username} signs in: ${JSON.stringify(reply.json.error)}`).toBe(true)
  const cookie = ((reply.headers['set-cookie'] as string[] | undefined)?.[0] ?? '').split(';')[0] ?? ''
  return { cookie, csrf: (reply.json.value as { csrfToken: string }).csrfToken }
}

const as = (session: Session) => (domain: string, method: string, ...args: unknown[]): Promise<Reply> =>
  send(`/api/${domain}/${method}`, args, { cookie: session.cookie, 'x-csrf-token': session.csrf })

const withKey = (key: string) => (domain: string, method: string, ...args: unknown[]): Promise<Reply> =>
  send(`/api/${domain}/${method}`, args, { authorization: `X-Road-ApiKey token=${key}` })

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-users-admin-'))
  const config = parseServerConfig({ internal: { adminPort: 0, clientProxyHttpPort: null, clientProxyHttpsPort: null }, external: { serverProxyPort: null, ocspResponderPort: null }, shutdownGraceMs: 100 }, 'test')
  server = createSecurityServer({ dataDir, config, logger: silentLogger() })
  const listeners = await server.start()
  port = Number(new URL((listeners.find((l) => l.name === 'admin') as { url: string }).url).port)
})

afterAll(async () => {
  await server.stop()
  rmSync(dataDir, { recursive: true, force: true })
})

describe('passwords', () => {
  let admin: Session

  it('an administrator adds a user and resets their password: the old password and the old sessions stop working', async () => {
    admin = await signIn('admin', ADMIN_PASSWORD, '/api/session/setup')
    expect((await as(admin)('users', 'add', { username: 'bob', password: BOB_FIRST, roles: ['observer'] })).json.ok).toBe(true)
    const bobBefore = await signIn('bob', BOB_FIRST)
    expect((await as(bobBefore)('system', 'status')).status).toBe(200)
    const short = await as(admin)('users', 'setPassword', { username: 'bob', password: 'short' })
    expect(short.json.error).toMatchObject({ code: 'validation_failed', detail: 'password' })
    expect((await as(admin)('users', 'setPassword', { username: 'bob', password: BOB_RESET })).json.ok).toBe(true)
    expect((await as(bobBefore)('system', 'status')).status).toBe(401)
    expect((await send('/api/session/login', { username: 'bob', password: BOB_FIRST })).json.error?.code).toBe('unauthorized')
    expect((await as(admin)('users', 'setPassword', { username: 'nobody', password: BOB_RESET })).json.error).toMatchObject({ code: 'not_found', detail: 'username' })
  })

  it('a user with any role changes their own password: the current one is checked, other sessions end, this one stays', async () => {
    const bob = await signIn('bob', BOB_RESET)
    const bobElsewhere = await signIn('bob', BOB_RESET)
    const wrong = await as(bob)('users', 'changeOwnPassword', { currentPassword: 'not-my-password', newPassword: BOB_OWN })
    expect(wrong.json.error).toMatchObject({ code: 'validation_failed', detail: 'currentPassword' })
    expect((await as(bob)('users', 'changeOwnPassword', { currentPassword: BOB_RESET, newPassword: 'short' })).json.error)
      .toMatchObject({ code: 'validation_failed', detail: 'newPassword' })
    expect((await as(bob)('users', 'changeOwnPassword', { currentPassword: BOB_RESET, newPassword: BOB_RESET })).json.error)
      .toMatchObject({ code: 'validation_failed', detail: 'newPassword' })
    const changed = await as(bob)('users', 'changeOwnPassword', { currentPassword: BOB_RESET, newPassword: BOB_OWN })
    expect(changed.json, JSON.stringify(changed.json.error)).toMatchObject({ ok: true })
    expect((await as(bob)('system', 'status')).status).toBe(200)
    expect((await as(bobElsewhere)('system', 'status')).status).toBe(401)
    expect((await send('/api/session/login', { username: 'bob', password: BOB_RESET })).json.error?.code).toBe('unauthorized')
    await signIn('bob', BOB_OWN)
    // An observer may change their own password and nothing else about accounts.
    expect((await as(bob)('users', 'setPassword', { username: 'bob', password: BOB_RESET })).status).toBe(403)
  })

  it('counts wrong current passwords like failed sign-ins', async () => {
    const bob = await signIn('bob', BOB_OWN)
    for (let i = 0; i < 5; i++) {
      const reply = await as(bob)('users', 'changeOwnPassword', { currentPassword: `guess-number-${i}`, newPassword: 'a-password-from-a-thief' })
      expect(reply.json.error?.detail).toBe('currentPassword')
    }
    const blocked = await as(bob)('users', 'changeOwnPassword', { currentPassword: BOB_OWN, newPassword: 'a-password-from-a-thief' })
    expect(blocked.json.error?.code).toBe('rate_limited')
    expect((await send('/api/session/login', { username: 'bob', password: BOB_OWN })).json.error?.code).toBe('rate_limited')
  })

  it('is not available to an API key or the desktop user, who have no password here', async () => {
    const created = await server.admin.apiKeys.create({ label: 'automation', roles: ['observer'] })
    const reply = await withKey(created.key)('users', 'changeOwnPassword', { currentPassword: 'x', newPassword: 'whatever-long-enough' })
    expect(reply.json.error).toMatchObject({ code: 'unsupported', detail: 'account' })
    const desktop = await server.admin.call({ actor: 'desktop:operator', roles: ADMIN_ROLES }, 'users', 'changeOwnPassword', [{ currentPassword: 'x', newPassword: 'whatever-long-enough' }])
    expect(desktop).toMatchObject({ ok: false, error: { code: 'unsupported', detail: 'account' } })
    const audit = await server.admin.audit.search({ event: 'users.changeOwnPassword' })
    expect(audit.map((e) => `${e.actor} ${e.outcome}`)).toEqual(expect.arrayContaining(['bob success', 'bob failure', `apikey:${created.id} failure`, 'desktop:operator failure']))
    expect(JSON.stringify(await server.admin.audit.search({ limit: 1000 }))).not.toMatch(/bob-chose|guess-number|bob-reset/)
  })
})

describe('roles and removal', () => {
  let admin: Session

  it('refuses to take the role from, or remove, the last system administrator, with the reason', async () => {
    admin = await signIn('admin', ADMIN_PASSWORD)
    const demote = await as(admin)('users', 'setRoles', { username: 'admin', roles: ['observer'] })
    expect(demote.json.error).toMatchObject({ code: 'conflict', detail: 'lastSystemAdministrator' })
    const sysKey = await server.admin.apiKeys.create({ label: 'ops', roles: ['system-administrator'] })
    const remove = await withKey(sysKey.key)('users', 'remove', { username: 'admin' })
    expect(remove.json.error).toMatchObject({ code: 'conflict', detail: 'lastSystemAdministrator' })
    expect((await server.admin.users.list()).find((u) => u.username === 'admin')?.roles).toContain('system-administrator')
  })

  it('refuses removing one\'s own account; another administrator removes it', async () => {
    const own = await as(admin)('users', 'remove', { username: 'admin' })
    expect(own.json.error).toMatchObject({ code: 'conflict', detail: 'ownAccount' })
    const roles = await as(admin)('users', 'setRoles', { username: 'bob', roles: ['observer', 'system-administrator', 'observer'] })
    expect(roles.json.value).toMatchObject({ username: 'bob', roles: ['observer', 'system-administrator'] })
    await server.admin.call({ actor: 'system', roles: ADMIN_ROLES }, 'users', 'add', [{ username: 'carol', password: 'carol-passphrase-123', roles: ['system-administrator'] }])
    const carol = await signIn('carol', 'carol-passphrase-123')
    expect((await as(carol)('users', 'remove', { username: 'admin' })).json.ok).toBe(true)
    expect((await as(admin)('system', 'status')).status).toBe(401)
    // Now that carol and bob both administer, carol may step down.
    expect((await as(carol)('users', 'setRoles', { username: 'carol', roles: ['observer'] })).json.value).toMatchObject({ roles: ['observer'] })
    expect((await as(carol)('users', 'list')).status).toBe(403)
  })
})

describe('API key roles', () => {
  it('replaces the roles of a key, which takes effect on its next call; refuses a revoked or unknown key', async () => {
    const ops = await server.admin.apiKeys.create({ label: 'roles-admin', roles: ['system-administrator'] })
    const script = await server.admin.apiKeys.create({ label: 'script', roles: ['observer'] })
    expect((await withKey(script.key)('users', 'list')).status).toBe(403)
    const updated = await withKey(ops.key)('apiKeys', 'setRoles', { id: script.id, roles: ['security-officer'] })
    expect(updated.json.value).toMatchObject({ id: script.id, label: 'script', roles: ['security-officer'], revokedAt: null })
    expect((await withKey(script.key)('users', 'list')).status).toBe(200)
    expect((await withKey(ops.key)('apiKeys', 'setRoles', { id: script.id, roles: [] })).json.error).toMatchObject({ code: 'validation_failed', detail: 'roles' })
    expect((await withKey(ops.key)('apiKeys', 'setRoles', { id: 9999, roles: ['observer'] })).json.error).toMatchObject({ code: 'not_found', detail: 'id' })
    await withKey(ops.key)('apiKeys', 'revoke', { id: script.id })
    expect((await withKey(ops.key)('apiKeys', 'setRoles', { id: script.id, roles: ['observer'] })).json.error).toMatchObject({ code: 'conflict', detail: 'revoked' })
    expect((await withKey(script.key)('system', 'status')).status).toBe(401)
    const events = (await server.admin.audit.search({ event: 'apiKeys.setRoles' })).map((e) => `${e.actor} ${e.outcome}`)
    expect(events).toContain(`apikey:${ops.id} success`)
    expect(events).toContain(`apikey:${ops.id} failure`)
  })
})

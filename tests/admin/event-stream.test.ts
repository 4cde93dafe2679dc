import { EventEmitter } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import type { IncomingMessage } from 'node:http'
import { request as httpsRequest, type Server } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CSRF_HEADER } from '@shared/admin-api/session'
import type { ServerEvent } from '@shared/server-events'
import { createAdminHttpServer, createAdminRuntime, loadOrCreateAdminTls, type AdminRuntime } from '../../src-main/admin'
import { closeDatabase, migrate, openDatabase, silentLogger, systemClock, type WritableDb } from '../../src-main/platform'
import { adminMigrations } from '../../src-main/admin'
import { auditLogMigrations } from '../../src-main/audit-log'
import { adminRequest } from '../support/admin-https'

/**
 * The SSE endpoint's life cycle over real HTTPS: a browser session's stream ends when the session does (checked at
 * each keep-alive), an API key's when the key is revoked, and closing the listener ends open streams at once instead
 * of waiting out its grace period.
 */
const PASSWORD = 'stream-watcher-password-1'

describe('event stream life cycle', () => {
  let dir: string
  let db: WritableDb
  let runtime: AdminRuntime
  let server: Server
  let port: number
  const emitter = new EventEmitter()
  const source = {
    subscribe(listener: (event: ServerEvent) => void) {
      emitter.on('event', listener)
      return () => emitter.off('event', listener)
    },
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-sse-'))
    db = openDatabase(join(dir, 'serverconf.sqlite'))
    migrate(db, [auditLogMigrations, adminMigrations])
    runtime = createAdminRuntime({
      serverConfDb: () => db, clock: systemClock, logger: silentLogger(),
      system: {
        version: 'test', dataDir: dir, backupsDir: join(dir, 'backups'), clock: systemClock, databases: [],
        status: () => ({ state: 'running' as const, startedAt: null, initialized: false, listeners: [] }),
      },
    })
    await runtime.accounts.createUser({ username: 'watcher', password: PASSWORD, roles: ['observer'] })
    const tls = await loadOrCreateAdminTls(join(dir, 'tls'), systemClock)
    server = createAdminHttpServer({ runtime, tls, rendererDir: undefined, logger: silentLogger(), version: 'test', events: source, eventHeartbeatSeconds: 0.1 })
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
    port = (server.address() as { port: number }).port
  })

  afterAll(async () => {
    await new Promise<void>((done) => server.close(() => done()))
    closeDatabase(db)
    rmSync(dir, { recursive: true, force: true })
  })

  /** Opens a stream; resolves with what arrived once the server ends it. */
  function stream(headers: Record<string, string>): { opened: Promise<number>; ended: Promise<string> } {
    let open: (status: number) => void = () => undefined
    const opened = new Promise<number>((resolve) => (open = resolve))
    const ended = new Promise<string>((resolve, reject) => {
      const req = httpsRequest({ host: '127.0.0.1', port, path: '/api/events', rejectUnauthorized: false, headers: { host: `127.0.0.1:${port}`, ...headers } }, (res: IncomingMessage) => {
        open(res.statusCode ?? 0)
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (c: string) => (text += c))
        res.on('end', () => resolve(text))
      })
      req.on('error', reject)
      req.end()
    })
    return { opened, ended }
  }

  it('ends a session\'s stream once the session ends, after delivering what happened before', async () => {
    const login = await adminRequest(port, 'POST', '/api/session/login', {}, { username: 'watcher', password: PASSWORD })
    const cookie = String((login.headers['set-cookie'] as string[])[0]).split(';')[0] as string
    const { opened, ended } = stream({ cookie })
    expect(await opened).toBe(200)
    emitter.emit('event', { name: 'status-changed', payload: { ready: false, at: '2026-01-01T00:00:00.000Z' } })
    // A few keep-alives go by while the session lasts.
    await new Promise((r) => setTimeout(r, 350))
    const csrf = JSON.parse(login.body).value.csrfToken as string
    expect((await adminRequest(port, 'POST', '/api/session/logout', { cookie, [CSRF_HEADER]: csrf }, [])).status).toBe(200)
    const text = await ended
    expect(text).toContain('retry: 3000')
    expect(text).toContain('event: status-changed\ndata: {"ready":false,"at":"2026-01-01T00:00:00.000Z"}\n\n')
    expect(text).toContain(': ping')
  })

  it('ends an API key\'s stream once the key is revoked', async () => {
    const key = await runtime.service.apiKeys.create({ label: 'scraper', roles: ['observer'] })
    const { opened, ended } = stream({ authorization: `X-Road-ApiKey token=${key.key}` })
    expect(await opened).toBe(200)
    await runtime.service.apiKeys.revoke({ id: key.id })
    expect(await ended).toContain('retry: 3000')
  })

  it('ends open streams when the listener closes, without waiting for them', async () => {
    const key = await runtime.service.apiKeys.create({ label: 'closing', roles: ['observer'] })
    const { opened, ended } = stream({ authorization: `X-Road-ApiKey token=${key.key}` })
    expect(await opened).toBe(200)
    const closing = performance.now()
    await new Promise<void>((done) => server.close(() => done()))
    await ended
    expect(performance.now() - closing).toBeLessThan(2000)
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
    port = (server.address() as { port: number }).port
  })
})

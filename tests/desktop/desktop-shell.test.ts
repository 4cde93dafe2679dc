import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { adminChannel, adminMethodList } from '@shared/admin-api/admin-api-methods'
import { DESKTOP_NOTIFY_CHANNEL, SERVER_EVENT_CHANNEL } from '@shared/server-events'

/** The Electron shell with `electron` mocked (the binary cannot run here): window hardening, IPC, protocol. */
const electron = vi.hoisted(() => {
  const handlers = new Map<string, (event: unknown, ...args: unknown[]) => Promise<unknown>>()
  const contentsListeners = new Map<string, (...args: unknown[]) => void>()
  let windowOpenHandler: ((details: { url: string }) => { action: string }) | undefined
  const webContents = {
    on: (name: string, fn: (...args: unknown[]) => void) => contentsListeners.set(name, fn),
    setWindowOpenHandler: (fn: typeof windowOpenHandler) => (windowOpenHandler = fn),
  }
  const appListeners = new Map<string, (...args: unknown[]) => void>()
  const created: Array<{ options: Record<string, unknown>; url?: string }> = []
  let protocolHandler: ((request: { url: string }) => Promise<Response>) | undefined
  let permissionHandler: ((c: unknown, p: string, cb: (ok: boolean) => void) => void) | undefined
  let headersHandler: ((details: { responseHeaders: Record<string, string[]> }, cb: (r: unknown) => void) => void) | undefined
  const openExternal = vi.fn(async () => undefined)
  const sent: Array<{ channel: string; message: unknown }> = []
  const focused = vi.fn()
  class BrowserWindow {
    readonly webContents = { send: (channel: string, message: unknown) => sent.push({ channel, message }) }
    constructor(readonly options: Record<string, unknown>) {
      created.push({ options })
    }
    once() {}
    isDestroyed() { return false }
    isMinimized() { return false }
    restore() {}
    show() {}
    focus() { focused() }
    async loadURL(url: string) {
      ;(created.at(-1) as { url?: string }).url = url
    }
  }
  const notifications: Array<{ title: string; body: string; shown: boolean; click?: () => void }> = []
  class Notification {
    static isSupported() { return true }
    private readonly entry: { title: string; body: string; shown: boolean; click?: () => void }
    constructor(options: { title: string; body: string }) {
      this.entry = { ...options, shown: false }
      notifications.push(this.entry)
    }
    on(name: string, fn: () => void) { if (name === 'click') this.entry.click = fn }
    show() { this.entry.shown = true }
  }
  return {
    handlers, contentsListeners, webContents, appListeners, created, openExternal, sent, notifications, focused,
    get windowOpenHandler() { return windowOpenHandler },
    get protocolHandler() { return protocolHandler },
    get permissionHandler() { return permissionHandler },
    get headersHandler() { return headersHandler },
    module: {
      app: {
        on: (name: string, fn: (...args: unknown[]) => void) => appListeners.set(name, fn),
        whenReady: async () => undefined,
        getPath: () => '/nonexistent',
        quit: vi.fn(),
      },
      BrowserWindow,
      ipcMain: { handle: (channel: string, fn: (event: unknown, ...args: unknown[]) => Promise<unknown>) => handlers.set(channel, fn) },
      protocol: {
        registerSchemesAsPrivileged: vi.fn(),
        handle: (_scheme: string, fn: typeof protocolHandler) => (protocolHandler = fn),
      },
      session: {
        defaultSession: {
          setPermissionRequestHandler: (fn: typeof permissionHandler) => (permissionHandler = fn),
          setPermissionCheckHandler: vi.fn(),
          webRequest: { onHeadersReceived: (fn: typeof headersHandler) => (headersHandler = fn) },
        },
      },
      shell: { openExternal },
      Notification,
      dialog: { showErrorBox: vi.fn() },
    },
  }
})
vi.mock('electron', () => electron.module)

const { startDesktop } = await import('../../src-main/desktop/desktop-app')
const { isAllowedExternalUrl, isAppUrl, DESKTOP_CSP } = await import('../../src-main/desktop/window-security')

let dataDir: string
let bundleDir: string
let started: Awaited<ReturnType<typeof startDesktop>>

const ownFrame = { senderFrame: { url: 'app://gatehouse/index.html', parent: null } }

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-desktop-'))
  bundleDir = join(mkdtempSync(join(tmpdir(), 'gatehouse-bundle-')), 'main')
  const renderer = join(bundleDir, '../renderer')
  await import('node:fs').then((fs) => fs.mkdirSync(renderer, { recursive: true }))
  writeFileSync(join(renderer, 'index.html'), '<!doctype html><title>t</title>')
  writeFileSync(join(dataDir, 'gatehouse.json'), JSON.stringify({ internal: { adminPort: null, clientProxyHttpPort: null, clientProxyHttpsPort: null }, external: { serverProxyPort: null, ocspResponderPort: null }, logging: { level: 'silent' } }))
  process.env.GATEHOUSE_DATA_DIR = dataDir
  started = await startDesktop(electron.module as never, { bundleDir })
})

afterAll(async () => {
  await started.supervisor.stop()
  delete process.env.GATEHOUSE_DATA_DIR
  rmSync(dataDir, { recursive: true, force: true })
})

describe('desktop window', () => {
  it('is created isolated, sandboxed, without Node, with web security, and loads app://', () => {
    const { options, url } = electron.created[0] as { options: { webPreferences: Record<string, unknown> }; url: string }
    expect(options.webPreferences).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true, allowRunningInsecureContent: false, webviewTag: false })
    expect(String(options.webPreferences.preload)).toMatch(/preload[/\\]preload\.js$/)
    expect(url).toBe('app://gatehouse/index.html')
  })

  it('blocks navigation and new windows; opens only allow-listed https links outside', () => {
    electron.appListeners.get('web-contents-created')?.({}, electron.webContents)
    const prevented = vi.fn()
    electron.contentsListeners.get('will-navigate')?.({ preventDefault: prevented }, 'https://evil.example/')
    electron.contentsListeners.get('will-navigate')?.({ preventDefault: prevented }, 'app://gatehouse.evil/')
    expect(prevented).toHaveBeenCalledTimes(2)
    electron.contentsListeners.get('will-navigate')?.({ preventDefault: prevented }, 'app://gatehouse/#/audit')
    expect(prevented).toHaveBeenCalledTimes(2)
    expect(electron.windowOpenHandler?.({ url: 'https://docs.x-road.global/' })).toEqual({ action: 'deny' })
    expect(electron.windowOpenHandler?.({ url: 'file:///etc/passwd' })).toEqual({ action: 'deny' })
    expect(electron.openExternal).toHaveBeenCalledTimes(1)
    expect(electron.openExternal).toHaveBeenCalledWith('https://docs.x-road.global/')
    for (const url of ['http://docs.x-road.global/', 'https://docs.x-road.global.evil.com/', 'smb://x/y', 'https://user@github.com/', 'javascript:alert(1)']) {
      expect(isAllowedExternalUrl(url), url).toBe(false)
    }
    expect(isAppUrl('app://gatehouse/x')).toBe(true)
  })

  it('denies every permission request and adds the CSP header', () => {
    const decide = vi.fn()
    electron.permissionHandler?.({}, 'media', decide)
    expect(decide).toHaveBeenCalledWith(false)
    const reply = vi.fn()
    electron.headersHandler?.({ responseHeaders: {} }, reply)
    expect(reply.mock.calls[0]?.[0]).toMatchObject({ responseHeaders: { 'Content-Security-Policy': [DESKTOP_CSP] } })
    expect(DESKTOP_CSP).toContain("script-src 'self'")
  })

  it('serves the renderer on app:// and refuses paths outside it', async () => {
    const ok = await electron.protocolHandler?.({ url: 'app://gatehouse/index.html' })
    expect(ok?.status).toBe(200)
    expect(ok?.headers.get('content-security-policy')).toBe(DESKTOP_CSP)
    for (const url of ['app://gatehouse/..%2f..%2fetc%2fpasswd', 'app://gatehouse/%2e%2e/main/x', 'app://other/index.html']) {
      expect((await electron.protocolHandler?.({ url }))?.status, url).toBe(404)
    }
  })
})

describe('desktop IPC', () => {
  it('registers one handler per allow-listed method and nothing else', () => {
    const expected = [...adminMethodList().map(([d, m]) => adminChannel(d, m)), 'session:info', DESKTOP_NOTIFY_CHANNEL].sort()
    expect([...electron.handlers.keys()].sort()).toEqual(expected)
  })

  it('answers our own page with an IpcResult and records changes in the audit log', async () => {
    const status = (await electron.handlers.get('system:status')?.(ownFrame)) as { ok: boolean; value: { state: string } }
    expect(status).toMatchObject({ ok: true, value: { state: 'running' } })
    const bad = (await electron.handlers.get('users:add')?.(ownFrame, { username: 'x', password: 'short', roles: ['observer'] })) as { ok: boolean; error: { code: string } }
    expect(bad).toMatchObject({ ok: false, error: { code: 'validation_failed' } })
    const audit = await started.supervisor.current().admin.audit.search({ event: 'users.add' })
    expect(audit[0]).toMatchObject({ outcome: 'failure', errorCode: 'validation_failed' })
    expect(audit[0]?.actor).toMatch(/^desktop:/)
  })

  it('refuses calls from any other frame', async () => {
    for (const event of [{ senderFrame: { url: 'https://evil.example/', parent: null } }, { senderFrame: { url: 'app://gatehouse/index.html', parent: {} } }, { senderFrame: null }]) {
      const result = (await electron.handlers.get('system:backup')?.(event)) as { ok: boolean; error: { code: string } }
      expect(result).toMatchObject({ ok: false, error: { code: 'forbidden' } })
    }
  })
})

describe('desktop server events and notifications', () => {
  it('sends the server\'s events to the window over IPC as they happen', async () => {
    const before = electron.sent.length
    const reply = (await electron.handlers.get('users:add')?.(ownFrame, { username: 'events-watcher', password: 'a-long-enough-password-1', roles: ['observer'] })) as { ok: boolean }
    expect(reply.ok).toBe(true)
    const events = electron.sent.slice(before).filter((s) => s.channel === SERVER_EVENT_CHANNEL).map((s) => s.message as { name: string; payload: { event?: string } })
    expect(events).toContainEqual(expect.objectContaining({ name: 'configuration-changed', payload: expect.objectContaining({ event: 'users.add' }) }))
  })

  it('follows the new server after a restart from the GUI', async () => {
    const first = started.supervisor.current()
    const restarted = (await electron.handlers.get('system:restart')?.(ownFrame)) as { ok: boolean }
    expect(restarted.ok).toBe(true)
    // The restart starts once the answer has gone (100 ms later).
    await expect.poll(() => started.supervisor.current() !== first, { timeout: 10_000 }).toBe(true)
    await started.supervisor.idle()
    const before = electron.sent.length
    await electron.handlers.get('users:add')?.(ownFrame, { username: 'after-restart', password: 'a-long-enough-password-2', roles: ['observer'] })
    const names = electron.sent.slice(before).map((s) => (s.message as { name: string; payload: { event?: string } }))
    expect(names).toContainEqual(expect.objectContaining({ name: 'configuration-changed', payload: expect.objectContaining({ event: 'users.add' }) }))
  })

  it('shows a system notification the page asks for, and a click brings the window forward', async () => {
    const reply = (await electron.handlers.get(DESKTOP_NOTIFY_CHANNEL)?.(ownFrame, { title: 'Certificado expira em 7 dias', body: 'Renove o certificado.' })) as { ok: boolean }
    expect(reply).toEqual({ ok: true, value: null })
    const shown = electron.notifications.at(-1)
    expect(shown).toMatchObject({ title: 'Certificado expira em 7 dias', body: 'Renove o certificado.', shown: true })
    shown?.click?.()
    expect(electron.focused).toHaveBeenCalled()
  })

  it('refuses notifications from another frame or without a proper text', async () => {
    const count = electron.notifications.length
    const foreign = (await electron.handlers.get(DESKTOP_NOTIFY_CHANNEL)?.({ senderFrame: { url: 'https://evil.example/', parent: null } }, { title: 'x', body: 'y' })) as { ok: boolean; error: { code: string } }
    expect(foreign).toMatchObject({ ok: false, error: { code: 'forbidden' } })
    for (const input of [{ title: '', body: 'y' }, { title: 'x'.repeat(201), body: '' }, { title: 'x', body: 42 }, null]) {
      const bad = (await electron.handlers.get(DESKTOP_NOTIFY_CHANNEL)?.(ownFrame, input)) as { ok: boolean; error: { code: string } }
      expect(bad).toMatchObject({ ok: false, error: { code: 'validation_failed' } })
    }
    expect(electron.notifications.length).toBe(count)
  })
})

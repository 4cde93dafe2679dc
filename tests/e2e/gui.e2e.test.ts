import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type BrowserContext, type Locator, type Page } from 'playwright-core'
import { createSecurityServer, parseServerConfig, type SecurityServer } from '../../src-main/server'
import { silentLogger } from '../../src-main/platform'
import { RENDERER_DIR, SCREENS_DIR, createFirstAdministrator, e2eSkipReason, openBrowser } from './support/browser'

/**
 * The GUI in a real Chromium against the headless server over HTTPS: first-run setup, sign-in, dashboard,
 * audit log. Needs `npx electron-vite build` (out/renderer) and /usr/bin/chromium.
 */
const missing = e2eSkipReason('GUI')

describe.skipIf(missing !== undefined)('admin GUI in Chromium', () => {
  let dataDir: string
  let profileDir: string
  let server: SecurityServer
  let browser: BrowserContext
  let page: Page
  let baseUrl: string
  const consoleErrors: string[] = []

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-e2e-'))
    profileDir = mkdtempSync(join(tmpdir(), 'gatehouse-chromium-'))
    const config = parseServerConfig({ internal: { adminPort: 0, clientProxyHttpPort: null, clientProxyHttpsPort: null }, external: { serverProxyPort: null, ocspResponderPort: null }, shutdownGraceMs: 200 }, 'test')
    server = createSecurityServer({ dataDir, config, logger: silentLogger(), rendererDir: RENDERER_DIR })
    const listeners = await server.start()
    baseUrl = (listeners.find((l) => l.name === 'admin') as { url: string }).url
    ;({ browser, page } = await openBrowser(profileDir, { consoleErrors, timeoutMs: 8000, viewport: { width: 1360, height: 880 } }))
  })

  afterAll(async () => {
    await browser?.close()
    await server?.stop()
    rmSync(dataDir, { recursive: true, force: true })
    rmSync(profileDir, { recursive: true, force: true })
  })

  it('creates the first administrator on first run and signs in', async () => {
    await page.goto(baseUrl)
    await page.getByText('No administrator exists yet').waitFor().catch(async (error: unknown) => {
      throw new Error(`${(error as Error).message}\npage: ${await page.content()}\nconsole: ${consoleErrors.join('; ')}`)
    })
    await page.screenshot({ path: join(SCREENS_DIR, 'first-run.png') })
    await createFirstAdministrator(page)
    const accounts = await server.admin.users.list()
    expect(accounts.map((a) => a.username)).toEqual(['admin'])
    expect(accounts[0]?.roles).toContain('system-administrator')
    expect(accounts[0]?.roles).not.toContain('key-custodian')
    const setup = await server.admin.audit.search({ event: 'session.setup' })
    expect(setup.map((e) => [e.actor, e.outcome])).toEqual([['admin', 'success']])
  })

  it('shows the system status on the dashboard', async () => {
    const lights = page.getByTestId('status-lights')
    await lights.getByText('running', { exact: true }).waitFor()
    expect(await isShown(lights.getByText('Security server'))).toBe(true)
    expect(await isShown(page.getByRole('table', { name: 'Databases' }).getByText('messagelog', { exact: true }))).toBe(true)
    expect(await isShown(page.getByRole('table', { name: 'Databases' }).getByText('FULL', { exact: true }))).toBe(true)
    expect(await isShown(page.getByRole('table', { name: 'Listeners' }).getByText(baseUrl))).toBe(true)
    await page.screenshot({ path: join(SCREENS_DIR, 'dashboard.png'), fullPage: true })
    expect(consoleErrors).toEqual([])
  })

  it('shows the sign-in in the audit log, reached by keyboard', async () => {
    await page.getByRole('link', { name: /Audit log/ }).focus()
    await page.keyboard.press('Enter')
    await page.getByRole('heading', { name: 'Audit log' }).waitFor()
    const table = page.getByRole('table', { name: 'Audit log entries' })
    await table.getByText('session.setup').waitFor()
    await page.screenshot({ path: join(SCREENS_DIR, 'audit-log.png'), fullPage: true })
    expect(await table.textContent()).not.toContain('correct horse')
    expect(consoleErrors).toEqual([])
  })
})

/** playwright-core has no `expect(locator).toBeVisible()`: wait for the locator, then report its visibility. */
async function isShown(locator: Locator): Promise<boolean> {
  await locator.waitFor({ state: 'visible' })
  return locator.isVisible()
}

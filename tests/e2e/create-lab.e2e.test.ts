import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type BrowserContext, type Page } from 'playwright-core'
import { createSecurityServer, parseServerConfig, type SecurityServer } from '../../src-main/server'
import { silentLogger } from '../../src-main/platform'
import { RENDERER_DIR, SCREENS_DIR, createFirstAdministrator, e2eSkipReason, openBrowser } from './support/browser'

/**
 * "Create a lab on this machine" in Chromium against the headless server: the first-run wizard's second choice, its
 * step-by-step progress, the anchor hash, the join, and the keys screen with the certified keys and their OCSP status.
 */
const missing = e2eSkipReason('create-lab GUI')

const PIN = 'Lab-Token-8642'

describe.skipIf(missing !== undefined)('create a lab in Chromium', () => {
  let dir: string
  let server: SecurityServer
  let browser: BrowserContext
  let page: Page
  const consoleErrors: string[] = []

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-e2e-lab-'))
    const dataDir = join(dir, 'data')
    mkdirSync(dataDir)
    const bootstrap = { internal: { adminPort: 0, clientProxyHttpPort: null, clientProxyHttpsPort: null }, external: { serverProxyPort: 15_577, ocspResponderPort: null }, shutdownGraceMs: 200 }
    // The lab registers the server proxy address of the bootstrap configuration (DATA_DIR/gatehouse.json).
    writeFileSync(join(dataDir, 'gatehouse.json'), JSON.stringify(bootstrap))
    server = createSecurityServer({ dataDir, config: parseServerConfig(bootstrap, 'test'), logger: silentLogger(), rendererDir: RENDERER_DIR })
    const baseUrl = ((await server.start()).find((l) => l.name === 'admin') as { url: string }).url
    ;({ browser, page } = await openBrowser(join(dir, 'profile'), { consoleErrors }))
    await page.goto(baseUrl)
    await createFirstAdministrator(page)
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
    await server?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('creates the lab step by step and joins it after the anchor hash is noted', async () => {
    await page.getByRole('button', { name: 'Start the first-run wizard' }).click()
    await page.getByText('Create a lab on this machine', { exact: true }).click()
    await page.getByRole('heading', { name: 'Create a lab on this machine' }).waitFor()
    await page.getByLabel(/^Instance name/).fill('DEMO')
    await page.getByLabel(/^Member code/).fill('7001')
    await page.getByLabel(/^Member name/).fill('Demo Agency')
    await page.getByLabel(/^Subsystem code/).fill('portal')
    await page.getByLabel(/^Token PIN/).fill(PIN)
    await page.getByLabel(/^Repeat token PIN/).fill(PIN)
    await shoot(page, join(SCREENS_DIR, 'first-run-lab-form.png'))
    await page.getByRole('button', { name: 'Create the lab' }).click()

    const hash = page.getByTestId('lab-anchor-hash')
    await hash.waitFor({ timeout: 30_000 })
    expect(await hash.textContent()).toMatch(/^([0-9A-F]{2}:)+[0-9A-F]{2}$/)
    const steps = page.getByTestId('lab-steps')
    expect(await steps.textContent()).toContain('127.0.0.1:15577')
    await shoot(page, join(SCREENS_DIR, 'first-run-lab-confirm.png'))
    await page.getByLabel('I have noted the fingerprint of the lab anchor').check()
    await page.getByRole('button', { name: 'Join the lab' }).click()
    await page.getByRole('heading', { name: 'The lab is ready' }).waitFor({ timeout: 60_000 })
    expect(await steps.getByText('Failed').count()).toBe(0)
    expect(await page.getByText(/global configuration is downloaded and the OCSP status of its certificates is good/).count()).toBe(1)
    await shoot(page, join(SCREENS_DIR, 'first-run-lab.png'))
    expect(await page.content()).not.toContain(PIN)
    expect(consoleErrors).toEqual([])
  })

  it('shows the certified keys on the keys screen with a good OCSP status', async () => {
    await page.getByRole('button', { name: 'Go to keys and certificates' }).click()
    await page.getByRole('heading', { name: 'Keys and certificates' }).waitFor()
    const certs = page.getByRole('table', { name: 'Certificates' })
    await certs.getByText('good').first().waitFor()
    expect(await certs.getByText('good').count()).toBe(2)
    await page.getByRole('button', { name: /^Change the PIN of token/ }).click()
    await page.getByTestId('pin-policy').waitFor()
    // Let the dialog's opening transition (200 ms) finish so the screenshot shows it, not a half-faded frame.
    await page.getByRole('dialog').waitFor({ state: 'visible' })
    await page.waitForTimeout(400)
    await shoot(page, join(SCREENS_DIR, 'keys-change-pin.png'))
    await page.getByRole('button', { name: 'Cancel' }).click()
    expect(consoleErrors).toEqual([])
  })
})

async function shoot(page: Page, path: string): Promise<void> {
  await page.evaluate('window.scrollTo(0, 0)')
  await page.screenshot({ path, fullPage: true })
}

import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type BrowserContext, type Page } from 'playwright-core'
import { memberId } from '@shared/domain/identifiers'
import { createSecurityServer, parseServerConfig, type SecurityServer } from '../../src-main/server'
import { silentLogger } from '../../src-main/platform'
import { anchorHash } from '../../src-main/global-conf'
import { initLab, openLab, startLabServer, type RunningLabServer } from '../../src-main/lab'
import { RENDERER_DIR, SCREENS_DIR, createFirstAdministrator, e2eSkipReason, openBrowser } from './support/browser'

/**
 * The security-server screens in Chromium against a headless server and a lab: first-run wizard with the lab
 * anchor and its hash, token login, key + CSR download, service + access right, and a screenshot of each screen.
 */
const missing = e2eSkipReason('security-server GUI')

const PIN = 'Token-PIN-1357'

describe.skipIf(missing !== undefined)('security-server screens in Chromium', () => {
  let dir: string
  let lab: RunningLabServer
  let server: SecurityServer
  let browser: BrowserContext
  let page: Page
  let baseUrl: string
  let anchorXml: string
  const consoleErrors: string[] = []

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-e2e-ss-'))
    await initLab(join(dir, 'lab'), { keyAlgorithm: 'ec-p256' })
    const authority = openLab(join(dir, 'lab'))
    authority.addMember(memberId('LAB', 'GOV', '1234'), 'Agency', 'SUB')
    authority.close()
    lab = await startLabServer(join(dir, 'lab'), { ports: { ocsp: 0, tsa: 0, conf: 0 }, confExpireSeconds: 600 })
    anchorXml = readFileSync(lab.anchor, 'utf8')
    const config = parseServerConfig({ internal: { adminPort: 0, clientProxyHttpPort: null, clientProxyHttpsPort: null }, external: { serverProxyPort: null, ocspResponderPort: null }, shutdownGraceMs: 200 }, 'test')
    server = createSecurityServer({ dataDir: join(dir, 'data'), config, logger: silentLogger(), rendererDir: RENDERER_DIR })
    baseUrl = ((await server.start()).find((l) => l.name === 'admin') as { url: string }).url
    ;({ browser, page } = await openBrowser(join(dir, 'profile'), { consoleErrors, timeoutMs: 10_000 }))
    await page.goto(baseUrl)
    await createFirstAdministrator(page)
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
    await server?.stop()
    await lab?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('joins the lab instance with the first-run wizard after the hash is confirmed', async () => {
    await page.getByRole('button', { name: 'Start the first-run wizard' }).click()
    await page.getByRole('heading', { name: 'Join an X-Road instance' }).waitFor()
    await page.getByLabel('Anchor XML').fill(anchorXml)
    await page.getByRole('button', { name: 'Check anchor' }).click()
    const hash = page.getByTestId('anchor-hash')
    await hash.waitFor()
    expect((await hash.textContent())?.trim()).toBe(anchorHash(anchorXml))
    await shoot(page, join(SCREENS_DIR, 'first-run-wizard.png'))
    const next = page.getByRole('button', { name: 'Continue' })
    expect(await next.isDisabled()).toBe(true)
    await page.getByLabel('The fingerprint matches the published one').check()
    await next.click()
    await page.getByLabel('Owner member').fill('LAB/GOV/1234')
    await page.getByLabel('Server code').fill('SS1')
    await page.getByRole('button', { name: 'Continue' }).click()
    await page.getByLabel('Token PIN', { exact: true }).fill(PIN)
    await page.getByLabel('Repeat token PIN').fill(PIN)
    await page.getByRole('button', { name: 'Join the instance' }).click()
    await page.getByText('This server has joined LAB').waitFor()
    expect((await server.admin.initialization.status()).serverId).toBe('SERVER:LAB/GOV/1234/SS1')
  })

  it('logs in to the token with the PIN dialog, generates a key and saves a CSR', async () => {
    await server.admin.tokens.logout({ tokenId: '0' })
    await page.getByRole('button', { name: 'Go to keys and certificates' }).click()
    await page.getByRole('heading', { name: 'Keys and certificates' }).waitFor()
    await page.getByRole('button', { name: /Log in to token/ }).click()
    await page.getByLabel('Token PIN').fill(PIN)
    await page.getByRole('dialog').getByRole('button', { name: 'Log in' }).click()
    await page.getByRole('table', { name: 'Tokens' }).getByText('Logged in').waitFor()
    await page.getByLabel('Key label').fill('e2e signing key')
    await page.getByRole('button', { name: 'Generate key' }).click()
    await page.getByRole('table', { name: 'Keys' }).getByText('e2e signing key').waitFor()
    // Global configuration (with the approved CA) arrives from the lab shortly after joining.
    for (let i = 0; i < 50 && (await server.admin.csrs.authorities()).length === 0; i++) await new Promise((r) => setTimeout(r, 100))
    await page.reload()
    await page.getByRole('button', { name: 'Request a certificate for key e2e signing key' }).click()
    const download = page.waitForEvent('download')
    await page.getByRole('button', { name: 'Generate and save' }).click()
    const file = await download
    expect(file.suggestedFilename()).toMatch(/^sign_csr_1234_\d{8}\.(pem|der)$/)
    const saved = readFileSync((await file.path()) as string)
    expect(saved.length).toBeGreaterThan(100)
    await page.getByText('Request saved').waitFor()
    await page.getByRole('button', { name: 'Done' }).click()
    await page.getByRole('dialog').waitFor({ state: 'detached' })
    await shoot(page, join(SCREENS_DIR, 'keys-and-certificates.png'))
  })

  it('adds a subsystem, a REST service and an access right, shown in who may call what', async () => {
    await page.getByRole('link', { name: /Clients and services/ }).click()
    await page.getByRole('heading', { name: 'Clients, services and access rights' }).waitFor()
    // Global configuration lists LAB/GOV/1234 with its subsystem SUB: the picker offers it.
    await page.getByRole('combobox', { name: 'Subsystem code' }).click()
    await page.getByRole('option', { name: 'SUB', exact: true }).click()
    await page.getByRole('button', { name: 'Add subsystem' }).click()
    await page.getByRole('table', { name: 'Clients' }).getByText('LAB/GOV/1234/SUB').waitFor()
    await page.getByRole('tab', { name: /^Services/ }).click()
    await page.getByRole('textbox', { name: 'Service code' }).fill('weather')
    await page.getByRole('textbox', { name: 'Service URL' }).fill('http://127.0.0.1:9/api')
    await page.getByRole('button', { name: 'Add service' }).click()
    await page.getByRole('region', { name: 'Service weather' }).waitFor()
    await page.getByRole('tab', { name: /^Access rights/ }).click()
    // A caller global configuration does not list yet is typed in full.
    await page.getByRole('combobox', { name: 'Subsystem', exact: true }).fill('LAB/GOV/5678/APP')
    await page.getByRole('button', { name: 'Grant access' }).click()
    const matrix = page.getByRole('table', { name: 'Who may call what' })
    await matrix.getByText('LAB/GOV/5678/APP').waitFor()
    expect(await matrix.getByText('whole service').count()).toBe(1)
    await shoot(page, join(SCREENS_DIR, 'clients-and-services.png'))
  })

  it('shows global configuration, diagnostics, settings and the dashboard lights', async () => {
    await page.getByRole('link', { name: /Global configuration/ }).click()
    await page.getByTestId('global-conf-status').getByText('OK').waitFor()
    await page.getByRole('table', { name: 'Members' }).getByText('Agency').waitFor()
    await shoot(page, join(SCREENS_DIR, 'global-configuration.png'))
    await page.getByRole('link', { name: /Diagnostics/ }).click()
    await page.getByTestId('diagnostic-checks').getByText('Tokens').waitFor()
    await shoot(page, join(SCREENS_DIR, 'diagnostics.png'))
    await page.getByRole('link', { name: /Settings/ }).click()
    const keep = page.getByRole('textbox', { name: 'Keep message-log records for' })
    await keep.fill('abc')
    await page.getByText('Enter a whole number').waitFor()
    await keep.fill('90')
    await page.getByRole('button', { name: 'Save Keep message-log records for' }).click()
    await page.getByText('changed', { exact: true }).first().waitFor()
    expect((await server.admin.settings.list()).find((s) => s.name === 'message-log.keep-records-for')?.value).toBe('90')
    await shoot(page, join(SCREENS_DIR, 'settings.png'))
    await page.getByRole('link', { name: /Dashboard/ }).click()
    // The dashboard says whether messages can flow, area by area, with the state global configuration is in.
    const configuration = page.getByTestId('readiness-configuration')
    await configuration.getByText('Global configuration', { exact: true }).waitFor()
    expect(await configuration.getAttribute('data-code')).toBe('configuration-ready')
    expect(await configuration.textContent()).toContain('Global configuration of LAB is valid until')
    await shoot(page, join(SCREENS_DIR, 'dashboard-lights.png'))
    expect(consoleErrors).toEqual([])
  })
})

/** A full-page screenshot from the top (a scrolled page repeats the fixed header in the image). */
async function shoot(page: Page, path: string): Promise<void> {
  await page.evaluate('window.scrollTo(0, 0)')
  await page.screenshot({ path, fullPage: true })
}

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
import { ADMIN_PASSWORD, RENDERER_DIR, SCREENS_DIR, createFirstAdministrator, e2eSkipReason, openBrowser } from './support/browser'

/**
 * Everyday administration in Chromium at 1 024 px against a real headless server joined to a lab: a second user, their
 * password reset by the administrator and changed by themselves, an API key's roles edited, the anchor re-imported with
 * its hash confirmed, a time-stamping service chosen, and a key with an active certificate refused deletion with the
 * reason on screen. Screenshots of the three screens in English, Brazilian Portuguese and Spanish.
 */
const missing = e2eSkipReason('admin tasks')

const PIN = 'Token-PIN-8642'
const OPERATOR_RESET = 'operator-reset-by-admin'
const OPERATOR_OWN = 'operator-picked-this-one'
const VIEWPORT = { width: 1024, height: 800 }

async function shoot(page: Page, name: string): Promise<void> {
  await page.evaluate('window.scrollTo(0, 0)')
  await page.screenshot({ path: join(SCREENS_DIR, `admin-tasks-${name}.png`), fullPage: true })
}

async function go(page: Page, link: RegExp, heading: string): Promise<void> {
  await page.getByRole('link', { name: link }).click()
  await page.getByRole('heading', { name: heading, level: 2 }).waitFor()
}

async function signIn(page: Page, username: string, password: string): Promise<void> {
  await page.getByRole('form', { name: 'Sign in' }).waitFor()
  await page.getByLabel('User name').fill(username)
  await page.getByLabel(/^Password/).fill(password)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByRole('button', { name: 'Sign out' }).waitFor()
}

async function signOut(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Sign out' }).click()
  await page.getByRole('form', { name: 'Sign in' }).waitFor()
}

describe.skipIf(missing !== undefined)('admin tasks in Chromium', () => {
  let dir: string
  let lab: RunningLabServer
  let server: SecurityServer
  let browser: BrowserContext
  let page: Page
  let baseUrl: string
  let anchorXml: string
  let activeKeyLabel: string
  const consoleErrors: string[] = []

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-e2e-admin-tasks-'))
    await initLab(join(dir, 'lab'), { keyAlgorithm: 'ec-p256' })
    const authority = openLab(join(dir, 'lab'))
    authority.addMember(memberId('LAB', 'GOV', '1234'), 'Agency', 'SUB')
    authority.close()
    lab = await startLabServer(join(dir, 'lab'), { ports: { ocsp: 0, tsa: 0, conf: 0 }, confExpireSeconds: 600 })
    anchorXml = readFileSync(lab.anchor, 'utf8')
    const config = parseServerConfig({ internal: { adminPort: 0, clientProxyHttpPort: null, clientProxyHttpsPort: null }, external: { serverProxyPort: null, ocspResponderPort: null }, shutdownGraceMs: 200 }, 'test')
    server = createSecurityServer({ dataDir: join(dir, 'data'), config, logger: silentLogger(), rendererDir: RENDERER_DIR })
    baseUrl = ((await server.start()).find((l) => l.name === 'admin') as { url: string }).url
    // Joined and holding an active signing certificate before the browser opens: the screens under test come after.
    const { admin } = server
    await admin.initialization.initialize({ anchorXml, confirmedHash: anchorHash(anchorXml), owner: 'LAB/GOV/1234', serverCode: 'SS1', softwareTokenPin: PIN })
    await admin.tokens.login({ tokenId: '0', pin: PIN })
    for (let i = 0; i < 100 && (await admin.csrs.authorities()).length === 0; i++) await new Promise((r) => setTimeout(r, 100))
    const key = await admin.keys.generate({ tokenId: '0', usage: 'sign', algorithm: 'ec-p256', label: 'agency signing key' })
    activeKeyLabel = key.label
    const [ca] = await admin.csrs.authorities()
    const csr = await admin.csrs.generate({ keyId: key.id, caName: ca?.name ?? '', format: 'pem' })
    const issuer = openLab(join(dir, 'lab'))
    const issued = await issuer.issueCertificate(csr.content, 'sign')
    issuer.close()
    const cert = await admin.certificates.import({ content: issued.pem })
    await admin.certificates.activate({ certId: cert.id })
    ;({ browser, page } = await openBrowser(join(dir, 'profile'), { consoleErrors, timeoutMs: 15_000, viewport: VIEWPORT }))
    await page.goto(baseUrl)
    await createFirstAdministrator(page)
  }, 90_000)

  afterAll(async () => {
    await browser?.close()
    await server?.stop()
    await lab?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('adds a second user and resets their password with the policy shown', async () => {
    await go(page, /Users and API keys/, 'Users and API keys')
    const add = page.getByRole('form', { name: 'Add a user' })
    await add.getByLabel('User name').fill('operator')
    await add.getByLabel('Password', { exact: true }).fill('operator-first-password')
    await add.getByLabel('Security Officer').check()
    await add.getByLabel('Server Observer').uncheck()
    await add.getByRole('button', { name: 'Add user' }).click()
    await page.getByRole('table', { name: 'Users' }).getByText('operator', { exact: true }).waitFor()
    expect((await server.admin.users.list()).find((u) => u.username === 'operator')?.roles).toEqual(['security-officer'])

    await page.getByRole('button', { name: 'Reset the password of operator' }).click()
    const reset = page.getByRole('form', { name: 'New password for operator' })
    await reset.getByText('12 to 256 characters', { exact: false }).waitFor()
    await reset.getByLabel('New password', { exact: true }).fill(OPERATOR_RESET)
    await reset.getByLabel('Repeat the new password').fill(OPERATOR_RESET)
    await reset.getByRole('button', { name: 'Set password' }).click()
    await page.getByText('Password of operator reset; their sessions have ended.').waitFor()
  })

  it('signs in as that user, who changes their own password; the new one works', async () => {
    await signOut(page)
    await signIn(page, 'operator', OPERATOR_RESET)
    await go(page, /Users and API keys/, 'Users and API keys')
    await page.getByText('Signed in as operator').waitFor()
    const form = page.getByRole('form', { name: 'Change your password' })
    await form.getByLabel('Current password').fill('not-the-password')
    await form.getByLabel('New password', { exact: true }).fill(OPERATOR_OWN)
    await form.getByLabel('Repeat the new password').fill(OPERATOR_OWN)
    await form.getByRole('button', { name: 'Change password' }).click()
    await form.getByText('The current password is not correct.').waitFor()
    await form.getByLabel('Current password').fill(OPERATOR_RESET)
    await form.getByRole('button', { name: 'Change password' }).click()
    await page.getByText('Your password is changed.', { exact: false }).waitFor()
    // The session that changed it stays signed in.
    await go(page, /Keys and certificates/, 'Keys and certificates')
    await signOut(page)
    await signIn(page, 'operator', OPERATOR_OWN)
    await signOut(page)
    await signIn(page, 'admin', ADMIN_PASSWORD)
  })

  it('creates an API key shown once and edits its roles', async () => {
    await go(page, /Users and API keys/, 'Users and API keys')
    const create = page.getByRole('form', { name: 'Create an API key' })
    await create.getByLabel('Label', { exact: true }).fill('nightly backup')
    await create.getByRole('button', { name: 'Create API key' }).click()
    const secret = (await page.getByTestId('new-api-key').textContent())?.trim() ?? ''
    expect(secret.length).toBeGreaterThan(30)
    await page.getByRole('button', { name: 'Copy key' }).waitFor()
    await page.getByRole('button', { name: 'Edit the roles of API key nightly backup' }).click()
    const dialog = page.getByRole('dialog', { name: /Roles of API key nightly backup/ })
    await dialog.getByLabel('System Administrator').check()
    await dialog.getByRole('button', { name: 'Save' }).click()
    await page.getByText('Roles of API key nightly backup saved.').waitFor()
    expect((await server.admin.apiKeys.list()).find((k) => k.label === 'nightly backup')?.roles).toEqual(['observer', 'system-administrator'])
    await page.getByRole('button', { name: 'I have saved the key' }).click()
    await page.getByRole('button', { name: 'Revoke API key nightly backup' }).click()
    const revoke = page.getByRole('dialog', { name: 'Revoke API key nightly backup?' })
    await revoke.getByText('They lose these roles: Server Observer, System Administrator.').waitFor()
    await revoke.getByRole('button', { name: 'Cancel' }).click()
  })

  it('downloads the anchor, re-imports a newer one after confirming its hash, and chooses the time-stamping service', async () => {
    await go(page, /Global configuration/, 'Global configuration')
    const download = page.waitForEvent('download')
    await page.getByRole('button', { name: 'Download anchor' }).click()
    const file = await download
    expect(file.suggestedFilename()).toMatch(/^configuration_anchor_UTC_\d{4}-\d\d-\d\d_\d\d_\d\d_\d\d\.xml$/)
    expect(readFileSync((await file.path()) as string, 'utf8')).toBe(anchorXml)
    const newer = anchorXml.replace(/<generatedAt>[^<]*<\/generatedAt>/, `<generatedAt>${new Date().toISOString()}</generatedAt>`)
    await page.getByRole('button', { name: 'Import a new anchor…' }).click()
    const dialog = page.getByRole('dialog', { name: 'Import a new configuration anchor' })
    await dialog.getByLabel('Anchor XML').fill(newer)
    await dialog.getByRole('button', { name: 'Check anchor' }).click()
    expect((await dialog.getByTestId('anchor-hash').textContent())?.trim()).toBe(anchorHash(newer))
    await dialog.getByLabel('The hash matches the published one').check()
    await dialog.getByRole('button', { name: 'Replace the anchor' }).click()
    await dialog.getByText('The new anchor is in use', { exact: false }).waitFor({ timeout: 30_000 })
    await dialog.getByRole('button', { name: 'Close' }).click()
    expect((await server.admin.globalConf.anchor()).hash).toBe(anchorHash(newer))
    expect((await page.getByTestId('current-anchor-hash').textContent())?.trim()).toBe(anchorHash(newer))

    await page.getByLabel('Use only the services I choose, in this order').check()
    await page.getByLabel('Use Gatehouse Lab TSA LAB').check()
    await page.getByRole('button', { name: 'Save selection' }).click()
    await page.getByText('Saved: the next time-stamping round uses Gatehouse Lab TSA LAB.').waitFor()
    expect(server.core.serverConf.timestampingServices()).toEqual(['Gatehouse Lab TSA LAB'])
  })

  it('refuses deleting a key with an active certificate and shows the reason', async () => {
    await go(page, /Keys and certificates/, 'Keys and certificates')
    await page.getByRole('button', { name: `Delete key ${activeKeyLabel}` }).click()
    const dialog = page.getByRole('dialog', { name: `Delete key ${activeKeyLabel}?` })
    await dialog.getByText('the server refuses until you disable it', { exact: false }).waitFor()
    await dialog.getByLabel(`Type ${activeKeyLabel} to confirm`).fill(activeKeyLabel)
    await dialog.getByRole('button', { name: 'Delete key' }).click()
    await dialog.getByText(`Refused: key ${activeKeyLabel} has a certificate in use`, { exact: false }).waitFor()
    await shoot(page, 'key-delete-refused-en')
    await dialog.getByRole('button', { name: 'Cancel' }).click()
    expect((await server.admin.keys.list()).map((k) => k.label)).toContain(activeKeyLabel)
  })

  it('shows the three screens in English, Brazilian Portuguese and Spanish at 1 024 px', async () => {
    const screens: Array<{ route: string; name: string }> = [
      { route: 'users', name: 'users' }, { route: 'global-conf', name: 'global-conf' }, { route: 'keys', name: 'keys' },
    ]
    for (const language of ['en', 'pt-BR', 'es']) {
      await page.evaluate(`localStorage.setItem('gatehouse.language', '${language}')`)
      for (const screen of screens) {
        await page.goto(`${baseUrl}#/${screen.route}`)
        await page.reload()
        await page.locator('main h2').first().waitFor()
        await page.waitForLoadState('networkidle')
        // A table or card laid out wider than the window would push the page sideways: it must scroll inside its card.
        expect(await page.evaluate<number>('document.documentElement.scrollWidth'), `${screen.name} ${language}`).toBeLessThanOrEqual(VIEWPORT.width)
        // Every table fits its card at 1 024 px: nothing (actions included) is hidden behind a horizontal scroll.
        const clipped = await page.evaluate<string[]>(`[...document.querySelectorAll('.mantine-TableScrollContainer-scrollContainer')]
          .filter((e) => e.scrollWidth > e.clientWidth + 1).map((e) => e.querySelector('table')?.getAttribute('aria-label'))`)
        expect(clipped, `${screen.name} ${language}`).toEqual([])
        await shoot(page, `${screen.name}-${language}`)
      }
    }
    await page.evaluate("localStorage.setItem('gatehouse.language', 'en')")
    // The browser logs the refusals this test provokes (wrong current password 400, key in use 409); nothing else.
    expect(consoleErrors.filter((e) => !/status of (400 \(Bad Request\)|409 \(Conflict\))/.test(e))).toEqual([])
  })
})

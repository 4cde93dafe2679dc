import { existsSync, mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import { recordSkip, type Requirement } from '../../support/requirements'

/**
 * What every GUI test shares: the built renderer, Debian's Chromium (never a downloaded browser), the screenshot
 * folder, one way to launch a headless browser that records console errors, and the first-administrator setup.
 */
export const RENDERER_DIR = resolve(__dirname, '../../../out/renderer')
export const SCREENS_DIR = resolve(__dirname, '../../../test-results/screens')
export const CHROMIUM = '/usr/bin/chromium'
export const ADMIN_PASSWORD = 'correct horse battery staple'

export const RENDERER: Requirement = {
  missing: existsSync(join(RENDERER_DIR, 'index.html')) ? undefined : 'out/renderer/index.html is missing (the GUI is not built)',
  packages: [],
  enable: '`npx electron-vite build` (npm test builds it when e2e suites are selected)',
}

export const CHROMIUM_BROWSER: Requirement = {
  missing: existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is missing`,
  packages: ['chromium'],
}

/**
 * Why a GUI suite cannot run here (the built GUI, Chromium, and what else it names), or undefined when it can;
 * a skip is logged for the table printed after the run.
 */
export function e2eSkipReason(suite: string, also: readonly Requirement[] = []): string | undefined {
  const missing = [RENDERER, CHROMIUM_BROWSER, ...also].filter((r) => r.missing !== undefined)
  if (missing.length === 0) return undefined
  recordSkip(`${suite} e2e suite`, missing)
  return missing.map((r) => r.missing).join('; ')
}

/**
 * Headless Chromium with a fresh profile (--user-data-dir), the flags these machines need, the admin interface's
 * self-signed certificate accepted, and console errors and page errors collected into `consoleErrors`.
 */
export async function openBrowser(
  profileDir: string,
  options: { consoleErrors: string[]; timeoutMs?: number; viewport?: { width: number; height: number } },
): Promise<{ browser: BrowserContext; page: Page }> {
  const browser = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
    ignoreHTTPSErrors: true,
    acceptDownloads: true,
    viewport: options.viewport ?? { width: 1360, height: 900 },
  })
  const page = browser.pages()[0] ?? (await browser.newPage())
  page.setDefaultTimeout(options.timeoutMs ?? 15_000)
  page.on('console', (msg) => {
    if (msg.type() === 'error') options.consoleErrors.push(msg.text())
  })
  page.on('pageerror', (error) => options.consoleErrors.push(error.message))
  mkdirSync(SCREENS_DIR, { recursive: true })
  return { browser, page }
}

/** Fills the first-run setup form (loopback, no account yet) and waits for the dashboard. */
export async function createFirstAdministrator(page: Page, password = ADMIN_PASSWORD): Promise<void> {
  await page.getByLabel('User name').fill('admin')
  await page.getByLabel(/^Password/).fill(password)
  await page.getByLabel('Repeat password').fill(password)
  await page.getByRole('button', { name: 'Create administrator and sign in' }).click()
  await page.getByRole('heading', { name: 'Dashboard' }).waitFor()
}

import 'reflect-metadata'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type BrowserContext, type Page } from 'playwright-core'
import { readZipEntries } from '../../src-main/message-log'
import { startLabPair, type LabPair } from '../integration/lab-pair'
import { RENDERER_DIR, SCREENS_DIR, createFirstAdministrator, e2eSkipReason, openBrowser } from './support/browser'

/**
 * The Diagnostics page's probes in Chromium against a real lab pair: the probes run on demand and show each TSA,
 * OCSP responder, configuration source and listener with its timing; a test call goes to the provider; the health
 * check shows what the load balancer reads; a stopped TSA is named with the reason; the bundle downloads. Screenshots
 * at 1 024 px in English, Brazilian Portuguese and Spanish.
 */
const missing = e2eSkipReason('diagnostics probes')
const WIDTH = 1024
const LANGUAGES = ['en', 'pt-BR', 'es'] as const

const WORDS = {
  en: { title: 'Diagnostics', run: 'Run the probes', send: 'Send test call', refused: 'connection refused', healthy: '200: healthy', tsa: 'Time-stamping services' },
  'pt-BR': { title: 'Diagnóstico', run: 'Executar as sondagens', send: 'Enviar chamada de teste', refused: 'conexão recusada', healthy: '200: saudável', tsa: 'Serviços de carimbo de tempo' },
  es: { title: 'Diagnóstico', run: 'Ejecutar los sondeos', send: 'Enviar llamada de prueba', refused: 'conexión rechazada', healthy: '200: en buen estado', tsa: 'Servicios de sellado de tiempo' },
} as const

describe.skipIf(missing !== undefined)('diagnostics probes in Chromium', () => {
  let dir: string
  let pair: LabPair
  let browser: BrowserContext
  let page: Page
  let baseUrl: string
  const consoleErrors: string[] = []

  async function shoot(name: string): Promise<void> {
    await page.evaluate('window.scrollTo(0, 0)')
    expect(await page.evaluate('document.documentElement.scrollWidth'), name).toBeLessThanOrEqual(WIDTH)
    const clipped = await page.evaluate("[...document.querySelectorAll('.mantine-Badge-label')].filter((el) => el.scrollWidth > el.clientWidth + 1).map((el) => el.textContent)")
    expect(clipped, name).toEqual([])
    const overflowing = await page.evaluate(`[...document.querySelectorAll('.mantine-Badge-root')].filter((el) => {
      const box = el.closest('.mantine-Paper-root')
      return box !== null && el.getBoundingClientRect().right > box.getBoundingClientRect().right + 1
    }).map((el) => el.textContent)`)
    expect(overflowing, name).toEqual([])
    await page.screenshot({ path: join(SCREENS_DIR, name), fullPage: true })
  }

  async function openDiagnostics(language: (typeof LANGUAGES)[number]): Promise<void> {
    await page.evaluate(`localStorage.setItem('gatehouse.language', '${language}')`)
    await page.goto(`${baseUrl}#/diagnostics`)
    await page.reload()
    await page.getByRole('heading', { name: WORDS[language].title, level: 2 }).waitFor()
  }

  async function runProbes(language: (typeof LANGUAGES)[number]): Promise<void> {
    const probes = page.getByTestId('probes')
    await probes.getByRole('button', { name: WORDS[language].run }).click()
    await probes.getByRole('region', { name: WORDS[language].tsa }).waitFor()
    await probes.locator('[data-code^="listener-"]').nth(3).waitFor()
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-e2e-probes-'))
    pair = await startLabPair({ healthCheck: true, rendererDir: RENDERER_DIR })
    const admin = (await pair.consumer.server.admin.system.status()).listeners.find((l) => l.name === 'admin')
    if (admin === undefined) throw new Error('the consumer has no admin listener')
    baseUrl = admin.url
    ;({ browser, page } = await openBrowser(join(dir, 'profile'), { consoleErrors, viewport: { width: WIDTH, height: 900 } }))
    await page.goto(baseUrl)
    await createFirstAdministrator(page)
  }, 120_000)

  afterAll(async () => {
    await browser?.close()
    await pair?.close()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  for (const language of LANGUAGES) {
    it(`probes, sends a test call and shows the health check in ${language}`, async () => {
      await openDiagnostics(language)
      await runProbes(language)
      const probes = page.getByTestId('probes')
      for (const code of ['tsa-ok', 'ocsp-good', 'conf-ok', 'listener-auth-cert']) expect(await probes.locator(`[data-code="${code}"]`).count(), code).toBe(1)
      // Each probe names its steps with their times.
      expect(await probes.locator('[data-code="tsa-ok"] [role="img"]').getAttribute('aria-label')).toMatch(/\d ms/)

      const peer = page.getByTestId('peer-test')
      await peer.getByRole('button', { name: WORDS[language].send }).click()
      // The provider answers the REST metaservice itself (PR-MREST §4): its one service, pets.
      await peer.locator('[data-code="peer-ok"]').waitFor()

      await page.getByTestId('health-check').getByText(WORDS[language].healthy).waitFor()
      await shoot(`diagnostics-probe-${language}.png`)
    }, 90_000)
  }

  it('names the stopped TSA and why, and downloads the bundle', async () => {
    await pair.labServer.stopService('tsa')
    await openDiagnostics('en')
    await runProbes('en')
    const failed = page.getByTestId('probes').locator('[data-code="tsa-unreachable"]')
    await failed.waitFor()
    expect(await failed.textContent()).toContain(WORDS.en.refused)
    expect(await failed.locator('[role="img"]').getAttribute('aria-label')).toMatch(/connect [\d.]+ ms \(failed\)/)
    await shoot('diagnostics-probe-failure-en.png')

    const download = page.waitForEvent('download')
    await page.getByRole('button', { name: 'Download diagnostics bundle' }).click()
    const file = await download
    expect(file.suggestedFilename()).toMatch(/^gatehouse-diagnostics-.*\.zip$/)
    const entries = await readZipEntries((await file.path()) as string)
    expect(entries.map((e) => e.name.split('/').slice(1).join('/'))).toContain('logs/recent.jsonl')
    // The unknown metaservice is the provider's refusal (HTTP 500 through the client proxy), which Chromium does not see.
    expect(consoleErrors).toEqual([])
  }, 90_000)
})

import 'reflect-metadata'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type BrowserContext, type Page } from 'playwright-core'
import type { AdminRole } from '@shared/admin-api/admin-roles'
import type { IpcResult } from '@shared/admin-api/ipc-result'
import type { CeremonySummary } from '@shared/admin-api/admin-api'
import { createSecurityServer, parseServerConfig, type SecurityServer } from '../../src-main/server'
import { silentLogger } from '../../src-main/platform'
import { createSoftHsmToken, type SoftHsmToken } from '../support/softhsm'
import { SOFTHSM } from '../support/requirements'
import { RENDERER_DIR, SCREENS_DIR, createFirstAdministrator, e2eSkipReason, openBrowser } from './support/browser'

/**
 * The key ceremony, diagnostics and audit log screens in Chromium at 1 024 px in English, Portuguese and Spanish:
 * a ceremony waiting at its key step whose dual-control refusals (recorded, and one pressed in the GUI) are worded
 * in each language, a ceremony sealed with a software key (a recorded warning), the diagnostics checks with the
 * message-rate chart over six hours of operational monitoring records, and the audit trail. No page is wider than
 * the window and no badge is cut short.
 */
const missing = e2eSkipReason('translated screens', [SOFTHSM])

const WIDTH = 1024
const PIN = 'screens-PIN-1357'
const LANGUAGES = ['en', 'pt-BR', 'es'] as const
const caller = { actor: 'kim', roles: ['key-custodian'] as AdminRole[] }
const PEOPLE = [
  { name: 'Ana Souza', role: 'administrator', passphrase: 'ana passphrase' },
  { name: 'Carlos Méndez', role: 'custodian', passphrase: 'carlos passphrase' },
  { name: 'Lucía Fernández', role: 'custodian', passphrase: 'lucia passphrase' },
  { name: 'Wagner Lima', role: 'witness', passphrase: 'wagner passphrase' },
] as const
const CARLOS = { participant: 'carlos-m-ndez', passphrase: 'carlos passphrase' }
const LUCIA = { participant: 'luc-a-fern-ndez', passphrase: 'lucia passphrase' }

/** What each language's screens must say (from the catalogues the GUI ships). */
const EXPECT = {
  en: { diagnostics: 'Diagnostics', sixHours: '6 hours', legend: 'Succeeded', audit: 'Audit log', refused: 'Refused', twice: 'Carlos Méndez confirmed twice', sealed: 'Ceremony complete' },
  'pt-BR': {
    diagnostics: 'Diagnóstico', sixHours: '6 horas', legend: 'Com sucesso', audit: 'Log de auditoria', refused: 'Recusado', twice: 'Carlos Méndez confirmou duas vezes',
    sealed: 'Cerimônia concluída',
  },
  es: {
    diagnostics: 'Diagnóstico', sixHours: '6 horas', legend: 'Con éxito', audit: 'Registro de auditoría', refused: 'Rechazado', twice: 'Carlos Méndez confirmó dos veces',
    sealed: 'Ceremonia terminada',
  },
} as const

describe.skipIf(missing !== undefined)('translated screens in Chromium at 1 024 px', () => {
  let dir: string
  let token: SoftHsmToken
  let server: SecurityServer
  let browser: BrowserContext
  let page: Page
  let baseUrl: string
  const consoleErrors: string[] = []

  async function call<T>(method: string, input: unknown): Promise<T> {
    const result = (await server.admin.call(caller, 'ceremony', method, [input])) as IpcResult<T>
    if (!result.ok) throw new Error(`ceremony.${method}: ${result.error.code} ${result.error.message}`)
    return result.value
  }

  async function ceremonyWithPeople(title: string): Promise<string> {
    const { id } = await call<CeremonySummary>('create', { title, kind: 'key' })
    for (const person of PEOPLE) await call('addParticipant', { id, ...person })
    await call('checkOffline', { id })
    return id
  }

  async function shoot(name: string): Promise<void> {
    await page.evaluate('window.scrollTo(0, 0)')
    expect(await page.evaluate('document.documentElement.scrollWidth'), name).toBeLessThanOrEqual(WIDTH)
    // Badges keep their whole word: none is narrower than its text.
    const clipped = await page.evaluate("[...document.querySelectorAll('.mantine-Badge-label')].filter((el) => el.scrollWidth > el.clientWidth + 1).map((el) => el.textContent)")
    expect(clipped, name).toEqual([])
    // …and none runs past the card it is in.
    const overflowing = await page.evaluate(`[...document.querySelectorAll('.mantine-Badge-root')].filter((el) => {
      const card = el.closest('.mantine-Card-root')
      return card !== null && el.getBoundingClientRect().right > card.getBoundingClientRect().right + 1
    }).map((el) => el.textContent)`)
    expect(overflowing, name).toEqual([])
    await page.screenshot({ path: join(SCREENS_DIR, name), fullPage: true })
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-e2e-screens-'))
    token = createSoftHsmToken({ label: 'ceremony-token', pin: PIN })
    const config = parseServerConfig({ internal: { adminPort: 0, clientProxyHttpPort: null, clientProxyHttpsPort: null }, external: { serverProxyPort: null, ocspResponderPort: null }, shutdownGraceMs: 200 }, 'test')
    server = createSecurityServer({ dataDir: join(dir, 'data'), config, logger: silentLogger(), rendererDir: RENDERER_DIR })
    baseUrl = ((await server.start()).find((l) => l.name === 'admin') as { url: string }).url

    // Six hours of exchanges as the proxies record them for operational monitoring, a few of them failed.
    const now = Math.floor(Date.now() / 1000)
    for (let minutesAgo = 350; minutesAgo >= 5; minutesAgo -= 7) {
      const count = 2 + ((minutesAgo * 7) % 9)
      for (let i = 0; i < count; i++) {
        const at = now - minutesAgo * 60 + i
        const succeeded = (minutesAgo + i) % 11 !== 0
        server.core.opMonitor.record({
          monitoringDataTs: at, securityServerType: 'Client', requestInTs: at * 1000, responseOutTs: at * 1000 + 40, succeeded,
          serviceType: 'REST', restMethod: 'GET', ...(succeeded ? { statusCode: 200 } : { faultCode: 'Server.ServerProxy.ServiceFailed', statusCode: 500 }),
        })
      }
    }
    server.core.opMonitor.flush()

    // A ceremony at its key step, with the token logged in and a dual-control refusal recorded; one sealed without a token.
    const waiting = await ceremonyWithPeople('Signing key for LAB/GOV/1234')
    await call('identifyToken', { id: waiting, modulePath: token.module, tokenLabel: 'ceremony-token' })
    await call('login', { id: waiting, pin: PIN })
    const refused = await server.admin.call(caller, 'ceremony', 'generateKey', [{ id: waiting, label: 'sign-1', algorithm: 'ec-p256', confirmations: [CARLOS] }])
    expect(refused.ok).toBe(false)
    const sealed = await ceremonyWithPeople('Training run, software seal')
    await call('seal', { id: sealed, confirmations: [CARLOS, LUCIA] })

    ;({ browser, page } = await openBrowser(join(dir, 'profile'), { consoleErrors, viewport: { width: WIDTH, height: 900 } }))
    await page.goto(baseUrl)
    await createFirstAdministrator(page)
  }, 90_000)

  afterAll(async () => {
    await browser?.close()
    await server?.stop()
    token?.cleanup()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  for (const language of LANGUAGES) {
    it(`shows diagnostics, the audit log and the key ceremony in ${language}`, async () => {
      const words = EXPECT[language]
      await page.evaluate(`localStorage.setItem('gatehouse.language', '${language}')`)
      await page.goto(`${baseUrl}#/diagnostics`)
      await page.reload()
      await page.getByRole('heading', { name: words.diagnostics, level: 2 }).waitFor()
      expect(await page.evaluate('document.documentElement.lang')).toBe(language)
      await page.getByTestId('diagnostic-checks').locator('[data-code]').nth(4).waitFor()
      await page.getByText(words.sixHours, { exact: true }).click()
      await page.locator('.recharts-surface').first().waitFor()
      await page.getByText(words.legend, { exact: true }).first().waitFor()
      await page.waitForTimeout(600)
      await shoot(`diagnostics-${language}.png`)

      await page.goto(`${baseUrl}#/audit`)
      await page.getByRole('heading', { name: words.audit, level: 2 }).waitFor()
      await page.locator('tbody tr').nth(3).waitFor()
      await shoot(`audit-${language}.png`)

      await page.goto(`${baseUrl}#/ceremony`)
      await page.getByRole('button', { name: /Training run, software seal/ }).waitFor()
      await shoot(`ceremony-list-${language}.png`)

      // The waiting ceremony: the same custodian twice, pressed in the GUI, is refused, shown and recorded.
      await page.getByRole('button', { name: /Signing key for LAB\/GOV\/1234/ }).click()
      const selects = page.locator('fieldset select')
      await selects.first().waitFor()
      for (const i of [0, 1]) {
        await selects.nth(i).selectOption(CARLOS.participant)
        await page.locator('fieldset input[type=password]').nth(i).fill(CARLOS.passphrase)
      }
      await page.locator('form:has(fieldset) button[type=submit]').click()
      const alert = page.getByRole('alert').filter({ hasText: words.refused })
      await alert.getByText(words.twice).waitFor()
      await shoot(`ceremony-refused-${language}.png`)

      await page.getByRole('button', { name: /^(All ceremonies|Todas as cerimônias|Todas las ceremonias)$/ }).click()
      await page.getByRole('button', { name: /Training run, software seal/ }).click()
      await page.getByRole('heading', { name: words.sealed }).waitFor()
      await shoot(`ceremony-sealed-${language}.png`)
      await page.getByRole('button', { name: /^(All ceremonies|Todas as cerimônias|Todas las ceremonias)$/ }).click()
      // A refused step answers HTTP 400 (a client fault), which Chromium logs; nothing else may appear.
      expect(consoleErrors.filter((e) => !/status of 400/.test(e))).toEqual([])
    }, 60_000)
  }
})

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type BrowserContext, type Page } from 'playwright-core'
import { memberId } from '@shared/domain/identifiers'
import { createSecurityServer, parseServerConfig, type SecurityServer } from '../../src-main/server'
import { openPostgres, silentLogger, type PostgresDb } from '../../src-main/platform'
import type { ThrowawayPostgres } from '../../scripts/lib/throwaway-postgres'
import { describePostgres } from '../support/postgres'
import { RENDERER_DIR, SCREENS_DIR, createFirstAdministrator, e2eSkipReason, openBrowser } from './support/browser'

/**
 * A secondary node's GUI in Chromium at 1 024 px (issue 18): the read-only banner above the dashboard and the card of
 * the cluster's nodes, in the three languages, with no badge clipped; a configuration change tried there is refused
 * with the reason in the reader's language.
 */
const missing = e2eSkipReason('cluster GUI')
const LANGUAGES = ['en', 'pt-BR', 'es'] as const
const WORDS = {
  en: { banner: 'Secondary node', card: 'Cluster nodes', refusal: 'This is a secondary node of a security server cluster', keepAudit: 'Keep audit-log entries for' },
  'pt-BR': { banner: 'Nó secundário', card: 'Nós do cluster', refusal: 'Este é um nó secundário de um cluster de servidores de segurança', keepAudit: 'Manter entradas do log de auditoria por' },
  es: { banner: 'Nodo secundario', card: 'Nodos del clúster', refusal: 'Este es un nodo secundario de un clúster de servidores de seguridad', keepAudit: 'Conservar entradas del registro de auditoría durante' },
}

const suite = missing === undefined ? describePostgres : (name: string) => describe.skip(`${name} (${missing})`, () => undefined)

suite('cluster: a secondary node in Chromium', (started: () => ThrowawayPostgres) => {
  let dir: string
  let admin: PostgresDb
  let primary: SecurityServer
  let secondary: SecurityServer
  let browser: BrowserContext
  let page: Page
  let baseUrl: string
  const consoleErrors: string[] = []

  const node = (name: string, role: 'primary' | 'secondary', pg: ThrowawayPostgres, adminPort: 0 | null): SecurityServer => createSecurityServer({
    dataDir: join(dir, name),
    config: parseServerConfig({
      internal: { adminPort, clientProxyHttpPort: null, clientProxyHttpsPort: null },
      external: { serverProxyPort: null, ocspResponderPort: null },
      shutdownGraceMs: 100,
      cluster: { node: name, role, postgres: { host: pg.host, port: pg.port, user: pg.user, database: pg.database, schema: 'gui' } },
    }, 'test'),
    logger: silentLogger(),
    ...(adminPort === null ? {} : { rendererDir: RENDERER_DIR }),
  })

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gh-e2e-cluster-'))
    const pg = started()
    admin = openPostgres({ host: pg.host, port: pg.port, user: pg.user, database: pg.database })
    admin.exec('CREATE SCHEMA gui')
    primary = node('ss-primary', 'primary', pg, null)
    await primary.start()
    primary.core.serverConf.initialize(memberId('LAB', 'GOV', '2002'), 'ss-provider')
    secondary = node('ss-secondary', 'secondary', pg, 0)
    const listeners = await secondary.start()
    baseUrl = (listeners.find((l) => l.name === 'admin') as { url: string }).url
    ;({ browser, page } = await openBrowser(join(dir, 'profile'), { consoleErrors, viewport: { width: 1024, height: 900 } }))
    await page.goto(baseUrl)
    await createFirstAdministrator(page)
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
    await secondary?.stop()
    await primary?.stop()
    admin?.close()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  for (const language of LANGUAGES) {
    it(`shows the banner and both nodes on the secondary's dashboard in ${language}`, async () => {
      await page.evaluate(`localStorage.setItem('gatehouse.language', '${language}')`)
      await page.goto(`${baseUrl}#/dashboard`)
      await page.reload()
      await page.getByTestId('secondary-banner').getByText(WORDS[language].banner, { exact: true }).waitFor()
      const table = page.getByRole('table', { name: WORDS[language].card })
      await table.getByTestId('cluster-node-ss-primary').waitFor()
      await table.getByTestId('cluster-node-ss-secondary').waitFor()
      const clipped = await page.evaluate(`[...document.querySelectorAll('.mantine-Badge-label')].filter((el) => el.scrollWidth > el.clientWidth + 1).map((el) => el.textContent)`)
      expect(clipped, language).toEqual([])
      await page.screenshot({ path: join(SCREENS_DIR, `cluster-secondary-dashboard-${language}.png`), fullPage: true })
    })
  }

  it('refuses a configuration change tried on the secondary, with the reason in the reader\'s language', async () => {
    // The three catalogues carry the text (tests/i18n/catalogs.test.ts); two languages here keep the file short.
    for (const language of ['pt-BR', 'en'] as const) {
      await page.evaluate(`localStorage.setItem('gatehouse.language', '${language}')`)
      await page.goto(`${baseUrl}#/settings`)
      await page.reload()
      const input = page.getByRole('textbox', { name: WORDS[language].keepAudit, exact: true })
      await input.fill('30')
      await input.press('Enter')
      const refusal = page.getByText(WORDS[language].refusal).first()
      await refusal.waitFor()
      await refusal.scrollIntoViewIfNeeded()
      await page.screenshot({ path: join(SCREENS_DIR, `cluster-secondary-refusal-${language}.png`) })
    }
    expect((await primary.admin.settings.list()).find((s) => s.name === 'audit-log.keep-entries-for')?.isDefault).toBe(true)
  })
})

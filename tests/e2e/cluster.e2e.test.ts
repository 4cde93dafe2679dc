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
 * the cluster's nodes, in the three languages, with no badge clipped; the shared configuration shown without its edit
 * actions (X-Road's secondaries hide them), the node's own settings still there.
 */
const missing = e2eSkipReason('cluster GUI')
const LANGUAGES = ['en', 'pt-BR', 'es'] as const
const WORDS = {
  en: { reachable: 'Reachable', banner: 'Secondary node', card: 'Cluster nodes', keepAudit: 'Keep audit-log entries for', save: 'Save', reset: /^Reset /, clients: 'Clients', addClient: 'Add a subsystem' },
  'pt-BR': { reachable: 'Acessível', banner: 'Nó secundário', card: 'Nós do cluster', keepAudit: 'Manter entradas do log de auditoria por', save: 'Salvar', reset: /^Restaurar /, clients: 'Clientes', addClient: 'Adicionar um subsistema' },
  es: { reachable: 'Accesible', banner: 'Nodo secundario', card: 'Nodos del clúster', keepAudit: 'Conservar entradas del registro de auditoría durante', save: 'Guardar', reset: /^Restablecer /, clients: 'Clientes', addClient: 'Agregar un subsistema' },
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
      // The Databases card: the shared PostgreSQL, where and reachable (the password is never part of the status).
      const shared = page.getByTestId('shared-database')
      await shared.getByText(WORDS[language].reachable, { exact: true }).waitFor()
      expect(await shared.textContent()).toContain(`:${started().port}/${started().database}`)
      const clipped = await page.evaluate(`[...document.querySelectorAll('.mantine-Badge-label')].filter((el) => el.scrollWidth > el.clientWidth + 1).map((el) => el.textContent)`)
      expect(clipped, language).toEqual([])
      await page.screenshot({ path: join(SCREENS_DIR, `cluster-secondary-dashboard-${language}.png`), fullPage: true })
    })
  }

  for (const language of LANGUAGES) {
    it(`shows the shared configuration read-only on the secondary, without its edit actions, in ${language}`, async () => {
      const words = WORDS[language]
      await page.evaluate(`localStorage.setItem('gatehouse.language', '${language}')`)
      await page.goto(`${baseUrl}#/settings`)
      await page.reload()
      const input = page.getByRole('textbox', { name: words.keepAudit, exact: true })
      await input.waitFor()
      expect(await input.getAttribute('readonly')).not.toBeNull()
      expect(await page.getByRole('button', { name: `${words.save} ${words.keepAudit}` }).count()).toBe(0)
      expect(await page.getByRole('button', { name: words.reset }).count()).toBe(0)
      // A node's own settings stay: the bootstrap file's listeners and maintenance mode.
      await page.getByTestId('network-settings').getByRole('button').first().waitFor()
      await page.screenshot({ path: join(SCREENS_DIR, `cluster-secondary-settings-${language}.png`) })
      await page.goto(`${baseUrl}#/services`)
      await page.getByRole('table', { name: words.clients }).waitFor()
      expect(await page.getByRole('form', { name: words.addClient }).count()).toBe(0)
      await page.screenshot({ path: join(SCREENS_DIR, `cluster-secondary-services-${language}.png`), fullPage: true })
    })
  }
})

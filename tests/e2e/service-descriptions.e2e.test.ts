import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer as createHttpServer, type Server } from 'node:http'
import { createServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type BrowserContext, type Page } from 'playwright-core'
import { ADMIN_ROLES } from '@shared/admin-api/admin-roles'
import type { IpcResult } from '@shared/admin-api/ipc-result'
import type { LabOperationDto, LabStatus, ServiceDescriptionDto } from '@shared/admin-api/admin-api'
import { createSecurityServer, parseServerConfig, type SecurityServer } from '../../src-main/server'
import { silentLogger } from '../../src-main/platform'
import { RENDERER_DIR, SCREENS_DIR, createFirstAdministrator, e2eSkipReason, openBrowser } from './support/browser'

/**
 * Service descriptions in Chromium at 1 024 px on a server that hosts its own lab: a WSDL and an OpenAPI 3 description
 * added by URL from a loopback HTTP server, the WSDL's versioned services shown, the WSDL refreshed after the review of
 * what it adds and removes, then the screen and the review in Portuguese and Spanish.
 */
const missing = e2eSkipReason('service descriptions GUI')
const caller = { actor: 'e2e', roles: ADMIN_ROLES }
const PORTAL = 'SUBSYSTEM:DEMO/GOV/7001/portal'
const FIXTURES = join(__dirname, '..', 'fixtures', 'service-descriptions')

async function freePort(): Promise<number> {
  const probe = createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const port = (probe.address() as { port: number }).port
  await new Promise((resolve) => probe.close(resolve))
  return port
}

describe.skipIf(missing !== undefined)('service descriptions in Chromium', () => {
  let dir: string
  let server: SecurityServer
  let http: Server
  let base: string
  let browser: BrowserContext
  let page: Page
  const consoleErrors: string[] = []
  /** What the loopback server answers per path: the test swaps the WSDL for a new release. */
  const served = new Map<string, string>()
  const wsdlUrl = (): string => `${base}/soap/random.wsdl`
  const openApiUrl = (): string => `${base}/api/openapi.json`

  async function call<T>(domain: string, method: string, ...args: unknown[]): Promise<T> {
    const result = (await server.admin.call(caller, domain, method, args)) as IpcResult<T>
    if (!result.ok) throw new Error(`${domain}.${method}: ${result.error.code} ${result.error.message}`)
    return result.value
  }
  async function labOperation(): Promise<LabOperationDto> {
    for (;;) {
      const op = (await call<LabStatus>('lab', 'status')).operation as LabOperationDto
      if (op.state !== 'running') return op
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-e2e-descriptions-'))
    http = createHttpServer((req, res) => {
      const body = served.get(req.url ?? '')
      res.statusCode = body === undefined ? 404 : 200
      res.end(body ?? 'not found')
    })
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
    base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`
    served.set('/soap/random.wsdl', readFileSync(join(FIXTURES, 'getrandom.wsdl'), 'utf8'))
    served.set('/api/openapi.json', readFileSync(join(FIXTURES, 'petstore.openapi.json'), 'utf8'))

    const dataDir = join(dir, 'data')
    mkdirSync(dataDir)
    const bootstrap = {
      internal: { adminPort: 0, clientProxyHttpPort: null, clientProxyHttpsPort: null },
      external: { serverProxyPort: await freePort(), ocspResponderPort: null },
      shutdownGraceMs: 200,
    }
    writeFileSync(join(dataDir, 'gatehouse.json'), JSON.stringify(bootstrap))
    server = createSecurityServer({ dataDir, config: parseServerConfig(bootstrap, 'test'), logger: silentLogger(), rendererDir: RENDERER_DIR })
    const baseUrl = ((await server.start()).find((l) => l.name === 'admin') as { url: string }).url
    await call('lab', 'create', { instance: 'DEMO', memberClass: 'GOV', memberCode: '7001', memberName: 'Demo Agency', subsystemCode: 'portal', serverCode: 'ss1', softwareTokenPin: 'Descriptions-PIN-4321' })
    const waiting = await labOperation()
    expect(waiting.state, JSON.stringify(waiting.steps)).toBe('awaiting-confirmation')
    await call('lab', 'confirm', { confirmedHash: waiting.anchor?.hash })
    expect((await labOperation()).state).toBe('done')
    ;({ browser, page } = await openBrowser(join(dir, 'profile'), { consoleErrors, viewport: { width: 1024, height: 768 } }))
    await page.goto(baseUrl)
    await createFirstAdministrator(page)
  }, 180_000)

  afterAll(async () => {
    await browser?.close()
    await server?.stop()
    http?.closeAllConnections()
    await new Promise<void>((resolve) => (http ? http.close(() => resolve()) : resolve()))
    rmSync(dir, { recursive: true, force: true })
  })

  it('adds a WSDL and an OpenAPI 3 description by URL and shows their services', async () => {
    await page.getByRole('link', { name: /Clients and services/ }).click()
    await page.getByRole('tab', { name: /^Services/ }).click()
    await page.getByText('WSDL', { exact: true }).first().click()
    const wsdlForm = page.getByRole('form', { name: 'Add a WSDL' })
    await wsdlForm.getByRole('textbox', { name: 'WSDL URL' }).fill(wsdlUrl())
    await wsdlForm.getByRole('button', { name: 'Add WSDL' }).click()
    await wsdlForm.getByRole('status').getByText('WSDL added with 3 services. They are disabled (“Out of order”) until you enable them.').waitFor()
    const card = page.getByRole('region', { name: `WSDL description ${wsdlUrl()}` })
    await card.getByRole('button', { name: 'Show its 3 services' }).click()
    await card.getByRole('region', { name: 'Service getRandom.v1' }).getByText('Random number').waitFor()
    await card.getByRole('region', { name: 'Service helloService.v2' }).waitFor()

    await page.getByText('OpenAPI 3', { exact: true }).first().click()
    const openApiForm = page.getByRole('form', { name: 'Add an OpenAPI 3 description' })
    await openApiForm.getByRole('textbox', { name: 'Service code' }).fill('pets')
    await openApiForm.getByRole('textbox', { name: 'OpenAPI 3 description URL' }).fill(openApiUrl())
    await openApiForm.getByRole('button', { name: 'Add OpenAPI 3 description' }).click()
    await openApiForm.getByRole('status').getByText(/OpenAPI 3 description added with 5 endpoints/).waitFor()
    const openApiCard = page.getByRole('region', { name: `OpenAPI 3 description ${openApiUrl()}` })
    await openApiCard.getByRole('button', { name: 'Show the service (5 endpoints)' }).click()
    await openApiCard.getByRole('table', { name: 'Endpoints of pets' }).getByText('DELETE /pets/*').waitFor()
    await shoot(page, 'service-descriptions-added-en.png')

    const listed = await call<ServiceDescriptionDto[]>('serviceDescriptions', 'list', { client: PORTAL })
    expect(listed.map((d) => [d.type, d.services.length])).toEqual([['WSDL', 3], ['OPENAPI3', 1]])
  })

  it('refreshes the WSDL after showing what it adds and removes, and enables it', async () => {
    served.set('/soap/random.wsdl', readFileSync(join(FIXTURES, 'getrandom-refreshed.wsdl'), 'utf8'))
    await call('accessRights', 'grant', { service: `SERVICE:DEMO/GOV/7001/portal/getRandom;v=v1`, subject: 'DEMO/GOV/7001/portal' })
    await page.reload()
    await page.getByRole('tab', { name: /^Services/ }).click()
    const card = page.getByRole('region', { name: `WSDL description ${wsdlUrl()}` })
    await card.getByRole('button', { name: `Refresh ${wsdlUrl()}` }).click()
    const review = page.getByRole('dialog', { name: `Refresh ${wsdlUrl()}?` })
    await review.getByText('2 services are added:').waitFor()
    await review.getByText('2 services are removed:').waitFor()
    await review.getByText('This access right goes with what is removed: Demo Agency · DEMO/GOV/7001/portal (getRandom.v1).').waitFor()
    await page.waitForTimeout(300)
    await shoot(page, 'service-descriptions-refresh-en.png')
    await review.getByRole('button', { name: 'Apply the changes' }).click()
    await card.getByRole('status').getByText('Refreshed: 4 changes applied.').waitFor()
    await card.getByRole('button', { name: `Enable the services of ${wsdlUrl()}` }).click()
    await card.getByRole('button', { name: `Disable the services of ${wsdlUrl()}` }).waitFor()
    const [wsdl] = await call<ServiceDescriptionDto[]>('serviceDescriptions', 'list', { client: PORTAL })
    expect(wsdl?.disabled).toBe(false)
    expect(wsdl?.services.map((s) => `${s.serviceCode}.${s.serviceVersion}`)).toEqual(['getRandom.v2', 'helloService.v2', 'listPeople.v1'])
    expect(await call<unknown[]>('accessRights', 'matrix')).toEqual([])
    expect(consoleErrors).toEqual([])
  })

  for (const [language, texts] of [
    ['pt-BR', { services: /^Serviços/, show: 'Mostrar seus 3 serviços', refresh: 'Atualizar {url}', review: 'Atualizar {url}?', cancel: 'Cancelar' }],
    ['es', { services: /^Servicios/, show: 'Mostrar sus 3 servicios', refresh: 'Actualizar {url}', review: '¿Actualizar {url}?', cancel: 'Cancelar' }],
  ] as const) {
    it(`shows the descriptions and the refresh review in ${language} at 1 024 px without cut-off words`, async () => {
      // The first release again, so that a refresh has something to review (and is cancelled).
      served.set('/soap/random.wsdl', readFileSync(join(FIXTURES, 'getrandom.wsdl'), 'utf8'))
      await page.evaluate(`localStorage.setItem('gatehouse.language', '${language}')`)
      await page.reload()
      await page.getByRole('tab', { name: texts.services }).click()
      const card = page.getByRole('region', { name: new RegExp(wsdlUrl().replace(/[.?]/g, '\\$&')) })
      await card.getByRole('button', { name: texts.show }).click()
      await page.waitForTimeout(300)
      await shoot(page, `service-descriptions-${language}.png`)
      await card.getByRole('button', { name: texts.refresh.replace('{url}', wsdlUrl()) }).click()
      const review = page.getByRole('dialog', { name: texts.review.replace('{url}', wsdlUrl()) })
      await review.waitFor()
      await page.waitForTimeout(300)
      await shoot(page, `service-descriptions-refresh-${language}.png`)
      await review.getByRole('button', { name: texts.cancel }).click()
      await review.waitFor({ state: 'detached' })
      expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(1024)
      expect(consoleErrors).toEqual([])
    })
  }
})

/** A full-page screenshot from the top (a scrolled page repeats the fixed header in the image). */
async function shoot(page: Page, name: string): Promise<void> {
  await page.evaluate('window.scrollTo(0, 0)')
  await page.screenshot({ path: join(SCREENS_DIR, name), fullPage: true })
}

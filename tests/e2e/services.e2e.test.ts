import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type BrowserContext, type Page } from 'playwright-core'
import { ADMIN_ROLES } from '@shared/admin-api/admin-roles'
import type { IpcResult } from '@shared/admin-api/ipc-result'
import type { GlobalServerDto, LabOperationDto, LabStatus } from '@shared/admin-api/admin-api'
import { createSecurityServer, parseServerConfig, type SecurityServer } from '../../src-main/server'
import { silentLogger } from '../../src-main/platform'
import { RENDERER_DIR, SCREENS_DIR, createFirstAdministrator, e2eSkipReason, openBrowser } from './support/browser'
import { freePortPair } from '../integration/lab-pair'

/**
 * The Clients and services screen in Chromium at 1 024 px on a server that hosts its own lab: a subsystem added from
 * the global-configuration picker and registered (the lab approves at once), a service added and edited, an endpoint,
 * an access right granted with the pickers and revoked through the confirm dialog, the service deleted — then the
 * screen in Portuguese and Spanish.
 */
const missing = e2eSkipReason('clients and services GUI')
const caller = { actor: 'e2e', roles: ADMIN_ROLES }
const BILLING = 'DEMO/GOV/7001/billing'
const SUCCESSOR = 'DEMO/GOV/8008'

async function freePort(): Promise<number> {
  const probe = createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const port = (probe.address() as { port: number }).port
  await new Promise((resolve) => probe.close(resolve))
  return port
}

describe.skipIf(missing !== undefined)('clients and services in Chromium', () => {
  let dir: string
  let server: SecurityServer
  let browser: BrowserContext
  let page: Page
  let serverProxyPort: number
  const consoleErrors: string[] = []

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
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-e2e-services-'))
    const dataDir = join(dir, 'data')
    mkdirSync(dataDir)
    serverProxyPort = await freePortPair()
    const bootstrap = {
      // The client proxy carries this server's management requests to the management service (pr-mserv §2).
      internal: { host: '127.0.0.1', adminPort: 0, clientProxyHttpPort: await freePort(), clientProxyHttpsPort: null },
      // Peers fetch OCSP responses at the server proxy's port + 77 (X-Road's 5500/5577).
      external: { host: '127.0.0.1', serverProxyPort, ocspResponderPort: serverProxyPort + 77 },
      shutdownGraceMs: 200,
    }
    writeFileSync(join(dataDir, 'gatehouse.json'), JSON.stringify(bootstrap))
    server = createSecurityServer({ dataDir, config: parseServerConfig(bootstrap, 'test'), logger: silentLogger(), rendererDir: RENDERER_DIR })
    const baseUrl = ((await server.start()).find((l) => l.name === 'admin') as { url: string }).url
    await call('lab', 'create', { instance: 'DEMO', memberClass: 'GOV', memberCode: '7001', memberName: 'Demo Agency', subsystemCode: 'portal', serverCode: 'ss1', softwareTokenPin: 'Services-PIN-4321' })
    const waiting = await labOperation()
    expect(waiting.state, JSON.stringify(waiting.steps)).toBe('awaiting-confirmation')
    await call('lab', 'confirm', { confirmedHash: waiting.anchor?.hash })
    expect((await labOperation()).state).toBe('done')
    // This server is the lab's management security server: registrations go as pr-mserv requests through it.
    await call('lab', 'serveManagementServices')
    await call('globalConf', 'refresh')
    ;({ browser, page } = await openBrowser(join(dir, 'profile'), { consoleErrors, viewport: { width: 1024, height: 768 } }))
    await page.goto(baseUrl)
    await createFirstAdministrator(page)
  }, 120_000)

  afterAll(async () => {
    await browser?.close()
    await server?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('adds a subsystem from the global-configuration picker and registers it with a management request: the lab approves', async () => {
    await page.getByRole('link', { name: /Clients and services/ }).click()
    await page.getByRole('heading', { name: 'Clients, services and access rights' }).waitFor()
    const clients = page.getByRole('table', { name: 'Clients' })
    await clients.getByText('DEMO/GOV/7001/portal').waitFor()
    // The member comes from global configuration (the only one is chosen); the subsystem code is new.
    expect(await page.getByRole('combobox', { name: 'Member' }).inputValue()).toBe('Demo Agency · DEMO/GOV/7001')
    await page.getByRole('combobox', { name: 'Subsystem code' }).fill('billing')
    await page.getByRole('button', { name: 'Add subsystem' }).click()
    const row = clients.getByRole('row').filter({ hasText: BILLING })
    await row.getByText('Saved').waitFor()
    await page.getByRole('button', { name: `Register ${BILLING}` }).click()
    await page.getByRole('status').getByText(/Registration request #\d+ for DEMO\/GOV\/7001\/billing sent to the central server/).waitFor()
    const [sent] = await call<Array<{ service: string; subject: string; requestId: number }>>('management', 'requests', { subject: `SUBSYSTEM:${BILLING}` })
    expect(sent).toMatchObject({ service: 'clientReg', requestId: expect.any(Number) })
    await row.getByText(/^Registration in progress — request #\d+, waiting for global configuration$/).waitFor()
    await shoot(page, 'services-clients-progress-en.png')
    // The lab approved at once and signed new configuration; the next download (here at once) lists the client.
    await call('globalConf', 'refresh')
    const servers = await call<GlobalServerDto[]>('globalConf', 'servers')
    expect(servers[0]?.clients).toContain(`SUBSYSTEM:${BILLING}`)
    await page.reload()
    await row.getByText('Registered', { exact: true }).waitFor()
    await shoot(page, 'services-clients-en.png')
  })

  it('offers Make owner for a registered member and neither Disable nor Unregister for the management services\' subsystem', async () => {
    // The lab operator lists a second member on this server; the next download makes it REGISTERED here.
    await call('lab', 'addMember', { memberClass: 'GOV', memberCode: '8008', name: 'Successor Agency' })
    await call('clients', 'add', { client: SUCCESSOR })
    await call('lab', 'addServerClient', { server: 'DEMO/GOV/7001/ss1', client: SUCCESSOR })
    await call('globalConf', 'refresh')
    await page.reload()
    const clients = page.getByRole('table', { name: 'Clients' })
    const successor = clients.getByRole('row').filter({ hasText: SUCCESSOR })
    await successor.getByText('Registered', { exact: true }).waitFor()
    const management = clients.getByRole('row').filter({ hasText: 'DEMO/GOV/7001/MANAGEMENT' })
    await management.getByText(/Provides the management services of the instance/).waitFor()
    expect(await management.getByRole('button', { name: /Disable|Unregister/ }).count()).toBe(0)
    await page.getByRole('button', { name: `Make ${SUCCESSOR} the owner of this server` }).click()
    await page.getByRole('dialog').getByText(/the owner until then, stays a client of this server/).waitFor()
    await page.waitForTimeout(300)
    await shoot(page, 'mgmt-lab-make-owner-en.png')
    await page.keyboard.press('Escape')
    await page.getByRole('dialog').waitFor({ state: 'detached' })
    await shoot(page, 'mgmt-lab-clients-en.png')
  })

  it('sets how the information systems connect and offers this server\'s TLS certificate', async () => {
    await page.getByRole('button', { name: 'Connection and certificates of DEMO/GOV/7001/portal' }).click()
    const dialog = page.getByRole('dialog', { name: 'Connection of DEMO/GOV/7001/portal' })
    await dialog.getByRole('radio', { name: /HTTPS with client certificate/ }).check()
    await page.getByRole('table', { name: 'Clients' }).getByRole('row').filter({ hasText: 'DEMO/GOV/7001/portal' }).getByText('HTTPS with client certificate').waitFor()
    await dialog.getByRole('button', { name: 'Show the certificate' }).click()
    const fingerprint = await dialog.getByTestId('internal-tls-sha256').textContent()
    expect(fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/)
    const download = page.waitForEvent('download')
    await dialog.getByRole('button', { name: 'Download the certificate' }).click()
    expect((await download).suggestedFilename()).toBe('gatehouse-internal-tls.crt')
    expect((await call<Array<{ path: string; isAuthentication: string }>>('clients', 'list')).find((c) => c.path === 'DEMO/GOV/7001/portal')?.isAuthentication).toBe('SSLAUTH')
    await shoot(page, 'services-connection-en.png')
    await dialog.getByRole('button', { name: 'Close' }).first().click()
    await dialog.waitFor({ state: 'detached' })
  })

  it('adds a REST service, edits it and adds an endpoint', async () => {
    await page.getByRole('tab', { name: /^Services/ }).click()
    await page.getByRole('combobox', { name: 'Provider subsystem' }).click()
    await page.getByRole('option', { name: BILLING }).click()
    await page.getByRole('textbox', { name: 'Service code' }).fill('weather')
    await page.getByRole('textbox', { name: 'Service URL' }).fill('http://127.0.0.1:9/api')
    await page.getByRole('button', { name: 'Add service' }).click()
    const card = page.getByRole('region', { name: 'Service weather' })
    await card.getByText('http://127.0.0.1:9/api').waitFor()

    await card.getByRole('button', { name: 'Edit service weather' }).click()
    const dialog = page.getByRole('dialog', { name: 'Edit service weather' })
    await dialog.getByRole('textbox', { name: 'Service URL' }).fill('https://weather.internal/v2')
    await dialog.getByRole('textbox', { name: 'Timeout (seconds)' }).fill('20')
    await dialog.getByRole('checkbox', { name: /Verify the service's TLS certificate/ }).uncheck()
    await dialog.getByRole('button', { name: 'Save' }).click()
    await card.getByText('timeout 20 s').waitFor()
    await card.getByText('TLS certificate not verified').waitFor()
    // The MANAGEMENT subsystem's services (this server serves the management services) are listed too.
    expect((await call<Array<{ serviceCode: string; url: string; sslVerify: boolean }>>('services', 'list', {})).find((x) => x.serviceCode === 'weather')).toMatchObject({ url: 'https://weather.internal/v2', sslVerify: false })

    await card.getByRole('textbox', { name: 'Path' }).fill('/forecast/*')
    await card.getByRole('button', { name: 'Add endpoint' }).click()
    await card.getByRole('table', { name: 'Endpoints of weather' }).getByText('GET /forecast/*').waitFor()
    await shoot(page, 'services-services-en.png')
  })

  it('grants access on the endpoint with the pickers and revokes it after the confirm dialog names who loses access', async () => {
    await page.getByRole('tab', { name: /^Access rights/ }).click()
    const form = page.getByRole('form', { name: 'Grant access' })
    await form.getByRole('combobox', { name: 'Service', exact: true }).click()
    await page.getByRole('option', { name: `weather · ${BILLING}` }).click()
    await form.getByRole('combobox', { name: 'Endpoint' }).click()
    await page.getByRole('option', { name: 'GET /forecast/*' }).click()
    await form.getByRole('combobox', { name: 'Subsystem', exact: true }).click()
    await page.getByRole('option', { name: 'DEMO/GOV/7001/portal' }).click()
    await form.getByRole('button', { name: 'Grant access' }).click()
    const matrix = page.getByRole('table', { name: 'Who may call what' })
    const right = matrix.getByRole('row').filter({ hasText: 'Demo Agency · DEMO/GOV/7001/portal' })
    await right.getByText('GET /forecast/*').waitFor()
    await shoot(page, 'services-access-en.png')

    await right.getByRole('button', { name: 'Revoke access of Demo Agency · DEMO/GOV/7001/portal to weather' }).click()
    const confirm = page.getByRole('dialog', { name: 'Revoke this access right?' })
    await confirm.getByText('Demo Agency · DEMO/GOV/7001/portal loses access to weather (GET /forecast/*).').waitFor()
    await page.waitForTimeout(300)
    await shoot(page, 'services-revoke-en.png')
    await confirm.getByRole('button', { name: 'Revoke' }).click()
    await right.waitFor({ state: 'detached' })
    // What remains are the management services' rights (the security server owners may call them).
    expect((await call<Array<{ serviceCode: string }>>('accessRights', 'matrix')).filter((r) => r.serviceCode === 'weather')).toEqual([])
  })

  it('deletes the service after the dialog names what goes', async () => {
    await call('accessRights', 'grant', { service: `SERVICE:${BILLING}/weather`, subject: 'DEMO/GOV/7001/portal' })
    await page.reload()
    await page.getByRole('tab', { name: /^Services/ }).click()
    const card = page.getByRole('region', { name: 'Service weather' })
    await card.getByRole('button', { name: 'Delete service weather' }).click()
    const confirm = page.getByRole('dialog', { name: 'Delete service weather?' })
    await confirm.getByText('Service weather and its 2 endpoints are deleted.').waitFor()
    await confirm.getByText('This caller loses access: Demo Agency · DEMO/GOV/7001/portal.').waitFor()
    await page.waitForTimeout(300)
    await shoot(page, 'services-delete-service-en.png')
    await confirm.getByRole('button', { name: 'Delete the service' }).click()
    await card.waitFor({ state: 'detached' })
    expect((await call<Array<{ provider: string }>>('services', 'list', {})).filter((x) => x.provider === `SUBSYSTEM:${BILLING}`)).toEqual([])
    expect(consoleErrors).toEqual([])
  })

  it('sends an address change from Settings and shows the authentication certificate\'s registration on the Keys page, in three languages', async () => {
    await page.getByRole('link', { name: /^Settings/ }).click()
    const card = page.getByTestId('central-server')
    await card.getByText(/^Address: 127\.0\.0\.1:\d+$/).waitFor()
    await card.getByRole('textbox', { name: /New address/ }).fill('ss1.demo.internal')
    await card.getByRole('button', { name: 'Change address' }).click()
    await card.getByRole('status').getByText(/^Request #\d+ sent to the central server/).waitFor()
    await card.getByText(/^Address change to ss1\.demo\.internal in progress — request #\d+, waiting for global configuration$/).waitFor()
    expect((await call<Array<{ service: string }>>('management', 'requests', { subject: 'server' }))[0]).toMatchObject({ service: 'addressChange' })
    for (const language of ['en', 'pt-BR', 'es'] as const) {
      await page.evaluate(`localStorage.setItem('gatehouse.language', '${language}')`)
      await page.reload()
      await card.getByText(/request #|solicitação nº|solicitud n\.º/).waitFor()
      await card.scrollIntoViewIfNeeded()
      await card.screenshot({ path: join(SCREENS_DIR, `mgmtgui-settings-${language}.png`) })
    }
    await page.evaluate(`localStorage.setItem('gatehouse.language', 'en')`)
    await page.reload()
    await page.getByRole('link', { name: /^Keys and certificates/ }).click()
    await page.getByRole('button', { name: /^Unregister certificate / }).waitFor()
    await shoot(page, 'mgmtgui-keys-en.png')
    await page.getByRole('link', { name: /Clients and services/ }).click()
  })

  for (const [language, texts] of [
    ['pt-BR', { heading: 'Clientes, serviços e direitos de acesso', services: /^Serviços/, access: /^Direitos de acesso/, groups: /^Grupos locais/, delete: `Excluir ${BILLING}`, makeOwner: `Tornar ${SUCCESSOR} o proprietário deste servidor` }],
    ['es', { heading: 'Clientes, servicios y derechos de acceso', services: /^Servicios/, access: /^Derechos de acceso/, groups: /^Grupos locales/, delete: `Eliminar ${BILLING}`, makeOwner: `Convertir a ${SUCCESSOR} en el propietario de este servidor` }],
  ] as const) {
    it(`shows the screen in ${language} at 1 024 px without cut-off words`, async () => {
      // Something in every tab: a service with an endpoint, a local group, two access rights; the subsystem unregistered.
      if (!(await call<Array<{ provider: string }>>('services', 'list', {})).some((x) => x.provider === `SUBSYSTEM:${BILLING}`)) {
        await call('services', 'add', { client: BILLING, serviceCode: 'weather', url: 'https://weather.internal/v2', timeoutSeconds: 20 })
        await call('services', 'addEndpoint', { service: `SERVICE:${BILLING}/weather`, method: 'GET', path: '/forecast/*' })
        await call('localGroups', 'add', { client: BILLING, groupCode: 'partners', description: 'Partner agencies' })
        await call('localGroups', 'addMember', { client: BILLING, groupCode: 'partners', member: 'DEMO/GOV/7001/portal' })
        await call('accessRights', 'grant', { service: `SERVICE:${BILLING}/weather`, subject: 'LOCALGROUP:partners', endpoint: { method: 'GET', path: '/forecast/*' } })
        await call('accessRights', 'grant', { service: `SERVICE:${BILLING}/weather`, subject: 'DEMO/GOV/7001/portal' })
      }
      if ((await call<Array<{ path: string; state: string }>>('clients', 'list')).find((c) => c.path === BILLING)?.state !== 'DELETION_IN_PROGRESS') {
        await call('management', 'unregisterClient', { client: BILLING })
      }
      await page.evaluate(`localStorage.setItem('gatehouse.language', '${language}')`)
      await page.reload()
      await page.getByRole('heading', { name: texts.heading }).waitFor()
      await page.getByRole('table').getByText(BILLING).waitFor()
      await shoot(page, `services-clients-${language}.png`)
      await page.getByRole('button', { name: texts.delete }).click()
      await page.getByRole('dialog').waitFor()
      await page.waitForTimeout(300)
      await shoot(page, `services-delete-client-${language}.png`)
      await page.keyboard.press('Escape')
      await page.getByRole('dialog').waitFor({ state: 'detached' })
      await page.getByRole('button', { name: texts.makeOwner }).click()
      await page.getByRole('dialog').waitFor()
      await page.waitForTimeout(300)
      await shoot(page, `mgmt-lab-make-owner-${language}.png`)
      await page.keyboard.press('Escape')
      await page.getByRole('dialog').waitFor({ state: 'detached' })
      for (const [tab, name] of [[texts.services, 'services'], [texts.access, 'access'], [texts.groups, 'groups']] as const) {
        await page.getByRole('tab', { name: tab }).click()
        await page.waitForTimeout(200)
        await shoot(page, `services-${name}-${language}.png`)
      }
      // Nothing on the screen is wider than the window: tables wrap or scroll inside their cards.
      expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(1024)
      expect(consoleErrors).toEqual([])
    })
  }

  it('makes DEMO/GOV/8008 the owner: held by the lab until approved, then the running server is DEMO/GOV/8008/ss1', async () => {
    // The new owner signs the request: a signing key and certificate of DEMO/GOV/8008 on this server's token.
    const [token] = await call<Array<{ id: string }>>('tokens', 'list')
    const key = await call<{ id: string }>('keys', 'generate', { tokenId: token?.id, usage: 'sign', algorithm: 'ec-p256', label: 'successor signing' })
    const [ca] = await call<Array<{ name: string }>>('csrs', 'authorities')
    const csr = await call<{ content: string }>('csrs', 'generate', { keyId: key.id, caName: ca?.name, member: SUCCESSOR, format: 'pem' })
    const issued = await call<{ pem: string }>('lab', 'signCsr', { content: csr.content, encoding: 'utf8', usage: 'sign' })
    const cert = await call<{ id: string; state: string }>('certificates', 'import', { content: issued.pem, encoding: 'utf8', member: SUCCESSOR })
    if (cert.state !== 'active') await call('certificates', 'activate', { certId: cert.id })
    for (let i = 0; (await call<Array<{ id: string; ocsp: { status: string } }>>('certificates', 'list')).find((c) => c.id === cert.id)?.ocsp.status !== 'good'; i++) {
      if (i > 100) throw new Error('no good OCSP response for the new signing certificate')
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    // The address change above named a host that does not resolve here; the lab operator puts the reachable one back,
    // so the request reaches the management services this server serves.
    await call('lab', 'setServerAddress', { server: 'DEMO/GOV/7001/ss1', address: `127.0.0.1:${serverProxyPort}` })
    await call('lab', 'setManagementAutoApproval', { ownerChange: false })
    await call('globalConf', 'refresh')
    await page.evaluate(`localStorage.setItem('gatehouse.language', 'en')`)
    await page.reload()
    await page.getByRole('button', { name: `Make ${SUCCESSOR} the owner of this server` }).click()
    await page.getByRole('dialog').getByRole('button', { name: 'Send owner change request' }).click()
    const refusal = page.getByRole('dialog').getByRole('alert')
    await page.getByRole('status').or(refusal).first().waitFor()
    expect(await refusal.count() === 0 ? '' : await refusal.textContent()).toBe('')
    await page.getByRole('status').getByText(/Owner change request #\d+ for DEMO\/GOV\/8008 sent to the central server/).waitFor()
    const successor = page.getByRole('table', { name: 'Clients' }).getByRole('row').filter({ hasText: SUCCESSOR })
    await successor.getByText(/^Becoming the owner — request #\d+, waiting for the central server’s approval and global configuration$/).waitFor()
    await shoot(page, 'mgmt-lab-owner-change-progress-en.png')

    const [held] = (await call<{ requests: Array<{ id: number; type: string; status: string }> }>('lab', 'managementRequests')).requests.filter((r) => r.type === 'ownerChange')
    expect(held).toMatchObject({ status: 'WAITING' })
    await call('lab', 'approveManagementRequest', { id: held?.id })
    await call('globalConf', 'refresh')
    // No restart: the identity follows global configuration on the download.
    expect(await call('initialization', 'status')).toMatchObject({ owner: `MEMBER:${SUCCESSOR}`, serverId: 'SERVER:DEMO/GOV/8008/ss1' })
    await page.reload()
    await successor.getByText('owner', { exact: true }).waitFor()
    // The former owner is a registered member client now, which could become the owner again.
    await page.getByRole('button', { name: 'Make DEMO/GOV/7001 the owner of this server' }).waitFor()
    expect(await page.getByText(/^Becoming the owner/).count()).toBe(0)
    await shoot(page, 'mgmt-lab-owner-changed-en.png')
    // Management requests now speak for the new owner.
    const dry = await call<{ message: { base64: string } }>('management', 'changeAddress', { address: '127.0.0.1', dryRun: true })
    const sender = /<xroad:client[\s\S]*?<\/xroad:client>/.exec(Buffer.from(dry.message.base64, 'base64').toString('utf8'))?.[0]
    expect(sender).toContain('>8008<')
    expect(consoleErrors).toEqual([])
  })
})

/** A full-page screenshot from the top (a scrolled page repeats the fixed header in the image). */
async function shoot(page: Page, name: string): Promise<void> {
  await page.evaluate('window.scrollTo(0, 0)')
  await page.screenshot({ path: join(SCREENS_DIR, name), fullPage: true })
}

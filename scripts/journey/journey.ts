import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core'
import { freePorts } from '../lib/lab-pair'
import { startSampleService, type SampleService } from '../lib/sample-service'

/**
 * The GUI journey of issue 11: a small agency sets up two security servers with nothing but their GUIs and sends a
 * message through them. Two `gatehouse serve` processes start on empty data directories; on A the first administrator
 * creates a lab with the wizard, makes A the lab's management security server ("Serve the management services on this
 * server"), registers a subsystem with a REST service pointing at a sample service by a management request, and gives
 * out the lab anchor; B joins the lab with that anchor, makes keys and CSRs, imports the certificates A's Lab page
 * signed, and registers its authentication certificate (authCertReg) and its client (clientReg through A) with the
 * Register buttons, the lab approving them (issue 13: only management requests, no lab shortcut); each server is restarted from its Settings page and its token logged in from its
 * dashboard; then a real call through B's client proxy to A's service answers 200 and shows in both message logs.
 * No CLI command runs and no process is restarted from outside: the processes started at the beginning are the ones
 * that serve at the end. Screenshots of every step in every language asked for.
 */
export const LANGUAGE_NAMES = { en: 'English', 'pt-BR': 'Português (Brasil)', es: 'Español' } as const
export type JourneyLanguage = keyof typeof LANGUAGE_NAMES

export interface JourneyOptions {
  /** Languages of the screenshots (the journey is driven in English; each step is shot in every language). */
  languages: JourneyLanguage[]
  screensDir: string
  /** Progress lines (step names and times). */
  log?: (line: string) => void
  chromium?: string
  /** Keep the temporary folder (data directories, downloads) for inspection. */
  keep?: boolean
}

export interface JourneyStep {
  name: string
  seconds: number
}

export interface JourneyResult {
  servers: 2
  exchanges_ok: number
  restarts_outside_gui: number
  cli_commands: number
  steps: JourneyStep[]
  screenshots: number
}

const ROOT = resolve(__dirname, '../..')
const BIN = join(ROOT, 'bin', 'gatehouse.js')
const ADMIN_PASSWORD = 'correct horse battery staple'
const PIN_A = 'Lab-Token-8642'
const PIN_B = 'Join-Token-9753'
const PROVIDER = 'LAB/GOV/7001/petstore'
const CONSUMER = 'LAB/COM/8002/client'

/** One `gatehouse serve` process and the browser page administering it. */
interface Server {
  name: 'a' | 'b'
  child: ChildProcess
  /** Every listener list the process announced: the first start and each restart the GUI asked for. */
  readyLines: Array<Array<{ name: string; url: string }>>
  exited: boolean
  log: string[]
  ports: { admin: number; clientProxy: number; serverProxy: number; ocsp: number }
  adminUrl: string
  page: Page
  /** True while the GUI restarts the server: the page's requests are refused meanwhile, and that is expected. */
  restarting: boolean
}

export async function runJourney(options: JourneyOptions): Promise<JourneyResult> {
  const log = options.log ?? (() => undefined)
  const root = mkdtempSync(join(tmpdir(), 'gatehouse-journey-'))
  const files = join(root, 'files')
  mkdirSync(files)
  mkdirSync(options.screensDir, { recursive: true })
  const steps: JourneyStep[] = []
  let screenshots = 0
  let sample: SampleService | undefined
  let browser: BrowserContext | undefined
  const servers: Server[] = []
  const consoleErrors: string[] = []

  /** Runs one step, times it and shoots each server page it names in every language. */
  const step = async (name: string, shots: Server[], work: () => Promise<void>): Promise<void> => {
    const started = Date.now()
    try {
      // The acting administrator's page in front: Chromium throttles the animation frames of a page behind another.
      await shots[0]?.page.bringToFront()
      await work()
    } catch (error) {
      for (const s of shots) await s.page.screenshot({ path: join(options.screensDir, `journey-failed-${name}-${s.name}.png`), fullPage: true }).catch(() => undefined)
      throw new Error(`journey step ${name} failed: ${(error as Error).message}\n${servers.map((s) => `--- ${s.name} log tail:\n${s.log.slice(-15).join('')}`).join('\n')}`)
    }
    const seconds = (Date.now() - started) / 1000
    steps.push({ name, seconds })
    log(`${name.padEnd(28)} ${seconds.toFixed(1).padStart(6)} s`)
    for (const s of shots) screenshots += await shootAll(s.page, options.languages, join(options.screensDir, `journey-${String(steps.length).padStart(2, '0')}-${name}-${s.name}`))
  }

  try {
    const ports = await freePorts(4, 2)
    const [adminA, proxyA, adminB, proxyB] = ports.single as [number, number, number, number]
    const [[spA, ocspA], [spB, ocspB]] = ports.pairs as [[number, number], [number, number]]
    sample = await startSampleService()
    browser = await chromium.launchPersistentContext(join(root, 'profile'), {
      executablePath: options.chromium ?? '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
      ignoreHTTPSErrors: true,
      acceptDownloads: true,
      viewport: { width: 1024, height: 800 },
    })
    const context = browser

    let a!: Server
    let b!: Server
    await step('start-two-servers', [], async () => {
      a = await startServer('a', root, { admin: adminA, clientProxy: proxyA, serverProxy: spA, ocsp: ocspA }, context, consoleErrors)
      b = await startServer('b', root, { admin: adminB, clientProxy: proxyB, serverProxy: spB, ocsp: ocspB }, context, consoleErrors)
      servers.push(a, b)
    })

    await step('a-first-administrator', [a], async () => {
      await createFirstAdministrator(a.page)
    })

    await step('a-create-lab', [a], async () => {
      const page = a.page
      await page.getByRole('button', { name: 'Start the first-run wizard' }).click()
      await page.getByText('Create a lab on this machine', { exact: true }).click()
      await page.getByLabel(/^Member code/).fill('7001')
      await page.getByLabel(/^Member name/).fill('Pet Registry Agency')
      await page.getByLabel(/^Subsystem code/).fill('portal')
      await page.getByLabel(/^Token PIN/).fill(PIN_A)
      await page.getByLabel(/^Repeat token PIN/).fill(PIN_A)
      await page.getByRole('button', { name: 'Create the lab' }).click()
      await page.getByTestId('lab-anchor-hash').waitFor({ timeout: 60_000 })
      await page.getByLabel('I have noted the fingerprint of the lab anchor').check()
      await page.getByRole('button', { name: 'Join the lab' }).click()
      await page.getByRole('heading', { name: 'The lab is ready' }).waitFor({ timeout: 90_000 })
    })

    await step('a-lab-member-for-b', [a], async () => {
      const page = a.page
      await page.getByRole('button', { name: 'Go to the Lab page' }).click()
      await page.getByRole('heading', { name: 'Lab LAB' }).waitFor()
      const form = page.getByRole('form', { name: 'Add a member' })
      await form.getByLabel(/^Member class/).click()
      await page.getByRole('option', { name: /^COM/ }).click()
      await form.getByLabel(/^Member code/).fill('8002')
      await form.getByLabel(/^Member name/).fill('Second Agency')
      await form.getByLabel(/^Subsystem code/).fill('client')
      await form.getByRole('button', { name: 'Add member' }).click()
      await page.getByRole('table', { name: 'Lab members' }).getByText('Second Agency').waitFor()
      await page.getByRole('tab', { name: /^Anchor$/ }).click()
      await download(page, () => page.getByRole('button', { name: 'Download anchor file' }).click(), join(files, 'anchor.xml'))
    })

    await step('a-serves-management-services', [a], async () => {
      const page = a.page
      // A becomes the lab's management security server: client registrations reach the lab as pr-mserv requests.
      await page.getByRole('link', { name: /^Lab/ }).click()
      await page.getByRole('tab', { name: /^Management requests/ }).click()
      await page.getByRole('button', { name: 'Serve the management services on this server' }).click()
      await page.getByRole('button', { name: 'Serve the management services on this server' }).waitFor({ state: 'detached' })
      await downloadNow(page)
    })

    await step('a-subsystem-registered', [a], async () => {
      const page = a.page
      await page.getByRole('link', { name: /Clients and services/ }).click()
      await page.getByRole('heading', { name: 'Clients, services and access rights' }).waitFor()
      await page.getByRole('combobox', { name: 'Subsystem code' }).fill('petstore')
      await page.getByRole('button', { name: 'Add subsystem' }).click()
      const row = page.getByRole('table', { name: 'Clients' }).getByRole('row').filter({ hasText: PROVIDER })
      await row.getByText('Saved').waitFor()
      await page.getByRole('button', { name: `Register ${PROVIDER}` }).click()
      await row.getByText(/^Registration in progress — request #\d+, waiting for global configuration$/).waitFor({ timeout: 30_000 })
      await downloadNow(page)
      await page.getByRole('link', { name: /Clients and services/ }).click()
      await row.getByText('Registered', { exact: true }).waitFor({ timeout: 30_000 })
    })

    await step('a-rest-service', [a], async () => {
      const page = a.page
      await page.getByRole('tab', { name: /^Services/ }).click()
      await page.getByRole('combobox', { name: 'Provider subsystem' }).click()
      await page.getByRole('option', { name: PROVIDER }).click()
      await page.getByRole('textbox', { name: 'Service code' }).fill('pets')
      await page.getByRole('textbox', { name: 'Service URL' }).fill((sample as SampleService).url)
      await page.getByRole('button', { name: 'Add service' }).click()
      await page.getByRole('region', { name: 'Service pets' }).getByText((sample as SampleService).url).waitFor()
    })

    await step('b-first-administrator', [b], async () => {
      await createFirstAdministrator(b.page)
    })

    await step('b-join-with-anchor', [b], async () => {
      const page = b.page
      await page.getByRole('button', { name: 'Start the first-run wizard' }).click()
      await upload(page, page.getByRole('button', { name: 'Upload anchor file…' }), join(files, 'anchor.xml'))
      await page.getByRole('button', { name: 'Check anchor' }).click()
      await page.getByTestId('anchor-hash').waitFor()
      await page.getByLabel('The fingerprint matches the published one').check()
      await page.getByRole('button', { name: 'Continue' }).click()
      await page.getByLabel(/^Owner member/).fill('LAB/COM/8002')
      await page.getByLabel(/^Server code/).fill('SS2')
      await page.getByRole('button', { name: 'Continue' }).click()
      await page.getByLabel(/^Token PIN/).fill(PIN_B)
      await page.getByLabel(/^Repeat token PIN/).fill(PIN_B)
      await page.getByRole('button', { name: 'Join the instance' }).click()
      await page.getByRole('heading', { name: 'This server has joined LAB' }).waitFor({ timeout: 60_000 })
      await page.getByRole('link', { name: /^Global configuration/ }).click()
      await page.getByText('Up to date', { exact: false }).waitFor({ timeout: 60_000 })
    })

    await step('b-keys-and-csrs', [b], async () => {
      const page = b.page
      await page.getByRole('link', { name: /^Keys and certificates/ }).click()
      await page.getByRole('heading', { name: 'Keys and certificates' }).waitFor()
      // Keys are generated on a logged-in token: log in with the PIN chosen when joining.
      const login = page.getByRole('button', { name: /^Log in to token/ })
      await login.or(page.getByText('Logged in', { exact: true })).first().waitFor()
      if (await login.count() > 0) {
        await login.first().click()
        await page.getByRole('dialog').getByLabel('Token PIN').fill(PIN_B)
        await page.getByRole('dialog').getByRole('button', { name: 'Log in' }).click()
        await page.getByRole('dialog').waitFor({ state: 'detached' })
      }
      const generate = page.getByRole('form', { name: 'Generate a key' })
      for (const [usage, label] of [['Signing', 'b-sign'], ['Authentication', 'b-auth']] as const) {
        await generate.getByText(usage, { exact: true }).click()
        await generate.getByLabel('Key label').fill(label)
        await generate.getByRole('button', { name: 'Generate key' }).click()
        await page.getByRole('button', { name: `Request a certificate for key ${label}` }).waitFor()
      }
      for (const label of ['b-sign', 'b-auth']) {
        await page.getByRole('button', { name: `Request a certificate for key ${label}` }).click()
        await download(page, () => page.getByRole('button', { name: 'Generate and save' }).click(), join(files, `${label}.csr`))
        await page.getByRole('button', { name: 'Done' }).click()
        await page.getByRole('dialog').waitFor({ state: 'detached' })
      }
    })

    await step('a-lab-signs-csrs', [a], async () => {
      const page = a.page
      await page.getByRole('link', { name: /^Lab/ }).click()
      await page.getByRole('tab', { name: /^Certificates$/ }).click()
      const form = page.getByRole('form', { name: 'Sign a certificate request' })
      for (const label of ['b-sign', 'b-auth']) {
        await upload(page, form.getByRole('button', { name: 'Choose CSR file…' }), join(files, `${label}.csr`))
        const inspection = page.getByTestId('lab-csr-inspection')
        await inspection.getByRole('button', { name: 'Sign and issue' }).click()
        const issued = page.getByTestId('lab-issued')
        await issued.waitFor()
        await download(page, () => issued.getByRole('button', { name: 'Download PEM' }).click(), join(files, `${label}.pem`))
        await issued.getByRole('button', { name: 'Sign another' }).click()
      }
    })

    await step('b-imports-certificates', [b], async () => {
      const page = b.page
      const importCard = page.getByRole('form', { name: 'Import a certificate' })
      for (const file of ['b-sign.pem', 'b-auth.pem']) await upload(page, importCard.getByRole('button', { name: 'Choose certificate file…' }), join(files, file))
      const certs = page.getByRole('table', { name: 'Certificates' })
      for (const subject of ['C=LAB, O=COM, CN=8002', 'C=LAB, CN=SS2']) await certs.getByText(subject, { exact: false }).first().waitFor()
      const activate = page.getByRole('button', { name: 'Activate certificate C=LAB, O=COM, CN=8002' })
      if (await activate.count() > 0) await activate.click()
      await waitUntil('the signing certificate active', async () => (await certs.getByText('active', { exact: true }).count()) === 1)
    })

    await step('b-registers-auth-certificate', [b], async () => {
      const page = b.page
      // authCertReg straight to the lab's registration address (pr-mserv), signed by B's signing and authentication keys.
      await page.getByRole('button', { name: /^Register certificate C=LAB, CN=SS2/ }).click()
      const form = page.getByRole('form', { name: /^Register C=LAB, CN=SS2/ })
      await form.getByRole('textbox', { name: /Server address/ }).fill(`127.0.0.1:${b.ports.serverProxy}`)
      await form.getByRole('button', { name: 'Send the request' }).click()
      await page.getByRole('status').getByText(/^Registration request #\d+ for C=LAB, CN=SS2/).waitFor({ timeout: 30_000 })
      await page.getByText(/^Request #\d+, waiting for global configuration$/).waitFor()
    })

    await step('a-access-right-for-b', [a], async () => {
      const page = a.page
      // A fresh download shows B's subsystem in the picker.
      await page.getByRole('link', { name: /^Global configuration/ }).click()
      await page.getByRole('button', { name: 'Download now' }).click()
      await page.getByRole('link', { name: /Clients and services/ }).click()
      await page.getByRole('tab', { name: /^Access rights/ }).click()
      const form = page.getByRole('form', { name: 'Grant access' })
      await form.getByRole('combobox', { name: 'Service' }).click()
      await page.getByRole('option', { name: /pets/ }).first().click()
      await form.getByRole('combobox', { name: 'Subsystem', exact: true }).click()
      await page.getByRole('option', { name: CONSUMER }).click()
      await form.getByRole('button', { name: 'Grant access' }).click()
      await page.getByRole('table', { name: 'Who may call what' }).getByRole('row').filter({ hasText: CONSUMER }).first().waitFor()
    })

    await step('b-client-registered', [b], async () => {
      const page = b.page
      await page.getByRole('link', { name: /Clients and services/ }).click()
      await page.getByRole('heading', { name: 'Clients, services and access rights' }).waitFor()
      // The member picker starts at this server's owner.
      await waitUntil('the owner in the member picker', async () => (await page.getByRole('combobox', { name: 'Member' }).inputValue()) === 'Second Agency · LAB/COM/8002')
      await page.getByRole('combobox', { name: 'Subsystem code' }).fill('client')
      await page.getByRole('button', { name: 'Add subsystem' }).click()
      await page.getByRole('link', { name: /^Global configuration/ }).click()
      await page.getByRole('button', { name: 'Download now' }).click()
      await page.getByRole('table', { name: 'Security servers' }).getByRole('row', { name: /LAB\/COM\/8002\/SS2/ }).waitFor({ timeout: 30_000 })
      // B's clientReg goes through B's client proxy to A, the management security server; the lab approves it.
      await page.getByRole('link', { name: /Clients and services/ }).click()
      await page.getByRole('button', { name: `Register ${CONSUMER}` }).click()
      await page.getByRole('status').getByText(/^Registration request #\d+ for /).waitFor({ timeout: 30_000 })
      await page.getByRole('link', { name: /^Global configuration/ }).click()
      await page.getByRole('button', { name: 'Download now' }).click()
      await page.getByRole('link', { name: /Clients and services/ }).click()
      await page.getByRole('table', { name: 'Clients' }).getByRole('row').filter({ hasText: CONSUMER }).getByText('Registered', { exact: true }).waitFor({ timeout: 30_000 })
    })

    for (const server of [a, b]) {
      await step(`${server.name}-restart-from-settings`, [server], async () => {
        await restartFromSettings(server)
      })
      await step(`${server.name}-token-login-on-dashboard`, [server], async () => {
        await logInFromDashboard(server, server.name === 'a' ? PIN_A : PIN_B)
      })
    }

    let exchangesOk = 0
    const queryIds: string[] = []
    await step('exchange-through-both-servers', [], async () => {
      for (let pet = 1; pet <= 3; pet++) {
        const response = await fetch(`http://127.0.0.1:${b.ports.clientProxy}/r1/${PROVIDER}/pets/pets/${pet}`, { headers: { 'X-Road-Client': CONSUMER } })
        const body = await response.text()
        if (response.status !== 200) throw new Error(`call ${pet} answered ${response.status}: ${body}`)
        if (!body.includes(`"id":${pet}`)) throw new Error(`call ${pet} answered an unexpected body: ${body}`)
        queryIds.push(response.headers.get('x-road-id') ?? '')
        exchangesOk++
      }
    })

    for (const server of [b, a]) {
      await step(`${server.name}-message-log-shows-it`, [server], async () => {
        const page = server.page
        await page.getByRole('link', { name: /Message log/ }).click()
        await page.getByRole('heading', { name: 'Message log' }).waitFor()
        const table = page.getByRole('table', { name: 'Logged exchanges' })
        for (const queryId of queryIds) {
          const row = table.locator(`[data-testid="exchange-row"][data-query-id="${queryId}"]`)
          await row.getByText('Success', { exact: true }).waitFor({ timeout: 20_000 })
        }
      })
    }

    const restartsOutsideGui = servers.filter((s) => s.exited).length
    const guiRestarts = servers.reduce((n, s) => n + s.readyLines.length - 1, 0)
    if (guiRestarts !== 2) throw new Error(`expected one restart per server, asked for in the GUI; saw ${guiRestarts}`)
    if (consoleErrors.length > 0) throw new Error(`the browser console had errors: ${consoleErrors.join(' | ')}`)
    return { servers: 2, exchanges_ok: exchangesOk, restarts_outside_gui: restartsOutsideGui, cli_commands: 0, steps, screenshots }
  } finally {
    await browser?.close().catch(() => undefined)
    for (const s of servers) await stopServer(s)
    await sample?.close()
    if (!options.keep) rmSync(root, { recursive: true, force: true })
  }
}

/** `gatehouse serve` on an empty data directory; its listener settings in a file beside it (`--config`). */
/** Global configuration's "Download now": the lab's new configuration here at once, not at the next minute. */
async function downloadNow(page: Page): Promise<void> {
  await page.getByRole('link', { name: /^Global configuration/ }).click()
  const button = page.getByRole('button', { name: 'Download now' })
  await button.click()
  await waitUntil('the download finished', async () => (await button.getAttribute('data-loading')) === null)
}

async function startServer(
  name: 'a' | 'b', root: string, ports: Server['ports'], browser: BrowserContext, consoleErrors: string[],
): Promise<Server> {
  const dataDir = join(root, `data-${name}`)
  mkdirSync(dataDir)
  const configFile = join(root, `gatehouse-${name}.json`)
  writeFileSync(configFile, JSON.stringify({
    internal: { host: '127.0.0.1', adminPort: ports.admin, clientProxyHttpPort: ports.clientProxy, clientProxyHttpsPort: null },
    external: { host: '127.0.0.1', serverProxyPort: ports.serverProxy, ocspResponderPort: ports.ocsp },
    logging: { level: 'info' },
    shutdownGraceMs: 500,
  }, null, 2))
  const child = spawn(process.execPath, [BIN, 'serve', '--data-dir', dataDir, '--config', configFile, '--json'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  const server: Server = { name, child, readyLines: [], exited: false, log: [], ports, adminUrl: `https://127.0.0.1:${ports.admin}/`, page: await browser.newPage(), restarting: false }
  let buffered = ''
  const firstReady = new Promise<void>((resolveReady, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString()
      let newline: number
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline)
        buffered = buffered.slice(newline + 1)
        try {
          const parsed = JSON.parse(line) as { ready?: boolean; listeners?: Array<{ name: string; url: string }> }
          if (parsed.ready === true) {
            server.readyLines.push(parsed.listeners ?? [])
            resolveReady()
          }
        } catch {
          server.log.push(`${line}\n`)
        }
      }
    })
    child.stderr?.on('data', (chunk: Buffer) => server.log.push(chunk.toString()))
    child.once('exit', (code) => {
      server.exited = true
      reject(new Error(`gatehouse serve (${name}) exited with ${code}: ${server.log.join('').slice(-2000)}`))
    })
  })
  await withTimeout(firstReady, 60_000, `gatehouse serve (${name}) to be ready`)
  const page = server.page
  page.setDefaultTimeout(20_000)
  page.on('console', (msg) => {
    // While the server restarts, the browser reports the refused requests of the page's polling; nothing else may fail.
    if (msg.type() === 'error' && !(server.restarting && msg.text().includes('ERR_CONNECTION_REFUSED'))) consoleErrors.push(`${name}: ${msg.text()}`)
  })
  page.on('pageerror', (error) => consoleErrors.push(`${name}: ${error.message}`))
  await page.goto(server.adminUrl)
  return server
}

async function stopServer(server: Server): Promise<void> {
  if (server.exited) return
  const exited = new Promise<void>((done) => server.child.once('exit', () => done()))
  server.child.kill('SIGTERM')
  await withTimeout(exited, 10_000, `gatehouse serve (${server.name}) to stop`).catch(() => server.child.kill('SIGKILL'))
}

async function createFirstAdministrator(page: Page): Promise<void> {
  await page.getByLabel('User name').fill('admin')
  await page.getByLabel(/^Password/).fill(ADMIN_PASSWORD)
  await page.getByLabel('Repeat password').fill(ADMIN_PASSWORD)
  await page.getByRole('button', { name: 'Create administrator and sign in' }).click()
  await page.getByRole('heading', { name: 'Dashboard' }).waitFor()
}

/** Settings → Restart now → confirm; the page waits for the new server and says so. */
async function restartFromSettings(server: Server): Promise<void> {
  const page = server.page
  const restartsBefore = server.readyLines.length
  await page.getByRole('link', { name: /^Settings/ }).click()
  const card = page.getByTestId('restart-any')
  await card.getByRole('button', { name: 'Restart now' }).click()
  server.restarting = true
  try {
    await page.getByRole('dialog', { name: 'Restart the security server?' }).getByRole('button', { name: 'Restart now' }).click()
    await page.getByText('The security server has restarted.').waitFor({ timeout: 60_000 })
  } finally {
    server.restarting = false
  }
  if (server.readyLines.length !== restartsBefore + 1) throw new Error(`${server.name} did not announce its restart`)
  if (server.exited) throw new Error(`${server.name}'s process exited instead of restarting in place`)
}

/** After a restart the token is logged out: the dashboard says so and logs it in where the problem is shown. */
async function logInFromDashboard(server: Server, pin: string): Promise<void> {
  const page = server.page
  await page.getByRole('link', { name: /^Dashboard/ }).click()
  const auth = page.getByTestId('readiness-authentication')
  await waitUntil('the dashboard to report the logged-out token', async () => (await auth.getAttribute('data-code')) === 'auth-token-logged-out', 30_000)
  await page.getByRole('button', { name: /^Log in to / }).first().click()
  const dialog = page.getByRole('dialog')
  await dialog.getByLabel('PIN').fill(pin)
  await dialog.getByRole('button', { name: 'Log in' }).click()
  await dialog.waitFor({ state: 'detached' })
  await waitUntil('messages to be able to flow', async () => {
    await page.getByRole('button', { name: 'Refresh' }).click()
    return (await page.getByTestId('traffic-ready').textContent())?.startsWith('Yes') === true
  }, 60_000)
}

/** Shoots the page in every language by switching the language in the header (the page keeps its state). */
async function shootAll(page: Page, languages: JourneyLanguage[], base: string): Promise<number> {
  await page.waitForTimeout(300)
  for (const language of languages) {
    await chooseLanguage(page, language)
    await page.evaluate('window.scrollTo(0, 0)')
    await page.screenshot({ path: `${base}-${language}.png`, fullPage: true })
  }
  await chooseLanguage(page, 'en')
  return languages.length
}

async function chooseLanguage(page: Page, language: JourneyLanguage): Promise<void> {
  const select = page.getByRole('textbox', { name: /^(Language|Idioma)$/ }).or(page.getByRole('combobox', { name: /^(Language|Idioma)$/ })).first()
  if ((await select.inputValue()) === LANGUAGE_NAMES[language]) return
  await select.click()
  await page.getByRole('option', { name: LANGUAGE_NAMES[language], exact: true }).click()
  // Polled with page.evaluate: a string predicate in waitForFunction is eval'ed in the page once it has to poll, which
  // the GUI's Content Security Policy (no 'unsafe-eval') refuses.
  const deadline = Date.now() + 30_000
  while ((await page.evaluate('document.documentElement.lang')) !== language) {
    if (Date.now() > deadline) throw new Error(`the GUI did not switch to ${language} within 30 s`)
    await page.waitForTimeout(50)
  }
  await page.waitForTimeout(200)
}

async function download(page: Page, click: () => Promise<unknown>, path: string): Promise<void> {
  const [file] = await Promise.all([page.waitForEvent('download'), click()])
  await file.saveAs(path)
  if (!existsSync(path) || readFileSync(path).length === 0) throw new Error(`the download to ${path} is empty`)
}

async function upload(page: Page, button: Locator, path: string): Promise<void> {
  const [chooser] = await Promise.all([page.waitForEvent('filechooser'), button.click()])
  await chooser.setFiles(path)
}

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolveWait) => setTimeout(resolveWait, 250))
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms)
    promise.then((value) => {
      clearTimeout(timer)
      resolvePromise(value)
    }, (error: unknown) => {
      clearTimeout(timer)
      reject(error as Error)
    })
  })
}

import 'reflect-metadata'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type BrowserContext, type Download, type Page } from 'playwright-core'
import { memberId } from '@shared/domain/identifiers'
import { createSecurityServer, parseServerConfig, type SecurityServer } from '../../src-main/server'
import { silentLogger } from '../../src-main/platform'
import { initLab, openLab } from '../../src-main/lab'
import { parseTranscript, verifyTranscript } from '../../src-main/ceremony'
import { createSoftHsmToken, type SoftHsmToken } from '../support/softhsm'
import { SOFTHSM } from '../support/requirements'
import { RENDERER_DIR, SCREENS_DIR, createFirstAdministrator, e2eSkipReason, openBrowser } from './support/browser'

/**
 * The ceremony wizard in Chromium against a headless server and a SoftHSM2 token: participants, offline check,
 * token, login, a key step refused for lack of a second person (shown and recorded), the key, the CSR saved with
 * its QR code, the certificate issued by a lab CA and imported, the seal, and the verified transcript and report.
 */
const missing = e2eSkipReason('ceremony', [SOFTHSM])

const PIN = 'ceremony-PIN-2468'
const PEOPLE = [
  { name: 'Ada Admin', role: 'administrator', passphrase: 'ada passphrase' },
  { name: 'Carl Custodian', role: 'custodian', passphrase: 'carl passphrase' },
  { name: 'Cleo Custodian', role: 'custodian', passphrase: 'cleo passphrase' },
  { name: 'Wes Witness', role: 'witness', passphrase: 'wes passphrase' },
]

describe.skipIf(missing !== undefined)('ceremony wizard in Chromium', () => {
  let dir: string
  let token: SoftHsmToken
  let server: SecurityServer
  let browser: BrowserContext
  let page: Page
  const consoleErrors: string[] = []

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-e2e-ceremony-'))
    token = createSoftHsmToken({ label: 'ceremony-token', pin: PIN })
    const config = parseServerConfig({ internal: { adminPort: 0, clientProxyHttpPort: null, clientProxyHttpsPort: null }, external: { serverProxyPort: null, ocspResponderPort: null }, shutdownGraceMs: 200 }, 'test')
    server = createSecurityServer({ dataDir: join(dir, 'data'), config, logger: silentLogger(), rendererDir: RENDERER_DIR })
    const baseUrl = ((await server.start()).find((l) => l.name === 'admin') as { url: string }).url
    ;({ browser, page } = await openBrowser(join(dir, 'profile'), { consoleErrors }))
    await page.goto(baseUrl)
    await createFirstAdministrator(page)
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
    await server?.stop()
    token?.cleanup()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  async function confirm(first: string, second: string): Promise<void> {
    const passphrase = (name: string) => PEOPLE.find((p) => p.name === name)?.passphrase ?? ''
    await page.getByLabel('First person', { exact: true }).selectOption({ label: `${first} (${first === 'Ada Admin' ? 'ceremony administrator' : 'key custodian'})` })
    await page.getByLabel("First person's passphrase").fill(passphrase(first))
    await page.getByLabel('Second person', { exact: true }).selectOption({ label: `${second} (${second === 'Ada Admin' ? 'ceremony administrator' : 'key custodian'})` })
    await page.getByLabel("Second person's passphrase").fill(passphrase(second))
  }

  async function download(click: () => Promise<void>): Promise<Download> {
    const next = page.waitForEvent('download')
    await click()
    return next
  }

  it('walks a key ceremony from the participants to the sealed, verified transcript', async () => {
    await page.getByRole('link', { name: /Key ceremony/ }).click()
    await page.getByRole('heading', { name: 'Key ceremony', exact: true }).waitFor()
    await page.getByLabel('Ceremony title').fill('Signing key for LAB/GOV/1234')
    await page.getByRole('button', { name: 'Start ceremony' }).click()
    await page.getByRole('heading', { name: 'Step 1 of 8: Register the participants' }).waitFor()

    for (const person of PEOPLE) {
      await page.getByLabel('Full name').fill(person.name)
      await page.getByLabel('Role').selectOption(person.role)
      await page.getByLabel('Their passphrase').fill(person.passphrase)
      await page.getByLabel('Repeat the passphrase').fill(person.passphrase)
      await page.getByRole('button', { name: 'Add participant' }).click()
      await page.getByRole('table', { name: 'Participants' }).getByText(person.name).waitFor()
    }
    await page.getByRole('button', { name: 'Participants complete: check the machine is offline' }).click()

    await page.getByRole('heading', { name: 'Step 3 of 8: Identify the token' }).waitFor()
    await page.getByLabel('PKCS#11 module').fill(token.module)
    await page.getByLabel('Token label').fill('ceremony-token')
    await page.getByRole('button', { name: 'Identify token' }).click()

    await page.getByRole('heading', { name: 'Step 4 of 8: Log in to the token' }).waitFor()
    await page.getByLabel('PIN of token ceremony-token').fill(PIN)
    await page.getByRole('button', { name: 'Log in' }).click()

    // Dual control: the same custodian twice is refused, shown plainly, and recorded in the transcript.
    await page.getByRole('heading', { name: 'Step 5 of 8: Generate the key pair' }).waitFor()
    await confirm('Carl Custodian', 'Carl Custodian')
    await page.getByRole('button', { name: 'Generate key pair' }).click()
    const refusal = page.getByRole('alert').filter({ hasText: 'Refused' })
    await refusal.getByText(/Carl Custodian confirmed twice/).waitFor()
    await refusal.getByText(/recorded in the transcript as step \d+/).waitFor()
    await page.getByRole('region', { name: 'Recorded steps' }).getByText('refused').first().waitFor()
    await page.screenshot({ path: join(SCREENS_DIR, 'ceremony-refused.png'), fullPage: true })

    await confirm('Carl Custodian', 'Cleo Custodian')
    await page.getByRole('button', { name: 'Generate key pair' }).click()

    await page.getByRole('heading', { name: 'Step 6 of 8: Create the certificate request' }).waitFor()
    await page.getByLabel('Member').fill('LAB:GOV:1234')
    await confirm('Cleo Custodian', 'Ada Admin')
    await page.getByRole('button', { name: 'Create request' }).click()

    await page.getByRole('heading', { name: 'Step 7 of 8: Import the issued certificate' }).waitFor()
    await page.getByAltText('QR code of the certificate request').waitFor()
    const saved: Download[] = []
    const both = new Promise<void>((done) => {
      const onDownload = (d: Download): void => {
        saved.push(d)
        if (saved.length === 2) {
          page.off('download', onDownload)
          done()
        }
      }
      page.on('download', onDownload)
    })
    await page.getByRole('button', { name: 'Save request and QR code' }).click()
    await both
    const byName = new Map(saved.map((d) => [d.suggestedFilename(), d]))
    const csrPem = readFileSync((await byName.get('sign-1.csr.pem')?.path()) ?? '', 'utf8')
    expect(csrPem).toContain('-----BEGIN CERTIFICATE REQUEST-----')
    expect(readFileSync((await byName.get('sign-1.csr.pem.qr.png')?.path()) ?? '').subarray(1, 4).toString()).toBe('PNG')

    // The CA (here a lab CA on another "machine") signs the request read from the removable media.
    const labDir = join(dir, 'lab')
    await initLab(labDir, { instance: 'LAB' })
    const lab = openLab(labDir)
    lab.addMember(memberId('LAB', 'GOV', '1234'), 'Government 1234')
    const issued = await lab.issueCertificate(Buffer.from(csrPem), 'sign')
    lab.close()
    await page.getByLabel('Issued certificate (PEM)').fill(issued.pem)
    await page.getByLabel('CA certificate or chain (PEM)').fill(readFileSync(join(labDir, 'ca.pem'), 'utf8'))
    await page.getByRole('button', { name: 'Verify and import' }).click()

    await page.getByRole('heading', { name: 'Step 8 of 8: Seal the transcript' }).waitFor()
    await confirm('Carl Custodian', 'Cleo Custodian')
    await page.getByRole('button', { name: 'Seal the transcript' }).click()

    await page.getByRole('heading', { name: 'Ceremony complete' }).waitFor()
    expect(await page.getByTestId('transcript-verdict').textContent()).toBe('Verified')
    expect((await page.getByTestId('seal-fingerprint').textContent())?.replace(/\s/g, '')).toMatch(/^[0-9a-f]{64}$/)
    await page.evaluate('window.scrollTo(0, 0)')
    await page.screenshot({ path: join(SCREENS_DIR, 'ceremony.png'), fullPage: true })

    const report = await download(() => page.getByRole('button', { name: 'Download report (HTML)' }).click())
    const html = readFileSync((await report.path()) ?? '', 'utf8')
    expect(html).toContain('Verified: the chain of entries is intact')
    expect(html).toContain('Wes Witness, witness — signature and date')
    const transcriptFile = await download(() => page.getByRole('button', { name: 'Download transcript (JSON)' }).click())
    const transcript = parseTranscript(readFileSync((await transcriptFile.path()) ?? '', 'utf8'))
    expect(verifyTranscript(transcript)).toMatchObject({ valid: true, sealed: true })
    expect(transcript.entries.map((e) => `${e.step}:${e.outcome}`)).toEqual(expect.arrayContaining(['generate-key:refused', 'generate-key:done', 'create-csr:done', 'import-certificate:done', 'prepare-seal:done']))
    expect(JSON.stringify(transcript)).not.toContain(PIN)
    // The refused key step answers HTTP 400 (a client fault), which Chromium logs; nothing else may appear.
    expect(consoleErrors.filter((e) => !/status of 400/.test(e))).toEqual([])
  }, 90_000)
})

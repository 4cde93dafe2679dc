import 'reflect-metadata'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type BrowserContext, type Page } from 'playwright-core'
import type { BackupCreatedDto } from '@shared/admin-api/admin-api'
import { ADMIN_ROLES } from '@shared/admin-api/admin-roles'
import type { IpcResult } from '@shared/admin-api/ipc-result'
import { createSecurityServer, loadServerConfig, parseServerConfig, superviseSecurityServer, type SecurityServer, type Supervisor } from '../../src-main/server'
import { silentLogger } from '../../src-main/platform'
import { startLabPair, type LabPair } from '../integration/lab-pair'
import { RENDERER_DIR, SCREENS_DIR, createFirstAdministrator, e2eSkipReason, openBrowser } from './support/browser'

/**
 * Backup and restore and the audit chain in Chromium at 1 024 px, in English, Portuguese and Spanish: the Backup and
 * restore card (a backup made from the GUI, the schedule passphrase set), the audit log's chain verified intact and,
 * with one entry changed in the database, tampered with; then a fresh server under its supervisor restores the backup
 * of a lab-pair provider from its first-run page — a wrong passphrase refused with nothing changed, the right one
 * restored — restarts by itself and asks to sign in with the restored server's account and identity.
 */
const missing = e2eSkipReason('backup and restore')

const WIDTH = 1024
const LANGUAGES = ['en', 'pt-BR', 'es'] as const
const PASSPHRASE = 'e2e backup passphrase 2026'
const RESTORED_ADMIN = { username: 'provider-admin', password: 'Provider admin password 42' }

const WORDS = {
  en: { settings: 'Settings', backup: 'Backup and restore', audit: 'Audit log', verify: 'Verify the chain', intact: 'The audit log is intact', broken: 'The audit log has been tampered with',
    mode: 'Restore from a backup', passphrase: 'Passphrase of the backup', restore: 'Restore', wrong: 'The passphrase is not the one this backup was made with. Nothing was changed.' },
  'pt-BR': { settings: 'Configurações', backup: 'Backup e Restauração', audit: 'Log de auditoria', verify: 'Verificar a cadeia', intact: 'O log de auditoria está íntegro',
    broken: 'O log de auditoria foi adulterado', mode: 'Restaurar de um backup', passphrase: 'Frase secreta do backup', restore: 'Restaurar',
    wrong: 'A frase secreta não é aquela com que este backup foi feito. Nada foi alterado.' },
  es: { settings: 'Ajustes', backup: 'Copia de seguridad y restauración', audit: 'Registro de auditoría', verify: 'Verificar la cadena', intact: 'El registro de auditoría está íntegro',
    broken: 'El registro de auditoría ha sido manipulado', mode: 'Restaurar desde una copia de seguridad', passphrase: 'Frase de contraseña de la copia', restore: 'Restaurar',
    wrong: 'La frase de contraseña no es con la que se hizo esta copia. No se cambió nada.' },
} as const

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port
      server.close(() => resolve(port))
    })
  })
}

describe.skipIf(missing !== undefined)('backup and restore, audit chain: GUI in Chromium at 1 024 px', () => {
  let dir: string
  let server: SecurityServer
  let pair: LabPair
  let backupFile: string
  let browser: BrowserContext
  let page: Page
  let baseUrl: string
  const consoleErrors: string[] = []

  async function shoot(name: string): Promise<void> {
    await page.evaluate('window.scrollTo(0, 0)')
    expect(await page.evaluate('document.documentElement.scrollWidth'), name).toBeLessThanOrEqual(WIDTH)
    const clipped = await page.evaluate("[...document.querySelectorAll('.mantine-Badge-label, .mantine-SegmentedControl-label')].filter((el) => el.scrollWidth > el.clientWidth + 1).map((el) => el.textContent)")
    expect(clipped, name).toEqual([])
    await page.screenshot({ path: join(SCREENS_DIR, name), fullPage: true })
  }

  async function inLanguage(language: string, route: string): Promise<void> {
    await page.evaluate(`localStorage.setItem('gatehouse.language', '${language}')`)
    await page.goto(`${baseUrl}#/${route}`)
    await page.reload()
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-e2e-backup-'))
    const config = parseServerConfig({ internal: { adminPort: 0, clientProxyHttpPort: null, clientProxyHttpsPort: null }, external: { serverProxyPort: null, ocspResponderPort: null }, shutdownGraceMs: 200 }, 'test')
    server = createSecurityServer({ dataDir: join(dir, 'data'), config, logger: silentLogger(), rendererDir: RENDERER_DIR })
    baseUrl = ((await server.start()).find((l) => l.name === 'admin') as { url: string }).url
    ;({ browser, page } = await openBrowser(join(dir, 'profile'), { consoleErrors, viewport: { width: WIDTH, height: 900 } }))
    await page.goto(baseUrl)
    await createFirstAdministrator(page)
  }, 90_000)

  afterAll(async () => {
    await browser?.close()
    await server?.stop()
    await pair?.close()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('makes a backup and sets the schedule passphrase from the Settings page', async () => {
    await inLanguage('en', 'settings')
    const card = page.getByTestId('backup-card')
    await card.getByRole('heading', { name: 'Backup and restore' }).waitFor()
    const now = card.getByRole('form', { name: 'Back up now' })
    await now.getByLabel('Passphrase', { exact: true }).fill(PASSPHRASE)
    await now.getByLabel('Repeat the passphrase').fill(PASSPHRASE)
    await now.getByRole('button', { name: 'Back up now' }).click()
    await card.getByText(/^Backup gatehouse-server-\d{8}T\d{6}Z\.ghbackup made: \d+ files/).waitFor({ timeout: 30_000 })
    const schedule = card.getByRole('form', { name: 'Passphrase for scheduled backups' })
    await schedule.getByLabel('Passphrase for scheduled backups').fill('scheduled passphrase 1')
    await schedule.getByLabel('Repeat it').fill('scheduled passphrase 1')
    await schedule.getByRole('button', { name: 'Save the passphrase' }).click()
    await card.getByText('Scheduled backups use the new passphrase.').waitFor()
    // The first scheduled backup is made at once.
    for (let i = 0; i < 100 && !(await server.admin.system.backups()).backups.some((b) => b.kind === 'scheduled'); i++) await page.waitForTimeout(100)
    expect((await server.admin.system.backups()).backups.map((b) => b.kind)).toEqual(['scheduled', 'manual'])
  }, 60_000)

  for (const language of LANGUAGES) {
    it(`shows the Backup and restore card and the audit chain's verdicts in ${language}`, async () => {
      const words = WORDS[language]
      await inLanguage(language, 'settings')
      await page.getByRole('heading', { name: words.settings, level: 2 }).waitFor()
      const card = page.getByTestId('backup-card')
      await card.getByRole('heading', { name: words.backup }).waitFor()
      await card.locator('tbody tr').nth(1).waitFor()
      await card.scrollIntoViewIfNeeded()
      await shoot(`backup-settings-${language}.png`)
      await card.screenshot({ path: join(SCREENS_DIR, `backup-card-${language}.png`) })

      await page.goto(`${baseUrl}#/audit`)
      await page.getByRole('heading', { name: words.audit, level: 2 }).waitFor()
      await page.getByRole('button', { name: words.verify }).click()
      await page.getByText(words.intact).waitFor()
      await shoot(`audit-verify-${language}.png`)

      // One entry changed behind the server's back: the verdict names it; then it is put back as it was.
      const db = server.core.databases.serverConf
      const original = db.prepare('SELECT actor FROM audit_log WHERE id = 3').get() as { actor: string }
      db.prepare("UPDATE audit_log SET actor = 'mallory' WHERE id = 3").run()
      await page.getByRole('button', { name: words.verify }).click()
      await page.getByText(words.broken).waitFor()
      await shoot(`audit-verify-broken-${language}.png`)
      db.prepare('UPDATE audit_log SET actor = ? WHERE id = 3').run(original.actor)
      expect(consoleErrors).toEqual([])
    }, 60_000)
  }

  describe('restoring on a fresh server from its first-run page', () => {
    let freshDir: string
    let supervisor: Supervisor
    let freshUrl: string

    beforeAll(async () => {
      pair = await startLabPair()
      const provider = pair.provider.server
      await provider.admin.users.add({ ...RESTORED_ADMIN, roles: [...ADMIN_ROLES] })
      const made = (await provider.admin.call({ actor: 'provider-admin', roles: ADMIN_ROLES }, 'system', 'backup', [{ passphrase: PASSPHRASE }])) as IpcResult<BackupCreatedDto>
      if (!made.ok) throw new Error(made.error.message)
      backupFile = join(pair.provider.dataDir, 'backups', made.value.name)

      freshDir = join(dir, 'fresh')
      mkdirSync(freshDir)
      const adminPort = await freePort()
      writeFileSync(join(freshDir, 'gatehouse.json'), JSON.stringify({
        internal: { host: '127.0.0.1', adminPort, clientProxyHttpPort: null, clientProxyHttpsPort: null },
        external: { host: '127.0.0.1', serverProxyPort: null, ocspResponderPort: null }, logging: { level: 'silent' }, shutdownGraceMs: 200,
      }))
      supervisor = await superviseSecurityServer({
        logger: silentLogger(),
        loadConfig: () => loadServerConfig(freshDir),
        create: (config, restart) => createSecurityServer({ dataDir: freshDir, config, logger: silentLogger(), rendererDir: RENDERER_DIR, restart }),
      })
      freshUrl = `https://127.0.0.1:${adminPort}/`
      baseUrl = freshUrl
      await page.evaluate("localStorage.setItem('gatehouse.language', 'en')")
      await page.goto(freshUrl)
      await createFirstAdministrator(page)
    }, 120_000)

    afterAll(async () => {
      await supervisor?.stop()
    })

    for (const language of LANGUAGES) {
      it(`refuses a wrong passphrase with nothing changed, in ${language}`, async () => {
        const words = WORDS[language]
        await inLanguage(language, 'setup')
        await page.getByText(words.mode, { exact: true }).click()
        await page.getByRole('heading', { name: words.mode, level: 2 }).waitFor()
        await page.locator('input[type=file]').setInputFiles(backupFile)
        await page.getByLabel(words.passphrase).fill('not the passphrase')
        await shoot(`backup-restore-${language}.png`)
        await page.getByRole('button', { name: words.restore, exact: true }).click()
        await page.getByText(words.wrong).waitFor({ timeout: 60_000 })
        await shoot(`backup-restore-refused-${language}.png`)
        expect(supervisor.current().core.serverConf.identity()).toBeUndefined()
      }, 90_000)
    }

    it('restores the backup, restarts by itself and asks to sign in to the restored server', async () => {
      await inLanguage('en', 'setup')
      await page.getByText('Restore from a backup', { exact: true }).click()
      await page.locator('input[type=file]').setInputFiles(backupFile)
      await page.getByLabel('Passphrase of the backup').fill(PASSPHRASE)
      const before = supervisor.current()
      await page.getByRole('button', { name: 'Restore', exact: true }).click()
      await page.getByText(/^Restored the backup of LAB\/GOV\/2002\/ss-provider made on/).waitFor({ timeout: 60_000 })
      await shoot('backup-restored-en.png')
      // The page reloads by itself once the restarted server answers: the sign-in page of the restored server.
      await page.getByTestId('login-server-id').getByText('LAB/GOV/2002/ss-provider').waitFor({ timeout: 60_000 })
      expect(supervisor.current()).not.toBe(before)
      await page.getByLabel('User name').fill(RESTORED_ADMIN.username)
      await page.getByLabel(/^Password/).fill(RESTORED_ADMIN.password)
      await page.getByRole('button', { name: 'Sign in' }).click()
      await page.getByRole('heading', { name: 'Dashboard' }).waitFor().catch(async (error: unknown) => {
        await page.screenshot({ path: join(SCREENS_DIR, 'debug-backup-login.png'), fullPage: true })
        throw error
      })
      await shoot('backup-restored-dashboard-en.png')
      const restored = supervisor.current()
      expect(restored.core.serverConf.identity()?.serverId.serverCode).toBe('ss-provider')
      expect((await restored.admin.audit.search({ event: 'system.restore' }))[0]).toMatchObject({ actor: 'admin', outcome: 'success' })
      expect((await restored.admin.audit.verify()).ok).toBe(true)
      // The first administrator of the fresh server is not an account of the restored one.
      expect((await restored.admin.users.list()).map((u) => u.username)).not.toContain('admin')
      // Refused restores answered 400/409; the restart cut connections, and the fresh server's session is not one of the
      // restored server's (401 until the page reloads to its sign-in); nothing else may appear.
      expect(consoleErrors.filter((e) => !/status of (400|401|409)|Failed to fetch|ERR_CONNECTION|net::/.test(e))).toEqual([])
    }, 180_000)
  })
})

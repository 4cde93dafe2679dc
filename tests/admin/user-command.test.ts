import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { findUserByName } from '../../src-main/admin/admin-account-repository'
import { createAdminAccounts, verifyPassword } from '../../src-main/admin'
import { listAuditEntries } from '../../src-main/audit-log'
import { openDatabase, closeDatabase, systemClock, type WritableDb } from '../../src-main/platform'
import { runGatehouseInProcess } from '../support/cli-in-process'

/**
 * `gatehouse user add` and `gatehouse user passwd`, passwords on stdin: the first add as a real process reading a pipe,
 * the other commands in this process through the CLI's own runCli (same exit codes and output, stdin given as input).
 */
const ROOT = resolve(import.meta.dirname, '../..')
const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-user-cli-'))
afterAll(() => rmSync(dataDir, { recursive: true, force: true }))

function spawned(args: string[], input = ''): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, [join(ROOT, 'bin/gatehouse.js'), ...args], { cwd: ROOT, input, encoding: 'utf8', timeout: 20_000 })
  return { status: run.status, stdout: run.stdout, stderr: run.stderr }
}

const gatehouse = (args: string[], input?: string): ReturnType<typeof runGatehouseInProcess> => runGatehouseInProcess(args, input === undefined ? {} : { input })

describe('gatehouse user add', () => {
  it('creates an administrator whose password verifies, without printing it', async () => {
    const password = 'first-admin-passphrase'
    const run = spawned(['user', 'add', '--data-dir', dataDir, '--username', 'root-admin', '--role', 'system-administrator', 'security-officer', '--password-stdin', '--json'], `${password}\n`)
    expect(run.stderr).toBe('')
    expect(run.status).toBe(0)
    expect(JSON.parse(run.stdout)).toMatchObject({ ok: true, user: { username: 'root-admin', roles: ['system-administrator', 'security-officer'] } })
    expect(run.stdout + run.stderr).not.toContain(password)
    const db = openDatabase(join(dataDir, 'serverconf.sqlite'))
    try {
      const row = findUserByName(db, 'root-admin')
      expect(row && (await verifyPassword(password, row.passwordHash))).toBe(true)
    } finally {
      closeDatabase(db)
    }
  })

  it('exits 2 on an unknown role or without --password-stdin, 1 on a taken name', async () => {
    expect((await gatehouse(['user', 'add', '--data-dir', dataDir, '--username', 'x', '--role', 'superuser', '--password-stdin'], 'p')).status).toBe(2)
    expect((await gatehouse(['user', 'add', '--data-dir', dataDir, '--username', 'x'])).status).toBe(2)
    const again = await gatehouse(['user', 'add', '--data-dir', dataDir, '--username', 'root-admin', '--password-stdin'], 'another-long-passphrase')
    expect(again.status).toBe(1)
    expect(again.stderr).toContain('[conflict]')
  })
})

describe('gatehouse user passwd', () => {
  const withDb = async <T>(work: (db: WritableDb) => Promise<T>): Promise<T> => {
    const db = openDatabase(join(dataDir, 'serverconf.sqlite'))
    try {
      return await work(db)
    } finally {
      closeDatabase(db)
    }
  }

  it('sets a new password on a locked-out account, ends its sessions, clears the lockout and records it as done from the CLI', async () => {
    const oldPassword = 'first-admin-passphrase'
    const newPassword = 'a-new-passphrase-after-lockout'
    const session = await withDb(async (db) => {
      const accounts = createAdminAccounts(() => db, systemClock)
      const { token } = await accounts.login('root-admin', oldPassword, '127.0.0.1')
      for (let i = 0; i < 5; i++) await expect(accounts.login('root-admin', `wrong-${i}-password`, '127.0.0.1')).rejects.toMatchObject({ code: 'unauthorized' })
      await expect(accounts.login('root-admin', oldPassword, '127.0.0.1')).rejects.toMatchObject({ code: 'rate_limited' })
      return token
    })
    // The lockout is in the database: a server started afresh over the same data directory still refuses.
    await withDb(async (db) => expect(createAdminAccounts(() => db, systemClock).login('root-admin', oldPassword, '127.0.0.1')).rejects.toMatchObject({ code: 'rate_limited' }))

    const run = await gatehouse(['user', 'passwd', '--data-dir', dataDir, '--username', 'root-admin', '--password-stdin', '--json'], `${newPassword}\n`)
    expect(run.stderr).toBe('')
    expect(run.status).toBe(0)
    expect(JSON.parse(run.stdout)).toEqual({ ok: true, username: 'root-admin', sessionsEnded: true, lockoutCleared: true })
    expect(run.stdout).not.toContain(newPassword)

    await withDb(async (db) => {
      const accounts = createAdminAccounts(() => db, systemClock)
      expect(accounts.authenticateSession(session)).toBeUndefined()
      await expect(accounts.login('root-admin', oldPassword, '127.0.0.1')).rejects.toMatchObject({ code: 'unauthorized' })
      expect((await accounts.login('root-admin', newPassword, '127.0.0.1')).user.username).toBe('root-admin')
      const entry = listAuditEntries(db).find((e) => e.event === 'users.setPassword')
      expect(entry).toMatchObject({ event: 'users.setPassword', outcome: 'success', data: { username: 'root-admin', via: 'cli', lockoutCleared: true } })
      expect(entry?.actor).toMatch(/^cli:/)
      expect(JSON.stringify(listAuditEntries(db))).not.toContain(newPassword)
    })
  })

  it('refuses an unknown user (exit 1) and a password outside the policy (exit 2), both recorded; needs --password-stdin and a data directory', async () => {
    const short = await gatehouse(['user', 'passwd', '--data-dir', dataDir, '--username', 'root-admin', '--password-stdin'], 'short')
    expect(short.status).toBe(2)
    expect(short.stderr).toContain('[validation_failed]')
    const unknown = await gatehouse(['user', 'passwd', '--data-dir', dataDir, '--username', 'nobody', '--password-stdin'], 'a-long-enough-passphrase')
    expect(unknown.status).toBe(1)
    expect(unknown.stderr).toContain('[not_found]')
    expect((await gatehouse(['user', 'passwd', '--data-dir', dataDir, '--username', 'root-admin'])).status).toBe(2)
    expect((await gatehouse(['user', 'passwd', '--data-dir', join(dataDir, 'missing'), '--username', 'root-admin', '--password-stdin'], 'a-long-enough-passphrase')).status).toBe(2)
    await withDb(async (db) => {
      const failures = listAuditEntries(db).filter((e) => e.event === 'users.setPassword' && e.outcome === 'failure')
      expect(failures.map((e) => e.errorCode).sort()).toEqual(['not_found', 'validation_failed'])
    })
  })
})

import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { findUserByName } from '../../src-main/admin/admin-account-repository'
import { verifyPassword } from '../../src-main/admin'
import { openDatabase, closeDatabase } from '../../src-main/platform'

/** `gatehouse user add` run as a real process (tsx), password on stdin. */
const ROOT = resolve(import.meta.dirname, '../..')
const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-user-cli-'))
afterAll(() => rmSync(dataDir, { recursive: true, force: true }))

function gatehouse(args: string[], input = ''): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, [join(ROOT, 'bin/gatehouse.js'), ...args], { cwd: ROOT, input, encoding: 'utf8', timeout: 20_000 })
  return { status: run.status, stdout: run.stdout, stderr: run.stderr }
}

describe('gatehouse user add', () => {
  it('creates an administrator whose password verifies, without printing it', async () => {
    const password = 'first-admin-passphrase'
    const run = gatehouse(['user', 'add', '--data-dir', dataDir, '--username', 'root-admin', '--role', 'system-administrator', 'security-officer', '--password-stdin', '--json'], `${password}\n`)
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

  it('exits 2 on an unknown role or without --password-stdin, 1 on a taken name', () => {
    expect(gatehouse(['user', 'add', '--data-dir', dataDir, '--username', 'x', '--role', 'superuser', '--password-stdin'], 'p').status).toBe(2)
    expect(gatehouse(['user', 'add', '--data-dir', dataDir, '--username', 'x']).status).toBe(2)
    const again = gatehouse(['user', 'add', '--data-dir', dataDir, '--username', 'root-admin', '--password-stdin'], 'another-long-passphrase')
    expect(again.status).toBe(1)
    expect(again.stderr).toContain('[conflict]')
  })
})

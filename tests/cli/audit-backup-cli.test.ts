import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { listAuditEntries } from '../../src-main/audit-log'
import { initLab } from '../../src-main/lab'
import { closeDatabase, openDatabase } from '../../src-main/platform'
import { runGatehouse } from '../support/cli'
import { runGatehouseInProcess } from '../support/cli-in-process'
import { useTempDirs } from '../support/temp-dir'

/**
 * The command line's side of issue 16 items 6 and 7: configuration changes made with the CLI land in the same
 * hash-chained audit log as `cli:<os user>` with before and after; `gatehouse audit verify` exits 1 at a break;
 * `gatehouse backup create` / `gatehouse restore` refuse a wrong passphrase without writing the new data directory.
 * Most commands run in this process through the CLI's own runCli (same exit codes and output, stdin given as input);
 * an `init`, a failing `audit verify` and a `backup create` reading a real pipe run as `gatehouse` processes.
 */
const tempDir = useTempDirs()
const ACTOR = `cli:${userInfo().username}`
const PASSPHRASE = 'cli backup passphrase 24'
let labDir: string

const gatehouse = runGatehouseInProcess

function json(stdout: string): Record<string, unknown> {
  return JSON.parse(stdout.trim().split('\n').at(-1) as string) as Record<string, unknown>
}

let labRoot: string
beforeAll(async () => {
  labRoot = mkdtempSync(join(tmpdir(), 'gatehouse-cli-lab-'))
  labDir = join(labRoot, 'lab')
  await initLab(labDir, { keyAlgorithm: 'ec-p256' })
}, 60_000)

afterAll(() => rmSync(labRoot, { recursive: true, force: true }))

describe('gatehouse audit', () => {
  it('records CLI changes as cli:<os user> with before and after, verifies the chain, and exits 1 when an entry was changed', async () => {
    const dataDir = join(tempDir(), 'data')
    expect(runGatehouse(['init', '--data-dir', dataDir, '--anchor', join(labDir, 'anchor.xml'), '--owner', 'LAB/GOV/1234', '--server-code', 'SS1']).status).toBe(0)
    const added = await gatehouse(['client', 'add', '--data-dir', dataDir, '--client', 'LAB/GOV/1234/SUB'])
    expect(added.status, added.stderr).toBe(0)
    expect((await gatehouse(['client', 'set-is-auth', '--data-dir', dataDir, '--client', 'LAB/GOV/1234/SUB', '--mode', 'SSLNOAUTH'])).status).toBe(0)

    const db = openDatabase(join(dataDir, 'serverconf.sqlite'))
    try {
      const entries = listAuditEntries(db).reverse()
      expect(entries.map((e) => [e.actor, e.event, e.object])).toEqual([
        [ACTOR, 'init', 'LAB/GOV/1234'],
        [ACTOR, 'client.add', 'LAB/GOV/1234/SUB'],
        [ACTOR, 'client.set_is_authentication', 'LAB/GOV/1234/SUB'],
      ])
      expect(entries[2]?.data).toMatchObject({ before: { isAuthentication: 'NOSSL' }, after: { isAuthentication: 'SSLNOAUTH' } })
    } finally {
      closeDatabase(db)
    }

    const good = await gatehouse(['audit', 'verify', '--data-dir', dataDir, '--json'])
    expect(good.status, good.stderr).toBe(0)
    expect(json(good.stdout)).toMatchObject({ ok: true, entries: 3, problem: null, head: { id: 3 } })

    const out = join(tempDir(), 'audit.jsonl')
    expect((await gatehouse(['audit', 'export', '--data-dir', dataDir, '--out', out])).status).toBe(0)
    expect(readFileSync(out, 'utf8').trim().split('\n')).toHaveLength(3)
    expect((await gatehouse(['audit', 'verify', '--file', out])).status).toBe(0)

    const tamper = openDatabase(join(dataDir, 'serverconf.sqlite'))
    tamper.prepare("UPDATE audit_log SET actor = 'someone-else' WHERE id = 2").run()
    closeDatabase(tamper)
    const broken = runGatehouse(['audit', 'verify', '--data-dir', dataDir, '--json'])
    expect(broken.status).toBe(1)
    expect(json(broken.stdout)).toMatchObject({ ok: false, entries: 1, problem: { kind: 'altered', id: 2 } })
    const text = await gatehouse(['audit', 'verify', '--data-dir', dataDir])
    expect(text.status).toBe(1)
    expect(text.stdout).toContain('entry #2 was changed after it was written')
  })

  it("records a lab's changes in the lab's own log", async () => {
    const member = await gatehouse(['lab', 'member', 'add', labDir, 'LAB/GOV/5555', '--name', 'Audited Agency'])
    expect(member.status, member.stderr).toBe(0)
    const verified = await gatehouse(['audit', 'verify', '--lab', labDir, '--json'])
    expect(verified.status, verified.stderr).toBe(0)
    expect(json(verified.stdout)).toMatchObject({ ok: true, entries: 1 })
    const db = openDatabase(join(labDir, 'lab.sqlite'))
    try {
      expect(listAuditEntries(db)[0]).toMatchObject({ actor: ACTOR, event: 'lab.addMember', object: 'LAB/GOV/5555', outcome: 'success', data: { input: { name: 'Audited Agency' } } })
    } finally {
      closeDatabase(db)
    }
  })
})

describe('gatehouse backup and restore', () => {
  it('backs up a data directory and restores it into a new one; a wrong passphrase leaves nothing behind', async () => {
    const dataDir = join(tempDir(), 'data')
    expect((await gatehouse(['init', '--data-dir', dataDir, '--anchor', join(labDir, 'anchor.xml'), '--owner', 'LAB/GOV/1234', '--server-code', 'SS9'])).status).toBe(0)
    const file = join(tempDir(), 'server.ghbackup')
    const made = runGatehouse(['backup', 'create', '--data-dir', dataDir, '--out', file, '--passphrase-stdin', '--json'], { input: `${PASSPHRASE}\n` })
    expect(made.status, made.stderr).toBe(0)
    expect(json(made.stdout)).toMatchObject({ ok: true, file, serverId: 'LAB/GOV/1234/SS9', kind: 'manual' })
    expect((await gatehouse(['backup', 'create', '--data-dir', dataDir, '--passphrase-stdin'], { input: 'short\n' })).status).toBe(2)

    const verified = await gatehouse(['backup', 'verify', '--from', file, '--passphrase-stdin', '--json'], { input: PASSPHRASE })
    expect(verified.status, verified.stderr).toBe(0)
    expect(json(verified.stdout)).toMatchObject({ ok: true, databases: expect.arrayContaining(['serverconf.sqlite']) })

    const target = join(tempDir(), 'restored')
    const wrong = await gatehouse(['restore', '--data-dir', target, '--from', file, '--passphrase-stdin', '--json'], { input: 'not the passphrase' })
    expect(wrong.status).toBe(1)
    expect(json(wrong.stdout)).toMatchObject({ ok: false, code: 'backup_invalid' })
    expect(wrong.stderr).toContain('passphrase')
    expect(existsSync(target)).toBe(false)

    const restored = await gatehouse(['restore', '--data-dir', target, '--from', file, '--passphrase-stdin', '--json'], { input: PASSPHRASE })
    expect(restored.status, restored.stderr).toBe(0)
    expect(json(restored.stdout)).toMatchObject({ ok: true, serverId: 'LAB/GOV/1234/SS9' })
    const again = await gatehouse(['restore', '--data-dir', target, '--from', file, '--passphrase-stdin'], { input: PASSPHRASE })
    expect(again.status).toBe(1)
    expect(again.stderr).toContain('not empty')

    const chain = await gatehouse(['audit', 'verify', '--data-dir', target, '--json'])
    expect(chain.status, chain.stderr).toBe(0)
    const db = openDatabase(join(target, 'serverconf.sqlite'))
    try {
      expect(listAuditEntries(db)[0]).toMatchObject({ actor: ACTOR, event: 'system.restore', object: 'LAB/GOV/1234/SS9' })
    } finally {
      closeDatabase(db)
    }
  })
})

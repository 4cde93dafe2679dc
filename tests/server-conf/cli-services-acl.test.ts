import { join } from 'node:path'
import { beforeAll, expect, it } from 'vitest'
import { listAuditEntries } from '../../src-main/audit-log'
import { closeDatabase, openDatabase } from '../../src-main/platform'
import { runGatehouse } from '../support/cli'
import { runGatehouseInProcess } from '../support/cli-in-process'
import { describeFixtures } from '../support/describe-fixtures'
import { fixturePath } from '../support/fixtures'
import { useTempDirs } from '../support/temp-dir'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { afterAll } from 'vitest'

const ANCHOR = ['globalconf', 'dev-signed-V3-V6', 'anchor', 'configuration_anchor_CS_internal.xml']
useTempDirs()

function parsed(result: { status: number | null; stdout: string; stderr: string }): { status: number | null; out: Record<string, unknown>; stderr: string } {
  return { status: result.status, out: JSON.parse(result.stdout.trim() || '{}') as Record<string, unknown>, stderr: result.stderr }
}

/** A command in this process through the CLI's own runCli (same exit code and output as the binary). */
async function run(args: string[]): Promise<{ status: number | null; out: Record<string, unknown>; stderr: string }> {
  return parsed(await runGatehouseInProcess([...args, '--data-dir', dataDir, '--json']))
}

let dataDir: string
// `init` runs as a real `gatehouse` process; the other commands in this process (see run).
describeFixtures('gatehouse service, endpoint, acl, group', () => {
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-cli-acl-'))
    expect(parsed(runGatehouse(['init', '--data-dir', dataDir, '--json', '--anchor', fixturePath(...ANCHOR), '--owner', 'DEV/GOV/1234', '--server-code', 'SS1'])).status).toBe(0)
    expect((await run(['client', 'add', '--client', 'DEV/GOV/1234/PROVIDER', '--state', 'REGISTERED'])).status).toBe(0)
  })
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }))

  it('adds a service with timeout and TLS option, disables and re-enables it; a bad URL is service_malformed_url', async () => {
    const added = await run(['service', 'add', '--client', 'DEV/GOV/1234/PROVIDER', '--code', 'pets', '--url', 'https://127.0.0.1:8443/api', '--timeout', '7', '--no-ssl-verify'])
    expect(added.status, added.stderr).toBe(0)
    expect(added.out).toMatchObject({ service: { id: 'DEV/GOV/1234/PROVIDER/pets', timeoutSeconds: 7, sslVerify: false, disabled: false } })
    const disabled = await run(['service', 'disable', '--service', 'DEV/GOV/1234/PROVIDER/pets', '--notice', 'maintenance'])
    expect(disabled.out).toMatchObject({ service: { disabled: true, disabledNotice: 'maintenance' } })
    expect((await run(['service', 'enable', '--service', 'DEV/GOV/1234/PROVIDER/pets'])).out).toMatchObject({ service: { disabled: false } })
    const badUrl = await run(['service', 'add', '--client', 'DEV/GOV/1234/PROVIDER', '--code', 'x', '--url', 'ftp://h/x'])
    expect(badUrl.status).toBe(1)
    expect(badUrl.out).toMatchObject({ code: 'service_malformed_url' })
  })

  it('grants on an endpoint and to a local group, lists and revokes; traversal in an endpoint path is refused', async () => {
    expect((await run(['endpoint', 'add', '--service', 'DEV/GOV/1234/PROVIDER/pets', '--method', 'get', '--path', '/pets/*'])).status).toBe(0)
    expect((await run(['endpoint', 'add', '--service', 'DEV/GOV/1234/PROVIDER/pets', '--method', 'GET', '--path', '/pets/../admin'])).out).toMatchObject({ code: 'validation_failed' })
    expect((await run(['group', 'add', '--client', 'DEV/GOV/1234/PROVIDER', '--code', 'friends'])).status).toBe(0)
    expect((await run(['group', 'member', '--client', 'DEV/GOV/1234/PROVIDER', '--code', 'friends', '--member', 'DEV/COM/42/APP'])).out).toMatchObject({ changed: true })

    const grant = await run(['acl', 'grant', '--service', 'DEV/GOV/1234/PROVIDER/pets', '--subject', 'DEV/COM/9/CLIENT', '--endpoint', 'GET /pets/*'])
    expect(grant.status, grant.stderr).toBe(0)
    expect((await run(['acl', 'grant', '--service', 'DEV/GOV/1234/PROVIDER/pets', '--subject', 'LOCALGROUP:friends'])).status).toBe(0)
    const unknownGroup = await run(['acl', 'grant', '--service', 'DEV/GOV/1234/PROVIDER/pets', '--subject', 'LOCALGROUP:nobody'])
    expect(unknownGroup.out).toMatchObject({ code: 'not_found' })
    const list = await run(['acl', 'list', '--service', 'DEV/GOV/1234/PROVIDER/pets'])
    expect((list.out.accessRights as Array<Record<string, string>>).map((r) => `${r.subject} ${r.method} ${r.path}`).sort()).toEqual([
      'DEV/COM/9/CLIENT GET /pets/*',
      'LOCALGROUP:friends * **',
    ])
    expect((await run(['acl', 'revoke', '--service', 'DEV/GOV/1234/PROVIDER/pets', '--subject', 'DEV/COM/9/CLIENT', '--endpoint', 'GET /pets/*'])).status).toBe(0)
    const after = await run(['acl', 'list', '--service', 'DEV/GOV/1234/PROVIDER/pets'])
    expect((after.out.accessRights as unknown[]).length).toBe(1)
    const usage = await run(['acl', 'grant', '--service', 'DEV/GOV/1234/PROVIDER', '--subject', 'DEV/COM/9/CLIENT'])
    expect(usage.status).toBe(2)

    const db = openDatabase(join(dataDir, 'serverconf.sqlite'))
    try {
      const events = listAuditEntries(db).map((e) => `${e.event}:${e.outcome}`)
      expect(events).toContain('acl.revoke:success')
      expect(events).toContain('acl.grant:failure')
      expect(events).toContain('group.member.add:success')
    } finally {
      closeDatabase(db)
    }
  })
})

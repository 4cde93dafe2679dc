import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { listAuditEntries } from '../../src-main/audit-log'
import { closeDatabase, openDatabase } from '../../src-main/platform'
import { runGatehouse } from '../support/cli'
import { runGatehouseInProcess } from '../support/cli-in-process'
import { describeFixtures } from '../support/describe-fixtures'
import { fixturePath } from '../support/fixtures'
import { useTempDirs } from '../support/temp-dir'

const ANCHOR = ['globalconf', 'dev-signed-V3-V6', 'anchor', 'configuration_anchor_CS_internal.xml']
const tempDir = useTempDirs()
// The first init runs as a real `gatehouse` process (start-up, exit code, stdout as a shell sees them); the other
// commands run in this process through the CLI's own runCli, with the same exit codes and output.
const gatehouse = runGatehouseInProcess

function json(stdout: string): Record<string, unknown> {
  return JSON.parse(stdout.trim()) as Record<string, unknown>
}

describeFixtures('gatehouse init and client (real anchor)', () => {
  it('initializes once, refuses a second init without --force, and audits both', async () => {
    const dataDir = tempDir()
    const args = ['init', '--data-dir', dataDir, '--anchor', fixturePath(...ANCHOR), '--owner', 'DEV/GOV/1234', '--server-code', 'SS1', '--json']
    const first = runGatehouse(args)
    expect(first.status, first.stderr).toBe(0)
    expect(json(first.stdout)).toMatchObject({ ok: true, securityServer: 'DEV/GOV/1234/SS1', instance: 'DEV' })

    const second = await gatehouse(args)
    expect(second.status).toBe(1)
    expect(json(second.stdout)).toMatchObject({ ok: false, code: 'already_initialized' })

    const forced = await gatehouse([...args.slice(0, -2), 'SS2', '--force', '--json'])
    expect(forced.status, forced.stderr).toBe(0)
    expect(json(forced.stdout)).toMatchObject({ securityServer: 'DEV/GOV/1234/SS2' })

    const db = openDatabase(join(dataDir, 'serverconf.sqlite'))
    try {
      const entries = listAuditEntries(db).reverse()
      expect(entries.map((e) => [e.event, e.outcome, e.errorCode])).toEqual([
        ['init', 'success', null],
        ['init', 'failure', 'already_initialized'],
        ['init', 'success', null],
      ])
      expect(entries[0]?.actor).toMatch(/^cli:.+/)
    } finally {
      closeDatabase(db)
    }
  })

  it('refuses an owner from another instance than the anchor and a malformed owner', async () => {
    const dataDir = tempDir()
    const wrongInstance = await gatehouse(['init', '--data-dir', dataDir, '--anchor', fixturePath(...ANCHOR), '--owner', 'EE/GOV/1', '--server-code', 'SS1', '--json'])
    expect(wrongInstance.status).toBe(1)
    expect(json(wrongInstance.stdout)).toMatchObject({ code: 'malformed_anchor' })
    const badOwner = await gatehouse(['init', '--data-dir', dataDir, '--anchor', fixturePath(...ANCHOR), '--owner', 'DEV/GOV/1234/SUB', '--server-code', 'SS1'])
    expect(badOwner.status).toBe(2)
    expect(badOwner.stderr).toContain('invalid_identifier')
  })

  it('adds and lists clients; a duplicate is a conflict', async () => {
    const dataDir = tempDir()
    expect((await gatehouse(['init', '--data-dir', dataDir, '--anchor', fixturePath(...ANCHOR), '--owner', 'DEV/GOV/1234', '--server-code', 'SS1'])).status).toBe(0)
    const added = await gatehouse(['client', 'add', '--data-dir', dataDir, '--client', 'DEV/GOV/1234/PROVIDER', '--state', 'registered', '--is-auth', 'SSLAUTH', '--json'])
    expect(added.status, added.stderr).toBe(0)
    expect(json(added.stdout)).toMatchObject({ client: { id: 'DEV/GOV/1234/PROVIDER', state: 'REGISTERED', isAuthentication: 'SSLAUTH' } })
    const again = await gatehouse(['client', 'add', '--data-dir', dataDir, '--client', 'DEV/GOV/1234/PROVIDER', '--json'])
    expect(json(again.stdout)).toMatchObject({ ok: false, code: 'conflict' })
    const list = await gatehouse(['client', 'list', '--data-dir', dataDir, '--json'])
    expect((json(list.stdout).clients as Array<{ id: string }>).map((c) => c.id)).toEqual(['DEV/GOV/1234', 'DEV/GOV/1234/PROVIDER'])
  })
})

describe('gatehouse init (bad anchors)', () => {
  it('rejects an anchor with a DOCTYPE and a missing anchor file before creating anything', async () => {
    const dir = tempDir()
    const evil = join(dir, 'anchor.xml')
    writeFileSync(evil, '<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><configurationAnchor>&x;</configurationAnchor>')
    const dataDir = join(dir, 'data')
    const doctype = await gatehouse(['init', '--data-dir', dataDir, '--anchor', evil, '--owner', 'DEV/GOV/1234', '--server-code', 'SS1', '--json'])
    expect(doctype.status).toBe(1)
    expect(json(doctype.stdout)).toMatchObject({ code: 'malformed_anchor' })
    const missing = await gatehouse(['client', 'list', '--data-dir', dataDir, '--json'])
    expect(missing.status).toBe(1)
    expect(json(missing.stdout)).toMatchObject({ code: 'not_initialized' })
  })
})

import { describe, expect, it } from 'vitest'
import { join } from 'node:path'
import { closeDatabase, migrate, openDatabase, type MigrationSet } from '../../src-main/platform'
import { serverConfMigrations, findServerIdentity, saveServerIdentity, readSystemParameters, writeSystemParameter } from '../../src-main/server-conf'
import { auditLogMigrations, appendAuditEntry, listAuditEntries, verifyAuditLog } from '../../src-main/audit-log'
import { memberId } from '@shared/domain/identifiers'
import { useTempDirs } from '../support/temp-dir'

const tempDir = useTempDirs()

/** Each migration, applied alone to a fresh database, leaves a schema its repository can use. */
function freshDb(sets: MigrationSet[]) {
  const db = openDatabase(join(tempDir(), 'fresh.sqlite'))
  migrate(db, sets)
  return db
}

describe('server-conf migration 0001', () => {
  it('stores the server identity and system parameters', () => {
    const db = freshDb([{ component: 'server-conf', migrations: serverConfMigrations.migrations.slice(0, 1) }])
    expect(findServerIdentity(db)).toBeUndefined()
    saveServerIdentity(db, memberId('LAB', 'GOV', '1234'), 'ss1', new Date('2026-01-01T00:00:00Z'))
    expect(findServerIdentity(db)).toMatchObject({ serverId: { serverCode: 'ss1', memberCode: '1234' }, initializedAt: '2026-01-01T00:00:00.000Z' })
    writeSystemParameter(db, 'message-log.keep-records-for', '30', new Date())
    writeSystemParameter(db, 'message-log.keep-records-for', '31', new Date())
    expect(readSystemParameters(db).get('message-log.keep-records-for')).toBe('31')
    expect(() => db.prepare("INSERT INTO server_identity (id, instance, owner, server_code, initialized_at) VALUES (2, 'a', 'b', 'c', 'd')").run()).toThrow(/CHECK/)
    closeDatabase(db)
  })
})

describe('audit-log migration 0001', () => {
  it('keeps who did what, when and with what outcome', () => {
    const db = freshDb([{ component: 'audit-log', migrations: auditLogMigrations.migrations.slice(0, 1) }])
    const insert = db.prepare('INSERT INTO audit_log (at, actor, event, outcome, data, error_code) VALUES (?, ?, ?, ?, ?, ?)')
    insert.run('2026-01-01T00:00:00Z', 'alice', 'Log in user', 'success', '{}', null)
    insert.run('2026-01-02T00:00:00Z', 'bob', 'Add client', 'failure', '{"client":"x"}', 'conflict')
    const rows = db.prepare('SELECT id, actor, error_code FROM audit_log ORDER BY id DESC').all()
    expect(rows).toEqual([{ id: 2, actor: 'bob', error_code: 'conflict' }, { id: 1, actor: 'alice', error_code: null }])
    expect(() => insert.run('x', 'a', 'e', 'maybe', '{}', null)).toThrow(/CHECK/)
    closeDatabase(db)
  })
})

describe('audit-log migration 0002', () => {
  it('chains the entries written before it, and the repository appends, lists and verifies after it', () => {
    const db = freshDb([{ component: 'audit-log', migrations: auditLogMigrations.migrations.slice(0, 1) }])
    const insert = db.prepare('INSERT INTO audit_log (at, actor, event, outcome, data, error_code) VALUES (?, ?, ?, ?, ?, ?)')
    insert.run('2026-01-01T00:00:00Z', 'alice', 'users.add', 'success', '{}', null)
    insert.run('2026-01-02T00:00:00Z', 'bob', 'clients.add', 'failure', '{"client":"x"}', 'conflict')
    migrate(db, [auditLogMigrations])
    expect(verifyAuditLog(db)).toMatchObject({ ok: true, entries: 2, head: { id: 2 } })
    appendAuditEntry(db, { at: '2026-01-03T00:00:00Z', actor: 'carol', event: 'settings.set', outcome: 'success', object: 'x', data: {}, errorCode: null })
    const entries = listAuditEntries(db)
    expect(entries.map((e) => e.actor)).toEqual(['carol', 'bob', 'alice'])
    expect(entries[1]).toMatchObject({ outcome: 'failure', data: { client: 'x' }, errorCode: 'conflict', object: null })
    expect(entries[0]?.prevHash).toBe(entries[1]?.hash)
    expect(verifyAuditLog(db)).toMatchObject({ ok: true, entries: 3 })
    closeDatabase(db)
  })

  it('starts an empty log at the genesis', () => {
    const db = freshDb([auditLogMigrations])
    expect(verifyAuditLog(db)).toMatchObject({ ok: true, entries: 0, head: null, anchor: { lastPrunedId: 0, hash: '0'.repeat(64) } })
    expect(appendAuditEntry(db, { at: '2026-01-01T00:00:00Z', actor: 'a', event: 'e', outcome: 'success', data: {}, errorCode: null })).toBe(1)
    closeDatabase(db)
  })
})

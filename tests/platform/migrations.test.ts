import { describe, expect, it } from 'vitest'
import { join } from 'node:path'
import { closeDatabase, migrate, openDatabase, type MigrationSet } from '../../src-main/platform'
import { serverConfMigrations, findServerIdentity, saveServerIdentity, readSystemParameters, writeSystemParameter } from '../../src-main/server-conf'
import { auditLogMigrations, appendAuditEntry, listAuditEntries } from '../../src-main/audit-log'
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
  it('appends and lists entries newest first', () => {
    const db = freshDb([{ component: 'audit-log', migrations: auditLogMigrations.migrations.slice(0, 1) }])
    appendAuditEntry(db, { at: '2026-01-01T00:00:00Z', actor: 'alice', event: 'Log in user', outcome: 'success', data: {}, errorCode: null })
    appendAuditEntry(db, { at: '2026-01-02T00:00:00Z', actor: 'bob', event: 'Add client', outcome: 'failure', data: { client: 'x' }, errorCode: 'conflict' })
    const entries = listAuditEntries(db)
    expect(entries.map((e) => e.actor)).toEqual(['bob', 'alice'])
    expect(entries[0]).toMatchObject({ outcome: 'failure', data: { client: 'x' }, errorCode: 'conflict' })
    expect(() => appendAuditEntry(db, { at: 'x', actor: 'a', event: 'e', outcome: 'maybe' as never, data: {}, errorCode: null })).toThrow(/CHECK/)
    closeDatabase(db)
  })
})

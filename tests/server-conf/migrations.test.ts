import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { closeDatabase, migrate, openDatabase, schemaVersions, type WritableDb } from '../../src-main/platform'
import { serverConfMigrations } from '../../src-main/server-conf'

const dirs: string[] = []
const dbs: WritableDb[] = []
function freshDb(): WritableDb {
  const dir = mkdtempSync(join(tmpdir(), 'gh-serverconf-mig-'))
  dirs.push(dir)
  const db = openDatabase(join(dir, 'serverconf.sqlite'))
  dbs.push(db)
  return db
}
afterEach(() => {
  dbs.splice(0).forEach(closeDatabase)
  dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true }))
})

function tables(db: WritableDb): string[] {
  return (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as Array<{ name: string }>).map((r) => r.name)
}

describe('server-conf migrations on a fresh database', () => {
  it('0001..0004 apply in order and record version 4', () => {
    const db = freshDb()
    expect(migrate(db, [serverConfMigrations])).toBe(4)
    expect(schemaVersions(db)).toEqual([{ component: 'server-conf', version: 4 }])
    expect(migrate(db, [serverConfMigrations])).toBe(0)
  })

  it('0002 creates the client, service, endpoint, group and access-right tables with their constraints', () => {
    const db = freshDb()
    migrate(db, [{ component: 'server-conf', migrations: serverConfMigrations.migrations.slice(0, 2) }])
    expect(tables(db)).toEqual(expect.arrayContaining([
      'clients', 'client_is_certificates', 'services', 'endpoints', 'local_groups', 'local_group_members', 'access_rights',
    ]))
    expect(tables(db)).not.toContain('configuration_anchor_file')
    expect(() => db.prepare("INSERT INTO clients (identifier, state, created_at) VALUES ('x', 'BOGUS', 'now')").run()).toThrow(/CHECK/)
    db.prepare("INSERT INTO clients (identifier, state, created_at) VALUES ('x', 'SAVED', 'now')").run()
    expect(() => db.prepare("INSERT INTO services (client_id, service_code, url, timeout_seconds, ssl_verify, created_at) VALUES (99, 'a', 'http://x', 1, 1, 'n')").run()).toThrow(/FOREIGN KEY/)
    expect(() => db.prepare("INSERT INTO services (client_id, service_code, url, timeout_seconds, ssl_verify, created_at) VALUES (1, 'a', 'http://x', 0, 1, 'n')").run()).toThrow(/CHECK/)
  })

  it('0003 creates the single-row anchor file table', () => {
    const db = freshDb()
    migrate(db, [serverConfMigrations])
    db.prepare("INSERT INTO configuration_anchor_file (id, source_path, content, sha256, stored_at) VALUES (1, 'a', x'00', 'h', 'n')").run()
    expect(() => db.prepare("INSERT INTO configuration_anchor_file (id, source_path, content, sha256, stored_at) VALUES (2, 'a', x'00', 'h', 'n')").run()).toThrow(/CHECK/)
  })

  it('0004 creates the ordered time-stamping service selection', () => {
    const db = freshDb()
    migrate(db, [serverConfMigrations])
    db.prepare("INSERT INTO timestamping_services (position, name, selected_at) VALUES (1, 'TSA 1', 'n')").run()
    expect(() => db.prepare("INSERT INTO timestamping_services (position, name, selected_at) VALUES (2, 'TSA 1', 'n')").run()).toThrow(/UNIQUE/)
    expect(() => db.prepare("INSERT INTO timestamping_services (position, name, selected_at) VALUES (0, 'TSA 2', 'n')").run()).toThrow(/CHECK/)
    expect(() => db.prepare("INSERT INTO timestamping_services (position, name, selected_at) VALUES (3, '', 'n')").run()).toThrow(/CHECK/)
  })
})

import { describe, expect, it } from 'vitest'
import { adminMigrations } from '../../src-main/admin'
import { migrate, openDatabase, schemaVersions } from '../../src-main/platform'

describe('admin migrations', () => {
  it('0001 creates STRICT user, session and API key tables on a fresh database', () => {
    const db = openDatabase(':memory:')
    expect(migrate(db, [{ ...adminMigrations, migrations: adminMigrations.migrations.slice(0, 1) }])).toBe(1)
    expect(schemaVersions(db)).toEqual([{ component: 'admin', version: 1 }])
    const tables = db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name LIKE 'admin_%' ORDER BY name").all() as Array<{ name: string; sql: string }>
    expect(tables.map((t) => t.name)).toEqual(['admin_api_key', 'admin_session', 'admin_user'])
    expect(tables.every((t) => t.sql.trimEnd().endsWith('STRICT'))).toBe(true)
    db.prepare("INSERT INTO admin_user (username, password_hash, roles, created_at, password_changed_at) VALUES ('A', 'h', '[]', 't', 't')").run()
    expect(() => db.prepare("INSERT INTO admin_user (username, password_hash, roles, created_at, password_changed_at) VALUES ('a', 'h', '[]', 't', 't')").run()).toThrow(/UNIQUE/)
    expect(migrate(db, [adminMigrations])).toBe(1)
    expect(migrate(db, [adminMigrations])).toBe(0)
    db.close()
  })

  it('0002 adds a STRICT table of failed sign-ins on a fresh database', () => {
    const db = openDatabase(':memory:')
    expect(migrate(db, [adminMigrations])).toBe(2)
    expect(schemaVersions(db)).toEqual([{ component: 'admin', version: 2 }])
    const table = db.prepare("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'admin_login_failure'").get() as { sql: string }
    expect(table.sql.trimEnd().endsWith('STRICT')).toBe(true)
    db.prepare("INSERT INTO admin_login_failure (key, failed_at) VALUES ('user:a', 1)").run()
    expect(() => db.prepare("INSERT INTO admin_login_failure (key, failed_at) VALUES ('user:a', 'soon')").run()).toThrow(/cannot store TEXT value in INTEGER column/)
    db.close()
  })
})

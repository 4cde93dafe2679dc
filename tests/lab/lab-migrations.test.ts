import { afterAll, describe, expect, it } from 'vitest'
import { join } from 'node:path'
import { closeDatabase, migrate, openDatabase, schemaVersions } from '../../src-main/platform'
import { labMigrations } from '../../src-main/lab'
import { tempDirs } from './lab-test-support'

const temp = tempDirs()
afterAll(() => temp.cleanup())

describe('lab migrations', () => {
  it('0001 creates the lab tables on a fresh database and is not re-applied', () => {
    const db = openDatabase(join(temp.make(), 'lab.sqlite'))
    try {
      expect(migrate(db, [labMigrations])).toBe(1)
      expect(migrate(db, [labMigrations])).toBe(0)
      expect(schemaVersions(db)).toContainEqual({ component: 'lab', version: 1 })
      const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>).map((t) => t.name)
      for (const t of ['lab_settings', 'members', 'subsystems', 'certificates', 'security_servers', 'server_clients', 'global_groups']) expect(tables).toContain(t)
      expect(() => db.prepare("INSERT INTO certificates (serial, usage, subject, der, issued_at) VALUES ('1', 'bogus', 's', x'00', 't')").run()).toThrow(/CHECK/)
    } finally {
      closeDatabase(db)
    }
  })
})

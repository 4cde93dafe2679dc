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
      expect(migrate(db, [labMigrations])).toBe(2)
      expect(migrate(db, [labMigrations])).toBe(0)
      expect(schemaVersions(db)).toContainEqual({ component: 'lab', version: 2 })
      const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>).map((t) => t.name)
      for (const t of ['lab_settings', 'members', 'subsystems', 'certificates', 'security_servers', 'server_clients', 'global_groups']) expect(tables).toContain(t)
      expect(() => db.prepare("INSERT INTO certificates (serial, usage, subject, der, issued_at) VALUES ('1', 'bogus', 's', x'00', 't')").run()).toThrow(/CHECK/)
    } finally {
      closeDatabase(db)
    }
  })

  it('0002 adds the optional ocspFetchInterval to a lab made before it, unset (no FETCHINTERVAL part), positive when set', () => {
    const db = openDatabase(join(temp.make(), 'lab.sqlite'))
    try {
      migrate(db, [{ component: 'lab', migrations: labMigrations.migrations.slice(0, 1) }])
      db.prepare(`INSERT INTO lab_settings (id, instance, key_algorithm, created_at, conf_expire_seconds, ocsp_freshness_seconds,
        timestamping_interval_seconds, conf_address, ocsp_url, tsa_url) VALUES (1, 'LAB', 'ec-p256', 't', 600, 3600, 60, 'a', 'o', 't')`).run()
      expect(migrate(db, [labMigrations])).toBe(1)
      expect(db.prepare('SELECT ocsp_fetch_interval_seconds AS v FROM lab_settings').get()).toEqual({ v: null })
      expect(() => db.prepare('UPDATE lab_settings SET ocsp_fetch_interval_seconds = 0').run()).toThrow(/CHECK/)
    } finally {
      closeDatabase(db)
    }
  })
})

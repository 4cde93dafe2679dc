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
      expect(migrate(db, [labMigrations])).toBe(labMigrations.migrations.length)
      expect(migrate(db, [labMigrations])).toBe(0)
      expect(schemaVersions(db)).toContainEqual({ component: 'lab', version: labMigrations.migrations.length })
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
      expect(migrate(db, [{ component: 'lab', migrations: labMigrations.migrations.slice(0, 2) }])).toBe(1)
      expect(db.prepare('SELECT ocsp_fetch_interval_seconds AS v FROM lab_settings').get()).toEqual({ v: null })
      expect(() => db.prepare('UPDATE lab_settings SET ocsp_fetch_interval_seconds = 0').run()).toThrow(/CHECK/)
    } finally {
      closeDatabase(db)
    }
  })

  it('0003 adds the management requests and auto-approval (on) to a lab made before it', () => {
    const db = openDatabase(join(temp.make(), 'lab.sqlite'))
    try {
      migrate(db, [{ component: 'lab', migrations: labMigrations.migrations.slice(0, 2) }])
      db.prepare(`INSERT INTO lab_settings (id, instance, key_algorithm, created_at, conf_expire_seconds, ocsp_freshness_seconds,
        timestamping_interval_seconds, conf_address, ocsp_url, tsa_url) VALUES (1, 'LAB', 'ec-p256', 't', 600, 3600, 60, 'a', 'o', 't')`).run()
      expect(migrate(db, [{ component: 'lab', migrations: labMigrations.migrations.slice(0, 3) }])).toBe(1)
      expect(db.prepare(`SELECT auto_approve_auth_cert_reg AS a, auto_approve_client_reg AS c, auto_approve_owner_change AS o,
        auth_cert_reg_url AS u FROM lab_settings`).get()).toEqual({ a: 1, c: 1, o: 1, u: null })
      const insert = db.prepare(`INSERT INTO management_requests (type, status, server, message_id, received_at) VALUES (?, ?, 'SERVER:LAB/GOV/1/SS', 'm', 't')`)
      expect(Number(insert.run('clientReg', 'WAITING').lastInsertRowid)).toBe(1)
      expect(() => insert.run('bogus', 'WAITING')).toThrow(/CHECK/)
      expect(() => insert.run('clientReg', 'PENDING')).toThrow(/CHECK/)
    } finally {
      closeDatabase(db)
    }
  })

  it('0004 adds subsystem names and maintenance mode to a lab made before it, off', () => {
    const db = openDatabase(join(temp.make(), 'lab.sqlite'))
    try {
      migrate(db, [{ component: 'lab', migrations: labMigrations.migrations.slice(0, 3) }])
      db.prepare("INSERT INTO member_classes (code, description) VALUES ('GOV', 'g')").run()
      db.prepare("INSERT INTO members (member_class, member_code, name) VALUES ('GOV', '1', 'm')").run()
      db.prepare("INSERT INTO security_servers (owner_id, server_code, address) VALUES (1, 'SS', 'a')").run()
      expect(migrate(db, [{ component: 'lab', migrations: labMigrations.migrations.slice(0, 4) }])).toBe(1)
      expect(db.prepare('SELECT maintenance_mode AS m, maintenance_message AS t FROM security_servers').get()).toEqual({ m: 0, t: null })
      expect(() => db.prepare('UPDATE security_servers SET maintenance_mode = 2').run()).toThrow(/CHECK/)
    } finally {
      closeDatabase(db)
    }
  })

  it('0005 keeps every client registration of a lab made before it enabled; enabled is 0 or 1', () => {
    const db = openDatabase(join(temp.make(), 'lab.sqlite'))
    try {
      migrate(db, [{ component: 'lab', migrations: labMigrations.migrations.slice(0, 4) }])
      db.prepare("INSERT INTO member_classes (code, description) VALUES ('GOV', 'g')").run()
      db.prepare("INSERT INTO members (member_class, member_code, name) VALUES ('GOV', '1', 'm')").run()
      db.prepare("INSERT INTO security_servers (owner_id, server_code, address) VALUES (1, 'SS', 'a')").run()
      db.prepare('INSERT INTO server_clients (server_id, member_id, subsystem_id, position) VALUES (1, 1, NULL, 1)').run()
      expect(migrate(db, [labMigrations])).toBe(1)
      expect(db.prepare('SELECT enabled FROM server_clients').get()).toEqual({ enabled: 1 })
      expect(() => db.prepare('UPDATE server_clients SET enabled = 2').run()).toThrow(/CHECK/)
    } finally {
      closeDatabase(db)
    }
  })
})

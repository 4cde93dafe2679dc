import { afterEach, describe, expect, it } from 'vitest'
import { migrate, schemaVersions, sqlEngine, type SqlWriter } from '../../src-main/platform'
import { serverConfMigrations } from '../../src-main/server-conf'
import { describeStorage } from '../support/postgres'

/**
 * The server-conf migrations on both engines (issue 18): the same numbers leave the same tables and constraints on
 * SQLite and on PostgreSQL, and 0005 carries existing services over on each.
 */
const refused = {
  check: /CHECK constraint failed|violates check constraint/,
  unique: /UNIQUE constraint failed|violates unique constraint/,
  foreignKey: /FOREIGN KEY constraint failed|violates foreign key constraint/,
}

function tables(db: SqlWriter): string[] {
  const sql = sqlEngine(db) === 'postgres'
    ? 'SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY table_name'
    : "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
  return (db.prepare(sql).all() as Array<{ name: string }>).map((r) => r.name)
}

describeStorage('server-conf migrations', (engine) => {
  const dbs: SqlWriter[] = []
  function freshDb(): SqlWriter {
    const db = engine.open()
    dbs.push(db)
    return db
  }
  afterEach(() => dbs.splice(0).forEach((db) => engine.close(db)))

  describe('server-conf migrations on a fresh database', () => {
    it('0001..0006 apply in order and record version 6', () => {
      const db = freshDb()
      expect(migrate(db, [serverConfMigrations])).toBe(6)
      expect(schemaVersions(db)).toEqual([{ component: 'server-conf', version: 6 }])
      expect(migrate(db, [serverConfMigrations])).toBe(0)
    })

    it('0002 creates the client, service, endpoint, group and access-right tables with their constraints', () => {
      const db = freshDb()
      migrate(db, [{ component: 'server-conf', migrations: serverConfMigrations.migrations.slice(0, 2) }])
      expect(tables(db)).toEqual(expect.arrayContaining([
        'clients', 'client_is_certificates', 'services', 'endpoints', 'local_groups', 'local_group_members', 'access_rights',
      ]))
      expect(tables(db)).not.toContain('configuration_anchor_file')
      expect(() => db.prepare("INSERT INTO clients (identifier, state, created_at) VALUES ('x', 'BOGUS', 'now')").run()).toThrow(refused.check)
      // Ids come back with RETURNING: PostgreSQL's identities are not reused after a failed insert, SQLite's rowids are.
      const client = db.prepare("INSERT INTO clients (identifier, state, created_at) VALUES ('x', 'SAVED', 'now') RETURNING id").get() as { id: number }
      const service = "INSERT INTO services (client_id, service_code, url, timeout_seconds, ssl_verify, created_at) VALUES (?, 'a', 'http://x', ?, 1, 'n')"
      expect(() => db.prepare(service).run(client.id + 99, 1)).toThrow(refused.foreignKey)
      expect(() => db.prepare(service).run(client.id, 0)).toThrow(refused.check)
    })

    it('0003 creates the single-row anchor file table', () => {
      const db = freshDb()
      migrate(db, [serverConfMigrations])
      const insert = db.prepare("INSERT INTO configuration_anchor_file (id, source_path, content, sha256, stored_at) VALUES (?, 'a', ?, 'h', 'n')")
      insert.run(1, Buffer.from([0]))
      expect(() => insert.run(2, Buffer.from([0]))).toThrow(refused.check)
    })

    it('0004 creates the ordered time-stamping service selection', () => {
      const db = freshDb()
      migrate(db, [serverConfMigrations])
      db.prepare("INSERT INTO timestamping_services (position, name, selected_at) VALUES (1, 'TSA 1', 'n')").run()
      expect(() => db.prepare("INSERT INTO timestamping_services (position, name, selected_at) VALUES (2, 'TSA 1', 'n')").run()).toThrow(refused.unique)
      expect(() => db.prepare("INSERT INTO timestamping_services (position, name, selected_at) VALUES (0, 'TSA 2', 'n')").run()).toThrow(refused.check)
      expect(() => db.prepare("INSERT INTO timestamping_services (position, name, selected_at) VALUES (3, '', 'n')").run()).toThrow(refused.check)
    })

    it('0005 on a fresh database: service descriptions, versioned services unique per code and version', () => {
      const db = freshDb()
      migrate(db, [serverConfMigrations])
      expect(tables(db)).toEqual(expect.arrayContaining(['service_descriptions', 'services', 'endpoints', 'access_rights']))
      expect(tables(db).filter((t) => t.endsWith('_v5'))).toEqual([])
      const client = db.prepare("INSERT INTO clients (identifier, state, created_at) VALUES ('c', 'SAVED', 'n') RETURNING id").get() as { id: number }
      const description = "INSERT INTO service_descriptions (client_id, type, url, disabled, refreshed_at, created_at) VALUES (?, ?, 'http://x/w', 1, 'n', 'n') RETURNING id"
      expect(() => db.prepare(description).get(client.id, 'SOAP')).toThrow(refused.check)
      const wsdl = db.prepare(description).get(client.id, 'WSDL') as { id: number }
      const insert = db.prepare("INSERT INTO services (client_id, description_id, service_code, service_version, url, timeout_seconds, ssl_verify, created_at) VALUES (?, ?, 'getRandom', ?, 'http://x', 60, 1, 'n')")
      insert.run(client.id, wsdl.id, 'v1')
      insert.run(client.id, wsdl.id, 'v2')
      insert.run(client.id, wsdl.id, '')
      expect(() => insert.run(client.id, wsdl.id, 'v1')).toThrow(refused.unique)
      db.prepare('DELETE FROM service_descriptions WHERE id = ?').run(wsdl.id)
      expect((db.prepare('SELECT COUNT(*) AS n FROM services').get() as { n: number }).n).toBe(0)
    })

    it('0005 on a database with services: each becomes a REST description, endpoints and access rights stay attached', () => {
      const db = freshDb()
      migrate(db, [{ component: 'server-conf', migrations: serverConfMigrations.migrations.slice(0, 4) }])
      db.prepare("INSERT INTO clients (identifier, state, created_at) VALUES ('SUBSYSTEM:I/C/M/S', 'REGISTERED', 'n')").run()
      db.prepare(`INSERT INTO services (id, client_id, service_code, url, timeout_seconds, ssl_verify, disabled, disabled_notice, created_at)
        VALUES (7, 1, 'pets', 'http://127.0.0.1:1/pets', 30, 0, 1, 'Maintenance', '2026-01-01T00:00:00.000Z'),
               (9, 1, 'owners', 'http://127.0.0.1:1/pets', 60, 1, 0, NULL, '2026-01-02T00:00:00.000Z')`).run()
      db.prepare("INSERT INTO endpoints (id, service_id, method, path, generated) VALUES (3, 7, '*', '**', 1), (4, 7, 'GET', '/pets/*', 0), (5, 9, '*', '**', 1)").run()
      db.prepare("INSERT INTO access_rights (endpoint_id, subject, granted_at) VALUES (4, 'SUBSYSTEM:I/C/X/Y', 'n'), (5, 'LOCALGROUP:g', 'n')").run()

      expect(migrate(db, [{ component: 'server-conf', migrations: serverConfMigrations.migrations.slice(0, 5) }])).toBe(1)
      expect(db.prepare('SELECT id, client_id, type, url, document, disabled, disabled_notice, refreshed_at FROM service_descriptions ORDER BY id').all()).toEqual([
        { id: 7, client_id: 1, type: 'REST', url: 'http://127.0.0.1:1/pets', document: null, disabled: 1, disabled_notice: 'Maintenance', refreshed_at: '2026-01-01T00:00:00.000Z' },
        { id: 9, client_id: 1, type: 'REST', url: 'http://127.0.0.1:1/pets', document: null, disabled: 0, disabled_notice: null, refreshed_at: '2026-01-02T00:00:00.000Z' },
      ])
      expect(db.prepare('SELECT id, description_id, service_code, service_version, url, timeout_seconds, ssl_verify FROM services ORDER BY id').all()).toEqual([
        { id: 7, description_id: 7, service_code: 'pets', service_version: '', url: 'http://127.0.0.1:1/pets', timeout_seconds: 30, ssl_verify: 0 },
        { id: 9, description_id: 9, service_code: 'owners', service_version: '', url: 'http://127.0.0.1:1/pets', timeout_seconds: 60, ssl_verify: 1 },
      ])
      expect(db.prepare(`SELECT s.service_code, e.method, e.path, a.subject FROM access_rights a JOIN endpoints e ON e.id = a.endpoint_id
        JOIN services s ON s.id = e.service_id ORDER BY a.id`).all()).toEqual([
        { service_code: 'pets', method: 'GET', path: '/pets/*', subject: 'SUBSYSTEM:I/C/X/Y' },
        { service_code: 'owners', method: '*', path: '**', subject: 'LOCALGROUP:g' },
      ])
      // A new description gets an id past the carried-over ones (PostgreSQL's identity was moved past them).
      const added = db.prepare("INSERT INTO service_descriptions (client_id, type, url, disabled, refreshed_at, created_at) VALUES (1, 'REST', 'http://x', 0, 'n', 'n') RETURNING id").get() as { id: number }
      expect(added.id).toBeGreaterThan(9)
      // The rebuilt tables still cascade: deleting the client takes descriptions, services, endpoints and rights.
      db.prepare('DELETE FROM clients').run()
      for (const table of ['service_descriptions', 'services', 'endpoints', 'access_rights']) {
        expect((db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n).toBe(0)
      }
    })

    it('0006 creates the management request record with its service and status checks', () => {
      const db = freshDb()
      migrate(db, [serverConfMigrations])
      const insert = "INSERT INTO management_requests (service, subject, message_id, request_id, sent_at, status) VALUES (?, 's', 'm', 1, 'n', ?)"
      db.prepare(insert).run('clientReg', 'SUBMITTED')
      expect(() => db.prepare(insert).run('clientFoo', 'SUBMITTED')).toThrow(refused.check)
      expect(() => db.prepare(insert).run('clientReg', 'DONE')).toThrow(refused.check)
    })
  })
})

import { describe, expect, it } from 'vitest'
import { join } from 'node:path'
import { writeFileSync } from 'node:fs'
import Database from 'better-sqlite3'
import {
  appliedVersion, backupDatabase, closeDatabase, databaseSettings, integrityCheck, migrate, openDatabase,
  SecurityServerError, schemaVersions, type Migration,
} from '../../src-main/platform'
import { useTempDirs } from '../support/temp-dir'

const tempDir = useTempDirs()

describe('openDatabase', () => {
  it('opens with WAL, foreign keys and the requested synchronous level', () => {
    const db = openDatabase(join(tempDir(), 'a.sqlite'), { synchronous: 'FULL' })
    expect(databaseSettings(db)).toEqual({ journalMode: 'wal', synchronous: 'FULL' })
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1)
    closeDatabase(db)
  })

  it('enforces foreign keys', () => {
    const db = openDatabase(join(tempDir(), 'fk.sqlite'))
    db.exec('CREATE TABLE p (id INTEGER PRIMARY KEY) STRICT; CREATE TABLE c (p INTEGER REFERENCES p(id)) STRICT')
    expect(() => db.prepare('INSERT INTO c (p) VALUES (42)').run()).toThrow(/FOREIGN KEY/)
    closeDatabase(db)
  })

  it('refuses a file that is not a database with database_error', () => {
    const dir = tempDir()
    const path = join(dir, 'garbage.sqlite')
    writeFileSync(path, 'this is not sqlite'.repeat(100))
    expect(() => openDatabase(path)).toThrow(SecurityServerError)
  })
})

describe('migrations', () => {
  const create = (version: number, sql: string): Migration => ({ version, name: `m${version}`, up: (db) => db.exec(sql) })

  it('applies missing migrations once, in order', () => {
    const db = openDatabase(join(tempDir(), 'm.sqlite'))
    const set = { component: 'demo', migrations: [create(1, 'CREATE TABLE a (x INTEGER) STRICT'), create(2, 'ALTER TABLE a ADD COLUMN y TEXT')] }
    expect(migrate(db, [set])).toBe(2)
    expect(migrate(db, [set])).toBe(0)
    expect(appliedVersion(db, 'demo')).toBe(2)
    expect(schemaVersions(db)).toEqual([{ component: 'demo', version: 2 }])
    closeDatabase(db)
  })

  it('rolls back a failing migration and records nothing for it', () => {
    const db = openDatabase(join(tempDir(), 'f.sqlite'))
    const bad = { component: 'demo', migrations: [create(1, 'CREATE TABLE a (x INTEGER) STRICT'), create(2, 'CREATE TABLE b (x INTEGER) STRICT; SELECT * FROM nope')] }
    expect(() => migrate(db, [bad])).toThrow(/Migration demo 2/)
    expect(appliedVersion(db, 'demo')).toBe(1)
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'b'").get()).toBeUndefined()
    closeDatabase(db)
  })

  it('refuses a database newer than the code and a gap in numbering', () => {
    const db = openDatabase(join(tempDir(), 'n.sqlite'))
    migrate(db, [{ component: 'demo', migrations: [create(1, 'SELECT 1'), create(2, 'SELECT 1')] }])
    expect(() => migrate(db, [{ component: 'demo', migrations: [create(1, 'SELECT 1')] }])).toThrow(/newer/)
    expect(() => migrate(db, [{ component: 'x', migrations: [create(2, 'SELECT 1')] }])).toThrow(/numbered/)
    closeDatabase(db)
  })
})

describe('online backup', () => {
  it('copies a consistent database while it is open', async () => {
    const dir = tempDir()
    const db = openDatabase(join(dir, 'live.sqlite'))
    db.exec('CREATE TABLE t (n INTEGER) STRICT')
    const insert = db.prepare('INSERT INTO t (n) VALUES (?)')
    db.transaction(() => {
      for (let i = 0; i < 1000; i++) insert.run(i)
    })()
    const target = join(dir, 'backup', 'copy.sqlite')
    await backupDatabase(db, target)
    closeDatabase(db)
    const copy = new Database(target, { readonly: true })
    expect(copy.prepare('SELECT COUNT(*) AS c FROM t').get()).toEqual({ c: 1000 })
    expect(integrityCheck(copy as never)).toEqual(['ok'])
    copy.close()
  })
})

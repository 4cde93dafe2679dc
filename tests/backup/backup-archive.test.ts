import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  BackupStore, applyPendingRestore, deriveKey, extractBackup, hasPendingRestore, restoreIntoNewDirectory, stageRestore, writeBackup, type DerivedKey,
} from '../../src-main/backup'
import { closeDatabase, openDatabase, schemaVersions, type WritableDb } from '../../src-main/platform'
import { useTempDirs } from '../support/temp-dir'

/**
 * The backup file: everything of a data directory but what is left out, encrypted so that a wrong passphrase, a changed
 * byte, a cut-off file or extra bytes are refused before anything is put in place; restores that leave existing data
 * alone when refused.
 */
const tempDir = useTempDirs()
// Real scrypt at its smallest accepted cost, so each case takes milliseconds; the servers use DEFAULT_SCRYPT.
const FAST = { N: 2 ** 14, r: 8, p: 1 }
const PASSPHRASE = 'correct horse battery staple'

function dataDir(): string {
  const dir = join(tempDir(), 'data')
  mkdirSync(join(dir, 'tokens', 'software'), { recursive: true })
  mkdirSync(join(dir, 'globalconf', 'LAB'), { recursive: true })
  mkdirSync(join(dir, 'backups'), { recursive: true })
  mkdirSync(join(dir, 'archive'), { recursive: true })
  writeFileSync(join(dir, 'tokens', 'software', 'key-1.json'), '{"sealed":"…"}')
  writeFileSync(join(dir, 'globalconf', 'LAB', 'shared-params.xml'), '<conf/>'.repeat(30_000))
  writeFileSync(join(dir, 'gatehouse.json'), '{"internal":{"adminPort":4000}}')
  // Incompressible, so the encrypted file spans several 64 KiB chunks.
  writeFileSync(join(dir, 'tokens', 'software', 'key-2.bin'), randomBytes(200_000))
  writeFileSync(join(dir, 'archive', 'old.zip'), 'left out')
  writeFileSync(join(dir, 'gatehouse.pid'), '123')
  const db = openDatabase(join(dir, 'serverconf.sqlite'))
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT) STRICT')
  for (let i = 0; i < 500; i++) db.prepare('INSERT INTO t (v) VALUES (?)').run(`row ${i}`)
  closeDatabase(db)
  return dir
}

const exclude = (path: string): boolean => ['backups', 'archive', 'gatehouse.pid'].includes(path.split('/')[0] ?? '')

async function backUp(dir: string, key: DerivedKey, open: Map<string, WritableDb> = new Map()): Promise<string> {
  const out = join(dir, 'backups', 'test.ghbackup')
  await writeBackup({
    dataDir: dir, exclude, openDatabases: open, out, key, createdAt: new Date('2026-03-01T10:00:00Z'),
    schemaOf: (db) => schemaVersions(db as WritableDb), manifest: { gatehouseVersion: 'test', kind: 'manual', serverId: 'LAB/GOV/1/ss1', auditLog: null },
  })
  return out
}

function flip(file: string, at: number): void {
  const bytes = readFileSync(file)
  bytes[at] = (bytes[at] as number) ^ 0x01
  writeFileSync(file, bytes)
}

describe('an encrypted backup', () => {
  it('holds every file but the left-out ones, databases as consistent snapshots, and restores them byte for byte', async () => {
    const dir = dataDir()
    const db = openDatabase(join(dir, 'serverconf.sqlite'))
    const file = await backUp(dir, await deriveKey(PASSPHRASE, undefined, FAST), new Map([['serverconf.sqlite', db]]))
    db.prepare("INSERT INTO t (v) VALUES ('after the backup')").run()
    closeDatabase(db)
    expect(readFileSync(file).subarray(0, 19).toString()).toBe('GATEHOUSE-BACKUP 1\n')
    expect(readFileSync(file).includes(Buffer.from('row 1'))).toBe(false)
    expect(readdirSync(join(dir, 'backups'))).toEqual(['test.ghbackup'])

    const into = join(tempDir(), 'restored')
    const manifest = await extractBackup({ file, passphrase: PASSPHRASE, into })
    expect(manifest.files.map((f) => f.path).sort()).toEqual(['gatehouse.json', 'globalconf/LAB/shared-params.xml', 'serverconf.sqlite', 'tokens/software/key-1.json', 'tokens/software/key-2.bin'])
    expect(manifest).toMatchObject({ serverId: 'LAB/GOV/1/ss1', kind: 'manual', databases: [{ path: 'serverconf.sqlite' }] })
    for (const rel of ['gatehouse.json', 'globalconf/LAB/shared-params.xml', 'tokens/software/key-1.json', 'tokens/software/key-2.bin']) {
      expect(readFileSync(join(into, rel))).toEqual(readFileSync(join(dir, rel)))
    }
    const restored = openDatabase(join(into, 'serverconf.sqlite'))
    expect((restored.prepare('SELECT COUNT(*) AS n FROM t').get() as { n: number }).n).toBe(500)
    closeDatabase(restored)
    expect(statSync(join(into, 'tokens/software/key-1.json')).mode & 0o777).toBe(0o600)
  })

  it('refuses a wrong passphrase, a changed byte anywhere, a cut-off file and appended bytes, each with its reason', async () => {
    const dir = dataDir()
    const key = await deriveKey(PASSPHRASE, undefined, FAST)
    const file = await backUp(dir, key)
    const original = readFileSync(file)
    const attempt = async (passphrase = PASSPHRASE): Promise<string | undefined> => {
      const into = join(tempDir(), 'into')
      try {
        await extractBackup({ file, passphrase, into })
        return undefined
      } catch (error) {
        return `${(error as { code: string }).code}/${(error as { detail: string }).detail}`
      }
    }
    expect(await attempt('correct horse battery stapl')).toBe('backup_invalid/passphrase-incorrect')
    // The header's MAC, and a header field it covers: indistinguishable from a wrong passphrase.
    flip(file, original.indexOf(0x0a, 19) + 1)
    expect(await attempt()).toBe('backup_invalid/passphrase-incorrect')
    writeFileSync(file, original)
    flip(file, original.indexOf(Buffer.from('"createdAt":"2026')) + 16)
    expect(await attempt()).toBe('backup_invalid/passphrase-incorrect')
    writeFileSync(file, original)
    flip(file, original.length - 100)
    expect(await attempt()).toBe('backup_invalid/corrupted')
    writeFileSync(file, original)
    flip(file, 300)
    expect(await attempt()).toBe('backup_invalid/corrupted')
    // Cut at a chunk boundary: every chunk left authenticates, but none is flagged last.
    const body = original.indexOf(0x0a, 19) + 1 + 32
    writeFileSync(file, original.subarray(0, body + 2 * (65_536 + 16)))
    expect(await attempt()).toBe('backup_invalid/truncated')
    writeFileSync(file, original.subarray(0, body + 2 * (65_536 + 16) + 1000))
    expect(await attempt()).toBe('backup_invalid/corrupted')
    writeFileSync(file, Buffer.concat([original, Buffer.from('more')]))
    expect(await attempt()).toBe('backup_invalid/corrupted')
    writeFileSync(file, Buffer.from('PK\u0003\u0004 not a backup'))
    expect(await attempt()).toBe('backup_invalid/not-a-backup')
    writeFileSync(file, original)
    expect(await attempt()).toBeUndefined()
  })

  it('decrypts a scheduled backup, made with the kept key, with the passphrase alone', async () => {
    const dir = dataDir()
    const store = new BackupStore(join(dir, 'backups'), join(dir, 'backup-schedule.key'))
    store.writeScheduleKey(await deriveKey(PASSPHRASE, undefined, FAST), new Date())
    const kept = store.readScheduleKey()
    expect(readFileSync(join(dir, 'backup-schedule.key'), 'utf8')).not.toContain(PASSPHRASE)
    const file = await backUp(dir, kept as DerivedKey)
    await expect(extractBackup({ file, passphrase: PASSPHRASE, into: join(tempDir(), 'x') })).resolves.toMatchObject({ kind: 'manual' })
  })
})

describe('restoring', () => {
  it('into a new directory: refuses a wrong passphrase and a non-empty directory without writing anything', async () => {
    const dir = dataDir()
    const file = await backUp(dir, await deriveKey(PASSPHRASE, undefined, FAST))
    const parent = tempDir()
    const target = join(parent, 'new-data')
    await expect(restoreIntoNewDirectory({ file, passphrase: 'wrong passphrase!', dataDir: target })).rejects.toMatchObject({ code: 'backup_invalid', detail: 'passphrase-incorrect' })
    expect(readdirSync(parent)).toEqual([])
    mkdirSync(target)
    writeFileSync(join(target, 'keep.txt'), 'mine')
    await expect(restoreIntoNewDirectory({ file, passphrase: PASSPHRASE, dataDir: target })).rejects.toMatchObject({ code: 'conflict', detail: 'not-fresh' })
    expect(readdirSync(target)).toEqual(['keep.txt'])
    const empty = join(parent, 'empty')
    mkdirSync(empty)
    await restoreIntoNewDirectory({ file, passphrase: PASSPHRASE, dataDir: empty })
    expect(readdirSync(empty).sort()).toEqual(['gatehouse.json', 'globalconf', 'serverconf.sqlite', 'tokens'])
    expect(readdirSync(parent).sort()).toEqual(['empty', 'new-data'])
  })

  it('into a running server: staged aside, applied once its databases are closed, what it replaces moved aside', async () => {
    const dir = dataDir()
    const file = await backUp(dir, await deriveKey(PASSPHRASE, undefined, FAST))
    const fresh = join(tempDir(), 'fresh')
    mkdirSync(join(fresh, 'tls'), { recursive: true })
    writeFileSync(join(fresh, 'serverconf.sqlite'), 'the fresh server database')
    writeFileSync(join(fresh, 'serverconf.sqlite-wal'), 'its write-ahead log')
    writeFileSync(join(fresh, 'tls', 'admin.pem'), 'fresh admin certificate')
    await expect(stageRestore({ file, passphrase: 'not the passphrase', dataDir: fresh, actor: 'alice', now: new Date() })).rejects.toMatchObject({ detail: 'passphrase-incorrect' })
    expect(readdirSync(fresh).sort()).toEqual(['serverconf.sqlite', 'serverconf.sqlite-wal', 'tls'])
    expect(hasPendingRestore(fresh)).toBe(false)

    await stageRestore({ file, passphrase: PASSPHRASE, dataDir: fresh, actor: 'alice', now: new Date('2026-03-02T00:00:00Z') })
    expect(hasPendingRestore(fresh)).toBe(true)
    expect(readFileSync(join(fresh, 'serverconf.sqlite'), 'utf8')).toBe('the fresh server database')
    const applied = applyPendingRestore(fresh)
    expect(applied).toMatchObject({ actor: 'alice', manifest: { serverId: 'LAB/GOV/1/ss1', files: 5 } })
    const aside = join(fresh, applied?.aside ?? '')
    expect(readdirSync(aside).sort()).toEqual(['serverconf.sqlite', 'serverconf.sqlite-wal'])
    expect(existsSync(join(fresh, 'serverconf.sqlite-wal'))).toBe(false)
    expect(readFileSync(join(fresh, 'tls', 'admin.pem'), 'utf8')).toBe('fresh admin certificate')
    expect(readFileSync(join(fresh, 'gatehouse.json'), 'utf8')).toBe('{"internal":{"adminPort":4000}}')
    const restored = openDatabase(join(fresh, 'serverconf.sqlite'))
    expect((restored.prepare('SELECT COUNT(*) AS n FROM t').get() as { n: number }).n).toBe(500)
    closeDatabase(restored)
    expect(applyPendingRestore(fresh)).toBeUndefined()
  })
})

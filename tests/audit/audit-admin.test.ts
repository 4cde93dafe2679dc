import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ADMIN_ROLES } from '@shared/admin-api/admin-roles'
import type { IpcResult } from '@shared/admin-api/ipc-result'
import type { AuditChainVerdict, AuditExportFile, AuditLogEntry, BackupChunkDto, BackupCreatedDto, BackupsDto } from '@shared/admin-api/admin-api'
import { createSecurityServer, parseServerConfig, type SecurityServer } from '../../src-main/server'
import { silentLogger } from '../../src-main/platform'
import { initLab, openLab, startLabServer, type RunningLabServer } from '../../src-main/lab'
import { memberId } from '@shared/domain/identifiers'

/**
 * Every administrative change through the admin API lands in the hash-chained audit log with who, what, which object
 * and its state before and after; the PIN, passwords, passphrases and API key secrets used along the way appear
 * nowhere: not in the database files, not in the export.
 */
const PIN = 'Audit-Token-PIN-8642'
const NEW_PIN = 'Audit-Token-PIN-9753'
const PASSWORD = 'Audit-Password-Correct-7531'
const PASSPHRASE = 'Audit-Backup-Passphrase-1357'
const SCHEDULE_PASSPHRASE = 'Audit-Schedule-Passphrase-2468'
const caller = { actor: 'alice', roles: ADMIN_ROLES }

let dir: string
let lab: RunningLabServer
let server: SecurityServer
let apiKeySecret = ''

async function call<T>(domain: string, method: string, ...args: unknown[]): Promise<T> {
  const result = (await server.admin.call(caller, domain, method, args)) as IpcResult<T>
  if (!result.ok) throw Object.assign(new Error(`${domain}.${method}: ${result.error.code} ${result.error.message}`), result.error)
  return result.value
}

async function entries(event: string): Promise<AuditLogEntry[]> {
  return call<AuditLogEntry[]>('audit', 'search', { event })
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gatehouse-audit-admin-'))
  const labDir = join(dir, 'lab')
  await initLab(labDir, { keyAlgorithm: 'ec-p256' })
  const authority = openLab(labDir)
  authority.addMember(memberId('LAB', 'GOV', '1234'), 'Agency', 'SUB')
  authority.close()
  lab = await startLabServer(labDir, { ports: { ocsp: 0, tsa: 0, conf: 0 }, confExpireSeconds: 600 })
  const config = parseServerConfig({ internal: { adminPort: null, clientProxyHttpPort: null, clientProxyHttpsPort: null }, external: { serverProxyPort: null, ocspResponderPort: null }, shutdownGraceMs: 100 }, 'test')
  server = createSecurityServer({ dataDir: join(dir, 'data'), config, logger: silentLogger() })
  await server.start()
  const anchorXml = readFileSync(lab.anchor, 'utf8')
  const preview = await call<{ hash: string }>('initialization', 'importAnchor', anchorXml)
  await call('initialization', 'initialize', { anchorXml, confirmedHash: preview.hash, owner: 'LAB/GOV/1234', serverCode: 'SS1', softwareTokenPin: PIN })
  await call('tokens', 'logout', { tokenId: '0' })
  await call('tokens', 'login', { tokenId: '0', pin: PIN })
  await call('tokens', 'changePin', { tokenId: '0', oldPin: PIN, newPin: NEW_PIN })
  await call('users', 'add', { username: 'bob', password: PASSWORD, roles: ['observer'] })
  await call('users', 'setRoles', { username: 'bob', roles: ['observer', 'service-administrator'] })
  apiKeySecret = (await call<{ key: string }>('apiKeys', 'create', { label: 'monitoring', roles: ['observer'] })).key
  await call('settings', 'set', { name: 'message-log.keep-records-for', value: '45' })
  await call('clients', 'add', { client: 'LAB/GOV/1234/SUB' })
  await call('clients', 'setIsAuthentication', { client: 'LAB/GOV/1234/SUB', mode: 'SSLNOAUTH' })
}, 60_000)

afterAll(async () => {
  await server?.stop()
  await lab?.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('audit entries of admin changes', () => {
  it('name the object and its state before and after', async () => {
    const [setting] = await entries('settings.set')
    expect(setting).toMatchObject({
      actor: 'alice', outcome: 'success', object: 'message-log.keep-records-for',
      data: { input: { name: 'message-log.keep-records-for', value: '45' }, before: { value: '30', isDefault: true }, after: { value: '45', isDefault: false } },
    })
    const [roles] = await entries('users.setRoles')
    expect(roles).toMatchObject({ object: 'bob', data: { before: { roles: ['observer'] }, after: { roles: ['observer', 'service-administrator'] } } })
    const [connection] = await entries('clients.setIsAuthentication')
    expect(connection).toMatchObject({ object: 'LAB/GOV/1234/SUB', data: { before: { isAuthentication: 'NOSSL' }, after: { isAuthentication: 'SSLNOAUTH' } } })
    const [added] = await entries('clients.add')
    expect(added?.data).toMatchObject({ before: null, after: { path: 'LAB/GOV/1234/SUB', state: 'SAVED' } })
    const [pin] = await entries('tokens.changePin')
    expect(pin).toMatchObject({ object: '0', data: { input: { tokenId: '0', oldPin: '[redacted]', newPin: '[redacted]' } } })
    const [key] = await entries('apiKeys.create')
    expect(key?.data.after).toMatchObject({ label: 'monitoring', key: '[redacted]' })
  })

  it('record backups without their passphrase, and the download of one', async () => {
    const made = await call<BackupCreatedDto>('system', 'backup', { passphrase: PASSPHRASE })
    await call('system', 'setBackupSchedule', { passphrase: SCHEDULE_PASSPHRASE })
    const first = await call<BackupChunkDto>('system', 'downloadBackup', { name: made.name, offset: 0 })
    expect(first).toMatchObject({ name: made.name, offset: 0, size: made.size })
    const backup = (await entries('system.backup')).find((e) => e.actor === 'alice')
    expect(backup).toMatchObject({ actor: 'alice', data: { input: { passphrase: '[redacted]' }, after: { name: made.name } } })
    expect((await entries('system.downloadBackup'))[0]).toMatchObject({ actor: 'alice', object: made.name })
    // Setting the schedule's passphrase makes the first scheduled backup at once.
    let listed = await call<BackupsDto>('system', 'backups')
    for (let i = 0; i < 100 && !listed.backups.some((b) => b.kind === 'scheduled'); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      listed = await call<BackupsDto>('system', 'backups')
    }
    expect(listed.backups.map((b) => [b.kind, b.name === made.name])).toEqual([['scheduled', false], ['manual', true]])
    expect(listed.schedule).toMatchObject({ passphraseSet: true, intervalHours: 24, keepScheduled: 7, lastError: null })
    expect(listed.schedule.lastScheduledAt).not.toBeNull()
    expect((await entries('system.backup'))[0]).toMatchObject({ actor: 'system', outcome: 'success', data: { after: { kind: 'scheduled' } } })
    expect(listed.restoreRefusal).toBe('initialized')
    const short = await server.admin.call(caller, 'system', 'backup', [{ passphrase: 'short' }])
    expect(short.ok ? null : short.error).toMatchObject({ code: 'validation_failed', detail: 'passphrase' })
  })

  it('chain: the GUI verdict and the export verify; nothing secret is stored or exported', async () => {
    const verdict = await call<AuditChainVerdict>('audit', 'verify')
    expect(verdict).toMatchObject({ ok: true, problem: null })
    expect(verdict.entries).toBeGreaterThan(10)
    const file = await call<AuditExportFile>('audit', 'export')
    expect(file.mimeType).toBe('application/x-ndjson')
    const lines = file.content.trim().split('\n')
    expect(lines).toHaveLength(file.entries)
    expect(JSON.parse(lines[1] as string).prevHash).toBe(JSON.parse(lines[0] as string).hash)
    expect((await entries('audit.export'))[0]).toMatchObject({ actor: 'alice', data: { entries: file.entries } })

    await server.stop()
    const data = join(dir, 'data')
    const stored = readdirSync(data).filter((f) => f.startsWith('serverconf.sqlite')).map((f) => readFileSync(join(data, f)))
    expect(stored.length).toBeGreaterThan(0)
    for (const secret of [PIN, NEW_PIN, PASSWORD, PASSPHRASE, SCHEDULE_PASSPHRASE, apiKeySecret]) {
      for (const bytes of stored) expect(bytes.includes(Buffer.from(secret, 'utf8')), `${secret} in serverconf.sqlite`).toBe(false)
      expect(file.content).not.toContain(secret)
    }
    expect(existsSync(join(data, 'backup-schedule.key'))).toBe(true)
    expect(readFileSync(join(data, 'backup-schedule.key'), 'utf8')).not.toContain(SCHEDULE_PASSPHRASE)
  })
})

import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { BackupCreatedDto, EvidenceVerification } from '@shared/admin-api/admin-api'
import type { IpcResult } from '@shared/admin-api/ipc-result'
import { ADMIN_ROLES } from '@shared/admin-api/admin-roles'
import { createSecurityServer, parseServerConfig, restoreDataDirectory, type SecurityServer } from '../../src-main/server'
import { silentLogger } from '../../src-main/platform'
import { SOFTWARE_TOKEN_ID } from '../../src-main/signer'
import { TOKEN_PIN, startLabPair, type LabPair } from './lab-pair'

/**
 * Issue 16 item 7's test: back up the provider of a working lab pair, stop it, restore the backup into a new data
 * directory, start a server there on the provider's ports (the address global configuration lists for it), and the
 * consumer's signed exchange works with the same identity and keys; the restored message log's records verify.
 */
const PASSPHRASE = 'a long backup passphrase 2026'
const admin = { actor: 'backup-operator', roles: ADMIN_ROLES }
let pair: LabPair
let restored: SecurityServer | undefined

async function call<T>(server: SecurityServer, domain: string, method: string, ...args: unknown[]): Promise<T> {
  const result = (await server.admin.call(admin, domain, method, args)) as IpcResult<T>
  if (!result.ok) throw Object.assign(new Error(`${domain}.${method}: ${result.error.code} ${result.error.message}`), result.error)
  return result.value
}

async function callPets(): Promise<{ status: number; queryId: string | null; text: string }> {
  const response = await fetch(`${pair.consumer.clientProxyUrl}/r1/LAB/GOV/2002/provider/pets/pets/7`, { headers: { 'X-Road-Client': 'LAB/GOV/1001/consumer' } })
  return { status: response.status, queryId: response.headers.get('x-road-id'), text: await response.text() }
}

async function until<T>(what: string, read: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs
  for (;;) {
    const value = await read()
    if (ok(value)) return value
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value).slice(0, 500)}`)
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}

beforeAll(async () => {
  pair = await startLabPair({ messageLog: { timeStampingIntervalSeconds: 3600 } })
}, 90_000)

afterAll(async () => {
  await restored?.stop()
  await pair?.close()
})

describe('a backup of a working server, restored on a new data directory', () => {
  it('serves the same exchange with the same identity and keys, and its message log verifies', async () => {
    const provider = pair.provider.server
    const before = [await callPets(), await callPets()]
    expect(before.map((a) => a.status)).toEqual([200, 200])
    await call(provider, 'messageLog', 'timestampNow')
    const identity = provider.core.serverConf.identity()
    const certificates = provider.core.signer.listCertificates().map((c) => c.id).sort()

    const made = await call<BackupCreatedDto>(provider, 'system', 'backup', { passphrase: PASSPHRASE })
    expect(made).toMatchObject({ kind: 'manual', databases: expect.arrayContaining(['serverconf.sqlite', 'messagelog.sqlite', 'opmonitor.sqlite']) })
    const file = join(pair.provider.dataDir, 'backups', made.name)
    await provider.stop()

    const target = join(pair.root, 'provider-restored')
    await expect(restoreDataDirectory({ dataDir: target, file, passphrase: 'not the passphrase', actor: 'cli:test' }))
      .rejects.toMatchObject({ code: 'backup_invalid', detail: 'passphrase-incorrect' })
    expect(existsSync(target)).toBe(false)

    const started = Date.now()
    const manifest = await restoreDataDirectory({ dataDir: target, file, passphrase: PASSPHRASE, actor: 'cli:test' })
    const restoreMs = Date.now() - started
    expect(manifest.serverId).toBe('LAB/GOV/2002/ss-provider')
    expect(readdirSync(target)).toEqual(expect.arrayContaining(['serverconf.sqlite', 'messagelog.sqlite', 'opmonitor.sqlite', 'tokens', 'globalconf', 'tls']))
    expect(readdirSync(target)).not.toContain('backups')

    const config = parseServerConfig({
      internal: { host: '127.0.0.1', adminPort: null, clientProxyHttpPort: 0, clientProxyHttpsPort: null },
      external: { host: '127.0.0.1', serverProxyPort: pair.provider.serverProxyPort, ocspResponderPort: pair.provider.ocspResponderPort },
      logging: { level: 'silent' },
      shutdownGraceMs: 200,
    }, 'restored')
    const server = createSecurityServer({ dataDir: target, config, logger: silentLogger(), messageLog: { timeStampingIntervalSeconds: 3600 } })
    restored = server
    pair.provider.server = server
    const serving = Date.now()
    await server.start()
    await call(server, 'tokens', 'login', { tokenId: SOFTWARE_TOKEN_ID, pin: TOKEN_PIN })
    expect(server.core.serverConf.identity()).toEqual(identity)
    expect(server.core.signer.listCertificates().map((c) => c.id).sort()).toEqual(certificates)

    const after = await until('an exchange through the restored provider', callPets, (a) => a.status === 200)
    const servingMs = Date.now() - serving
    expect(after.text).toContain('7')

    for (const queryId of [...before.map((a) => a.queryId), after.queryId]) {
      const verification = await call<EvidenceVerification>(server, 'messageLog', 'verify', { queryId })
      expect(verification.containers.length, `records of ${queryId}`).toBeGreaterThanOrEqual(2)
      if (queryId !== after.queryId) expect(verification.containers.map((c) => c.verdict), `${queryId}: ${JSON.stringify(verification.containers.map((c) => c.explanation))}`).toEqual(verification.containers.map(() => 'valid'))
    }
    const audit = await call<{ ok: boolean }>(server, 'audit', 'verify')
    expect(audit.ok).toBe(true)
    const restoreEntry = (await server.admin.audit.search({ event: 'system.restore' }))[0]
    expect(restoreEntry).toMatchObject({ actor: 'cli:test', object: 'LAB/GOV/2002/ss-provider', outcome: 'success' })
    console.info(`restore into a new data directory: ${restoreMs} ms; restored server start to first exchange: ${servingMs} ms`)
  }, 120_000)
})

import crypto from 'node:crypto'
import fs from 'node:fs'
import { syncBuiltinESMExports } from 'node:module'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DatabaseDerivedCache, ManualClock, openDatabase, closeDatabase, type WritableDb } from '../../src-main/platform'
import { createServerConf } from '../../src-main/server-conf'
import { createSigner } from '../../src-main/signer'
import { startLabPair, type LabPair } from './lab-pair'

/**
 * Issue 15 §2 and §3 by counting, not timing (counts hold on a loaded machine): per exchange through a running pair,
 * the table reads on server configuration (SELECTs other than the one change probe), the token-file stats, and the
 * message-log transactions committed on the event loop (each waits on fsync there). And the other side of the rule:
 * a change to server configuration — through this process or another connection — applies to the very next message.
 */
let pair: LabPair
const EXCHANGES = 20

interface Counts {
  selects: number
  /** Uses of the derived-value caches, and how many of them asked SQLite's data_version (the rest only total_changes). */
  lookups: number
  probes: number
  tokenStats: number
  mainThreadLogCommits: number
  /** Hash computations (createHash) on the message path: digests, signature and cache keys. */
  hashes: number
  /** Reads and stats of the servers' periodic work meanwhile (status facts, readiness, alerts), not of the messages. */
  background: number
}
const counts: Counts = { selects: 0, lookups: 0, probes: 0, tokenStats: 0, mainThreadLogCommits: 0, hashes: 0, background: 0 }

/** Work the servers do on their own schedule while the exchanges run (the status facts sampled for metrics, a reconcile). */
const BACKGROUND = /reconcileNow|server-facts|alert-center|traffic-readiness|global-conf-admin/
const inBackground = (): boolean => BACKGROUND.test(new Error().stack ?? '')
const restore: Array<() => void> = []

function countStatements(db: WritableDb): void {
  const prepare = db.prepare
  db.prepare = ((sql: string) => {
    // The derived caches' change probes (prepared once per cache) are not table reads.
    const probe = sql.includes('data_version') || sql.includes('total_changes()')
    if (!probe && /^\s*SELECT/i.test(sql)) {
      if (inBackground()) counts.background++
      else counts.selects++
    }
    return prepare.call(db, sql)
  }) as typeof db.prepare
  restore.push(() => {
    db.prepare = prepare
  })
}

function countLogCommits(db: WritableDb): void {
  const transaction = db.transaction
  db.transaction = ((work: never) => {
    counts.mainThreadLogCommits++
    return transaction.call(db, work)
  }) as typeof db.transaction
  restore.push(() => {
    db.transaction = transaction
  })
}

function countLookups(): void {
  const get = DatabaseDerivedCache.prototype.get
  const caches = new Map<DatabaseDerivedCache, number>()
  DatabaseDerivedCache.prototype.get = function (this: DatabaseDerivedCache, ...args: Parameters<typeof get>) {
    counts.lookups++
    if (!caches.has(this)) caches.set(this, this.stats.versionProbes)
    return get.apply(this, args)
  } as typeof get
  restore.push(() => {
    DatabaseDerivedCache.prototype.get = get
    for (const [cache, before] of caches) counts.probes += cache.stats.versionProbes - before
  })
}

function countTokenStats(): void {
  const { statSync, existsSync } = fs
  // The CommonJS module is writable at run time; syncBuiltinESMExports carries the wrappers to every importer.
  const writable = fs as { statSync: unknown; existsSync: unknown }
  const isToken = (path: unknown): boolean => String(path).includes(join('tokens', 'software'))
  writable.statSync = (path: fs.PathLike, ...rest: never[]) => {
    if (isToken(path)) {
      if (inBackground()) counts.background++
      else counts.tokenStats++
    }
    return (statSync as (...a: unknown[]) => unknown)(path, ...rest)
  }
  writable.existsSync = (path: fs.PathLike) => {
    if (isToken(path)) {
      if (inBackground()) counts.background++
      else counts.tokenStats++
    }
    return existsSync(path)
  }
  syncBuiltinESMExports()
  restore.push(() => {
    writable.statSync = statSync
    writable.existsSync = existsSync
    syncBuiltinESMExports()
  })
}

function countHashes(): void {
  const { createHash } = crypto
  const writable = crypto as { createHash: unknown }
  writable.createHash = (...args: Parameters<typeof createHash>) => {
    if (!inBackground()) counts.hashes++
    return createHash(...args)
  }
  syncBuiltinESMExports()
  restore.push(() => {
    writable.createHash = createHash
    syncBuiltinESMExports()
  })
}

beforeAll(async () => {
  pair = await startLabPair({ messageLog: { timeStampingIntervalSeconds: 3600 } })
}, 90_000)

afterAll(async () => {
  for (const undo of restore.splice(0).reverse()) undo()
  await pair?.close()
})

async function callPets(id = 1): Promise<number> {
  const response = await fetch(`${pair.consumer.clientProxyUrl}/r1/LAB/GOV/2002/provider/pets/pets/${id}`, { headers: { 'X-Road-Client': 'LAB/GOV/1001/consumer' } })
  await response.arrayBuffer()
  return response.status
}

describe('per exchange through a running pair', () => {
  it(`reads no server-configuration table, stats no token file and commits no message log on the event loop (${EXCHANGES} exchanges)`, async () => {
    // Warm: the first exchange of a connection derives what the next ones reuse.
    for (let i = 0; i < 3; i++) expect(await callPets()).toBe(200)
    // CPU of this process (both servers, the sample service, the client) per exchange, before any counting.
    const cpu = process.cpuUsage()
    for (let i = 0; i < EXCHANGES; i++) expect(await callPets()).toBe(200)
    const used = process.cpuUsage(cpu)
    for (const side of [pair.consumer, pair.provider]) {
      countStatements(side.server.core.databases.local)
      countLogCommits(side.server.core.databases.messageLog)
    }
    countTokenStats()
    countHashes()
    countLookups()
    for (let i = 0; i < EXCHANGES; i++) expect(await callPets()).toBe(200)
    for (const undo of restore.splice(0).reverse()) undo()
    const per = (n: number): number => Number((n / EXCHANGES).toFixed(2))
    // Both servers together, per exchange; printed for the before/after table.
    process.stdout.write(`per exchange (pair): server-conf SELECTs ${per(counts.selects)}, lookups ${per(counts.lookups)} (data_version asked ${per(counts.probes)}), token-file stats ${per(counts.tokenStats)}, hash computations ${per(counts.hashes)}, ` +
      `message-log commits on the event loop ${per(counts.mainThreadLogCommits)}; periodic work meanwhile ${counts.background} reads/stats; ` +
      `CPU of this process (both servers, uncounted run) ${per((used.user + used.system) / 1000)} ms\n`)
    // 15 per server and exchange before issue 15 §2; now none on the message path, except one re-read per lookup when
    // the servers' own periodic work changed server configuration meanwhile (an OCSP refresh, a status note).
    expect(counts.selects / EXCHANGES).toBeLessThan(0.5)
    expect(counts.tokenStats).toBe(0)
    // Issue 15 §5: the change probe once per message and server (7 per exchange before, then 5 while the signer's and
    // our auth OCSP lookups probed in their own runs): one message's scope covers server configuration and the signer.
    expect(counts.probes / EXCHANGES).toBeLessThanOrEqual(2)
    // Issue 15 §3: four records per exchange (request and response on each side), each committed in the writer thread.
    expect(counts.mainThreadLogCommits).toBe(0)
  })

  it('a revoked access right applies to the next message, then a grant again', async () => {
    const conf = pair.provider.server.core.serverConf
    expect(await callPets()).toBe(200)
    conf.revokeAccess(pair.pets, pair.consumer.subsystem)
    expect(await callPets()).toBe(500)
    conf.grantAccess(pair.pets, pair.consumer.subsystem)
    expect(await callPets()).toBe(200)
  })

  it('a change committed by another connection (another process, a CLI) applies to the next message', async () => {
    const other = openDatabase(join(pair.provider.dataDir, 'serverconf.sqlite'))
    try {
      const conf = createServerConf(other, new ManualClock())
      expect(await callPets()).toBe(200)
      conf.setServiceEnabled(pair.pets, false, 'maintenance')
      expect(await callPets()).toBe(500)
      conf.setServiceEnabled(pair.pets, true)
      expect(await callPets()).toBe(200)
    } finally {
      closeDatabase(other)
    }
  })

  it('a signing certificate disabled by another connection stops the next message, enabled again it signs again', async () => {
    const other = openDatabase(join(pair.provider.dataDir, 'serverconf.sqlite'))
    try {
      // The provider's signer looks its signing context up under the message's scope, after the message's first probe.
      const signer = createSigner({ db: other, dataDir: pair.provider.dataDir })
      const signing = new Set(signer.listKeys().filter((k) => k.usage === 'sign').map((k) => k.id))
      const active = signer.listCertificates().filter((c) => signing.has(c.keyId) && c.storedState === 'active' && c.memberId?.memberCode === '2002')
      expect(active.length).toBeGreaterThan(0)
      expect(await callPets()).toBe(200)
      for (const cert of active) signer.setCertificateState(cert.id, 'disabled')
      expect(await callPets()).toBe(500)
      for (const cert of active) signer.setCertificateState(cert.id, 'active')
      expect(await callPets()).toBe(200)
    } finally {
      closeDatabase(other)
    }
  })
})

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { formatIdPath, memberId, serviceId, subsystemId, type ClientId, type ServiceId } from '@shared/domain/identifiers'
import { ADMIN_ROLES } from '@shared/admin-api/admin-roles'
import type { ClusterNodesDto, NodeTypeDto, SystemStatus } from '@shared/admin-api/admin-api'
import type { IpcResult } from '@shared/admin-api/ipc-result'
import { createSecurityServer, parseServerConfig, type SecurityServer } from '../../src-main/server'
import { DatabaseDerivedCache, openPostgres, silentLogger, type PostgresDb } from '../../src-main/platform'
import { decideAccess } from '../../src-main/access-control'
import { describePostgres } from '../support/postgres'
import type { ThrowawayPostgres } from '../../scripts/lib/throwaway-postgres'

/**
 * Cluster mode on a real PostgreSQL (issue 18): a primary and a secondary `createSecurityServer` share the server
 * configuration; a change made on the primary reaches the secondary's traffic decisions through LISTEN/NOTIFY; the
 * secondary refuses configuration changes but not its own token login; both nodes are listed with their heartbeat;
 * a lost change feed reconnects and re-reads everything.
 */
const caller = { actor: 'tester', roles: ADMIN_ROLES }
const owner = memberId('LAB', 'GOV', '2002')
const provider = subsystemId('LAB', 'GOV', '2002', 'provider')
const consumer = subsystemId('LAB', 'GOV', '1001', 'consumer')
const pets: ServiceId = serviceId(provider, 'pets')

async function call<T>(server: SecurityServer, domain: string, method: string, ...args: unknown[]): Promise<IpcResult<T>> {
  return (await server.admin.call(caller, domain, method, args)) as IpcResult<T>
}

async function ok<T>(server: SecurityServer, domain: string, method: string, ...args: unknown[]): Promise<T> {
  const result = await call<T>(server, domain, method, ...args)
  if (!result.ok) throw new Error(`${domain}.${method}: ${result.error.code} ${result.error.message}`)
  return result.value
}

describePostgres('cluster mode: two nodes on one PostgreSQL', (started) => {
  let dir: string
  let pg: ThrowawayPostgres
  let primary: SecurityServer
  let secondary: SecurityServer
  let admin: PostgresDb

  const node = (name: string, role: 'primary' | 'secondary'): SecurityServer => createSecurityServer({
    dataDir: join(dir, name),
    config: parseServerConfig({
      internal: { adminPort: null, clientProxyHttpPort: null, clientProxyHttpsPort: null },
      external: { serverProxyPort: null, ocspResponderPort: null },
      shutdownGraceMs: 100,
      cluster: { node: name, role, postgres: { host: pg.host, port: pg.port, user: pg.user, database: pg.database, schema: 'cluster_a' } },
    }, 'test'),
    logger: silentLogger(),
  })

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gh-cluster-'))
    pg = started()
    admin = openPostgres({ host: pg.host, port: pg.port, user: pg.user, database: pg.database })
    admin.exec('CREATE SCHEMA cluster_a')
    primary = node('node-a', 'primary')
    await primary.start()
    const conf = primary.core.serverConf
    conf.initialize(owner, 'ss-provider')
    conf.addClient(provider, 'REGISTERED')
    conf.addService(provider, { code: 'pets', url: 'http://127.0.0.1:9/pets', timeoutSeconds: 10 })
    conf.grantAccess(pets, consumer)
    secondary = node('node-b', 'secondary')
    await secondary.start()
  }, 30_000)

  afterAll(async () => {
    await secondary?.stop()
    await primary?.stop()
    admin?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('refuses to start a secondary on a schema the primary has not migrated', () => {
    admin.exec('CREATE SCHEMA cluster_empty')
    // createSecurityServer opens the databases: the refusal comes before anything listens.
    expect(() => createSecurityServer({
      dataDir: join(dir, 'early'),
      config: parseServerConfig({ cluster: { node: 'early', role: 'secondary', postgres: { host: pg.host, port: pg.port, user: pg.user, database: pg.database, schema: 'cluster_empty' } } }, 'test'),
      logger: silentLogger(),
    })).toThrow(/server-conf schema version 0, this Gatehouse uses \d+: start the primary node on this version first/)
  })

  it('shares the configuration: the secondary serves what the primary stored, and says which node it is', async () => {
    expect(secondary.core.serverConf.identity()?.serverId).toEqual(primary.core.serverConf.identity()?.serverId)
    expect(await ok<NodeTypeDto>(primary, 'system', 'nodeType')).toEqual({ nodeType: 'PRIMARY', nodeName: 'node-a' })
    expect(await ok<NodeTypeDto>(secondary, 'system', 'nodeType')).toEqual({ nodeType: 'SECONDARY', nodeName: 'node-b' })
  })

  it("moves the secondary's traffic decision within a second of a change on the primary", async () => {
    // The server proxy's decision over the cache it decides from (proxy-runtime.ts): warm, it answers from memory
    // until the change stamp of the shared connection moves.
    const lookups = new DatabaseDerivedCache(secondary.core.databases.serverConf)
    const groups = { localGroupMembers: () => [], isGlobalGroupMember: () => false }
    const allowed = (client: ClientId): boolean => decideAccess(
      { client, service: pets, method: 'GET', path: '/pets' },
      lookups.get(`rights:${formatIdPath(pets)}`, () => secondary.core.serverConf.accessRightsFor(pets)),
      groups,
    ).allowed
    expect(allowed(consumer)).toBe(true)
    expect(allowed(consumer)).toBe(true)
    expect(lookups.stats.hits).toBe(1)
    const seen = new Promise<string>((resolve) => secondary.events.once('configuration-changed', (e) => resolve(e.event)))
    const t0 = performance.now()
    await ok(primary, 'accessRights', 'revoke', { service: formatIdPath(pets), subject: formatIdPath(consumer) })
    await expect.poll(() => allowed(consumer), { timeout: 3000, interval: 5 }).toBe(false)
    const ms = performance.now() - t0
    process.stdout.write(`cluster: access right revoked on the primary, refused on the secondary after ${ms.toFixed(0)} ms\n`)
    expect(ms).toBeLessThan(3000)
    expect(await seen).toBe('cluster.node-a')
  })

  it("trusts no derived value while the feed is down, and heartbeats move nothing", () => {
    const shared = secondary.core.databases.shared
    if (shared === undefined) throw new Error('the secondary has no shared connection')
    const stamp = shared.changeStamp()
    shared.quietly(() => shared.prepare('UPDATE cluster_nodes SET version = version WHERE name = ?').run('node-b'))
    expect(shared.changeStamp()).toBe(stamp)
    shared.followChanges(false)
    const down = shared.changeStamp()
    expect(shared.changeStamp()).not.toBe(down)
    shared.followChanges(true)
    const up = shared.changeStamp()
    expect(shared.changeStamp()).toBe(up)
  })

  it('replaces a lost configuration connection, in the background, at a statement outside a transaction', async () => {
    const terminate = (node: string): unknown[] =>
      admin.prepare('SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity WHERE application_name = ?').all(`gatehouse ${node} configuration`)
    expect(terminate('node-b')).toHaveLength(1)
    await expect.poll(() => {
      try {
        return secondary.core.serverConf.identity()?.serverId.serverCode
      } catch {
        return 'failed'
      }
    }, { timeout: 5000, interval: 20 }).toBe('ss-provider')
    // A writing transaction on the primary after its connection was cut: a new session, the change committed and seen.
    expect(terminate('node-a')).toHaveLength(1)
    const seen = new Promise<string>((resolve) => secondary.events.once('configuration-changed', (e) => resolve(e.event)))
    await expect.poll(async () => (await call(primary, 'localGroups', 'add', { client: formatIdPath(provider), groupCode: 'after-cut', description: 'x' })).ok, { timeout: 5000 }).toBe(true)
    expect(await seen).toBe('cluster.node-a')
  })

  it('refuses configuration changes on the secondary, with the code the GUI words', async () => {
    const refused = await call(secondary, 'accessRights', 'grant', { service: formatIdPath(pets), subject: formatIdPath(consumer) })
    expect(refused.ok ? undefined : refused.error.code).toBe('secondary_node_read_only')
    const settings = await call(secondary, 'settings', 'set', { name: 'audit-log.keep-entries-for', value: '30' })
    expect(settings.ok ? undefined : settings.error.code).toBe('secondary_node_read_only')
    // Per node: the software token's login (the token is not initialized here: its own error, not the refusal).
    const login = await call(secondary, 'tokens', 'login', { tokenId: '0', pin: 'x' })
    expect(login.ok ? undefined : login.error.code).not.toBe('secondary_node_read_only')
    // A data-directory backup would miss the shared configuration: refused on every node, pg_dump named.
    const backup = await call(primary, 'system', 'backup', { passphrase: 'a long enough passphrase' })
    expect(backup.ok ? undefined : [backup.error.code, backup.error.message]).toEqual(['unsupported', expect.stringContaining('pg_dump')])
    // Nor is a data-directory backup restored into a node: refused before any upload is kept, and at the restore.
    const restore = await call(primary, 'system', 'restore', { upload: 'any', passphrase: 'a long enough passphrase' })
    expect(restore.ok ? undefined : [restore.error.code, restore.error.detail, restore.error.message]).toEqual(['unsupported', 'cluster', expect.stringContaining('pg_restore')])
    const upload = await call(secondary, 'system', 'uploadBackup', { offset: 0, data: 'AAAA' })
    expect(upload.ok ? undefined : [upload.error.code, upload.error.detail]).toEqual(['unsupported', 'cluster'])
    // The refusal is in the secondary's own audit log.
    const audit = await ok<Array<{ event: string; errorCode: string | null }>>(secondary, 'audit', 'search', {})
    expect(audit).toContainEqual(expect.objectContaining({ event: 'accessRights.grant', errorCode: 'secondary_node_read_only' }))
  })

  it("shows the shared database on a node's status, where and which schema versions, never a password", async () => {
    const status = await ok<SystemStatus>(secondary, 'system', 'status')
    expect(status.sharedDatabase).toMatchObject({ host: pg.host, port: pg.port, database: pg.database, user: pg.user, schema: 'cluster_a', reachable: true, problem: null })
    expect(status.sharedDatabase?.versions).toContainEqual({ component: 'server-conf', version: expect.any(Number) })
    expect(Object.keys(status.sharedDatabase ?? {})).not.toContain('password')
  })

  it('lists both nodes, alive, with their role and heartbeat', async () => {
    const listed = await ok<ClusterNodesDto>(primary, 'system', 'clusterNodes')
    expect(listed).toMatchObject({ nodeType: 'PRIMARY', heartbeatSeconds: 2, staleAfterSeconds: 6, changeFeed: { state: 'listening' } })
    expect(listed.nodes.map((n) => [n.name, n.role, n.alive, n.self])).toEqual([['node-a', 'primary', true, true], ['node-b', 'secondary', true, false]])
    expect(listed.nodes[1]).toMatchObject({ readiness: { ready: false }, messageLog: { acceptingMessages: true } })
  })

  it('reconnects a lost change feed and re-reads everything', async () => {
    const resynced = new Promise<string>((resolve) => secondary.events.on('configuration-changed', (e) => {
      if (e.event === 'cluster.resync') resolve(e.event)
    }))
    const killed = admin.prepare("SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity WHERE application_name = 'gatehouse node-b changes'").all()
    expect(killed).toHaveLength(1)
    expect(await resynced).toBe('cluster.resync')
    const feed = (await ok<ClusterNodesDto>(secondary, 'system', 'clusterNodes')).changeFeed
    expect(feed).toMatchObject({ state: 'listening', reconnects: 1 })
    // Listening again: a change on the primary still arrives.
    const seen = new Promise<string>((resolve) => secondary.events.once('configuration-changed', (e) => resolve(e.event)))
    await ok(primary, 'accessRights', 'grant', { service: formatIdPath(pets), subject: formatIdPath(consumer) })
    expect(await seen).toBe('cluster.node-a')
  })

  it('forgets a stale node on the primary only, never itself nor a live node, and audits it', async () => {
    const long = new Date(Date.now() - 3_600_000).toISOString()
    admin.prepare('INSERT INTO cluster_a.cluster_nodes (name, role, version, addresses, started_at, heartbeat_at, readiness, message_log) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run('node-gone', 'secondary', '0.9.0', '[]', long, long, '{"ready":false,"failing":[]}', '{"acceptingMessages":false,"unstampedRecords":false,"lastTimestampAt":null,"timestampingFailingSince":null}')
    const code = (r: IpcResult<unknown>): unknown => (r.ok ? 'ok' : [r.error.code, r.error.detail])
    expect(code(await call(secondary, 'system', 'forgetClusterNode', { name: 'node-gone' }))).toEqual(['secondary_node_read_only', undefined])
    expect(code(await call(primary, 'system', 'forgetClusterNode', { name: 'node-a' }))).toEqual(['action_not_possible', 'self'])
    expect(code(await call(primary, 'system', 'forgetClusterNode', { name: 'node-b' }))).toEqual(['action_not_possible', 'alive'])
    expect(code(await call(primary, 'system', 'forgetClusterNode', { name: 'node-never' }))).toEqual(['not_found', 'name'])
    expect((await ok<ClusterNodesDto>(primary, 'system', 'clusterNodes')).nodes.map((n) => n.name)).toEqual(['node-a', 'node-b', 'node-gone'])
    expect(code(await call(primary, 'system', 'forgetClusterNode', { name: 'node-gone' }))).toBe('ok')
    expect((await ok<ClusterNodesDto>(secondary, 'system', 'clusterNodes')).nodes.map((n) => n.name)).toEqual(['node-a', 'node-b'])
    const audit = await ok<Array<{ event: string; object: string | null; outcome: string; data: { before?: { version?: string } } }>>(primary, 'audit', 'search', {})
    expect(audit).toContainEqual(expect.objectContaining({ event: 'system.forgetClusterNode', object: 'node-gone', outcome: 'success', data: expect.objectContaining({ before: expect.objectContaining({ version: '0.9.0' }) }) }))
  })
})

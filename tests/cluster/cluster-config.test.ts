import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { applyClusterOverrides, parseServerConfig, type ServerConfig } from '../../src-main/server'
import { bootstrapDifferences } from '../../src-main/server/server-config'
import { clusterPostgresOptions } from '../../src-main/server/cluster-config'

const dir = mkdtempSync(join(tmpdir(), 'gh-cluster-config-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('the bootstrap file cluster section and the --cluster-* flags', () => {
  it('is absent by default (standalone, SQLite)', () => {
    expect(parseServerConfig({}, 'test').cluster).toBeUndefined()
    expect(applyClusterOverrides(parseServerConfig({}, 'test'), {}).cluster).toBeUndefined()
  })

  it('reads a complete section from the file, with the PostgreSQL port defaulted', () => {
    const config = parseServerConfig({ cluster: { node: 'n1', role: 'primary', postgres: { host: 'db', user: 'gh', database: 'conf', schema: 'ss1' } } }, 'test')
    expect(config.cluster).toEqual({ node: 'n1', role: 'primary', postgres: { host: 'db', port: 5432, user: 'gh', database: 'conf', schema: 'ss1' } })
  })

  it('completes and overrides the file from the command line', () => {
    const file = parseServerConfig({ cluster: { node: 'n1', role: 'primary', postgres: { host: 'db', user: 'gh', database: 'conf' } } }, 'test')
    const config = applyClusterOverrides(file, { node: 'n2', role: 'secondary', db: 'postgres://other:s3cr%40t@[::1]:6543/shared?schema=ss_a' })
    expect(config.cluster).toEqual({
      node: 'n2', role: 'secondary', postgres: { host: '::1', port: 6543, user: 'other', database: 'shared', password: 's3cr@t', schema: 'ss_a' },
    })
    const fromNothing = applyClusterOverrides(parseServerConfig({}, 'test'), { node: 'a', role: 'primary', db: 'postgresql://gh@127.0.0.1/conf' })
    expect(fromNothing.cluster?.postgres).toEqual({ host: '127.0.0.1', port: 5432, user: 'gh', database: 'conf' })
  })

  it('refuses what cannot make a node, naming the field', () => {
    expect(() => applyClusterOverrides(parseServerConfig({}, 'test'), { node: 'a' })).toThrow(/field 'cluster.role'/)
    expect(() => applyClusterOverrides(parseServerConfig({}, 'test'), { node: 'a', role: 'boss', db: 'postgres://u@h/d' })).toThrow(/cluster.role/)
    expect(() => applyClusterOverrides(parseServerConfig({}, 'test'), { node: 'a b', role: 'primary', db: 'postgres://u@h/d' })).toThrow(/cluster.node/)
    expect(() => applyClusterOverrides(parseServerConfig({}, 'test'), { node: 'a', role: 'primary', db: 'mysql://u@h/d' })).toThrow(/postgres:\/\//)
    expect(() => applyClusterOverrides(parseServerConfig({}, 'test'), { node: 'a', role: 'primary', db: 'postgres://h/d' })).toThrow(/user, a host and a database/)
    expect(() => applyClusterOverrides(parseServerConfig({}, 'test'), { node: 'a', role: 'primary', db: 'postgres://u@h/d?schema=x;drop' })).toThrow(/cluster.postgres.schema/)
    expect(() => applyClusterOverrides(parseServerConfig({}, 'test'), { node: 'a', role: 'primary', db: 'postgres://u@h/d?sslmode=off' })).toThrow(/only schema/)
  })

  it('reads the password from a file only others cannot read', () => {
    const file = join(dir, 'pw')
    writeFileSync(file, 'from-file\nignored\n', { mode: 0o600 })
    const cluster = { node: 'n1', role: 'primary' as const, postgres: { host: 'db', port: 5432, user: 'gh', database: 'conf', passwordFile: file } }
    expect(clusterPostgresOptions(cluster, 'configuration')).toMatchObject({ password: 'from-file', applicationName: 'gatehouse n1 configuration' })
    const open = join(dir, 'pw-open')
    writeFileSync(open, 'x\n', { mode: 0o644 })
    expect(() => clusterPostgresOptions({ ...cluster, postgres: { ...cluster.postgres, passwordFile: open } }, 'configuration')).toThrow(/chmod 600/)
  })

  it('does not ask for a restart because the cluster section came from the command line, but does for an edit of the file', () => {
    const dataDir = join(dir, 'node')
    const flags = { node: 'a', role: 'secondary', db: 'postgres://u@h/d' }
    const overrides = (fromFile: ServerConfig): ServerConfig => applyClusterOverrides(fromFile, flags)
    const running = overrides(parseServerConfig({}, 'test'))
    expect(bootstrapDifferences(dataDir, undefined, running, overrides)).toEqual([])
    expect(bootstrapDifferences(dataDir, undefined, { ...running, shutdownGraceMs: 1 }, overrides)).toEqual(['shutdownGraceMs'])

    // A node configured by its file: editing the file's cluster section takes effect at the next restart.
    const configured = join(dir, 'configured')
    const section = { node: 'n1', role: 'primary', postgres: { host: 'db', user: 'gh', database: 'conf' } }
    const configFile = join(dir, 'configured.json')
    writeFileSync(configFile, JSON.stringify({ cluster: section }))
    const fromFile = parseServerConfig({ cluster: section }, 'test')
    expect(bootstrapDifferences(configured, configFile, fromFile)).toEqual([])
    writeFileSync(configFile, JSON.stringify({ cluster: { ...section, role: 'secondary', postgres: { ...section.postgres, host: 'db2' } } }))
    expect(bootstrapDifferences(configured, configFile, fromFile).sort()).toEqual(['cluster.postgres.host', 'cluster.role'])
    // The same edit under a command line that sets the role itself: only the host is a difference.
    const roleFlag = (c: ServerConfig): ServerConfig => applyClusterOverrides(c, { role: 'primary' })
    expect(bootstrapDifferences(configured, configFile, fromFile, roleFlag)).toEqual(['cluster.postgres.host'])
  })
})

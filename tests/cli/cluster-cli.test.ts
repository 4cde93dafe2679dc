import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { openPostgres, type PostgresDb } from '../../src-main/platform'
import type { ThrowawayPostgres } from '../../scripts/lib/throwaway-postgres'
import { runGatehouse, startGatehouse, waitForExit } from '../support/cli'
import { describePostgres } from '../support/postgres'

/**
 * `gatehouse serve --cluster-node/--cluster-role/--cluster-db` on a real PostgreSQL (issue 18), and the configuration
 * commands refusing a cluster node's data directory.
 */
describePostgres('gatehouse serve in cluster mode', (started) => {
  let dir: string
  let pg: ThrowawayPostgres
  let admin: PostgresDb

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'gh-cluster-cli-'))
    pg = started()
    admin = openPostgres({ host: pg.host, port: pg.port, user: pg.user, database: pg.database })
    admin.exec('CREATE SCHEMA cli')
  })

  afterAll(() => {
    admin?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  const loopback = (): string => {
    const file = join(dir, 'loopback.json')
    writeFileSync(file, JSON.stringify({
      internal: { host: '127.0.0.1', adminPort: null, clientProxyHttpPort: null, clientProxyHttpsPort: null },
      external: { host: '127.0.0.1', serverProxyPort: null, ocspResponderPort: null },
      logging: { level: 'warn' },
    }))
    return file
  }

  it('serves as the primary node given on the command line, registered in the shared database', async () => {
    const url = `postgres://${pg.user}@${pg.host}:${pg.port}/${pg.database}?schema=cli`
    const { child, firstLine } = await startGatehouse(['serve', '--data-dir', join(dir, 'n1'), '--config', loopback(), '--json', '--cluster-node', 'n1', '--cluster-role', 'primary', '--cluster-db', url])
    expect(JSON.parse(firstLine)).toMatchObject({ ready: true })
    const nodes = admin.prepare('SELECT name, role FROM cli.cluster_nodes').all()
    expect(nodes).toEqual([{ name: 'n1', role: 'primary' }])
    child.kill('SIGTERM')
    expect((await waitForExit(child)).code).toBe(0)
  })

  it("refuses the configuration commands on a cluster node's data directory", () => {
    const data = join(dir, 'n3')
    mkdirSync(data)
    writeFileSync(join(data, 'gatehouse.json'), JSON.stringify({ cluster: { node: 'n3', role: 'secondary', postgres: { host: pg.host, port: pg.port, user: pg.user, database: pg.database, schema: 'cli' } } }))
    const result = runGatehouse(['client', 'list', '--data-dir', data])
    expect(result.status).toBe(1)
    expect(result.stderr).toContain('is a cluster node')
  })
})

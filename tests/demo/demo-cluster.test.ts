import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { findHaproxy, HAPROXY_CONFIG, haproxyEnvironment } from '../../scripts/lib/haproxy'
import { findPostgresBinaries } from '../../scripts/lib/throwaway-postgres'
import { runScript } from '../support/run-script'

/**
 * `npm run demo:cluster` in a short form (issue 18 items 4–5): a throw-away PostgreSQL, two provider nodes in cluster
 * mode behind HAProxy on resources/cluster/haproxy.cfg, a consumer; the secondary killed with kill -9 mid-load. The
 * figures come from the demo's --json line, the last line of its output. Needs Debian's postgresql and haproxy
 * packages (.ci/run installs them): skipped, saying so, where they are missing locally, never under CI=true.
 */
const REQUESTS = 60

const missing = [findPostgresBinaries() === undefined ? 'PostgreSQL (initdb, pg_ctl)' : '', findHaproxy() === undefined ? 'haproxy' : ''].filter((m) => m !== '')
const skip = missing.length > 0 && process.env.CI !== 'true'
if (skip) process.stderr.write(`demo-cluster.test.ts skipped: ${missing.join(' and ')} not installed (apt-get install postgresql haproxy)\n`)


describe.skipIf(skip)('npm run demo:cluster', () => {
  it('runs HAProxy on the documented configuration: every variable it names is given, and haproxy -c accepts it', () => {
    const node = (name: string, base: number) => ({ name, serverProxyPort: base, ocspPort: base + 77, clientProxyPort: base + 1, healthPort: base + 2 })
    const env = haproxyEnvironment({ serverProxy: 5500, ocsp: 5577, clientProxy: 8080, stats: 8404 }, [node('node-a', 15500), node('node-b', 25500)])
    const named = new Set([...readFileSync(HAPROXY_CONFIG, 'utf8').matchAll(/\$\{(GH_[A-Z0-9_]+)\}/g)].map((m) => m[1]))
    expect([...named].sort()).toEqual(Object.keys(env).sort())
    const check = spawnSync(findHaproxy() as string, ['-c', '-f', HAPROXY_CONFIG], { env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8' })
    expect(check.status, check.stdout + check.stderr).toBe(0)
    // A variable left out is refused, not silently empty.
    const { GH_NODE2_HEALTH_PORT: _dropped, ...partial } = env
    expect(spawnSync(findHaproxy() as string, ['-c', '-f', HAPROXY_CONFIG], { env: { PATH: process.env.PATH ?? '', ...partial } }).status).not.toBe(0)
  })

  it('fails over to the living node with nothing lost, and a change on the primary reaches both nodes within a second', async () => {
    const { code, stdout, stderr } = await runScript('demo-cluster.ts', ['--json', '--requests', String(REQUESTS)], 110_000, 'SIGINT')
    const lines = stdout.trim().split('\n')
    const result = JSON.parse(lines[lines.length - 1] ?? '{}') as Record<string, unknown>
    const { nodes, sent, ok, failedOver, acknowledgedWithoutRecord, configChangeSeenByAllNodesMs } = result
    // The line: its six fields last, in its order.
    expect(Object.keys(result).slice(-6), stdout + stderr).toEqual(['nodes', 'sent', 'ok', 'failedOver', 'acknowledgedWithoutRecord', 'configChangeSeenByAllNodesMs'])
    expect({ nodes, sent, ok, failedOver, acknowledgedWithoutRecord }, stdout + stderr).toEqual({ nodes: 2, sent: REQUESTS, ok: REQUESTS, failedOver: true, acknowledgedWithoutRecord: 0 })
    expect(configChangeSeenByAllNodesMs, stdout + stderr).toBeTypeOf('number')
    expect(configChangeSeenByAllNodesMs as number).toBeLessThanOrEqual(1000)
    // Both nodes served exchanges (the balancer spread them) and HAProxy's health checks took the killed one out.
    const servedBy = result.servedBy as Record<string, number>
    expect(servedBy['provider-1'], stdout).toBeGreaterThan(0)
    expect(servedBy['provider-2'], stdout).toBeGreaterThan(0)
    expect(result.failOverMs, stdout).toBeTypeOf('number')
    // And its HTTP health check: the primary in maintenance mode (503) was taken out too.
    expect(result.maintenanceOutMs, stdout).toBeTypeOf('number')
    expect(stdout).toMatch(/provider-2 killed with SIGKILL after request \d+; HAProxy marked it DOWN \d+ ms later/)
    expect(code, stdout + stderr).toBe(0)
  }, 120_000)
})

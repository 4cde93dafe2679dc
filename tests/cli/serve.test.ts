import { describe, expect, it } from 'vitest'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { runGatehouse, startGatehouse, waitForExit } from '../support/cli'
import { runGatehouseInProcess } from '../support/cli-in-process'
import { useTempDirs } from '../support/temp-dir'

const tempDir = useTempDirs()

function loopbackConfig(dir: string): string {
  const file = join(dir, 'test-config.json')
  writeFileSync(
    file,
    JSON.stringify({
      internal: { host: '127.0.0.1', adminPort: 0, clientProxyHttpPort: 0, clientProxyHttpsPort: 0 },
      external: { host: '127.0.0.1', serverProxyPort: 0, ocspResponderPort: 0 },
      logging: { level: 'warn' },
    }),
  )
  return file
}

// `--help` and the served process run `gatehouse` for real; usage errors and refusals before the server starts run in
// this process through the CLI's own runCli (same exit codes and output).
describe('gatehouse command line', () => {
  it('--help lists the subcommands and exits 0', () => {
    const result = runGatehouse(['--help'])
    expect(result.status).toBe(0)
    expect(result.stdout).toMatch(/serve \[options\]\s+run the security server headless/)
  })

  it('an unknown command prints usage and exits 2', async () => {
    const result = await runGatehouseInProcess(['frobnicate'])
    expect(result.status).toBe(2)
    expect(result.stderr).toContain("unknown command 'frobnicate'")
  })

  it('no command prints usage and exits 2', async () => {
    const result = await runGatehouseInProcess([])
    expect(result.status).toBe(2)
    expect(result.stdout).toContain('Usage: gatehouse')
  })
})

describe('gatehouse serve', () => {
  it('serves, stops within 5 s of SIGTERM with exit 0, and leaves databases that open cleanly', async () => {
    const dir = tempDir()
    const { child, firstLine } = await startGatehouse(['serve', '--data-dir', dir, '--config', loopbackConfig(dir), '--json'])
    const ready = JSON.parse(firstLine) as { ready: boolean; listeners: Array<{ name: string; url: string }> }
    expect(ready.ready).toBe(true)
    const admin = ready.listeners.find((l) => l.name === 'admin')
    expect(admin?.url).toMatch(/^https?:\/\/127\.0\.0\.1:\d+\/$/)

    const stoppedAt = Date.now()
    child.kill('SIGTERM')
    const exit = await waitForExit(child)
    expect(exit.code).toBe(0)
    expect(Date.now() - stoppedAt).toBeLessThan(5000)

    for (const name of ['serverconf', 'messagelog', 'opmonitor']) {
      const db = new Database(join(dir, `${name}.sqlite`), { readonly: true })
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok')
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal')
      db.close()
    }
  })

  it('SIGINT stops it too', async () => {
    const dir = tempDir()
    const { child } = await startGatehouse(['serve', '--data-dir', dir, '--config', loopbackConfig(dir), '--json'])
    child.kill('SIGINT')
    expect((await waitForExit(child)).code).toBe(0)
  })

  it('an invalid configuration names the field and exits non-zero', async () => {
    const dir = tempDir()
    const bad = join(dir, 'bad.json')
    writeFileSync(bad, JSON.stringify({ internal: { adminPort: 'four thousand' } }))
    const result = await runGatehouseInProcess(['serve', '--data-dir', dir, '--config', bad])
    expect(result.status).toBe(2)
    expect(result.stderr).toContain("field 'internal.adminPort'")
  })

  it('a missing configuration file is named and exits non-zero', async () => {
    const dir = tempDir()
    const result = await runGatehouseInProcess(['serve', '--data-dir', dir, '--config', join(dir, 'nope.json')])
    expect(result.status).toBe(2)
    expect(result.stderr).toContain('nope.json does not exist')
  })

  it('refuses an autologin PIN file that other users can read', async () => {
    const dir = tempDir()
    const pinFile = join(dir, 'pin')
    writeFileSync(pinFile, 'Secret-Pin-1\n', { mode: 0o644 })
    const result = await runGatehouseInProcess(['serve', '--data-dir', dir, '--config', loopbackConfig(dir), '--token-pin-file', pinFile])
    expect(result.status).toBe(2)
    expect(result.stderr).toContain('readable by other users')
  })

  it('--data-dir is required', async () => {
    const result = await runGatehouseInProcess(['serve'])
    expect(result.status).toBe(2)
    expect(result.stderr).toContain('--data-dir')
  })
})

import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { lazyModule } from '../../src-main/platform'

/**
 * Libraries only a rare task needs (node-forge for a software-token migration, pg for a cluster node, qrcode for a
 * key ceremony) are required at first use, not by every server at start (issue 15, memory).
 */

const ROOT = join(__dirname, '..', '..')
const RARE = /[\\/]node_modules[\\/](node-forge|pg|qrcode)[\\/]/

describe('lazyModule', () => {
  it('loads nothing of the rare libraries when the whole server is imported', () => {
    // A fresh process: what importing the composition root (and with it every domain) puts in require's cache.
    const script = `require(${JSON.stringify(join(ROOT, 'src-main', 'server', 'index.ts'))});` +
      `process.stdout.write(JSON.stringify(Object.keys(require.cache)))`
    const run = spawnSync(process.execPath, ['--require', 'tsx/cjs', '-e', script], {
      cwd: ROOT, encoding: 'utf8', env: { ...process.env, TSX_TSCONFIG_PATH: join(ROOT, 'tsconfig.json') }, timeout: 120_000,
    })
    expect(run.status, run.stderr).toBe(0)
    const loaded = JSON.parse(run.stdout) as string[]
    expect(loaded.some((path) => path.includes(`${join('src-main', 'server')}`))).toBe(true)
    expect(loaded.filter((path) => RARE.test(path))).toEqual([])
  })

  it('requires the package at the first call and returns the same module after', () => {
    const qrcode = lazyModule<{ toBuffer: unknown }>('qrcode')
    const first = qrcode()
    expect(typeof first.toBuffer).toBe('function')
    expect(qrcode()).toBe(first)
  })
})

import { spawnSync } from 'node:child_process'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'

/**
 * `tierUpSooner` (issue 15): set in a running process, V8 optimises a hot function after fewer calls. Each count comes
 * from its own Node process (the flag is process-wide), compiling on the main thread so that the count is exact.
 */

const SOURCE = resolve(__dirname, '../../src-main/platform/code-tiering.ts')

/** Calls of a small hot function until V8 reports it optimised, in a fresh process; with `sooner`, after tierUpSooner(). */
function callsUntilOptimised(sooner: boolean): number {
  const script = `
    require('tsx/cjs')
    ${sooner ? `require(${JSON.stringify(SOURCE)}).tierUpSooner()` : ''}
    function work(xs) { let s = 0; for (let i = 0; i < xs.length; i++) s = (s + xs[i] * 31) | 0; return s }
    const xs = Array.from({ length: 16 }, (_, i) => i)
    let calls = 0
    // 16 (kOptimized) in V8's optimisation status: the function runs optimised code.
    while (!(%GetOptimizationStatus(work) & 16) && calls < 1e6) { work(xs); calls++ }
    process.stdout.write(String(calls))
  `
  const run = spawnSync(process.execPath, ['--allow-natives-syntax', '--no-concurrent-recompilation', '-e', script], { encoding: 'utf8', timeout: 30_000 })
  expect(run.status, run.stderr).toBe(0)
  return Number(run.stdout)
}

describe('tierUpSooner', () => {
  it('makes a hot function optimised after well under half the calls it takes by default', () => {
    const byDefault = callsUntilOptimised(false)
    const sooner = callsUntilOptimised(true)
    expect(byDefault).toBeLessThan(1e6)
    expect(sooner).toBeGreaterThan(0)
    expect(sooner * 2).toBeLessThan(byDefault)
  })
})

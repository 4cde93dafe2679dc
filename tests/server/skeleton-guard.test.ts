import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseServerConfig } from '../../src-main/server'

/**
 * Issue 15 §5: the bench's security-off skeleton (scripts/bench/skeleton-server.ts) replaces signing, verification,
 * the message log and the OCSP check by pass-throughs through the composition root's `wrapProxyViews`. A server that
 * runs as shipped must have no way into it: no configuration field, no flag, no environment variable reaches the option.
 */
const ROOT = resolve(__dirname, '../..')

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return sources(path)
    return /\.(ts|tsx|js|mjs|cjs)$/.test(name) ? [path] : []
  })
}

/** Files (relative to the repository) under `dirs` that mention `word`. */
function mentioning(word: string, dirs: string[]): string[] {
  return dirs.flatMap((d) => sources(join(ROOT, d))).filter((f) => readFileSync(f, 'utf8').includes(word)).map((f) => relative(ROOT, f)).sort()
}

const SHIPPED = ['src-main', 'src-shared', 'src-renderer', 'bin']

describe('the security-off skeleton is the bench\'s alone', () => {
  it('is reached only through the composition root\'s option, which the shipped code never sets', () => {
    expect(mentioning('wrapProxyViews', SHIPPED)).toEqual(['src-main/server/create-security-server.ts'])
    expect(mentioning('wrapViews', SHIPPED)).toEqual(['src-main/server/create-security-server.ts', 'src-main/server/proxy-runtime.ts'])
    // The composition root hands the runtime exactly what its caller gave it, nothing derived from config or environment.
    const root = readFileSync(join(ROOT, 'src-main/server/create-security-server.ts'), 'utf8')
    const passed = root.split('\n').filter((line) => line.includes('wrapViews:'))
    expect(passed).toEqual(['        ...(options.wrapProxyViews === undefined ? {} : { wrapViews: options.wrapProxyViews }),'])
  })

  it('is set only by the bench\'s skeleton server', () => {
    expect(mentioning('wrapProxyViews:', ['scripts', 'src-main', 'bin'])).toEqual(['scripts/bench/skeleton-server.ts'])
  })

  it('has no configuration field: the bootstrap file refuses one', () => {
    for (const field of [{ skeleton: true }, { security: false }, { internal: { skeleton: true } }]) {
      expect(() => parseServerConfig(field, 'gatehouse.json')).toThrow(/unknown field/)
    }
  })
})

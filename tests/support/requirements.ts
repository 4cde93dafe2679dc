import { appendFileSync, existsSync } from 'node:fs'
import { delimiter, join, relative, resolve } from 'node:path'
import { describe, expect, inject, it } from 'vitest'
import { FIXTURES_DIR, HAVE_FIXTURES, fixturePath } from './fixtures'
import { HAVE_SOFTHSM, SOFTHSM_MODULE } from './softhsm'

/**
 * What a suite needs from the machine, and what to do when it is missing. Suites declare their needs with
 * `describeWith` / `itWith`: when something is missing the suite is skipped with the reason in its name, its body
 * still only declares tests (no fixture read, no token, no browser outside tests and hooks), and the skip is written
 * to the run's skip log, which the global setup prints as a table after the summary (tests/support/global-setup.ts).
 */
export interface Requirement {
  /** Why the suite cannot run here, or undefined when the requirement is met. */
  readonly missing: string | undefined
  /** Debian packages that provide it (`apt-get install …`); empty when it is not a package. */
  readonly packages: readonly string[]
  /** What to do when it is not a package (fixtures, a build step, held-back data). */
  readonly enable?: string
}

/** One line of the skip log (JSON lines, one per skipped suite or test). */
export interface SkipRecord {
  readonly file: string
  readonly suite: string
  readonly reasons: readonly string[]
  readonly packages: readonly string[]
  readonly enable: readonly string[]
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** The skip log of this run (absolute path), provided by tests/support/global-setup.ts. */
    gatehouseSkipLog: string
  }
}

const ROOT = resolve(__dirname, '../..')

/** True when an executable named `command` is on PATH. */
export function onPath(command: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => dir !== '' && existsSync(join(dir, command)))
}

export const FIXTURES: Requirement = {
  missing: HAVE_FIXTURES ? undefined : `X-Road fixtures not found at ${FIXTURES_DIR} (no MANIFEST.md)`,
  packages: [],
  enable: 'the X-Road fixtures folder at ../shared/fixtures/xroad, or GATEHOUSE_FIXTURES_DIR=<folder>',
}

/** A fixture file that may be held back for acceptance checks (MANIFEST.md names them). */
export function fixtureFile(...parts: string[]): Requirement {
  if (!HAVE_FIXTURES) return FIXTURES
  const path = fixturePath(...parts)
  return existsSync(path)
    ? { missing: undefined, packages: [] }
    : { missing: `fixture ${parts.join('/')} is held back (not in ${FIXTURES_DIR})`, packages: [], enable: 'the held-back X-Road fixtures (acceptance checks only)' }
}

export const SOFTHSM: Requirement = {
  missing: !HAVE_SOFTHSM ? `SoftHSM2 module ${SOFTHSM_MODULE} is missing` : !onPath('softhsm2-util') ? 'softhsm2-util is not on PATH' : undefined,
  packages: ['softhsm2'],
}

export const PKCS11_TOOL: Requirement = {
  missing: onPath('pkcs11-tool') ? undefined : 'pkcs11-tool is not on PATH',
  packages: ['opensc'],
}

export const XMLLINT: Requirement = {
  missing: onPath('xmllint') ? undefined : 'xmllint is not on PATH',
  packages: ['libxml2-utils'],
}

/** `promtool check metrics` validates the `/metrics` exposition (Debian's Prometheus package ships it). */
export const PROMTOOL: Requirement = {
  missing: onPath('promtool') ? undefined : 'promtool is not on PATH',
  packages: ['prometheus'],
}

/** `describe` that skips (and logs why) when a requirement is missing. */
export function describeWith(requirements: readonly Requirement[], name: string, fn: () => void): void {
  const missing = requirements.filter((r) => r.missing !== undefined)
  if (missing.length === 0) {
    describe(name, fn)
    return
  }
  recordSkip(name, missing)
  describe.skip(`${name} (skipped: ${missing.map((r) => r.missing).join('; ')})`, fn)
}

/** `it` that skips (and logs why) when a requirement is missing. */
export function itWith(requirements: readonly Requirement[], name: string, fn: () => unknown, timeout?: number): void {
  const missing = requirements.filter((r) => r.missing !== undefined)
  if (missing.length === 0) {
    it(name, fn, timeout)
    return
  }
  recordSkip(name, missing)
  it.skip(`${name} (skipped: ${missing.map((r) => r.missing).join('; ')})`, fn, timeout)
}

/** Appends one skip to this run's log; a no-op outside a run started with the project's config. */
export function recordSkip(suite: string, missing: readonly Requirement[]): void {
  const log = inject('gatehouseSkipLog')
  if (log === undefined) return
  const testPath = expect.getState().testPath
  const record: SkipRecord = {
    file: testPath === undefined ? '(unknown file)' : relative(ROOT, testPath),
    suite,
    reasons: missing.map((r) => r.missing as string),
    packages: [...new Set(missing.flatMap((r) => r.packages))],
    enable: missing.flatMap((r) => (r.enable === undefined ? [] : [r.enable])),
  }
  appendFileSync(log, `${JSON.stringify(record)}\n`)
}

import { existsSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'

/**
 * X-Road conformance fixtures live outside the project (../shared/fixtures/xroad) and are never copied in.
 * Suites that need them use `describeFixtures`, which skips with a clear message when the folder is absent.
 */
export const FIXTURES_DIR = resolve(process.env.GATEHOUSE_FIXTURES_DIR ?? resolve(__dirname, '../../../shared/fixtures/xroad'))
export const HAVE_FIXTURES = existsSync(join(FIXTURES_DIR, 'MANIFEST.md'))

if (!HAVE_FIXTURES) {
  process.stderr.write(`X-Road fixtures not found at ${FIXTURES_DIR}: conformance tests are skipped\n`)
}

export function fixturePath(...parts: string[]): string {
  return join(FIXTURES_DIR, ...parts)
}

export function readFixture(...parts: string[]): Buffer {
  return readFileSync(fixturePath(...parts))
}

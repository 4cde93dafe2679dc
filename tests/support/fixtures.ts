import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { join, resolve } from 'node:path'

/**
 * X-Road conformance fixtures live outside the project (../shared/fixtures/xroad) and are never copied in.
 * Suites that need them use `describeFixtures`, which skips with a clear message when the folder is absent.
 */
export const FIXTURES_DIR = resolve(process.env.GATEHOUSE_FIXTURES_DIR ?? resolve(__dirname, '../../../shared/fixtures/xroad'))
export const HAVE_FIXTURES = existsSync(join(FIXTURES_DIR, 'MANIFEST.md'))

export function fixturePath(...parts: string[]): string {
  return join(FIXTURES_DIR, ...parts)
}

export function readFixture(...parts: string[]): Buffer {
  return readFileSync(fixturePath(...parts))
}

/** The names in a fixture folder, or none without the fixtures: for declaring one test per fixture file. */
export function listFixtures(...parts: string[]): string[] {
  return HAVE_FIXTURES ? readdirSync(fixturePath(...parts)).sort() : []
}

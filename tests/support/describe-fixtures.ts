import { describe } from 'vitest'
import { HAVE_FIXTURES } from './fixtures'

/** `describe` for suites reading ../shared/fixtures/xroad; skipped (and said so) when that folder is absent. */
export const describeFixtures = HAVE_FIXTURES
  ? describe
  : (name: string, fn: () => void) => describe.skip(`${name} (skipped: ../shared/fixtures/xroad is absent)`, fn)

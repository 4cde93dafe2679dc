import { FIXTURES, describeWith } from './requirements'

/**
 * `describe` for suites reading the X-Road fixtures (../shared/fixtures/xroad): skipped, with the reason logged, when
 * that folder is absent. The body runs either way to declare the tests, so it must read fixtures only inside tests
 * and hooks (`listFixtures` is the one read allowed while declaring).
 */
export function describeFixtures(name: string, fn: () => void): void {
  describeWith([FIXTURES], name, fn)
}

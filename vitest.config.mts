import { resolve } from 'node:path'
import { defineConfig } from 'vitest/config'

export default defineConfig({
  resolve: { alias: { '@shared': resolve(import.meta.dirname, 'src-shared') } },
  test: {
    include: ['tests/**/*.test.ts', 'tests/**/*.test.tsx'],
    pool: 'forks',
    // Two forks on the 2-core machines: most suites wait on sockets, child processes and fsync, so two side by side take
    // about two thirds of the time of one (measured: the whole suite in 646 s against 992 s); vitest's default here is
    // one (cores - 1).
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default'],
    // Builds the GUI when e2e suites are selected and out/ is stale; prints the skipped suites and why at the end.
    globalSetup: ['tests/support/global-setup.ts'],
  },
})

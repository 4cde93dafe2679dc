import { createRequire } from 'node:module'
import { join } from 'node:path'

/**
 * `require` as this bundle resolves packages (the built chunk's own `__filename`; under a test runner, the working
 * directory): for what must be resolved or loaded at run time rather than imported — a worker thread's driver path
 * (a thread's own `require` resolves from the working directory), a package loaded at first use.
 */
export function bundleRequire(): NodeJS.Require {
  return createRequire(typeof __filename === 'string' ? __filename : join(process.cwd(), 'index.js'))
}

/**
 * A package required at its first use rather than when the module naming it loads: for libraries only a rare task
 * needs (a software-token migration's PKCS#12 reader, a ceremony's QR codes, the cluster's PostgreSQL client), which
 * every running server would otherwise hold in memory from its start.
 */
export function lazyModule<T>(name: string): () => T {
  let loaded: T | undefined
  return () => (loaded ??= bundleRequire()(name) as T)
}

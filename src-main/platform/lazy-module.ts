import { createRequire } from 'node:module'
import { join } from 'node:path'

/**
 * A package required at its first use rather than when the module naming it loads: for libraries only a rare task
 * needs (a software-token migration's PKCS#12 reader, a ceremony's QR codes, the cluster's PostgreSQL client), which
 * every running server would otherwise hold in memory from its start. Resolved from this bundle, as a static import
 * would be.
 */
export function lazyModule<T>(name: string): () => T {
  let loaded: T | undefined
  return () => {
    if (loaded === undefined) {
      const from = typeof __filename === 'string' ? __filename : join(process.cwd(), 'index.js')
      loaded = createRequire(from)(name) as T
    }
    return loaded
  }
}

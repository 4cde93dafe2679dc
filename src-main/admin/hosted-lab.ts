import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { labPaths, openLab, type LabAuthority } from '../lab'
import type { Clock } from '../platform'

/**
 * The lab this server created on its own machine ("Create a lab" in the first-run wizard): `DATA_DIR/lab` with the
 * marker file `hosted-by-this-server.json`. Such a server is its own central server, so what would be a management
 * request to an operator (registering a client, deleting one) is approved in the lab at once.
 */
export const HOSTED_LAB_FILE = 'hosted-by-this-server.json'

export function hostedLabDir(dataDir: string): string | undefined {
  const dir = join(dataDir, 'lab')
  return existsSync(join(dir, HOSTED_LAB_FILE)) && existsSync(labPaths(dir).db) ? dir : undefined
}

/** Runs `work` on the hosted lab of instance `instance` (opened for this change only), or returns undefined when there is none. */
export function withHostedLab<T>(dataDir: string, instance: string, clock: Clock, work: (lab: LabAuthority) => T): { value: T } | undefined {
  const dir = hostedLabDir(dataDir)
  if (dir === undefined) return undefined
  const lab = openLab(dir, { clock })
  try {
    if (lab.instance !== instance) return undefined
    return { value: work(lab) }
  } finally {
    lab.close()
  }
}

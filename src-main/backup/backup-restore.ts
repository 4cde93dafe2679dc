import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, rmdirSync } from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'
import { SecurityServerError, fsyncDirectory, writeFileAtomic } from '../platform'
import { extractBackup, type BackupManifest } from './backup-archive'

/**
 * Putting a verified backup in place. Everything is first restored into a folder of its own and checked there
 * (`extractBackup`); only then is it renamed into place, so a wrong passphrase or a damaged archive leaves the
 * existing data exactly as it was.
 *
 * - A new data directory (`gatehouse restore`): the folder is a sibling of the target and becomes it by one rename.
 * - The running server's own directory (the GUI's first-run restore): the folder becomes `DATA_DIR/.restore-pending`
 *   by one rename; the server applies it once it has closed its databases (at the restart the restore asks for, or at
 *   the next start after a crash), moving what the backup replaces into `DATA_DIR/.before-restore-<time>`.
 */
export const PENDING_DIR = '.restore-pending'
const PENDING_PLAN = '.restore-pending.json'

export interface RestoreOptions {
  file: string
  passphrase: string
  checkDatabase?(path: string, absolutePath: string): void
}

const notFresh = (message: string): SecurityServerError => new SecurityServerError('conflict', message, { detail: 'not-fresh', clientFault: true })

/** Restores into `dataDir`, which must not exist or be empty; on any refusal nothing is left behind. */
export async function restoreIntoNewDirectory(options: RestoreOptions & { dataDir: string }): Promise<BackupManifest> {
  const target = resolve(options.dataDir)
  if (existsSync(target) && readdirSync(target).length > 0) {
    throw notFresh(`${target} is not empty: restore into a new data directory (existing data is never overwritten)`)
  }
  const staging = join(dirname(target), `.${basename(target)}.restoring-${randomBytes(4).toString('hex')}`)
  mkdirSync(dirname(target), { recursive: true })
  try {
    const manifest = await extractBackup({ ...options, into: staging })
    if (existsSync(target)) rmdirSync(target)
    renameSync(staging, target)
    fsyncDirectory(dirname(target))
    return manifest
  } catch (error) {
    rmSync(staging, { recursive: true, force: true })
    throw error
  }
}

interface PendingPlan {
  /** Where what the backup replaces is moved. */
  aside: string
  /** Who asked for the restore (for the restored audit log). */
  actor: string
  manifest: Pick<BackupManifest, 'createdAt' | 'serverId' | 'gatehouseVersion' | 'kind'> & { files: number }
  stagedAt: string
}

/** Verifies the backup into a folder of `dataDir` and marks it as the pending restore the server applies when stopped. */
export async function stageRestore(options: RestoreOptions & { dataDir: string; actor: string; now: Date }): Promise<BackupManifest> {
  const root = resolve(options.dataDir)
  const staging = join(root, `.restore-staging-${randomBytes(4).toString('hex')}`)
  try {
    const manifest = await extractBackup({ ...options, into: staging })
    const stamp = options.now.toISOString().replace(/[:.]/g, '-')
    const plan: PendingPlan = {
      aside: `.before-restore-${stamp}`, actor: options.actor, stagedAt: options.now.toISOString(),
      manifest: { createdAt: manifest.createdAt, serverId: manifest.serverId, gatehouseVersion: manifest.gatehouseVersion, kind: manifest.kind, files: manifest.files.length },
    }
    rmSync(join(root, PENDING_DIR), { recursive: true, force: true })
    writeFileAtomic(join(root, PENDING_PLAN), JSON.stringify(plan))
    renameSync(staging, join(root, PENDING_DIR))
    fsyncDirectory(root)
    return manifest
  } catch (error) {
    rmSync(staging, { recursive: true, force: true })
    throw error
  }
}

export function hasPendingRestore(dataDir: string): boolean {
  return existsSync(join(resolve(dataDir), PENDING_DIR)) && existsSync(join(resolve(dataDir), PENDING_PLAN))
}

export interface AppliedRestore {
  actor: string
  aside: string
  manifest: PendingPlan['manifest']
}

/**
 * Moves a pending restore into place; call only while no database of `dataDir` is open. Each top-level entry of the
 * backup replaces the one of the same name (moved aside with its SQLite WAL and shared-memory files, which belong to
 * the old database); resumable after a crash, since every step is a rename and the plan stays until the end.
 * @returns what was applied, or undefined when nothing was pending
 */
export function applyPendingRestore(dataDir: string): AppliedRestore | undefined {
  const root = resolve(dataDir)
  const pending = join(root, PENDING_DIR)
  const planFile = join(root, PENDING_PLAN)
  if (!existsSync(pending)) {
    // The last step of an earlier run (the plan's removal) may be all that is left.
    rmSync(planFile, { force: true })
    return undefined
  }
  if (!existsSync(planFile)) {
    // Staged but never marked complete: not a verified restore.
    rmSync(pending, { recursive: true, force: true })
    return undefined
  }
  const plan = JSON.parse(readFileSync(planFile, 'utf8')) as PendingPlan
  const aside = join(root, plan.aside)
  const moveAside = (name: string): void => {
    if (!existsSync(join(root, name))) return
    mkdirSync(aside, { recursive: true, mode: 0o700 })
    renameSync(join(root, name), join(aside, name))
  }
  for (const name of readdirSync(pending)) {
    moveAside(name)
    if (name.endsWith('.sqlite')) for (const companion of ['-wal', '-shm', '-journal']) moveAside(`${name}${companion}`)
    renameSync(join(pending, name), join(root, name))
  }
  rmdirSync(pending)
  rmSync(planFile)
  fsyncDirectory(root)
  return { actor: plan.actor, aside: plan.aside, manifest: plan.manifest }
}

import {
  closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, readlinkSync, realpathSync, renameSync,
  rmSync, symlinkSync, writeSync,
} from 'node:fs'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { randomBytes } from 'node:crypto'
import { fsyncDirectory } from '../platform'
import type { GlobalConfSnapshot } from './conf-model'
import { INSTANCE_IDENTIFIER_FILE, readConfigurationDirectory } from './configuration-directory'
import { confError } from './conf-xml'

/**
 * Atomic storage of downloaded configuration. Each accepted configuration is written in full, in X-Road's
 * layout (xroad-protocols.md §5.6), to a fresh `generations/<id>` directory and fsynced; then the `current`
 * symlink is replaced by rename(2), so a reader sees the old or the new configuration, never a mixture.
 * The previous generation is kept for readers still inside it; older ones are removed.
 */
export const CURRENT_LINK = 'current'
export const GENERATIONS_DIR = 'generations'
const KEEP_GENERATIONS = 2

export interface StoredFile {
  /** Path relative to the configuration root, e.g. `DEV/shared-params.xml`. */
  readonly path: string
  readonly data: Uint8Array
}

function writeSynced(path: string, data: Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true })
  const fd = openSync(path, 'wx', 0o644)
  try {
    let offset = 0
    while (offset < data.length) offset += writeSync(fd, data, offset, data.length - offset)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

/** The generation directory `current` points to, resolved once so a reader stays inside one generation. */
export function currentGenerationDir(root: string): string | undefined {
  const link = join(root, CURRENT_LINK)
  if (!existsSync(link)) return undefined
  return realpathSync(link)
}

/** Reads the stored configuration: the current generation, or `root` itself when it is a plain X-Road directory. */
export function readStoredConfiguration(root: string): GlobalConfSnapshot | undefined {
  const generation = currentGenerationDir(root)
  if (generation !== undefined) return readConfigurationDirectory(generation)
  if (existsSync(join(root, INSTANCE_IDENTIFIER_FILE))) return readConfigurationDirectory(root)
  return undefined
}

/** Reads one file of the current generation (for re-using unchanged parts); undefined when absent. */
export function readCurrentFile(root: string, path: string): Uint8Array | undefined {
  const generation = currentGenerationDir(root)
  if (generation === undefined) return undefined
  const file = resolve(generation, path)
  if (!file.startsWith(generation + sep) || !existsSync(file)) return undefined
  return new Uint8Array(readFileSync(file))
}

/**
 * Writes a complete configuration as a new generation, checks that it parses, and switches `current` to it.
 * On any failure the new generation is removed and the previous configuration stays in place.
 */
export function commitGeneration(root: string, files: readonly StoredFile[]): { dir: string; snapshot: GlobalConfSnapshot } {
  const generations = join(root, GENERATIONS_DIR)
  mkdirSync(generations, { recursive: true })
  const id = `${Date.now().toString().padStart(15, '0')}-${randomBytes(4).toString('hex')}`
  const dir = join(generations, id)
  mkdirSync(dir)
  let snapshot: GlobalConfSnapshot
  try {
    const dirs = new Set<string>([dir])
    for (const file of files) {
      const target = resolve(dir, file.path)
      if (!target.startsWith(dir + sep)) throw confError(`Refusing to store ${file.path} outside the configuration directory`)
      writeSynced(target, file.data)
      dirs.add(dirname(target))
    }
    for (const d of dirs) fsyncDirectory(d)
    fsyncDirectory(generations)
    // Never switch to something a reader could not use.
    snapshot = readConfigurationDirectory(dir)
  } catch (error) {
    rmSync(dir, { recursive: true, force: true })
    throw error
  }
  const tmpLink = join(root, `.${CURRENT_LINK}.${randomBytes(4).toString('hex')}`)
  symlinkSync(relative(root, dir), tmpLink)
  renameSync(tmpLink, join(root, CURRENT_LINK))
  fsyncDirectory(root)
  pruneGenerations(root)
  return { dir, snapshot }
}

function pruneGenerations(root: string): void {
  const generations = join(root, GENERATIONS_DIR)
  const current = readlinkSync(join(root, CURRENT_LINK)).split(sep).pop()
  const all = readdirSync(generations).sort()
  const keep = new Set(all.slice(-KEEP_GENERATIONS))
  if (current !== undefined) keep.add(current)
  for (const name of all) if (!keep.has(name)) rmSync(join(generations, name), { recursive: true, force: true })
}

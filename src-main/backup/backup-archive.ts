import { createHash } from 'node:crypto'
import {
  chmodSync, closeSync, createReadStream, createWriteStream, fsyncSync, lstatSync, mkdirSync, openSync, readdirSync, readSync, renameSync, rmSync, statSync,
} from 'node:fs'
import { copyFile } from 'node:fs/promises'
import { dirname, join, relative, sep } from 'node:path'
import { pipeline } from 'node:stream/promises'
import yauzl from 'yauzl'
import yazl from 'yazl'
import { z } from 'zod'
import { SecurityServerError, backupDatabase, closeDatabase, fsyncDirectory, openDatabase, parseJson, type ReadableDb } from '../platform'
import { checkHeaderMac, decryptingStream, deriveKey, encryptingStream, parseHeader, type DerivedKey } from './backup-crypto'

/**
 * A backup's content: a ZIP holding `manifest.json` first, then `data/<path>` for every file of the data directory it
 * took (databases as SQLite backup-API snapshots, consistent while the server writes), encrypted as a whole
 * (`backup-crypto.ts`). The manifest lists each file's size and SHA-256; restoring checks the archive's
 * authentication, every listed file and nothing else, each hash, and each database's integrity before anything is
 * put in place.
 */
export const MANIFEST_ENTRY = 'manifest.json'
const DATA_PREFIX = 'data/'
/** The manifest is read whole, bounded: 100 000 files at ~200 bytes each. */
const MAX_MANIFEST_BYTES = 32 * 1024 * 1024

const manifestFileSchema = z.object({
  path: z.string().min(1).max(500),
  size: z.number().int().min(0),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  kind: z.enum(['database', 'file']),
})

export const backupManifestSchema = z.object({
  format: z.literal('gatehouse-backup'),
  version: z.literal(1),
  createdAt: z.string(),
  gatehouseVersion: z.string(),
  kind: z.enum(['manual', 'scheduled']),
  serverId: z.string().nullable(),
  files: z.array(manifestFileSchema).max(100_000),
  databases: z.array(z.object({ path: z.string(), schema: z.array(z.object({ component: z.string(), version: z.number().int() })) })),
  auditLog: z.object({ head: z.object({ id: z.number().int(), hash: z.string() }), anchorId: z.number().int() }).nullable(),
})

export type BackupManifest = z.infer<typeof backupManifestSchema>
export type BackupManifestFile = BackupManifest['files'][number]

const invalid = (detail: string, message: string, cause?: unknown): SecurityServerError =>
  new SecurityServerError('backup_invalid', message, { detail, clientFault: true, ...(cause === undefined ? {} : { cause }) })

/** A path inside the data directory as the archive names it: relative, `/`-separated, no `..`, no empty part. */
export function safeRelativePath(path: string): boolean {
  if (path.length === 0 || path.length > 500 || path.startsWith('/') || path.includes('\\') || path.includes('\0')) return false
  return path.split('/').every((part) => part !== '' && part !== '.' && part !== '..')
}

export interface WriteBackupOptions {
  /** The data directory to back up. */
  dataDir: string
  /** Relative paths (`/`-separated) left out: a folder leaves out what is inside it. */
  exclude: (path: string) => boolean
  /** Databases the caller has open, by relative path (backed up through these handles); other `*.sqlite` files are opened here. */
  openDatabases: ReadonlyMap<string, ReadableDb>
  /** Where the backup goes; written as `<out>.partial` and renamed when complete. */
  out: string
  key: DerivedKey
  createdAt: Date
  manifest: Pick<BackupManifest, 'gatehouseVersion' | 'kind' | 'serverId' | 'auditLog'>
  schemaOf(db: ReadableDb): Array<{ component: string; version: number }>
}

/** Size and SHA-256 of a file, read as a stream (a large database never blocks the event loop). */
async function hashFile(path: string): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256')
  let size = 0
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer)
    size += (chunk as Buffer).length
  }
  return { size, sha256: hash.digest('hex') }
}

/** Regular files under `root`, as relative `/` paths, in a stable order; symbolic links are not followed. */
function listFiles(root: string, exclude: (path: string) => boolean): string[] {
  const out: string[] = []
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const absolute = join(dir, name)
      const rel = relative(root, absolute).split(sep).join('/')
      if (exclude(rel)) continue
      const info = lstatSync(absolute)
      if (info.isDirectory()) walk(absolute)
      else if (info.isFile()) out.push(rel)
    }
  }
  walk(root)
  return out
}

/** SQLite's own companions: a database is taken through the backup API, never as these files. */
const SQLITE_COMPANION = /\.sqlite-(wal|shm|journal)$/

/**
 * Writes an encrypted backup of `dataDir`: snapshots of the databases and copies of the other files go to a staging
 * folder next to `out` first (so the manifest's hashes describe exactly what the archive holds), then the ZIP is
 * streamed through the encryption into `<out>.partial`, synced and renamed to `out`.
 */
export async function writeBackup(options: WriteBackupOptions): Promise<{ file: string; size: number; manifest: BackupManifest }> {
  const staging = `${options.out}.staging`
  const partial = `${options.out}.partial`
  rmSync(staging, { recursive: true, force: true })
  mkdirSync(staging, { recursive: true, mode: 0o700 })
  try {
    const files: BackupManifestFile[] = []
    const databases: BackupManifest['databases'] = []
    for (const rel of listFiles(options.dataDir, options.exclude)) {
      if (SQLITE_COMPANION.test(rel)) continue
      const target = join(staging, ...rel.split('/'))
      mkdirSync(dirname(target), { recursive: true, mode: 0o700 })
      if (rel.endsWith('.sqlite')) {
        const given = options.openDatabases.get(rel)
        const db = given ?? openDatabase(join(options.dataDir, ...rel.split('/')))
        try {
          await backupDatabase(db, target)
          databases.push({ path: rel, schema: options.schemaOf(db) })
        } finally {
          if (given === undefined) closeDatabase(db)
        }
        files.push({ path: rel, kind: 'database', ...(await hashFile(target)) })
      } else {
        await copyFile(join(options.dataDir, ...rel.split('/')), target)
        files.push({ path: rel, kind: 'file', ...(await hashFile(target)) })
      }
    }
    const manifest: BackupManifest = {
      format: 'gatehouse-backup', version: 1, createdAt: options.createdAt.toISOString(), ...options.manifest, files, databases,
    }
    const zip = new yazl.ZipFile()
    zip.addBuffer(Buffer.from(JSON.stringify(manifest, null, 2), 'utf8'), MANIFEST_ENTRY, { mtime: options.createdAt, mode: 0o100600 })
    for (const file of files) {
      zip.addFile(join(staging, ...file.path.split('/')), `${DATA_PREFIX}${file.path}`, { mtime: options.createdAt, mode: 0o100600, compress: true })
    }
    zip.end()
    const { prefix, stream } = encryptingStream(options.key, options.createdAt)
    mkdirSync(dirname(options.out), { recursive: true, mode: 0o700 })
    const out = createWriteStream(partial, { mode: 0o600 })
    out.write(prefix)
    await pipeline(zip.outputStream, stream, out)
    const fd = openSync(partial, 'r')
    try {
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    renameSync(partial, options.out)
    fsyncDirectory(dirname(options.out))
    return { file: options.out, size: statSync(options.out).size, manifest }
  } catch (error) {
    rmSync(partial, { force: true })
    throw error
  } finally {
    rmSync(staging, { recursive: true, force: true })
  }
}

/** Derives the key of a backup file from its passphrase and checks it against the header: a wrong one is refused here. */
export async function unlockBackup(file: string, passphrase: string): Promise<{ key: Buffer; header: ReturnType<typeof parseHeader> }> {
  const fd = openSync(file, 'r')
  const head = Buffer.alloc(4200)
  let length: number
  try {
    length = readSync(fd, head, 0, head.length, 0)
  } finally {
    closeSync(fd)
  }
  const header = parseHeader(head.subarray(0, length))
  const { key } = await deriveKey(passphrase, header.header.kdf)
  checkHeaderMac(key, header)
  return { key, header }
}

export interface ExtractOptions {
  file: string
  passphrase: string
  /** An empty folder the files are written into (created); the caller removes it on failure. */
  into: string
  /** Checks a database after its hash matched (integrity, schema versions); throws to refuse the backup. */
  checkDatabase?(path: string, absolutePath: string): void
}

/**
 * Decrypts and unpacks a backup into `into`, checking everything: the passphrase (header MAC), every chunk's
 * authentication and the end of the stream, the manifest, that the archive holds exactly the listed files under safe
 * names, their sizes and SHA-256, and each database. Nothing outside `into` is written.
 */
export async function extractBackup(options: ExtractOptions): Promise<BackupManifest> {
  const { key, header } = await unlockBackup(options.file, options.passphrase)
  mkdirSync(options.into, { recursive: true, mode: 0o700 })
  const payload = join(options.into, '.payload.zip')
  try {
    await pipeline(createReadStream(options.file, { start: header.bodyOffset }), decryptingStream(key, header.header), createWriteStream(payload, { mode: 0o600 }))
    const manifest = await unpack(payload, options.into)
    for (const db of manifest.files.filter((f) => f.kind === 'database')) options.checkDatabase?.(db.path, join(options.into, ...db.path.split('/')))
    return manifest
  } finally {
    rmSync(payload, { force: true })
  }
}

function openZip(path: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.open(path, { lazyEntries: true, autoClose: true, validateEntrySizes: true, strictFileNames: true }, (error, zip) => {
      if (error || zip === undefined) reject(invalid('corrupted', `The backup's content is not readable: ${error?.message ?? 'no archive'}`, error))
      else resolve(zip)
    })
  })
}

async function unpack(payload: string, into: string): Promise<BackupManifest> {
  const zip = await openZip(payload)
  let manifest: BackupManifest | undefined
  const seen = new Map<string, { size: number; sha256: string }>()
  await new Promise<void>((resolve, reject) => {
    const fail = (error: unknown): void => {
      zip.close()
      reject(error instanceof SecurityServerError ? error : invalid('corrupted', `The backup's content is not readable: ${(error as Error).message}`, error))
    }
    zip.on('error', fail)
    zip.on('end', () => resolve())
    zip.on('entry', (entry: yauzl.Entry) => {
      const name = entry.fileName
      if (manifest === undefined && name !== MANIFEST_ENTRY) return fail(invalid('corrupted', 'The backup does not start with its manifest'))
      zip.openReadStream(entry, (error, stream) => {
        if (error || stream === undefined) return fail(error ?? new Error('no stream'))
        if (name === MANIFEST_ENTRY) {
          if (manifest !== undefined) return fail(invalid('corrupted', 'The backup holds two manifests'))
          const chunks: Buffer[] = []
          let length = 0
          stream.on('data', (c: Buffer) => {
            length += c.length
            if (length > MAX_MANIFEST_BYTES) {
              stream.destroy()
              fail(invalid('corrupted', "The backup's manifest is larger than a manifest can be"))
            } else chunks.push(c)
          })
          stream.on('error', fail)
          stream.on('end', () => {
            try {
              const text = Buffer.concat(chunks).toString('utf8')
              const parsed = backupManifestSchema.safeParse(parseJson(text, { maxLength: MAX_MANIFEST_BYTES, maxDepth: 6 }, 'backup_invalid', "The backup's manifest"))
              if (!parsed.success) return fail(invalid('corrupted', `The backup's manifest is not valid: ${parsed.error.issues[0]?.message ?? ''}`))
              if (!parsed.data.files.every((f) => safeRelativePath(f.path))) return fail(invalid('corrupted', 'The backup names a file outside the data directory'))
              manifest = parsed.data
              zip.readEntry()
            } catch (cause) {
              fail(invalid('corrupted', "The backup's manifest is not valid JSON", cause))
            }
          })
          return
        }
        const path = name.startsWith(DATA_PREFIX) ? name.slice(DATA_PREFIX.length) : ''
        const listed = manifest?.files.find((f) => f.path === path)
        if (!safeRelativePath(path) || listed === undefined || seen.has(path)) {
          stream.destroy()
          return fail(invalid('corrupted', `The backup holds a file its manifest does not list: ${name}`))
        }
        const target = join(into, ...path.split('/'))
        mkdirSync(dirname(target), { recursive: true, mode: 0o700 })
        const hash = createHash('sha256')
        let size = 0
        stream.on('data', (c: Buffer) => {
          hash.update(c)
          size += c.length
        })
        pipeline(stream, createWriteStream(target, { mode: 0o600 })).then(() => {
          seen.set(path, { size, sha256: hash.digest('hex') })
          zip.readEntry()
        }, fail)
      })
    })
    zip.readEntry()
  })
  if (manifest === undefined) throw invalid('corrupted', 'The backup holds no manifest')
  for (const file of manifest.files) {
    const got = seen.get(file.path)
    if (got === undefined) throw invalid('corrupted', `The backup lacks ${file.path}, which its manifest lists`)
    if (got.size !== file.size || got.sha256 !== file.sha256) throw invalid('corrupted', `${file.path} does not match its SHA-256 in the manifest`)
    chmodSync(join(into, ...file.path.split('/')), 0o600)
  }
  return manifest
}

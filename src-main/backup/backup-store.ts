import { randomBytes } from 'node:crypto'
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, readdirSync, rmSync, statSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { clientError, writeFileAtomic } from '../platform'
import type { DerivedKey } from './backup-crypto'

/**
 * The backups folder (`DATA_DIR/backups`): encrypted backup files (`*.ghbackup`, made by hand or on the schedule),
 * uploads of backups to restore (`uploads/`), and the key scheduled backups are encrypted with
 * (`DATA_DIR/backup-schedule.key`: scrypt's output and salt for the schedule passphrase, never the passphrase).
 */
export const BACKUP_EXTENSION = '.ghbackup'
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,150}\.ghbackup$/
const UPLOAD = /^[0-9a-f]{32}$/
/** Uploads are abandoned after a day. */
const UPLOAD_MAX_AGE_MS = 86_400_000
/** 64 GiB: far above a small server's backup, below what would fill a disk by mistake. */
export const MAX_UPLOAD_BYTES = 64 * 1024 ** 3

export interface BackupFile {
  name: string
  size: number
  createdAt: string
  kind: 'manual' | 'scheduled'
}

export class BackupStore {
  constructor(
    readonly dir: string,
    private readonly scheduleKeyFile: string,
  ) {}

  /** Newest first. */
  list(): BackupFile[] {
    if (!existsSync(this.dir)) return []
    return readdirSync(this.dir)
      .filter((name) => NAME.test(name))
      .map((name) => {
        const info = statSync(join(this.dir, name))
        return { name, size: info.size, createdAt: info.mtime.toISOString(), kind: name.endsWith(`-scheduled${BACKUP_EXTENSION}`) ? 'scheduled' as const : 'manual' as const }
      })
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.name.localeCompare(a.name))
  }

  /** The file of a listed backup. @throws validation_failed (not a backup name), not_found */
  path(name: unknown): string {
    if (typeof name !== 'string' || !NAME.test(name)) throw clientError('validation_failed', 'Give the name of a backup file', { detail: 'name' })
    const path = join(this.dir, name)
    if (!existsSync(path)) throw clientError('not_found', `There is no backup ${name}`, { detail: 'name' })
    return path
  }

  /** A name for a new backup: `gatehouse-<server code>-<UTC time>[-scheduled].ghbackup`. */
  newPath(createdAt: Date, kind: BackupFile['kind'], serverCode: string | null): string {
    const server = (serverCode ?? 'server').replace(/[^A-Za-z0-9-]/g, '_').slice(0, 40) || 'server'
    const stamp = createdAt.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')
    let name = `gatehouse-${server}-${stamp}${kind === 'scheduled' ? '-scheduled' : ''}${BACKUP_EXTENSION}`
    for (let n = 2; existsSync(join(this.dir, name)); n++) name = `gatehouse-${server}-${stamp}-${n}${kind === 'scheduled' ? '-scheduled' : ''}${BACKUP_EXTENSION}`
    mkdirSync(this.dir, { recursive: true, mode: 0o700 })
    return join(this.dir, name)
  }

  delete(name: unknown): void {
    rmSync(this.path(name))
  }

  /** `length` bytes of a backup from `offset` (for downloads in pieces). */
  read(name: unknown, offset: number, length: number): { data: Buffer; size: number } {
    const path = this.path(name)
    const size = statSync(path).size
    if (!Number.isInteger(offset) || offset < 0 || offset > size) throw clientError('validation_failed', `The offset is outside the file (0..${size})`, { detail: 'offset' })
    const data = Buffer.alloc(Math.min(length, size - offset))
    const fd = openSync(path, 'r')
    try {
      let read = 0
      while (read < data.length) read += readSync(fd, data, read, data.length - read, offset + read)
    } finally {
      closeSync(fd)
    }
    return { data, size }
  }

  /** Deletes the oldest scheduled backups beyond `keep`; returns their names. */
  pruneScheduled(keep: number): string[] {
    const scheduled = this.list().filter((b) => b.kind === 'scheduled')
    const removed = scheduled.slice(Math.max(keep, 0)).map((b) => b.name)
    for (const name of removed) rmSync(join(this.dir, name), { force: true })
    return removed
  }

  private uploadsDir(): string {
    return join(this.dir, 'uploads')
  }

  /**
   * Appends a piece of an upload at `offset` (which must be where the upload ends); a new upload when `upload` is
   * absent (offset 0). Abandoned uploads are removed when a new one starts.
   */
  appendUpload(upload: string | undefined, offset: number, data: Buffer, now: Date): { upload: string; size: number } {
    const dir = this.uploadsDir()
    mkdirSync(dir, { recursive: true, mode: 0o700 })
    let id = upload
    if (id === undefined) {
      if (offset !== 0) throw clientError('validation_failed', 'A new upload starts at offset 0', { detail: 'offset' })
      for (const name of readdirSync(dir)) {
        if (now.getTime() - statSync(join(dir, name)).mtimeMs > UPLOAD_MAX_AGE_MS) rmSync(join(dir, name), { force: true })
      }
      id = randomBytes(16).toString('hex')
    } else if (!UPLOAD.test(id) || !existsSync(join(dir, id))) {
      throw clientError('not_found', 'That upload is not in progress; start again', { detail: 'upload' })
    }
    const path = join(dir, id)
    const size = existsSync(path) ? statSync(path).size : 0
    if (offset !== size) throw clientError('validation_failed', `The upload continues at offset ${size}`, { detail: 'offset' })
    if (size + data.length > MAX_UPLOAD_BYTES) throw clientError('validation_failed', 'The upload is larger than a backup can be', { detail: 'file' })
    const fd = openSync(path, size === 0 ? 'w' : 'a', 0o600)
    try {
      let written = 0
      while (written < data.length) written += writeSync(fd, data, written, data.length - written)
    } finally {
      closeSync(fd)
    }
    return { upload: id, size: size + data.length }
  }

  uploadPath(upload: unknown): string {
    if (typeof upload !== 'string' || !UPLOAD.test(upload) || !existsSync(join(this.uploadsDir(), upload))) {
      throw clientError('not_found', 'That upload is not there; upload the backup again', { detail: 'upload' })
    }
    return join(this.uploadsDir(), upload)
  }

  removeUpload(upload: string): void {
    rmSync(join(this.uploadsDir(), upload), { force: true })
  }

  readScheduleKey(): (DerivedKey & { setAt: string }) | undefined {
    if (!existsSync(this.scheduleKeyFile)) return undefined
    const stored = JSON.parse(readFileSync(this.scheduleKeyFile, 'utf8')) as { kdf: DerivedKey['kdf']; key: string; setAt: string }
    return { kdf: stored.kdf, key: Buffer.from(stored.key, 'base64'), setAt: stored.setAt }
  }

  writeScheduleKey(key: DerivedKey | undefined, now: Date): void {
    if (key === undefined) rmSync(this.scheduleKeyFile, { force: true })
    else writeFileAtomic(this.scheduleKeyFile, JSON.stringify({ kdf: key.kdf, key: key.key.toString('base64'), setAt: now.toISOString() }), 0o600)
  }
}

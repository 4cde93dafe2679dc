import { execFile } from 'node:child_process'
import { closeSync, createWriteStream, fsyncSync, mkdirSync, openSync, renameSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import yazl from 'yazl'
import { decodeIdentifier, formatIdPath, memberOf, type ClientId } from '@shared/domain/identifiers'
import { fsyncDirectory, inTransaction, logFailure, SecurityServerError, type Clock, type Logger, type WritableDb } from '../platform'
import {
  findLastArchiveDigest, listArchivableRecords, markArchived, purgeArchivedRecords, saveLastArchiveDigest,
  type StoredMessageRecord,
} from './message-record-repository'
import { LinkingInfoBuilder } from './linking-info'
import { LINKING_INFO_ENTRY } from './archive-verifier'
import { loadRecordEvidence, type EvidenceContainerWriter } from './record-evidence'
import type { MessageLogSettings } from './message-log-settings'
import type { ChainPosition } from './evidence-chain'

/**
 * Periodic archiving of time-stamped records into linked ZIP archives (xroad-protocols.md §6.5; code
 * `LogArchiveWriter`, `AsicContainerNameGenerator`; reliability-and-security.md §1.7): per grouping key, containers
 * named `{URLEncoded(queryId)}-{request|response}-{id base-32}.asice` plus `linkinginfo`; written to a temporary file,
 * fsync'd, renamed atomically, directory fsync'd; then the records are marked archived and the group's last digest is
 * saved in one transaction. Entries carry the record time as mtime, so re-archiving after a crash between the rename
 * and the commit rewrites the same file under the same name (UG-SS §11.1.6: archiving is deterministic).
 */

export interface ArchiveFile {
  path: string
  fileName: string
  group: string
  records: number
  lastDigest: string
}

export interface ArchiveRunResult {
  archives: ArchiveFile[]
  purged: number
  transferFailures: Array<{ path: string; error: string }>
}

export interface ArchiveOptions {
  db: WritableDb
  clock: Clock
  logger: Logger
  settings: MessageLogSettings
  containerWriter: EvidenceContainerWriter
  /** Told the evidence chain's new start after a purge (the acknowledgement file keeps it too). */
  onChainBaseMoved?: (base: ChainPosition) => Promise<void>
}

/** Java `URLEncoder.encode(s, UTF-8)`: space → '+', everything but [A-Za-z0-9.*_-] percent-encoded. */
export function javaUrlEncode(value: string): string {
  return encodeURIComponent(value)
    .replace(/[!'()~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+')
}

/** `AsicContainerNameGenerator`: `{URLEncoded(queryId) truncated to 226}-{request|response}-{id base-32}.asice`. */
export function containerEntryName(record: { id: number; queryId: string; response: boolean }): string {
  return `${javaUrlEncode(record.queryId).slice(0, 226)}-${record.response ? 'response' : 'request'}-${record.id.toString(32)}.asice`
}

function stamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:T]/g, '').slice(0, 14)
}

/** `mlog-[{group}-]{start}-{end}-{first 16 hex of last digest}.zip` (xroad-protocols.md §6.5). */
export function archiveFileName(group: string, startMs: number, endMs: number, lastDigest: string): string {
  return `mlog-${group ? `${group}-` : ''}${stamp(startMs)}-${stamp(endMs)}-${lastDigest.slice(0, 16)}.zip`
}

function groupOf(record: StoredMessageRecord, grouping: MessageLogSettings['archiveGrouping']): string {
  if (grouping === 'none') return ''
  const client = decodeIdentifier(record.client) as ClientId
  const id = grouping === 'member' ? memberOf(client) : client
  return formatIdPath(id).split('/').join('-')
}

async function writeZipAtomically(dir: string, fileName: string, entries: Array<{ name: string; data: Uint8Array; mtime: Date }>): Promise<string> {
  mkdirSync(dir, { recursive: true })
  const finalPath = join(dir, fileName)
  const tmp = join(dir, `.${fileName}.${randomBytes(6).toString('hex')}.tmp`)
  const zip = new yazl.ZipFile()
  for (const e of entries) zip.addBuffer(Buffer.from(e.data), e.name, { mtime: e.mtime, mode: 0o100644, compress: true })
  zip.end()
  try {
    await new Promise<void>((resolve, reject) => {
      const out = createWriteStream(tmp, { mode: 0o600 })
      out.on('error', reject)
      out.on('close', resolve)
      zip.outputStream.on('error', reject)
      zip.outputStream.pipe(out)
    })
    const fd = openSync(tmp, 'r+')
    try {
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    renameSync(tmp, finalPath)
    fsyncDirectory(dir)
  } catch (cause) {
    rmSync(tmp, { force: true })
    throw new SecurityServerError('io_error', `Cannot write archive ${fileName}: ${(cause as Error).message}`, { cause })
  }
  return finalPath
}

async function runTransferCommand(command: readonly string[], path: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    execFile(command[0] as string, [...command.slice(1), path], { timeout: 10 * 60_000 }, (error, _stdout, stderr) => {
      if (error) reject(new SecurityServerError('io_error', `Archive transfer command failed: ${error.message}${stderr ? ` (${stderr.trim()})` : ''}`, { cause: error }))
      else resolve()
    })
  })
}

/** One archiving run: archive everything stamped and not yet archived, run the transfer hook, purge old records. */
export async function archiveRecords(options: ArchiveOptions): Promise<ArchiveRunResult> {
  const { db, clock, logger, settings } = options
  const dir = settings.archiveDir
  if (dir === undefined) throw new SecurityServerError('invalid_config', 'No archive directory is configured (archiveDir)')
  const result: ArchiveRunResult = { archives: [], purged: 0, transferFailures: [] }
  for (;;) {
    const batch = listArchivableRecords(db, settings.archiveMaxRecords * 4)
    if (batch.length === 0) break
    const groups = new Map<string, StoredMessageRecord[]>()
    for (const r of batch) {
      const g = groupOf(r, settings.archiveGrouping)
      groups.set(g, [...(groups.get(g) ?? []), r])
    }
    for (const [group, records] of groups) {
      for (const archive of await writeGroup(options, dir, group, records)) {
        result.archives.push(archive)
        if (settings.archiveTransferCommand !== undefined) {
          try {
            await runTransferCommand(settings.archiveTransferCommand, archive.path)
          } catch (error) {
            logFailure(logger, error, { archive: archive.fileName }, 'archive transfer failed')
            result.transferFailures.push({ path: archive.path, error: (error as Error).message })
          }
        }
      }
    }
  }
  const cutoff = clock.now().getTime() - settings.keepRecordsForDays * 86_400_000
  const purge = inTransaction(db, () => purgeArchivedRecords(db, cutoff))
  result.purged = purge.removed
  if (purge.base !== undefined) await options.onChainBaseMoved?.(purge.base)
  return result
}

interface PreparedContainer {
  record: StoredMessageRecord
  name: string
  data: Uint8Array
}

/** Splits a group's records into archives by `archiveMaxFileSize` and `archiveMaxRecords` and writes them in order. */
async function writeGroup(options: ArchiveOptions, dir: string, group: string, records: StoredMessageRecord[]): Promise<ArchiveFile[]> {
  const { settings } = options
  const written: ArchiveFile[] = []
  let current: PreparedContainer[] = []
  let bytes = 0
  for (const record of records) {
    const data = await options.containerWriter(loadRecordEvidence(options.db, record.id))
    current.push({ record, name: containerEntryName(record), data })
    bytes += data.byteLength
    if (bytes >= settings.archiveMaxFileSize || current.length >= settings.archiveMaxRecords) {
      written.push(await writeArchive(options, dir, group, current))
      current = []
      bytes = 0
    }
  }
  if (current.length > 0) written.push(await writeArchive(options, dir, group, current))
  return written
}

async function writeArchive(options: ArchiveOptions, dir: string, group: string, containers: PreparedContainer[]): Promise<ArchiveFile> {
  const { db, clock, settings } = options
  const previous = findLastArchiveDigest(db, group)
  const linking = new LinkingInfoBuilder(settings.archiveHashAlgorithm, previous)
  const entries: Array<{ name: string; data: Uint8Array; mtime: Date }> = []
  for (const c of containers) {
    linking.addFile(c.name, c.data)
    entries.push({ name: c.name, data: c.data, mtime: new Date(c.record.timeMs) })
  }
  const first = (containers[0] as PreparedContainer).record
  const last = (containers[containers.length - 1] as PreparedContainer).record
  entries.push({ name: LINKING_INFO_ENTRY, data: Buffer.from(linking.build(), 'utf8'), mtime: new Date(last.timeMs) })
  const fileName = archiveFileName(group, first.timeMs, last.timeMs, linking.lastDigest)
  const path = await writeZipAtomically(dir, fileName, entries)
  const now = clock.now().getTime()
  inTransaction(db, () => {
    markArchived(db, containers.map((c) => c.record.id), now, fileName)
    saveLastArchiveDigest(db, group, linking.lastDigest, fileName, now)
  })
  return { path, fileName, group, records: containers.length, lastDigest: linking.lastDigest }
}

import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs'
import { open, type FileHandle } from 'node:fs/promises'
import { setImmediate as nextTurn } from 'node:timers/promises'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { decodeIdentifier, formatIdPath, memberOf, type ClientId } from '@shared/domain/identifiers'
import {
  fsyncDirectory, inTransaction, logFailure, noteTransientBytes, SecurityServerError, ZIP_MAX_ENTRIES, ZIP_MAX_OFFSET, ZipLayout, type Clock, type Logger, type WritableDb, type ZipEntryOptions,
} from '../platform'
import {
  findLastArchiveDigest, listArchivableRecordKeys, markArchived, purgeableThrough, purgeRecordsThrough, saveLastArchiveDigest, type ArchivableRecordKey,
} from './message-record-repository'
import { LinkingInfoBuilder } from './linking-info'
import { LINKING_INFO_ENTRY } from './archive-verifier'
import { loadRecordEvidence, type EvidenceContainerWriter, type RecordEvidence } from './record-evidence'
import type { MessageLogSettings } from './message-log-settings'
import type { ChainPosition } from './evidence-chain'

/**
 * Periodic archiving of time-stamped records into linked ZIP archives (xroad-protocols.md §6.5; code
 * `LogArchiveWriter`, `AsicContainerNameGenerator`; reliability-and-security.md §1.7): per grouping key, containers
 * named `{URLEncoded(queryId)}-{request|response}-{id base-32}.asice` plus `linkinginfo`; written to a temporary file,
 * fsync'd, renamed atomically, directory fsync'd; then the records are marked archived and the group's last digest is
 * saved in one transaction. Written as a stream, as X-Road's `LogArchiveCache` writes it: a record's evidence is read
 * and its container made when its turn comes, so a run holds one container at a time however long the backlog (each
 * entry is deflated with a data descriptor after it, as Java's `ZipOutputStream` writes them). Entries carry the
 * record time as mtime, so re-archiving after a crash between the rename and the commit rewrites the same file under
 * the same name (UG-SS §11.1.6: archiving is deterministic).
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

function groupOf(record: ArchivableRecordKey, grouping: MessageLogSettings['archiveGrouping']): string {
  if (grouping === 'none') return ''
  const client = decodeIdentifier(record.client) as ClientId
  const id = grouping === 'member' ? memberOf(client) : client
  return formatIdPath(id).split('/').join('-')
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
  removeAbandonedArchives(dir, logger)
  for (;;) {
    const batch = await listBacklog(db, settings.archiveMaxRecords * 4)
    if (batch.length === 0) break
    const groups = new Map<string, ArchivableRecordKey[]>()
    for (const r of batch) {
      const g = groupOf(r, settings.archiveGrouping)
      const members = groups.get(g)
      if (members === undefined) groups.set(g, [r])
      else members.push(r)
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
  await purgeOldRecords(options, clock.now().getTime() - settings.keepRecordsForDays * 86_400_000, result)
  return result
}

/** Keys listed per synchronous step: 40 000 at once held the event loop 21 ms. */
const LIST_STEP_RECORDS = 2000

/**
 * Up to `limit` keys of stamped records not yet archived, in id order, `LIST_STEP_RECORDS` at a time with the event
 * loop turning between steps. A record stamped meanwhile below the last id listed is left for the run's next batch.
 */
async function listBacklog(db: WritableDb, limit: number): Promise<ArchivableRecordKey[]> {
  const keys: ArchivableRecordKey[] = []
  for (let afterId = 0; keys.length < limit;) {
    const step = listArchivableRecordKeys(db, Math.min(LIST_STEP_RECORDS, limit - keys.length), afterId)
    for (const key of step) keys.push(key)
    const last = step[step.length - 1]
    if (last === undefined || step.length < LIST_STEP_RECORDS) break
    afterId = last.id
    await nextTurn()
  }
  return keys
}

/** A temporary archive untouched this long is a crashed run's: one being written grows with every container. */
const ABANDONED_ARCHIVE_MS = 3600_000
const TEMPORARY_ARCHIVE = /^\.mlog-.*\.tmp$/

/** Removes the temporary files of archives a crash left unfinished (their records were not marked: they are archived again). */
function removeAbandonedArchives(dir: string, logger: Logger): void {
  if (!existsSync(dir)) return
  for (const name of readdirSync(dir)) {
    if (!TEMPORARY_ARCHIVE.test(name)) continue
    const path = join(dir, name)
    const stat = statSync(path, { throwIfNoEntry: false })
    if (stat === undefined || Date.now() - stat.mtimeMs < ABANDONED_ARCHIVE_MS) continue
    rmSync(path, { force: true })
    logger.warn({ file: name }, 'removed an archive an earlier run left unfinished')
  }
}

/** Records a purge step deletes in one transaction: about 25 ms of the event loop's and of the writer thread's commits. */
export const PURGE_STEP_RECORDS = 1000

/**
 * Retention: deletes archived records older than the cut-off, `PURGE_STEP_RECORDS` to a transaction with the event
 * loop turning between steps — a day's records at once held the event loop and, through the database's write lock,
 * every exchange's log record for seconds to minutes (23 µs a record). Each step leaves a consistent chain start
 * behind, told to the acknowledgement file as it moves.
 */
async function purgeOldRecords(options: ArchiveOptions, olderThanMs: number, result: ArchiveRunResult): Promise<void> {
  const { db } = options
  const through = purgeableThrough(db, olderThanMs)
  if (through === undefined) return
  for (;;) {
    const step = inTransaction(db, () => purgeRecordsThrough(db, through, PURGE_STEP_RECORDS))
    if (step === undefined) return
    result.purged += step.removed
    await options.onChainBaseMoved?.(step.base)
    if (step.base.seq >= through) return
    await nextTurn()
  }
}

/**
 * Splits a group's records into archives by `archiveMaxFileSize` and `archiveMaxRecords` and writes them in order, one
 * record's container in memory at a time (its evidence is read when its turn comes).
 */
async function writeGroup(options: ArchiveOptions, dir: string, group: string, records: readonly ArchivableRecordKey[]): Promise<ArchiveFile[]> {
  const { settings } = options
  const written: ArchiveFile[] = []
  let archive: ArchiveInProgress | undefined
  try {
    for (const record of records) {
      const evidence = loadRecordEvidence(options.db, record.id)
      const container = await options.containerWriter(evidence)
      archive ??= await ArchiveInProgress.open(options, dir, group)
      await archive.add(record, container)
      // The record's evidence and what was made of it are garbage now — the evidence and its entries' bytes, their
      // deflated forms, the container and its own: counted as transient bytes (`transient-memory.ts`: a young collection
      // every few megabytes; a large container, which may have lived across a write and die old, for the external-memory watch).
      noteTransientBytes(2 * evidenceBytes(evidence) + 3 * container.byteLength, container.byteLength)
      if (archive.bytes >= settings.archiveMaxFileSize || archive.records.length >= settings.archiveMaxRecords || archive.full) {
        written.push(await archive.close())
        archive = undefined
      }
      // Containers are made and deflated in place, in microtasks: the event loop turns between records here.
      await nextTurn()
    }
    if (archive !== undefined) written.push(await archive.close())
  } catch (error) {
    archive?.abandon()
    throw error
  }
  return written
}

function evidenceBytes({ record, attachments }: RecordEvidence): number {
  return attachments.reduce((sum, a) => sum + (a.content?.byteLength ?? 0), record.message.byteLength + record.signatureXml.length)
}

/** Pieces of an archive are gathered to this size and written at once (a syscall and a trip through libuv's pool each). */
const WRITE_BATCH_BYTES = 256 * 1024
/** An archive closes this far below ZIP's 4 GiB (no ZIP64 records), whatever `archiveMaxFileSize` allows. */
const ZIP_HEADROOM_BYTES = 1024 * 1024 * 1024

/**
 * One archive being written. Its ZIP goes to a temporary file container by container: each is deflated (in place when
 * small, `zip-writer.ts`) into the pieces of its entry, gathered to {@link WRITE_BATCH_BYTES} and written — so an
 * archive of 32 MiB never sits in memory, only the container being laid out, the batch and the linking info's digests.
 * `close` adds `linkinginfo`, makes the file durable under its final name (fsync, atomic rename, directory fsync) and
 * then marks its records archived in one transaction with the group's last digest.
 */
class ArchiveInProgress {
  readonly records: ArchivableRecordKey[] = []
  /** The containers' bytes so far (what `archiveMaxFileSize` counts, as X-Road's writer does). */
  bytes = 0
  private readonly linking: LinkingInfoBuilder
  private readonly zip = new ZipLayout()
  private pending: Buffer[] = []
  private pendingBytes = 0

  private constructor(private readonly options: ArchiveOptions, private readonly dir: string, private readonly group: string, private readonly tmp: string, private readonly file: FileHandle) {
    this.linking = new LinkingInfoBuilder(options.settings.archiveHashAlgorithm, findLastArchiveDigest(options.db, group))
  }

  static async open(options: ArchiveOptions, dir: string, group: string): Promise<ArchiveInProgress> {
    const tmp = join(dir, `.mlog-${group ? `${group}-` : ''}${randomBytes(6).toString('hex')}.tmp`)
    const file = await ioStep(dir, (async () => {
      mkdirSync(dir, { recursive: true })
      return open(tmp, 'wx', 0o600)
    })())
    return new ArchiveInProgress(options, dir, group, tmp, file)
  }

  /** Whether another container could take the ZIP past what it can address without ZIP64 records. */
  get full(): boolean {
    return this.zip.offset > ZIP_MAX_OFFSET - ZIP_HEADROOM_BYTES || this.records.length >= ZIP_MAX_ENTRIES - 1
  }

  async add(record: ArchivableRecordKey, container: Uint8Array): Promise<void> {
    const name = containerEntryName(record)
    this.queue(await this.zip.deflated(name, container, archiveEntry(record.timeMs)))
    this.linking.addFile(name, container)
    this.records.push(record)
    this.bytes += container.byteLength
    if (this.pendingBytes >= WRITE_BATCH_BYTES) await this.flush()
  }

  async close(): Promise<ArchiveFile> {
    const { db, clock } = this.options
    const first = this.records[0] as ArchivableRecordKey
    const last = this.records[this.records.length - 1] as ArchivableRecordKey
    const lastDigest = this.linking.lastDigest
    const fileName = archiveFileName(this.group, first.timeMs, last.timeMs, lastDigest)
    const path = join(this.dir, fileName)
    this.queue(await this.zip.deflated(LINKING_INFO_ENTRY, Buffer.from(this.linking.build(), 'utf8'), archiveEntry(last.timeMs)))
    this.queue([this.zip.end()])
    await this.flush()
    // The archive's sync in libuv's pool: tens of milliseconds for 32 MiB, which the event loop does not wait out.
    await ioStep(this.dir, (async () => {
      try {
        await this.file.sync()
      } finally {
        await this.file.close()
      }
      renameSync(this.tmp, path)
      fsyncDirectory(this.dir)
    })())
    const now = clock.now().getTime()
    inTransaction(db, () => {
      markArchived(db, this.records.map((r) => r.id), now, fileName)
      saveLastArchiveDigest(db, this.group, lastDigest, fileName, now)
    })
    return { path, fileName, group: this.group, records: this.records.length, lastDigest }
  }

  /** Stops writing and removes the temporary file (a failed container or write: its records stay to be archived). */
  abandon(): void {
    this.file.close().catch(() => undefined)
    rmSync(this.tmp, { force: true })
  }

  private queue(pieces: Buffer[]): void {
    for (const p of pieces) {
      this.pending.push(p)
      this.pendingBytes += p.length
    }
  }

  /** Writes the gathered pieces; a short write (a full disk) fails the archive like any other write error. */
  private async flush(): Promise<void> {
    const pieces = this.pending
    const total = this.pendingBytes
    this.pending = []
    this.pendingBytes = 0
    await ioStep(this.dir, (async () => {
      const { bytesWritten } = await this.file.writev(pieces)
      if (bytesWritten !== total) throw new Error(`only ${bytesWritten} of ${total} bytes were written`)
    })())
  }
}

/** An archive's entry as Java's `ZipOutputStream` writes X-Road's: the record time, sizes after the data. */
function archiveEntry(timeMs: number): ZipEntryOptions {
  return { mtime: new Date(timeMs), mode: 0o100644, dataDescriptor: true, extendedTimestamp: true }
}

async function ioStep<T>(dir: string, step: Promise<T>): Promise<T> {
  try {
    return await step
  } catch (cause) {
    throw new SecurityServerError('io_error', `Cannot write an archive in ${dir}: ${(cause as Error).message}`, { cause })
  }
}

import { execFile } from 'node:child_process'
import { createWriteStream, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, type WriteStream } from 'node:fs'
import { open } from 'node:fs/promises'
import { Readable } from 'node:stream'
import { setImmediate as nextTurn } from 'node:timers/promises'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import yazl from 'yazl'
import { decodeIdentifier, formatIdPath, memberOf, type ClientId } from '@shared/domain/identifiers'
import { fsyncDirectory, inTransaction, logFailure, noteTransientBytes, SecurityServerError, type Clock, type Logger, type WritableDb } from '../platform'
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
    const batch = listArchivableRecordKeys(db, settings.archiveMaxRecords * 4)
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
      archive ??= new ArchiveInProgress(options, dir, group)
      await archive.add(record, container)
      // The record's evidence and its container are garbage now. They lived across the file's writes, so they die old:
      // counted as the archive's bytes (a large body's, `transient-memory.ts`), which the external-memory watch collects.
      noteTransientBytes(evidenceBytes(evidence) + container.byteLength, archive.bytes)
      if (archive.bytes >= settings.archiveMaxFileSize || archive.records.length >= settings.archiveMaxRecords) {
        written.push(await archive.close())
        archive = undefined
      }
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

/**
 * One archive being written. Its ZIP goes to a temporary file entry by entry: a container is handed to the ZIP writer
 * when the writer reaches it, which pipes it through the deflater into the file with backpressure, and `add` returns
 * once the writer has read it — so an archive of 32 MiB never sits in memory, only the container being written and
 * the linking info's digests. `close` adds `linkinginfo`, makes the file durable under its final name (fsync, atomic
 * rename, directory fsync) and then marks its records archived in one transaction with the group's last digest.
 */
class ArchiveInProgress {
  readonly records: ArchivableRecordKey[] = []
  /** The containers' bytes so far (what `archiveMaxFileSize` counts, as X-Road's writer does). */
  bytes = 0
  private readonly linking: LinkingInfoBuilder
  private readonly zip = new yazl.ZipFile()
  private readonly tmp: string
  private readonly out: WriteStream
  /** Settles once the ZIP is written and its file closed; rejects on the first error of either. */
  private readonly written: Promise<void>

  constructor(private readonly options: ArchiveOptions, private readonly dir: string, private readonly group: string) {
    this.linking = new LinkingInfoBuilder(options.settings.archiveHashAlgorithm, findLastArchiveDigest(options.db, group))
    mkdirSync(dir, { recursive: true })
    this.tmp = join(dir, `.mlog-${group ? `${group}-` : ''}${randomBytes(6).toString('hex')}.tmp`)
    this.out = createWriteStream(this.tmp, { mode: 0o600 })
    this.written = new Promise<void>((resolve, reject) => {
      this.out.on('close', resolve)
      this.out.on('error', reject)
      this.zip.on('error', reject)
      this.zip.outputStream.on('error', reject)
    })
    this.written.catch(() => undefined)
    this.zip.outputStream.pipe(this.out)
  }

  async add(record: ArchivableRecordKey, container: Uint8Array): Promise<void> {
    const name = containerEntryName(record)
    await this.entry(name, container, new Date(record.timeMs))
    this.linking.addFile(name, container)
    this.records.push(record)
    this.bytes += container.byteLength
  }

  async close(): Promise<ArchiveFile> {
    const { db, clock } = this.options
    const first = this.records[0] as ArchivableRecordKey
    const last = this.records[this.records.length - 1] as ArchivableRecordKey
    const lastDigest = this.linking.lastDigest
    const fileName = archiveFileName(this.group, first.timeMs, last.timeMs, lastDigest)
    const path = join(this.dir, fileName)
    const linkingInfo = this.entry(LINKING_INFO_ENTRY, Buffer.from(this.linking.build(), 'utf8'), new Date(last.timeMs))
    this.zip.end()
    await linkingInfo
    await this.ioStep(this.written)
    // The archive's sync in libuv's pool: tens of milliseconds for 32 MiB, which the event loop does not wait out.
    await this.ioStep((async () => {
      const file = await open(this.tmp, 'r+')
      try {
        await file.sync()
      } finally {
        await file.close()
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
    this.out.destroy()
    rmSync(this.tmp, { force: true })
  }

  /**
   * Hands `data` to the ZIP writer when it reaches this entry; settles once the writer has read it. The writer keeps
   * each entry's stream function until the archive ends (for the central directory): it must not keep the bytes too.
   */
  private entry(name: string, data: Uint8Array, mtime: Date): Promise<void> {
    let bytes: Buffer | undefined = Buffer.from(data.buffer, data.byteOffset, data.byteLength)
    const read = new Promise<void>((resolve) => {
      this.zip.addReadStreamLazy(name, { mtime, mode: 0o100644, compress: true }, (done) => {
        const stream = Readable.from([bytes as Buffer])
        bytes = undefined
        stream.once('end', resolve)
        done(null, stream)
      })
    })
    return this.ioStep(Promise.race([read, this.written]))
  }

  private async ioStep(step: Promise<void>): Promise<void> {
    try {
      await step
    } catch (cause) {
      throw new SecurityServerError('io_error', `Cannot write an archive in ${this.dir}: ${(cause as Error).message}`, { cause })
    }
  }
}

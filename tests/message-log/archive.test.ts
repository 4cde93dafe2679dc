import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import yazl from 'yazl'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { subsystemId } from '@shared/domain/identifiers'
import { ManualClock } from '../../src-main/platform'
import {
  containerEntryName, findMessageRecord, PURGE_STEP_RECORDS, readZipEntries, verifyArchive, type ArchiveFile, type EvidenceContainerWriter,
} from '../../src-main/message-log'
import { findLastArchiveDigest, listArchivableRecordKeys, readEvidenceChainState } from '../../src-main/message-log/message-record-repository'
import { createHarness, messageFor, tempDir, type Harness } from './support/message-log-harness'
import { startOpensslTsa, type OpensslTsa } from './support/openssl-tsa'
import { testContainerWriter } from './support/test-container-writer'

async function rezip(entries: Array<{ name: string; data: Buffer }>, path: string): Promise<void> {
  const zip = new yazl.ZipFile()
  for (const e of entries) zip.addBuffer(e.data, e.name)
  zip.end()
  const chunks: Buffer[] = []
  await new Promise<void>((resolve) => {
    zip.outputStream.on('data', (c: Buffer) => chunks.push(c))
    zip.outputStream.on('end', () => resolve())
  })
  writeFileSync(path, Buffer.concat(chunks))
}

describe('log archives', () => {
  let tsa: OpensslTsa
  beforeAll(async () => {
    tsa = await startOpensslTsa()
  })
  afterAll(async () => tsa.close())

  function harness(clock: ManualClock, settings: Record<string, unknown> = {}): Harness {
    return createHarness(clock, {
      tsas: () => [{ url: tsa.url, certificates: [tsa.certificateDer] }],
      containerWriter: testContainerWriter,
      settings: { archiveDir: tempDir('gh-archives-'), ...settings },
    })
  }

  it('writes linked archives that verify in sequence, with X-Road naming', async () => {
    const clock = new ManualClock('2026-03-01T08:00:00Z')
    const h = harness(clock)
    try {
      await h.log.record(messageFor('q/1 a'))
      clock.advance(1000)
      await h.log.record(messageFor('q/1 a', { response: true }))
      await h.log.record(messageFor('q-2'))
      expect((await h.log.timestampNow()).stamped).toBe(3)
      const first = await h.log.archiveNow()
      expect(first.archives).toHaveLength(1)
      const a1 = first.archives[0] as ArchiveFile
      expect(a1.fileName).toMatch(/^mlog-20260301080000-20260301080001-[0-9a-f]{16}\.zip$/)
      expect(a1.fileName).toContain(a1.lastDigest.slice(0, 16))
      const names = (await readZipEntries(a1.path)).map((e) => e.name)
      expect(names).toEqual(['q%2F1+a-request-1.asice', 'q%2F1+a-response-2.asice', 'q-2-request-3.asice', 'linkinginfo'])
      const linking = (await readZipEntries(a1.path)).find((e) => e.name === 'linkinginfo')?.data.toString()
      expect(linking?.split('\n')[0]).toBe('- - SHA-512')
      const v1 = await verifyArchive(a1.path, { first: true })
      expect(v1).toMatchObject({ valid: true, files: 3, lastDigest: a1.lastDigest, algorithm: 'SHA-512' })
      expect(findLastArchiveDigest(h.db, '')?.digest).toBe(a1.lastDigest)
      expect(findMessageRecord(h.db, 1)?.archiveFile).toBe(a1.fileName)

      clock.advance(3600_000)
      await h.log.record(messageFor('q-3'))
      await h.log.timestampNow()
      const second = await h.log.archiveNow()
      const a2 = second.archives[0] as ArchiveFile
      const head = (await readZipEntries(a2.path)).find((e) => e.name === 'linkinginfo')?.data.toString().split('\n')[0]
      expect(head).toBe(`${a1.lastDigest} ${a1.fileName} SHA-512`)
      expect(await verifyArchive(a2.path, { previousDigest: a1.lastDigest })).toMatchObject({ valid: true, files: 1, lastDigest: a2.lastDigest })
      expect(await verifyArchive(a2.path, { previousDigest: 'ab'.repeat(64) })).toMatchObject({ valid: false, reason: 'previous_digest_mismatch' })
      expect((await h.log.archiveNow()).archives).toHaveLength(0)
      expect(readdirSync(h.log.settings.archiveDir as string).filter((f) => f.endsWith('.tmp'))).toEqual([])
    } finally {
      await h.close()
    }
  })

  it('detects tampering with any file of an archive it wrote', async () => {
    const clock = new ManualClock('2026-03-01T08:00:00Z')
    const h = harness(clock)
    try {
      for (let i = 0; i < 3; i++) await h.log.record(messageFor(`t-${i}`))
      await h.log.timestampNow()
      const archive = (await h.log.archiveNow()).archives[0] as ArchiveFile
      const entries = await readZipEntries(archive.path)
      const dir = tempDir('gh-tamper-')
      for (const [index, entry] of entries.entries()) {
        const tampered = entries.map((e, i) => {
          if (i !== index) return e
          const data = Buffer.from(e.data)
          const at = e.name === 'linkinginfo' ? data.length - 5 : Math.floor(data.length / 2)
          data[at] = (data[at] as number) ^ 0x01
          return { name: e.name, data }
        })
        const path = join(dir, `tampered-${index}.zip`)
        await rezip(tampered, path)
        const verdict = await verifyArchive(path, { first: true })
        expect(verdict.valid, `tampering with ${entry.name} must be detected`).toBe(false)
      }
      const removed = join(dir, 'removed.zip')
      await rezip(entries.filter((e) => e.name !== containerEntryName({ id: 2, queryId: 't-1', response: false })), removed)
      expect(await verifyArchive(removed, { first: true })).toMatchObject({ valid: false, reason: 'files_mismatch' })
      const intact = join(dir, 'intact.zip')
      await rezip(entries, intact)
      expect(await verifyArchive(intact, { first: true })).toMatchObject({ valid: true, lastDigest: archive.lastDigest })
    } finally {
      await h.close()
    }
  })

  it('groups per subsystem with a separate chain per group', async () => {
    const clock = new ManualClock('2026-03-01T08:00:00Z')
    const h = harness(clock, { archiveGrouping: 'subsystem' })
    const other = subsystemId('EE', 'GOV', '999', 'other')
    try {
      await h.log.record(messageFor('g-1'))
      await h.log.record(messageFor('g-2', { client: other }))
      await h.log.record(messageFor('g-3'))
      await h.log.timestampNow()
      const run = await h.log.archiveNow()
      expect(run.archives.map((a) => [a.group, a.records]).sort()).toEqual([['EE-GOV-1234-client-sub', 2], ['EE-GOV-999-other', 1]])
      for (const a of run.archives) {
        expect(a.fileName.startsWith(`mlog-${a.group}-`)).toBe(true)
        expect(await verifyArchive(a.path, { first: true })).toMatchObject({ valid: true })
        expect(findLastArchiveDigest(h.db, a.group)?.digest).toBe(a.lastDigest)
      }
    } finally {
      await h.close()
    }
  })

  it('leaves unstamped records out, purges archived records after keepRecordsFor and runs the transfer hook', async () => {
    const clock = new ManualClock('2026-03-01T08:00:00Z')
    const transferred = tempDir('gh-transfer-')
    const h = harness(clock, {
      keepRecordsForDays: 30,
      archiveTransferCommand: ['sh', '-c', `cp "$0" "${transferred}/"`],
    })
    try {
      const stamped = await h.log.record(messageFor('p-1'))
      await h.log.timestampNow()
      const unstamped = await h.log.record(messageFor('p-2'))
      const run = await h.log.archiveNow()
      expect(run.archives).toHaveLength(1)
      expect(run.transferFailures).toEqual([])
      expect(existsSync(join(transferred, (run.archives[0] as ArchiveFile).fileName))).toBe(true)
      expect(run.purged).toBe(0)
      expect(findMessageRecord(h.db, unstamped)?.archivedAtMs).toBeNull()
      clock.advance(31 * 86_400_000)
      tsa.setDown(true)
      const later = await h.log.archiveNow()
      expect(later.purged).toBe(1)
      expect(findMessageRecord(h.db, stamped)).toBeUndefined()
      expect(findMessageRecord(h.db, unstamped)).toMatchObject({ queryId: 'p-2', timestampRecordId: null, archivedAtMs: null })
    } finally {
      tsa.setDown(false)
      await h.close()
    }
  })

  it('archives a backlog listed in steps and purges a long prefix in steps with the event loop turning between them, and keeps a time-stamp while a kept record refers to it', async () => {
    const clock = new ManualClock('2026-03-01T08:00:00Z')
    const h = harness(clock, { keepRecordsForDays: 30 })
    try {
      const old = PURGE_STEP_RECORDS * 2 + 500
      for (let i = 0; i < old; i += 100) {
        await Promise.all(Array.from({ length: Math.min(100, old - i) }, (_, j) => h.log.record(messageFor(`old-${i + j}`))))
      }
      await h.log.timestampNow()
      // The backlog is listed in steps, each resumed after the last id of the one before.
      expect(listArchivableRecordKeys(h.db, 3, 2).map((k) => k.id)).toEqual([3, 4, 5])
      expect(listArchivableRecordKeys(h.db, 10, old - 1).map((k) => k.id)).toEqual([old])
      expect((await h.log.archiveNow()).purged).toBe(0)
      clock.advance(31 * 86_400_000)
      const kept = await h.log.record(messageFor('kept'))
      await h.log.timestampNow()
      // A stamp shared by a record that goes and one that stays (as a batch stamp straddling the cut-off would be).
      const shared = findMessageRecord(h.db, kept)?.timestampRecordId as number
      h.db.prepare('UPDATE message_records SET timestamp_record_id = ? WHERE id = ?').run(shared, old)
      let turns = 0
      const ticker = setInterval(() => turns++, 0)
      const run = await h.log.archiveNow().finally(() => clearInterval(ticker))
      expect(run.purged).toBe(old)
      expect(turns).toBeGreaterThanOrEqual(2)
      expect(findMessageRecord(h.db, old)).toBeUndefined()
      expect(findMessageRecord(h.db, kept)).toMatchObject({ queryId: 'kept', timestampRecordId: shared })
      expect(h.db.prepare('SELECT id FROM timestamp_records').all()).toEqual([{ id: shared }])
      expect(readEvidenceChainState(h.db).base.seq).toBe(old)
      expect((await h.log.checkEvidence('full')).report).toMatchObject({ problems: [] })
    } finally {
      await h.close()
    }
  })

  it('removes temporary archives a crashed run left behind, not one being written nor other files', async () => {
    const h = harness(new ManualClock('2026-03-01T08:00:00Z'))
    try {
      const dir = h.log.settings.archiveDir as string
      mkdirSync(dir, { recursive: true })
      const hoursAgo = (n: number): Date => new Date(Date.now() - n * 3600_000)
      for (const [name, at] of [['.mlog-1a2b3c.tmp', hoursAgo(2)], ['.mlog-20260301080000-x.zip.0a1b2c.tmp', hoursAgo(30)], ['.mlog-4d5e6f.tmp', new Date()], ['.other.tmp', hoursAgo(2)]] as const) {
        writeFileSync(join(dir, name), 'partial')
        utimesSync(join(dir, name), at, at)
      }
      await h.log.record(messageFor('after-crash'))
      await h.log.timestampNow()
      const run = await h.log.archiveNow()
      expect(readdirSync(dir).sort()).toEqual(['.mlog-4d5e6f.tmp', '.other.tmp', (run.archives[0] as ArchiveFile).fileName].sort())
    } finally {
      await h.close()
    }
  })

  it('closes an archive at archiveMaxFileSize and keeps the chain across the files', async () => {
    const h = harness(new ManualClock('2026-03-01T08:00:00Z'), { archiveMaxFileSize: 5000 })
    try {
      for (let i = 0; i < 5; i++) await h.log.record(messageFor(`size-${i}`, { attachments: [Buffer.alloc(2000, i)] }))
      await h.log.timestampNow()
      const run = await h.log.archiveNow()
      expect(run.archives.length).toBeGreaterThan(1)
      expect(run.archives.reduce((n, a) => n + a.records, 0)).toBe(5)
      let previous: string | undefined
      for (const a of run.archives) {
        const verdict = await verifyArchive(a.path, previous === undefined ? { first: true } : { previousDigest: previous })
        expect(verdict).toMatchObject({ valid: true })
        previous = a.lastDigest
      }
    } finally {
      await h.close()
    }
  })

  it('rewrites the identical archive when a crash hit between the rename and the database commit', async () => {
    const h = harness(new ManualClock('2026-03-01T08:00:00Z'))
    try {
      for (let i = 0; i < 3; i++) await h.log.record(messageFor(`det-${i}`))
      await h.log.timestampNow()
      const first = (await h.log.archiveNow()).archives[0] as ArchiveFile
      const bytes = readFileSync(first.path)
      // As if the process died after the rename: the database does not know the archive.
      h.db.prepare('UPDATE message_records SET archived_at_ms = NULL, archive_file = NULL').run()
      h.db.prepare('DELETE FROM last_archive_digest').run()
      const again = (await h.log.archiveNow()).archives[0] as ArchiveFile
      expect(again.fileName).toBe(first.fileName)
      expect(readFileSync(again.path).equals(bytes)).toBe(true)
      expect(readdirSync(h.log.settings.archiveDir as string)).toEqual([first.fileName])
    } finally {
      await h.close()
    }
  })

  it('reports a failing transfer command without losing the archive', async () => {
    const h = harness(new ManualClock('2026-03-01T08:00:00Z'), { archiveTransferCommand: ['sh', '-c', 'echo no space >&2; exit 3'] })
    try {
      await h.log.record(messageFor('f-1'))
      await h.log.timestampNow()
      const run = await h.log.archiveNow()
      expect(run.transferFailures).toHaveLength(1)
      expect(run.transferFailures[0]?.error).toContain('no space')
      expect(readFileSync((run.archives[0] as ArchiveFile).path).length).toBeGreaterThan(0)
    } finally {
      await h.close()
    }
  })
  it('writes a 64 MB archive holding about one container at a time, and the event loop turns between containers', async () => {
    setFlagsFromString('--expose-gc')
    const gc = runInNewContext('gc') as () => void
    const held: number[] = []
    let turns = 0
    const writer: EvidenceContainerWriter = (evidence) => {
      // What the archiver still holds when it asks for the next container: everything else collected first.
      gc()
      held.push(process.memoryUsage().arrayBuffers)
      return testContainerWriter(evidence)
    }
    const h = harness(new ManualClock('2026-03-01T08:00:00Z'), { archiveMaxFileSize: 1024 * 1024 * 1024 })
    try {
      const records = 32
      for (let i = 0; i < records; i++) await h.log.record(messageFor(`mem-${i}`, { attachments: [randomBytes(2 * 1024 * 1024)] }))
      await h.log.timestampNow()
      await h.reopen({ containerWriter: writer })
      const ticker = setInterval(() => turns++, 0)
      const run = await h.log.archiveNow().finally(() => clearInterval(ticker))
      expect(run.archives).toHaveLength(1)
      expect(run.archives[0]?.records).toBe(records)
      expect(await verifyArchive((run.archives[0] as ArchiveFile).path, { first: true })).toMatchObject({ valid: true, files: records })
      expect(held).toHaveLength(records)
      // Containers of 2 MB each: an archive kept whole until it closes would hold 62 MB by the last one. From the second
      // container on (the first reading may still hold what logging the records left, not yet swept after the collection).
      const after = held.slice(1)
      expect(Math.max(...after) - Math.min(...after)).toBeLessThan(12 * 1024 * 1024)
      expect(turns).toBeGreaterThanOrEqual(records / 2)
    } finally {
      await h.close()
    }
  })

  it('leaves no partial archive when a container cannot be made, and archives the records in the next run', async () => {
    let calls = 0
    const failing: EvidenceContainerWriter = (evidence) => {
      if (++calls === 3) throw new Error('container writer failed')
      return testContainerWriter(evidence)
    }
    const h = harness(new ManualClock('2026-03-01T08:00:00Z'))
    try {
      for (let i = 0; i < 5; i++) await h.log.record(messageFor(`fail-${i}`))
      await h.log.timestampNow()
      await h.reopen({ containerWriter: failing })
      await expect(h.log.archiveNow()).rejects.toThrow('container writer failed')
      const dir = h.log.settings.archiveDir as string
      expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([])
      expect(findMessageRecord(h.db, 1)?.archiveFile).toBeNull()
      await h.reopen({ containerWriter: testContainerWriter })
      const run = await h.log.archiveNow()
      expect(run.archives.map((a) => a.records)).toEqual([5])
      expect(readdirSync(dir)).toEqual([(run.archives[0] as ArchiveFile).fileName])
    } finally {
      await h.close()
    }
  })
})

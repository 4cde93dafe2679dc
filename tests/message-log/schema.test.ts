import { describe, expect, it } from 'vitest'
import { encodeIdentifier } from '@shared/domain/identifiers'
import { ManualClock, closeDatabase, inTransaction, migrate, openDatabase, silentLogger, type WritableDb } from '../../src-main/platform'
import {
  LinkingInfoBuilder, createMessageLog, findMessageRecord, findRecordsByQueryId, messageLogMigrations, nextLinkDigest, parseLinkingInfo,
  resolveMessageLogSettings, searchRecordMetadata, listAttachments, STORED_PIECE_BYTES,
} from '../../src-main/message-log'
import {
  BODY_CHUNK_BYTES, chainHead, chainPositionAt, countUnstampedRecords, findSignatureXml, insertTimestampRecord, linkTimestamp, listArchivableRecordKeys, listChainEntries,
  listExchangeRecords, listUnstampedRecords, loadChainedRecords, markArchived, oldestUnstampedTime, purgeableThrough, purgeRecordsThrough, VOLUME_SAMPLE_RECORDS, volumeSince,
} from '../../src-main/message-log/message-record-repository'
import { createHash, randomBytes } from 'node:crypto'
import { closeSync, openSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { CLIENT, SERVICE, createHarness, messageFor, tempDir } from './support/message-log-harness'

/** Retention in one step: every record the cut-off lets go. */
function purgeAll(db: WritableDb, olderThanMs: number): number {
  const through = purgeableThrough(db, olderThanMs)
  return through === undefined ? 0 : (inTransaction(db, () => purgeRecordsThrough(db, through, Number.MAX_SAFE_INTEGER))?.removed ?? 0)
}

describe('message-log migrations', () => {
  it('migrations 1 to 6 create the STRICT tables, the page indexes, the evidence chain, the contents table, the pieces table and the time-stamp index on a fresh database, idempotently', () => {
    const db = openDatabase(join(tempDir(), 'messagelog.sqlite'), { synchronous: 'FULL' })
    expect(migrate(db, [messageLogMigrations])).toBe(6)
    expect(migrate(db, [messageLogMigrations])).toBe(0)
    const tables = db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as Array<{ name: string; sql: string }>
    expect(tables.map((t) => t.name)).toEqual([
      'evidence_chain_state', 'evidence_incidents', 'last_archive_digest', 'message_attachment_pieces', 'message_attachments', 'message_record_contents', 'message_records', 'schema_migrations',
      'timestamp_records', 'timestamping_state',
    ])
    for (const t of tables.filter((x) => x.name !== 'schema_migrations')) expect(t.sql).toMatch(/STRICT$/)
    const indexes = db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'message_records' AND sql IS NOT NULL ORDER BY name").all() as Array<{ name: string; sql: string }>
    expect(indexes.map((i) => i.name)).toEqual([
      'message_records_client_time', 'message_records_query_id', 'message_records_seq', 'message_records_service_time', 'message_records_time',
      'message_records_timestamp', 'message_records_unarchived', 'message_records_unstamped',
    ])
    // Partial: a record is indexed once stamped, not when it is logged.
    expect(indexes.find((i) => i.name === 'message_records_timestamp')?.sql).toMatch(/WHERE timestamp_record_id IS NOT NULL$/)
    expect(indexes.find((i) => i.name === 'message_records_seq')?.sql).toMatch(/^CREATE UNIQUE INDEX/)
    expect(db.prepare('SELECT base_seq, base_hash, ack_file_since_ms FROM evidence_chain_state').all()).toEqual([{ base_seq: 0, base_hash: Buffer.alloc(32), ack_file_since_ms: null }])
    expect(indexes.find((i) => i.name === 'message_records_client_time')?.sql).toContain('(client, time_ms)')
    expect(() => db.prepare("INSERT INTO message_records (query_id, client, service, response, message, body_logged, signature_xml, signature_hash, time_ms) VALUES ('q', 'c', 's', 2, x'00', 1, '', '', 0)").run()).toThrow()
    expect(db.prepare("SELECT name FROM sqlite_master WHERE type = 'view'").all()).toEqual([{ name: 'message_records_full' }])
    db.close()
  })

  it('migration 4 on a log with records: their contents stay where they are and read as before, new records keep theirs apart, and purging takes both', async () => {
    const dir = tempDir()
    const db = openDatabase(join(dir, 'messagelog.sqlite'), { synchronous: 'FULL' })
    migrate(db, [{ component: 'message-log', migrations: messageLogMigrations.migrations.slice(0, 3) }])
    const old = Number(db.prepare(`INSERT INTO message_records (query_id, client, service, response, message, body_logged, signature_xml, signature_hash,
        hash_chain_result, hash_chain, time_ms, seq, prev_hash, chain_hash) VALUES ('old', ?, ?, 0, ?, 1, '<sig/>', 'h', '<hcr/>', '<hc/>', 1000, 1, ?, ?)`)
      .run(encodeIdentifier(CLIENT), encodeIdentifier(SERVICE), Buffer.from('<m>old</m>'), Buffer.alloc(32), Buffer.alloc(32, 1)).lastInsertRowid)
    expect(migrate(db, [messageLogMigrations])).toBe(3)
    expect(findMessageRecord(db, old)).toMatchObject({ queryId: 'old', message: Buffer.from('<m>old</m>'), signatureXml: '<sig/>', hashChainResult: '<hcr/>', hashChain: '<hc/>' })
    const log = createMessageLog({ db, clock: new ManualClock('2026-03-01T00:00:00Z'), logger: silentLogger() })
    const message = messageFor('new', { hashChainResult: '<hcr2/>', hashChain: '<hc2/>' })
    const id = await log.record(message)
    await log.stop()
    expect(findMessageRecord(db, id)).toMatchObject({
      queryId: 'new', message: Buffer.from(message.message), signatureXml: message.signatureXml, hashChainResult: '<hcr2/>', hashChain: '<hc2/>',
    })
    // The record's row holds no contents: the time-stamp's and the archive's updates rewrite a narrow row.
    expect(db.prepare('SELECT LENGTH(message) AS m, signature_xml AS s, hash_chain AS h FROM message_records WHERE id = ?').get(id)).toEqual({ m: 0, s: '', h: null })
    expect((db.prepare('SELECT LENGTH(message) AS m FROM message_record_contents WHERE record_id = ?').get(id) as { m: number }).m).toBe(message.message.byteLength)
    expect(findRecordsByQueryId(db, 'old').map((r) => r.id)).toEqual([old])
    db.prepare('UPDATE message_records SET timestamp_record_id = NULL, archived_at_ms = 1').run()
    expect(purgeAll(db, Date.parse('2026-03-02T00:00:00Z'))).toBe(2)
    expect(db.prepare('SELECT COUNT(*) AS n FROM message_record_contents').get()).toEqual({ n: 0 })
    closeDatabase(db)
  })

  it('migration 5 on a log with large bodies stored whole: they read and check as before, spooled bodies go in pieces, purging takes the pieces', async () => {
    const dir = tempDir()
    const clock = new ManualClock('2026-03-01T00:00:00Z')
    const wholeBody = randomBytes(2 * BODY_CHUNK_BYTES + 10)
    // In memory, so that a log (writing in place) can run on the database before the migration.
    const db = openDatabase(':memory:')
    migrate(db, [{ component: 'message-log', migrations: messageLogMigrations.migrations.slice(0, 4) }])
    let log = createMessageLog({ db, clock, logger: silentLogger() })
    const whole = await log.record(messageFor('whole', { attachments: [wholeBody] }))
    await log.stop()
    expect(migrate(db, [messageLogMigrations])).toBe(2)
    log = createMessageLog({ db, clock, logger: silentLogger() })
    const spoolFile = join(dir, 'spooled.body')
    const spooledBody = randomBytes(STORED_PIECE_BYTES + 1)
    writeFileSync(spoolFile, spooledBody)
    const fd = openSync(spoolFile, 'r')
    const sha512 = createHash('sha512').update(spooledBody).digest()
    const pieced = await log.record(messageFor('pieced', { attachments: [{ size: spooledBody.length, sha512, load: async () => ({ bytes: { fd, size: spooledBody.length }, release: () => closeSync(fd) }) }] }))
    expect(listAttachments(db, whole)[0]?.content?.equals(wholeBody)).toBe(true)
    expect(listAttachments(db, pieced)[0]?.content?.equals(spooledBody)).toBe(true)
    expect(db.prepare('SELECT record_id, pieces, content IS NULL AS empty FROM message_attachments ORDER BY record_id').all()).toEqual([
      { record_id: whole, pieces: 0, empty: 0 }, { record_id: pieced, pieces: 2, empty: 1 },
    ])
    // The stored sizes the evidence check pages by count a body in pieces too (its message and signature are a few KB).
    const [first, second] = listChainEntries(db, 0, 10).map((e) => e.bytes)
    expect(first! - wholeBody.length).toBeGreaterThan(0)
    expect(first! - wholeBody.length).toBeLessThan(64 * 1024)
    expect(second! - spooledBody.length).toBeGreaterThan(0)
    expect(second! - spooledBody.length).toBeLessThan(64 * 1024)
    expect((await log.checkEvidence('full')).report).toMatchObject({ verifiedRecords: 2, problems: [] })
    await log.stop()
    db.prepare('UPDATE message_records SET timestamp_record_id = NULL, archived_at_ms = 1').run()
    expect(purgeAll(db, Date.parse('2026-03-02T00:00:00Z'))).toBe(2)
    expect(db.prepare('SELECT (SELECT COUNT(*) FROM message_attachments) AS a, (SELECT COUNT(*) FROM message_attachment_pieces) AS p').get()).toEqual({ a: 0, p: 0 })
    closeDatabase(db)
  })

  it('every query of the message path, the GUI, the CLI, time-stamping, archiving, retention and the evidence check searches an index', async () => {
    const h = createHarness(new ManualClock('2026-03-01T00:00:00Z'))
    try {
      for (let i = 0; i < 3; i++) await h.log.record(messageFor(`plan-${i}`))
      const db = h.db
      const prepare = db.prepare.bind(db)
      const seen = new Set<string>()
      db.prepare = ((sql: string) => {
        if (/\bmessage_record/.test(sql)) seen.add(sql)
        return prepare(sql)
      }) as typeof db.prepare
      findMessageRecord(db, 1)
      findRecordsByQueryId(db, 'plan-1')
      searchRecordMetadata(db, { limit: 10, client: encodeIdentifier(CLIENT) })
      searchRecordMetadata(db, { limit: 10, queryId: 'plan-1' })
      searchRecordMetadata(db, { limit: 10, fromMs: 0, toMs: 2 })
      listUnstampedRecords(db, 10)
      findSignatureXml(db, 2)
      oldestUnstampedTime(db)
      countUnstampedRecords(db, 10)
      listArchivableRecordKeys(db, 10)
      listExchangeRecords(db, 'plan-1', 10)
      volumeSince(db, 0)
      listChainEntries(db, 0, 10)
      loadChainedRecords(db, 1, 3)
      chainHead(db)
      chainPositionAt(db, 2)
      inTransaction(db, () => {
        linkTimestamp(db, 1, insertTimestampRecord(db, { timeMs: 1, token: Buffer.from('t'), hashChainResult: null, tsaUrl: 'http://tsa' }), null)
        markArchived(db, [1], 1, 'a.zip')
        // Record 1 goes (archived, older than the cut-off), so that every statement of a purge step is planned.
        expect(purgeRecordsThrough(db, purgeableThrough(db, Date.parse('2027-01-01T00:00:00Z')) as number, 10)?.removed).toBe(1)
      })
      expect(seen.size).toBeGreaterThanOrEqual(15)
      for (const sql of seen) {
        const plan = (prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...Array<number>(sql.split('?').length - 1).fill(1)) as Array<{ detail: string }>).map((r) => r.detail)
        // A full scan of a table (`SCAN r`, not `SCAN r USING INDEX …`) would read every record.
        for (const step of plan) expect(step, sql).not.toMatch(/^SCAN (message_records|message_record_contents|message_attachments|r|n|c|a)( AS \w+)?$/)
      }
    } finally {
      await h.close()
    }
  })
})

describe('the disk forecast\'s volume', () => {
  it('counts the window\'s records by their ids and sizes them by the newest VOLUME_SAMPLE_RECORDS, without reading older ones', async () => {
    const clock = new ManualClock('2026-03-01T00:00:00Z')
    const h = createHarness(clock)
    try {
      const log = async (prefix: string, count: number, bodyBytes: number): Promise<number[]> => {
        const ids: number[] = []
        for (let i = 0; i < count; i += 100) {
          ids.push(...await Promise.all(Array.from({ length: Math.min(100, count - i) }, (_, j) =>
            h.log.record(messageFor(`${prefix}-${String(i + j).padStart(5, '0')}`, { attachments: [Buffer.alloc(bodyBytes)] })))))
        }
        return ids
      }
      await log('outside', 30, 4096)
      clock.advance(2 * 86_400_000)
      const since = clock.now().getTime()
      await log('large', 50, 40_000)
      const small = await log('small', VOLUME_SAMPLE_RECORDS, 1024)
      const volume = volumeSince(h.db, since)
      expect(volume.records).toBe(50 + VOLUME_SAMPLE_RECORDS)
      expect(volume.oldestMs).toBe(since)
      // Every small record is stored in the same bytes (same-length query ids, signatures and bodies).
      const one = h.db.prepare('SELECT LENGTH(message) + LENGTH(signature_xml) + COALESCE(LENGTH(hash_chain), 0) AS n FROM message_records_full WHERE id = ?')
        .get(small[0]) as { n: number }
      expect(volume.bytes).toBe((50 + VOLUME_SAMPLE_RECORDS) * (one.n + 1024))
      // A window with nothing in it, and an empty log.
      expect(volumeSince(h.db, since + 86_400_000)).toEqual({ records: 0, bytes: 0, oldestMs: null, newestMs: null })
    } finally {
      await h.close()
    }
  })
})

describe('settings', () => {
  it('fills X-Road defaults and rejects nonsense', () => {
    const s = resolveMessageLogSettings()
    expect(s).toMatchObject({
      maxLoggableBodySize: 10 * 1024 * 1024, acceptableTimestampFailurePeriodSeconds: 14_400, keepRecordsForDays: 30,
      archiveGrouping: 'none', archiveHashAlgorithm: 'SHA-512', timeStampingIntervalSeconds: 60, messageBodyLogging: true,
    })
    expect(() => resolveMessageLogSettings({ maxLoggableBodySize: -1 })).toThrow(expect.objectContaining({ code: 'invalid_config' }))
  })
})

describe('linkinginfo', () => {
  it('chains digests as hex(H(prev + hex(H(file)))) from an empty seed', () => {
    const b = new LinkingInfoBuilder('SHA-512')
    b.addFile('a.asice', Buffer.from('A'))
    b.addFile('b.asice', Buffer.from('B'))
    const h = (s: string | Buffer): string => createHash('sha512').update(s).digest('hex')
    const d1 = h(h(Buffer.from('A')))
    const d2 = h(d1 + h(Buffer.from('B')))
    expect(b.build()).toBe(`- - SHA-512\n${d1} a.asice\n${d2} b.asice\n`)
    expect(nextLinkDigest('SHA-512', d1, Buffer.from('B'))).toBe(d2)
    const next = new LinkingInfoBuilder('SHA-512', { digest: d2, fileName: 'mlog-x.zip' })
    expect(next.build().split('\n')[0]).toBe(`${d2} mlog-x.zip SHA-512`)
    expect(parseLinkingInfo(b.build())).toEqual({
      previousDigest: null, previousFileName: null, algorithm: 'SHA-512',
      entries: [{ digest: d1, fileName: 'a.asice' }, { digest: d2, fileName: 'b.asice' }],
    })
    expect(() => parseLinkingInfo('- - MD5\n')).toThrow(expect.objectContaining({ code: 'archive_invalid' }))
  })
})

import { createHash, randomBytes } from 'node:crypto'
import { closeSync, openSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { encodeIdentifier } from '@shared/domain/identifiers'
import { ManualClock, SecurityServerError, closeDatabase, integrityCheck, silentLogger } from '../../src-main/platform'
import { STORED_PIECE_BYTES, createMessageLog, findMessageRecord, findRecordsByQueryId, listAttachments, searchRecordMetadata } from '../../src-main/message-log'
import { BodyStore, DEFAULT_MESSAGE_BUDGET, MessageBudget } from '../../src-main/proxy'
import { CLIENT, SERVICE, createHarness, messageFor, openMessageLogDb, tempDir, type Harness } from './support/message-log-harness'

describe('message records', () => {
  let h: Harness | undefined
  afterEach(async () => {
    await h?.close()
    h = undefined
  })

  it('stores every field of a record, with the signature hash X-Road computes', async () => {
    const clock = new ManualClock('2026-03-01T10:00:00Z')
    h = createHarness(clock)
    const msg = messageFor('q-1', { hashChainResult: '<hcr/>', hashChain: '<hc/>' })
    const id = await h.log.record(msg)
    const stored = findMessageRecord(h.db, id)
    expect(stored).toBeDefined()
    expect(stored?.queryId).toBe('q-1')
    expect(stored?.xRequestId).toBe('req-q-1')
    expect(stored?.client).toBe(encodeIdentifier(CLIENT))
    expect(stored?.service).toBe(encodeIdentifier(SERVICE))
    expect(stored?.response).toBe(false)
    expect(Buffer.from(stored?.message ?? []).equals(Buffer.from(msg.message))).toBe(true)
    expect(stored?.signatureXml).toBe(msg.signatureXml)
    expect(stored?.signatureHash).toBe(createHash('sha512').update(msg.signatureXml, 'utf8').digest('base64'))
    expect(stored?.hashChainResult).toBe('<hcr/>')
    expect(stored?.hashChain).toBe('<hc/>')
    expect(stored?.timeMs).toBe(Date.parse('2026-03-01T10:00:00Z'))
    expect(stored?.timestampRecordId).toBeNull()
    const attachments = listAttachments(h.db, id)
    expect(attachments).toHaveLength(1)
    expect(Buffer.from(attachments[0]?.content ?? []).toString()).toBe('body of q-1')
  })

  for (const mode of ['thread', 'in place'] as const) {
    it(`stores a spooled body in pieces from its open file (${mode === 'thread' ? 'the writer thread' : 'an in-memory log, in place'}), reads it back whole and checks it`, async () => {
      const clock = new ManualClock('2026-03-01T10:00:00Z')
      h = mode === 'thread' ? createHarness(clock) : undefined
      const db = h?.db ?? openMessageLogDb(':memory:')
      const log = h?.log ?? createMessageLog({ db, clock, logger: silentLogger() })
      try {
        const store = new BodyStore(new MessageBudget({ ...DEFAULT_MESSAGE_BUDGET, spoolThresholdBytes: 64 * 1024 }), join(tempDir(), 'spool'))
        const bytes = randomBytes(2 * STORED_PIECE_BYTES + 4097)
        const body = await store.receive([bytes.subarray(0, 100_000), bytes.subarray(100_000)], { declaredLength: bytes.length, limits: [] })
        expect(body.spooled).toBe(true)
        // The exchange gives its body up while the record waits for its commit: the open file is still read.
        const id = await log.record(messageFor('q-spooled', { attachments: [{ size: body.size, sha512: body.sha512, load: async () => {
          const loaded = await body.load()
          body.release()
          return loaded
        } }, Buffer.from('small')] }))
        expect(readdirSync(store.spoolDir)).toEqual([])
        expect(store.budget.stats().memoryInUse).toBe(0)
        const [stored, small] = listAttachments(db, id)
        expect(stored?.size).toBe(bytes.length)
        expect(Buffer.from(stored?.content ?? []).equals(bytes)).toBe(true)
        expect(stored?.sha512).toBe(createHash('sha512').update(bytes).digest('base64'))
        expect(Buffer.from(small?.content ?? []).toString()).toBe('small')
        const pieces = db.prepare('SELECT piece, length(bytes) AS n FROM message_attachment_pieces WHERE record_id = ? ORDER BY piece').all(id)
        expect(pieces).toEqual([{ piece: 0, n: STORED_PIECE_BYTES }, { piece: 1, n: STORED_PIECE_BYTES }, { piece: 2, n: 4097 }])
        expect(db.prepare('SELECT content, pieces FROM message_attachments WHERE record_id = ? AND position = 1').get(id)).toEqual({ content: null, pieces: 3 })
        expect(log.diskUseForecast(tempDir(), 1).bytesPerDay).toBeGreaterThan(bytes.length)
        expect((await log.checkEvidence('full')).report).toMatchObject({ verifiedRecords: 1, problems: [] })
        // A byte changed in the last piece, or a piece gone: the record no longer matches its chain.
        db.prepare("UPDATE message_attachment_pieces SET bytes = CAST(x'00' || substr(bytes, 2) AS BLOB) WHERE record_id = ? AND piece = 2").run(id)
        expect((await log.checkEvidence('full')).report.problems).toEqual([expect.objectContaining({ kind: 'altered', firstSeq: 1 })])
      } finally {
        if (h === undefined) {
          await log.stop()
          closeDatabase(db)
        }
      }
    })
  }

  it('fails the batch, not the process, when a spooled body is shorter than its size, and stores none of it', async () => {
    h = createHarness(new ManualClock())
    const path = join(tempDir(), 'short.body')
    writeFileSync(path, Buffer.alloc(1000, 1))
    const fd = openSync(path, 'r')
    try {
      const source = { size: 5000, sha512: Buffer.alloc(64), load: async () => ({ bytes: { fd, size: 5000 }, release: () => undefined }) }
      await expect(h.log.record(messageFor('q-short', { attachments: [source] }))).rejects.toMatchObject({ code: 'logging_failed' })
      expect(findRecordsByQueryId(h.db, 'q-short')).toHaveLength(0)
      expect(h.db.prepare('SELECT COUNT(*) AS n FROM message_attachment_pieces').get()).toEqual({ n: 0 })
      await expect(h.log.record(messageFor('q-after'))).resolves.toBeGreaterThan(0)
    } finally {
      closeSync(fd)
    }
  })

  it('rejects a body over maxLoggableBodySize with logging_failed and stores nothing', async () => {
    h = createHarness(new ManualClock(), { settings: { maxLoggableBodySize: 1024 } })
    const big = messageFor('q-big', { attachments: [Buffer.alloc(600), Buffer.alloc(600)] })
    await expect(h.log.record(big)).rejects.toMatchObject({ code: 'logging_failed' })
    expect(findRecordsByQueryId(h.db, 'q-big')).toHaveLength(0)
    await expect(h.log.record(messageFor('q-small', { attachments: [Buffer.alloc(1024)] }))).resolves.toBeGreaterThan(0)
  })

  it('keeps metadata only when body logging is off, per server and per subsystem', async () => {
    h = createHarness(new ManualClock(), {
      settings: { messageBodyLogging: true, bodyLoggingDisabledSubsystems: [encodeIdentifier(CLIENT)] },
    })
    const id = await h.log.record(messageFor('q-nobody'))
    const stored = findMessageRecord(h.db, id)
    expect(stored?.bodyLogged).toBe(false)
    const text = Buffer.from(stored?.message ?? []).toString('utf8')
    expect(text).toContain('<xroad:id>q-nobody</xroad:id>')
    expect(text).not.toContain('38001010000')
    const [att] = listAttachments(h.db, id)
    expect(att?.content).toBeNull()
    expect(att?.size).toBe(Buffer.byteLength('body of q-nobody'))
    expect(att?.sha512).toBe(createHash('sha512').update('body of q-nobody').digest('base64'))
  })

  it('commits concurrent records in shared transactions and acknowledges each after commit', async () => {
    let commits = 0
    h = createHarness(new ManualClock(), { settings: { groupCommitWindowMs: 5, groupCommitMaxRecords: 50 }, onCommit: () => commits++ })
    const db = h.db
    const ids = await Promise.all(Array.from({ length: 200 }, (_, i) => h?.log.record(messageFor(`g-${i}`))))
    expect(new Set(ids).size).toBe(200)
    expect(commits).toBeGreaterThan(0)
    expect(commits).toBeLessThanOrEqual(8)
    expect(ids.map((id) => findMessageRecord(db, id as number)?.queryId)).toEqual(Array.from({ length: 200 }, (_, i) => `g-${i}`))
    expect(integrityCheck(h.db)).toEqual(['ok'])
  })

  it('searches metadata by time range, client, service and query id', async () => {
    const clock = new ManualClock('2026-03-01T00:00:00Z')
    h = createHarness(clock)
    await h.log.record(messageFor('s-1'))
    clock.advance(3600_000)
    await h.log.record(messageFor('s-2', { response: true }))
    const all = h.log.search({ limit: 10, client: encodeIdentifier(CLIENT), service: encodeIdentifier(SERVICE) })
    expect(all.map((r) => r.queryId)).toEqual(['s-1', 's-2'])
    const late = searchRecordMetadata(h.db, { limit: 10, fromMs: Date.parse('2026-03-01T00:30:00Z') })
    expect(late.map((r) => [r.queryId, r.response])).toEqual([['s-2', true]])
    expect(searchRecordMetadata(h.db, { limit: 10, queryId: 's-1' })).toHaveLength(1)
    expect(searchRecordMetadata(h.db, { limit: 10, client: 'SUBSYSTEM:EE/GOV/1234/other' })).toHaveLength(0)
  })

  it('rejects with logging_failed while the database is locked and recovers afterwards', async () => {
    h = createHarness(new ManualClock())
    const { openDatabase } = await import('../../src-main/platform')
    const other = openDatabase(h.dbPath, { synchronous: 'FULL', busyTimeoutMs: 0 })
    h.db.pragma('busy_timeout = 50')
    other.prepare('BEGIN EXCLUSIVE').run()
    const error = await h.log.record(messageFor('locked')).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(SecurityServerError)
    expect((error as SecurityServerError).code).toBe('logging_failed')
    other.prepare('ROLLBACK').run()
    other.close()
    expect(findRecordsByQueryId(h.db, 'locked')).toHaveLength(0)
    const id = await h.log.record(messageFor('after-lock'))
    expect(findMessageRecord(h.db, id)?.queryId).toBe('after-lock')
  })

  it('rejects a whole group at once while the database is locked, acknowledging none of it', async () => {
    h = createHarness(new ManualClock(), { settings: { groupCommitWindowMs: 5 } })
    const { openDatabase } = await import('../../src-main/platform')
    const other = openDatabase(h.dbPath, { synchronous: 'FULL', busyTimeoutMs: 0 })
    h.db.pragma('busy_timeout = 100')
    other.prepare('BEGIN EXCLUSIVE').run()
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => h?.log.record(messageFor(`grp-${i}`))))
    other.prepare('ROLLBACK').run()
    other.close()
    expect(results.map((r) => r.status)).toEqual(Array(20).fill('rejected'))
    expect(results.map((r) => (r as PromiseRejectedResult).reason?.code)).toEqual(Array(20).fill('logging_failed'))
    expect(h.log.search({ limit: 100 })).toEqual([])
  })

  it('rejects with logging_failed when the disk is full and recovers when space returns', async () => {
    h = createHarness(new ManualClock())
    for (let i = 0; i < 3; i++) await h.log.record(messageFor(`fill-${i}`))
    const pages = Number(h.db.pragma('page_count', { simple: true }))
    h.db.pragma(`max_page_count = ${pages + 1}`)
    const big = messageFor('too-much', { attachments: [Buffer.alloc(256 * 1024, 7)] })
    await expect(h.log.record(big)).rejects.toMatchObject({ code: 'logging_failed', detail: 'SQLITE_FULL' })
    expect(findRecordsByQueryId(h.db, 'too-much')).toHaveLength(0)
    h.db.pragma('max_page_count = 1073741823')
    const id = await h.log.record(big)
    expect(listAttachments(h.db, id)[0]?.size).toBe(256 * 1024)
    expect(integrityCheck(h.db)).toEqual(['ok'])
  })

  it('hands the writer thread a limit set at runtime before its next batch, and reads the limits only when one was set', async () => {
    h = createHarness(new ManualClock())
    const db = h.db
    const prepare = db.prepare.bind(db)
    let limitReads = 0
    db.prepare = ((sql: string) => {
      if (sql === 'PRAGMA busy_timeout') limitReads++
      return prepare(sql)
    }) as typeof db.prepare
    for (let i = 0; i < 3; i++) await h.log.record(messageFor(`steady-${i}`))
    expect(limitReads).toBe(1)
    const pages = Number(db.pragma('page_count', { simple: true }))
    db.exec(`PRAGMA max_page_count = ${pages + 1}`)
    const big = messageFor('over-limit', { attachments: [Buffer.alloc(256 * 1024, 3)] })
    await expect(h.log.record(big)).rejects.toMatchObject({ code: 'logging_failed', detail: 'SQLITE_FULL' })
    expect(limitReads).toBe(2)
    db.exec('PRAGMA main.max_page_count(1073741823)')
    await expect(h.log.record(big)).resolves.toBeGreaterThan(0)
    await h.log.record(messageFor('steady-after'))
    expect(limitReads).toBe(3)
  })
})

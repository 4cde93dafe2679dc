import { createHash } from 'node:crypto'
import { closeSync, openSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import type { DestinationStream } from 'pino'
import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  ManualClock, closeDatabase, createLogger, integrityCheck, migrate, openDatabase, silentLogger, systemClock, type Logger, type WritableDb,
} from '../../src-main/platform'
import {
  GENESIS_HASH, chainHash, checkEvidence, createMessageLog, findMessageRecord, listAttachments, messageLogMigrations, readAckFile, recordDigest,
  type MessageLog,
} from '../../src-main/message-log'
import { openAckFile } from '../../src-main/message-log/ack-file'
import { BODY_CHUNK_BYTES } from '../../src-main/message-log/message-record-repository'
import { dataDirLayout } from '../../src-main/server'
import { createSecurityServerCore } from '../../src-main/server/security-server-core'
import { killWriter } from './support/kill-loop'
import { createHarness, messageFor, openMessageLogDb, swapForDevFull, tempDir, type Harness } from './support/message-log-harness'
import { startOpensslTsa } from './support/openssl-tsa'
import { runGatehouse } from './support/run-cli'
import { testContainerWriter } from './support/test-container-writer'
import { flipByte, walFrames } from '../../scripts/lib/faults/fault-evidence'

/**
 * Evidence continuity (issue 14 item 4): a hash chain over the records and the last acknowledged place kept outside
 * SQLite. Each way evidence goes missing or changes — a flipped WAL byte after a kill -9, a flipped byte in a stored
 * body, a deleted record, a truncated or emptied database, a lost acknowledgement file — is found and refuses
 * traffic (fail-closed) until an administrator acknowledges it; none passes silently.
 */

let h: Harness | undefined
afterEach(async () => {
  vi.restoreAllMocks()
  await h?.close()
  h = undefined
})

interface SeqRow { id: number; seq: number; prev_hash: Buffer; chain_hash: Buffer }
const chainRows = (db: WritableDb): SeqRow[] => db.prepare('SELECT id, seq, prev_hash, chain_hash FROM message_records ORDER BY seq').all() as SeqRow[]

/** Flips one bit of the byte `skip` bytes after each occurrence of `marker` in a file (the file as on disk). */
function flipAfter(path: string, marker: string, skip: number): void {
  const bytes = readFileSync(path)
  const at = bytes.indexOf(Buffer.from(marker, 'latin1'))
  expect(at, `${marker} in ${path}`).toBeGreaterThanOrEqual(0)
  // A page split leaves a stale copy of the cells it moved in the old page's free space (no record reads it), so the
  // byte is flipped wherever the marker is: in the record's cell and in any such copy.
  for (let next = at; next >= 0; next = bytes.indexOf(Buffer.from(marker, 'latin1'), next + 1)) flipByte(path, next + skip)
}


/** A logger whose JSON lines the test reads. */
function capturingLogger(): { logger: Logger; errors: () => string[] } {
  let text = ''
  const destination = { write: (chunk: string) => void (text += chunk) } as unknown as DestinationStream
  return {
    logger: createLogger({ level: 'info', destination }),
    errors: () => text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { level: string; msg: string }).filter((l) => l.level === 'error').map((l) => l.msg),
  }
}

async function recordMany(log: MessageLog, prefix: string, n: number, body?: (i: number) => Buffer): Promise<number[]> {
  const ids: number[] = []
  for (let i = 0; i < n; i++) ids.push(await log.record(messageFor(`${prefix}-${i}`, body === undefined ? {} : { attachments: [body(i)] })))
  return ids
}

describe('the evidence chain', () => {
  it('gives every record the next number and a chain hash over the one before it; the acknowledgement file is never ahead of the commits and at most one batch behind the records answered', async () => {
    // The committed head after each group commit (onCommit runs once the commit returned, before any record of it is answered).
    const heads: number[] = []
    h = createHarness(new ManualClock('2026-03-01T00:00:00Z'), {
      settings: { groupCommitMaxRecords: 4 }, onCommit: (n) => void heads.push((heads.at(-1) ?? 0) + n),
    })
    const log = h.log
    const ids = await Promise.all(Array.from({ length: 30 }, async (_, i) => {
      const id = await log.record(messageFor(`c-${i}`))
      const seq = (h?.db.prepare('SELECT seq FROM message_records WHERE id = ?').get(id) as { seq: number }).seq
      const ack = readAckFile(join(h?.dir ?? '', 'messagelog.ack'))
      if (ack.status !== 'ok') throw new Error(`acknowledgement file: ${ack.status}`)
      // Every batch answered before this record's own is in the file outside SQLite; nothing not yet committed is.
      const batch = heads.findIndex((head) => head >= seq)
      expect(batch).toBeGreaterThanOrEqual(0)
      expect(ack.state.last.seq).toBeGreaterThanOrEqual(batch === 0 ? 0 : (heads[batch - 1] as number))
      expect(ack.state.last.seq).toBeLessThanOrEqual(heads.at(-1) as number)
      return id
    }))
    expect(heads.length).toBeGreaterThan(1)
    // The last batch's write follows it, without another message.
    await expect.poll(() => {
      const ack = readAckFile(h?.ackPath ?? '')
      return ack.status === 'ok' ? ack.state.last.seq : -1
    }).toBe(30)
    const rows = chainRows(h.db)
    expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1))
    expect(new Set(ids).size).toBe(30)
    let previous = GENESIS_HASH
    for (const row of rows) {
      expect(row.prev_hash.equals(previous)).toBe(true)
      const stored = findMessageRecord(h.db, row.id)
      if (stored === undefined) throw new Error(`record ${row.id}`)
      const digest = recordDigest({
        ...stored, attachments: listAttachments(h.db, row.id).map((a) => ({ size: a.size, sha512: a.sha512, stored: a.content !== null })),
      })
      expect(chainHash(previous, row.seq, digest).equals(row.chain_hash)).toBe(true)
      // The layout logs written before keep (evidence-chain.ts), computed apart: SHA-256(domain ‖ chain_{n−1} ‖ uint64be(n) ‖ digest_n).
      const n = Buffer.alloc(8)
      n.writeBigUInt64BE(BigInt(row.seq))
      expect(createHash('sha256').update('gatehouse.messagelog.chain.v1').update(previous).update(n).update(digest).digest().equals(row.chain_hash)).toBe(true)
      previous = row.chain_hash
    }
    const ack = readAckFile(h.ackPath)
    expect(ack.status === 'ok' && ack.state.last.seq === 30 && ack.state.last.hash.equals(previous)).toBe(true)
    const status = await h.log.checkEvidence('full')
    expect(status.report).toMatchObject({ scope: 'full', records: 30, verifiedRecords: 30, firstSeq: 1, lastSeq: 30, lastAcknowledgedSeq: 30, ackFile: 'ok', problems: [] })
    expect(status).toMatchObject({ refusing: false, failClosed: true })
  })

  it('a record written around the chain (no sequence number) is a problem', async () => {
    const db = openMessageLogDb(join(tempDir(), 'messagelog.sqlite'))
    db.prepare(`INSERT INTO message_records (query_id, client, service, response, message, body_logged, signature_xml, signature_hash, time_ms)
      VALUES ('around', 'SUBSYSTEM:EE/GOV/1/a', 'SERVICE:EE/GOV/2/b/s', 0, x'00', 1, '<sig/>', 'h', 1)`).run()
    const { report } = await checkEvidence({ db, nowMs: 0, ack: undefined, scope: 'full' })
    expect(report.problems.map((p) => [p.kind, p.detail])).toEqual([['link', '1 record(s) have no place in the evidence chain']])
    closeDatabase(db)
  })

  it('migration 3 on a log with records: each chained, verifiable, and new records continue the chain', async () => {
    const dir = tempDir()
    const path = join(dir, 'messagelog.sqlite')
    const db = openDatabase(path, { synchronous: 'FULL' })
    migrate(db, [{ component: 'message-log', migrations: messageLogMigrations.migrations.slice(0, 2) }])
    const insert = db.prepare(`INSERT INTO message_records (query_id, client, service, response, message, body_logged, signature_xml, signature_hash, time_ms)
      VALUES (?, 'SUBSYSTEM:EE/GOV/1/a', 'SERVICE:EE/GOV/2/b/s', 0, ?, 1, '<sig/>', 'h', ?)`)
    const sha = (text: string): string => createHash('sha512').update(text).digest('base64')
    for (let i = 1; i <= 4; i++) {
      const id = Number(insert.run(`old-${i}`, Buffer.from(`<m>${i}</m>`), 1000 + i).lastInsertRowid)
      db.prepare('INSERT INTO message_attachments (record_id, position, content, size, sha512) VALUES (?, 1, ?, ?, ?)').run(id, Buffer.from(`body ${i}`), 6, sha(`body ${i}`))
    }
    migrate(db, [messageLogMigrations])
    const check = await checkEvidence({ db, nowMs: 0, ack: undefined, scope: 'full' })
    expect(check.report).toMatchObject({ records: 4, verifiedRecords: 4, firstSeq: 1, lastSeq: 4, problems: [] })
    const log = createMessageLog({ db, clock: systemClock, logger: silentLogger(), ackFile: join(dir, 'messagelog.ack') })
    const id = await log.record(messageFor('after-migration'))
    expect((db.prepare('SELECT seq FROM message_records WHERE id = ?').get(id) as { seq: number }).seq).toBe(5)
    // The acknowledgement write follows the commit (message-log.ts, `previousAck`).
    await expect.poll(() => {
      const ack = readAckFile(join(dir, 'messagelog.ack'))
      return ack.status === 'ok' ? ack.state.last.seq : -1
    }).toBe(5)
    expect((await log.checkEvidence('full')).report).toMatchObject({ records: 5, problems: [], lastAcknowledgedSeq: 5 })
    await log.stop()
    closeDatabase(db)
  })
})

describe('corruption is found, never silent', () => {
  it('a flipped byte in a stored body, which integrity_check does not see: altered, traffic refused until acknowledged', async () => {
    const clock = new ManualClock('2026-03-01T00:00:00Z')
    h = createHarness(clock)
    await recordMany(h.log, 'b', 10, (i) => Buffer.from(`BODY-${i}-`.padEnd(3000, 'x')))
    const { logger, errors } = capturingLogger()
    await h.reopen({ logger }, () => flipAfter(h?.dbPath ?? '', 'BODY-4-', 100))
    expect(integrityCheck(h.db)).toEqual(['ok'])
    // The check at start reads the structure only; the full check that start() runs (and the on-demand one) reads every record.
    expect(h.log.evidence().refusing).toBe(false)
    const status = await h.log.checkEvidence('full')
    expect(status.report.problems).toEqual([
      expect.objectContaining({ kind: 'altered', firstSeq: 5, lastSeq: 5, acknowledged: false, detail: expect.stringContaining('attachment 1') }),
    ])
    expect(status.refusing).toBe(true)
    expect(() => h?.log.assertAcceptingMessages()).toThrow(expect.objectContaining({ code: 'logging_failed' }))
    await expect(h.log.record(messageFor('refused'))).rejects.toMatchObject({ code: 'logging_failed' })
    expect(errors().some((m) => m.startsWith('message-log evidence check: record 5') && m.includes('refused'))).toBe(true)
  })

  it('a byte changed deep inside a body read in chunks (larger than BODY_CHUNK_BYTES): altered at that record only', async () => {
    h = createHarness(new ManualClock('2026-03-01T00:00:00Z'))
    const size = 2 * BODY_CHUNK_BYTES + 4097
    await recordMany(h.log, 'large', 3, (i) => Buffer.concat([Buffer.from(`LARGE-${i}-`), Buffer.alloc(size, 0x61 + i)]))
    expect((await h.log.checkEvidence('full')).report).toMatchObject({ verifiedRecords: 3, problems: [] })
    // One byte changed in the second body's second chunk, by someone writing the database directly.
    await h.reopen({}, () => {
      const db = openMessageLogDb(h?.dbPath ?? '')
      const at = BODY_CHUNK_BYTES + 12_345
      db.prepare(`UPDATE message_attachments SET content = CAST(substr(content, 1, ?) || x'7a' || substr(content, ?) AS BLOB)
                  WHERE record_id = (SELECT id FROM message_records WHERE query_id = 'large-1')`).run(at, at + 2)
      closeDatabase(db)
    })
    expect(integrityCheck(h.db)).toEqual(['ok'])
    expect((await h.log.checkEvidence('full')).report.problems).toEqual([
      expect.objectContaining({ kind: 'altered', firstSeq: 2, lastSeq: 2, detail: expect.stringContaining('attachment 1') }),
    ])
  }, 60_000)

  it('a damaged database the checks read past (an index page no longer a page): the first failed commit is an alarm, traffic refused until acknowledged', async () => {
    // The fault harness's WAL class once flipped a frame an automatic checkpoint had already copied into the file:
    // SQLite then mixed page versions of different commits, the chain's index still answered every check, and every
    // commit failed with "database disk image is malformed" while the evidence state said nothing was wrong.
    h = createHarness(new ManualClock('2026-03-01T00:00:00Z'))
    await recordMany(h.log, 'm', 6)
    const { logger, errors } = capturingLogger()
    await h.reopen({ logger }, () => {
      const raw = openDatabase(h?.dbPath ?? '')
      const { rootpage } = raw.prepare("SELECT rootpage FROM sqlite_master WHERE name = 'message_records_client_time'").get() as { rootpage: number }
      const pageSize = Number(raw.pragma('page_size', { simple: true }))
      closeDatabase(raw)
      // The page-type byte of the index's root page: 0 is no B-tree page type.
      const fd = openSync(h?.dbPath ?? '', 'r+')
      writeSync(fd, Buffer.from([0]), 0, 1, (rootpage - 1) * pageSize)
      closeSync(fd)
    })
    expect((await h.log.checkEvidence('full')).report.problems).toEqual([])
    await expect(h.log.record(messageFor('first-after-damage'))).rejects.toMatchObject({ code: 'logging_failed' })
    const e = h.log.evidence()
    expect(e.report.problems).toEqual([expect.objectContaining({ kind: 'unreadable', firstSeq: null, lastSeq: 6, acknowledged: false, detail: expect.stringContaining('damaged') })])
    expect(e.refusing).toBe(true)
    expect(() => h?.log.assertAcceptingMessages()).toThrow(expect.objectContaining({ code: 'logging_failed', message: expect.stringContaining('restore the message log from a backup') }))
    expect(errors().filter((m) => m.startsWith('message-log evidence check: the message-log database is damaged'))).toHaveLength(1)
    // A later check does not lose it (the index it reads still answers).
    expect((await h.log.checkEvidence('full')).report.problems).toEqual([expect.objectContaining({ kind: 'unreadable', acknowledged: false })])
    // Acknowledged, the alarm stops refusing; the database still refuses every commit, which raises no new alarm.
    expect(h.log.acknowledgeEvidenceLoss('admin', 'restoring from backup')).toBe(1)
    expect(h.log.evidence().refusing).toBe(false)
    await expect(h.log.record(messageFor('still-damaged'))).rejects.toMatchObject({ code: 'logging_failed' })
    expect(h.log.evidence()).toMatchObject({ refusing: false, report: { problems: [expect.objectContaining({ kind: 'unreadable', acknowledged: true })] } })
  })

  it('a flipped byte in a logged message (a record field): altered at that record only, the rest of the chain still links', async () => {
    h = createHarness(new ManualClock('2026-03-01T00:00:00Z'))
    await recordMany(h.log, 'f', 8)
    await h.reopen({}, () => flipAfter(h?.dbPath ?? '', '<xroad:id>f-3</xroad:id>', 12))
    expect(integrityCheck(h.db)).toEqual(['ok'])
    const status = await h.log.checkEvidence('full')
    expect(status.report.problems.map((p) => [p.kind, p.firstSeq, p.lastSeq])).toEqual([['altered', 4, 4]])
    expect(status.report.verifiedRecords).toBe(8)
  })

  it('deleted records, in the middle and the newest: missing at the check at start, before any message is taken', async () => {
    h = createHarness(new ManualClock('2026-03-01T00:00:00Z'))
    await recordMany(h.log, 'd', 20)
    await h.reopen({}, () => {
      const raw = openDatabase(h?.dbPath ?? '', { synchronous: 'FULL' })
      raw.prepare('DELETE FROM message_records WHERE seq IN (7, 20)').run()
      closeDatabase(raw)
    })
    expect(integrityCheck(h.db)).toEqual(['ok'])
    const e = h.log.evidence()
    expect(e.report.scope).toBe('start')
    expect(e.report.problems.map((p) => [p.kind, p.firstSeq, p.lastSeq, p.acknowledged])).toEqual([['missing', 7, 7, false], ['missing', 20, 20, false]])
    expect(e.refusing).toBe(true)
    await expect(h.log.record(messageFor('refused'))).rejects.toMatchObject({ code: 'logging_failed', detail: 'evidence_loss' })
  })

  it('an acknowledgement lets traffic flow again, with who and why kept; the chain goes on after the last acknowledged record', async () => {
    const clock = new ManualClock('2026-03-01T00:00:00Z')
    h = createHarness(clock)
    await recordMany(h.log, 'a', 20)
    await h.reopen({}, () => {
      const raw = openDatabase(h?.dbPath ?? '', { synchronous: 'FULL' })
      raw.prepare('DELETE FROM message_records WHERE seq IN (7, 19, 20)').run()
      closeDatabase(raw)
    })
    expect(h.log.evidence().refusing).toBe(true)
    clock.advance(60_000)
    expect(h.log.acknowledgeEvidenceLoss('officer', 'Faulty clean-up script deleted three records; restored from archive 12')).toBe(2)
    expect(h.log.evidence().refusing).toBe(false)
    const id = await h.log.record(messageFor('after'))
    // Numbers are never reused: the lost 19 and 20 stay a gap, the next record is 21.
    expect((h.db.prepare('SELECT seq FROM message_records WHERE id = ?').get(id) as { seq: number }).seq).toBe(21)
    expect(h.log.evidenceIncidents(10).map((i) => [i.kind, i.firstSeq, i.lastSeq, i.acknowledgedBy, i.reason, i.acknowledgedAtMs])).toEqual([
      ['missing', 19, 20, 'officer', 'Faulty clean-up script deleted three records; restored from archive 12', Date.parse('2026-03-01T00:01:00Z')],
      ['missing', 7, 7, 'officer', 'Faulty clean-up script deleted three records; restored from archive 12', Date.parse('2026-03-01T00:01:00Z')],
    ])
    // Across a restart and a full check: the same gaps, acknowledged; nothing else.
    await h.reopen()
    const status = await h.log.checkEvidence('full')
    expect(status.report.problems.map((p) => [p.kind, p.firstSeq, p.lastSeq, p.acknowledged])).toEqual([['missing', 7, 7, true], ['missing', 19, 20, true]])
    expect(status.refusing).toBe(false)
    await expect(h.log.record(messageFor('after-restart'))).resolves.toBeGreaterThan(0)
  })

  it('with fail-closed off, a loss is reported and logged but traffic continues', async () => {
    h = createHarness(new ManualClock('2026-03-01T00:00:00Z'), { settings: { evidenceLossFailClosed: false } })
    await recordMany(h.log, 'o', 5)
    const { logger, errors } = capturingLogger()
    await h.reopen({ logger }, () => {
      const raw = openDatabase(h?.dbPath ?? '', { synchronous: 'FULL' })
      raw.prepare('DELETE FROM message_records WHERE seq = 5').run()
      closeDatabase(raw)
    })
    expect(h.log.evidence()).toMatchObject({ refusing: false, failClosed: false })
    expect(h.log.evidence().report.problems.map((p) => p.kind)).toEqual(['missing'])
    await expect(h.log.record(messageFor('flows'))).resolves.toBeGreaterThan(0)
    expect(errors()).toEqual([expect.stringContaining('record 5 was acknowledged but is missing')])
  })

  it('a truncated database does not open (loudly), and `messagelog check` says it is unreadable; an emptied one shows every record missing', async () => {
    h = createHarness(new ManualClock('2026-03-01T00:00:00Z'))
    await recordMany(h.log, 't', 50, (i) => Buffer.alloc(4000, i))
    await h.close()
    const { dir, dbPath, ackPath } = h
    h = undefined
    const copy = readFileSync(dbPath)
    truncateSync(dbPath, Math.floor(statSync(dbPath).size / 2 / 4096) * 4096)
    expect(() => openMessageLogDb(dbPath)).toThrow(expect.objectContaining({ code: 'database_error' }))
    // A server on this data directory does not start, and says what to do.
    expect(() => createSecurityServerCore(dataDirLayout(dir), systemClock, silentLogger()))
      .toThrow(/^The message log .* cannot be opened \(.*malformed.*\): the evidence in it cannot be read\. .*gatehouse messagelog check --data-dir/)
    const truncated = await runGatehouse('messagelog', 'check', '--data-dir', dir, '--json')
    expect(truncated.code).toBe(1)
    expect(JSON.parse(truncated.stdout)).toMatchObject({ ok: false, lastAcknowledgedSeq: 50, problems: [{ kind: 'unreadable', acknowledged: false }] })

    truncateSync(dbPath, 0)
    rmSync(`${dbPath}-wal`, { force: true })
    const db = openMessageLogDb(dbPath)
    const log = createMessageLog({ db, clock: systemClock, logger: silentLogger(), ackFile: ackPath })
    expect(log.evidence().report.problems.map((p) => [p.kind, p.firstSeq, p.lastSeq])).toEqual([['missing', 1, 50]])
    expect(log.evidence().refusing).toBe(true)
    await log.stop()
    closeDatabase(db)
    writeFileSync(dbPath, copy)
  })

  it('a lost or unreadable acknowledgement file is a problem that stays until acknowledged, even once the file is made again', async () => {
    h = createHarness(new ManualClock('2026-03-01T00:00:00Z'))
    await recordMany(h.log, 'k', 3)
    await h.reopen({}, () => rmSync(h?.ackPath ?? ''))
    expect(h.log.evidence().report.problems.map((p) => [p.kind, p.lastSeq])).toEqual([['ack-file', 3]])
    expect(h.log.evidence().refusing).toBe(true)
    await h.reopen()
    expect(readAckFile(h.ackPath).status).toBe('ok')
    expect(h.log.evidence().report.problems.map((p) => [p.kind, p.acknowledged])).toEqual([['ack-file', false]])
    h.log.acknowledgeEvidenceLoss('root', 'Data directory copied without messagelog.ack during the move')
    await expect(h.log.record(messageFor('k-after'))).resolves.toBeGreaterThan(0)
    await h.reopen({}, () => writeFileSync(h?.ackPath ?? '', 'garbage'))
    // A second loss, after more records, is a new problem: the first acknowledgement does not cover it.
    expect(h.log.evidence().report.problems.map((p) => [p.kind, p.lastSeq, p.acknowledged])).toEqual([['ack-file', 4, false]])
    expect(h.log.evidence().refusing).toBe(true)
  })

  it('the acknowledgement file survives a torn write: the other slot is read', () => {
    const dir = tempDir()
    const path = join(dir, 'messagelog.ack')
    const hash = (n: number): Buffer => Buffer.alloc(32, n)
    const writer = openAckFile(path, { last: { seq: 1, hash: hash(1) }, base: { seq: 0, hash: GENESIS_HASH } })
    return writer.acknowledge({ seq: 2, hash: hash(2) }).then(async () => {
      await writer.acknowledge({ seq: 3, hash: hash(3) })
      await writer.close()
      const read = readAckFile(path)
      expect(read.status === 'ok' && read.state.last.seq).toBe(3)
      // Tear the newest slot (generation 3 is in slot 1): the reader falls back to generation 2.
      flipByte(path, 512 + 40)
      const fallback = readAckFile(path)
      expect(fallback.status === 'ok' && [fallback.generation, fallback.state.last.seq]).toEqual([2, 2])
      flipByte(path, 40)
      expect(readAckFile(path).status).toBe('unreadable')
    })
  })

  it('a crash between a commit and its acknowledgement write: no alarm, the start writes the head in, and a later loss of that record is found', async () => {
    h = createHarness(new ManualClock('2026-03-01T00:00:00Z'))
    await recordMany(h.log, 'w', 3)
    const second = chainRows(h.db).find((r) => r.seq === 2)
    if (second === undefined) throw new Error('record 2')
    // The file as a crash right after record 3's commit leaves it: at record 2.
    await h.reopen({}, () => {
      const behind = openAckFile(h?.ackPath ?? '', { last: { seq: 2, hash: second.chain_hash }, base: { seq: 0, hash: GENESIS_HASH } }, { replace: true })
      void behind.close()
    })
    expect(h.log.evidence().report.problems).toEqual([])
    await expect.poll(() => {
      const ack = readAckFile(h?.ackPath ?? '')
      return ack.status === 'ok' ? ack.state.last.seq : -1
    }).toBe(3)
    await h.reopen({}, () => {
      const db = openMessageLogDb(h?.dbPath ?? '')
      db.prepare('DELETE FROM message_attachments WHERE record_id IN (SELECT id FROM message_records WHERE seq = 3)').run()
      db.prepare('DELETE FROM message_records WHERE seq = 3').run()
      closeDatabase(db)
    })
    expect(h.log.evidence().report.problems.map((p) => [p.kind, p.firstSeq, p.lastSeq])).toEqual([['missing', 3, 3]])
  })

  it.runIf(process.platform === 'linux')('an acknowledgement write that fails after its batch was answered: an ack-file problem, traffic refused, the batch after it not answered', async () => {
    h = createHarness(new ManualClock('2026-03-01T00:00:00Z'))
    await recordMany(h.log, 'f', 2)
    await expect.poll(() => {
      const ack = readAckFile(h?.ackPath ?? '')
      return ack.status === 'ok' ? ack.state.last.seq : -1
    }).toBe(2)
    // The file's writes fail from now on, as on a disk that filled up: the writer thread's descriptor now leads to /dev/full.
    swapForDevFull(h.ackPath)
    // Committed, and the write holding the batch before it is on disk: answered.
    await expect(h.log.record(messageFor('f-2'))).resolves.toBeGreaterThan(0)
    await expect(h.log.record(messageFor('f-3'))).rejects.toMatchObject({ code: 'logging_failed' })
    const problems = h.log.evidence().report.problems
    expect(problems.map((p) => p.kind)).toContain('ack-file')
    expect(problems.every((p) => p.kind === 'ack-file' && !p.acknowledged)).toBe(true)
    expect(problems.map((p) => p.lastSeq)).toContain(3)
    expect(h.log.evidence().refusing).toBe(true)
  })

  it('purged records are not missing: the chain starts after them, in the database and in the acknowledgement file', async () => {
    const clock = new ManualClock('2026-03-01T00:00:00Z')
    const tsa = await startOpensslTsa()
    try {
      h = createHarness(clock, {
        tsas: () => [{ url: tsa.url, certificates: [tsa.certificateDer] }], containerWriter: testContainerWriter,
        settings: { archiveDir: join(tempDir(), 'archive'), keepRecordsForDays: 0 },
      })
      await recordMany(h.log, 'p', 10)
      expect(await h.log.timestampNow()).toMatchObject({ stamped: 10 })
      clock.advance(1000)
      expect(await h.log.archiveNow()).toMatchObject({ purged: 10 })
      const ack = readAckFile(h.ackPath)
      expect(ack.status === 'ok' && [ack.state.base.seq, ack.state.last.seq]).toEqual([10, 10])
      await recordMany(h.log, 'q', 3)
      expect((await h.log.checkEvidence('full')).report).toMatchObject({ records: 3, baseSeq: 10, firstSeq: 11, problems: [] })
      // The database is lost altogether: only the records after the purge are missing.
      await h.reopen({}, () => {
        for (const suffix of ['', '-wal', '-shm']) rmSync(`${h?.dbPath ?? ''}${suffix}`, { force: true })
      })
      expect(h.log.evidence().report.problems.map((p) => [p.kind, p.firstSeq, p.lastSeq])).toEqual([['missing', 11, 13]])
    } finally {
      await tsa.close()
    }
  })
})

describe('the WAL case of the issue', () => {
  it('kill -9 of a writer mid-load, one flipped byte in messagelog.sqlite-wal, restart: the dropped acknowledged records are found', async () => {
    for (let attempt = 1; attempt <= 8; attempt++) {
      const dir = tempDir('gh-wal-')
      const dbPath = join(dir, 'messagelog.sqlite')
      const { acks } = await killWriter(dbPath, `w${attempt}`, 150, 500)
      const { pageSize, frames } = walFrames(`${dbPath}-wal`)
      if (frames.length < 20) continue
      // A byte in the page of a frame in the middle: its checksum fails, and SQLite's recovery drops it and every frame after.
      flipByte(`${dbPath}-wal`, (frames[Math.floor(frames.length / 2)] as number) + 24 + Math.floor(pageSize / 2))
      const { logger, errors } = capturingLogger()
      const db = openMessageLogDb(dbPath)
      try {
        const lost = acks.filter((a) => findMessageRecord(db, a.id)?.queryId !== a.queryId)
        // The flipped frame may lie after the last acknowledged commit: then nothing acknowledged was lost; try again.
        if (lost.length === 0) continue
        const newest = (db.prepare('SELECT MAX(seq) AS seq FROM message_records').get() as { seq: number | null }).seq ?? 0
        const ack = readAckFile(join(dir, 'messagelog.ack'))
        if (ack.status !== 'ok') throw new Error(`acknowledgement file: ${ack.status}`)
        const log = createMessageLog({ db, clock: systemClock, logger, ackFile: join(dir, 'messagelog.ack') })
        try {
          const e = log.evidence()
          expect(e.report.problems).toContainEqual(expect.objectContaining({ kind: 'missing', firstSeq: newest + 1, lastSeq: ack.state.last.seq, acknowledged: false }))
          // Every acknowledged record SQLite dropped is inside the range reported, but for the last batch answered
          // before the kill, whose acknowledgement write may not have been made (message-log.ts, `previousAck`): at
          // most the child's 8 records in flight.
          expect(ack.state.last.seq - newest).toBeGreaterThanOrEqual(lost.length - 8)
          expect(e.refusing).toBe(true)
          await expect(log.record(messageFor('after-corruption'))).rejects.toMatchObject({ code: 'logging_failed' })
          expect(errors().some((m) => m.includes('acknowledged but') && m.includes('missing from the message log'))).toBe(true)
          // And the CLI, on demand, exits 1.
          const cli = await runGatehouse('messagelog', 'check', '--data-dir', dir, '--json')
          expect(cli.code).toBe(1)
          expect(JSON.parse(cli.stdout)).toMatchObject({ ok: false, problems: expect.arrayContaining([expect.objectContaining({ kind: 'missing', lastSeq: ack.state.last.seq })]) })
          return
        } finally {
          await log.stop()
        }
      } finally {
        closeDatabase(db)
      }
    }
    throw new Error('no attempt made SQLite drop an acknowledged record')
  }, 120_000)
})

describe('gatehouse messagelog check', () => {
  it('exits 0 on an intact log, 1 on a loss not acknowledged, 0 again once acknowledged, 2 on usage errors', async () => {
    h = createHarness(new ManualClock('2026-03-01T00:00:00Z'))
    await recordMany(h.log, 'cli', 6)
    await h.close()
    const { dir, dbPath } = h
    h = undefined
    const fine = await runGatehouse('messagelog', 'check', '--data-dir', dir, '--json')
    expect(fine.code).toBe(0)
    expect(JSON.parse(fine.stdout)).toMatchObject({ ok: true, records: 6, verifiedRecords: 6, lastAcknowledgedSeq: 6, ackFile: 'ok', problems: [] })
    const text = await runGatehouse('messagelog', 'check', '--data-dir', dir)
    expect(text.stdout).toContain('verified 6 record(s): every acknowledged record is there and unchanged')

    const raw = openDatabase(dbPath, { synchronous: 'FULL' })
    raw.prepare('DELETE FROM message_records WHERE seq = 3').run()
    closeDatabase(raw)
    const broken = await runGatehouse('messagelog', 'check', '--data-dir', dir)
    expect(broken.code).toBe(1)
    expect(broken.stdout).toContain('PROBLEM missing: record 3 is missing from the message log')

    const db = openMessageLogDb(dbPath)
    const log = createMessageLog({ db, clock: systemClock, logger: silentLogger(), ackFile: join(dir, 'messagelog.ack') })
    log.acknowledgeEvidenceLoss('root', 'Record 3 deleted by hand during a test')
    await log.stop()
    closeDatabase(db)
    const acknowledged = await runGatehouse('messagelog', 'check', '--data-dir', dir, '--json')
    expect(acknowledged.code).toBe(0)
    expect(JSON.parse(acknowledged.stdout)).toMatchObject({ ok: true, problems: [{ kind: 'missing', firstSeq: 3, acknowledged: true }] })

    expect((await runGatehouse('messagelog', 'check')).code).toBe(2)
    expect((await runGatehouse('messagelog', 'check', '--data-dir', join(dir, 'nothing-here'))).code).toBe(2)
  })
})

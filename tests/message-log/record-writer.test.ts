import { statSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { closeDatabase, inTransaction, silentLogger, type WritableDb } from '../../src-main/platform'
import { insertTimestampRecord, type NewMessageRecord } from '../../src-main/message-log/message-record-repository'
import { createRecordWriter, type AckWriteFailure, type RecordWriter } from '../../src-main/message-log/record-writer'
import { openAckFile, readAckFile, type AckFileWriter } from '../../src-main/message-log/ack-file'
import { CHAIN_START, nextLink, recordDigest } from '../../src-main/message-log/evidence-chain'
import { openMessageLogDb, soapMessage, signatureXmlFor, swapForDevFull, tempDir } from './support/message-log-harness'

/** Each test's database, writer and acknowledgement file, closed after it. */
let db: WritableDb | undefined
let writer: RecordWriter | undefined
let file: AckFileWriter | undefined
afterEach(async () => {
  await writer?.close()
  await file?.close()
  if (db !== undefined) closeDatabase(db)
  db = file = writer = undefined
})

function newRecord(queryId: string): NewMessageRecord {
  return {
    queryId, xRequestId: null, client: 'SUBSYSTEM:EE/GOV/1234/client-sub', service: 'SERVICE:EE/COM/5678/provider-sub/getPerson/v1',
    response: false, message: soapMessage(queryId), bodyLogged: true, signatureXml: signatureXmlFor(queryId), signatureHash: 'hash',
    hashChainResult: null, hashChain: null, timeMs: 1_770_000_000_000, attachments: [],
  }
}

describe('message-log writer thread: WAL checkpoints', () => {
  it('leaves the log connection no automatic checkpoint while the thread runs, checkpoints its writes on request, and gives it back at close', async () => {
    const path = join(tempDir(), 'messagelog.sqlite')
    const conn = (db = openMessageLogDb(path))
    const own = Number(conn.pragma('wal_autocheckpoint', { simple: true }))
    expect(own).toBeGreaterThan(0)
    const threaded = (writer = createRecordWriter(conn, silentLogger(), { head: () => CHAIN_START }))
    expect(threaded.threaded).toBe(true)
    await threaded.write([newRecord('q-1')])
    expect(Number(conn.pragma('wal_autocheckpoint', { simple: true }))).toBe(0)
    const fileBefore = statSync(path).size
    // Well past the 1000 pages at which the connection would have checkpointed on its own, on the event loop.
    inTransaction(conn, () => {
      for (let i = 0; i < 600; i++) insertTimestampRecord(conn, { timeMs: i, token: Buffer.alloc(8192, i & 0xff), hashChainResult: null, tsaUrl: 'http://tsa' })
    })
    expect(statSync(path).size).toBe(fileBefore)
    const result = await threaded.checkpoint()
    expect(result?.walFrames).toBeGreaterThan(1200)
    expect(result?.checkpointedFrames).toBe(result?.walFrames)
    expect(statSync(path).size).toBeGreaterThan(fileBefore + 600 * 8192)
    await threaded.close()
    expect(Number(conn.pragma('wal_autocheckpoint', { simple: true }))).toBe(own)
    await expect(threaded.checkpoint()).resolves.toBeUndefined()
  })
})

describe('message-log writer thread: a thread that cannot start', () => {
  it('fails the write with logging_failed and says why (an error thrown out of a thread loses its message)', async () => {
    const path = join(tempDir(), 'messagelog.sqlite')
    const conn = (db = openMessageLogDb(path))
    // A database the thread cannot prepare its statements on: the pieces table of migration 5 is gone.
    conn.exec('DROP TABLE message_attachment_pieces')
    const threaded = (writer = createRecordWriter(conn, silentLogger(), { head: () => CHAIN_START }))
    await expect(threaded.write([newRecord('q-1')])).rejects.toMatchObject({
      code: 'logging_failed', message: expect.stringMatching(/no such table: message_attachment_pieces/),
    })
  })
})

/** Records for places `from`…`to`. */
function batch(from: number, to: number): NewMessageRecord[] {
  const out = []
  for (let seq = from; seq <= to; seq++) out.push(newRecord(`q-${seq}`))
  return out
}

function acknowledgedSeq(path: string): number {
  const read = readAckFile(path)
  if (read.status !== 'ok') throw new Error(`acknowledgement file ${read.status}`)
  return read.state.last.seq
}

describe('message-log writer thread: the acknowledgement file', () => {
  function open(): { ackPath: string; failures: AckWriteFailure[] } {
    const dir = tempDir()
    const ackPath = join(dir, 'messagelog.ack')
    db = openMessageLogDb(join(dir, 'messagelog.sqlite'))
    const ack = (file = openAckFile(ackPath, { last: CHAIN_START, base: CHAIN_START }))
    const failures: AckWriteFailure[] = []
    writer = createRecordWriter(db, silentLogger(), { head: () => CHAIN_START, acknowledgements: { file: ack, failed: (failure) => failures.push(failure) } })
    expect(writer.threaded).toBe(true)
    return { ackPath, failures }
  }

  it('is written by the thread after each commit: never ahead of the database, the write before a batch on disk when it is answered, all of them at a clean close', async () => {
    const { ackPath } = open()
    const w = writer as RecordWriter
    expect((await w.write(batch(1, 2))).ids).toHaveLength(2)
    expect(acknowledgedSeq(ackPath)).toBeLessThanOrEqual(2)
    let head = CHAIN_START
    for (let k = 1; k < 6; k++) {
      const result = await w.write(batch(2 * k + 1, 2 * k + 2))
      head = result.head
      expect(result.ackFailure).toBeUndefined()
      // Answered: the write holding the batch before it is on disk; its own may be too, nothing beyond it.
      expect([2 * k, 2 * k + 2]).toContain(acknowledgedSeq(ackPath))
    }
    await w.close()
    const read = readAckFile(ackPath)
    expect(read.status === 'ok' && [read.state.last.seq, read.state.last.hash.equals(head.hash), read.state.base.seq]).toEqual([12, true, 0])
    // Back on this side, the file goes on from the thread's generations.
    expect(file?.state().last.seq).toBe(12)
    await file?.setBase({ seq: 4, hash: Buffer.alloc(32, 4) })
    const after = readAckFile(ackPath)
    expect(after.status === 'ok' && read.status === 'ok' && [after.generation - read.generation, after.state.last.seq, after.state.base.seq]).toEqual([1, 12, 4])
  })

  it('takes the chain\'s new start through the thread while it runs', async () => {
    const { ackPath } = open()
    await writer?.write(batch(1, 3))
    await writer?.setAckBase({ seq: 2, hash: Buffer.alloc(32, 2) })
    const read = readAckFile(ackPath)
    expect(read.status === 'ok' && [read.state.base.seq, read.state.base.hash.equals(Buffer.alloc(32, 2)), read.state.last.seq]).toEqual([2, true, 3])
  })

  it.runIf(process.platform === 'linux')('a failed write is told at once, and the next batch\'s answer carries it', async () => {
    const { ackPath, failures } = open()
    const w = writer as RecordWriter
    await w.write(batch(1, 1))
    await w.write(batch(2, 2))
    await expect.poll(() => acknowledgedSeq(ackPath)).toBe(2)
    swapForDevFull(ackPath)
    // The write before it (place 2) is on disk: answered clean; its own write fails.
    expect((await w.write(batch(3, 3))).ackFailure).toBeUndefined()
    await expect.poll(() => failures.map((f) => f.seq)).toEqual([3])
    const next = await w.write(batch(4, 4))
    expect(next.ids).toHaveLength(1)
    expect(next.ackFailure).toMatchObject({ seq: 3, message: expect.stringContaining('ENOSPC') })
    expect(acknowledgedSeq(ackPath)).toBe(2)
  })
})

describe('message-log writer thread: the evidence chain', () => {
  it('links each batch after the head it was handed, as recordDigest and nextLink do; a batch rolled back leaves the head', async () => {
    const conn = (db = openMessageLogDb(join(tempDir(), 'messagelog.sqlite')))
    const start = { seq: 41, hash: Buffer.alloc(32, 7) }
    const w = (writer = createRecordWriter(conn, silentLogger(), { head: () => start }))
    const records = [
      newRecord('q-1'),
      { ...newRecord('q-2'), xRequestId: 'x-ü', hashChainResult: '<hcr/>', hashChain: new TextEncoder().encode('<hc>é</hc>'), signatureXml: new TextEncoder().encode('<sig>ž</sig>') },
      { ...newRecord('q-3'), bodyLogged: false, response: true, attachments: [{ content: null, size: 5, sha512: 'c2hh' }, { content: Buffer.from('body'), size: 4, sha512: 'Ym9keQ==' }] },
    ]
    const first = await w.write(records.slice(0, 2))
    // A record its table refuses (a query id of null): the transaction rolls back, the head stays.
    await expect(w.write([{ ...newRecord('q-bad'), queryId: null as unknown as string }])).rejects.toMatchObject({ code: expect.stringContaining('SQLITE_CONSTRAINT') })
    const second = await w.write(records.slice(2))
    let expected: { seq: number; hash: Buffer } = start
    const links = records.map((record) => {
      const link = nextLink(expected, recordDigest(record))
      expected = { seq: link.seq, hash: link.chainHash }
      return link
    })
    const rows = conn.prepare('SELECT seq, prev_hash, chain_hash FROM message_records ORDER BY seq').all() as Array<{ seq: number; prev_hash: Buffer; chain_hash: Buffer }>
    expect(rows.map((r) => [r.seq, r.prev_hash.toString('hex'), r.chain_hash.toString('hex')])).toEqual(links.map((l) => [l.seq, l.prevHash.toString('hex'), l.chainHash.toString('hex')]))
    expect([first.head.seq, first.head.hash.equals(links[1]?.chainHash ?? Buffer.alloc(0))]).toEqual([43, true])
    expect([second.head.seq, second.head.hash.equals(expected.hash)]).toEqual([44, true])
  })
})

describe('message-log writer thread: time-stamp links', () => {
  /** What a record's link reads back as: its time-stamp and the hash chain's text. */
  const linkOf = (conn: WritableDb, id: number): { ts: number | null; chain: string | null; type: string } =>
    conn.prepare('SELECT timestamp_record_id AS ts, timestamp_hash_chain AS chain, typeof(timestamp_hash_chain) AS type FROM message_records WHERE id = ?').get(id) as never

  for (const mode of ['thread', 'in place'] as const) {
    it(`stores chains given as text or as their UTF-8 bytes, and none, as the same TEXT (${mode})`, async () => {
      const conn = (db = mode === 'thread' ? openMessageLogDb(join(tempDir(), 'messagelog.sqlite')) : openMessageLogDb(':memory:'))
      const w = (writer = createRecordWriter(conn, silentLogger(), { head: () => CHAIN_START }))
      expect(w.threaded).toBe(mode === 'thread')
      const { ids } = await w.write(batch(1, 4))
      const chains = ['<hc:HashChain>ÄÖ text</hc:HashChain>', Buffer.from('<hc:HashChain>bytes €</hc:HashChain>', 'utf8'), '']
      const tsId = await w.stamp({
        timeMs: 1, token: Buffer.from('token'), hashChainResult: '<result/>', tsaUrl: 'http://tsa', atMs: 2,
        links: [[ids[0]!, chains[0]!], [ids[1]!, chains[1]!], [ids[2]!, chains[2]!], [ids[3]!, null]],
      })
      expect(linkOf(conn, ids[0]!)).toEqual({ ts: tsId, chain: '<hc:HashChain>ÄÖ text</hc:HashChain>', type: 'text' })
      expect(linkOf(conn, ids[1]!)).toEqual({ ts: tsId, chain: '<hc:HashChain>bytes €</hc:HashChain>', type: 'text' })
      expect(linkOf(conn, ids[2]!)).toEqual({ ts: tsId, chain: '', type: 'text' })
      expect(linkOf(conn, ids[3]!)).toEqual({ ts: tsId, chain: null, type: 'null' })
    })
  }
})

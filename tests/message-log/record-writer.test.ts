import { statSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { closeDatabase, inTransaction, silentLogger, type WritableDb } from '../../src-main/platform'
import { insertTimestampRecord, type NewMessageRecord } from '../../src-main/message-log/message-record-repository'
import { createRecordWriter, type RecordWriter } from '../../src-main/message-log/record-writer'
import { openMessageLogDb, soapMessage, signatureXmlFor, tempDir } from './support/message-log-harness'

function newRecord(queryId: string): NewMessageRecord {
  return {
    queryId, xRequestId: null, client: 'SUBSYSTEM:EE/GOV/1234/client-sub', service: 'SERVICE:EE/COM/5678/provider-sub/getPerson/v1',
    response: false, message: soapMessage(queryId), bodyLogged: true, signatureXml: signatureXmlFor(queryId), signatureHash: 'hash',
    hashChainResult: null, hashChain: null, timeMs: 1_770_000_000_000, attachments: [],
  }
}

describe('message-log writer thread: WAL checkpoints', () => {
  let db: WritableDb | undefined
  let writer: RecordWriter | undefined
  afterEach(async () => {
    await writer?.close()
    if (db !== undefined) closeDatabase(db)
    db = undefined
    writer = undefined
  })

  it('leaves the log connection no automatic checkpoint while the thread runs, checkpoints its writes on request, and gives it back at close', async () => {
    const path = join(tempDir(), 'messagelog.sqlite')
    const conn = (db = openMessageLogDb(path))
    const own = Number(conn.pragma('wal_autocheckpoint', { simple: true }))
    expect(own).toBeGreaterThan(0)
    const threaded = (writer = createRecordWriter(conn, silentLogger()))
    expect(threaded.threaded).toBe(true)
    await threaded.write([{ record: newRecord('q-1'), link: { seq: 1, prevHash: Buffer.alloc(32), chainHash: Buffer.alloc(32, 1) } }])
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

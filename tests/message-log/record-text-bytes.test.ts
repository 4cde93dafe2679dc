import { createHash } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import { ManualClock, closeDatabase, migrate, openDatabase, silentLogger, type WritableDb } from '../../src-main/platform'
import {
  createMessageLog, findMessageRecord, messageLogMigrations, signatureHash, signatureValueBytes, type MessageLog, type MessageLogSettingsInput, type MessageToLog,
} from '../../src-main/message-log'
import { encodeRecordBatch, Utf8Text } from '../../src-main/message-log/record-batch-codec'
import { messageFor, openMessageLogDb, signatureXmlFor, soapMessage, tempDir } from './support/message-log-harness'

/**
 * Issue 15: the proxy hands the message log its signature's documents as the UTF-8 bytes signed or received. A record
 * given bytes must be stored, hashed and chained exactly as the same record given strings.
 */

interface Log {
  db: WritableDb
  log: MessageLog
}

const opened: Log[] = []
afterEach(async () => {
  for (const l of opened.splice(0)) {
    await l.log.stop()
    closeDatabase(l.db)
  }
})

/** A file-backed log commits in the writer thread (the batch codec); an in-memory one commits in place. */
function openLog(kind: 'file' | 'memory', clock: ManualClock, settings: MessageLogSettingsInput = {}): Log {
  let db: WritableDb
  if (kind === 'file') {
    db = openMessageLogDb(`${tempDir()}/messagelog.sqlite`)
  } else {
    db = openDatabase(':memory:')
    migrate(db, [messageLogMigrations])
  }
  const l = { db, log: createMessageLog({ db, clock, logger: silentLogger(), settings }) }
  opened.push(l)
  return l
}

/** Everything the database holds of a record, the text columns with their storage class and their stored bytes. */
function storedRow(db: WritableDb, id: number): Record<string, unknown> {
  return db.prepare(`SELECT id, query_id, x_request_id, client, service, response, message, body_logged, signature_hash, time_ms, seq, prev_hash, chain_hash,
      typeof(signature_xml) AS signature_type, CAST(signature_xml AS BLOB) AS signature_bytes,
      typeof(hash_chain_result) AS result_type, CAST(hash_chain_result AS BLOB) AS result_bytes,
      typeof(hash_chain) AS chain_type, CAST(hash_chain AS BLOB) AS chain_bytes
    FROM message_records_full WHERE id = ?`).get(id) as Record<string, unknown>
}

/** `text`'s UTF-8 as a view in the middle of a larger buffer, as a part of a received message is. */
function bytesOf(text: string): Uint8Array {
  const utf8 = Buffer.from(text, 'utf8')
  const whole = Buffer.concat([Buffer.from('<<before>>'), utf8, Buffer.from('<<after>>')])
  return whole.subarray(10, 10 + utf8.length)
}

const asBytes = (m: MessageToLog): MessageToLog<Uint8Array> => ({
  ...m,
  signatureXml: bytesOf(m.signatureXml),
  hashChainResult: m.hashChainResult == null ? m.hashChainResult : bytesOf(m.hashChainResult),
  hashChain: m.hashChain == null ? m.hashChain : bytesOf(m.hashChain),
})

const NON_ASCII = 'Jõgeva küla, Ärinimi OÜ — € ✓ 😀 日本'

const messages = (): MessageToLog[] => [
  messageFor('q-ascii'),
  messageFor('q-batch', {
    signatureXml: signatureXmlFor(`ü-${NON_ASCII}`).replace('<ds:SignedInfo/>', `<ds:SignedInfo>${NON_ASCII}</ds:SignedInfo>`),
    hashChainResult: `<?xml version="1.0" encoding="UTF-8"?><hashChainResult>${NON_ASCII}</hashChainResult>`,
    hashChain: `<hashChain note="ß">${'x'.repeat(20_000)}${NON_ASCII}</hashChain>`,
  }),
  // A byte order mark is kept as it is, in the text as in the bytes.
  messageFor('q-bom', { signatureXml: `\uFEFF${signatureXmlFor('bom')}`, hashChainResult: '', hashChain: null }),
]

describe('message log records given UTF-8 bytes', () => {
  for (const kind of ['file', 'memory'] as const) {
    it(`stores, hashes and chains a record given bytes exactly as the record given strings (${kind} database)`, async () => {
      const clock = new ManualClock('2026-03-01T10:00:00Z')
      const strings = openLog(kind, clock)
      const bytes = openLog(kind, clock)
      for (const m of messages()) {
        const [a, b] = await Promise.all([strings.log.record(m), bytes.log.record(asBytes(m))])
        const fromStrings = storedRow(strings.db, a)
        expect(storedRow(bytes.db, b)).toEqual(fromStrings)
        expect(fromStrings.signature_type).toBe('text')
        expect(Buffer.from(fromStrings.signature_bytes as Uint8Array).equals(Buffer.from(m.signatureXml, 'utf8'))).toBe(true)
        expect(fromStrings.signature_hash).toBe(createHash('sha512').update(m.signatureXml, 'utf8').digest('base64'))
        expect(fromStrings.chain_type).toBe(m.hashChain == null ? 'null' : 'text')
        clock.advance(1000)
      }
      for (const l of [strings, bytes]) expect((await l.log.checkEvidence('full')).report.problems).toEqual([])
    })
  }

  it('stores bytes that are not valid UTF-8 as the text they decode to, every hash taken over the stored bytes', async () => {
    const clock = new ManualClock('2026-03-01T10:00:00Z')
    const strings = openLog('file', clock)
    const bytes = openLog('file', clock)
    const sig = Buffer.from(signatureXmlFor('bad'), 'utf8')
    const at = sig.indexOf('<ds:SignedInfo/>')
    // A lone continuation byte, a truncated sequence, an encoded surrogate and an overlong '/'.
    const ill = Buffer.concat([sig.subarray(0, at), Buffer.from([0xff, 0xc3, 0x28, 0xed, 0xa0, 0x80, 0xc0, 0xaf]), sig.subarray(at)])
    const chain = Buffer.from([0x3c, 0x68, 0x63, 0x3e, 0xe2, 0x82, 0x3c, 0x2f, 0x68, 0x63, 0x3e])
    const decoded = { signatureXml: ill.toString('utf8'), hashChain: chain.toString('utf8') }
    expect(decoded.signatureXml).toContain('\uFFFD')

    const base = messageFor('q-ill', { hashChainResult: '<hcr/>' })
    const a = await strings.log.record({ ...base, ...decoded })
    const b = await bytes.log.record({ ...base, signatureXml: ill, hashChainResult: Buffer.from('<hcr/>'), hashChain: chain })
    const row = storedRow(bytes.db, b)
    expect(row).toEqual(storedRow(strings.db, a))
    const stored = Buffer.from(row.signature_bytes as Uint8Array)
    expect(stored.equals(ill)).toBe(false)
    expect(stored.equals(Buffer.from(decoded.signatureXml, 'utf8'))).toBe(true)
    expect(row.signature_hash).toBe(createHash('sha512').update(stored).digest('base64'))
    expect(row.signature_hash).not.toBe(createHash('sha512').update(ill).digest('base64'))
    expect(Buffer.from(row.chain_bytes as Uint8Array).equals(Buffer.from(decoded.hashChain, 'utf8'))).toBe(true)
    // The chain's digest was taken over what is stored: the evidence check recomputes it from the database.
    expect((await bytes.log.checkEvidence('full')).report.problems).toEqual([])
  })

  it('hands the writer thread the bytes a string would give, marked as text given as bytes, and reads a SignatureValue from bytes as from text', () => {
    const texts = [NON_ASCII, '', `\uFEFF${signatureXmlFor()}`, 'plain ascii']
    const asText = encodeRecordBatch([{ record: ['q'], contents: [Buffer.from('<m/>'), ...texts], attachments: [[1, null, 0, 'sha']] }])
    const asUtf8 = encodeRecordBatch([{ record: ['q'], contents: [Buffer.from('<m/>'), ...texts.map((t) => new Utf8Text(bytesOf(t)))], attachments: [[1, null, 0, 'sha']] }])
    // The same batch but for each text's tag: 2 (a string, decoded to one in the thread) against 5 (bytes, bound as they are).
    expect(asUtf8.length).toBe(asText.length)
    const differing = [...asText.keys()].filter((i) => asText[i] !== asUtf8[i])
    expect(differing.map((i) => [asText[i], asUtf8[i]])).toEqual(texts.map(() => [2, 5]))

    const sig = signatureXmlFor(NON_ASCII)
    expect(signatureValueBytes(bytesOf(sig)).equals(signatureValueBytes(sig))).toBe(true)
    expect(signatureHash(bytesOf(sig))).toBe(signatureHash(sig))
  })

  it('with body logging off for the whole server, keeps a SOAP header part without its body and any other header part whole', async () => {
    const { db, log } = openLog('file', new ManualClock('2026-03-01T10:00:00Z'), { messageBodyLogging: false })
    const soap = await log.record(messageFor('q-soap', { message: bytesOf(Buffer.from(soapMessage('q-soap')).toString('utf8')) }))
    const soapText = Buffer.from(findMessageRecord(db, soap)?.message ?? []).toString('utf8')
    expect(soapText).toContain('<xroad:id>q-soap</xroad:id>')
    expect(soapText).not.toContain('38001010000')
    expect(findMessageRecord(db, soap)?.bodyLogged).toBe(false)
    const restHeader = 'GET /r1/EE/COM/5678/provider-sub/getPerson HTTP/1.1\r\nx-road-id: q-rest\r\nx-note: Jõgeva\r\n\r\n'
    const rest = await log.record(messageFor('q-rest', { message: bytesOf(restHeader) }))
    expect(Buffer.from(findMessageRecord(db, rest)?.message ?? []).toString('utf8')).toBe(restHeader)
    expect((await log.checkEvidence('full')).report.problems).toEqual([])
  })
})

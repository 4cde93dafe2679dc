import { createHash, randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { encodeRecordBatch, RECORD_BATCH_DECODER, type BatchRecordParameters } from '../../src-main/message-log/record-batch-codec'
import { chainHash, recordDigest, RECORD_CHAIN_SOURCE, type ChainedRecordFields } from '../../src-main/message-log/evidence-chain'
import { messageRecordParameters, type NewMessageRecord, type SqlValue } from '../../src-main/message-log/message-record-repository'

/** The decoder as the writer thread runs it (evaluated from its source). */
const decodeRecordBatch = new Function(`${RECORD_BATCH_DECODER}; return decodeRecordBatch`)() as (buffer: Buffer) => Array<{ record: SqlValue[]; contents: SqlValue[]; attachments: SqlValue[][] }>
const roundTrip = (batch: BatchRecordParameters[]): ReturnType<typeof decodeRecordBatch> => decodeRecordBatch(encodeRecordBatch(batch))

/** What the thread binds, made comparable: blobs as plain byte arrays. */
const plain = (values: readonly SqlValue[]): unknown[] => values.map((v) => (v instanceof Uint8Array ? [...v] : v))

describe('record batch codec (writer thread hand-over)', () => {
  it('carries every kind of value through one transferred buffer unchanged', () => {
    const batch: BatchRecordParameters[] = [
      { record: ['q-1', null, 'SUBSYSTEM:EE/GOV/1234/sub', 'ünïcødé € 😀', 0, 1, '', 1.5, -3, 2 ** 52 + 1, Buffer.alloc(0)], contents: [Buffer.from('<m/>'), '<s/>', null, null], attachments: [] },
      { record: [Number.MAX_SAFE_INTEGER], contents: [new Uint8Array(randomBytes(70_000))], attachments: [[1, randomBytes(10), 10, 'abc'], [2, null, 0, 'def']] },
      // A view into a larger buffer carries only its own bytes.
      { record: [randomBytes(64).subarray(8, 40)], contents: [], attachments: [[1, Buffer.from('x'.repeat(5000)).subarray(4000)]] },
    ]
    const encoded = encodeRecordBatch(batch)
    expect(encoded.byteOffset).toBe(0)
    expect(encoded.buffer.byteLength).toBe(encoded.length)
    const decoded = decodeRecordBatch(encoded)
    expect(decoded.map((r) => ({ record: plain(r.record), contents: plain(r.contents), attachments: r.attachments.map(plain) })))
      .toEqual(batch.map((r) => ({ record: plain(r.record), contents: plain(r.contents), attachments: r.attachments.map(plain) })))
    expect(roundTrip([])).toEqual([])
  })

  it('carries a spooled body as its open file and size, not its bytes', () => {
    const file = { fd: 2 ** 31 - 1, size: 10 * 1024 * 1024 + 1 }
    const batch = encodeRecordBatch([{ record: ['q'], contents: [Buffer.from('<m/>')], attachments: [[1, file, file.size, 'sha'], [2, Buffer.from('x'), 1, 'sha2']] }])
    expect(batch.length).toBeLessThan(120)
    const [decoded] = decodeRecordBatch(batch)
    expect(decoded?.attachments[0]).toEqual([1, file, file.size, 'sha'])
    expect(decoded?.attachments[0]?.[1]).not.toBeInstanceOf(Uint8Array)
    expect(plain(decoded?.attachments[1] ?? [])).toEqual([2, [0x78], 1, 'sha2'])
  })

  it('refuses a buffer with bytes left over or an unknown tag', () => {
    const encoded = encodeRecordBatch([{ record: ['a'], contents: [], attachments: [] }])
    expect(() => decodeRecordBatch(Buffer.concat([encoded, Buffer.from([0])]))).toThrow(/left over/)
    const bad = Buffer.from(encoded)
    bad[5] = 9
    expect(() => decodeRecordBatch(bad)).toThrow(/unknown tag/)
  })
})

/** The record digest as evidence-chain.ts defines it, field by field (the reference the one-buffer form must equal). */
function referenceDigest(record: ChainedRecordFields): Buffer {
  const hash = createHash('sha256')
  const field = (value: string | Uint8Array | null): void => {
    if (value === null) {
      hash.update(Buffer.from([0]))
      return
    }
    const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value
    const length = Buffer.alloc(9)
    length[0] = 1
    length.writeBigUInt64BE(BigInt(bytes.byteLength), 1)
    hash.update(length)
    hash.update(bytes)
  }
  for (const v of ['gatehouse.messagelog.record.v1', record.queryId, record.xRequestId, record.client, record.service, record.response ? '1' : '0',
    record.message, record.bodyLogged ? '1' : '0', record.signatureXml, record.signatureHash, record.hashChainResult, record.hashChain,
    String(record.timeMs), String(record.attachments.length)]) field(v)
  for (const a of record.attachments) {
    field(String(a.size))
    field(a.sha512)
    field(a.stored ? '1' : '0')
  }
  return hash.digest()
}

/** The i-th of a spread of records: small and large (in-place) bodies, nulls, non-ASCII text, 0-3 attachments. */
function sampleRecord(i: number): ChainedRecordFields {
  return {
    queryId: `q-${i}-é`, xRequestId: i % 3 === 0 ? null : `r-${i}`, client: 'SUBSYSTEM:EE/GOV/1234/sub', service: 'SERVICE:EE/GOV/5678/p/get',
    response: i % 2 === 0, message: randomBytes(i % 7 === 0 ? 40_000 : i * 13), bodyLogged: i % 5 !== 0,
    signatureXml: `<ds:Signature>${'x€'.repeat(i * 11)}</ds:Signature>`, signatureHash: 'h'.repeat(88),
    hashChainResult: i % 4 === 0 ? '<hcr/>' : null, hashChain: i % 4 === 0 ? '😀'.repeat(i * (i % 8 === 0 ? 3000 : 1)) : null, timeMs: 1_700_000_000_000 + i,
    attachments: Array.from({ length: i % 4 }, (_, k) => ({ size: k * 1000, sha512: `s${k}`, stored: k % 2 === 0 })),
  }
}

/** The writer thread's twins, evaluated from their source as the thread evaluates them. */
const twins = new Function('require', `${RECORD_CHAIN_SOURCE}; return { recordDigestOf, chainHashOf }`)(require) as {
  recordDigestOf: (record: SqlValue[], contents: SqlValue[], attachments: SqlValue[][]) => Buffer
  chainHashOf: (previous: Buffer, seq: number, digest: Buffer) => Buffer
}

describe('record digest', () => {
  it('equals the field-by-field definition for small, large and non-ASCII records', () => {
    for (let i = 0; i < 120; i++) {
      const record = sampleRecord(i)
      expect(recordDigest(record).toString('hex')).toBe(referenceDigest(record).toString('hex'))
    }
  })

  it('is the same where the writer thread takes it, from the parameters the batch delivers, with the same chain link', () => {
    for (let i = 0; i < 120; i++) {
      const fields = sampleRecord(i)
      // As the log hands a record over: texts as strings or UTF-8 bytes, attachments with their content, their spool
      // file (stored, in pieces) or without.
      const asBytes = (text: string | null): string | Uint8Array | null => (text !== null && i % 2 === 1 ? Buffer.from(text, 'utf8') : text)
      const record: NewMessageRecord = {
        ...fields, signatureXml: asBytes(fields.signatureXml as string) as string | Uint8Array, hashChainResult: asBytes(fields.hashChainResult as string | null),
        hashChain: asBytes(fields.hashChain as string | null),
        attachments: fields.attachments.map((a) => ({ size: a.size, sha512: a.sha512, content: !a.stored ? null : i % 3 === 0 ? { fd: 99, size: a.size } : randomBytes(a.size) })),
      }
      const encoded = encodeRecordBatch([messageRecordParameters(record, undefined)])
      const [delivered] = decodeRecordBatch(encoded)
      if (delivered === undefined) throw new Error('nothing decoded')
      const digest = twins.recordDigestOf(delivered.record, delivered.contents, delivered.attachments)
      expect(digest.toString('hex')).toBe(recordDigest(record).toString('hex'))
      const previous = randomBytes(32)
      expect(twins.chainHashOf(previous, i * 1_000_003, digest).toString('hex')).toBe(chainHash(previous, i * 1_000_003, digest).toString('hex'))
    }
  })
})

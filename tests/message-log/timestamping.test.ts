import { createHash } from 'node:crypto'
import * as pkijs from 'pkijs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { inTransaction, ManualClock, silentLogger } from '../../src-main/platform'
import {
  buildTimestampRequest, createTimestamper, findMessageRecord, signatureValueBytes, STAMP_LINK_SLICE, timestampGenTime, validateTimestampResponse,
  type SelectedTsa,
} from '../../src-main/message-log'
import { verifyHashChain } from '../../src-main/signature'
import { TS_HASH_CHAIN_DATA_REF } from '../../src-main/message-log'
import { findTimestampRecord, storeStamp } from '../../src-main/message-log/message-record-repository'
import { createHarness, messageFor } from './support/message-log-harness'
import { createTsaMaterial, startOpensslTsa, type OpensslTsa } from './support/openssl-tsa'

function tsaOf(tsa: OpensslTsa): SelectedTsa {
  return { url: tsa.url, certificates: [tsa.certificateDer] }
}

describe('time-stamping against an openssl RFC 3161 TSA', () => {
  let tsa: OpensslTsa
  let second: OpensslTsa
  beforeAll(async () => {
    tsa = await startOpensslTsa()
    second = await startOpensslTsa(createTsaMaterial())
  })
  afterAll(async () => {
    await tsa.close()
    await second.close()
  })

  it('builds a SHA-512 request with no nonce and no certReq', () => {
    const req = pkijs.TimeStampReq.fromBER(buildTimestampRequest(Buffer.alloc(64, 1)).buffer as ArrayBuffer)
    expect(req.messageImprint.hashAlgorithm.algorithmId).toBe('2.16.840.1.101.3.4.2.3')
    expect(req.nonce).toBeUndefined()
    expect(req.certReq).toBeUndefined()
  })

  it('stamps a single record over its raw SignatureValue and stores a verifiable token with the TSA cert', async () => {
    const h = createHarness(new ManualClock(), { tsas: () => [tsaOf(tsa)] })
    try {
      const msg = messageFor('ts-1')
      const id = await h.log.record(msg)
      const outcome = await h.log.timestampNow()
      expect(outcome).toMatchObject({ stamped: 1, pending: 0 })
      const stored = findMessageRecord(h.db, id)
      const ts = findTimestampRecord(h.db, stored?.timestampRecordId as number)
      expect(ts?.hashChainResult).toBeNull()
      const signedData = new pkijs.SignedData({ schema: pkijs.ContentInfo.fromBER(new Uint8Array(ts?.token ?? []).slice().buffer).content })
      expect(signedData.certificates?.length).toBe(1)
      const tst = pkijs.TSTInfo.fromBER(signedData.encapContentInfo.eContent?.getValue() as ArrayBuffer)
      const expected = createHash('sha512').update(signatureValueBytes(msg.signatureXml)).digest()
      expect(Buffer.from(tst.messageImprint.hashedMessage.valueBlock.valueHexView).equals(expected)).toBe(true)
      expect(await signedData.verify({ signer: 0, checkChain: false, data: new Uint8Array(signatureValueBytes(msg.signatureXml)).buffer })).toBe(true)
      expect(Math.abs(timestampGenTime(new Uint8Array(ts?.token ?? [])).getTime() - Date.now())).toBeLessThan(60_000)
    } finally {
      await h.close()
    }
  })

  it('asks the TSA over node:http, never through the global fetch (whose first use compiles undici\'s WebAssembly parser)', async () => {
    const h = createHarness(new ManualClock(), { tsas: () => [tsaOf(tsa)] })
    const realFetch = globalThis.fetch
    globalThis.fetch = (() => Promise.reject(new Error('the TSA client used fetch'))) as typeof fetch
    try {
      await h.log.record(messageFor('ts-no-fetch'))
      expect(await h.log.timestampNow()).toMatchObject({ stamped: 1, pending: 0 })
    } finally {
      globalThis.fetch = realFetch
      await h.close()
    }
  })

  it('stores the stamps where the records commit (the writer thread), not on the event loop\'s connection', async () => {
    const h = createHarness(new ManualClock(), { tsas: () => [tsaOf(tsa)] })
    try {
      const ids = [await h.log.record(messageFor('thread-1')), await h.log.record(messageFor('thread-2'))]
      // The log's own connection can no longer write: a stamp stored here would fail.
      h.db.pragma('query_only = ON')
      expect(await h.log.timestampNow()).toMatchObject({ stamped: 2, pending: 0 })
      expect(h.log.status()).toMatchObject({ unstampedRecords: false, timestampingFailingSince: null })
      for (const id of ids) expect(findMessageRecord(h.db, id)?.timestampRecordId).toBeGreaterThan(0)
      h.db.pragma('query_only = OFF')
      const single = await h.log.record(messageFor('thread-3'))
      h.db.pragma('query_only = ON')
      expect(await h.log.timestampNow()).toMatchObject({ stamped: 1, pending: 0 })
      expect(findMessageRecord(h.db, single)?.timestampRecordId).toBeGreaterThan(0)
      h.db.pragma('query_only = OFF')
    } finally {
      await h.close()
    }
  })

  it('stamps a batch over a hash chain result and links each record with its chain', async () => {
    const calls: number[] = []
    const h = createHarness(new ManualClock(), {
      tsas: () => [tsaOf(tsa)],
      hashChains: (hashes) => {
        calls.push(hashes.length)
        const result = `<hashchainresult>${createHash('sha512').update(Buffer.concat(hashes.map((x) => Buffer.from(x)))).digest('base64')}</hashchainresult>`
        return { hashChainResult: result, count: hashes.length, chain: (i) => `<chain n="${i}"/>` }
      },
    })
    try {
      const ids = await Promise.all([1, 2, 3].map((i) => h.log.record(messageFor(`b-${i}`))))
      expect(await h.log.timestampNow()).toMatchObject({ stamped: 3 })
      expect(calls).toEqual([3])
      const records = ids.map((id) => findMessageRecord(h.db, id))
      expect(new Set(records.map((r) => r?.timestampRecordId)).size).toBe(1)
      expect(records.map((r) => r?.timestampHashChain)).toEqual(['<chain n="0"/>', '<chain n="1"/>', '<chain n="2"/>'])
      const ts = findTimestampRecord(h.db, records[0]?.timestampRecordId as number)
      expect(ts?.hashChainResult).toContain('<hashchainresult>')
    } finally {
      await h.close()
    }
  })

  it('by default chains the batch with the signature domain hash chains, each verifying over signatures.xml', async () => {
    const h = createHarness(new ManualClock(), { tsas: () => [tsaOf(tsa)] })
    try {
      const messages = [1, 2, 3, 4, 5].map((i) => messageFor(`hc-${i}`))
      const ids = await Promise.all(messages.map((m) => h.log.record(m)))
      expect(await h.log.timestampNow()).toMatchObject({ stamped: 5 })
      const records = ids.map((id) => findMessageRecord(h.db, id))
      const ts = findTimestampRecord(h.db, records[0]?.timestampRecordId as number)
      const resultXml = ts?.hashChainResult as string
      expect(resultXml).toContain('/ts-hashchain.xml#STEP0')
      records.forEach((record, i) => {
        const chain = record?.timestampHashChain as string
        expect(() => verifyHashChain(resultXml, {
          resolve: (uri) => (uri === '/ts-hashchain.xml' ? Buffer.from(chain) : undefined),
          inputs: { [TS_HASH_CHAIN_DATA_REF]: { data: Buffer.from(messages[i]?.signatureXml as string) } },
        })).not.toThrow()
      })
      // The token's imprint covers the hash-chain-result bytes (xroad-protocols.md §6.2).
      const sd = new pkijs.SignedData({ schema: pkijs.ContentInfo.fromBER(new Uint8Array(ts?.token ?? []).slice().buffer).content })
      const tst = pkijs.TSTInfo.fromBER(sd.encapContentInfo.eContent?.getValue() as ArrayBuffer)
      expect(Buffer.from(tst.messageImprint.hashedMessage.valueBlock.valueHexView).equals(createHash('sha512').update(resultXml, 'utf8').digest())).toBe(true)
    } finally {
      await h.close()
    }
  })

  it('links a batch larger than a slice a slice at a time under one time-stamp; a slice that fails leaves its records to the next run', async () => {
    const h = createHarness(new ManualClock(), { tsas: () => [tsaOf(tsa)] })
    try {
      const count = 2 * STAMP_LINK_SLICE + 5
      const messages = Array.from({ length: count }, (_, i) => messageFor(`slice-${i}`))
      const ids: number[] = []
      for (let from = 0; from < count; from += 500) ids.push(...await Promise.all(messages.slice(from, from + 500).map((m) => h.log.record(m))))
      const stored: number[] = []
      const stamper = createTimestamper({
        db: h.db, clock: new ManualClock(), logger: silentLogger(), tsas: () => [tsaOf(tsa)], timeoutMs: 10_000, recordsLimit: 10_000,
        storeStamp: async (stamp) => {
          stored.push(stamp.links.length)
          if (stored.length === 2) throw new Error('disk I/O error')
          return inTransaction(h.db, () => storeStamp(h.db, stamp))
        },
      })
      const first = await stamper.stampPending()
      expect(first).toMatchObject({ stamped: STAMP_LINK_SLICE, pending: count - STAMP_LINK_SLICE, error: { code: 'timestamping_failed' } })
      expect(await stamper.stampPending()).toMatchObject({ stamped: count - STAMP_LINK_SLICE, pending: 0 })
      expect(stored).toEqual([STAMP_LINK_SLICE, STAMP_LINK_SLICE, STAMP_LINK_SLICE, 5])
      const records = ids.map((id) => findMessageRecord(h.db, id))
      const stamps = records.map((r) => r?.timestampRecordId)
      // The first run's stamp holds its first slice only (the second failed); the second run's stamp all the rest, in two slices.
      expect(new Set(stamps.slice(0, STAMP_LINK_SLICE)).size).toBe(1)
      expect(new Set(stamps.slice(STAMP_LINK_SLICE)).size).toBe(1)
      expect(stamps[0]).not.toBe(stamps[STAMP_LINK_SLICE])
      for (const i of [0, STAMP_LINK_SLICE - 1, STAMP_LINK_SLICE, 2 * STAMP_LINK_SLICE, count - 1]) {
        const resultXml = findTimestampRecord(h.db, stamps[i] as number)?.hashChainResult as string
        expect(() => verifyHashChain(resultXml, {
          resolve: (uri) => (uri === '/ts-hashchain.xml' ? Buffer.from(records[i]?.timestampHashChain as string) : undefined),
          inputs: { [TS_HASH_CHAIN_DATA_REF]: { data: Buffer.from(messages[i]?.signatureXml as string) } },
        })).not.toThrow()
      }
    } finally {
      await h.close()
    }
  }, 60_000)

  it('fails over to the next TSA in the administrator order', async () => {
    tsa.setDown(true)
    const h = createHarness(new ManualClock(), { tsas: () => [tsaOf(tsa), tsaOf(second)] })
    try {
      const id = await h.log.record(messageFor('fo-1'))
      expect(await h.log.timestampNow()).toMatchObject({ stamped: 1 })
      const ts = findTimestampRecord(h.db, findMessageRecord(h.db, id)?.timestampRecordId as number)
      expect(ts?.tsaUrl).toBe(second.url)
    } finally {
      tsa.setDown(false)
      await h.close()
    }
  })

  it('rejects a token signed by a TSA that is not approved', async () => {
    const h = createHarness(new ManualClock(), { tsas: () => [{ url: tsa.url, certificates: [second.certificateDer] }] })
    try {
      const id = await h.log.record(messageFor('unapproved'))
      const outcome = await h.log.timestampNow()
      expect(outcome.error?.code).toBe('timestamping_failed')
      expect(outcome.error?.message).toContain('approved TSA')
      expect(findMessageRecord(h.db, id)?.timestampRecordId).toBeNull()
    } finally {
      await h.close()
    }
  })

  it('rejects a token whose signature does not verify', async () => {
    tsa.setCorrupt(true)
    const h = createHarness(new ManualClock(), { tsas: () => [tsaOf(tsa)] })
    try {
      const id = await h.log.record(messageFor('corrupt'))
      const outcome = await h.log.timestampNow()
      expect(outcome.error?.code).toBe('timestamping_failed')
      expect(outcome.error?.message).toContain('does not verify')
      expect(findMessageRecord(h.db, id)?.timestampRecordId).toBeNull()
    } finally {
      tsa.setCorrupt(false)
      await h.close()
    }
  })

  it('rejects a response whose imprint differs from the request', async () => {
    const data = Buffer.from('a')
    const imprint = createHash('sha512').update(data).digest()
    const response = await fetch(tsa.url, {
      method: 'POST', headers: { 'Content-Type': 'application/timestamp-query' }, body: buildTimestampRequest(imprint),
    })
    const der = new Uint8Array(await response.arrayBuffer())
    await expect(validateTimestampResponse(der, data, [tsa.certificateDer])).resolves.toHaveProperty('token')
    await expect(validateTimestampResponse(der, Buffer.from('b'), [tsa.certificateDer])).rejects.toMatchObject({ code: 'timestamping_failed' })
  })

  it('fails closed after the acceptable failure period, also across a restart, and recovers by itself', async () => {
    const clock = new ManualClock('2026-03-01T00:00:00Z')
    tsa.setDown(true)
    const settings = { acceptableTimestampFailurePeriodSeconds: 3600, timeStampingIntervalSeconds: 60 }
    const h = createHarness(clock, { tsas: () => [tsaOf(tsa)], settings })
    try {
      await h.log.record(messageFor('out-1'))
      clock.advance(60_000)
      expect((await h.log.timestampNow()).error?.code).toBe('timestamping_failed')
      clock.advance(30 * 60_000)
      expect(() => h.log.assertAcceptingMessages()).not.toThrow()
      await h.log.record(messageFor('out-2'))
      clock.advance(31 * 60_000)
      expect(() => h.log.assertAcceptingMessages()).toThrow(expect.objectContaining({ code: 'timestamping_failed' }))
      await expect(h.log.record(messageFor('refused'))).rejects.toMatchObject({ code: 'timestamping_failed' })
      await h.reopen()
      // After a restart the clock waits for the first attempt (a TSA that answers again must not be blamed for the
      // downtime); once that attempt fails, the outage's persisted start applies at once.
      expect(() => h.log.assertAcceptingMessages()).not.toThrow()
      expect((await h.log.timestampNow()).error?.code).toBe('timestamping_failed')
      expect(() => h.log.assertAcceptingMessages()).toThrow(expect.objectContaining({ code: 'timestamping_failed' }))
      expect(h.log.status().acceptingMessages).toBe(false)
      expect(h.log.status().failureClockSince).toBe('2026-03-01T00:01:00.000Z')
      tsa.setDown(false)
      expect(await h.log.timestampNow()).toMatchObject({ stamped: 2, pending: 0 })
      expect(() => h.log.assertAcceptingMessages()).not.toThrow()
      await expect(h.log.record(messageFor('resumed'))).resolves.toBeGreaterThan(0)
      expect(h.log.status().timestampingFailingSince).toBeNull()
    } finally {
      tsa.setDown(false)
      await h.close()
    }
  })

  it('derives the failure clock from the oldest unstamped record when no failure was recorded', async () => {
    const clock = new ManualClock('2026-03-01T00:00:00Z')
    const h = createHarness(clock, { tsas: () => [], settings: { acceptableTimestampFailurePeriodSeconds: 600, timeStampingIntervalSeconds: 60 } })
    try {
      await h.log.record(messageFor('never-stamped'))
      clock.advance(11 * 60_000 + 1)
      await h.reopen()
      expect((await h.log.timestampNow()).error?.code).toBe('timestamping_failed')
      expect(() => h.log.assertAcceptingMessages()).toThrow(expect.objectContaining({ code: 'timestamping_failed' }))
    } finally {
      await h.close()
    }
  })

  it('starts the failure clock at the first failed attempt, however long a record waited for a slow TSA before it', async () => {
    const clock = new ManualClock('2026-03-01T00:00:00Z')
    const settings = { acceptableTimestampFailurePeriodSeconds: 600, timeStampingIntervalSeconds: 60 }
    const h = createHarness(clock, { tsas: () => [tsaOf(tsa)], settings })
    try {
      expect(await h.log.timestampNow()).toMatchObject({ pending: 0 })
      await h.log.record(messageFor('waited'))
      // The record waits 9 minutes unstamped (a slow TSA, a long backlog), then the TSA goes down.
      clock.advance(9 * 60_000)
      tsa.setDown(true)
      expect((await h.log.timestampNow()).error?.code).toBe('timestamping_failed')
      // X-Road's LogManager: the period runs from that failure, not from when the record was logged.
      clock.advance(9 * 60_000)
      expect(() => h.log.assertAcceptingMessages()).not.toThrow()
      clock.advance(60_001)
      expect(() => h.log.assertAcceptingMessages()).toThrow(expect.objectContaining({ code: 'timestamping_failed' }))
    } finally {
      tsa.setDown(false)
      await h.close()
    }
  })

  it('after a restart, an old unstamped backlog refuses nothing while the TSA answers: the downtime does not count', async () => {
    const clock = new ManualClock('2026-03-01T00:00:00Z')
    const settings = { acceptableTimestampFailurePeriodSeconds: 3600, timeStampingIntervalSeconds: 60 }
    const h = createHarness(clock, { tsas: () => [tsaOf(tsa)], settings })
    try {
      const ids = await Promise.all([1, 2, 3].map((i) => h.log.record(messageFor(`backlog-${i}`))))
      // Stopped before its first stamping run, down for five hours (longer than the failure period).
      clock.advance(5 * 3600_000)
      await h.reopen()
      expect(() => h.log.assertAcceptingMessages()).not.toThrow()
      expect(h.log.status()).toMatchObject({ acceptingMessages: true, failureClockSince: null, unstampedRecords: true })
      await expect(h.log.record(messageFor('right-after-restart'))).resolves.toBeGreaterThan(0)
      // start() stamps the backlog at once instead of a whole interval later.
      h.log.start()
      const deadline = Date.now() + 10_000
      while (Date.now() < deadline && ids.some((id) => findMessageRecord(h.db, id)?.timestampRecordId === null)) {
        await new Promise((r) => setTimeout(r, 50))
      }
      expect(ids.map((id) => findMessageRecord(h.db, id)?.timestampRecordId !== null)).toEqual([true, true, true])
      expect(h.log.status()).toMatchObject({ acceptingMessages: true, failureClockSince: null, timestampingFailingSince: null })
    } finally {
      await h.close()
    }
  })

  it('stamps by itself every timeStampingIntervalSeconds after start(), draining a backlog over the records limit', async () => {
    const h = createHarness(new ManualClock(), {
      tsas: () => [tsaOf(tsa)], settings: { timeStampingIntervalSeconds: 1, timestampRecordsLimit: 2 },
    })
    try {
      const ids = await Promise.all([1, 2, 3, 4, 5].map((i) => h.log.record(messageFor(`periodic-${i}`))))
      h.log.start()
      const deadline = Date.now() + 10_000
      while (Date.now() < deadline && ids.some((id) => findMessageRecord(h.db, id)?.timestampRecordId === null)) {
        await new Promise((r) => setTimeout(r, 100))
      }
      expect(ids.map((id) => findMessageRecord(h.db, id)?.timestampRecordId === null)).toEqual([false, false, false, false, false])
    } finally {
      await h.close()
    }
  })

  it('with timestamp-immediately, a failed stamp fails the record call', async () => {
    tsa.setDown(true)
    const h = createHarness(new ManualClock(), { tsas: () => [tsaOf(tsa)], settings: { timestampImmediately: true } })
    try {
      await expect(h.log.record(messageFor('imm-fail'))).rejects.toMatchObject({ code: 'timestamping_failed' })
      tsa.setDown(false)
      const id = await h.log.record(messageFor('imm-ok'))
      expect(findMessageRecord(h.db, id)?.timestampRecordId).not.toBeNull()
    } finally {
      tsa.setDown(false)
      await h.close()
    }
  })
})

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { initLab, openLab, startLabServer, type RunningLabServer } from '../../src-main/lab'
import { ManualClock } from '../../src-main/platform'
import { findMessageRecord, timestampGenTime } from '../../src-main/message-log'
import { findTimestampRecord } from '../../src-main/message-log/message-record-repository'
import { createHarness, messageFor, tempDir } from './support/message-log-harness'

describe('time-stamping against the lab TSA', () => {
  let server: RunningLabServer
  let tsaCert: Uint8Array
  beforeAll(async () => {
    const dir = tempDir('gh-mlog-lab-')
    await initLab(dir, { keyAlgorithm: 'ec-p256' })
    const lab = openLab(dir)
    try {
      tsaCert = lab.certificateDer('tsa')
    } finally {
      lab.close()
    }
    server = await startLabServer(dir, { ports: { ocsp: 0, tsa: 0, conf: 0 } })
  })
  afterAll(async () => server?.close())

  it('stamps single and batch records with the lab TSA (ECDSA) and stores tokens carrying its certificate', async () => {
    const h = createHarness(new ManualClock(), { tsas: () => [{ url: server.urls.tsa, certificates: [tsaCert] }] })
    try {
      const single = await h.log.record(messageFor('lab-1'))
      expect(await h.log.timestampNow()).toMatchObject({ stamped: 1 })
      const batch = await Promise.all([2, 3, 4].map((i) => h.log.record(messageFor(`lab-${i}`))))
      expect(await h.log.timestampNow()).toMatchObject({ stamped: 3 })
      for (const id of [single, ...batch]) {
        const ts = findTimestampRecord(h.db, findMessageRecord(h.db, id)?.timestampRecordId as number)
        expect(ts?.tsaUrl).toBe(server.urls.tsa)
        expect(Buffer.from(ts?.token ?? []).includes(Buffer.from(tsaCert))).toBe(true)
        expect(Math.abs(timestampGenTime(new Uint8Array(ts?.token ?? [])).getTime() - Date.now())).toBeLessThan(60_000)
      }
    } finally {
      await h.close()
    }
  })
})

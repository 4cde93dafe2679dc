import { createHash } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import { ManualClock, SecurityServerError } from '../../src-main/platform'
import { EVIDENCE_MANIFEST_ENTRY, readZipEntries, type EvidenceContainerWriter, type EvidenceZipManifest } from '../../src-main/message-log'
import { createHarness, messageFor, type Harness } from './support/message-log-harness'
import { testContainerWriter } from './support/test-container-writer'

/**
 * One evidence ZIP for several exchanges: the containers of every record of each query id and a manifest listing
 * them, written as it is read (a container is built only when the reader has taken the previous one).
 */
async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

describe('evidence ZIP', () => {
  let h: Harness | undefined
  afterEach(async () => {
    await h?.close()
    h = undefined
  })

  async function logExchanges(harness: Harness, queryIds: string[]): Promise<void> {
    for (const q of queryIds) {
      await harness.log.record(messageFor(q))
      await harness.log.record(messageFor(q, { response: true }))
    }
  }

  it('holds the containers of every record of the chosen exchanges and a manifest that lists them', async () => {
    const clock = new ManualClock('2026-03-01T10:00:00Z')
    h = createHarness(clock, { containerWriter: testContainerWriter })
    await logExchanges(h, ['LAB-1', 'LAB-2', 'LAB-3'])
    const zip = h.log.evidenceZip(['LAB-3', 'LAB-1', 'LAB-missing', 'LAB-1'], { createdAt: clock.now(), manifestExtra: { server: 'LAB/GOV/1001/ss1' } })
    expect(zip.records.map((r) => [r.queryId, r.response])).toEqual([['LAB-3', false], ['LAB-3', true], ['LAB-1', false], ['LAB-1', true]])
    expect(zip.notFound).toEqual(['LAB-missing'])
    const entries = await readZipEntries(await readAll(zip.stream))
    const manifest = JSON.parse(entries.find((e) => e.name === EVIDENCE_MANIFEST_ENTRY)?.data.toString('utf8') ?? '{}') as EvidenceZipManifest
    expect(await zip.manifest).toEqual(manifest)
    expect(manifest).toMatchObject({
      format: 'gatehouse-evidence-export/1', createdAt: '2026-03-01T10:00:00.000Z', server: 'LAB/GOV/1001/ss1',
      queryIds: ['LAB-3', 'LAB-1', 'LAB-missing'], notFound: ['LAB-missing'],
    })
    expect(entries.map((e) => e.name)).toEqual([...manifest.records.map((r) => r.fileName), EVIDENCE_MANIFEST_ENTRY])
    expect(manifest.records.map((r) => [r.queryId, r.direction])).toEqual([
      ['LAB-3', 'request'], ['LAB-3', 'response'], ['LAB-1', 'request'], ['LAB-1', 'response'],
    ])
    for (const r of manifest.records) {
      expect(r.fileName).toMatch(new RegExp(`^${r.queryId}-${r.direction}-[0-9a-v]+\\.asice$`))
      const data = entries.find((e) => e.name === r.fileName)?.data ?? Buffer.alloc(0)
      // The container is the writer's, byte for byte, and the manifest's digest and size are of those bytes.
      expect(data.toString('utf8')).toContain(`record ${r.recordId} ${r.queryId} ${r.direction}`)
      expect(r.sha256).toBe(createHash('sha256').update(data).digest('hex'))
      expect(r.size).toBe(data.byteLength)
      expect(r).toMatchObject({ loggedAt: '2026-03-01T10:00:00.000Z', timestamped: false, bodyLogged: true })
    }
  })

  it('builds each container only when the reader reaches it', async () => {
    const clock = new ManualClock('2026-03-01T10:00:00Z')
    let built = 0
    const counting: EvidenceContainerWriter = (evidence) => {
      built++
      return Buffer.concat([Buffer.from(testContainerWriter(evidence) as Uint8Array), Buffer.alloc(256 * 1024, built)])
    }
    h = createHarness(clock, { containerWriter: counting })
    const ids = Array.from({ length: 15 }, (_, i) => `LAB-lazy-${i}`)
    await logExchanges(h, ids)
    const zip = h.log.evidenceZip(ids, { createdAt: clock.now() })
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve))
    // Nobody reads: at most the containers that fit the stream buffers were built, not the 30.
    expect(built).toBeLessThanOrEqual(2)
    const entries = await readZipEntries(await readAll(zip.stream))
    expect(built).toBe(30)
    expect(entries).toHaveLength(31)
  })

  it('ends the stream with the error when a container cannot be built, and the manifest says so', async () => {
    const clock = new ManualClock('2026-03-01T10:00:00Z')
    let calls = 0
    const failing: EvidenceContainerWriter = (evidence) => {
      calls++
      if (calls === 2) throw new SecurityServerError('database_error', 'record unreadable')
      return testContainerWriter(evidence)
    }
    h = createHarness(clock, { containerWriter: failing })
    await logExchanges(h, ['LAB-a'])
    const zip = h.log.evidenceZip(['LAB-a'], { createdAt: clock.now() })
    await expect(readAll(zip.stream)).rejects.toThrow('record unreadable')
    await expect(zip.manifest).rejects.toThrow('record unreadable')
  })
})

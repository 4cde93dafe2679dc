import { randomBytes } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import { ManualClock } from '../../src-main/platform'
import { checkEvidence } from '../../src-main/message-log'
import { createHarness, messageFor, type Harness } from './support/message-log-harness'

/**
 * The evidence walk reads stored bodies back (their SHA-512 is part of the check): page by page, each page let go —
 * and collected — before the next is read, so that a restart over a log of large bodies does not hold tens of MB of
 * dead buffers until V8 notices 64 MB of external memory (issue 15: a server's peak memory after a mixed workload).
 */

let h: Harness | undefined
afterEach(async () => {
  await h?.close()
  h = undefined
})

describe('the evidence walk over large stored bodies', () => {
  it('keeps the buffers it read to about one page while it walks 96 MB of bodies', async () => {
    h = createHarness(new ManualClock(new Date('2026-12-07T08:00:00Z')))
    const records = 48
    for (let i = 0; i < records; i++) await h.log.record(messageFor(`big-${i}`, { attachments: [randomBytes(2 * 1024 * 1024)] }))
    const held: number[] = []
    const { report } = await checkEvidence({
      db: h.db, nowMs: Date.now(), ack: undefined, scope: 'full',
      pause: async () => void held.push(process.memoryUsage().arrayBuffers),
    })
    expect(report).toMatchObject({ verifiedRecords: records, problems: [] })
    expect(held.length).toBeGreaterThanOrEqual(records / 4)
    // After the first page (the first reading still holds what writing the records left): a page holds up to 8 MB of
    // stored content and is collected once the walk let it go, so what the walk holds beyond the lowest reading stays
    // near one page (whatever else the process holds, which varies with the machine); left to V8, dead pages piled
    // up by 24 MB and more between its own collections.
    const after = held.slice(1)
    expect(Math.max(...after) - Math.min(...after)).toBeLessThan(16 * 1024 * 1024)
  })
})

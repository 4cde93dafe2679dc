import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { closeDatabase, integrityCheck, silentLogger, systemClock } from '../../src-main/platform'
import { createMessageLog, verifyArchive } from '../../src-main/message-log'
import { runKillLoop } from './support/kill-loop'
import { openMessageLogDb, tempDir } from './support/message-log-harness'
import { startOpensslTsa } from './support/openssl-tsa'
import { testContainerWriter } from './support/test-container-writer'

describe('message log loses no acknowledged record under SIGKILL', () => {
  it('keeps every acknowledged record across 10 kills at random moments, without a false evidence alarm; stamping and archiving resume', async () => {
    const dir = tempDir('gh-kill-')
    const rounds = await runKillLoop({ dir, rounds: 10 })
    expect(rounds).toHaveLength(10)
    for (const round of rounds) {
      expect(round.missing).toEqual([])
      expect(round.integrity).toEqual(['ok'])
      expect(round.evidenceProblems).toEqual([])
    }
    const acknowledged = rounds.reduce((n, r) => n + r.acknowledged, 0)
    expect(acknowledged).toBeGreaterThan(50)

    // After the crashes: stamping catches up and the archives chain without a gap.
    const tsa = await startOpensslTsa()
    const db = openMessageLogDb(join(dir, 'messagelog.sqlite'))
    try {
      const total = (db.prepare('SELECT COUNT(*) AS n FROM message_records').get() as { n: number }).n
      expect(total).toBeGreaterThanOrEqual(acknowledged)
      const log = createMessageLog({
        db, clock: systemClock, logger: silentLogger(), tsas: () => [{ url: tsa.url, certificates: [tsa.certificateDer] }],
        containerWriter: testContainerWriter,
        settings: { archiveDir: join(dir, 'archives'), archiveMaxRecords: Math.ceil(total / 2), timestampRecordsLimit: 100_000 },
      })
      expect(await log.timestampNow()).toMatchObject({ stamped: total, pending: 0 })
      const run = await log.archiveNow()
      // At least two archives (the record limit is half the records; the size limit may split further), chained.
      expect(run.archives.length).toBeGreaterThanOrEqual(2)
      let previous: string | undefined
      for (const archive of run.archives) {
        const chainStart = previous === undefined ? { first: true as const } : { previousDigest: previous }
        expect(await verifyArchive(archive.path, chainStart)).toMatchObject({ valid: true, lastDigest: archive.lastDigest })
        previous = archive.lastDigest
      }
      expect(run.archives.reduce((n, a) => n + a.records, 0)).toBe(total)
      await log.stop()
      expect(integrityCheck(db)).toEqual(['ok'])
    } finally {
      closeDatabase(db)
      await tsa.close()
    }
  }, 60_000)
})

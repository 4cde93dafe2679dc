import { randomBytes } from 'node:crypto'
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import { closeDatabase, inTransaction, migrate, openDatabase, silentLogger, systemClock, watchExternalMemory } from '../../src-main/platform'
import { archiveRecords, asicContainerWriter, messageLogMigrations, resolveMessageLogSettings } from '../../src-main/message-log'
import { insertMessageRecord, insertTimestampRecord, linkTimestamp } from '../../src-main/message-log/message-record-repository'

/**
 * `npx tsx --tsconfig tsconfig.json scripts/bench/messagelog-archive.ts [--records N] [--body BYTES] [--large K] [--purge]`:
 * what one archiving run costs the server that runs it. N time-stamped records with the sizes of a lab pair's
 * exchange (a 236-byte REST message, a 5.4 KB batch signature with its hash chain and result, one BYTES attachment),
 * K of them with a 10 MB body instead, archived with X-Road's defaults (ASiC-E containers, archives of up to
 * 10 000 records or 32 MiB): the run's time and CPU (the process's, every thread), its resident and array-buffer
 * memory at their highest above where they started (sampled every 5 ms), and the longest the event loop was held at
 * once (what traffic waits for while the run goes on). With --purge the run also purges what it archived (`keep-records-for` 0 days).
 */
async function main(): Promise<void> {
  const { values } = parseArgs({ options: {
    records: { type: 'string', default: '20000' }, body: { type: 'string', default: '1024' }, large: { type: 'string', default: '0' }, purge: { type: 'boolean', default: false },
  } })
  const records = Number(values.records)
  const body = Number(values.body)
  const large = Number(values.large)
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-mlog-archive-'))
  const db = openDatabase(join(dir, 'messagelog.sqlite'), { synchronous: 'FULL' })
  try {
    migrate(db, [messageLogMigrations])
    const base64 = (bytes: number, length: number): string => randomBytes(bytes).toString('base64').slice(0, length)
    const t0 = Date.now() - 3_600_000
    const largeEvery = large > 0 ? Math.floor(records / large) : 0
    for (let seq = 1; seq <= records;) {
      inTransaction(db, () => {
        const ids: number[] = []
        for (let j = 0; j < 100 && seq <= records; j++, seq++) {
          const size = largeEvery > 0 && seq % largeEvery === 0 ? 10 * 1024 * 1024 : body
          ids.push(insertMessageRecord(db, {
            queryId: randomBytes(20).toString('hex'), xRequestId: randomBytes(16).toString('hex'), client: 'SUBSYSTEM:EE/GOV/1234/consumer-sub',
            service: 'SERVICE:EE/COM/5678/provider-sub/pets/v1', response: j % 2 === 1, message: randomBytes(236), bodyLogged: true,
            signatureXml: `<signatures>${base64(4100, 5370)}</signatures>`, signatureHash: base64(64, 88), hashChainResult: base64(300, 405),
            hashChain: base64(520, 687), timeMs: t0 + seq, attachments: [{ content: randomBytes(size), size, sha512: base64(64, 88) }],
          }, { seq, prevHash: randomBytes(32), chainHash: randomBytes(32) }))
        }
        const ts = insertTimestampRecord(db, { timeMs: Date.now(), token: randomBytes(3000), hashChainResult: base64(1200, 1600), tsaUrl: 'http://tsa.example' })
        for (const id of ids) linkTimestamp(db, id, ts, base64(702, 936))
      })
    }
    db.pragma('wal_checkpoint(TRUNCATE)')
    // As in a server, whose message-log writer thread runs the checkpoints: none on the archiving connection's commits.
    db.pragma('wal_autocheckpoint = 0')
    const archiveDir = join(dir, 'archives')
    const settings = resolveMessageLogSettings({ archiveDir, ...(values.purge ? { keepRecordsForDays: 0 } : {}) })
    const stopWatch = watchExternalMemory()
    const start = process.memoryUsage()
    let peakRss = start.rss
    let peakBuffers = start.arrayBuffers
    const sampler = setInterval(() => {
      const now = process.memoryUsage()
      peakRss = Math.max(peakRss, now.rss)
      peakBuffers = Math.max(peakBuffers, now.arrayBuffers)
    }, 5)
    const delay = monitorEventLoopDelay({ resolution: 1 })
    delay.enable()
    const began = performance.now()
    const cpuBefore = process.cpuUsage()
    const result = await archiveRecords({ db, clock: systemClock, logger: silentLogger(), settings, containerWriter: asicContainerWriter })
    const took = performance.now() - began
    const cpu = process.cpuUsage(cpuBefore)
    // One more timer after the run, so that a hold at its very end (the purge) is counted too.
    await new Promise((resolve) => setTimeout(resolve, 5))
    delay.disable()
    stopWatch()
    clearInterval(sampler)
    const archiveBytes = readdirSync(archiveDir).reduce((sum, f) => sum + statSync(join(archiveDir, f)).size, 0)
    const mb = (n: number): string => (n / 1048576).toFixed(1)
    process.stdout.write(`${records} records (${large} of 10 MB, the rest ${body} B): ${result.archives.length} archive(s), ${mb(archiveBytes)} MB, ${result.purged} purged, in ${(took / 1000).toFixed(2)} s, CPU ${((cpu.user + cpu.system) / 1000 / records).toFixed(2)} ms a record (every thread); ` +
      `resident memory at most +${mb(peakRss - start.rss)} MB (from ${mb(start.rss)}), array buffers at most +${mb(peakBuffers - start.arrayBuffers)} MB; ` +
      `event loop held at most ${(delay.max / 1e6).toFixed(1)} ms at once (p99 ${(delay.percentile(99) / 1e6).toFixed(1)} ms)\n`)
  } finally {
    closeDatabase(db)
    rmSync(dir, { recursive: true, force: true })
  }
}

void main()

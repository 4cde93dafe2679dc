import { rmSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { systemClock } from '../../src-main/platform'
import { createHarness, messageFor } from '../../tests/message-log/support/message-log-harness'

/**
 * `npx tsx --tsconfig tsconfig.json scripts/bench/messagelog-commit.ts [--records N] [--concurrency C] [--runs R] [--think MS]
 * [--without-ack-file]`:
 * group-commit throughput of the message log on a real SQLite file (synchronous=FULL) with the test harness of
 * `tests/message-log/records.test.ts`: C writers each log records until N are acknowledged, back to back (all
 * writers then wait for the same group: lockstep) or with a random pause of up to MS milliseconds between records,
 * as exchanges of a server do (a record's request, then the service, then its response); prints records/s per run
 * and the median. `--without-ack-file` leaves out the acknowledgement file (its fdatasync per group commit), to tell
 * its cost from the evidence chain's. Bounded: a few seconds per run.
 */
async function oneRun(records: number, concurrency: number, thinkMs: number, withoutAckFile: boolean): Promise<number> {
  const h = createHarness(systemClock, { settings: { acceptableTimestampFailurePeriodSeconds: 0 }, ...(withoutAckFile ? { ackFile: undefined } : {}) })
  let next = 0
  const started = process.hrtime.bigint()
  const writer = async (): Promise<void> => {
    while (next < records) {
      const i = next++
      if (thinkMs > 0) await new Promise((resolve) => setTimeout(resolve, Math.random() * thinkMs))
      await h.log.record(messageFor(`bench-${i}`, { attachments: [Buffer.alloc(1024 + (i % 7) * 512, i % 251)] }))
    }
  }
  await Promise.all(Array.from({ length: concurrency }, writer))
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  await h.close()
  rmSync(h.dir, { recursive: true, force: true })
  return records / seconds
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { records: { type: 'string', default: '4000' }, concurrency: { type: 'string', default: '16' }, runs: { type: 'string', default: '5' }, think: { type: 'string', default: '0' },
      'without-ack-file': { type: 'boolean', default: false } },
  })
  const records = Number(values.records)
  const concurrency = Number(values.concurrency)
  const thinkMs = Number(values.think)
  const rates: number[] = []
  for (let r = 0; r < Number(values.runs); r++) {
    const rate = await oneRun(records, concurrency, thinkMs, values['without-ack-file'] === true)
    rates.push(rate)
    process.stdout.write(`run ${r + 1}: ${rate.toFixed(0)} records/s\n`)
  }
  const sorted = [...rates].sort((a, b) => a - b)
  process.stdout.write(`median ${sorted[Math.floor(sorted.length / 2)]?.toFixed(0)} records/s (${records} records, concurrency ${concurrency}, think ≤ ${thinkMs} ms)\n`)
}

void main()

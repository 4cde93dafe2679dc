import { rmSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { systemClock } from '../../src-main/platform'
import { createHarness, messageFor } from '../../tests/message-log/support/message-log-harness'

/**
 * `npx tsx --tsconfig tsconfig.json scripts/bench/messagelog-commit.ts [--records N] [--concurrency C] [--runs R]`:
 * group-commit throughput of the message log on a real SQLite file (synchronous=FULL) with the test harness of
 * `tests/message-log/records.test.ts`: C writers each log records back to back until N are acknowledged; prints
 * records/s per run and the median. Bounded: a few seconds per run.
 */
async function oneRun(records: number, concurrency: number): Promise<number> {
  const h = createHarness(systemClock, { settings: { acceptableTimestampFailurePeriodSeconds: 0 } })
  let next = 0
  const started = process.hrtime.bigint()
  const writer = async (): Promise<void> => {
    while (next < records) {
      const i = next++
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
  const { values } = parseArgs({ options: { records: { type: 'string', default: '4000' }, concurrency: { type: 'string', default: '16' }, runs: { type: 'string', default: '5' } } })
  const records = Number(values.records)
  const concurrency = Number(values.concurrency)
  const rates: number[] = []
  for (let r = 0; r < Number(values.runs); r++) {
    const rate = await oneRun(records, concurrency)
    rates.push(rate)
    process.stdout.write(`run ${r + 1}: ${rate.toFixed(0)} records/s\n`)
  }
  const sorted = [...rates].sort((a, b) => a - b)
  process.stdout.write(`median ${sorted[Math.floor(sorted.length / 2)]?.toFixed(0)} records/s (${records} records, concurrency ${concurrency})\n`)
}

void main()

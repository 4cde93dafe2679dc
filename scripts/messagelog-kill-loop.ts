import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runKillLoop } from '../tests/message-log/support/kill-loop'

/**
 * Longer "loses no data" run for the message log: `npx tsx scripts/messagelog-kill-loop.ts [ROUNDS=30]`.
 * SIGKILLs a record-writing child ROUNDS times at random moments and checks every acknowledged record survived,
 * `PRAGMA integrity_check` stays ok and the evidence check finds nothing. Exits 1 on any loss or false alarm.
 */
async function main(): Promise<number> {
  const rounds = Number(process.argv[2] ?? 30)
  const dir = mkdtempSync(join(tmpdir(), 'gh-kill-loop-'))
  const results = await runKillLoop({ dir, rounds, minMs: 50, maxMs: 1500 })
  let failed = false
  results.forEach((r, i) => {
    const ok = r.missing.length === 0 && r.integrity.join() === 'ok' && r.evidenceProblems.length === 0
    failed ||= !ok
    process.stdout.write(`round ${i + 1}: killed after ${r.killedAfterMs} ms, ${r.acknowledged} acknowledged, missing ${r.missing.length}, integrity ${r.integrity.join('; ')}, evidence problems ${r.evidenceProblems.length}\n`)
  })
  const total = results.reduce((n, r) => n + r.acknowledged, 0)
  process.stdout.write(`${failed ? 'FAILED' : 'OK'}: ${rounds} kills, ${total} acknowledged records checked in ${dir}\n`)
  return failed ? 1 : 0
}

main().then((code) => (process.exitCode = code), (error: unknown) => {
  process.stderr.write(`${String(error)}\n`)
  process.exitCode = 1
})

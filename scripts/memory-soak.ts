import { parseArgs } from 'node:util'
import { memorySoakProblems, runMemorySoak, type MemorySoakResult } from './lib/memory-soak'

/**
 * `npm run soak:memory [-- --json] [--mb 60] [--parallel 16]`: the full memory-budget soak of issue 14 §3 — 16 bodies
 * of 60 MB at once from an information system to the consumer's client proxy and from a registered peer straight to
 * the provider's server proxy, each once with body logging on (X-Road's default: every body over the message log's
 * 10 MiB is refused before it is read) and once with it off (the bodies stream through, spooled), each server in its
 * own `gatehouse serve` process with the default budget. Prints each server's idle and peak RSS and every answer's
 * class; with --json the last line is one JSON object. Exits 1 when a server went over 200 MB or an answer was
 * neither a success nor a clean X-Road error. The suite runs a smaller form (tests/hardening/memory-budget.test.ts).
 */
const LIMIT_MB = 200

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { json: { type: 'boolean', default: false }, mb: { type: 'string', default: '60' }, parallel: { type: 'string', default: '16' } },
  })
  const bodyBytes = Math.round(Number(values.mb) * 1_000_000)
  const parallel = Number(values.parallel)
  if (!Number.isFinite(bodyBytes) || bodyBytes < 1 || !Number.isInteger(parallel) || parallel < 1 || parallel > 256) {
    process.stderr.write('usage: memory-soak [--json] [--mb MB per body (default 60)] [--parallel N (default 16)]\n')
    return 2
  }
  const log = (line: string): void => void process.stdout.write(`${line}\n`)
  const result: MemorySoakResult = await runMemorySoak({
    bodyBytes, parallel, deadlineMs: 300_000, log,
    runs: [
      { scenario: 'client', bodyLogging: true }, { scenario: 'client', bodyLogging: false },
      { scenario: 'peer', bodyLogging: true }, { scenario: 'peer', bodyLogging: false },
    ],
  })
  const problems = memorySoakProblems(result, LIMIT_MB)
  log(problems.length === 0 ? `OK: every server stayed under ${LIMIT_MB} MB and every answer was a success or a clean X-Road error` : `FAILED:\n  ${problems.join('\n  ')}`)
  if (values.json) log(JSON.stringify({ limitMb: LIMIT_MB, ...result, problems }))
  return problems.length === 0 ? 0 : 1
}

main().then((code) => (process.exitCode = code), (error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
  process.exitCode = 1
})

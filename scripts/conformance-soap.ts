import { parseArgs } from 'node:util'
import { runSoapConformance } from './lib/soap-conformance'

/**
 * `npm run conformance:soap [-- --json] [--case NAME …]`: X-Road's SOAP proxy test cases against a real Gatehouse pair
 * on loopback (scripts/lib/soap-conformance.ts). One line per case, the cases left out with why, then with --json the
 * last line {"cases":N,"agree":M,"differ":[{"case":…,"expected":…,"got":…,"reason":…}]}. Exits 1 when agreement is
 * below 95 % or a difference has no reason, 2 on a usage error.
 */
async function main(): Promise<number> {
  let values
  try {
    ;({ values } = parseArgs({ options: { json: { type: 'boolean', default: false }, case: { type: 'string', multiple: true } } }))
  } catch (error) {
    process.stderr.write(`conformance:soap: ${(error as Error).message}\nusage: conformance-soap [--json] [--case NAME]...\n`)
    return 2
  }
  const print = (line: string): void => void process.stdout.write(`${line}\n`)
  print('X-Road\'s SOAP proxy test cases against a Gatehouse pair on loopback')
  const result = await runSoapConformance({ ...(values.case === undefined ? {} : { only: values.case }), print })
  const notRun = Object.entries(result.notRun)
  if (notRun.length > 0) {
    print(`Not run (${notRun.length}):`)
    for (const [name, why] of notRun) print(`  ${name}: ${why}`)
  }
  const share = result.cases === 0 ? 0 : (100 * result.agree) / result.cases
  print(`Agreement: ${result.agree} of ${result.cases} cases (${share.toFixed(1)} %)`)
  for (const d of result.differ) print(`  ${d.case}: expected ${d.expected}, got ${d.got} — ${d.reason}`)
  if (values.json) print(JSON.stringify({ cases: result.cases, agree: result.agree, differ: result.differ }))
  return result.cases > 0 && share >= 95 && result.differ.every((d) => d.reason !== 'not explained') ? 0 : 1
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`conformance:soap: ${(error as Error).stack ?? String(error)}\n`)
    process.exit(1)
  },
)

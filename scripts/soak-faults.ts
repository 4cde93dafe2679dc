import { exitOnSignals } from './lib/faults/fault-pair'
import { FAULT_CLASSES, FULL_SIZES, SHORT_SIZES, classPassed, jsonLine, runFaultHarness, type FaultClass } from './lib/faults/fault-harness'

/**
 * `npm run soak:faults -- [--json] [--short] [--classes a,b] [--seed N] [--keep]`: the fault harness of issue 14 at
 * full size (about 15 minutes) or short. Progress goes to stderr; with --json the last line of stdout is
 * `{"classes":{"<class>":{"trials":N,"acknowledged":N,"lost":N,"undetected":N,"recoveredWithoutRestart":N}}}`.
 * Exits 1 when a message was lost, a loss or corruption went unreported, or a fault did not behave as its parameter
 * says; 2 on a usage error.
 */
function usage(message: string): never {
  process.stderr.write(`${message}\nusage: soak-faults [--json] [--short] [--classes ${FAULT_CLASSES.join(',')}] [--seed N] [--keep]\n`)
  process.exit(2)
}

async function main(): Promise<number> {
  const args = process.argv.slice(2)
  let json = false
  let short = false
  let keep = false
  let seed: number | undefined
  let classes: FaultClass[] | undefined
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]
    if (arg === '--json') json = true
    else if (arg === '--short') short = true
    else if (arg === '--keep') keep = true
    else if (arg === '--seed') seed = Number(args[++i] ?? usage('--seed needs a number'))
    else if (arg === '--classes') {
      const names = (args[++i] ?? usage('--classes needs a list')).split(',')
      const unknown = names.filter((n) => !(FAULT_CLASSES as readonly string[]).includes(n))
      if (unknown.length > 0) usage(`unknown class(es): ${unknown.join(', ')}`)
      classes = names as FaultClass[]
    } else usage(`unknown argument ${arg ?? ''}`)
  }
  if (seed !== undefined && !Number.isInteger(seed)) usage('--seed needs a whole number')
  exitOnSignals()
  const result = await runFaultHarness({ sizes: short ? SHORT_SIZES : FULL_SIZES, classes, seed, keep })
  const entries = Object.entries(result.classes) as Array<[FaultClass, NonNullable<(typeof result.classes)[FaultClass]>]>
  const bad = entries.filter(([name, r]) => !classPassed(name, r))
  process.stderr.write(`${bad.length === 0 ? 'OK' : 'FAILED'}: ${entries.length} classes in ${result.seconds} s${keep ? `, kept in ${result.dir}` : ''}\n`)
  for (const [name, r] of entries) for (const f of r.failures) process.stderr.write(`  ${name}: ${f}\n`)
  process.stdout.write(json ? `${jsonLine(result)}\n` : '')
  return bad.length === 0 ? 0 : 1
}

main().then((code) => process.exit(code), (error: unknown) => {
  process.stderr.write(`soak-faults: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
  process.exit(1)
})

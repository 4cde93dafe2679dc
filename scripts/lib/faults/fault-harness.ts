import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { seededRandom } from '../seeded-random'
import { ClassContext, type ClassFigures, type ClassReport, type HarnessSizes } from './fault-context'
import { startFaultPair, type FaultPair } from './fault-pair'
import { corruptionClass, killClass } from './kill-classes'
import { confOutageClass, ocspOutageClass, tsaOutageClass } from './outage-classes'
import { diskFullClass } from './disk-full-class'
import { tokenLossClass } from './token-loss-class'

/**
 * The fault harness (issue 14): one lab pair of real `gatehouse serve` processes, and a class of faults after the
 * other, each under load from information-system workers, each bounded by deadlines. What each class does is
 * described at its function; the figures per class are those of the `--json` line.
 */
export const FAULT_CLASSES = [
  'kill-provider', 'kill-consumer', 'tsa-outage', 'ocsp-outage', 'conf-source-outage', 'token-loss',
  'disk-full-provider', 'disk-full-consumer', 'wal-corruption', 'db-corruption',
] as const
export type FaultClass = (typeof FAULT_CLASSES)[number]

/** Classes whose fault destroys evidence on purpose: their `lost` is what it destroyed, all of which must be reported. */
export const DESTRUCTIVE_CLASSES: readonly FaultClass[] = ['wal-corruption', 'db-corruption']

/** Whether a class met its target: nothing undetected, every trial recovered, no failure, nothing lost unless destructive. */
export function classPassed(name: FaultClass, report: ClassReport): boolean {
  return report.undetected === 0 && report.failures.length === 0 && report.recoveredWithoutRestart >= report.trials &&
    (report.lost === 0 || DESTRUCTIVE_CLASSES.includes(name))
}

export const FULL_SIZES: HarnessSizes = {
  killTrials: 20, outageTrials: 2, corruptionTrials: 6, diskTrials: 2, tokenTrials: 2, concurrency: 16,
  timestampFailurePeriodSeconds: 12, ocspFreshnessSeconds: 15, confExpireSeconds: 15, holdMs: 3000,
}

export const SHORT_SIZES: HarnessSizes = {
  killTrials: 1, outageTrials: 1, corruptionTrials: 1, diskTrials: 1, tokenTrials: 1, concurrency: 4,
  timestampFailurePeriodSeconds: 4, ocspFreshnessSeconds: 6, confExpireSeconds: 6, holdMs: 1500,
}

export interface HarnessOptions {
  sizes: HarnessSizes
  classes?: readonly FaultClass[]
  seed?: number
  /** Parent folder; a temporary one (removed afterwards unless `keep`) by default. */
  dir?: string
  keep?: boolean
  log?: (line: string) => void
}

export interface HarnessResult {
  classes: Partial<Record<FaultClass, ClassReport>>
  seconds: number
  dir: string
}

const RUNNERS: Record<FaultClass, (ctx: ClassContext) => Promise<void>> = {
  'kill-provider': (ctx) => killClass(ctx, 'provider'),
  'kill-consumer': (ctx) => killClass(ctx, 'consumer'),
  'tsa-outage': tsaOutageClass,
  'ocsp-outage': ocspOutageClass,
  'conf-source-outage': confOutageClass,
  'token-loss': tokenLossClass,
  'disk-full-provider': (ctx) => diskFullClass(ctx, 'provider'),
  'disk-full-consumer': (ctx) => diskFullClass(ctx, 'consumer'),
  'wal-corruption': (ctx) => corruptionClass(ctx, 'wal'),
  'db-corruption': (ctx) => corruptionClass(ctx, 'db'),
}

export async function runFaultHarness(options: HarnessOptions): Promise<HarnessResult> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`))
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'gh-faults-'))
  const seed = options.seed ?? Date.now() % 1_000_000
  const random = seededRandom(seed)
  const started = Date.now()
  const classes: HarnessResult['classes'] = {}
  log(`fault harness: seed ${seed}, classes ${(options.classes ?? FAULT_CLASSES).join(', ')}`)
  let pair: FaultPair | undefined
  try {
    pair = await startFaultPair({ dir, log })
    log(`pair ready in ${Math.round((Date.now() - started) / 1000)} s`)
    for (const name of options.classes ?? FAULT_CLASSES) {
      log(`— ${name}`)
      const ctx = new ClassContext(name, pair, options.sizes, log, random)
      try {
        await RUNNERS[name](ctx)
      } catch (error) {
        ctx.fail(`the class stopped: ${error instanceof Error ? error.message : String(error)}`)
        await ctx.stopLoad()
        // Leave the pair as the next class expects it: both servers running.
        for (const side of ['consumer', 'provider'] as const) {
          const server = pair.server(side)
          if (!server.running) ctx.note(`the ${side} was not running (exit ${String(server.child?.exitCode ?? server.child?.signalCode)}); its log ends: ${server.stderrTail().slice(-1500)}`)
          if (!server.running) await server.start().catch((e: unknown) => log(`  could not restart the ${side}: ${String(e)}`))
        }
      }
      const report = ctx.finish()
      classes[name] = report
      log(`  ${name}: ${JSON.stringify(figures(report))} in ${report.seconds} s${report.failures.length > 0 ? `, ${report.failures.length} failure(s)` : ''}`)
    }
  } finally {
    // Only this run's servers: another run in the same process (the short form's two halves) keeps its own.
    await pair?.close().catch((error: unknown) => log(`closing the pair: ${String(error)}`))
    if (options.dir === undefined && options.keep !== true) rmSync(dir, { recursive: true, force: true })
  }
  return { classes, seconds: Math.round((Date.now() - started) / 1000), dir }
}

export function figures(report: ClassFigures): ClassFigures {
  const { trials, acknowledged, lost, undetected, recoveredWithoutRestart } = report
  return { trials, acknowledged, lost, undetected, recoveredWithoutRestart }
}

/** The `--json` line: `{"classes":{"<class>":{"trials":N,"acknowledged":N,"lost":N,"undetected":N,"recoveredWithoutRestart":N}}}`. */
export function jsonLine(result: HarnessResult): string {
  const classes: Record<string, ClassFigures> = {}
  for (const [name, report] of Object.entries(result.classes)) classes[name] = figures(report)
  return JSON.stringify({ classes })
}

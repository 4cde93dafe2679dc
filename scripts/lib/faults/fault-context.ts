import type { FaultPair, ServerProcess, Side } from './fault-pair'
import { isAcknowledged, startLoad, type LoadTarget, type Outcome, type RunningLoad } from './fault-load'
import { describeProblems, evidence, loggedQueries, missingFrom } from './fault-evidence'
import { sleep, waitFor } from './fault-pair'

/** The five figures of each class in the harness's JSON line. */
export interface ClassFigures {
  trials: number
  /** Messages the information system got a 2xx answer for during the class. */
  acknowledged: number
  /** Acknowledged messages without their request and response records in both message logs (or with a record altered). */
  lost: number
  /** Lost messages, and corruptions, the server's own evidence check did not report. */
  undetected: number
  /** Trials after which traffic flowed again without restarting the server that saw the fault. */
  recoveredWithoutRestart: number
}

export interface ClassReport extends ClassFigures {
  /** Behaviour that did not follow the parameters (e.g. traffic stopped before the period ran out). */
  failures: string[]
  /** What was measured, for the progress log and the README. */
  notes: string[]
  seconds: number
}

export interface HarnessSizes {
  killTrials: number
  outageTrials: number
  corruptionTrials: number
  diskTrials: number
  tokenTrials: number
  concurrency: number
  /** acceptable-timestamp-failure-period during tsa-outage. */
  timestampFailurePeriodSeconds: number
  /** ocspFreshnessSeconds during ocsp-outage. */
  ocspFreshnessSeconds: number
  /** The global configuration's validity during conf-source-outage. */
  confExpireSeconds: number
  /** How long a fault is held once it shows, and the pause after each trial. */
  holdMs: number
}

export class ClassContext {
  readonly report: ClassReport = { trials: 0, acknowledged: 0, lost: 0, undetected: 0, recoveredWithoutRestart: 0, failures: [], notes: [], seconds: 0 }
  private load: RunningLoad | undefined
  /** Every outcome of every load of this class. */
  readonly outcomes: Outcome[] = []
  private readonly startedAt = Date.now()

  constructor(
    readonly name: string,
    readonly pair: FaultPair,
    readonly sizes: HarnessSizes,
    readonly log: (line: string) => void,
    readonly random: () => number,
  ) {}

  target(concurrency = this.sizes.concurrency): LoadTarget {
    return { url: this.pair.echoUrl, headers: this.pair.headers, concurrency, prefix: `${this.name}` }
  }

  startLoad(concurrency?: number): void {
    if (this.load !== undefined) throw new Error('load already running')
    this.load = startLoad(this.target(concurrency))
  }

  async stopLoad(): Promise<void> {
    const load = this.load
    this.load = undefined
    if (load !== undefined) this.outcomes.push(...(await load.stop()))
  }

  /** Outcomes so far, including those of the load running now. */
  all(): Outcome[] {
    return [...this.outcomes, ...(this.load?.outcomes ?? [])]
  }

  acknowledged(until = Number.POSITIVE_INFINITY): Outcome[] {
    return this.all().filter((o) => isAcknowledged(o) && o.atMs <= until)
  }

  fail(message: string): void {
    this.report.failures.push(message)
    this.log(`  FAILURE ${message}`)
  }

  note(message: string): void {
    this.report.notes.push(message)
    this.log(`  ${message}`)
  }

  /** Waits until an acknowledged answer came that was sent after `sinceMs`; its time, or undefined at the deadline. */
  async waitForTraffic(sinceMs: number, timeoutMs: number): Promise<number | undefined> {
    try {
      return await waitFor('traffic', timeoutMs, () => this.all().find((o) => o.sentAtMs >= sinceMs && isAcknowledged(o))?.atMs, 100)
    } catch {
      return undefined
    }
  }

  /** The refusals answered since `sinceMs`, counted by code (for a failure message). */
  refusalsSince(sinceMs: number): string {
    const counts = new Map<string, number>()
    for (const o of this.all().filter((x) => x.sentAtMs >= sinceMs && !isAcknowledged(x))) {
      const code = o.code || `HTTP ${o.status}`
      counts.set(code, (counts.get(code) ?? 0) + 1)
    }
    return JSON.stringify(Object.fromEntries(counts))
  }

  /**
   * Waits until every request sent before `sentBeforeMs` has its answer (or failed): a message in flight when a server
   * was killed can still be acknowledged to the information system after the kill. False at the deadline.
   */
  async waitForAnswers(sentBeforeMs: number, timeoutMs: number): Promise<boolean> {
    try {
      await waitFor('answers in flight', timeoutMs, () => ((this.load?.inFlight() ?? []).some((t) => t < sentBeforeMs) ? undefined : true), 100)
      return true
    } catch {
      return false
    }
  }

  /** The slowest acknowledged exchange answered in `[fromMs, toMs]`, in ms (0 when none): what an exchange costs now. */
  slowestExchange(fromMs: number, toMs: number): number {
    return this.all().filter((o) => isAcknowledged(o) && o.atMs >= fromMs && o.atMs <= toMs).reduce((m, o) => Math.max(m, o.atMs - o.sentAtMs), 0)
  }

  /** Waits for the first refusal or failure answered after `sinceMs`; undefined at the deadline. */
  async waitForRefusal(sinceMs: number, timeoutMs: number): Promise<Outcome | undefined> {
    try {
      return await waitFor('a refusal', timeoutMs, () => this.all().find((o) => o.sentAtMs >= sinceMs && !isAcknowledged(o)), 100)
    } catch {
      return undefined
    }
  }

  /**
   * Counts acknowledged messages without their records in the message logs of both servers (`dirs` overrides where a
   * side's data directory is seen from here, e.g. through /proc/PID/root). Returns the lost ones per side.
   */
  lostPerSide(acknowledged: readonly Outcome[], dirs: Partial<Record<Side, string>> = {}): Record<Side, Outcome[]> {
    const result = {} as Record<Side, Outcome[]>
    for (const side of ['consumer', 'provider'] as const) {
      result[side] = missingFrom(acknowledged, loggedQueries(dirs[side] ?? this.pair.server(side).dataDir))
    }
    return result
  }

  /**
   * For classes whose fault must destroy nothing: every acknowledged message without its records is lost and, since
   * no evidence check is expected to report it, undetected too; the class fails naming a few of them.
   */
  countUnrecorded(dirs: Partial<Record<Side, string>> = {}): void {
    const lost = this.lostPerSide(this.acknowledged(), dirs)
    const ids = new Set([...lost.consumer, ...lost.provider].map((o) => o.queryId))
    this.report.lost += ids.size
    if (ids.size > 0) {
      this.report.undetected += ids.size
      this.fail(`${ids.size} acknowledged message(s) without their records, e.g. ${[...ids].slice(0, 3).join(', ')}`)
    }
  }

  /**
   * Both servers as seen now, for a failure message: running or how it exited, the evidence state and refusal, and the
   * last warnings and errors of its log (each start's output is kept in `ServerProcess.logPath`).
   */
  async describeServers(): Promise<string> {
    const parts: string[] = []
    for (const side of ['consumer', 'provider'] as const) {
      const server = this.server(side)
      if (!server.running) {
        parts.push(`${side} not running (exit ${String(server.child?.exitCode ?? server.child?.signalCode)})`)
        continue
      }
      let state: string
      try {
        const e = await Promise.race([
          evidence(server.admin()),
          sleep(15_000).then(() => { throw new Error('no answer in 15 s') }),
        ])
        state = `evidence ${e.state}${e.refusing ? ' (refusing)' : ''}${e.checking ? ' (checking)' : ''}: ${describeProblems(e)}`
      } catch (error) {
        state = `admin API: ${error instanceof Error ? error.message : String(error)}`
      }
      const warnings = server.recentLog().split('\n').filter((l) => /"level":(40|50|60)/.test(l)).slice(-3).map((l) => l.slice(0, 400))
      parts.push(`${side} pid ${server.pid ?? '?'}, ${state}${warnings.length > 0 ? `; last warnings: ${warnings.join(' | ')}` : ''}`)
    }
    return parts.join('; ')
  }

  finish(): ClassReport {
    this.report.acknowledged = this.outcomes.filter(isAcknowledged).length
    this.report.seconds = Math.round((Date.now() - this.startedAt) / 1000)
    return this.report
  }

  server(side: Side): ServerProcess {
    return this.pair.server(side)
  }

  /** A random duration in [min, max) ms. */
  between(min: number, max: number): number {
    return Math.floor(min + this.random() * (max - min))
  }

  pause(ms: number): Promise<void> {
    return sleep(ms)
  }
}


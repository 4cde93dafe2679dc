import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { formatIdPath } from '@shared/domain/identifiers'
import { startLabServer, type RunningLabServer } from '../../../src-main/lab'
import { loginAdmin, setupAdmin, type AdminClient } from '../admin-client'
import { buildLabPair, type Agency, type LabPair } from '../lab-pair'
import { GATEHOUSE_BIN, GATEHOUSE_NODE_ENV, GATEHOUSE_NODE_FLAGS } from '../processes'
import { startSampleService, type SampleService } from '../sample-service'

/**
 * The fault harness's lab pair: the lab's OCSP responder, TSA and configuration source in this process (each can be
 * stopped and started again on its port), a sample service, and each security server as its own
 * `node bin/gatehouse.js serve` child process that the harness kills with SIGKILL, stops with SIGTERM and starts again
 * on the same data directory. Every child is tracked and killed when the harness exits, however it exits.
 */

export type Side = 'consumer' | 'provider'
export type LabService = 'ocsp' | 'tsa' | 'conf'

const TOKEN_PIN = 'Fault-Token-Pin-1'
const ROOT = resolve(__dirname, '../../..')

/**
 * How `gatehouse serve` is run: the CLI bundled once per run with esbuild (as `npm run build` bundles
 * out/main/cli.js; a start then loads one file, 2–3 s instead of 5–9 s through tsx on a busy machine), or
 * bin/gatehouse.js through tsx when esbuild is not installed.
 */
export interface ServerCommand {
  entry: string
  env: NodeJS.ProcessEnv
  bundled: boolean
}

export function prepareServerCommand(dir: string): ServerCommand {
  const esbuild = join(ROOT, 'node_modules', '.bin', 'esbuild')
  if (!existsSync(esbuild)) return { entry: GATEHOUSE_BIN, env: { TSX_TSCONFIG_PATH: join(ROOT, 'tsconfig.json') }, bundled: false }
  const out = join(dir, 'cli')
  mkdirSync(out, { recursive: true })
  const built = spawnSync(esbuild, [
    join(ROOT, 'src-main', 'cli', 'main.ts'), '--bundle', '--platform=node', '--format=cjs', '--packages=external',
    `--tsconfig=${join(ROOT, 'tsconfig.json')}`, `--outfile=${join(out, 'cli.js')}`, '--log-level=error',
  ], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 })
  if (built.status !== 0) throw new Error(`bundling the CLI failed: ${built.stderr}`)
  // bin/gatehouse.js's tail, on the bundle.
  writeFileSync(join(out, 'gatehouse.js'), [
    "require('./cli.js').runCli(process.argv).then((code) => { process.exitCode = code }, (error) => {",
    "  process.stderr.write(`gatehouse: ${error && error.stack ? error.stack : error}\\n`)",
    '  process.exitCode = 1',
    '})',
    '',
  ].join('\n'))
  // The bundle keeps its packages external: they resolve from the repository's node_modules.
  return { entry: join(out, 'gatehouse.js'), env: { NODE_PATH: join(ROOT, 'node_modules') }, bundled: true }
}

/** Every child process the harness started and has not seen exit. */
const children = new Set<ChildProcess>()
let exitHooked = false

function hookExit(): void {
  if (exitHooked) return
  exitHooked = true
  process.on('exit', killAllChildren)
}

/** For the command line: SIGINT, SIGTERM or SIGHUP kills every child and exits 130 (a test runner keeps its own). */
export function exitOnSignals(): void {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\nfault harness: ${signal}, killing ${children.size} child process(es)\n`)
      killAllChildren()
      process.exit(130)
    })
  }
}

export function killAllChildren(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  }
}

/** Resolves once `ms` passed. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** Polls `probe` until it returns a value other than undefined, or throws after `timeoutMs` saying what it waited for. */
export async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined> | T | undefined, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const value = await probe()
      if (value !== undefined) return value
    } catch (error) {
      last = error
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last === undefined ? '' : `: ${String(last)}`}`)
    await sleep(everyMs)
  }
}

/** How a server process is started: plainly, or inside its own user and mount namespace (see disk-full). */
export interface StartPlan {
  /** Replaces `node bin/gatehouse.js serve …` with a wrapper command that ends by exec'ing it (argv appended). */
  wrap?: (serveArgv: string[]) => { command: string; args: string[] }
}

export class ServerProcess {
  child: ChildProcess | undefined
  private adminClient: AdminClient | undefined
  private adminSetUp = false
  private stderr = ''
  readonly dataDir: string
  /** Extra environment of every later start (e.g. SOFTHSM2_CONF once the server uses a SoftHSM2 token). */
  env: NodeJS.ProcessEnv = {}

  constructor(readonly side: Side, readonly agency: Agency, private readonly readyTimeoutMs: number, private readonly command: ServerCommand) {
    this.dataDir = agency.dataDir
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null
  }

  get pid(): number | undefined {
    return this.child?.pid
  }

  /** Where the output of every start of this server is appended. */
  get logPath(): string {
    return `${this.dataDir}.log`
  }

  /** The last 64 KiB of this server's log file (every start's output). */
  recentLog(): string {
    try {
      const bytes = readFileSync(this.logPath)
      return bytes.subarray(Math.max(0, bytes.length - 65_536)).toString('utf8')
    } catch {
      return ''
    }
  }

  stderrTail(): string {
    return this.stderr.slice(-3000)
  }

  /** Starts `gatehouse serve` (token autologin) and resolves once it printed its ready line and an admin session is open. */
  async start(plan: StartPlan = {}): Promise<void> {
    if (this.running) throw new Error(`${this.side} is already running`)
    hookExit()
    // The node flags and environment of bin/gatehouse.js's first line, as a server started from the command line gets them.
    const serveArgv = [process.execPath, ...GATEHOUSE_NODE_FLAGS, this.command.entry, 'serve', '--data-dir', this.dataDir, '--json']
    const { command, args } = plan.wrap?.(serveArgv) ?? { command: serveArgv[0] as string, args: serveArgv.slice(1) }
    const child = spawn(command, args, {
      cwd: ROOT,
      env: { ...process.env, ...GATEHOUSE_NODE_ENV, ...this.command.env, ...this.env, GATEHOUSE_TOKEN_PIN: TOKEN_PIN },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    children.add(child)
    child.once('exit', () => children.delete(child))
    this.child = child
    this.adminClient = undefined
    this.stderr = ''
    // Every start's output, appended to DATA_DIR.log beside the data directory (kept with --keep, for diagnosis).
    const logFile = createWriteStream(this.logPath, { flags: 'a' })
    logFile.write(`--- ${new Date().toISOString()} start (pid ${child.pid ?? '?'})\n`)
    child.once('exit', (code, signal) => logFile.end(`--- ${new Date().toISOString()} exit ${code ?? signal}\n`))
    child.stderr?.on('data', (d: Buffer) => {
      logFile.write(d)
      this.stderr = (this.stderr + d.toString()).slice(-20_000)
    })
    child.stdout?.on('data', (d: Buffer) => logFile.write(d))
    await new Promise<void>((resolveReady, reject) => {
      let out = ''
      const timer = setTimeout(() => {
        child.kill('SIGKILL')
        reject(new Error(`${this.side} did not become ready within ${this.readyTimeoutMs} ms: ${this.stderrTail()}`))
      }, this.readyTimeoutMs)
      const onExit = (code: number | null, signal: string | null): void => {
        clearTimeout(timer)
        reject(new Error(`${this.side} exited during start (${code ?? signal}): ${this.stderrTail()}`))
      }
      child.once('exit', onExit)
      const onReady = (d: Buffer): void => {
        out += d.toString()
        if (!/"ready":true/.test(out)) return
        clearTimeout(timer)
        child.off('exit', onExit)
        child.stdout?.off('data', onReady)
        resolveReady()
      }
      child.stdout?.on('data', onReady)
    })
    this.adminClient = await this.openAdmin()
  }

  private async openAdmin(): Promise<AdminClient> {
    const port = this.agency.ports.admin
    if (!this.adminSetUp) {
      const client = await setupAdmin(this.agency.dataDir, port)
      this.adminSetUp = true
      return client
    }
    return loginAdmin(this.agency.dataDir, port)
  }

  /** The admin session of the running process. */
  admin(): AdminClient {
    if (this.adminClient === undefined) throw new Error(`${this.side} has no admin session (not running?)`)
    return this.adminClient
  }

  /** kill -9, and waits until the process is gone. */
  async kill9(): Promise<void> {
    await this.signal('SIGKILL', 10_000)
  }

  /** SIGTERM (graceful), SIGKILL after 10 s. */
  async stop(): Promise<void> {
    await this.signal('SIGTERM', 10_000)
  }

  private async signal(signal: NodeJS.Signals, timeoutMs: number): Promise<void> {
    const child = this.child
    if (child === undefined || !this.running) return
    const exited = new Promise<void>((r) => child.once('exit', () => r()))
    child.kill(signal)
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    await exited
    clearTimeout(timer)
    this.adminClient = undefined
  }
}

export interface FaultPair {
  built: LabPair
  lab: RunningLabServer
  sample: SampleService
  consumer: ServerProcess
  provider: ServerProcess
  /** The client proxy URL of the REST echo service at the provider (the information system's view). */
  echoUrl: string
  headers: Record<string, string>
  server(side: Side): ServerProcess
  /** Restarts the lab's three services in this process with other options (same ports, same lab directory). */
  restartLab(options?: { regenerateIntervalMs?: number; confExpireSeconds?: number }): Promise<void>
  close(): Promise<void>
}

export interface FaultPairOptions {
  dir: string
  readyTimeoutMs?: number
  log: (line: string) => void
}

/** Builds a lab pair in `dir` and starts the lab, the sample service and both servers. */
export async function startFaultPair(options: FaultPairOptions): Promise<FaultPair> {
  hookExit()
  mkdirSync(options.dir, { recursive: true })
  const sample = await startSampleService()
  let lab: RunningLabServer | undefined
  const servers: ServerProcess[] = []
  try {
    options.log(`building the lab pair in ${options.dir}`)
    const built = await buildLabPair({ serviceUrl: sample.url, dir: join(options.dir, 'pair'), pin: TOKEN_PIN, logLevel: 'warn' })
    const labOptions = { ports: built.labPorts, confExpireSeconds: 600, regenerateIntervalMs: 60_000 }
    lab = await startLabServer(built.labDir, labOptions)
    const readyTimeoutMs = options.readyTimeoutMs ?? 90_000
    const command = prepareServerCommand(options.dir)
    options.log(command.bundled ? `servers run the CLI bundled by esbuild (${command.entry})` : 'servers run bin/gatehouse.js through tsx (esbuild not found)')
    const consumer = new ServerProcess('consumer', built.consumer, readyTimeoutMs, command)
    const provider = new ServerProcess('provider', built.provider, readyTimeoutMs, command)
    servers.push(consumer, provider)
    options.log('starting both security servers')
    await Promise.all([consumer.start(), provider.start()])
    const pair: FaultPair = {
      built,
      lab,
      sample,
      consumer,
      provider,
      echoUrl: `http://127.0.0.1:${consumer.agency.ports.clientProxyHttp}/r1/${formatIdPath(built.provider.subsystem)}/pets/echo`,
      headers: { 'X-Road-Client': formatIdPath(built.consumer.subsystem), 'Content-Type': 'text/plain' },
      server: (side) => (side === 'consumer' ? consumer : provider),
      async restartLab(next = {}) {
        await pair.lab.close()
        if (next.confExpireSeconds !== undefined) labOptions.confExpireSeconds = next.confExpireSeconds
        if (next.regenerateIntervalMs !== undefined) labOptions.regenerateIntervalMs = next.regenerateIntervalMs
        pair.lab = await startLabServer(built.labDir, labOptions)
      },
      async close() {
        await Promise.all(servers.map((s) => s.stop()))
        await pair.lab.close()
        await sample.close()
      },
    }
    return pair
  } catch (error) {
    await Promise.all(servers.map((s) => s.stop()))
    await lab?.close()
    await sample.close()
    throw error
  }
}

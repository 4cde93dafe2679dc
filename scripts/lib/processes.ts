import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'

/** Child processes of the demo and the benchmark: started with tsx, ready on their first JSON line. */
export interface Started<T> {
  child: ChildProcess
  ready: T
  /** Peak resident set size so far (VmHWM), MiB. */
  peakRssMb(): number
  stop(): Promise<number | null>
  /** The last 4000 characters the process wrote to stderr (its log). */
  stderrTail(): string
}

const TSX_LOADER = pathToFileURL(resolve(__dirname, '../../node_modules/tsx/dist/loader.mjs')).href

export interface StartOptions<T> {
  env?: NodeJS.ProcessEnv
  timeoutMs?: number
  cwd?: string
  /** Which stdout JSON line means "ready" (default: the first JSON line); other lines are skipped. */
  isReady?: (value: unknown) => value is T
  /** Node flags before the script (startTsProcess; e.g. GATEHOUSE_NODE_FLAGS, for a server run as `npx gatehouse` runs it). */
  nodeFlags?: string[]
}

/**
 * Runs a TypeScript file in one Node process with tsx as a loader (`node --import tsx`), so the child's pid is the
 * process doing the work and its VmHWM is what it used (the tsx CLI would put a wrapper process in between).
 */
export function startTsProcess<T>(script: string, args: string[], options: StartOptions<T> = {}): Promise<Started<T>> {
  const env = { TSX_TSCONFIG_PATH: resolve(__dirname, '../../tsconfig.json'), ...options.env }
  return startNodeProcess<T>([...(options.nodeFlags ?? []), '--import', TSX_LOADER, script, ...args], { ...options, env }, script)
}

/** `node FLAGS bin/gatehouse.js …` (the built bundle with GATEHOUSE_USE_BUILD=1), with the Node flags and environment its first line asks for. */
export function startGatehouse<T>(args: string[], options: StartOptions<T> = {}): Promise<Started<T>> {
  return startNodeProcess<T>([...GATEHOUSE_NODE_FLAGS, GATEHOUSE_BIN, ...args], { ...options, env: { ...GATEHOUSE_NODE_ENV, ...options.env } }, `gatehouse ${args[0] ?? ''}`)
}

export const GATEHOUSE_BIN = resolve(__dirname, '../../bin/gatehouse.js')

const SHEBANG = /^#!\/usr\/bin\/env -S ((?:\w+=\S*\s+)*)node(.*)$/.exec(readFileSync(GATEHOUSE_BIN, 'utf8').split('\n')[0] ?? '')

/** The Node flags of bin/gatehouse.js's `#!/usr/bin/env -S [NAME=VALUE…] node FLAGS` line, so that a server started here runs as `npx gatehouse` does. */
export const GATEHOUSE_NODE_FLAGS: string[] = (SHEBANG?.[2] ?? '')
  .trim()
  .split(/\s+/)
  .filter((flag) => flag !== '')

/** The environment that line sets before `node` (glibc's allocator settings), for the same reason. */
export const GATEHOUSE_NODE_ENV: Record<string, string> = Object.fromEntries((SHEBANG?.[1] ?? '')
  .trim()
  .split(/\s+/)
  .filter((assignment) => assignment !== '')
  .map((assignment) => [assignment.slice(0, assignment.indexOf('=')), assignment.slice(assignment.indexOf('=') + 1)]))

/** `node bin/gatehouse.js …` to its end (a one-shot command such as `restore`), with `input` on its standard input. */
export function runGatehouse(args: string[], input = '', env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, [GATEHOUSE_BIN, ...args], {
    input, encoding: 'utf8', env: { ...process.env, ...env }, cwd: resolve(__dirname, '../..'), timeout: 120_000,
  })
  return { status: run.status, stdout: run.stdout, stderr: run.stderr }
}

export function startNodeProcess<T>(nodeArgs: string[], options: StartOptions<T>, name: string): Promise<Started<T>> {
  const child = spawn(process.execPath, nodeArgs, {
    env: { ...process.env, ...options.env },
    cwd: options.cwd ?? resolve(__dirname, '../..'),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stderr = ''
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)))
  const isReady = options.isReady ?? ((value: unknown): value is T => typeof value === 'object' && value !== null)
  return new Promise((resolvePromise, reject) => {
    let out = ''
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`${name} did not become ready: ${stderr}`))
    }, options.timeoutMs ?? 30_000)
    const onData = (d: Buffer): void => {
      out += d.toString()
      for (let newline = out.indexOf('\n'); newline >= 0; newline = out.indexOf('\n')) {
        const line = out.slice(0, newline)
        out = out.slice(newline + 1)
        let value: unknown
        try {
          value = JSON.parse(line)
        } catch {
          continue
        }
        if (!isReady(value)) continue
        clearTimeout(timer)
        child.stdout?.off('data', onData)
        child.stdout?.resume()
        child.removeListener('exit', onExit)
        resolvePromise({
          child,
          ready: value,
          peakRssMb: () => peakRssMb(child.pid),
          stop: () => stopProcess(child),
          stderrTail: () => stderr,
        })
        return
      }
    }
    const onExit = (code: number | null): void => {
      clearTimeout(timer)
      reject(new Error(`${name} exited with ${code}: ${stderr}`))
    }
    child.stdout?.on('data', onData)
    child.once('exit', onExit)
  })
}

export function peakRssMb(pid: number | undefined): number {
  if (pid === undefined) return 0
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0)
    return Number((kb / 1024).toFixed(1))
  } catch {
    return 0
  }
}

export function stopProcess(child: ChildProcess): Promise<number | null> {
  // A child ended by a signal has exitCode null and signalCode set; its 'exit' event will not come again.
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode)
  return new Promise((resolvePromise) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
    child.once('exit', (code) => {
      clearTimeout(timer)
      resolvePromise(code)
    })
    child.kill('SIGTERM')
  })
}

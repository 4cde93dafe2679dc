import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'

/** Child processes of the demo and the benchmark: started with tsx, ready on their first JSON line. */
export interface Started<T> {
  child: ChildProcess
  ready: T
  /** Peak resident set size so far (VmHWM), MiB. */
  peakRssMb(): number
  stop(): Promise<number | null>
}

const TSX_CLI = resolve(__dirname, '../../node_modules/tsx/dist/cli.mjs')

export function startTsProcess<T>(script: string, args: string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<Started<T>> {
  const child = spawn(process.execPath, [TSX_CLI, '--tsconfig', resolve(__dirname, '../../tsconfig.json'), script, ...args], {
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stderr = ''
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)))
  return new Promise((resolvePromise, reject) => {
    let out = ''
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`${script} did not become ready: ${stderr}`))
    }, options.timeoutMs ?? 30_000)
    const onData = (d: Buffer): void => {
      out += d.toString()
      const newline = out.indexOf('\n')
      if (newline < 0) return
      clearTimeout(timer)
      child.stdout?.off('data', onData)
      child.stdout?.resume()
      resolvePromise({
        child,
        ready: JSON.parse(out.slice(0, newline)) as T,
        peakRssMb: () => peakRssMb(child.pid),
        stop: () => stopProcess(child),
      })
    }
    child.stdout?.on('data', onData)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`${script} exited with ${code}: ${stderr}`))
    })
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
  if (child.exitCode !== null) return Promise.resolve(child.exitCode)
  return new Promise((resolvePromise) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
    child.once('exit', (code) => {
      clearTimeout(timer)
      resolvePromise(code)
    })
    child.kill('SIGTERM')
  })
}

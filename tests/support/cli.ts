import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { resolve } from 'node:path'

export const GATEHOUSE_BIN = resolve(__dirname, '../../bin/gatehouse.js')

/** Runs `gatehouse ARGS…` to completion. */
export function runGatehouse(args: string[], options: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}) {
  const result = spawnSync(process.execPath, [GATEHOUSE_BIN, ...args], {
    encoding: 'utf8',
    input: options.input,
    env: { ...process.env, ...options.env },
    timeout: options.timeoutMs ?? 60_000,
  })
  return { status: result.status, stdout: result.stdout, stderr: result.stderr }
}

/** Starts `gatehouse ARGS…` in the background and resolves with the first stdout line. */
export function startGatehouse(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ child: ChildProcess; firstLine: string; stderr: () => string }> {
  const child = spawn(process.execPath, [GATEHOUSE_BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()))
  return new Promise((resolvePromise, reject) => {
    let out = ''
    const timer = setTimeout(() => reject(new Error(`gatehouse did not start: ${stderr}`)), 30_000)
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString()
      const newline = out.indexOf('\n')
      if (newline >= 0) {
        clearTimeout(timer)
        resolvePromise({ child, firstLine: out.slice(0, newline), stderr: () => stderr })
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`gatehouse exited with ${code} before starting: ${stderr}`))
    })
  })
}

/** Waits for a child to exit; resolves with its exit code and how long it took. */
export function waitForExit(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode })
  return new Promise((resolvePromise) => child.once('exit', (code, signal) => resolvePromise({ code, signal })))
}

/** Runs `gatehouse ARGS…` without blocking this process (for a command that talks to a server this test process runs). */
export function runGatehouseAsync(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, [GATEHOUSE_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('close', (status) => resolvePromise({ status, stdout, stderr }))
  })
}

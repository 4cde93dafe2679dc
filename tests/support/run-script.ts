import { spawn, type ChildProcessByStdio } from 'node:child_process'
import type { Readable } from 'node:stream'
import { resolve } from 'node:path'

/** The repository root, where `npm run` scripts are started from. */
export const ROOT = resolve(__dirname, '../..')

export interface ScriptRun {
  code: number | null
  stdout: string
  /** The last 8 000 characters of its standard error (enough to show why it failed). */
  stderr: string
}

/** Starts `scripts/<script>` under tsx with the repository's tsconfig, as its `npm run` entry does. */
export function startScript(script: string, args: string[]): ChildProcessByStdio<null, Readable, Readable> {
  return spawn(process.execPath, [resolve(ROOT, 'node_modules/tsx/dist/cli.mjs'), '--tsconfig', resolve(ROOT, 'tsconfig.json'), resolve(ROOT, 'scripts', script), ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
}

/**
 * Runs a script to its end. The scripts bound themselves and stop what they started; `overrun` (the script's own
 * clean-up signal) is sent only when it runs past `timeoutMs`.
 */
export function runScript(script: string, args: string[], timeoutMs: number, overrun: NodeJS.Signals = 'SIGTERM'): Promise<ScriptRun> {
  const child = startScript(script, args)
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-8000)))
  return new Promise((resolveRun) => {
    const timer = setTimeout(() => child.kill(overrun), timeoutMs)
    child.once('exit', (code) => {
      clearTimeout(timer)
      resolveRun({ code, stdout, stderr })
    })
  })
}

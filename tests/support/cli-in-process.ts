import { Readable } from 'node:stream'
import { vi } from 'vitest'
import { runCli } from '../../src-main/cli/main'

/**
 * Runs `gatehouse ARGS…` in this process through the same `runCli` that bin/gatehouse.js calls, capturing what it
 * writes: the exit code, stdout and stderr a spawned CLI gives, without the second or more of process start-up (tsx
 * compiling the sources) each spawn costs. Keep a spawned `runGatehouse` (./cli) check where the process boundary itself
 * is part of what a test proves. A separate module from ./cli so that files which only spawn do not load the CLI.
 * `input` is what the command reads from standard input (`--passphrase-stdin`, `--password-stdin`).
 */
export async function runGatehouseInProcess(args: string[], options: { input?: string } = {}): Promise<{ status: number; stdout: string; stderr: string }> {
  let stdout = ''
  let stderr = ''
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += chunk.toString()
    return true
  })
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += chunk.toString()
    return true
  })
  const stdin = options.input === undefined ? undefined : vi.spyOn(process, 'stdin', 'get').mockReturnValue(Readable.from([Buffer.from(options.input)]) as typeof process.stdin)
  try {
    const status = await runCli(['node', 'gatehouse', ...args])
    return { status, stdout, stderr }
  } finally {
    out.mockRestore()
    err.mockRestore()
    stdin?.mockRestore()
  }
}

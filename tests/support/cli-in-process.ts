import { vi } from 'vitest'
import { runCli } from '../../src-main/cli/main'

/**
 * Runs `gatehouse ARGS…` in this process through the same `runCli` that bin/gatehouse.js calls, capturing what it
 * writes: the exit code, stdout and stderr a spawned CLI gives, without the second or more of process start-up (tsx
 * compiling the sources) each spawn costs. Keep a spawned `runGatehouse` (./cli) check where the process boundary itself
 * is part of what a test proves. A separate module from ./cli so that files which only spawn do not load the CLI.
 */
export async function runGatehouseInProcess(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
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
  try {
    const status = await runCli(['node', 'gatehouse', ...args])
    return { status, stdout, stderr }
  } finally {
    out.mockRestore()
    err.mockRestore()
  }
}

import { vi } from 'vitest'
import { runCli } from '../../../src-main/cli/main'

/** Runs `gatehouse ARGS…` in-process and captures what it prints on stdout. */
export async function runGatehouse(...args: string[]): Promise<{ code: number; stdout: string }> {
  let stdout = ''
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += chunk.toString()
    return true
  })
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true)
  try {
    const code = await runCli(['node', 'gatehouse', ...args])
    return { code, stdout }
  } finally {
    out.mockRestore()
    err.mockRestore()
  }
}

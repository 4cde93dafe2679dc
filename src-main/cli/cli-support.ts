import { SecurityServerError } from '../platform'

/**
 * Conventions every `gatehouse` subcommand follows: `--data-dir`, `--json` for machine-readable output,
 * exit 0 on success, 1 on a failed check or operation, 2 on usage errors.
 */
export const EXIT_OK = 0
export const EXIT_FAILED = 1
export const EXIT_USAGE = 2

/** A failure the command already explained; carries the exit code. */
export class CliExit extends Error {
  constructor(readonly exitCode: number, message = '') {
    super(message)
    this.name = 'CliExit'
  }
}

export interface OutputOptions {
  json?: boolean
}

/** Prints a result: the JSON document with `--json`, else the human-readable text. */
export function printResult(options: OutputOptions, value: unknown, text: () => string): void {
  process.stdout.write(options.json ? `${JSON.stringify(value)}\n` : `${text()}\n`)
}

const USAGE_CODES = new Set(['invalid_config', 'config_file_not_found', 'invalid_identifier', 'bad_request', 'validation_failed'])

/** Reports an error the way every command does and returns the exit code. */
export function reportError(error: unknown, options: OutputOptions = {}): number {
  if (error instanceof CliExit) {
    if (error.message) process.stderr.write(`${error.message}\n`)
    return error.exitCode
  }
  const coded = error instanceof SecurityServerError ? error : undefined
  const codeName = coded?.faultCode ?? (error as { code?: string } | undefined)?.code
  const message = error instanceof Error ? error.message : String(error)
  const exitCode = codeName !== undefined && USAGE_CODES.has(codeName) ? EXIT_USAGE : EXIT_FAILED
  if (options.json) process.stdout.write(`${JSON.stringify({ ok: false, code: codeName ?? 'internal_error', message })}\n`)
  process.stderr.write(`gatehouse: ${message}${codeName ? ` [${codeName}]` : ''}\n`)
  return exitCode
}

import pino, { type Logger as PinoLogger, type DestinationStream } from 'pino'
import { SecurityServerError } from './errors'

export type Logger = PinoLogger
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'

/**
 * Secrets and message contents never reach a log line, whatever a caller passes in
 * (reliability-and-security.md §2.2: PINs, keys and bodies are not logged).
 */
export const REDACTED_PATHS = [
  'pin', '*.pin', 'oldPin', 'newPin', '*.oldPin', '*.newPin', 'password', '*.password', 'passphrase', '*.passphrase',
  'privateKey', '*.privateKey', 'key', 'secret', '*.secret', 'apiKey', '*.apiKey', 'token', '*.token',
  'body', '*.body', 'message', 'attachment', '*.attachment', 'cookie', 'headers.cookie', 'headers.authorization',
  'req.headers.cookie', 'req.headers.authorization',
]

export function createLogger(options: { level?: LogLevel; name?: string; destination?: DestinationStream } = {}): Logger {
  return pino(
    {
      name: options.name ?? 'gatehouse',
      level: options.level ?? 'info',
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination ?? pino.destination({ fd: 2, sync: false }),
  )
}

/** A logger that writes nothing, for tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' })
}

/** Client faults are the caller's business (info); everything else is ours (error). */
export function logFailure(logger: Logger, error: unknown, context: Record<string, unknown>, what: string): void {
  if (error instanceof SecurityServerError && error.clientFault) {
    logger.info({ ...context, code: error.faultCode, detail: error.detail }, `${what}: ${error.message}`)
  } else {
    const err = error instanceof Error ? error : new Error(String(error))
    const code = error instanceof SecurityServerError ? error.faultCode : 'internal_error'
    logger.error({ ...context, code, err: { type: err.name, message: err.message, stack: err.stack } }, `${what}: ${err.message}`)
  }
}

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

/**
 * The most recent log lines of this process, as written (JSON, already redacted), for the diagnostics bundle: at most
 * `maxLines` lines and about `maxBytes` characters, the oldest dropped first.
 */
export class LogRing {
  private readonly entries: string[] = []
  private size = 0
  constructor(readonly maxLines = 2000, readonly maxBytes = 2 * 1024 * 1024) {}

  write(line: string): void {
    const text = line.endsWith('\n') ? line.slice(0, -1) : line
    this.entries.push(text)
    this.size += text.length
    while (this.entries.length > this.maxLines || (this.size > this.maxBytes && this.entries.length > 1)) {
      this.size -= (this.entries.shift() as string).length
    }
  }

  /** Oldest first. */
  lines(): string[] {
    return [...this.entries]
  }
}

/** The ring every logger made by `createLogger` writes to, unless it is given another. */
export const recentLogs = new LogRing()

/** Writes each line to the destination and keeps it in the ring. */
function teeToRing(destination: DestinationStream, ring: LogRing): DestinationStream {
  const flushable = destination as DestinationStream & { flush?: () => void; flushSync?: () => void }
  return {
    write(line: string) {
      ring.write(line)
      return destination.write(line)
    },
    ...(flushable.flush === undefined ? {} : { flush: () => flushable.flush?.() }),
    ...(flushable.flushSync === undefined ? {} : { flushSync: () => flushable.flushSync?.() }),
  } as DestinationStream
}

export function createLogger(options: { level?: LogLevel; name?: string; destination?: DestinationStream; ring?: LogRing } = {}): Logger {
  return pino(
    {
      name: options.name ?? 'gatehouse',
      level: options.level ?? 'info',
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    teeToRing(options.destination ?? pino.destination({ fd: 2, sync: false }), options.ring ?? recentLogs),
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

import { ERROR_ORIGINS, type ErrorCode, type ErrorDto, type ErrorOrigin } from '@shared/error-codes'

/**
 * The one error type of the core (X-Road's `CodedException`). Domain code throws it with a leaf code from
 * the catalogue; edges prefix where it arose (`withPrefix`) and translate it to the protocol's own format.
 */
export class SecurityServerError extends Error {
  readonly code: ErrorCode
  /** Prefixes added on the way out, outermost first, e.g. ['server.clientproxy', 'service_failed']. */
  readonly prefixes: readonly string[]
  readonly detail: string | undefined
  /** The facts behind a reason named in `detail` (names, counts), for a screen in another language than `message`'s. */
  readonly params: Readonly<Record<string, string | number>> | undefined
  /** True when the fault lies with whoever sent the input (logged at info, answered 4xx). */
  readonly clientFault: boolean

  constructor(
    code: ErrorCode,
    message: string,
    options: { cause?: unknown; detail?: string; params?: Record<string, string | number>; clientFault?: boolean; prefixes?: readonly string[] } = {},
  ) {
    super(boundedMessage(message), options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'SecurityServerError'
    this.code = code
    this.prefixes = options.prefixes ?? []
    this.detail = options.detail
    this.params = options.params
    this.clientFault = options.clientFault ?? false
  }

  /** The full dotted fault code, e.g. `server.serverproxy.access_denied`. */
  get faultCode(): string {
    return [...this.prefixes, this.code].join('.')
  }

  /** A copy with `prefix` put in front of the existing prefixes (X-Road's `withPrefix`). */
  withPrefix(prefix: string): SecurityServerError {
    const copy = new SecurityServerError(this.code, this.message, {
      cause: this.cause,
      detail: this.detail,
      params: this.params === undefined ? undefined : { ...this.params },
      clientFault: this.clientFault,
      prefixes: [prefix, ...this.prefixes],
    })
    copy.stack = this.stack
    return copy
  }

  /** The origin (first prefix) when one of X-Road's, e.g. `server.clientproxy`. */
  get origin(): ErrorOrigin | undefined {
    const first = this.prefixes[0]
    return (Object.values(ERROR_ORIGINS) as string[]).includes(first ?? '') ? (first as ErrorOrigin) : undefined
  }

  toDto(): ErrorDto {
    return {
      code: this.faultCode, message: this.message,
      ...(this.detail === undefined ? {} : { detail: this.detail }), ...(this.params === undefined ? {} : { params: { ...this.params } }),
    }
  }
}

/**
 * Longest message an error carries. Messages quote input (names, URIs, values); each parser quotes little, and this
 * is the backstop that keeps a refusal from echoing a megabyte of adversarial input into answers and logs.
 */
export const MAX_ERROR_MESSAGE_LENGTH = 1000

function boundedMessage(message: string): string {
  if (message.length <= MAX_ERROR_MESSAGE_LENGTH) return message
  return `${message.slice(0, MAX_ERROR_MESSAGE_LENGTH)}… (${message.length - MAX_ERROR_MESSAGE_LENGTH} more characters)`
}

/** A fault in the caller's input: bad request data, unknown identifiers, denied access. */
export function clientError(code: ErrorCode, message: string, options: { cause?: unknown; detail?: string } = {}): SecurityServerError {
  return new SecurityServerError(code, message, { ...options, clientFault: true })
}

/** Wraps anything thrown into a SecurityServerError, keeping coded errors as they are. */
export function toSecurityServerError(error: unknown, fallback: ErrorCode = 'internal_error'): SecurityServerError {
  if (error instanceof SecurityServerError) return error
  if (isCodedError(error)) return new SecurityServerError(error.code, error.message, { cause: error, clientFault: true })
  const message = error instanceof Error ? error.message : String(error)
  return new SecurityServerError(fallback, message, { cause: error })
}

function isCodedError(error: unknown): error is Error & { code: ErrorCode } {
  return error instanceof Error && error.name === 'IdentifierError' && typeof (error as { code?: unknown }).code === 'string'
}

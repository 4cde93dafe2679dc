import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'

/**
 * One bounded HTTP(S) request, for the server's small outbound fetches: posts to trust services (OCSP responders,
 * time-stamping authorities) and service descriptions (WSDL, OpenAPI). The deadline covers connecting, sending and
 * reading the whole answer, and an answer larger than `maxBytes` is refused while it is read (one whose declared
 * length is over it, before its first byte). Redirects are not followed (X-Road's HttpURLConnection would resend a
 * POST as a GET). On node:http, not the global `fetch`: undici's first connection compiles its WebAssembly HTTP
 * parser, which costs a Node 20 process 17–19 MB resident and 40 MB more high-water mark (README "Performance", the
 * eighth run) — the server's first time-stamp did that.
 */
export interface BoundedRequest {
  method: 'GET' | 'POST'
  headers?: Record<string, string>
  /** Sent with its Content-Length (none: no body). */
  body?: Uint8Array
  timeoutMs: number
  maxBytes: number
  /** Verify an https server's certificate against the system's CAs (default true). */
  verifyTls?: boolean
  /** Whether the body of an answer with this status is read (default: every status); one not read comes back empty and its connection is closed. */
  readBody?: (status: number) => boolean
}

export interface BoundedAnswer {
  status: number
  /** The Content-Type as sent, if any. */
  contentType: string | undefined
  /** That type's media type, lower-case, without parameters ('' when none was sent). */
  mediaType: string
  body: Buffer
}

/** Why a request got no whole answer; the callers word it in their protocol's error. */
export type RequestFailureKind = 'bad_url' | 'unreachable' | 'timeout' | 'too_large' | 'cut_short'

export class RequestFailure extends Error {
  constructor(readonly kind: RequestFailureKind, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'RequestFailure'
  }
}

export function requestBounded(url: string | URL, request: BoundedRequest): Promise<BoundedAnswer> {
  let target: URL
  try {
    target = typeof url === 'string' ? new URL(url) : url
  } catch (cause) {
    return Promise.reject(new RequestFailure('bad_url', `Invalid URL ${String(url).slice(0, 200)}`, { cause }))
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') {
    return Promise.reject(new RequestFailure('bad_url', `Unsupported URL scheme ${target.protocol}`))
  }
  const https = target.protocol === 'https:'
  const send = https ? httpsRequest : httpRequest
  return new Promise<BoundedAnswer>((resolvePromise, rejectPromise) => {
    const deadline: { timer?: NodeJS.Timeout } = {}
    const settle = (): void => clearTimeout(deadline.timer)
    const reject = (error: RequestFailure): void => {
      settle()
      rejectPromise(error)
    }
    const headers: Record<string, string | number> = { ...request.headers }
    if (request.body !== undefined) headers['Content-Length'] = request.body.byteLength
    const options = { method: request.method, headers, ...(https ? { rejectUnauthorized: request.verifyTls ?? true } : {}) }
    const req = send(target, options, (res) => {
      const status = res.statusCode ?? 0
      const contentType = res.headers['content-type']
      const answer = (body: Buffer): void => {
        settle()
        resolvePromise({ status, contentType, mediaType: (contentType ?? '').split(';')[0]!.trim().toLowerCase(), body })
      }
      if (request.readBody !== undefined && !request.readBody(status)) {
        // Closed, not drained: a body nobody reads must not keep the connection (and its sender) going past the answer.
        answer(Buffer.alloc(0))
        req.destroy()
        return
      }
      const tooLarge = (): RequestFailure => new RequestFailure('too_large', `The answer is larger than ${request.maxBytes} bytes`)
      if (Number(res.headers['content-length'] ?? 0) > request.maxBytes) {
        req.destroy(tooLarge())
        return
      }
      const chunks: Buffer[] = []
      let size = 0
      res.on('data', (chunk: Buffer) => {
        size += chunk.length
        if (size > request.maxBytes) {
          req.destroy(tooLarge())
          return
        }
        chunks.push(chunk)
      })
      res.on('end', () => {
        if (size <= request.maxBytes) answer(Buffer.concat(chunks, size))
      })
      res.on('aborted', () => reject(new RequestFailure('cut_short', 'The answer was cut short')))
      res.on('error', (error) => reject(error instanceof RequestFailure ? error : new RequestFailure('cut_short', `The answer was cut short: ${error.message}`, { cause: error })))
    })
    deadline.timer = setTimeout(() => req.destroy(new RequestFailure('timeout', `No answer within ${request.timeoutMs} ms`)), request.timeoutMs)
    req.on('error', (error) => reject(error instanceof RequestFailure ? error : new RequestFailure('unreachable', error.message, { cause: error })))
    req.end(request.body)
  })
}

import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'

/**
 * One bounded HTTP(S) POST, for the server's small outbound requests to trust services (OCSP responders, time-stamping
 * authorities): the deadline covers connecting, sending and reading the whole answer, and an answer larger than
 * `maxBytes` is refused while it is read (one whose declared length is over it, before its first byte). Redirects
 * are not followed (X-Road's HttpURLConnection would resend a POST as a GET). On node:http, not the global `fetch`:
 * undici's first connection compiles its WebAssembly HTTP parser, which costs a Node 20 process 17–19 MB resident and
 * 40 MB more high-water mark (README "Performance", the eighth run) — the server's first time-stamp did that.
 */
export interface BoundedPost {
  contentType: string
  accept?: string
  body: Uint8Array
  timeoutMs: number
  maxBytes: number
}

export interface PostAnswer {
  status: number
  /** The media type, lower-case, without parameters ('' when none was sent). */
  mediaType: string
  body: Buffer
}

/** Why a POST got no whole answer; the callers word it in their protocol's error. */
export type PostFailureKind = 'bad_url' | 'unreachable' | 'timeout' | 'too_large' | 'cut_short'

export class PostFailure extends Error {
  constructor(readonly kind: PostFailureKind, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'PostFailure'
  }
}

export function postBounded(url: string, request: BoundedPost): Promise<PostAnswer> {
  let target: URL
  try {
    target = new URL(url)
  } catch (cause) {
    return Promise.reject(new PostFailure('bad_url', `Invalid URL ${url.slice(0, 200)}`, { cause }))
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') {
    return Promise.reject(new PostFailure('bad_url', `Unsupported URL scheme ${target.protocol}`))
  }
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest
  return new Promise<PostAnswer>((resolvePromise, rejectPromise) => {
    const deadline: { timer?: NodeJS.Timeout } = {}
    const settle = (): void => clearTimeout(deadline.timer)
    const reject = (error: PostFailure): void => {
      settle()
      rejectPromise(error)
    }
    const headers: Record<string, string | number> = { 'Content-Type': request.contentType, 'Content-Length': request.body.byteLength }
    if (request.accept !== undefined) headers.Accept = request.accept
    const req = send(target, { method: 'POST', headers }, (res) => {
      const tooLarge = (): PostFailure => new PostFailure('too_large', `The answer is larger than ${request.maxBytes} bytes`)
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
        if (size > request.maxBytes) return
        settle()
        const mediaType = (res.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()
        resolvePromise({ status: res.statusCode ?? 0, mediaType, body: Buffer.concat(chunks, size) })
      })
      res.on('aborted', () => reject(new PostFailure('cut_short', 'The answer was cut short')))
      res.on('error', (error) => reject(error instanceof PostFailure ? error : new PostFailure('cut_short', `The answer was cut short: ${error.message}`, { cause: error })))
    })
    deadline.timer = setTimeout(() => req.destroy(new PostFailure('timeout', `No answer within ${request.timeoutMs} ms`)), request.timeoutMs)
    req.on('error', (error) => reject(error instanceof PostFailure ? error : new PostFailure('unreachable', error.message, { cause: error })))
    req.end(request.body)
  })
}

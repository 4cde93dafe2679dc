import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http'
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https'
import { SecurityServerError } from '../../platform'
import type { ServiceCall, ServiceClient, ServiceResponse } from '../proxy-deps'
import { headerValueFromWire, headerValueToWire } from '../rest/rest-headers'
import { bodyChunks, writeRequestBody } from './http-support'

/**
 * The provider side's connection to its services (xroad-protocols.md §4.3 "call the service"): plain HTTP or HTTPS
 * with pooled keep-alive connections, the per-service timeout (`timeoutSeconds`) and the per-service TLS verification
 * flag (`sslVerify`; off ⇒ any certificate, as X-Road's `sslAuthentication=false`). Failures carry the codes X-Road's
 * `translateException` gives the HTTP client's exceptions (`network_error` for a socket failure, `io_error` for a
 * timeout), never a hung request; the pipelines add what X-Road adds (`service_failed.` on the SOAP path only).
 */
export interface ServiceClientOptions {
  /** Largest service response read (default 64 MiB); a larger one fails the call. */
  maxResponseBytes?: number
  maxSocketsPerHost?: number
}

export interface ClosableServiceClient extends ServiceClient {
  close(): void
}

/** Hop-by-hop headers (RFC 9110 §7.6.1) never copied to the service. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'host', 'content-length'])

const BODY_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH'])

const ORIGIN = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i

/** What follows `scheme://authority` in a URL string, `/` when nothing does. */
function rawPathAndQuery(url: string, origin: string | undefined): string {
  const rest = origin === undefined ? url : url.slice(origin.length)
  const withoutFragment = rest.split('#')[0] as string
  return withoutFragment === '' ? '/' : withoutFragment.startsWith('?') ? `/${withoutFragment}` : withoutFragment
}

/** Where a service address points: what `http.request` takes from it besides the path (as `url.urlToHttpOptions` gives it). */
interface ServiceTarget {
  https: boolean
  protocol: string
  hostname: string
  port: number | undefined
  auth: string | undefined
}

/**
 * The target of `url` (WHATWG parsing of `address`: the whole of `url` or its `scheme://authority`), or the error for a
 * malformed or unsupported address. For http(s) only the scheme, authority and port states of the URL parser can fail,
 * so the prefix decides it whatever follows: the client keeps targets by that prefix (a REST service's calls share it,
 * their paths differ), at most `TARGETS_KEPT`; an address without `://` is parsed whole each time, as is a bad one.
 */
function parseTarget(url: string, address: string): ServiceTarget | SecurityServerError {
  let parsed: URL
  try {
    parsed = new URL(address)
  } catch (cause) {
    return serviceFailed('service_malformed_url', `Malformed service address '${url.slice(0, 200)}'`, cause)
  }
  const https = parsed.protocol === 'https:'
  if (!https && parsed.protocol !== 'http:') return serviceFailed('service_malformed_url', `Unsupported service URL scheme ${parsed.protocol}`)
  let auth: string | undefined
  try {
    auth = parsed.username !== '' || parsed.password !== '' ? `${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}` : undefined
  } catch (cause) {
    return serviceFailed('service_malformed_url', `Malformed user information in service address '${url.slice(0, 200)}'`, cause)
  }
  return {
    https, protocol: parsed.protocol, hostname: parsed.hostname.startsWith('[') ? parsed.hostname.slice(1, -1) : parsed.hostname,
    port: parsed.port === '' ? undefined : Number(parsed.port), auth,
  }
}

const TARGETS_KEPT = 256

export function createServiceClient(options: ServiceClientOptions = {}): ClosableServiceClient {
  const maxResponseBytes = options.maxResponseBytes ?? 64 * 1024 * 1024
  const maxSockets = options.maxSocketsPerHost ?? 64
  const httpAgent = new HttpAgent({ keepAlive: true, maxSockets, scheduling: 'lifo' })
  const verifyingAgent = new HttpsAgent({ keepAlive: true, maxSockets, scheduling: 'lifo', rejectUnauthorized: true })
  const trustingAgent = new HttpsAgent({ keepAlive: true, maxSockets, scheduling: 'lifo', rejectUnauthorized: false })

  const targets = new Map<string, ServiceTarget>()

  function targetOf(url: string, origin: string | undefined): ServiceTarget | SecurityServerError {
    if (origin === undefined) return parseTarget(url, url)
    const kept = targets.get(origin)
    if (kept !== undefined) return kept
    const target = parseTarget(url, origin)
    if (target instanceof SecurityServerError) return target
    if (targets.size >= TARGETS_KEPT) targets.clear()
    targets.set(origin, target)
    return target
  }

  function call(request: ServiceCall): Promise<ServiceResponse> {
    const origin = ORIGIN.exec(request.url)?.[0]
    const target = targetOf(request.url, origin)
    if (target instanceof SecurityServerError) return Promise.reject(target)
    const https = target.https
    const headers: Record<string, string | string[]> = {}
    for (const [name, value] of request.headers) {
      const lower = name.toLowerCase()
      if (HOP_BY_HOP.has(lower)) continue
      const existing = headers[lower]
      const wire = headerValueToWire(value)
      headers[lower] = existing === undefined ? wire : [...(Array.isArray(existing) ? existing : [existing]), wire]
    }
    // ServerRestMessageProcessor: only POST, PUT and PATCH (Apache's `HttpEntityEnclosingRequest`) carry the body.
    const body = request.body !== undefined && request.body.size > 0 && BODY_METHODS.has(request.method.toUpperCase()) ? request.body : undefined
    if (body !== undefined) headers['content-length'] = String(body.size)
    const path = rawPathAndQuery(request.url, origin)
    // Node refuses to write a request target with a space or control character (as X-Road's `URI.create` would).
    if (/[^\u0021-\u00ff]/.test(path)) return Promise.reject(serviceFailed('network_error', 'The service path contains characters that cannot be sent'))
    const send = https ? httpsRequest : httpRequest
    const agent = https ? (request.sslVerify ? verifyingAgent : trustingAgent) : httpAgent

    return new Promise((resolve, reject) => {
      let settled = false
      const fail = (error: SecurityServerError): void => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        req.destroy()
        reject(error)
      }
      // The service timeout, as X-Road's socket timeout towards the service, runs while nothing moves either way.
      const timer = setTimeout(
        // SocketTimeoutException is an IOException: X-Road's `io_error`.
        () => fail(serviceFailed('io_error', `Service did not answer within ${request.timeoutMs} ms`)),
        Math.max(1, request.timeoutMs),
      )
      const progress = (): void => {
        if (!settled) timer.refresh()
      }
      // The path and query as given, not as WHATWG URL parsing would rewrite them (dot segments resolved, `%2e`
      // decoded): the service receives the raw path, as from X-Road (`ServerRestMessageProcessor` builds the request
      // from the address string).
      const req = send({
        protocol: target.protocol, hostname: target.hostname, port: target.port, auth: target.auth, path, method: request.method, headers, agent,
      })
      req.once('error', (error: Error & { code?: string }) => {
        // X-Road's XrdRuntimeException.systemException: UnknownHostException is unknown_host, other socket failures network_error.
        const code = error.code === 'ENOTFOUND' || error.code === 'EAI_AGAIN' ? 'unknown_host' : 'network_error'
        fail(serviceFailed(code, `Calling the service failed: ${error.code ?? error.message}`, error))
      })
      req.once('response', (res: IncomingMessage) => {
        const header = res.headers['content-length']
        const declared = header === undefined ? undefined : Number(header)
        // The response is received as it arrives: hashed, spooled past the budget's threshold, its limits applied.
        request.response.bodies
          .receive(readResponse(res, progress), {
            ...(declared === undefined || !Number.isSafeInteger(declared) ? {} : { declaredLength: declared }),
            limits: [{ maxBytes: maxResponseBytes, error: () => serviceFailed('body_too_large', `Service response exceeds ${maxResponseBytes} bytes`) }, ...request.response.limits],
          })
          .then(
            (received) => {
              if (settled) {
                received.release()
                return
              }
              settled = true
              clearTimeout(timer)
              const list: Array<[string, string]> = []
              for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) list.push([res.rawHeaders[i] as string, headerValueFromWire(res.rawHeaders[i + 1] as string)])
              resolve({ status: res.statusCode ?? 502, reason: headerValueFromWire(res.statusMessage ?? ''), headers: list, body: received })
            },
            (error: unknown) => fail(error instanceof SecurityServerError ? error : serviceFailed('network_error', 'Reading the service response failed', error)),
          )
      })
      if (body === undefined) req.end()
      else writeRequestBody(req, body, progress).catch((error: unknown) => fail(error instanceof SecurityServerError ? error : serviceFailed('network_error', 'Sending the body to the service failed', error)))
    })
  }

  return {
    call,
    close() {
      httpAgent.destroy()
      verifyingAgent.destroy()
      trustingAgent.destroy()
    },
  }
}

async function* readResponse(res: IncomingMessage, progress: () => void): AsyncIterable<Buffer> {
  try {
    for await (const chunk of bodyChunks(res, true)) {
      progress()
      yield chunk as Buffer
    }
  } catch (error) {
    throw serviceFailed('network_error', 'Reading the service response failed', error)
  }
}

/** A failed service call; the pipelines add their prefixes (`server.serverproxy`, and `service_failed` for SOAP). */
function serviceFailed(code: 'network_error' | 'unknown_host' | 'io_error' | 'body_too_large' | 'service_malformed_url', message: string, cause?: unknown): SecurityServerError {
  return new SecurityServerError(code, message, { cause })
}

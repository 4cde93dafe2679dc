import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http'
import type { Server as HttpsServer } from 'node:https'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { clientError, SecurityServerError } from '../../platform'
import { headerValueFromWire, headerValueToWire, type HeaderList } from '../rest/rest-headers'

/**
 * What the proxy's listeners share: bounded body reading with a deadline, slow-client protection (headers and
 * request timeouts, initial idle time, connection cap; reliability-and-security.md §1.8, B7, B8), header lists and
 * writing a pipeline response.
 */
export type AnyServer = HttpServer | HttpsServer

export interface ListenerLimits {
  /** Largest accepted request body in bytes (B7); a larger one is refused unread. */
  maxBodyBytes: number
  /** Complete request headers must arrive within this (Node `headersTimeout`; slowloris, B8). */
  headersTimeoutMs: number
  /** The whole request, headers and body, must arrive within this (Node `requestTimeout`, our body deadline). */
  requestTimeoutMs: number
  /** A connection that sends no request within this is closed (`server-connector-initial-idle-time`, 30 s). */
  initialIdleMs: number
  /** Idle keep-alive connections are closed after this. */
  keepAliveTimeoutMs: number
  /** At most this many open connections (`anti-dos.max-parallel-connections`). */
  maxConnections: number
}

export const DEFAULT_LISTENER_LIMITS: ListenerLimits = {
  maxBodyBytes: 64 * 1024 * 1024,
  headersTimeoutMs: 30_000,
  requestTimeoutMs: 60_000,
  initialIdleMs: 30_000,
  keepAliveTimeoutMs: 60_000,
  maxConnections: 5000,
}

export interface RunningListener {
  host: string
  port: number
  /** Stops accepting, closes idle connections, waits for the rest. */
  close(): Promise<void>
}

/** Applies the limits to a Node HTTP(S) server; each connection gets the initial-idle deadline. */
export function applyServerLimits(server: AnyServer, limits: ListenerLimits, connectionEvent: 'connection' | 'secureConnection'): void {
  server.headersTimeout = limits.headersTimeoutMs
  server.requestTimeout = limits.requestTimeoutMs
  server.keepAliveTimeout = limits.keepAliveTimeoutMs
  server.maxConnections = limits.maxConnections
  const idle = new WeakMap<Socket, NodeJS.Timeout>()
  server.on(connectionEvent, (socket: Socket) => {
    const timer = setTimeout(() => socket.destroy(), limits.initialIdleMs)
    timer.unref()
    idle.set(socket, timer)
    socket.once('close', () => clearTimeout(timer))
  })
  server.on('request', (req: IncomingMessage) => {
    const timer = idle.get(req.socket)
    if (timer !== undefined) {
      clearTimeout(timer)
      idle.delete(req.socket)
    }
  })
}

/** Node checks `headersTimeout`/`requestTimeout` on this interval; it must be finer than the limits. */
export function checkingIntervalMs(limits: ListenerLimits): number {
  return Math.max(50, Math.min(1000, Math.floor(Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs) / 4)))
}

/**
 * Reads the body up to `maxBytes` and before `deadline`: a declared or actual larger body is `body_too_large`
 * (never buffered further), a slow body is `timeout`. The caller closes the connection on either.
 */
export function readBody(req: IncomingMessage, maxBytes: number, deadlineMs: number): Promise<Buffer> {
  const declared = req.headers['content-length']
  if (declared !== undefined && Number(declared) > maxBytes) {
    return Promise.reject(clientError('body_too_large', `Request body of ${declared} bytes exceeds the limit of ${maxBytes} bytes`))
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    let done = false
    const finish = (error?: Error): void => {
      if (done) return
      done = true
      clearTimeout(timer)
      req.off('data', onData)
      if (error === undefined) resolve(Buffer.concat(chunks, size))
      else {
        req.pause()
        reject(error)
      }
    }
    const timer = setTimeout(() => finish(clientError('timeout', `Request body not received within ${deadlineMs} ms`)), deadlineMs)
    const onData = (chunk: Buffer): void => {
      size += chunk.length
      if (size > maxBytes) finish(clientError('body_too_large', `Request body exceeds the limit of ${maxBytes} bytes`))
      else chunks.push(chunk)
    }
    req.on('data', onData)
    req.once('end', () => finish())
    req.once('error', (error) => finish(clientError('io_error', 'Reading the request body failed', { cause: error })))
    req.once('close', () => {
      if (!req.complete) finish(clientError('io_error', 'The client closed the connection before sending the whole body'))
    })
  })
}

/** The request's headers in order, as received (duplicates kept), values decoded as text (`headerValueFromWire`). */
export function headerList(req: IncomingMessage): HeaderList {
  const list: HeaderList = []
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) list.push([req.rawHeaders[i] as string, headerValueFromWire(req.rawHeaders[i + 1] as string)])
  return list
}

/** Writes a pipeline response; `close` ends the connection after it (after an error that left the body unread). */
export function writeResponse(res: ServerResponse, response: { status: number; headers: HeaderList; body: Uint8Array }, close = false): void {
  if (res.headersSent || res.destroyed) return
  for (const [name, value] of response.headers) {
    if (name.toLowerCase() === 'content-length' || name.toLowerCase() === 'transfer-encoding' || name.toLowerCase() === 'connection') continue
    res.appendHeader(name, headerValueToWire(value))
  }
  res.setHeader('Content-Length', response.body.byteLength)
  if (close) res.setHeader('Connection', 'close')
  res.writeHead(response.status)
  res.end(response.body)
  if (close) res.once('finish', () => res.socket?.destroySoon())
}

/**
 * `CONNECT` never reaches the request handler (Node emits `connect` and, with no listener, closes the socket): the
 * proxies do not tunnel, so it is answered 405 with the listener's own error body (RFC 9110 §9.3.6, §15.5.6; never a
 * 2xx, which would open a tunnel) and the connection closed.
 */
export function answerConnect(server: AnyServer, answer: () => { headers: HeaderList; body: Uint8Array }): void {
  server.on('connect', (_req: IncomingMessage, socket: Duplex) => {
    const { headers, body } = answer()
    const head = [
      'HTTP/1.1 405 Method Not Allowed',
      ...headers.filter(([name]) => !/^(content-length|connection)$/i.test(name)).map(([name, value]) => `${name}: ${headerValueToWire(value)}`),
      'Allow: GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS',
      `Content-Length: ${body.byteLength}`,
      'Connection: close',
      '',
      '',
    ].join('\r\n')
    socket.on('error', () => undefined)
    socket.end(Buffer.concat([Buffer.from(head, 'latin1'), Buffer.from(body)]))
  })
}

/** A body-read failure leaves unread bytes on the connection: it must not be reused. */
export function isBodyFailure(error: unknown): boolean {
  return error instanceof SecurityServerError && (error.code === 'body_too_large' || error.code === 'timeout' || error.code === 'io_error')
}

export function listen(server: AnyServer, host: string, port: number): Promise<{ host: string; port: number }> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      const address = server.address()
      resolve({ host, port: typeof address === 'object' && address !== null ? address.port : port })
    })
  })
}

/**
 * Stops accepting, closes idle connections at once, keep-alive connections as soon as their request is answered, and
 * the busy ones after `graceMs`.
 */
export function closeServer(server: AnyServer, graceMs = 1000): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => server.closeAllConnections(), graceMs)
    force.unref()
    // A connection that finishes its request after close() stays open as keep-alive; it must not hold the stop up.
    const sweep = setInterval(() => server.closeIdleConnections(), 20)
    sweep.unref()
    server.close(() => {
      clearTimeout(force)
      clearInterval(sweep)
      resolve()
    })
    server.closeIdleConnections()
  })
}

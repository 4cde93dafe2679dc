import type { ClientRequest, IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http'
import type { Server as HttpsServer } from 'node:https'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { clientError, noteTransientBytes, SecurityServerError } from '../../platform'
import { bufferSource, type BodySource, type IncomingBody } from '../body/message-body'
import { headerValueFromWire, headerValueToWire, type HeaderList } from '../rest/rest-headers'

/**
 * What the proxy's listeners share: the request body handed on as a stream with its deadline, slow-client protection
 * (headers and request timeouts, initial idle time, connection cap; reliability-and-security.md §1.8, B7, B8), header
 * lists and writing a pipeline response as a stream.
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
  // `Expect: 100-continue` requests go to the request handler too, which says "continue" only when it reads the body
  // (`incomingBody`); without this listener Node would let every client send its body before any check.
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => server.emit('request', req, res))
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
 * The request body as the pipelines take it: the stream itself (nothing is read here), its declared length, the
 * listener's size limit, and the body deadline — a body not complete within `deadlineMs` ends the stream with
 * `timeout`, a client that goes away mid-body with `io_error`. A client that sent `Expect: 100-continue` is told to
 * send its body only when the pipeline starts reading it (RFC 9110 §10.1.1): a request refused before never sends it.
 * A pipeline that stops reading early leaves the request as it is for `settleUnread`.
 */
export function incomingBody(req: IncomingMessage, res: ServerResponse, maxBytes: number, deadlineMs: number): IncomingBody {
  const header = req.headers['content-length']
  const declared = header === undefined ? undefined : Number(header)
  const timer = setTimeout(() => req.destroy(clientError('timeout', `Request body not received within ${deadlineMs} ms`)), deadlineMs)
  timer.unref()
  bodyDeadlines.set(req, timer)
  req.once('end', () => clearTimeout(timer))
  req.once('close', () => clearTimeout(timer))
  return {
    stream: guarded(req, () => {
      if (expectsContinue(req) && !res.headersSent && !continued.has(req)) {
        continued.add(req)
        res.writeContinue()
      }
    }),
    ...(declared === undefined || !Number.isSafeInteger(declared) ? {} : { declaredLength: declared }),
    maxBytes,
  }
}

/** The body deadline of each request (cleared once its answer is decided, `settleUnread`). */
const bodyDeadlines = new WeakMap<IncomingMessage, NodeJS.Timeout>()

/** Requests told to send their body (`100 Continue`). */
const continued = new WeakSet<IncomingMessage>()

function expectsContinue(req: IncomingMessage): boolean {
  return /^100-continue$/i.test(req.headers.expect ?? '')
}

async function* guarded(req: IncomingMessage, onFirstRead: () => void): AsyncIterable<Buffer> {
  onFirstRead()
  try {
    yield* bodyChunks(req)
  } catch (error) {
    if (error instanceof SecurityServerError) throw error
    throw clientError('io_error', 'The client closed the connection before sending the whole body', { cause: error })
  }
}

/**
 * The chunks of an incoming message's body, as they arrive; stopping early destroys the stream when
 * `destroyOnReturn` (as `for await` over it does), else leaves it as it is. A body that has arrived whole by the time
 * it is read (a small one usually has: it came with the head, or while the message's checks ran) is taken from the
 * stream's buffer at once (issue 15 §5: an async iterator over the stream costs its listeners, and a promise per
 * chunk, on every exchange).
 */
export async function* bodyChunks(message: IncomingMessage, destroyOnReturn = false): AsyncGenerator<Buffer> {
  // Read as the head arrives (the server proxy reads at once), a body that came in the same packet is not parsed yet:
  // it is once the parser's caller returns, before the next microtask.
  if (!message.complete) await Promise.resolve()
  if (message.complete && !message.destroyed && message.readableFlowing !== true) {
    let ended = false
    try {
      // read() hands over what is buffered, and at the end of the buffer lets the stream end ('end' follows).
      for (let chunk = message.read() as Buffer | null; chunk !== null; chunk = message.read() as Buffer | null) yield chunk
      ended = message.readableLength === 0
    } finally {
      if (!ended && destroyOnReturn) message.destroy()
    }
    if (ended) return
  }
  for await (const chunk of message.iterator({ destroyOnReturn })) yield chunk as Buffer
}

/** How long the rest of a refused body is read and dropped, at most, before the answer goes out on a closing connection. */
export const LINGER_MS = 30_000
/**
 * A refused body that stops arriving for this long is not waited for any more: Apache httpd's lingering close
 * (`SECONDS_TO_LINGER`, 2 s a read). Shorter gaps are normal for a busy sender of many bodies at once, and closing on
 * one makes its next write fail (EPIPE) before it reads the answer.
 */
export const LINGER_IDLE_MS = 2_000

/** The linger's idle time on a listener: within a quarter of its request timeout, which Node enforces during the linger too. */
export function lingerIdleMs(limits: Pick<ListenerLimits, 'requestTimeoutMs'>): number {
  return Math.min(LINGER_IDLE_MS, Math.floor(limits.requestTimeoutMs / 4))
}

/**
 * Before answering a request whose body was not read in full (refused early): the rest is read and dropped — never
 * kept — while it keeps arriving (gaps under `LINGER_IDLE_MS`, `LINGER_MS` in all), so that a client still sending
 * gets to read the answer on a connection it can keep instead of a reset mid-upload (Node closes a connection
 * answered before its request ended). Resolves whether the request ended; if not, the answer must close the
 * connection. A client that was never told to continue (`Expect: 100-continue`) sends nothing more and is answered at
 * once.
 */
export function settleUnread(req: IncomingMessage, lingerMs = LINGER_MS, idleMs = LINGER_IDLE_MS): Promise<boolean> {
  if (req.complete) return Promise.resolve(true)
  if (req.destroyed || (expectsContinue(req) && !continued.has(req))) return Promise.resolve(false)
  // The answer is decided: the body deadline no longer applies, the linger bounds the wait.
  clearTimeout(bodyDeadlines.get(req))
  return new Promise((resolve) => {
    let dropped = 0
    const onData = (chunk: Buffer): void => {
      dropped += chunk.length
      noteTransientBytes(chunk.length, dropped)
      idle.refresh()
    }
    const done = (): void => {
      clearTimeout(total)
      clearTimeout(idle)
      req.off('data', onData)
      req.off('end', done)
      req.off('close', done)
      resolve(req.complete)
    }
    const total = setTimeout(done, lingerMs)
    const idle = setTimeout(done, idleMs)
    req.once('end', done)
    req.once('close', done)
    req.on('data', onData)
    req.resume()
  })
}

/** The request's headers in order, as received (duplicates kept), values decoded as text (`headerValueFromWire`). */
export function headerList(req: IncomingMessage): HeaderList {
  const list: HeaderList = []
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) list.push([req.rawHeaders[i] as string, headerValueFromWire(req.rawHeaders[i + 1] as string)])
  return list
}

/**
 * Writes a pipeline response, streaming its body with backpressure and releasing it afterwards; `close` ends the
 * connection after it (after an error that left the request body unread). A body that fails mid-way cuts the
 * connection: the client sees fewer bytes than the Content-Length it was promised.
 */
export async function writeResponse(
  res: ServerResponse, response: { status: number; headers: HeaderList; body: Uint8Array | BodySource }, close = false,
): Promise<void> {
  const body = response.body instanceof Uint8Array ? bufferSource(response.body) : response.body
  try {
    if (res.headersSent || res.destroyed) return
    for (const [name, value] of response.headers) {
      const lower = name.toLowerCase()
      if (lower === 'content-length' || lower === 'transfer-encoding' || lower === 'connection') continue
      res.appendHeader(name, headerValueToWire(value))
    }
    res.setHeader('Content-Length', body.size)
    if (close) res.setHeader('Connection', 'close')
    res.writeHead(response.status)
    if (!(await writeAndEnd(res, body))) return
    if (close) res.once('finish', () => res.socket?.destroySoon())
  } catch {
    res.destroy()
  } finally {
    body.release()
  }
}

/** Writes a request body with backpressure and ends the request; stops when the request is destroyed. */
export async function writeRequestBody(req: ClientRequest, body: BodySource, progress: () => void = () => undefined): Promise<void> {
  await writeAndEnd(req, body, progress)
}

/** Largest in-memory message `writeAndEnd` writes in one step (one socket buffer's worth). */
const ONE_STEP_MAX_BYTES = 64 * 1024

/**
 * Issue 15 §5 "one write per response": the head and the chunks a body yields within one turn of the event loop (a
 * transport multipart is a dozen: boundaries, part headers, header part, body, signature) leave as one socket write —
 * over TLS one encryption and one record batch — instead of one write and record each. The stream is corked from its
 * first chunk of a turn until the turn ends or the message ends (`end()` flushes a corked message whole, with its
 * last chunk), and uncorked before waiting for a drain (a corked stream never drains). False when the stream was
 * destroyed before its end.
 */
async function writeAndEnd(out: ServerResponse | ClientRequest, body: BodySource, progress: () => void = () => undefined): Promise<boolean> {
  // A small message whose bytes are all in memory (a REST exchange's multipart, an answer) is written in one
  // synchronous step: no promise per chunk and no turn-end timer. Bounded, so that what the socket holds after the
  // body's release (its memory goes back to the budget when this returns) stays small.
  const held = body.size <= ONE_STEP_MAX_BYTES ? body.held?.() : undefined
  if (held !== undefined) {
    if (out.destroyed) return false
    out.cork()
    for (const chunk of held) if (chunk.length > 0) out.write(chunk)
    out.end()
    progress()
    return true
  }
  let corked: NodeJS.Immediate | undefined
  const uncork = (): void => {
    if (corked === undefined) return
    clearImmediate(corked)
    corked = undefined
    out.uncork()
  }
  try {
    for await (const chunk of body.chunks()) {
      if (out.destroyed) return false
      if (corked === undefined) {
        out.cork()
        corked = setImmediate(uncork)
      }
      if (!out.write(chunk)) {
        uncork()
        await drained(out)
      }
      progress()
    }
    if (out.destroyed) return false
    out.end()
    if (corked !== undefined) clearImmediate(corked)
    corked = undefined
    return true
  } finally {
    uncork()
  }
}

function drained(res: ServerResponse | ClientRequest): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done)
      res.off('close', done)
      resolve()
    }
    res.once('drain', done)
    res.once('close', done)
  })
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

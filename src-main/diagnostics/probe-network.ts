import { request as httpRequest, type IncomingMessage } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { isIP, type Socket } from 'node:net'
import { connect as tlsConnect, type ConnectionOptions, type DetailedPeerCertificate, type TLSSocket } from 'node:tls'
import { performance } from 'node:perf_hooks'
import type { ProbeStep, ProbeStepName } from '@shared/admin-api/admin-api'

/**
 * The network side of a probe, each step timed on a fresh connection (never a pooled one, so DNS, connect and TLS are
 * measured every time): an HTTP(S) exchange, or a TLS handshake alone. A failure says at which step it stopped.
 */
export const PROBE_TIMEOUT_MS = 10_000
const MAX_ANSWER_BYTES = 4 * 1024 * 1024

/** The steps of one probe, timed from `start()` to each `end()`. */
export class StepClock {
  readonly steps: ProbeStep[] = []
  private readonly started = performance.now()
  private mark = this.started

  /** Times the step since the last mark. */
  end(name: ProbeStepName, ok = true): void {
    const now = performance.now()
    this.steps.push({ name, ms: round(now - this.mark), ok })
    this.mark = now
  }

  /** Adds a step measured elsewhere (the client proxy's own timestamps). */
  add(name: ProbeStepName, ms: number, ok = true): void {
    this.steps.push({ name, ms: round(ms), ok })
    this.mark = performance.now()
  }

  /** Restarts the mark without a step (time spent on nothing worth showing). */
  skip(): void {
    this.mark = performance.now()
  }

  async time<T>(name: ProbeStepName, work: () => Promise<T> | T): Promise<T> {
    this.skip()
    try {
      const value = await work()
      this.end(name)
      return value
    } catch (error) {
      this.end(name, false)
      throw error
    }
  }

  timeSync<T>(name: ProbeStepName, work: () => T): T {
    this.skip()
    try {
      const value = work()
      this.end(name)
      return value
    } catch (error) {
      this.end(name, false)
      throw error
    }
  }

  totalMs(): number {
    return round(performance.now() - this.started)
  }
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10
}

/** What went wrong on the network, in the few words an administrator looks up (the GUI translates them). */
export type NetworkProblem = 'refused' | 'name-not-found' | 'reset' | 'no-route' | 'timed-out' | 'tls-failed' | 'other'

/** Where a network probe stopped, and why. */
export class ProbeNetworkError extends Error {
  readonly problem: NetworkProblem
  constructor(readonly stage: 'dns' | 'connect' | 'tls' | 'answer', readonly timedOut: boolean, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'ProbeNetworkError'
    this.problem = timedOut ? 'timed-out' : problemOf(options?.cause, stage)
  }
}

function problemOf(cause: unknown, stage: ProbeNetworkError['stage']): NetworkProblem {
  switch ((cause as NodeJS.ErrnoException | undefined)?.code) {
    case 'ECONNREFUSED': return 'refused'
    case 'ENOTFOUND': case 'EAI_AGAIN': return 'name-not-found'
    case 'ECONNRESET': return stage === 'tls' ? 'tls-failed' : 'reset'
    case 'EHOSTUNREACH': case 'ENETUNREACH': return 'no-route'
    case 'ETIMEDOUT': return 'timed-out'
    default: return stage === 'tls' ? 'tls-failed' : 'other'
  }
}

export interface HttpAnswer {
  status: number
  headers: IncomingMessage['headers']
  body: Buffer
}

export interface TimedHttpOptions {
  method?: 'GET' | 'POST' | 'HEAD'
  headers?: Record<string, string>
  body?: Uint8Array
  timeoutMs?: number
  /** Extra TLS options for https (e.g. `rejectUnauthorized: false` for our own listeners). */
  tls?: ConnectionOptions
}

/** One HTTP(S) exchange on a new connection, with `dns` (names only), `connect`, `tls` (https) and `answer` steps. */
export function timedHttp(url: string, clock: StepClock, options: TimedHttpOptions = {}): Promise<HttpAnswer> {
  const target = new URL(url)
  const https = target.protocol === 'https:'
  const send = https ? httpsRequest : httpRequest
  const timeoutMs = options.timeoutMs ?? PROBE_TIMEOUT_MS
  const hostname = target.hostname.replace(/^\[(.*)\]$/, '$1')
  return new Promise((resolve, reject) => {
    let stage: ProbeNetworkError['stage'] = isIP(hostname) === 0 ? 'dns' : 'connect'
    let settled = false
    clock.skip()
    const fail = (error: unknown, timedOut = false): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      clock.end(stage, false)
      req.destroy()
      reject(error instanceof ProbeNetworkError ? error : new ProbeNetworkError(stage, timedOut, describeNetworkError(error), { cause: error }))
    }
    const timer = setTimeout(() => fail(new Error(`no answer within ${Math.round(timeoutMs / 1000)} s`), true), timeoutMs)
    const headers: Record<string, string> = { ...options.headers }
    if (options.body !== undefined) headers['Content-Length'] = String(options.body.byteLength)
    const req = send(target, { method: options.method ?? 'GET', headers, agent: false, ...(https ? options.tls ?? {} : {}) }, (res) => {
      const chunks: Buffer[] = []
      let size = 0
      res.on('data', (chunk: Buffer) => {
        size += chunk.length
        if (size > MAX_ANSWER_BYTES) fail(new Error(`answer larger than ${MAX_ANSWER_BYTES / 1024 / 1024} MiB`))
        else chunks.push(chunk)
      })
      res.once('error', fail)
      res.once('end', () => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        clock.end('answer')
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) })
      })
    })
    req.once('socket', (socket: Socket) => {
      socket.once('lookup', (error: Error | null) => {
        if (error !== null || stage !== 'dns') return
        clock.end('dns')
        stage = 'connect'
      })
      socket.once('connect', () => {
        clock.end('connect')
        stage = https ? 'tls' : 'answer'
      })
      if (https) {
        socket.once('secureConnect', () => {
          clock.end('tls')
          stage = 'answer'
        })
      }
    })
    req.once('error', fail)
    req.end(options.body === undefined ? undefined : Buffer.from(options.body))
  })
}

export interface TlsHandshake {
  /** The chain the server presented, leaf first, DER. */
  chain: Uint8Array[]
  protocol: string | null
  cipher: string
}

/** A TLS handshake alone (no request), with `dns`, `connect` and `tls` steps; the presented chain is not trusted, only read. */
export function timedTlsHandshake(host: string, port: number, clock: StepClock, options: ConnectionOptions = {}, timeoutMs = PROBE_TIMEOUT_MS): Promise<TlsHandshake> {
  const hostname = host.replace(/^\[(.*)\]$/, '$1')
  return new Promise((resolve, reject) => {
    let stage: ProbeNetworkError['stage'] = isIP(hostname) === 0 ? 'dns' : 'connect'
    let settled = false
    clock.skip()
    const socket: TLSSocket = tlsConnect({
      ...options, host: hostname, port, rejectUnauthorized: false,
      // SNI only for names (RFC 6066 §3 forbids literal addresses).
      ...(isIP(hostname) === 0 ? { servername: hostname } : {}),
    })
    const fail = (error: unknown, timedOut = false): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      clock.end(stage, false)
      socket.destroy()
      reject(new ProbeNetworkError(stage, timedOut, describeNetworkError(error), { cause: error }))
    }
    const timer = setTimeout(() => fail(new Error(`no handshake within ${Math.round(timeoutMs / 1000)} s`), true), timeoutMs)
    socket.once('lookup', (error: Error | null) => {
      if (error !== null || stage !== 'dns') return
      clock.end('dns')
      stage = 'connect'
    })
    socket.once('connect', () => {
      clock.end('connect')
      stage = 'tls'
    })
    socket.once('secureConnect', () => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      clock.end('tls')
      const result = { chain: presentedChain(socket), protocol: socket.getProtocol(), cipher: socket.getCipher().name }
      socket.end()
      socket.destroy()
      resolve(result)
    })
    socket.once('error', fail)
  })
}

function presentedChain(socket: TLSSocket): Uint8Array[] {
  const chain: Uint8Array[] = []
  const seen = new Set<string>()
  let cert: DetailedPeerCertificate | undefined = socket.getPeerCertificate(true)
  while (cert !== undefined && cert.raw !== undefined && cert.raw.length > 0 && !seen.has(cert.fingerprint256)) {
    seen.add(cert.fingerprint256)
    chain.push(new Uint8Array(cert.raw))
    cert = cert.issuerCertificate
  }
  return chain
}

/** `connect ECONNREFUSED 127.0.0.1:9` → `connection refused (127.0.0.1:9)`: the words an administrator looks up. */
export function describeNetworkError(error: unknown): string {
  const e = error as NodeJS.ErrnoException & { address?: string; port?: number; hostname?: string }
  const where = e.address !== undefined ? ` (${e.address}${e.port === undefined ? '' : `:${e.port}`})` : e.hostname !== undefined ? ` (${e.hostname})` : ''
  switch (e.code) {
    case 'ECONNREFUSED': return `connection refused${where}`
    case 'ENOTFOUND': case 'EAI_AGAIN': return `name not found${where}`
    case 'ECONNRESET': return `connection reset${where}`
    case 'EHOSTUNREACH': case 'ENETUNREACH': return `no route to host${where}`
    case 'ETIMEDOUT': return `connection timed out${where}`
    default: return e.message ?? String(error)
  }
}

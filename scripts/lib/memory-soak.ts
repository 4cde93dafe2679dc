import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { formatIdPath } from '@shared/domain/identifiers'
import { silentLogger } from '../../src-main/platform'
import {
  BodyStore, MessageBudget, encodeRestTransportStream, parseRestHeaderPart, parseRestRequest, readTransportMessage, restRequestHeaderPart,
  transportRequestHeaders, XROAD_TLS_OPTIONS, type BodySource,
} from '../../src-main/proxy'
import { createSecurityServer, dataDirLayout, parseServerConfig } from '../../src-main/server'
import { SOFTWARE_TOKEN_ID } from '../../src-main/signer'
import { buildLabPair, type LabPair } from './lab-pair'
import { startLabPair, type RunningLabPair } from './lab-pair-servers'
import { startTsProcess, type Started } from './processes'

/**
 * The memory-budget soak (issue 14 §3): a lab pair of `gatehouse serve` processes behind a streaming echo service,
 * and `parallel` bodies of `bodyBytes` sent at once (a) by an information system to the consumer's client proxy and
 * (b) by a registered peer — this process, with the consumer's authentication key and signing key — straight to the
 * provider's server proxy. Each server's resident memory is measured from its own process (VmHWM reset before the
 * load and sampled during it), and every answer is classified: a success whose body came back byte for byte, or a
 * clean X-Road error (REST error with `X-Road-Error`, or a SOAP fault) — anything else (a cut connection, a success
 * with a wrong body, a crash) is `unclean`. Bounded: each scenario has a deadline.
 */
export interface MemorySoakOptions {
  bodyBytes: number
  parallel: number
  /**
   * What to send, in order, each with `message-log.message-body-logging` set on both servers (X-Road's default: on);
   * the client runs come first (a peer run stops the consumer's server to use its keys here).
   */
  runs: Array<{ scenario: 'client' | 'peer'; bodyLogging: boolean }>
  /** `memoryBudget` written to both servers' gatehouse.json (defaults otherwise). */
  memoryBudget?: { maxInFlightBytes?: number; spoolThresholdBytes?: number; maxSpoolBytes?: number }
  /** Per run. */
  deadlineMs: number
  log?: (line: string) => void
}

export interface ServerMemory {
  idleRssMb: number
  peakRssMb: number
}

export interface ScenarioResult {
  scenario: 'client' | 'peer'
  bodyLogging: boolean
  ms: number
  succeeded: number
  /** Clean X-Road errors by fault code. */
  errors: Record<string, number>
  /** Neither a success nor a clean X-Road error, with what happened. */
  unclean: string[]
  consumer: ServerMemory
  provider: ServerMemory
}

export interface MemorySoakResult {
  bodyBytes: number
  parallel: number
  memoryBudget: MemorySoakOptions['memoryBudget']
  startupMs: number
  runs: ScenarioResult[]
}

const SAMPLE_SERVICE = resolve(__dirname, 'sample-service-main.ts')
const PATTERN = Buffer.alloc(1024 * 1024)
for (let i = 0; i < PATTERN.length; i++) PATTERN[i] = (i * 131 + 7) & 0xff

/** `size` bytes of a fixed pattern, generated as they are read (nothing of that size is ever held). */
function patternSource(size: number): BodySource {
  return {
    size,
    async *chunks() {
      for (let sent = 0; sent < size; sent += PATTERN.length) yield PATTERN.subarray(0, Math.min(PATTERN.length, size - sent))
    },
    release: () => undefined,
  }
}

function patternDigest(size: number): Buffer {
  const hash = createHash('sha512')
  for (let sent = 0; sent < size; sent += PATTERN.length) hash.update(PATTERN.subarray(0, Math.min(PATTERN.length, size - sent)))
  return hash.digest()
}

function status(pid: number): string {
  return readFileSync(`/proc/${pid}/status`, 'utf8')
}

function kb(text: string, field: string): number {
  return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(text)?.[1] ?? 0)
}

/** Resets the process's peak RSS (Linux: clear_refs 5) and samples its RSS every 20 ms until stopped. */
function watchMemory(pid: number): { stop(): ServerMemory } {
  const idle = kb(status(pid), 'VmRSS')
  writeFileSync(`/proc/${pid}/clear_refs`, '5')
  let peak = idle
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, kb(status(pid), 'VmRSS'))
    } catch {
      // The process is gone: its answers will say so.
    }
  }, 20)
  return {
    stop() {
      clearInterval(timer)
      let hwm = 0
      try {
        hwm = kb(status(pid), 'VmHWM')
      } catch {
        // gone
      }
      const mb = (k: number): number => Number((k / 1024).toFixed(1))
      return { idleRssMb: mb(idle), peakRssMb: mb(Math.max(peak, hwm)) }
    },
  }
}

type Outcome = { kind: 'ok' } | { kind: 'error'; code: string } | { kind: 'unclean'; what: string }

/** Writes a source with backpressure. */
async function writeSource(req: import('node:http').ClientRequest, source: BodySource): Promise<void> {
  for await (const chunk of source.chunks()) {
    if (req.destroyed) return
    if (!req.write(chunk)) {
      await new Promise<void>((r) => {
        const done = (): void => {
          req.off('drain', done)
          req.off('close', done)
          r()
        }
        req.once('drain', done)
        req.once('close', done)
      })
    }
  }
  req.end()
}

/** An information system's POST of the pattern through the consumer's client proxy, the answer hashed as it arrives. */
function clientCall(url: string, client: string, size: number, expected: Buffer, timeoutMs: number): Promise<Outcome> {
  return new Promise((resolvePromise) => {
    let settled = false
    const settle = (outcome: Outcome): void => {
      if (settled) return
      settled = true
      resolvePromise(outcome)
    }
    const req = httpRequest(url, { method: 'POST', agent: false, headers: { 'X-Road-Client': client, 'Content-Type': 'application/octet-stream', 'Content-Length': String(size) } }, (res) => {
      const hash = createHash('sha512')
      let got = 0
      const error = res.headers['x-road-error']
      const text: Buffer[] = []
      res.on('data', (c: Buffer) => {
        got += c.length
        if (error === undefined) hash.update(c)
        else if (got < 64 * 1024) text.push(c)
      })
      res.once('error', (e) => settle({ kind: 'unclean', what: `response broke: ${e.message}` }))
      res.once('end', () => {
        if (typeof error === 'string') {
          const body = Buffer.concat(text).toString('utf8')
          settle(/"type"\s*:/.test(body) ? { kind: 'error', code: error } : { kind: 'unclean', what: `X-Road-Error ${error} without an error body` })
        } else if (res.statusCode === 200 && got === size && hash.digest().equals(expected)) settle({ kind: 'ok' })
        else settle({ kind: 'unclean', what: `HTTP ${res.statusCode ?? 0} with ${got} bytes and no X-Road-Error` })
      })
    })
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)))
    req.once('error', (e) => settle({ kind: 'unclean', what: `request failed: ${e.message}` }))
    void writeSource(req, patternSource(size))
  })
}

interface PeerIdentity {
  sign(headerPart: Buffer, bodyDigest: Buffer): Promise<{ signatureXml: Buffer; hashChainResult?: Buffer; hashChain?: Buffer }>
  ocspResponses: Buffer[]
  tls: { key: string; cert: string }
  close(): Promise<void>
}

/** The consumer's keys in this process (its server stopped first): the registered peer of scenario (b). */
async function consumerIdentity(pair: LabPair): Promise<PeerIdentity> {
  const config = parseServerConfig(JSON.parse(readFileSync(dataDirLayout(pair.consumer.dataDir).configFile, 'utf8')) as unknown, 'memory soak')
  const server = createSecurityServer({ dataDir: pair.consumer.dataDir, config, logger: silentLogger() })
  const { signer } = server.core
  await signer.login(SOFTWARE_TOKEN_ID, pair.pin)
  await signer.refreshOcsp()
  const auth = await signer.getAuthKey()
  const certPem = `-----BEGIN CERTIFICATE-----\n${Buffer.from(auth.certDer).toString('base64').replace(/.{64}/g, '$&\n')}\n-----END CERTIFICATE-----\n`
  return {
    sign: async (headerPart, bodyDigest) => {
      const signed = await signer.signMessage(pair.consumer.subsystem, [
        { name: '/message.xml', bytes: headerPart }, { name: '/attachment1', digest: bodyDigest, digestAlgorithm: 'SHA-512' },
      ])
      return { signatureXml: signed.signatureXml, ...(signed.hashChainResult === undefined ? {} : { hashChainResult: signed.hashChainResult, hashChain: signed.hashChain }) }
    },
    ocspResponses: signer.ocspResponses(auth.certDer),
    tls: { key: auth.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), cert: certPem },
    close: () => server.stop(),
  }
}

/** A signed transport message with the pattern as its body, POSTed over mutual TLS straight to the provider's server proxy. */
async function peerCall(pair: LabPair, peer: PeerIdentity, bodies: BodyStore, size: number, expected: Buffer, timeoutMs: number): Promise<Outcome> {
  const request = parseRestRequest({
    method: 'POST', url: `/r1/${formatIdPath(pair.pets)}/stream`,
    headers: [['X-Road-Client', formatIdPath(pair.consumer.subsystem)], ['Content-Type', 'application/octet-stream']],
  }, 'LAB')
  const headerPart = restRequestHeaderPart(request)
  const signature = await peer.sign(headerPart, expected)
  const encoded = encodeRestTransportStream({
    kind: 'request', ocspResponses: peer.ocspResponses, headerPart, body: patternSource(size),
    signature: signature.signatureXml, hashChainResult: signature.hashChainResult, hashChain: signature.hashChain,
  })
  const headers: Record<string, string> = { 'Content-Type': encoded.contentType, 'Content-Length': String(encoded.body.size) }
  for (const [name, value] of transportRequestHeaders({ requestId: request.requestId, originalContentType: 'application/octet-stream', proxyVersion: '7.8.0' })) headers[name] = value
  return new Promise((resolvePromise) => {
    let settled = false
    const settle = (outcome: Outcome): void => {
      if (settled) return
      settled = true
      resolvePromise(outcome)
    }
    const req = httpsRequest({
      ...XROAD_TLS_OPTIONS, host: '127.0.0.1', port: pair.provider.ports.serverProxy, method: 'POST', path: '/', headers, agent: false,
      key: peer.tls.key, cert: peer.tls.cert, rejectUnauthorized: false, checkServerIdentity: () => undefined,
    }, (res) => {
      const type = res.headers['content-type'] ?? ''
      if (type.startsWith('text/xml')) {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.once('end', () => {
          const code = /<faultcode>([^<]*)<\/faultcode>/.exec(Buffer.concat(chunks).toString('utf8'))?.[1]
          settle(code === undefined ? { kind: 'unclean', what: 'text/xml answer without a fault code' } : { kind: 'error', code })
        })
        return
      }
      readTransportMessage(type, res, 'response', { limits: { maxBytes: size + 4 * 1024 * 1024, maxParts: 64, maxHeaderBytes: 16 * 1024 }, bodies, bodyLimits: () => [] })
        .then((message) => {
          const body = message.attachments[0]
          // A failure once the provider had begun answering: a multipart whose only part is the fault (ProxyMessageEncoder.fault).
          if (message.message.type === 'soap' && message.signature === undefined) {
            body?.release()
            const code = /<faultcode>([^<]*)<\/faultcode>/.exec(message.message.bytes.toString('utf8'))?.[1]
            settle(code === undefined ? { kind: 'unclean', what: 'a multipart answer without a signature or a fault code' } : { kind: 'error', code })
            return
          }
          const part = parseRestHeaderPart(message.message.bytes)
          const ok = part.kind === 'response' && part.status === 200 && message.signature !== undefined && body?.size === size && body.sha512.equals(expected)
          body?.release()
          settle(ok ? { kind: 'ok' } : { kind: 'unclean', what: `a signed answer without the body sent (${body?.size ?? 0} bytes)` })
        }, (error: Error) => settle({ kind: 'unclean', what: `answer broke: ${error.message}` }))
    })
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)))
    req.once('error', (e) => settle({ kind: 'unclean', what: `request failed: ${e.message}` }))
    void writeSource(req, encoded.body)
  })
}

function tally(run: { scenario: 'client' | 'peer'; bodyLogging: boolean }, outcomes: Outcome[], ms: number, consumer: ServerMemory, provider: ServerMemory): ScenarioResult {
  const result: ScenarioResult = { ...run, ms, succeeded: 0, errors: {}, unclean: [], consumer, provider }
  for (const o of outcomes) {
    if (o.kind === 'ok') result.succeeded++
    else if (o.kind === 'error') result.errors[o.code] = (result.errors[o.code] ?? 0) + 1
    else result.unclean.push(o.what)
  }
  return result
}

/** What went wrong: a measured server over `limitMb`, an answer that was neither a success nor a clean X-Road error. */
export function memorySoakProblems(result: MemorySoakResult, limitMb: number): string[] {
  const problems: string[] = []
  for (const run of result.runs) {
    const where = `${run.scenario}, body logging ${run.bodyLogging ? 'on' : 'off'}`
    const measured = run.scenario === 'client' ? [['consumer', run.consumer], ['provider', run.provider]] as const : [['provider', run.provider]] as const
    for (const [name, memory] of measured) if (memory.peakRssMb > limitMb) problems.push(`${where}: the ${name} peaked at ${memory.peakRssMb} MB`)
    for (const what of run.unclean) problems.push(`${where}: ${what}`)
    const answered = run.succeeded + Object.values(run.errors).reduce((n, k) => n + k, 0) + run.unclean.length
    if (answered !== result.parallel) problems.push(`${where}: ${answered} answers to ${result.parallel} requests`)
  }
  return problems
}

/** Runs the soak and stops everything it started. */
export async function runMemorySoak(options: MemorySoakOptions): Promise<MemorySoakResult> {
  const log = options.log ?? (() => undefined)
  const dir = mkdtempSync(join(tmpdir(), 'gh-memory-soak-'))
  let service: Started<{ url: string }> | undefined
  let running: RunningLabPair | undefined
  let peer: PeerIdentity | undefined
  try {
    service = await startTsProcess<{ url: string }>(SAMPLE_SERVICE, ['0'])
    const pair = await buildLabPair({ serviceUrl: service.ready.url, dir, logLevel: 'error' })
    if (options.memoryBudget !== undefined) {
      for (const agency of [pair.consumer, pair.provider]) {
        const file = dataDirLayout(agency.dataDir).configFile
        writeFileSync(file, `${JSON.stringify({ ...(JSON.parse(readFileSync(file, 'utf8')) as object), memoryBudget: options.memoryBudget }, null, 2)}\n`)
      }
    }
    running = await startLabPair(pair, { runner: 'autologin', timeoutMs: 60_000 })
    const startupMs = running.startupMs
    const pids = { consumer: running.consumer.process.child.pid as number, provider: running.provider.process.child.pid as number }
    const expected = patternDigest(options.bodyBytes)
    const results: ScenarioResult[] = []
    const url = `${running.consumer.clientProxyUrl}/r1/${formatIdPath(pair.pets)}/stream`
    // A warm-up exchange so that connections, OCSP and global configuration are in place before memory is measured.
    const warm = await clientCall(url, formatIdPath(pair.consumer.subsystem), 1000, patternDigest(1000), options.deadlineMs)
    if (warm.kind !== 'ok') throw new Error(`warm-up exchange failed: ${JSON.stringify(warm)}`)
    let consumerUp = true
    for (const run of options.runs) {
      for (const agency of consumerUp ? [running.consumer, running.provider] : [running.provider]) {
        await agency.admin.call('settings', 'set', [{ name: 'message-log.message-body-logging', value: String(run.bodyLogging) }])
      }
      const what = `${options.parallel} × ${options.bodyBytes} bytes, body logging ${run.bodyLogging ? 'on' : 'off'}`
      let outcomes: Outcome[]
      if (run.scenario === 'client') {
        if (!consumerUp) throw new Error('client runs must come before peer runs')
        log(`${what}, from an information system to the consumer's client proxy`)
      } else {
        log(`${what}, from a registered peer (the consumer's keys) to the provider's server proxy`)
        if (consumerUp) {
          // The consumer's server stops: its keys sign in this process now.
          await running.consumer.process.stop()
          consumerUp = false
          peer = await consumerIdentity(pair)
        }
      }
      const t0 = Date.now()
      const memory = { consumer: run.scenario === 'client' ? watchMemory(pids.consumer) : undefined, provider: watchMemory(pids.provider) }
      if (run.scenario === 'client') {
        outcomes = await Promise.all(Array.from({ length: options.parallel }, () =>
          clientCall(url, formatIdPath(pair.consumer.subsystem), options.bodyBytes, expected, options.deadlineMs)))
      } else {
        const identity = peer as PeerIdentity
        const bodies = new BodyStore(new MessageBudget(), join(dir, 'peer-spool'))
        outcomes = await Promise.all(Array.from({ length: options.parallel }, () =>
          peerCall(pair, identity, bodies, options.bodyBytes, expected, options.deadlineMs).catch((e: Error) => ({ kind: 'unclean', what: e.message }) as Outcome)))
      }
      const ms = Date.now() - t0
      const none = { idleRssMb: 0, peakRssMb: 0 }
      const result = tally(run, outcomes, ms, memory.consumer?.stop() ?? none, memory.provider.stop())
      log(`  ${ms} ms: ${result.succeeded} succeeded, errors ${JSON.stringify(result.errors)}, unclean ${result.unclean.length}; ` +
        (run.scenario === 'client' ? `consumer ${result.consumer.idleRssMb} → ${result.consumer.peakRssMb} MB, ` : '') +
        `provider ${result.provider.idleRssMb} → ${result.provider.peakRssMb} MB`)
      results.push(result)
    }
    return { bodyBytes: options.bodyBytes, parallel: options.parallel, memoryBudget: options.memoryBudget, startupMs, runs: results }
  } finally {
    await peer?.close()
    await running?.stop()
    await service?.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}

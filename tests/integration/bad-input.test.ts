import 'reflect-metadata'
import { createPrivateKey, generateKeyPairSync, sign as cryptoSign, webcrypto, type KeyObject } from 'node:crypto'
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { createServer, request as httpRequest, type OutgoingHttpHeaders, type Server } from 'node:http'
import { request as httpsRequest } from 'node:https'
import type { AddressInfo, Socket } from 'node:net'
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls'
import { join } from 'node:path'
import * as x509 from '@peculiar/x509'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { serviceId, subsystemId, type ClientId } from '@shared/domain/identifiers'
import { findRecordsByQueryId } from '../../src-main/message-log'
import { buildSignature, MESSAGE_URI, type SignatureAlgorithm } from '../../src-main/signature'
import { buildOcspRequest, OcspClient } from '../../src-main/signer'
import { openLab } from '../../src-main/lab'
import { SYSTEM_CALLER } from '../../src-main/admin/caller-context'
import { closeDatabase, openDatabase, silentLogger, type Clock } from '../../src-main/platform'
import {
  boundaryOf, encodeMultipart, encodeRestTransportMessage, parseMultipart, parseRestRequest, restRequestHeaderPart, signedParts,
  transportRequestHeaders, PART_TYPES, XROAD_CLIENT_TLS_CIPHERS, XROAD_TLS_OPTIONS,
} from '../../src-main/proxy'
import { parseServerConfig } from '../../src-main/server'
import { createProxyRuntime, type ProxyRuntime } from '../../src-main/server/proxy-runtime'
import { startLabPair, type LabPair, type PairSide } from './lab-pair'

/**
 * Issue 5's "bad input" list over the wire, on one real pair of security servers: malformed REST requests at the
 * consumer's client proxy, forged or mis-certified transport messages at the provider's server proxy (mutual TLS
 * with real keys), each with X-Road's code, nothing forwarded to the sample service and nothing logged where X-Road
 * logs nothing; then two measurements: keep-alive reuse between the servers and a graceful stop under load.
 */
let pair: LabPair
/** A second client-proxy runtime over the consumer's own core, with tight configured limits and an HTTPS port. */
let limited: ProxyRuntime
let limitedHttp: { host: string; port: number }
let limitedHttps: { host: string; port: number }
const LIMITS = { maxBodyBytes: 64 * 1024, headersTimeoutMs: 600, requestTimeoutMs: 1200, initialIdleMs: 2000 }

/** Consumer subsystem that must authenticate with a client certificate (SSLAUTH) and has none registered. */
let secureClient: ClientId

/** What the `recorder` service received: the raw request target, headers and body of each request. */
interface Recorded {
  method: string
  url: string
  headers: Record<string, string | string[] | undefined>
  body: string
}
const recorded: Recorded[] = []
let recorder: Server

beforeAll(async () => {
  // The last test stops the consumer with 16 exchanges in flight: the grace a real server has (3 s), so a busy machine
  // finishing them slowly is not mistaken for a stop that drops them.
  pair = await startLabPair({ shutdownGraceMs: 3000 })
  const provider = pair.provider.subsystem
  const conf = pair.provider.server.core.serverConf
  // `scoped`: the consumer may only GET /pets/** (xroad-protocols.md §4.8, the 7.7.1 encoded-traversal fix).
  const scoped = serviceId(provider, 'scoped')
  conf.addService(provider, { code: 'scoped', url: pair.sample.url })
  conf.addEndpoint(scoped, { method: 'GET', path: '/pets/**' })
  conf.grantAccess(scoped, pair.consumer.subsystem, { method: 'GET', path: '/pets/**' })

  // `recorder`: any method, any path; it tells what reached the service and answers with its own x-road-service.
  recorder = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      recorded.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') })
      res.writeHead(200, { 'content-type': 'text/plain', 'x-road-service': 'the-service/own-value' })
      res.end('recorded')
    })
  })
  await new Promise<void>((resolve) => recorder.listen(0, '127.0.0.1', resolve))
  const recorderService = serviceId(provider, 'recorder')
  conf.addService(provider, { code: 'recorder', url: `http://127.0.0.1:${(recorder.address() as AddressInfo).port}/base` })
  conf.grantAccess(recorderService, pair.consumer.subsystem, { method: '*', path: '**' })

  secureClient = subsystemId('LAB', 'GOV', '1001', 'secure')
  pair.consumer.server.core.serverConf.addClient(secureClient, 'REGISTERED')
  pair.consumer.server.core.serverConf.setIsAuthentication(secureClient, 'SSLAUTH')

  limited = createProxyRuntime(
    pair.consumer.server.core,
    parseServerConfig({
      internal: { host: '127.0.0.1', adminPort: null, clientProxyHttpPort: 0, clientProxyHttpsPort: 0 },
      external: { host: '127.0.0.1', serverProxyPort: null, ocspResponderPort: null },
      logging: { level: 'silent' },
    }, 'bad-input'),
    silentLogger(),
    { clientProxyLimits: LIMITS },
  )
  await limited.reconcile('test')
  const urlOf = (name: string): { host: string; port: number } => {
    const url = new URL(limited.listeners().find((l) => l.name === name)!.url)
    return { host: url.hostname, port: Number(url.port) }
  }
  limitedHttp = urlOf('clientProxyHttp')
  limitedHttps = urlOf('clientProxyHttps')
}, 60_000)

afterAll(async () => {
  await new Promise((resolve) => (recorder === undefined ? resolve(undefined) : recorder.close(resolve)))
  await limited?.close()
  await pair?.close()
})

interface Answer {
  status: number
  headers: Record<string, string | string[] | undefined>
  text: string
}

let sequence = 0
function newQueryId(): string {
  return `bad-input-${process.pid}-${++sequence}`
}

function consumerPort(): number {
  return Number(new URL(pair.consumer.clientProxyUrl).port)
}

/** A raw HTTP request (no URL normalization: `..` and `%2e` reach the server as written). */
function rawHttp(options: {
  port?: number
  path: string
  method?: string
  headers?: OutgoingHttpHeaders
  body?: Buffer
  https?: boolean
}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const send = options.https === true ? httpsRequest : httpRequest
    const req = send({
      host: '127.0.0.1', port: options.port ?? consumerPort(), path: options.path, method: options.method ?? 'GET', headers: options.headers ?? {},
      agent: false, ...(options.https === true ? { rejectUnauthorized: false } : {}),
    }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }))
      res.on('error', reject)
    })
    req.once('error', reject)
    req.end(options.body)
  })
}

/** X-Road's REST error: the `X-Road-Error` header equals the body's `type` (xroad-protocols.md §2.5). */
function restError(answer: Answer): string {
  const header = answer.headers['x-road-error']
  const type = (JSON.parse(answer.text) as { type: string }).type
  expect(header).toBe(type)
  return type
}

function faultCode(body: string): string | undefined {
  return /<faultcode>([^<]*)<\/faultcode>/.exec(body)?.[1]
}

function logged(side: PairSide, queryId: string): boolean[] {
  return findRecordsByQueryId(side.server.core.databases.messageLog, queryId).map((r) => r.response)
}

/** Runs a refusal: the sample service is not called and neither side logs the message. */
async function refused<T>(queryId: string, send: () => Promise<T>, logs: { consumer: boolean[]; provider: boolean[] } = { consumer: [], provider: [] }): Promise<T> {
  const before = pair.sample.served()
  const result = await send()
  expect(pair.sample.served()).toBe(before)
  expect(logged(pair.consumer, queryId)).toEqual(logs.consumer)
  expect(logged(pair.provider, queryId)).toEqual(logs.provider)
  return result
}

const PETS = '/r1/LAB/GOV/2002/provider/pets/pets/1'
const CLIENT = 'LAB/GOV/1001/consumer'

describe('client proxy (HTTP): malformed requests get X-Road codes and are not forwarded', () => {
  it('a well-formed request passes (the control for every case below)', async () => {
    const before = pair.sample.served()
    const queryId = newQueryId()
    const answer = await rawHttp({ path: PETS, headers: { 'X-Road-Client': CLIENT, 'X-Road-Id': queryId } })
    expect(answer.status).toBe(200)
    expect(pair.sample.served()).toBe(before + 1)
    expect(logged(pair.consumer, queryId)).toEqual([false, true])
    expect(logged(pair.provider, queryId)).toEqual([false, true])
  })

  // X-Road (AbstractClientProxyHandler, ClientRestMessageHandler; RestProxyTest.shouldFailIfClientHeaderMissing): every
  // error of the client processor is server.clientproxy.* with 500, the IS's own mistakes included.
  it('missing X-Road-Client: server.clientproxy.invalid_client_identifier, 500, application/json', async () => {
    const queryId = newQueryId()
    const answer = await refused(queryId, () => rawHttp({ path: PETS, headers: { 'X-Road-Id': queryId } }))
    expect(answer.status).toBe(500)
    expect(answer.headers['content-type']).toBe('application/json')
    expect(restError(answer)).toBe('server.clientproxy.invalid_client_identifier')
  })

  it('RestProxyTest.shouldFailIfMalformedRequestURI: /r1/invalid is server.clientproxy.internal_error, in XML when Accept asks', async () => {
    const answer = await rawHttp({ path: '/r1/invalid', headers: { 'X-Road-Client': CLIENT, Accept: 'text/*' } })
    expect(answer.status).toBe(500)
    expect(answer.headers['x-road-error']).toBe('server.clientproxy.internal_error')
    expect(answer.headers['content-type']).toBe('text/xml;charset=utf-8')
    expect(answer.text).toMatch(/^<\?xml version="1.0" encoding="UTF-8" standalone="no"\?><error><type>server\.clientproxy\.internal_error<\/type><message>Invalid request URI/)
  })

  it.each([
    ['too few parts', 'LAB/GOV'],
    ['too many parts', 'LAB/GOV/1001/consumer/extra'],
    ['bad percent-encoding', 'LAB/GOV/%zz/consumer'],
  ])('malformed X-Road-Client (%s): server.clientproxy.internal_error (RestMessage.decodeClientId)', async (_name, header) => {
    const queryId = newQueryId()
    const answer = await refused(queryId, () => rawHttp({ path: PETS, headers: { 'X-Road-Client': header, 'X-Road-Id': queryId } }))
    expect(answer.status).toBe(500)
    expect(restError(answer)).toBe('server.clientproxy.internal_error')
    expect(JSON.parse(answer.text)).toMatchObject({ message: expect.stringMatching(/^Invalid Client Id/) })
  })

  // X-Road reads these identifiers (MessageProcessorBase.checkIdentifier only warns; RestProxyTest accepts s%2Fub):
  // they are well-formed, and refused because no such client is registered here (verifyClientStatus).
  it.each([
    ['a character X-Road warns about (;)', 'LAB/GOV/10;01/consumer'],
    ['an encoded colon (%3A)', 'LAB/GOV/1001/con%3Asumer'],
    ['an encoded slash', 'LAB/GOV/1001/con%2Fsumer'],
  ])('X-Road-Client with %s: read, then unknown_member', async (_name, header) => {
    const queryId = newQueryId()
    const answer = await refused(queryId, () => rawHttp({ path: PETS, headers: { 'X-Road-Client': header, 'X-Road-Id': queryId } }))
    expect(restError(answer)).toMatch(/(^|\.)unknown_member$/)
  })

  it.each([
    ['too few segments', '/r1/LAB/GOV/2002/provider', 'server.clientproxy.internal_error'],
    ['protocol version r2', '/r2/LAB/GOV/2002/provider/pets/pets/1', 'server.clientproxy.invalid_protocol_version'],
    ['no protocol version', '/rx/LAB/GOV/2002/provider/pets/pets/1', 'server.clientproxy.invalid_request'],
  ])('malformed service path (%s): %s', async (_name, path, code) => {
    const queryId = newQueryId()
    const answer = await refused(queryId, () => rawHttp({ path, headers: { 'X-Road-Client': CLIENT, 'X-Road-Id': queryId } }))
    expect(answer.status).toBe(500)
    expect(restError(answer)).toBe(code)
  })

  it('the scoped service answers inside its /pets/** access right (control)', async () => {
    const before = pair.sample.served()
    const answer = await rawHttp({ path: '/r1/LAB/GOV/2002/provider/scoped/pets/2', headers: { 'X-Road-Client': CLIENT } })
    expect(answer.status).toBe(200)
    expect(pair.sample.served()).toBe(before + 1)
  })

  // X-Road's client proxy is Jetty with only AMBIGUOUS_PATH_SEPARATOR allowed (ClientProxy): these never get further.
  it.each([
    ['%2e%2e', '/pets/%2e%2e/echo'],
    ['%2E%2E mixed', '/pets/.%2E/echo'],
    ['an empty segment', '/pets//1'],
    ['double encoding', '/pets/%252e%252e/echo'],
    ['double-encoded slash', '/pets/..%252fecho'],
    ['a backslash', '/pets/..\\echo'],
    ['an encoded NUL', '/pets/%00/1'],
    ['a malformed percent-encoding', '/pets/pe%zz'],
  ])('an ambiguous path (%s) is refused by the client proxy with a plain 400, nothing signed or logged', async (_name, servicePath) => {
    const queryId = newQueryId()
    const answer = await refused(queryId, () => rawHttp({ path: `/r1/LAB/GOV/2002/provider/scoped${servicePath}`, headers: { 'X-Road-Client': CLIENT, 'X-Road-Id': queryId } }))
    expect(answer.status).toBe(400)
    expect(answer.headers['x-road-error']).toBeUndefined()
    expect(answer.headers['content-type']).toBe('text/plain;charset=utf-8')
  })

  it.each([
    ['..', '/pets/../echo'],
    ['..%2f', '/pets/..%2fecho'],
    ['..;', '/pets/..;/echo'],
    ['.. above the service path', '/pets/../../echo'],
  ])('path traversal out of /pets/** (%s): passed on raw, then access_denied by the provider (ServerConfImpl), never forwarded', async (_name, servicePath) => {
    const queryId = newQueryId()
    // X-Road logs the signed request on the consumer before sending; the provider refuses before logging.
    const answer = await refused(
      queryId,
      () => rawHttp({ path: `/r1/LAB/GOV/2002/provider/scoped${servicePath}`, headers: { 'X-Road-Client': CLIENT, 'X-Road-Id': queryId } }),
      { consumer: [false], provider: [] },
    )
    expect(answer.status).toBe(500)
    expect(restError(answer)).toBe('server.serverproxy.access_denied')
  })

  it('a client that is not registered at the consumer (it is a registered subsystem elsewhere): server.clientproxy.unknown_member', async () => {
    const queryId = newQueryId()
    const answer = await refused(queryId, () => rawHttp({ path: PETS, headers: { 'X-Road-Client': 'LAB/GOV/2002/provider', 'X-Road-Id': queryId } }))
    expect(answer.status).toBe(500)
    expect(restError(answer)).toBe('server.clientproxy.unknown_member')
  })

  it('X-Road-Security-Server naming a server that does not host the provider: server.clientproxy.invalid_security_server', async () => {
    for (const target of ['LAB/GOV/1001/ss-consumer', 'LAB/GOV/2002/ss-nosuch', 'LAB/GOV/2002', 'OTHER/GOV/2002/ss-provider']) {
      const queryId = newQueryId()
      const answer = await refused(queryId, () =>
        rawHttp({ path: PETS, headers: { 'X-Road-Client': CLIENT, 'X-Road-Id': queryId, 'X-Road-Security-Server': target } }))
      expect(answer.status).toBe(500)
      expect(restError(answer)).toMatch(/^server\.clientproxy\.(invalid_security_server|internal_error)$/)
    }
    // The provider's own server is accepted (control).
    const ok = await rawHttp({ path: PETS, headers: { 'X-Road-Client': CLIENT, 'X-Road-Security-Server': 'LAB/GOV/2002/ss-provider' } })
    expect(ok.status).toBe(200)
  })

  it('a body declared beyond the default 64 MiB limit is refused unread: server.clientproxy.body_too_large', async () => {
    const queryId = newQueryId()
    const answer = await refused(queryId, () => new Promise<Answer>((resolve, reject) => {
      const req = httpRequest({
        host: '127.0.0.1', port: consumerPort(), method: 'POST', path: '/r1/LAB/GOV/2002/provider/pets/echo', agent: false,
        headers: { 'X-Road-Client': CLIENT, 'X-Road-Id': queryId, 'Content-Type': 'text/plain', 'Content-Length': String(64 * 1024 * 1024 + 1) },
      }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }))
      })
      req.once('error', reject)
      // Only the first bytes: the proxy answers from the declared length, then closes.
      req.write(Buffer.alloc(1024, 0x61))
    }))
    expect(answer.status).toBe(500)
    expect(answer.headers.connection).toBe('close')
    expect(restError(answer)).toBe('server.clientproxy.body_too_large')
  })
})

describe('what the service receives and the information system gets back (X-Road RestRequest, RestResponse, ServerRestMessageProcessor)', () => {
  const RECORDER = '/r1/LAB/GOV/2002/provider/recorder'

  async function through(method: string, servicePath: string, headers: OutgoingHttpHeaders = {}, body?: Buffer): Promise<{ answer: Answer; got: Recorded }> {
    const before = recorded.length
    const answer = await rawHttp({ method, path: `${RECORDER}${servicePath}`, headers: { 'X-Road-Client': CLIENT, ...headers }, ...(body === undefined ? {} : { body }) })
    expect(answer.status, `${JSON.stringify(answer.headers)} ${answer.text}`).toBe(200)
    expect(recorded.length).toBe(before + 1)
    return { answer, got: recorded[before] as Recorded }
  }

  it.each([
    ['an encoded separator', '/a%2Fb'],
    ['a matrix parameter', '/a;v=1/b'],
    ['a dot segment', '/a/./b'],
    ['a resolved ..', '/a/../b'],
  ])('passes %s to the service raw, as X-Road does', async (_name, servicePath) => {
    const { got } = await through('GET', `${servicePath}?q=%2F`)
    expect(got.url).toBe(`/base${servicePath}?q=%2F`)
  })

  it.each([
    ['POST', true], ['PUT', true], ['PATCH', true], ['GET', false], ['DELETE', false], ['OPTIONS', false],
  ])('%s: the request body reaches the service only for POST, PUT and PATCH (%s)', async (method, forwarded) => {
    const body = Buffer.from('the body')
    const { got } = await through(method, '/items', { 'Content-Type': 'text/plain', 'Content-Length': String(body.length) }, body)
    expect(got.body).toBe(forwarded ? 'the body' : '')
  })

  it("strips the client's x-road-request-hash; the service's own x-road-service reaches the client; an empty X-Road-Id gets an id", async () => {
    const { answer, got } = await through('GET', '/items', { 'X-Road-Request-Hash': 'forged-by-the-client', 'X-Road-Id': '' })
    expect(got.headers['x-road-request-hash']).toBeUndefined()
    expect(got.headers['x-road-id']).toMatch(/^LAB-[0-9a-f-]{36}$/)
    expect(answer.headers['x-road-id']).toBe(got.headers['x-road-id'])
    expect(answer.headers['x-road-request-hash']).not.toBe('forged-by-the-client')
    // Node joins repeated headers with ", ": the service's own value first, then the provider's (RestResponse ctor).
    expect(answer.headers['x-road-service']).toBe('the-service/own-value, LAB/GOV/2002/provider/recorder')
  })
})

describe('client proxy with configured limits and HTTPS (a second listener over the consumer core)', () => {
  it('serves a normal request (control)', async () => {
    const answer = await rawHttp({ port: limitedHttp.port, path: PETS, headers: { 'X-Road-Client': CLIENT } })
    expect(answer.status).toBe(200)
  })

  it('a chunked body beyond the configured limit: server.clientproxy.body_too_large, not forwarded', async () => {
    const queryId = newQueryId()
    const answer = await refused(queryId, () => new Promise<Answer>((resolve, reject) => {
      const req = httpRequest({
        host: '127.0.0.1', port: limitedHttp.port, method: 'POST', path: '/r1/LAB/GOV/2002/provider/pets/echo', agent: false,
        headers: { 'X-Road-Client': CLIENT, 'X-Road-Id': queryId, 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked' },
      }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }))
      })
      req.once('error', reject)
      for (let i = 0; i < 4; i++) req.write(Buffer.alloc(32 * 1024, 0x62))
    }))
    expect(answer.status).toBe(500)
    expect(restError(answer)).toBe('server.clientproxy.body_too_large')
  })

  it('with a 3 MiB in-flight budget a logged body is at most 1 MiB: a larger one is logging_failed, unread; one under it is served', async () => {
    const budgeted = createProxyRuntime(
      pair.consumer.server.core,
      parseServerConfig({
        internal: { host: '127.0.0.1', adminPort: null, clientProxyHttpPort: 0, clientProxyHttpsPort: null },
        external: { host: '127.0.0.1', serverProxyPort: null, ocspResponderPort: null },
        logging: { level: 'silent' },
        memoryBudget: { maxInFlightBytes: 3 * 1024 * 1024, spoolThresholdBytes: 128 * 1024 },
      }, 'bad-input-budget'),
      silentLogger(),
    )
    try {
      await budgeted.reconcile('test')
      const port = Number(new URL(budgeted.listeners().find((l) => l.name === 'clientProxyHttp')!.url).port)
      const post = (queryId: string, bytes: number): Promise<Answer> =>
        rawHttp({ port, method: 'POST', path: '/r1/LAB/GOV/2002/provider/pets/echo', headers: { 'X-Road-Client': CLIENT, 'X-Road-Id': queryId, 'Content-Type': 'text/plain' }, body: Buffer.alloc(bytes, 0x63) })
      const over = newQueryId()
      const refusedAnswer = await refused(over, () => post(over, 1024 * 1024 + 1))
      expect(refusedAnswer.status).toBe(500)
      expect(restError(refusedAnswer)).toBe('server.clientproxy.logging_failed')
      const under = await post(newQueryId(), 1024 * 1024)
      expect(under.status).toBe(200)
      expect(under.text.length).toBe(1024 * 1024)
    } finally {
      await budgeted.close()
    }
  })

  it('a client dribbling its headers is cut off after the headers timeout and never forwarded', async () => {
    const { connect } = await import('node:net')
    const before = pair.sample.served()
    const outcome = await new Promise<{ received: string; closedAfterMs: number }>((resolve) => {
      const started = Date.now()
      const socket = connect(limitedHttp.port, '127.0.0.1')
      let received = ''
      const lines = [`GET ${PETS} HTTP/1.1\r\n`, 'Host: 127.0.0.1\r\n', `X-Road-Client: ${CLIENT}\r\n`]
      let index = 0
      const timer = setInterval(() => {
        // One header line every 250 ms and never the blank line; after the lines, single bytes of a header.
        if (!socket.destroyed) socket.write(index < lines.length ? (lines[index++] as string) : 'X')
      }, 250)
      socket.on('data', (c: Buffer) => { received += c.toString('latin1') })
      socket.on('error', () => undefined)
      socket.on('close', () => {
        clearInterval(timer)
        resolve({ received, closedAfterMs: Date.now() - started })
      })
      setTimeout(() => socket.destroy(), 15_000).unref()
    })
    // Node answers 408 when the headers timeout runs out (or simply closes); either way the connection is gone.
    expect(outcome.received).toMatch(/^$|^HTTP\/1\.1 408 /)
    expect(outcome.closedAfterMs).toBeLessThan(10_000)
    expect(pair.sample.served()).toBe(before)
  })

  // X-Road ClientProxy: client-tls-protocols TLSv1.2 and client-tls-ciphers DEFAULT_CLIENT_SSL_CIPHER_SUITES by default.
  it('speaks TLS 1.2 with X-Road\'s cipher suites to information systems; TLS 1.3 once the setting allows it, without a restart', async () => {
    const handshake = (options: ConnectionOptions): Promise<{ protocol: string | null; cipher: string } | { error: string }> =>
      new Promise((resolve) => {
        const socket = tlsConnect({ host: '127.0.0.1', port: limitedHttps.port, rejectUnauthorized: false, ...options }, () => {
          resolve({ protocol: socket.getProtocol(), cipher: socket.getCipher().name })
          socket.end()
        })
        socket.once('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }))
      })
    const offered = XROAD_CLIENT_TLS_CIPHERS.split(':')
    const first = await handshake({})
    expect(first).toMatchObject({ protocol: 'TLSv1.2' })
    expect(offered).toContain((first as { cipher: string }).cipher)
    expect(await handshake({ minVersion: 'TLSv1.3' })).toHaveProperty('error')
    expect(await handshake({ maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-CHACHA20-POLY1305:AES128-SHA' })).toHaveProperty('error')

    const settings = async (method: 'set' | 'reset', input: object): Promise<void> => {
      const result = await pair.consumer.server.admin.call(SYSTEM_CALLER, 'settings', method, [input])
      if (!result.ok) throw new Error(result.error.message)
      await limited.reconcile('settings changed')
    }
    await settings('set', { name: 'proxy.client-tls-allow-tls13', value: 'true' })
    try {
      expect(await handshake({ minVersion: 'TLSv1.3' })).toMatchObject({ protocol: 'TLSv1.3' })
      expect(await handshake({ maxVersion: 'TLSv1.2' })).toMatchObject({ protocol: 'TLSv1.2' })
    } finally {
      await settings('reset', { name: 'proxy.client-tls-allow-tls13' })
    }
    expect(await handshake({ minVersion: 'TLSv1.3' })).toHaveProperty('error')
  })

  it('an SSLAUTH client over plain HTTP, and over HTTPS without a certificate: server.clientproxy.ssl_authentication_failed', async () => {
    for (const https of [false, true]) {
      const queryId = newQueryId()
      const answer = await refused(queryId, () => rawHttp({
        https, port: https ? limitedHttps.port : limitedHttp.port, path: PETS, headers: { 'X-Road-Client': 'LAB/GOV/1001/secure', 'X-Road-Id': queryId },
      }))
      expect(answer.status).toBe(500)
      expect(restError(answer)).toBe('server.clientproxy.ssl_authentication_failed')
    }
  })
})

// ---- the provider's server proxy, reached directly over mutual TLS with real keys ---------------------------------

interface SignWith {
  certDer: Uint8Array
  key: KeyObject
  ocsp: Uint8Array[]
}

async function labOcsp(certDer: Uint8Array): Promise<Buffer> {
  const request = buildOcspRequest(certDer, pair.lab.certificateDer('ca'))
  return (await new OcspClient().fetch([pair.labServer.urls.ocsp], request)).responseDer
}

/** A P-256 key and a signing certificate the lab CA issues for `memberCode` while its clock says `at`. */
async function labSigningCert(memberCode: string, at?: Date): Promise<{ certDer: Uint8Array; key: KeyObject }> {
  const keys = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: `C=LAB, O=GOV, CN=${memberCode}`, keys, signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
  }, webcrypto)
  const clock: Clock | undefined = at === undefined ? undefined : { now: () => new Date(at.getTime()) } as Clock
  const lab = openLab(pair.labDir, clock === undefined ? {} : { clock })
  try {
    const issued = await lab.issueCertificate(csr.toString('pem'), 'sign')
    const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey))
    return { certDer: issued.der, key: createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }) }
  } finally {
    lab.close()
  }
}

function pem(der: Uint8Array): string {
  return new x509.X509Certificate(der).toString('pem')
}

async function tlsOf(side: PairSide): Promise<{ key: string; cert: string; ocsp: Uint8Array[] }> {
  const auth = await side.server.core.signer.getAuthKey()
  return { key: auth.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), cert: pem(auth.certDer), ocsp: side.server.core.signer.ocspResponses(auth.certDer) }
}

/**
 * A GET transport request from the consumer subsystem (xroad-protocols.md §4.3–4.6), signed by the consumer's signer or
 * by `signWith`, POSTed to the provider's server proxy over mutual TLS as `tlsSide` (the consumer by default).
 */
async function sendTransport(queryId: string, options: {
  signWith?: SignWith
  tlsSide?: PairSide
  ocspParts?: Uint8Array[]
  dropParts?: string[]
  agent?: import('node:https').Agent
} = {}): Promise<{ status: number; body: string }> {
  const consumer = pair.consumer
  const request = parseRestRequest({ method: 'GET', url: PETS, headers: [['X-Road-Client', CLIENT], ['X-Road-Id', queryId]] }, 'LAB')
  const headerPart = restRequestHeaderPart(request)
  let signature: { signatureXml: Uint8Array; hashChainResult?: Uint8Array; hashChain?: Uint8Array }
  if (options.signWith === undefined) {
    signature = await consumer.server.core.signer.signMessage(consumer.subsystem, signedParts(headerPart, undefined))
  } else {
    const { certDer, key, ocsp } = options.signWith
    const xml = await buildSignature({
      parts: [{ uri: MESSAGE_URI, data: headerPart }], signingCert: certDer, ocspResponses: ocsp, ecdsaEncoding: 'der',
      sign: ({ dataToSign, algorithm }: { dataToSign: Buffer; algorithm: SignatureAlgorithm }) => cryptoSign(`sha${algorithm.slice(-3)}`, dataToSign, key),
    })
    signature = { signatureXml: Buffer.from(xml, 'utf8') }
  }
  const tls = await tlsOf(options.tlsSide ?? consumer)
  let encoded = encodeRestTransportMessage({
    kind: 'request', ocspResponses: options.ocspParts ?? tls.ocsp, headerPart, body: undefined,
    signature: signature.signatureXml, hashChainResult: signature.hashChainResult, hashChain: signature.hashChain,
  })
  if (options.dropParts !== undefined) {
    const boundary = boundaryOf(encoded.contentType)!
    const parts = parseMultipart(encoded.body, boundary, { maxBytes: 1 << 20, maxParts: 32, maxHeaderBytes: 8192 })
    const kept = parts.filter((p) => !options.dropParts!.some((t) => p.contentType.startsWith(t)))
    expect(kept.length).toBeLessThan(parts.length)
    encoded = { contentType: encoded.contentType, body: encodeMultipart(boundary, kept.map((p) => ({ contentType: p.contentType, body: p.body }))) }
  }
  const headers: Record<string, string> = { 'Content-Type': encoded.contentType, 'Content-Length': String(encoded.body.length) }
  for (const [name, value] of transportRequestHeaders({ requestId: request.requestId, originalContentType: undefined, proxyVersion: '7.8.0' })) headers[name] = value
  return new Promise((resolve, reject) => {
    const req = httpsRequest({
      ...XROAD_TLS_OPTIONS, host: '127.0.0.1', port: pair.provider.serverProxyPort, method: 'POST', path: '/', headers,
      key: tls.key, cert: tls.cert, rejectUnauthorized: false, agent: options.agent ?? false,
    }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }))
    })
    req.once('error', reject)
    req.end(encoded.body)
  })
}

describe('server proxy over mutual TLS: forged and mis-certified transport messages', () => {
  it('a correctly signed request from the consumer is served (control)', async () => {
    const before = pair.sample.served()
    const queryId = newQueryId()
    const answer = await sendTransport(queryId)
    expect(answer.status).toBe(200)
    expect(faultCode(answer.body)).toBeUndefined()
    expect(pair.sample.served()).toBe(before + 1)
    expect(logged(pair.provider, queryId)).toEqual([false, true])
  })

  it('a valid XML signature by a different key than the certificate it names: signature_verification.invalid_signature_value (Verifier.verify)', async () => {
    const queryId = newQueryId()
    const consumer = pair.consumer
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const answer = await refused(queryId, () => sendTransport(queryId, {
      signWith: { certDer: consumer.signCertDer, key: privateKey, ocsp: consumer.server.core.signer.ocspResponses(Buffer.from(consumer.signCertDer)) },
    }))
    expect(faultCode(answer.body)).toBe('server.serverproxy.signature_verification.invalid_signature_value')
  })

  it('a fresh lab certificate of the consumer member, signed by our builder, is accepted (control for the forged cases)', async () => {
    const queryId = newQueryId()
    const fresh = await labSigningCert('1001')
    const answer = await sendTransport(queryId, { signWith: { ...fresh, ocsp: [await labOcsp(fresh.certDer)] } })
    expect(faultCode(answer.body)).toBeUndefined()
    expect(answer.status).toBe(200)
    expect(logged(pair.provider, queryId)).toEqual([false, true])
  })

  it('a missing signature part: missing_signature', async () => {
    const queryId = newQueryId()
    const answer = await refused(queryId, () => sendTransport(queryId, { dropParts: [PART_TYPES.signature, PART_TYPES.hashChainResult, PART_TYPES.hashChain] }))
    expect(faultCode(answer.body)).toBe('server.serverproxy.missing_signature')
  })

  it('a properly signed request whose certificate the lab issued to another member: incorrect_certificate', async () => {
    const queryId = newQueryId()
    const other = await labSigningCert('2002')
    const ocsp = [await labOcsp(other.certDer)]
    const answer = await refused(queryId, () => sendTransport(queryId, { signWith: { ...other, ocsp } }))
    expect(faultCode(answer.body)).toBe('server.serverproxy.signature_verification.incorrect_certificate')
    expect(answer.body).toMatch(/does not match name in message/)
  })

  it('an expired signing certificate of the right member: invalid_cert_path', async () => {
    const queryId = newQueryId()
    // Issued three years ago with the lab's two-year validity: expired a year ago.
    const expired = await labSigningCert('1001', new Date(Date.now() - 3 * 365 * 86_400_000))
    expect(new x509.X509Certificate(expired.certDer).notAfter.getTime()).toBeLessThan(Date.now())
    const ocsp = [await labOcsp(expired.certDer)]
    const answer = await refused(queryId, () => sendTransport(queryId, { signWith: { ...expired, ocsp } }))
    expect(faultCode(answer.body)).toBe('server.serverproxy.signature_verification.invalid_cert_path')
  })

  it('a not-yet-valid signing certificate of the right member: invalid_cert_path', async () => {
    const queryId = newQueryId()
    const future = await labSigningCert('1001', new Date(Date.now() + 2 * 86_400_000))
    expect(new x509.X509Certificate(future.certDer).notBefore.getTime()).toBeGreaterThan(Date.now())
    const ocsp = [await labOcsp(future.certDer)]
    const answer = await refused(queryId, () => sendTransport(queryId, { signWith: { ...future, ocsp } }))
    expect(faultCode(answer.body)).toBe('server.serverproxy.signature_verification.invalid_cert_path')
  })

  it('no OCSP part for the TLS client certificate: service_failed.ssl_authentication_failed (checked while the message is read, as AuthKeyReloadTest expects)', async () => {
    const queryId = newQueryId()
    const answer = await refused(queryId, () => sendTransport(queryId, { ocspParts: [] }))
    expect(faultCode(answer.body)).toBe('server.serverproxy.service_failed.ssl_authentication_failed')
    expect(answer.body).toMatch(/OCSP response is missing/)
  })

  it('an auth certificate of another security server than the one hosting the client: ssl_authentication_failed', async () => {
    const queryId = newQueryId()
    // The provider's registered auth certificate (with its good OCSP), sending for the consumer's subsystem.
    const answer = await refused(queryId, () => sendTransport(queryId, { tlsSide: pair.provider }))
    expect(faultCode(answer.body)).toBe('server.serverproxy.service_failed.ssl_authentication_failed')
    expect(answer.body).toMatch(/not registered at the security server that sent the request/)
  })
})

describe('measurements', () => {
  it('50 sequential requests between the servers reuse pooled TLS connections', async () => {
    const port = pair.provider.serverProxyPort
    let accepted = 0
    const onSocket = (message: unknown): void => {
      if ((message as { socket: Socket }).socket.localPort === port) accepted++
    }
    subscribe('net.server.socket', onSocket)
    try {
      // The probe sees a fresh connection (a direct send without an agent opens one).
      await sendTransport(newQueryId())
      expect(accepted).toBe(1)
      accepted = 0
      let ok = 0
      for (let i = 0; i < 50; i++) {
        const response = await fetch(`${pair.consumer.clientProxyUrl}${PETS}`, { headers: { 'X-Road-Client': CLIENT } })
        await response.arrayBuffer()
        if (response.status === 200) ok++
      }
      expect(ok).toBe(50)
      console.log(`keep-alive: 50 sequential requests opened ${accepted} new TLS connection(s) to the provider's server proxy`)
      expect(accepted).toBeLessThanOrEqual(2)
    } finally {
      unsubscribe('net.server.socket', onSocket)
    }
  })

  it('a graceful stop of the consumer with 16 requests in flight: every 200 is logged on both sides, stop() resolves', async () => {
    await limited.close()
    const before = pair.sample.served()
    const queryIds = Array.from({ length: 16 }, () => newQueryId())
    const sent = queryIds.map((queryId, i) => {
      return fetch(`${pair.consumer.clientProxyUrl}/r1/LAB/GOV/2002/provider/pets/pets/${i + 1}`, { headers: { 'X-Road-Client': CLIENT, 'X-Road-Id': queryId } })
        .then(async (r) => ({ queryId, status: r.status, text: await r.text() }), (error: Error) => ({ queryId, status: 0, text: error.message }))
    })
    // Stop once all 16 are in the pipeline: the consumer has signed and logged each request.
    const consumerLog = pair.consumer.server.core.databases.messageLog
    const deadline = Date.now() + 10_000
    while (queryIds.some((id) => findRecordsByQueryId(consumerLog, id).length === 0) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 1))
    }
    const inFlight = queryIds.filter((id) => findRecordsByQueryId(consumerLog, id).length === 1).length
    const started = performance.now()
    const stopping = pair.consumer.server.stop().then(() => performance.now() - started)
    const answers = await Promise.all(sent)
    const stopMs = await stopping
    // The consumer's log as a fresh reader finds it on disk after the stop (messagelog.sqlite is synchronous=FULL).
    const consumerDb = openDatabase(join(pair.consumer.dataDir, 'messagelog.sqlite'))
    const consumerRecords = new Map(answers.map((a) => [a.queryId, findRecordsByQueryId(consumerDb, a.queryId).map((r) => r.response)]))
    closeDatabase(consumerDb)
    const ok = answers.filter((a) => a.status === 200)
    const served = pair.sample.served() - before
    console.log(`graceful stop: ${stopMs.toFixed(0)} ms; ${inFlight} awaiting their response when stop() began; ${ok.length}/16 answered 200, ${
      served} reached the service, others: ${answers.filter((a) => a.status !== 200).map((a) => `${a.status} ${a.text.slice(0, 80)}`).join('; ') || 'none'}`)
    // Every request was accepted before the stop: a graceful stop finishes them all.
    expect(ok.length).toBe(16)
    // Nothing forwarded was dropped: each request the service answered came back to its client as a 200.
    expect(ok.length).toBe(served)
    for (const a of ok) {
      expect(consumerRecords.get(a.queryId)).toEqual([false, true])
      expect(logged(pair.provider, a.queryId)).toEqual([false, true])
    }
  })
})

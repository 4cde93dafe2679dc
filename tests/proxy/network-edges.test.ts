import { connect as netConnect, createServer as createNetServer, type AddressInfo, type Socket } from 'node:net'
import { createServer as createHttpServer, request as httpRequest } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import { connect as tlsConnect, type TLSSocket } from 'node:tls'
import { createHash } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  bufferSource, createPeerClient, createServiceClient, defaultBodyStore, parseAddress, startClientProxyListener, startServerProxyListener, XROAD_TLS_CIPHERS,
  type PeerClient, type PeerClientWithStats, type RunningClientProxy, type RunningListener,
} from '../../src-main/proxy'
import { fakeWorld, type FakeWorld } from './support/fake-world'
import { createTestPki, type TestCert, type TestPki } from './support/tls-pki'
import { SecurityServerError } from '../../src-main/platform'

const sha256 = (der: Uint8Array) => createHash('sha256').update(der).digest('hex')
const LIMITS = { maxBodyBytes: 64 * 1024, headersTimeoutMs: 600, requestTimeoutMs: 1200, initialIdleMs: 2000, keepAliveTimeoutMs: 5000, maxConnections: 100 }
const ALLOWED_CIPHERS = new Set(XROAD_TLS_CIPHERS.split(':'))

let pki: TestPki
let consumerCert: TestCert
let providerCert: TestCert
let rogueCert: TestCert
let world: FakeWorld
let serverProxy: RunningListener & { server: import('node:https').Server }
let secureConnections = 0
/** The SNI name each accepted connection carried (false/undefined: none). */
const serverNames: Array<string | false | undefined> = []
let peer: PeerClientWithStats
let clientProxy: RunningClientProxy

beforeAll(async () => {
  pki = createTestPki()
  consumerCert = pki.issue('consumer-ss')
  providerCert = pki.issue('provider-ss')
  rogueCert = pki.issue('rogue-ss')
  world = fakeWorld()
  world.trustedAuthHashes.add(sha256(consumerCert.der))
  world.providerAuthHashes.add(sha256(providerCert.der))
  serverProxy = await startServerProxyListener({
    host: '127.0.0.1', port: 0, tls: { keyPem: providerCert.keyPem, certChainPem: providerCert.chainPem },
    isTrustedAuthCert: (der) => world.trustedAuthHashes.has(sha256(der)), deps: world.serverDeps, limits: LIMITS,
  })
  serverProxy.server.on('secureConnection', (socket: TLSSocket & { servername?: string | false }) => {
    secureConnections++
    serverNames.push(socket.servername)
  })
  world.addresses.push(`127.0.0.1:${serverProxy.port}`)
  peer = createPeerClient({
    tls: { keyPem: consumerCert.keyPem, certChainPem: consumerCert.chainPem },
    authCertMatchesMember: (der) => world.providerAuthHashes.has(sha256(der)),
    connectTimeoutMs: 2000, responseTimeoutMs: 5000,
  })
  clientProxy = await startClientProxyListener({ host: '127.0.0.1', httpPort: 0, httpsPort: null, deps: world.clientDeps(peer), limits: LIMITS })
}, 30_000)

afterAll(async () => {
  peer?.close()
  await clientProxy?.close()
  await serverProxy?.close()
  pki?.dispose()
})

function tlsHandshake(cert: TestCert | undefined, extra: Record<string, unknown> = {}): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({
      host: '127.0.0.1', port: serverProxy.port, rejectUnauthorized: false,
      ...(cert === undefined ? {} : { key: cert.keyPem, cert: cert.chainPem }), ...extra,
    })
    socket.once('secureConnect', () => resolve(socket))
    socket.once('error', reject)
  })
}

/** One HTTP exchange on a raw socket; resolves with everything the server wrote before closing. */
function rawExchange(socket: TLSSocket, write: (s: TLSSocket) => void): Promise<string> {
  return new Promise((resolve) => {
    let received = ''
    socket.on('data', (d: Buffer) => (received += d.toString('latin1')))
    socket.once('close', () => resolve(received))
    socket.on('error', () => undefined)
    write(socket)
  })
}

function restCall(path: string, options: { method?: string; body?: Buffer; headers?: Record<string, string>; port?: number } = {}) {
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }>((resolve, reject) => {
    const req = httpRequest({
      host: '127.0.0.1', port: options.port ?? clientProxy.http?.port, method: options.method ?? 'GET', path,
      headers: { 'X-Road-Client': 'DEV/COM/4422/CLIENT', ...options.headers },
    })
    req.once('response', (res) => {
      let body = ''
      res.on('data', (d: Buffer) => (body += d.toString()))
      res.once('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
    })
    req.once('error', reject)
    req.end(options.body)
  })
}

describe('server proxy listener: TLS profile and peer trust (xroad-protocols.md §4.1)', () => {
  it('negotiates TLS 1.2 with one of X-Road\'s three cipher suites and presents leaf + intermediate', async () => {
    const socket = await tlsHandshake(consumerCert)
    try {
      expect(socket.getProtocol()).toBe('TLSv1.2')
      expect(ALLOWED_CIPHERS.has(socket.getCipher().name)).toBe(true)
      const leaf = socket.getPeerCertificate(true)
      expect(sha256(leaf.raw)).toBe(sha256(providerCert.der))
      expect(leaf.issuerCertificate?.subject.CN).toBe('Test Intermediate')
    } finally {
      socket.destroy()
    }
  })

  it('refuses a TLS 1.3-only client and a client offering none of the three suites', async () => {
    await expect(tlsHandshake(consumerCert, { minVersion: 'TLSv1.3' })).rejects.toThrow()
    await expect(tlsHandshake(consumerCert, { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' })).rejects.toThrow()
  })

  it.each([
    ['an unregistered certificate', () => rogueCert],
    ['no certificate', () => undefined],
  ])('refuses the TLS handshake of a client with %s (AuthTrustManager.checkClientTrusted), leaving no connection open', async (_name, cert) => {
    const before = world.calls.length
    const open = () => new Promise<number>((resolve, reject) => serverProxy.server.getConnections((error, n) => (error ? reject(error) : resolve(n))))
    const idle = await open()
    const refused = await tlsHandshake(cert()).then((s) => {
      s.destroy()
      return undefined
    }, (error: NodeJS.ErrnoException) => error)
    expect(refused?.code).toMatch(/^(ECONNRESET|EPIPE)$/)
    expect(world.calls.length).toBe(before)
    // The refused socket is gone on the server side too (no leaked connection).
    await expect.poll(open, { timeout: 2000, interval: 20 }).toBe(idle)
  })

  it('decides trust from the configuration in force at each handshake (a newly registered certificate is trusted at once)', async () => {
    const rogueHash = sha256(rogueCert.der)
    await expect(tlsHandshake(rogueCert)).rejects.toMatchObject({ code: 'ECONNRESET' })
    world.trustedAuthHashes.add(rogueHash)
    try {
      const socket = await tlsHandshake(rogueCert)
      socket.destroy()
    } finally {
      world.trustedAuthHashes.delete(rogueHash)
    }
    await expect(tlsHandshake(rogueCert)).rejects.toMatchObject({ code: 'ECONNRESET' })
  })

  it('answers GET with invalid_http_method as a SOAP fault', async () => {
    const socket = await tlsHandshake(consumerCert)
    const answer = await rawExchange(socket, (s) => s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'))
    expect(answer).toContain('<faultcode>server.serverproxy.invalid_http_method</faultcode>')
  })

  it('answers CONNECT with 405 and invalid_http_method instead of closing the socket', async () => {
    const socket = await tlsHandshake(consumerCert)
    const answer = await rawExchange(socket, (s) => s.write('CONNECT example.org:443 HTTP/1.1\r\nHost: example.org:443\r\n\r\n'))
    expect(answer).toMatch(/^HTTP\/1\.1 405 /)
    expect(answer).toContain('<faultcode>server.serverproxy.invalid_http_method</faultcode>')
  })
})

describe('server proxy listener: bad input (reliability-and-security.md B7, B8)', () => {
  /** A consumer's transport headers, so that the body is what is refused (the pipeline checks them before reading it). */
  const TRANSPORT_HEADERS = 'x-proxy-version: 7.8.0\r\nx-hash-algorithm: SHA-512\r\n'

  it('refuses a declared oversized body unread with body_too_large', async () => {
    const before = world.calls.length
    const socket = await tlsHandshake(consumerCert)
    const answer = await rawExchange(socket, (s) =>
      s.write(`POST / HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/mixed; boundary=b\r\nContent-Length: ${LIMITS.maxBodyBytes + 1}\r\n\r\n`),
    )
    expect(answer).toContain('<faultcode>server.serverproxy.body_too_large</faultcode>')
    expect(world.calls.length).toBe(before)
  })

  it('cuts off a chunked body that grows past the limit', async () => {
    const socket = await tlsHandshake(consumerCert)
    const chunk = Buffer.alloc(16 * 1024, 0x61)
    const answer = await rawExchange(socket, (s) => {
      s.write(`POST / HTTP/1.1\r\nHost: x\r\n${TRANSPORT_HEADERS}Content-Type: multipart/mixed; boundary=b\r\nTransfer-Encoding: chunked\r\n\r\n`)
      for (let i = 0; i < 6; i++) s.write(`${chunk.length.toString(16)}\r\n${chunk.toString('latin1')}\r\n`)
    })
    expect(answer).toContain('<faultcode>server.serverproxy.body_too_large</faultcode>')
  })

  it('closes a connection whose headers are dribbled (slowloris)', async () => {
    const socket = await tlsHandshake(consumerCert)
    let timer: NodeJS.Timeout | undefined
    const answer = await rawExchange(socket, (s) => {
      s.write('POST / HTTP/1.1\r\nHost: x\r\n')
      timer = setInterval(() => s.writable && s.write('X'), 100)
    })
    clearInterval(timer)
    expect(socket.destroyed).toBe(true)
    expect(answer).not.toContain('200 OK')
  }, 10_000)

  it('closes a connection whose body is dribbled (slow POST) before it reaches the service', async () => {
    const before = world.calls.length
    const socket = await tlsHandshake(consumerCert)
    let timer: NodeJS.Timeout | undefined
    const answer = await rawExchange(socket, (s) => {
      s.write(`POST / HTTP/1.1\r\nHost: x\r\n${TRANSPORT_HEADERS}Content-Type: multipart/mixed; boundary=b\r\nContent-Length: 1000\r\n\r\n`)
      timer = setInterval(() => s.writable && s.write('a'), 100)
    })
    clearInterval(timer)
    expect(socket.destroyed).toBe(true)
    expect(answer).toMatch(/server\.serverproxy\.timeout|HTTP\/1\.1 408|^$/)
    expect(world.calls.length).toBe(before)
  }, 10_000)

  it('closes a connection that never sends a request (initial idle time)', async () => {
    const socket = await tlsHandshake(consumerCert)
    const answer = await rawExchange(socket, () => undefined)
    // Node answers 408 when the headers timeout runs out on a fresh connection; either way it is closed.
    expect(answer).toMatch(/^$|^HTTP\/1\.1 408 /)
    expect(socket.destroyed).toBe(true)
  }, 10_000)
})

describe('client proxy → peer client → server proxy on loopback TLS', () => {
  it('carries 50 sequential requests over one pooled TLS connection', async () => {
    const before = secureConnections
    const opened = peer.connectionsOpened()
    const requestHashes = new Set<string>()
    for (let i = 0; i < 50; i++) {
      const res = await restCall('/r1/DEV/GOV/1234/PROVIDER/orders/api/items', { method: 'POST', body: Buffer.from(`{"i":${i}}`), headers: { 'Content-Type': 'application/json' } })
      expect(res.status, res.body).toBe(200)
      expect(JSON.parse(res.body)).toMatchObject({ got: `{"i":${i}}`.length })
      // Base64 of the SHA-512 of this request's REST header part (PR-REST §4.3): 64 bytes, different per request.
      expect(res.headers['x-road-request-hash']).toMatch(/^[A-Za-z0-9+/]{86}==$/)
      requestHashes.add(String(res.headers['x-road-request-hash']))
    }
    expect(requestHashes.size).toBe(50)
    expect(secureConnections - before).toBe(1)
    expect(peer.connectionsOpened() - opened).toBe(1)
  }, 20_000)

  it('checks a pooled connection\'s peer chain again on it under a new trust version or once the check is old, with no new handshake', async () => {
    let version = { conf: 1 }
    let now = 1_000_000
    let refuse = false
    const checked: number[] = []
    const checking = createPeerClient({
      tls: { keyPem: consumerCert.keyPem, certChainPem: consumerCert.chainPem }, authCertMatchesMember: (der) => world.providerAuthHashes.has(sha256(der)),
      verifyPeerChain: async (chain) => {
        checked.push(chain.length)
        if (refuse) throw new SecurityServerError('ssl_authentication_failed', 'OCSP status of the provider is revoked')
      },
      trustVersion: () => version, chainRecheckMs: 60_000, nowMs: () => now,
    })
    const proxy = await startClientProxyListener({ host: '127.0.0.1', httpPort: 0, httpsPort: null, deps: world.clientDeps(checking), limits: LIMITS })
    const call = () => restCall('/r1/DEV/GOV/1234/PROVIDER/orders/api/items', { method: 'POST', body: Buffer.from('{}'), headers: { 'Content-Type': 'application/json' }, port: proxy.http?.port })
    try {
      for (let i = 0; i < 3; i++) expect((await call()).status).toBe(200)
      expect(checked).toHaveLength(1)
      // A new global configuration (every download makes one): checked again before the next message, same connection.
      version = { conf: 2 }
      expect((await call()).status).toBe(200)
      expect((await call()).status).toBe(200)
      expect(checked).toHaveLength(2)
      now += 59_999
      expect((await call()).status).toBe(200)
      expect(checked).toHaveLength(2)
      now += 1
      expect((await call()).status).toBe(200)
      expect(checked).toHaveLength(3)
      expect(checking.connectionsOpened()).toBe(1)
      // A check that fails refuses the message and closes the connection; the next message opens a new one.
      refuse = true
      version = { conf: 3 }
      const refused = await call()
      expect(refused.headers['x-road-error']).toBe('server.clientproxy.ssl_authentication_failed')
      refuse = false
      expect((await call()).status).toBe(200)
      expect(checking.connectionsOpened()).toBe(2)
      expect(checked).toHaveLength(5)
    } finally {
      checking.close()
      await proxy.close()
    }
  }, 20_000)

  it('refuses a provider whose auth certificate is not registered for the provider (ssl_authentication_failed)', async () => {
    const before = world.calls.length
    const other = createPeerClient({ tls: { keyPem: consumerCert.keyPem, certChainPem: consumerCert.chainPem }, authCertMatchesMember: () => false })
    const proxy = await startClientProxyListener({ host: '127.0.0.1', httpPort: 0, httpsPort: null, deps: world.clientDeps(other), limits: LIMITS })
    try {
      const res = await new Promise<{ status: number; error: string | undefined }>((resolve, reject) => {
        const req = httpRequest({ host: '127.0.0.1', port: proxy.http?.port, path: '/r1/DEV/GOV/1234/PROVIDER/orders/api/x', headers: { 'X-Road-Client': 'DEV/COM/4422/CLIENT' } })
        req.once('response', (r) => {
          r.resume()
          r.once('end', () => resolve({ status: r.statusCode ?? 0, error: r.headers['x-road-error'] as string | undefined }))
        })
        req.once('error', reject)
        req.end()
      })
      expect(res.error).toBe('server.clientproxy.ssl_authentication_failed')
      expect(res.status).toBe(500)
      expect(world.calls.length).toBe(before)
    } finally {
      other.close()
      await proxy.close()
    }
  })

  it('picks the live address when one candidate is dead (fastest connection)', async () => {
    const dead = createNetServer()
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', () => r()))
    const deadPort = (dead.address() as AddressInfo).port
    await new Promise<void>((r) => dead.close(() => r()))
    const racer = createPeerClient({
      tls: { keyPem: consumerCert.keyPem, certChainPem: consumerCert.chainPem }, authCertMatchesMember: (der) => world.providerAuthHashes.has(sha256(der)), connectTimeoutMs: 2000,
    })
    try {
      const servers = [`127.0.0.1:${deadPort}`, `127.0.0.1:${serverProxy.port}`].map((address) => ({ ...fakeServer(), address }))
      const probe = await racer.send(servers, fakeProvider(), {
        headers: [['x-proxy-version', '7.8.0'], ['x-hash-algorithm', 'SHA-512']], contentType: 'multipart/mixed; boundary=xtopabc', body: bufferSource(Buffer.from('--xtopabc--\r\n')),
      })
      // The request reached the live server proxy (which answered a SOAP fault for the empty message).
      expect(probe.contentType).toMatch(/^text\/xml/)
      const answer: Buffer[] = []
      for await (const chunk of probe.body) answer.push(Buffer.from(chunk))
      expect(Buffer.concat(answer).toString()).toContain('<faultcode>server.serverproxy.')
      await expect(racer.send([{ ...fakeServer(), address: `127.0.0.1:${deadPort}` }], fakeProvider(), { headers: [], contentType: 'x/y', body: bufferSource(Buffer.alloc(0)) }))
        .rejects.toMatchObject({ code: 'network_error' })
    } finally {
      racer.close()
    }
  })

  it('a service that cannot be reached once the request is accepted: the provider answers a multipart whose only part is the text/xml fault (ProxyMessageEncoder.fault), and the IS gets server.serverproxy.network_error', async () => {
    const closed = createNetServer()
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()))
    const deadPort = (closed.address() as AddressInfo).port
    await new Promise<void>((r) => closed.close(() => r()))
    const services = createServiceClient()
    const fake = world.serverDeps.serviceClient
    world.serverDeps.serviceClient = { call: (call) => services.call({ ...call, url: `http://127.0.0.1:${deadPort}/base/` }) }
    // What came back over the wire, read before the consumer decodes it.
    const answers: Array<{ contentType: string; body: string }> = []
    const capturing: PeerClient = {
      send: async (targets, to, request) => {
        const answer = await peer.send(targets, to, request)
        const chunks: Buffer[] = []
        for await (const chunk of answer.body) chunks.push(Buffer.from(chunk))
        answers.push({ contentType: answer.contentType, body: Buffer.concat(chunks).toString('utf8') })
        return { ...answer, body: chunks }
      },
    }
    const proxy = await startClientProxyListener({ host: '127.0.0.1', httpPort: 0, httpsPort: null, deps: world.clientDeps(capturing), limits: LIMITS })
    try {
      const res = await restCall('/r1/DEV/GOV/1234/PROVIDER/orders/api/items', { port: proxy.http!.port })
      expect(answers).toHaveLength(1)
      const wire = answers[0]!
      const boundary = /boundary=(xtop[a-z]{30})$/.exec(wire.contentType)?.[1]
      expect(wire.contentType).toMatch(/^multipart\/mixed; charset=UTF-8; boundary=xtop[a-z]{30}$/)
      const parts = wire.body.split(`--${boundary}`)
      // Preamble, the one part, the closing delimiter.
      expect(parts).toHaveLength(3)
      expect(parts[1]).toMatch(/^\r\ncontent-type: text\/xml; charset=UTF-8\r\n\r\n<\?xml/)
      expect(parts[1]).toContain('<faultcode>server.serverproxy.network_error</faultcode>')
      expect(parts[2]).toBe('--\r\n')
      // ClientRestMessageProcessor: the fault's code, as X-Road's consumer passes it on (CodedException.Fault).
      expect(res.status).toBe(500)
      expect(res.headers['x-road-error']).toBe('server.serverproxy.network_error')
      // The provider logged the request before calling the service (logRequestMessage comes first).
      expect(world.log.at(-1)).toMatchObject({ side: 'server', direction: 'request' })
    } finally {
      world.serverDeps.serviceClient = fake
      services.close()
      await proxy.close()
    }
  })

  it('sends SNI for a DNS name and none for an IP address (X-Road\'s JDK client; RFC 6066 §3)', async () => {
    const client = createPeerClient({
      tls: { keyPem: consumerCert.keyPem, certChainPem: consumerCert.chainPem }, authCertMatchesMember: (der) => world.providerAuthHashes.has(sha256(der)), connectTimeoutMs: 2000,
    })
    try {
      for (const host of ['localhost', '127.0.0.1']) {
        const before = serverNames.length
        const answer = await client.send([{ ...fakeServer(), address: `${host}:${serverProxy.port}` }], fakeProvider(), {
          headers: [['x-proxy-version', '7.8.0'], ['x-hash-algorithm', 'SHA-512']], contentType: 'multipart/mixed; boundary=xtopabc', body: bufferSource(Buffer.from('--xtopabc--\r\n')),
        })
        for await (const chunk of answer.body) void chunk
        expect(serverNames.slice(before)).toEqual([host === 'localhost' ? 'localhost' : false])
      }
    } finally {
      client.close()
    }
  })

  it('opens a burst of connections to one server at most 16 handshakes at a time, and every message gets its own connection', async () => {
    // A server whose answers wait until all 40 messages are in: 40 connections are needed at once.
    const burst = 40
    const answers: Array<() => void> = []
    const server = createHttpsServer({ key: providerCert.keyPem, cert: providerCert.chainPem, requestCert: true, rejectUnauthorized: false }, (req, res) => {
      req.resume()
      req.once('end', () => {
        answers.push(() => res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok'))
        if (answers.length === burst) for (const answer of answers) answer()
      })
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
    // Connections counted where they arrive, by a relay in front of the server that holds what it accepted until no new
    // connection came for 150 ms (or all had come): the most it held is the most connects the client had under way.
    let handshaking = 0
    let mostHandshaking = 0
    server.on('secureConnection', () => handshaking--)
    const held: Socket[] = []
    let quiet: NodeJS.Timeout | undefined
    const forward = (): void => {
      for (const inbound of held.splice(0)) {
        const outbound = netConnect((server.address() as AddressInfo).port, '127.0.0.1')
        inbound.pipe(outbound).pipe(inbound)
        inbound.on('error', () => outbound.destroy())
        outbound.on('error', () => inbound.destroy())
      }
    }
    const relay = createNetServer((inbound) => {
      handshaking++
      mostHandshaking = Math.max(mostHandshaking, handshaking)
      held.push(inbound)
      clearTimeout(quiet)
      if (held.length === burst) forward()
      else quiet = setTimeout(forward, 150)
    })
    await new Promise<void>((r) => relay.listen(0, '127.0.0.1', () => r()))
    const client = createPeerClient({ tls: { keyPem: consumerCert.keyPem, certChainPem: consumerCert.chainPem }, authCertMatchesMember: () => true, connectTimeoutMs: 5000 })
    try {
      const target = [{ ...fakeServer(), address: `127.0.0.1:${(relay.address() as AddressInfo).port}` }]
      const bodies = await Promise.all(Array.from({ length: burst }, async () => {
        const answer = await client.send(target, fakeProvider(), { headers: [], contentType: 'text/plain', body: bufferSource(Buffer.from('x')) })
        const chunks: Buffer[] = []
        for await (const chunk of answer.body) chunks.push(Buffer.from(chunk))
        return Buffer.concat(chunks).toString('utf8')
      }))
      expect(bodies).toEqual(Array(burst).fill('ok'))
      expect(client.connectionsOpened()).toBe(burst)
      expect(mostHandshaking).toBe(16)
    } finally {
      client.close()
      server.closeAllConnections()
      await new Promise<void>((r) => relay.close(() => r()))
      await new Promise<void>((r) => server.close(() => r()))
    }
  }, 20_000)

  it('refuses an oversized IS request body with body_too_large before anything is signed or sent', async () => {
    const logged = world.log.length
    const res = await restCall('/r1/DEV/GOV/1234/PROVIDER/orders/api/items', { method: 'POST', body: Buffer.alloc(LIMITS.maxBodyBytes + 10, 0x61) })
    expect(res.status).toBe(500)
    expect(res.headers['x-road-error']).toBe('server.clientproxy.body_too_large')
    expect(JSON.parse(res.body)).toMatchObject({ type: 'server.clientproxy.body_too_large' })
    expect(world.log.length).toBe(logged)
  })

  it('answers CONNECT with 405 and X-Road\'s REST error instead of closing the socket', async () => {
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = netConnect(clientProxy.http!.port, '127.0.0.1', () => socket.write('CONNECT example.org:443 HTTP/1.1\r\nHost: example.org:443\r\n\r\n'))
      let received = ''
      socket.on('data', (d: Buffer) => (received += d.toString('latin1')))
      socket.once('close', () => resolve(received))
      socket.once('error', reject)
    })
    expect(answer).toMatch(/^HTTP\/1\.1 405 /)
    expect(answer).toMatch(/\r\nX-Road-Error: client\.invalid_http_method\r\n/)
    expect(answer).toContain('"type":"client.invalid_http_method"')
  })

  it('signs, logs and forwards a non-ASCII header value as the octets the client sent, encoded once', async () => {
    const logged = world.log.length
    const calls = world.calls.length
    // The IS sends UTF-8 octets; Node writes a latin1 string octet for octet.
    const res = await restCall('/r1/DEV/GOV/1234/PROVIDER/orders/api/items', { headers: { 'X-Road-UserId': Buffer.from('EE:PIN:Jüri Õun', 'utf8').toString('latin1') } })
    expect(res.status, res.body).toBe(200)
    const parts = world.log.slice(logged).filter((r) => r.direction === 'request').map((r) => Buffer.from(r.headerPart))
    expect(parts).toHaveLength(2)
    for (const part of parts) {
      expect(part.includes(Buffer.from('\r\nx-road-userid:EE:PIN:Jüri Õun\r\n', 'utf8')) || part.includes(Buffer.from('\r\nX-Road-UserId:EE:PIN:Jüri Õun\r\n', 'utf8'))).toBe(true)
      expect(part.includes(Buffer.from('JÃ', 'utf8'))).toBe(false)
    }
    const call = world.calls[calls]!
    expect(call.headers.find(([name]) => name.toLowerCase() === 'x-road-userid')?.[1]).toBe('EE:PIN:Jüri Õun')
  })

  it('answers a request outside /r{n}/ as SOAP, as X-Road\'s ClientMessageHandler does (a GET: client.invalid_http_method)', async () => {
    const res = await restCall('/nothing-here', { headers: { Accept: 'application/xml' } })
    expect(res.status).toBe(200)
    expect(res.body).toContain('<faultcode>client.invalid_http_method</faultcode>')
  })
})

describe('service client: non-ASCII header values', () => {
  it('sends a text value as its UTF-8 octets and reads UTF-8 octets back as text', async () => {
    let seen = ''
    const service = createHttpServer((req, res) => {
      const index = req.rawHeaders.findIndex((h) => h.toLowerCase() === 'x-road-userid')
      seen = req.rawHeaders[index + 1] ?? ''
      res.setHeader('X-Answer', Buffer.from('Õun', 'utf8').toString('latin1'))
      // A Buffer body: Node writes the head as latin1 (a string body would take the head into its own encoding).
      res.end(Buffer.from('ok'))
    })
    await new Promise<void>((r) => service.listen(0, '127.0.0.1', () => r()))
    const client = createServiceClient()
    try {
      const answer = await client.call({
        url: `http://127.0.0.1:${(service.address() as AddressInfo).port}/`, method: 'GET', headers: [['X-Road-UserId', 'Jüri']], timeoutMs: 5000, sslVerify: true,
        response: { bodies: defaultBodyStore(), limits: [] },
      })
      expect(Buffer.from(seen, 'latin1')).toEqual(Buffer.from('Jüri', 'utf8'))
      expect(answer.headers.find(([n]) => n.toLowerCase() === 'x-answer')?.[1]).toBe('Õun')
    } finally {
      client.close()
      await new Promise<void>((r) => service.close(() => r()))
    }
  })
})

describe('service client: addresses', () => {
  it('sends each call to its own address: user information, an IPv6 literal, raw paths and queries of calls that share an origin', async () => {
    const seen: Array<{ url: string; auth: string | undefined; host: string | undefined }> = []
    const service = createHttpServer((req, res) => {
      seen.push({ url: req.url ?? '', auth: req.headers.authorization, host: req.headers.host })
      res.end('ok')
    })
    await new Promise<void>((r) => service.listen(0, '127.0.0.1', () => r()))
    const port = (service.address() as AddressInfo).port
    // The loopback listener reached through an IPv6 literal (IPv4-mapped; WHATWG writes it ::ffff:7f00:1).
    const host = '[::ffff:127.0.0.1]'
    const client = createServiceClient()
    const call = (url: string) => client.call({ url, method: 'GET', headers: [], timeoutMs: 5000, sslVerify: true, response: { bodies: defaultBodyStore(), limits: [] } })
    try {
      for (const url of [`http://${host}:${port}/pets/1?x=%2e`, `http://${host}:${port}/a/../b#frag`, `http://${host}:${port}`, `http://${host}:${port}?q`,
        `http://us%65r:p%40ss@${host}:${port}/private`]) {
        const answer = await call(url)
        expect(answer.status).toBe(200)
        answer.body.release()
      }
      expect(seen.map((s) => s.url)).toEqual(['/pets/1?x=%2e', '/a/../b', '/', '/?q', '/private'])
      expect(seen.map((s) => s.auth)).toEqual([undefined, undefined, undefined, undefined, `Basic ${Buffer.from('user:p@ss').toString('base64')}`])
      expect(seen[0]?.host).toBe(`[::ffff:7f00:1]:${port}`)
      // A bad address fails every time it is used (nothing of it is kept), without reaching anything.
      for (let i = 0; i < 2; i++) {
        await expect(call(`http://${host}:${port}0000/x`)).rejects.toMatchObject({ code: 'service_malformed_url' })
        await expect(call(`ftp://${host}:${port}/x`)).rejects.toMatchObject({ code: 'service_malformed_url' })
        await expect(call(`http://b%ad@${host}:${port}/x`)).rejects.toMatchObject({ code: 'service_malformed_url' })
      }
      expect(seen).toHaveLength(5)
    } finally {
      client.close()
      await new Promise<void>((r) => service.close(() => r()))
    }
  })
})

describe('parseAddress', () => {
  it('reads host, host:port and [v6]:port, defaulting to 5500', () => {
    expect(parseAddress('ss1.example.org', 5500)).toMatchObject({ host: 'ss1.example.org', port: 5500 })
    expect(parseAddress('127.0.0.1:15500', 5500)).toMatchObject({ host: '127.0.0.1', port: 15500 })
    expect(parseAddress('[::1]:7', 5500)).toMatchObject({ host: '::1', port: 7 })
    expect(() => parseAddress('a b', 5500)).toThrow()
  })
})

function fakeServer() {
  return { serverId: { objectType: 'SERVER' as const, xRoadInstance: 'DEV', memberClass: 'GOV', memberCode: '1234', serverCode: 'ss2' }, inMaintenanceMode: false }
}
function fakeProvider() {
  return { objectType: 'SUBSYSTEM' as const, xRoadInstance: 'DEV', memberClass: 'GOV', memberCode: '1234', subsystemCode: 'PROVIDER' }
}

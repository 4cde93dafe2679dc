import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createNetServer, type AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { RequestFailure, requestBounded } from '../../src-main/platform'

/**
 * The bounded request the OCSP, TSA and service-description clients share (src-main/platform/bounded-request.ts),
 * against real loopback servers.
 */

let server: Server | undefined
afterEach(async () => {
  server?.closeAllConnections()
  await new Promise<void>((r) => (server === undefined ? r() : server.close(() => r())))
  server = undefined
})

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  server = createServer(handler)
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/tsa`
}

const post = (url: string, overrides: { timeoutMs?: number; maxBytes?: number } = {}) =>
  requestBounded(url, {
    method: 'POST', headers: { 'Content-Type': 'application/timestamp-query', Accept: 'application/timestamp-reply' }, body: Buffer.from('request'), timeoutMs: 2000,
    maxBytes: 1024, ...overrides,
  })

async function failure(promise: Promise<unknown>): Promise<RequestFailure> {
  const error = await promise.then(() => undefined, (e: unknown) => e)
  expect(error).toBeInstanceOf(RequestFailure)
  return error as RequestFailure
}

describe('requestBounded', () => {
  it('sends the body with its type and length and returns the status, the bare media type and the whole answer', async () => {
    let seen: { method?: string; type?: string; accept?: string; length?: string; body?: string } = {}
    const url = await serve((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        seen = { method: req.method, type: req.headers['content-type'], accept: req.headers.accept, length: req.headers['content-length'], body: Buffer.concat(chunks).toString() }
        res.writeHead(201, { 'Content-Type': 'Application/Timestamp-Reply; charset=binary' })
        res.write('an ')
        res.end('answer')
      })
    })
    const answer = await post(url)
    expect(seen).toEqual({ method: 'POST', type: 'application/timestamp-query', accept: 'application/timestamp-reply', length: '7', body: 'request' })
    expect(answer).toMatchObject({ status: 201, contentType: 'Application/Timestamp-Reply; charset=binary', mediaType: 'application/timestamp-reply' })
    expect(answer.body.toString()).toBe('an answer')
  })

  it('does not follow a redirect: the 3xx is the answer', async () => {
    const url = await serve((req, res) => {
      req.resume()
      res.writeHead(302, { Location: '/elsewhere' })
      res.end()
    })
    expect(await post(url)).toMatchObject({ status: 302, mediaType: '' })
  })

  it('leaves the body of a status the caller does not read unread, however large', async () => {
    const url = await serve((req, res) => {
      req.resume()
      res.writeHead(500, { 'Content-Type': 'text/html' })
      res.end(Buffer.alloc(64 * 1024, 0x41))
    })
    const answer = await requestBounded(url, { method: 'GET', timeoutMs: 2000, maxBytes: 1024, readBody: (status) => status === 200 })
    expect(answer).toMatchObject({ status: 500, mediaType: 'text/html' })
    expect(answer.body.length).toBe(0)
  })

  it('closes the connection of an unread body instead of draining it, even one that never ends', async () => {
    let closed: () => void = () => undefined
    const connectionClosed = new Promise<void>((resolve) => (closed = resolve))
    const url = await serve((req, res) => {
      req.resume()
      res.writeHead(503)
      const timer = setInterval(() => res.write(Buffer.alloc(16 * 1024, 0x41)), 2)
      res.on('close', () => {
        clearInterval(timer)
        closed()
      })
    })
    const answer = await requestBounded(url, { method: 'GET', timeoutMs: 2000, maxBytes: 1024, readBody: (status) => status === 200 })
    expect(answer).toMatchObject({ status: 503, body: Buffer.alloc(0) })
    await connectionClosed
  })

  it('refuses an answer declared larger than the bound before reading it, and one that grows past it while read', async () => {
    const declared = await serve((req, res) => {
      req.resume()
      res.writeHead(200, { 'Content-Length': 4096 })
      res.write(Buffer.alloc(100))
    })
    expect((await failure(post(declared))).kind).toBe('too_large')
    await new Promise<void>((r) => server!.close(() => r()))
    const growing = await serve((req, res) => {
      req.resume()
      res.writeHead(200)
      const timer = setInterval(() => res.write(Buffer.alloc(300)), 5)
      res.on('close', () => clearInterval(timer))
    })
    expect((await failure(post(growing))).kind).toBe('too_large')
  })

  it('gives up at the deadline when the answer never comes, and on an answer cut short', async () => {
    const silent = await serve((req) => req.resume())
    const started = Date.now()
    const timedOut = await failure(post(silent, { timeoutMs: 150 }))
    expect(timedOut.kind).toBe('timeout')
    expect(Date.now() - started).toBeLessThan(1500)
    await new Promise<void>((r) => { server!.closeAllConnections(); server!.close(() => r()) })
    const cut = await serve((req, res) => {
      req.resume()
      res.writeHead(200, { 'Content-Length': 500 })
      res.write(Buffer.alloc(100), () => res.socket?.destroy())
    })
    expect((await failure(post(cut))).kind).toBe('cut_short')
  })

  it('tells an unreachable server and a URL it cannot use', async () => {
    const closed = createNetServer()
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()))
    const port = (closed.address() as AddressInfo).port
    await new Promise<void>((r) => closed.close(() => r()))
    expect((await failure(post(`http://127.0.0.1:${port}/`))).kind).toBe('unreachable')
    expect((await failure(post('not a url'))).kind).toBe('bad_url')
    expect((await failure(post('ftp://127.0.0.1/tsa'))).kind).toBe('bad_url')
  })
})

import { createHash, randomBytes } from 'node:crypto'
import { readdirSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import {
  BodyStore, MessageBudget, decodeTransportMessage, encodeMultipart, encodeRestTransportMessage,
  encodeRestTransportStream, parseMultipart, readMultipartStream, readSource, readTransportMessage, bufferBody,
  type MultipartLimits, type PartHandler,
} from '../../src-main/proxy'
import { SecurityServerError } from '../../src-main/platform'
import { useTempDirs } from '../support/temp-dir'

/**
 * The streaming multipart reader and transport-message reader (issue 14 §3): the same parts as `parseMultipart` and
 * `decodeTransportMessage` however the bytes are cut, the REST body spooled and hashed on the way in, limits applied
 * while reading (the adversarial shapes and time bounds: tests/hardening/transport-stream-hardening.test.ts).
 */
const LIMITS: MultipartLimits = { maxBytes: 64 * 1024 * 1024, maxParts: 64, maxHeaderBytes: 16 * 1024 }

/** Parts as the streaming reader sees them, cut into chunks of the given sizes (cycled). */
async function streamParts(body: Buffer, boundary: string, cuts: number[], limits = LIMITS): Promise<Array<{ contentType: string; body: Buffer }>> {
  const parts: Array<{ contentType: string; chunks: Buffer[] }> = []
  const handler: PartHandler = {
    startPart(_headers, contentType) {
      const part = { contentType, chunks: [] as Buffer[] }
      parts.push(part)
      return { write: (chunk) => void part.chunks.push(Buffer.from(chunk)), end: () => undefined }
    },
  }
  await readMultipartStream(chunked(body, cuts), boundary, handler, limits)
  return parts.map((p) => ({ contentType: p.contentType, body: Buffer.concat(p.chunks) }))
}

function chunked(body: Buffer, cuts: number[]): Buffer[] {
  const out: Buffer[] = []
  for (let at = 0, i = 0; at < body.length; i++) {
    const size = Math.max(1, cuts[i % cuts.length] as number)
    out.push(body.subarray(at, at + size))
    at += size
  }
  return out
}

async function codeOf(work: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await work()
    return undefined
  } catch (error) {
    return error instanceof SecurityServerError ? error.code : String(error)
  }
}

const CUTS = [[1 << 20], [1], [2, 3, 5, 7], [70], [71, 72, 1]]

const SHAPES: Array<[string, string, Buffer]> = [
  ['CRLF parts', 'b', Buffer.from('--b\r\ncontent-type: a/x\r\n\r\nfirst\r\n--b\r\ncontent-type: a/y\r\n\r\nsecond\r\n--b--\r\n')],
  ['bare LF and a preamble and epilogue', 'xyz', Buffer.from('preamble\n--xyz\ncontent-type: a/x\n\nbody\n--xyz--\nepilogue')],
  ['an empty part and transport padding', 'b', Buffer.from('--b  \r\ncontent-type: a/x\r\n\r\n\r\n--b\r\n\r\nno headers\r\n--b--')],
  ['near-delimiters inside a part', 'bound', Buffer.from('--bound\r\ncontent-type: a/x\r\n\r\n--boun\r\n-bound\r\nx--bound\r\n\r\n--bound--')],
  ['binary content', 'q', Buffer.concat([Buffer.from('--q\r\ncontent-type: a/b\r\n\r\n'), randomBytes(5000), Buffer.from('\r\n--q--\r\n')])],
]

describe('streaming multipart reader', () => {
  it.each(SHAPES)('reads %s as parseMultipart does, however the bytes are cut', async (_name, boundary, body) => {
    const expected = parseMultipart(body, boundary, LIMITS).map((p) => ({ contentType: p.contentType, body: Buffer.from(p.body) }))
    for (const cuts of CUTS) expect(await streamParts(body, boundary, cuts)).toEqual(expected)
  })

  it.each([
    ['no opening boundary', 'b', 'nothing here', 'mime_parsing_failed'],
    ['no closing boundary', 'b', '--b\r\ncontent-type: a/x\r\n\r\nbody', 'mime_parsing_failed'],
    ['a malformed header line', 'b', '--b\r\n bad header\r\n\r\nx\r\n--b--', 'mime_parsing_failed'],
    ['a boundary line not terminated', 'b', '--b  x', 'mime_parsing_failed'],
    ['a line that starts with the delimiter but is not one', 'bound', '--bound\r\ncontent-type: a/x\r\n\r\nx\r\n--boundX\r\n--bound--', 'mime_parsing_failed'],
  ])('refuses %s as parseMultipart does', async (_name, boundary, text, code) => {
    const body = Buffer.from(text)
    expect(await codeOf(async () => parseMultipart(body, boundary, LIMITS))).toBe(code)
    for (const cuts of CUTS) expect(await codeOf(() => streamParts(body, boundary, cuts))).toBe(code)
  })

  it('reads part headers on LF and CRLF lines, trimmed, and refuses a folded line or a line without a name before its colon', async () => {
    const seen: Array<Array<[string, string]>> = []
    const handler: PartHandler = {
      startPart(headers) {
        seen.push(headers)
        return { write: () => undefined, end: () => undefined }
      },
    }
    const message = '--b\r\nContent-Type :  a/x \r\nx-a:b:c\ncontent-id:\r\n\r\none\r\n--b--'
    for (const cuts of CUTS) {
      seen.length = 0
      await readMultipartStream(chunked(Buffer.from(message), cuts), 'b', handler, LIMITS)
      expect(seen).toEqual([[['Content-Type', 'a/x'], ['x-a', 'b:c'], ['content-id', '']]])
    }
    for (const bad of ['content-type: a/x\r\n folded: y', ': no name', 'no colon', '\tcontent-type: a/x']) {
      expect(await codeOf(() => readMultipartStream([Buffer.from(`--b\r\n${bad}\r\n\r\none\r\n--b--`)], 'b', handler, LIMITS))).toBe('mime_parsing_failed')
    }
  })

  it('applies the size, part-count and header limits while reading, with bounded messages', async () => {
    const many = Buffer.from(`${'--b\r\ncontent-type: a/x\r\n\r\nx\r\n'.repeat(10)}--b--`)
    expect(await codeOf(() => streamParts(many, 'b', [7], { ...LIMITS, maxParts: 5 }))).toBe('invalid_message')
    const big = Buffer.from(`--b\r\ncontent-type: a/x\r\n\r\n${'x'.repeat(5000)}\r\n--b--`)
    expect(await codeOf(() => streamParts(big, 'b', [100], { ...LIMITS, maxBytes: 1000 }))).toBe('body_too_large')
    const longHeaders = Buffer.from(`--b\r\nx-h: ${'h'.repeat(40_000)}\r\n\r\nx\r\n--b--`)
    let message = ''
    try {
      await streamParts(longHeaders, 'b', [1000])
    } catch (error) {
      message = (error as Error).message
    }
    expect(message).toMatch(/part headers missing or longer than 16384 bytes/)
    expect(message.length).toBeLessThan(200)
  })

  it('stops reading at the limit: the bytes after it are never asked for', async () => {
    let pulled = 0
    async function* source(): AsyncIterable<Buffer> {
      yield Buffer.from('--b\r\ncontent-type: a/x\r\n\r\n')
      for (;;) {
        pulled++
        yield Buffer.alloc(1000, 0x61)
      }
    }
    const handler: PartHandler = { startPart: () => ({ write: () => undefined, end: () => undefined }) }
    expect(await codeOf(() => readMultipartStream(source(), 'b', handler, { ...LIMITS, maxBytes: 10_000 }))).toBe('body_too_large')
    expect(pulled).toBeLessThanOrEqual(11)
  })

})

describe('streamed transport messages', () => {
  const tempDir = useTempDirs()
  const headerPart = Buffer.from('GET /r1/LAB/GOV/2002/provider/pets/echo HTTP/1.1\r\nx-road-client: LAB/GOV/1001/consumer\r\n\r\n')
  const input = (body: Buffer) => ({
    kind: 'request' as const, ocspResponses: [Buffer.from('ocsp-1'), Buffer.from('ocsp-2')], headerPart, body,
    hashChainResult: Buffer.from('<result/>'), hashChain: Buffer.from('<chain/>'), signature: Buffer.from('<signature/>'),
  })

  it('encodes the same bytes as the buffered encoder', async () => {
    for (const body of [Buffer.alloc(0), Buffer.from('hello'), randomBytes(300_000)]) {
      const buffered = encodeRestTransportMessage(input(body), 'xtopfixed')
      const streamed = encodeRestTransportStream({ ...input(body), body: bufferBody(body) }, 'xtopfixed')
      expect(streamed.contentType).toBe(buffered.contentType)
      expect(streamed.body.size).toBe(buffered.body.length)
      expect((await readSource(streamed.body)).equals(buffered.body)).toBe(true)
    }
  })

  it('reads what decodeTransportMessage reads, the body spooled past the threshold with the SHA-512 of its bytes', async () => {
    const store = new BodyStore(new MessageBudget({ maxInFlightBytes: 4 * 1024 * 1024, spoolThresholdBytes: 64 * 1024, maxSpoolBytes: 1 << 30, loadWaitMs: 1000 }), tempDir())
    {
      for (const body of [Buffer.from('small body'), randomBytes(1_000_000)]) {
        const encoded = encodeRestTransportMessage(input(body))
        const expected = decodeTransportMessage(encoded.contentType, encoded.body, 'request')
        for (const cuts of [[1 << 20], [997], [13, 4096]]) {
          const message = await readTransportMessage(encoded.contentType, chunked(encoded.body, cuts), 'request', { limits: LIMITS, bodies: store, bodyLimits: () => [] })
          const [received] = message.attachments
          expect({ ...message, attachments: [] }).toEqual({ ...expected, attachments: [] })
          expect(received?.size).toBe(body.length)
          expect(received?.spooled).toBe(body.length > 64 * 1024)
          expect(received?.sha512.equals(createHash('sha512').update(body).digest())).toBe(true)
          expect((await readSource(received!)).equals(body)).toBe(true)
          received?.release()
        }
      }
      expect(store.budget.stats()).toMatchObject({ memoryInUse: 0, spoolInUse: 0 })
      expect(readdirSync(store.spoolDir)).toEqual([])
    }
  })

  it('applies the body limit decided from the header part as the body arrives, and gives everything back', async () => {
    const store = new BodyStore(new MessageBudget(), tempDir())
    const encoded = encodeRestTransportMessage(input(Buffer.alloc(50_000, 0x62)))
    let seen = ''
    const code = await codeOf(() => readTransportMessage(encoded.contentType, chunked(encoded.body, [4096]), 'request', {
      limits: LIMITS, bodies: store,
      bodyLimits: (part) => {
        seen = part.toString('latin1')
        return [{ maxBytes: 10_000, error: () => new SecurityServerError('logging_failed', 'too large to log', { clientFault: true }) }]
      },
    }))
    expect(code).toBe('logging_failed')
    expect(seen).toContain('x-road-client: LAB/GOV/1001/consumer')
    expect(store.budget.stats()).toMatchObject({ memoryInUse: 0, spoolInUse: 0 })
  })

  it('refuses the part order decodeTransportMessage refuses, with the same codes', async () => {
    const store = new BodyStore(new MessageBudget(), tempDir())
    const cases: Array<Array<{ contentType: string; body: Uint8Array }>> = [
      [{ contentType: 'application/x-road-rest-request', body: headerPart }, { contentType: 'application/hash-chain-result', body: Buffer.from('r') }],
      [{ contentType: 'text/plain', body: Buffer.from('x') }],
      [{ contentType: 'application/x-road-rest-request', body: headerPart }, { contentType: 'application/hash-chain-result', body: Buffer.from('r') }, { contentType: 'signature/bdoc-1.0/ts', body: Buffer.from('s') }],
      [{ contentType: 'application/x-road-rest-request', body: headerPart }, { contentType: 'signature/bdoc-1.0/ts', body: Buffer.from('s') }, { contentType: 'text/plain', body: Buffer.from('x') }],
    ]
    for (const parts of cases) {
      const body = encodeMultipart('b', parts)
      const ct = 'multipart/mixed; boundary=b'
      const expected = await codeOf(async () => decodeTransportMessage(ct, body, 'request'))
      expect(expected).toBeDefined()
      expect(await codeOf(() => readTransportMessage(ct, [body], 'request', { limits: LIMITS, bodies: store, bodyLimits: () => [] }))).toBe(expected)
    }
  })
})

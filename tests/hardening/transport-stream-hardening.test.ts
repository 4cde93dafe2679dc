import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it, vi } from 'vitest'
import {
  BodyStore, MessageBudget, encodeRestTransportMessage, readTransportMessage, serializeRestRequestPart,
} from '../../src-main/proxy'
import { compareWithBenign, expectRefusal } from './support/bounded-time'

/**
 * The streamed SS↔SS transport reader both proxies use (`readTransportMessage` over `multipart-stream.ts`): the
 * adversarial shapes of transport-hardening.test.ts, fed as a socket would in 64 KiB chunks and in 1 KiB chunks, are
 * refused with the same codes and bounded messages in time comparable to a benign message of the same size, the REST
 * body going to a spool file as on a server. Bound: O(n·b) (b ≤ 70, the boundary), one chunk and 16 KiB of part
 * headers held outside the parts' sinks.
 */
vi.setConfig({ testTimeout: 180_000 })

const SIZE = 4 * 1024 * 1024
const BOUNDARY = 'xtopabcdefghijklmnopqrstuvwxyzabcd'
const CONTENT_TYPE = `multipart/mixed; charset=UTF-8; boundary=${BOUNDARY}`
const LIMITS = { maxBytes: 64 * 1024 * 1024, maxParts: 64, maxHeaderBytes: 16 * 1024 }
const HEADER_PART = serializeRestRequestPart({
  method: 'POST', pathAndQuery: '/r1/DEV/GOV/1234/PROVIDER/orders/api', headers: [['x-road-client', 'DEV/COM/4422/CLIENT'], ['x-road-id', 'q1']],
})
const spool = mkdtempSync(join(tmpdir(), 'gh-stream-hardening-'))
const bodies = new BodyStore(new MessageBudget({ maxInFlightBytes: 32 * 1024 * 1024, spoolThresholdBytes: 256 * 1024, maxSpoolBytes: 1 << 30, loadWaitMs: 1000 }), spool)
afterAll(() => rmSync(spool, { recursive: true, force: true }))

function transport(body: Buffer): Buffer {
  return encodeRestTransportMessage({ kind: 'request', headerPart: HEADER_PART, body, signature: Buffer.from('<signature/>') }, BOUNDARY).body
}

function chunks(input: Buffer, size: number): Buffer[] {
  const out: Buffer[] = []
  for (let at = 0; at < input.length; at += size) out.push(input.subarray(at, at + size))
  return out
}

/** Reads a message as a server does and gives back what it took. */
async function read(input: Buffer[]): Promise<void> {
  const message = await readTransportMessage(CONTENT_TYPE, input, 'request', { limits: LIMITS, bodies, bodyLimits: () => [] })
  for (const body of message.attachments) body.release()
}

const benignBody = randomBytes(SIZE)

describe.each([64 * 1024, 1024])('streamed transport messages in %i-byte chunks', (chunkSize) => {
  const benign = chunks(transport(benignBody), chunkSize)
  const readBenign = () => read(benign)

  it('reads a body full of delimiter look-alikes (not at a line start) as fast as random bytes', async () => {
    const lookAlike = Buffer.from(`x--${BOUNDARY}`.repeat(Math.ceil(SIZE / (BOUNDARY.length + 3))).slice(0, SIZE))
    const input = chunks(transport(lookAlike), chunkSize)
    const { adversarial } = await compareWithBenign(`stream ${chunkSize}: delimiter look-alikes`, () => read(input), readBenign)
    expect(adversarial.error).toBeUndefined()
  })

  it('reads lines one character short of the delimiter as fast as random bytes', async () => {
    const near = Buffer.from(`\r\n--${BOUNDARY.slice(0, -1)}`.repeat(Math.ceil(SIZE / (BOUNDARY.length + 3))).slice(0, SIZE))
    const input = chunks(transport(near), chunkSize)
    const { adversarial } = await compareWithBenign(`stream ${chunkSize}: near-delimiter lines`, () => read(input), readBenign)
    expect(adversarial.error).toBeUndefined()
  })

  const refused: Array<[string, () => Buffer, string | RegExp, RegExp]> = [
    ['lines that start with the delimiter but are not one', () => transport(Buffer.from(`\r\n--${BOUNDARY}Z`.repeat(Math.ceil(SIZE / (BOUNDARY.length + 5))).slice(0, SIZE))), 'mime_parsing_failed', /not one/],
    ['200 000 empty parts', () => Buffer.from(`--${BOUNDARY}\r\n\r\n\r\n`.repeat(Math.ceil(SIZE / (BOUNDARY.length + 8)))), /^(invalid_message|invalid_content_type)$/, /./],
    ['part headers without a blank line', () => Buffer.from(`--${BOUNDARY}\r\n` + 'x-a: b\r\n'.repeat(SIZE / 8)), 'mime_parsing_failed', /longer than 16384 bytes/],
    ['a malformed part header line', () => Buffer.from(`--${BOUNDARY}\r\n${'h'.repeat(10_000)}\r\n\r\n${'x'.repeat(SIZE)}`), 'mime_parsing_failed', /malformed part header/],
    ['no closing delimiter after a large part', () => Buffer.concat([Buffer.from(`--${BOUNDARY}\r\ncontent-type: application/x-road-rest-request\r\n\r\n`), benignBody]), /^(mime_parsing_failed|invalid_message)$/, /./],
    ['no opening delimiter', () => Buffer.concat([benignBody, Buffer.from(`\r\n--x${BOUNDARY}--\r\n`)]), 'mime_parsing_failed', /no opening boundary/],
  ]

  it.each(refused)('refuses %s in time comparable to a benign message of the same size, holding nothing afterwards', async (name, make, code, message) => {
    const input = chunks(make(), chunkSize)
    const { adversarial } = await compareWithBenign(`stream ${chunkSize}: ${name}`, () => read(input), readBenign)
    expectRefusal(adversarial, code, 300)
    expect((adversarial.error as Error).message).toMatch(message)
    expect(bodies.budget.stats()).toMatchObject({ memoryInUse: 0, spoolInUse: 0 })
  })
})

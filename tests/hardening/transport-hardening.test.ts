import { randomBytes } from 'node:crypto'
import { describe, expect, it, vi } from 'vitest'
import {
  decodeTransportMessage, encodeRestTransportMessage, parseRestHeaderPart, parseRestRequest, serializeRestRequestPart,
} from '../../src-main/proxy'
import { compareWithBenign, expectRefusal } from './support/bounded-time'

/**
 * The SS↔SS transport (multipart/mixed, MIME part headers), the REST header part a peer sends and the r1 request line
 * an information system sends: adversarial shapes are refused with X-Road's codes and bounded messages, in time
 * comparable to a benign input of the same size. Bounds: O(n·b) for multipart (b ≤ 70, the boundary), O(n) for the rest.
 */
// The bound under test is the ratio to the benign input; a loaded machine may only make the whole run slower.
vi.setConfig({ testTimeout: 180_000 })

const SIZE = 4 * 1024 * 1024
const BOUNDARY = 'xtopabcdefghijklmnopqrstuvwxyzabcd'
const CONTENT_TYPE = `multipart/mixed; charset=UTF-8; boundary=${BOUNDARY}`
const HEADER_PART = serializeRestRequestPart({
  method: 'POST', pathAndQuery: '/r1/DEV/GOV/1234/PROVIDER/orders/api', headers: [['x-road-client', 'DEV/COM/4422/CLIENT'], ['x-road-id', 'q1']],
})

function transport(body: Buffer): Buffer {
  return encodeRestTransportMessage({ kind: 'request', headerPart: HEADER_PART, body, signature: Buffer.from('<signature/>') }, BOUNDARY).body
}

const benignBody = randomBytes(SIZE)
const benign = transport(benignBody)
const decodeBenign = () => decodeTransportMessage(CONTENT_TYPE, benign, 'request')

describe('multipart transport messages', () => {
  it('decodes a body full of delimiter look-alikes (not at a line start) as fast as random bytes', async () => {
    const lookAlike = Buffer.from(`x--${BOUNDARY}`.repeat(Math.ceil(SIZE / (BOUNDARY.length + 3))).slice(0, SIZE))
    const message = transport(lookAlike)
    const { adversarial } = await compareWithBenign('multipart: delimiter look-alikes', () => decodeTransportMessage(CONTENT_TYPE, message, 'request'), decodeBenign)
    expect(adversarial.error).toBeUndefined()
  })

  it('refuses a line that starts with the delimiter but is not one (RFC 2046 §5.1.1), without searching on', async () => {
    const lookAlikeLines = Buffer.from(`\r\n--${BOUNDARY}Z`.repeat(Math.ceil(SIZE / (BOUNDARY.length + 5))).slice(0, SIZE))
    const message = transport(lookAlikeLines)
    const { adversarial } = await compareWithBenign('multipart: delimiter look-alike lines', () => decodeTransportMessage(CONTENT_TYPE, message, 'request'), decodeBenign)
    expectRefusal(adversarial, 'mime_parsing_failed', 200)
  })

  it('decodes lines that start like the delimiter but are one character short as fast as random bytes', async () => {
    const near = Buffer.from(`\r\n--${BOUNDARY.slice(0, -1)}`.repeat(Math.ceil(SIZE / (BOUNDARY.length + 3))).slice(0, SIZE))
    const message = transport(near)
    const { adversarial } = await compareWithBenign('multipart: near-delimiter lines', () => decodeTransportMessage(CONTENT_TYPE, message, 'request'), decodeBenign)
    expect(adversarial.error).toBeUndefined()
  })

  const refused: Array<[string, () => Buffer, string, RegExp]> = [
    ['200 000 empty parts', () => Buffer.from(`--${BOUNDARY}\r\n\r\n\r\n`.repeat(Math.ceil(SIZE / (BOUNDARY.length + 8)))), 'invalid_message', /more than 64 parts/],
    ['part headers without a blank line', () => Buffer.from(`--${BOUNDARY}\r\n` + 'x-a: b\r\n'.repeat(SIZE / 8)), 'mime_parsing_failed', /longer than 16384 bytes/],
    ['a malformed part header line', () => Buffer.from(`--${BOUNDARY}\r\n${'h'.repeat(10_000)}\r\n\r\n${'x'.repeat(SIZE)}`), 'mime_parsing_failed', /malformed part header/],
    ['no closing delimiter after a large part', () => Buffer.concat([Buffer.from(`--${BOUNDARY}\r\ncontent-type: application/x-road-rest-request\r\n\r\n`), benignBody]), 'mime_parsing_failed', /no closing boundary/],
    ['no opening delimiter', () => Buffer.concat([benignBody, Buffer.from(`\r\n--x${BOUNDARY}--\r\n`)]), 'mime_parsing_failed', /no opening boundary/],
    ['an unexpected part type after the message', () => Buffer.concat([transport(benignBody).subarray(0, 200), Buffer.from(`\r\n--${BOUNDARY}\r\ncontent-type: x/y\r\n\r\n`), benignBody, Buffer.from(`\r\n--${BOUNDARY}--\r\n`)]), '', /./],
  ]

  it.each(refused)('refuses %s in time comparable to a benign message of the same size', async (name, make, code, message) => {
    const input = make()
    const { adversarial } = await compareWithBenign(`multipart: ${name}`, () => decodeTransportMessage(CONTENT_TYPE, input, 'request'), decodeBenign)
    expectRefusal(adversarial, code === '' ? /^(invalid_content_type|invalid_message|mime_parsing_failed|missing_rest|missing_signature)$/ : code, 300)
    expect((adversarial.error as Error).message).toMatch(message)
  })

  it('refuses a message over the size limit before reading it', () => {
    expect(() => decodeTransportMessage(CONTENT_TYPE, benign, 'request', { maxBytes: 1024, maxParts: 64, maxHeaderBytes: 16 * 1024 })).toThrow(/larger than 1024 bytes/)
    // A boundary longer than RFC 2046's 70 characters is not taken as one.
    expect(() => decodeTransportMessage(`multipart/mixed; boundary=${'b'.repeat(100_000)}`, benign, 'request')).toThrow(/no opening boundary|no boundary/)
  })
})

describe('REST header parts from peers', () => {
  const headerPart = (headers: number, valueLength: number): Buffer => serializeRestRequestPart({
    method: 'GET', pathAndQuery: '/r1/DEV/GOV/1234/PROVIDER/orders',
    headers: Array.from({ length: headers }, (_, i) => [`x-h${i}`, 'v'.repeat(valueLength)] as [string, string]),
  })
  const benignPart = headerPart(900, 250)
  const parseBenign = () => parseRestHeaderPart(benignPart)

  it.each([
    ['100 000 headers', () => headerPart(100_000, 0).subarray(0, benignPart.length), /more than 1000 headers|does not end/],
    ['a header line without a colon', () => Buffer.from(`GET\r\n/r1/x\r\n${'h'.repeat(benignPart.length - 20)}\r\n`), /malformed header line/],
    ['a header part over 256 KiB', () => headerPart(500, 1000), /larger than 262144 bytes/],
    ['a 200 KB status line', () => Buffer.from(`1${'9'.repeat(benignPart.length)}\r\nOK\r\n`), /invalid status code/],
  ])('refuses %s with invalid_message in time comparable to a benign part of the same size', async (name, make, message) => {
    const input = make()
    const { adversarial } = await compareWithBenign(`REST header part: ${name}`, () => parseRestHeaderPart(input), parseBenign)
    expectRefusal(adversarial, 'invalid_message', 200)
    expect((adversarial.error as Error).message).toMatch(message)
  })
})

describe('r1 request targets from information systems (client proxy /r1/ parsing)', () => {
  const headers: Array<[string, string]> = [['X-Road-Client', 'DEV/COM/4422/CLIENT']]
  const target = 16 * 1024
  const benignUrl = `/r1/DEV/GOV/1234/PROVIDER/orders/api/items?${'q=1&'.repeat(target / 4)}`
  const parseBenign = () => parseRestRequest({ method: 'GET', url: benignUrl, headers }, 'DEV')

  it.each([
    // X-Road's RestRequest: IllegalArgumentException, reported as internal_error.
    ['8 000 empty segments', `/r1/${'/'.repeat(target)}`, 'internal_error'],
    ['a 16 KB percent-encoded identifier', `/r1/DEV/GOV/${'%41'.repeat(target / 3)}/PROVIDER/orders`, 'internal_error'],
    ['a malformed percent escape in every segment', `/r1/${'%zz/'.repeat(target / 4)}`, 'internal_error'],
    ['a protocol version segment of 16 KB', `/${'r'.repeat(target)}/DEV`, 'invalid_protocol_version'],
  ])('refuses %s in time comparable to a benign target of the same size', async (name, url, code) => {
    const { adversarial } = await compareWithBenign(`r1 target: ${name}`, () => parseRestRequest({ method: 'GET', url, headers }, 'DEV'), parseBenign)
    expectRefusal(adversarial, code, 300)
  })

  it('refuses a 16 KB client identifier header with internal_error (RestMessage.decodeClientId) and a bounded message', async () => {
    const long: Array<[string, string]> = [['X-Road-Client', `DEV/COM/${'4'.repeat(target)}/CLIENT`]]
    const { adversarial } = await compareWithBenign('r1 target: 16 KB X-Road-Client', () => parseRestRequest({ method: 'GET', url: '/r1/DEV/GOV/1234/PROVIDER/orders', headers: long }, 'DEV'), parseBenign)
    expectRefusal(adversarial, 'internal_error', 300)
  })
})

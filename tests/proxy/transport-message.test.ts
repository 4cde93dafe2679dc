import { describe, expect, it } from 'vitest'
import { SecurityServerError } from '../../src-main/platform'
import {
  checkHashAlgorithm, decodeTransportMessage, encodeFaultTransportMessage, encodeRestTransportMessage, newBoundary, parseMultipart, transportRequestHeaders,
} from '../../src-main/proxy'
import { describeFixtures } from '../support/describe-fixtures'
import { readFixture } from '../support/fixtures'

function codeOf(work: () => unknown): string | undefined {
  try {
    work()
  } catch (error) {
    return error instanceof SecurityServerError ? error.code : `not coded: ${String(error)}`
  }
  return undefined
}

const legacy = (name: string) => readFixture('messages', 'ss-transport-legacy', name)
const boundaryIn = (bytes: Buffer) => /^--(\S+)/.exec(bytes.toString('latin1'))?.[1] as string
const ct = (bytes: Buffer) => `multipart/mixed; charset=UTF-8; boundary=${boundaryIn(bytes)}`

describeFixtures('transport message layout on X-Road proxymessages fixtures', () => {
  it('decodes normal.request: SOAP part then signature', () => {
    const bytes = legacy('normal.request')
    const m = decodeTransportMessage(ct(bytes), bytes, 'request')
    expect(m.message.type).toBe('soap')
    expect(m.message.bytes.toString()).toMatch(/^<\?xml[\s\S]*<\/SOAP-ENV:Envelope>$/)
    expect(m.signature?.toString()).toMatch(/^<\?xml[\s\S]*XAdESSignatures>$/)
    expect(m.ocspResponses).toHaveLength(0)
  })

  it('decodes ocsp.request with its binary OCSP part intact', () => {
    const bytes = legacy('ocsp.request')
    const m = decodeTransportMessage(ct(bytes), bytes, 'request')
    expect(m.ocspResponses).toHaveLength(1)
    expect(m.ocspResponses[0]?.[0]).toBe(0x30)
  })

  it('decodes attachment.request with its nested xatt attachments', () => {
    const bytes = legacy('attachment.request')
    const m = decodeTransportMessage(ct(bytes), bytes, 'request')
    expect(m.attachments.map((a) => a.toString())).toEqual(['blaah'])
    expect(m.signature?.toString()).toMatch(/^<\?xml[\s\S]*XAdESSignatures>$/)
  })

  it('decodes normal.response: SOAP part then signature', () => {
    const bytes = legacy('normal.response')
    const m = decodeTransportMessage(ct(bytes), bytes, 'response')
    expect(m.message.type).toBe('soap')
    expect(m.message.bytes.toString()).toMatch(/^<\?xml[\s\S]*<\/SOAP-ENV:Envelope>$/)
    // This fixture leaves an empty line before the closing boundary: the part keeps that one line feed.
    expect(m.signature?.toString()).toMatch(/^<\?xml[\s\S]*XAdESSignatures>\n$/)
    expect(m.attachments).toHaveLength(0)
  })

  it.each([
    ['extracontent.request', 'invalid_message'],
    ['invalid-contenttype-signature.request', 'invalid_content_type'],
    ['invalid-soap-contenttype.request', 'invalid_content_type'],
    ['fault-signature.request', 'invalid_content_type'],
  ])('%s → %s', (name, code) => {
    const bytes = legacy(name)
    expect(codeOf(() => decodeTransportMessage(ct(bytes), bytes, 'request'))).toBe(code)
  })
})

describe('REST transport encode/decode', () => {
  const input = {
    kind: 'request' as const,
    ocspResponses: [Buffer.from([0x30, 0x03, 0x0a, 0x01, 0x00])],
    headerPart: Buffer.from('GET\r\n/r1/A/B/C/D/e\r\nx-road-id:1\r\n'),
    body: Buffer.from('--xtop-looking body\r\n\r\n'),
    hashChainResult: Buffer.from('<HashChainResult/>'),
    hashChain: Buffer.from('<HashChain/>'),
    signature: Buffer.from('<asic:XAdESSignatures/>'),
  }

  it('round-trips every part byte for byte with an xtop boundary', () => {
    const encoded = encodeRestTransportMessage(input)
    expect(encoded.contentType).toMatch(/^multipart\/mixed; charset=UTF-8; boundary=xtop[a-z]{30}$/)
    const m = decodeTransportMessage(encoded.contentType, encoded.body, 'request')
    expect(m.message).toMatchObject({ type: 'rest' })
    expect(m.message.bytes.equals(input.headerPart)).toBe(true)
    expect(m.attachments[0]?.equals(input.body)).toBe(true)
    expect(m.ocspResponses[0]?.equals(input.ocspResponses[0] as Buffer)).toBe(true)
    expect(m.hashChainResult?.equals(input.hashChainResult)).toBe(true)
    expect(m.hashChain?.equals(input.hashChain)).toBe(true)
    expect(m.signature?.equals(input.signature)).toBe(true)
  })

  const b = newBoundary()
  const ctype = `multipart/mixed; charset=UTF-8; boundary=${b}`
  const raw = (parts: string[]) => Buffer.from(`${parts.map((p) => `--${b}\r\n${p}\r\n`).join('')}--${b}--\r\n`)
  it.each([
    ['no message part', raw(['content-type: application/ocsp-response\r\n\r\nx']), 'missing_rest'],
    ['extra part after signature', raw(['content-type: application/x-road-rest-request\r\n\r\nG', 'content-type: signature/bdoc-1.0/ts\r\n\r\n<s/>', 'content-type: text/plain\r\n\r\nx']), 'invalid_message'],
    ['unknown part type', raw(['content-type: foo/bar\r\n\r\nx']), 'invalid_content_type'],
    ['chain result without chain', raw(['content-type: application/x-road-rest-request\r\n\r\nG', 'content-type: application/hash-chain-result\r\n\r\nx', 'content-type: signature/bdoc-1.0/ts\r\n\r\ns']), 'invalid_message'],
    ['no closing boundary', Buffer.from(`--${b}\r\ncontent-type: text/xml\r\n\r\n<x/>`), 'mime_parsing_failed'],
    ['no boundary at all', Buffer.from('hello'), 'mime_parsing_failed'],
  ])('%s → %s', (_name, body, code) => {
    expect(codeOf(() => decodeTransportMessage(ctype, body, 'request'))).toBe(code)
  })

  it('reads a request without a signature whole (the server proxy refuses it after reading: checkRequest), not a response', () => {
    const unsigned = decodeTransportMessage(ctype, raw(['content-type: application/x-road-rest-request\r\n\r\nGET\r\n/r1\r\n']), 'request')
    expect(unsigned.signature).toBeUndefined()
    expect(codeOf(() => decodeTransportMessage(ctype, raw(['content-type: application/x-road-rest-response\r\n\r\n200\r\n']), 'response'))).toBe('missing_signature')
  })

  it('reads a response whose only part is a text/xml fault (X-Road ProxyMessageEncoder.fault) as an unsigned SOAP part for the caller to judge', () => {
    const fault = Buffer.from('<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Body><SOAP-ENV:Fault><faultcode>server.serverproxy.network_error</faultcode><faultstring>down</faultstring></SOAP-ENV:Fault></SOAP-ENV:Body></SOAP-ENV:Envelope>')
    const encoded = encodeFaultTransportMessage(fault)
    expect(encoded.contentType).toMatch(/^multipart\/mixed; charset=UTF-8; boundary=xtop[a-z]{30}$/)
    expect(encoded.body.toString('latin1')).toMatch(/^--xtop[a-z]{30}\r\ncontent-type: text\/xml; charset=UTF-8\r\n\r\n<SOAP-ENV:Envelope/)
    const m = decodeTransportMessage(encoded.contentType, encoded.body, 'response')
    expect(m.message).toMatchObject({ type: 'soap' })
    expect(m.message.bytes.equals(fault)).toBe(true)
    expect(m.signature).toBeUndefined()
    // A request of that shape stays unsigned (refused by the server proxy); a fault after other parts is `fault`.
    expect(decodeTransportMessage(encoded.contentType, encoded.body, 'request').signature).toBeUndefined()
    expect(codeOf(() => decodeTransportMessage(ctype, raw(['content-type: text/xml\r\n\r\n<x/>', 'content-type: text/plain\r\n\r\nx']), 'response'))).toBe('invalid_content_type')
  })

  it('refuses a wrong content type, oversize messages and too many parts', () => {
    const encoded = encodeRestTransportMessage(input)
    expect(codeOf(() => decodeTransportMessage('text/plain', encoded.body, 'request'))).toBe('invalid_content_type')
    expect(codeOf(() => decodeTransportMessage('multipart/mixed', encoded.body, 'request'))).toBe('invalid_content_type')
    expect(codeOf(() => decodeTransportMessage(encoded.contentType, encoded.body, 'request', { maxBytes: 100, maxParts: 64, maxHeaderBytes: 1024 }))).toBe('body_too_large')
    const many = raw(Array.from({ length: 10 }, () => 'content-type: application/ocsp-response\r\n\r\nx'))
    expect(codeOf(() => parseMultipart(many, b, { maxBytes: 1e6, maxParts: 5, maxHeaderBytes: 1024 }))).toBe('invalid_message')
  })

  it('emits and checks the transport HTTP headers', () => {
    expect(transportRequestHeaders({ requestId: 'r', originalContentType: 'application/json', proxyVersion: '7.8.0' })).toEqual([
      ['x-road-request-id', 'r'], ['x-hash-algorithm', 'SHA-512'], ['x-original-content-type', 'application/json'],
      ['x-proxy-version', '7.8.0'], ['x-road-message-type', 'REST'],
    ])
    expect(() => checkHashAlgorithm('sha-512')).not.toThrow()
    expect(codeOf(() => checkHashAlgorithm(undefined))).toBe('missing_header')
    expect(codeOf(() => checkHashAlgorithm('SHA-1'))).toBe('invalid_message')
  })
})

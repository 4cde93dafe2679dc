import { describe, expect, it, vi } from 'vitest'
import { defaultBodyStore, splitMultipart } from '../../src-main/proxy'
import { receiveSoapMessage } from '../../src-main/proxy/soap/soap-transport'
import { decodeSoapMessage, readSoap, withRequestHash } from '../../src-main/soap'
import { compareWithBenign, expectRefusal } from './support/bounded-time'

/**
 * SOAP from outside (`soap/soap-parser.ts` on the platform XML scanner, `soap/soap-message-decoder.ts` on the proxy's
 * multipart reader): adversarial shapes are refused with X-Road's codes and bounded messages, or read, in time
 * comparable to a benign envelope of the same size measured in the same run. Bound: O(n).
 */
vi.setConfig({ testTimeout: 180_000 })

const SIZE = 2 * 1024 * 1024
const NS = 'xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xroad="http://x-road.eu/xsd/xroad.xsd" xmlns:id="http://x-road.eu/xsd/identifiers"'
const HEADER =
  '<xroad:client id:objectType="MEMBER"><id:xRoadInstance>EE</id:xRoadInstance><id:memberClass>GOV</id:memberClass><id:memberCode>1</id:memberCode></xroad:client>' +
  '<xroad:service id:objectType="SERVICE"><id:xRoadInstance>EE</id:xRoadInstance><id:memberClass>GOV</id:memberClass><id:memberCode>2</id:memberCode><id:serviceCode>op</id:serviceCode></xroad:service>' +
  '<xroad:id>1</xroad:id><xroad:protocolVersion>4.0</xroad:protocolVersion>'

function envelope(header: string, body: string): Buffer {
  return Buffer.from(`<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope ${NS}><SOAP-ENV:Header>${header}</SOAP-ENV:Header><SOAP-ENV:Body>${body}</SOAP-ENV:Body></SOAP-ENV:Envelope>`)
}

/** The same size filler in each shape, so the inputs compare by size. */
function repeatTo(unit: string, bytes = SIZE): string {
  return unit.repeat(Math.ceil(bytes / unit.length))
}

const benign = envelope(HEADER, `<op xmlns="urn:a">${repeatTo('<item id="1"><name>Agency &amp; Co</name><v>12345</v></item>\n')}</op>`)
const readBenign = () => readSoap(benign, 'text/xml')

describe('SOAP envelopes', () => {
  const refused: Array<[string, () => Buffer, string]> = [
    ['body nested 100 000 levels deep', () => envelope(HEADER, `<op xmlns="urn:a">${'<a>'.repeat(SIZE / 3)}`), 'invalid_soap'],
    ['an element with 200 000 attributes', () => envelope(HEADER, `<op xmlns="urn:a" ${Array.from({ length: SIZE / 12 }, (_, i) => `a${i}="1"`).join(' ')}/>`), 'invalid_soap'],
    ['an element with 100 000 namespace declarations', () => envelope(HEADER, `<op ${Array.from({ length: SIZE / 20 }, (_, i) => `xmlns:p${i}="urn:${i}"`).join(' ')}/>`), 'invalid_soap'],
    ['a header of 200 000 elements', () => envelope(HEADER + repeatTo('<x:h xmlns:x="urn:x"/>'), '<op/>'), 'invalid_soap'],
    ['200 000 duplicate client headers', () => envelope(repeatTo(HEADER.slice(0, HEADER.indexOf('<xroad:service'))), '<op/>'), 'duplicate_header_field'],
    ['an element name of 2 MB', () => envelope(HEADER, `<${'n'.repeat(SIZE)}/>`), 'invalid_soap'],
    ['a DTD with entity expansion', () => Buffer.concat([Buffer.from('<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]>'), benign]), 'invalid_soap'],
    ['200 000 body elements', () => envelope(HEADER, repeatTo('<op/><op/>')), 'invalid_body'],
  ]
  for (const [name, make, code] of refused) {
    it(`refuses ${name} (${code}) in time comparable to a benign envelope`, async () => {
      const input = make()
      const { adversarial } = await compareWithBenign(`soap: ${name}`, () => readSoap(input, 'text/xml'), readBenign)
      expectRefusal(adversarial, code, 300)
    })
  }

  const accepted: Array<[string, () => Buffer]> = [
    ['a 2 MB userId made of references', () => envelope(`${HEADER}<xroad:userId>${repeatTo('&amp;&#x41;')}</xroad:userId>`, '<op/>')],
    ['100 000 elements each declaring a namespace', () => envelope(HEADER, `<op xmlns="urn:a">${repeatTo('<p:e xmlns:p="urn:p">1</p:e>')}</op>`)],
    ['a 2 MB CDATA section and comments', () => envelope(HEADER, `<op xmlns="urn:a"><![CDATA[${repeatTo('<x>&', SIZE / 2)}]]>${repeatTo('<!-- c -->', SIZE / 2)}</op>`)],
  ]
  for (const [name, make] of accepted) {
    it(`reads ${name} in time comparable to a benign envelope`, async () => {
      const input = make()
      const { adversarial } = await compareWithBenign(`soap: ${name}`, () => readSoap(input, 'text/xml'), readBenign)
      expect(adversarial.error).toBeUndefined()
    })
  }

  it('rewrites a 2 MB response with its requestHash in time comparable to reading it', async () => {
    const response = envelope(HEADER, `<opResponse xmlns="urn:a">${repeatTo('<item>1</item>')}</opResponse>`)
    const read = readSoap(response, 'text/xml')
    if (read.kind !== 'message') throw new Error('expected a message')
    const { adversarial } = await compareWithBenign('soap: requestHash rewrite', () => withRequestHash(read, benign), readBenign, { factor: 8 })
    expect(adversarial.error).toBeUndefined()
  })
})

describe('SOAP with attachments', () => {
  const BOUNDARY = 'MIMEBoundary0123456789'
  const TYPE = `multipart/related; type="text/xml"; boundary=${BOUNDARY}`
  const soapPart = envelope(HEADER, '<op/>')
  const part = (contentType: string, body: Buffer | string) => Buffer.concat([Buffer.from(`--${BOUNDARY}\r\nContent-Type: ${contentType}\r\n\r\n`), Buffer.from(body), Buffer.from('\r\n')])
  const related = (...parts: Buffer[]) => Buffer.concat([...parts, Buffer.from(`--${BOUNDARY}--\r\n`)])
  const benignRelated = related(part('text/xml', soapPart), part('application/octet-stream', Buffer.alloc(SIZE, 0x61)))
  const readBenignRelated = () => decodeSoapMessage(TYPE, benignRelated, splitMultipart)

  it('refuses 200 000 parts (invalid_message) in time comparable to one large attachment', async () => {
    const many = related(part('text/xml', soapPart), Buffer.from(repeatTo(`--${BOUNDARY}\r\nContent-Type: a/b\r\n\r\nx\r\n`)))
    const { adversarial } = await compareWithBenign('soap: many parts', () => decodeSoapMessage(TYPE, many, splitMultipart), readBenignRelated)
    expectRefusal(adversarial, 'invalid_message', 200)
  })

  it('refuses multipart attachments nested deeper than it reads (mime_parsing_failed)', async () => {
    let nested = Buffer.from('x')
    for (let depth = 0; depth < 6; depth++) {
      const b = `n${depth}`
      nested = Buffer.concat([Buffer.from(`--${b}\r\nContent-Type: ${depth === 0 ? 'a/b' : `multipart/mixed; boundary=n${depth - 1}`}\r\n\r\n`), nested, Buffer.from(`\r\n--${b}--`)])
    }
    const message = related(part('text/xml', soapPart), part('multipart/mixed; boundary=n5', nested))
    const { adversarial } = await compareWithBenign('soap: nested multiparts', () => decodeSoapMessage(TYPE, message, splitMultipart), readBenignRelated)
    expectRefusal(adversarial, 'mime_parsing_failed', 200)
  })

  // What the proxies run: the same shapes through the streaming reader (attachments into hashed, spooled bodies).
  const LIMITS = { maxBytes: 64 * 1024 * 1024, maxParts: 64, maxHeaderBytes: 16 * 1024 }
  const stream = (body: Buffer) => {
    const chunks: Buffer[] = []
    for (let i = 0; i < body.length; i += 64 * 1024) chunks.push(body.subarray(i, i + 64 * 1024))
    return chunks
  }
  const receive = async (body: Buffer) => {
    const message = await receiveSoapMessage(TYPE, stream(body), { bodies: defaultBodyStore(), limits: LIMITS, attachmentLimits: [] })
    for (const a of message.attachments) a.body.release()
  }

  it('streamed: refuses 200 000 parts (invalid_message) in time comparable to one large attachment', async () => {
    const many = related(part('text/xml', soapPart), Buffer.from(repeatTo(`--${BOUNDARY}\r\nContent-Type: a/b\r\n\r\nx\r\n`)))
    const { adversarial } = await compareWithBenign('soap stream: many parts', () => receive(many), () => receive(benignRelated))
    expectRefusal(adversarial, 'invalid_message', 200)
  })

  it('streamed: refuses nesting deeper than it reads and a SOAP part without a Content-Type', async () => {
    let nested = Buffer.from('x')
    for (let depth = 0; depth < 6; depth++) {
      nested = Buffer.concat([Buffer.from(`--n${depth}\r\nContent-Type: ${depth === 0 ? 'a/b' : `multipart/mixed; boundary=n${depth - 1}`}\r\n\r\n`), nested, Buffer.from(`\r\n--n${depth}--`)])
    }
    const deep = related(part('text/xml', soapPart), part('multipart/mixed; boundary=n5', nested))
    const { adversarial } = await compareWithBenign('soap stream: nested multiparts', () => receive(deep), () => receive(benignRelated))
    expectRefusal(adversarial, 'mime_parsing_failed', 200)
    const untyped = Buffer.concat([Buffer.from(`--${BOUNDARY}\r\nContent-ID: <x>\r\n\r\n`), soapPart, Buffer.from(`\r\n--${BOUNDARY}--\r\n`)])
    await expect(receive(untyped)).rejects.toMatchObject({ code: 'invalid_content_type' })
  })
})

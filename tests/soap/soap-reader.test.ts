import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { soapFaultResponse, splitMultipart } from '../../src-main/proxy'
import { clientError } from '../../src-main/platform'
import {
  checkConsistency, checkRequestHash, decodeSoapMessage, multipartSegments, readSoap, requestHashOf, REQUEST_HASH_ALGORITHM_ID, SoapFaultError, validateSoapAction,
  withRequestHash, type SoapMessage,
} from '../../src-main/soap'

/** The SOAP reader and the functions around it, on envelopes written here (fixtures: soap-proxy-queries.test.ts). */
const NS = 'xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xroad="http://x-road.eu/xsd/xroad.xsd" xmlns:id="http://x-road.eu/xsd/identifiers"'

interface EnvelopeOptions {
  declaration?: string
  header?: string
  extraHeader?: string
  body?: string
  indent?: string
  envelopeAttributes?: string
}

function envelope(o: EnvelopeOptions = {}): string {
  const i = o.indent ?? '\n    '
  const header = o.header ?? [
    '<xroad:client id:objectType="SUBSYSTEM"><id:xRoadInstance>EE</id:xRoadInstance><id:memberClass>GOV</id:memberClass><id:memberCode>1</id:memberCode><id:subsystemCode>sub</id:subsystemCode></xroad:client>',
    '<xroad:service id:objectType="SERVICE"><id:xRoadInstance>EE</id:xRoadInstance><id:memberClass>GOV</id:memberClass><id:memberCode>2</id:memberCode><id:serviceCode>getThing</id:serviceCode><id:serviceVersion>v1</id:serviceVersion></xroad:service>',
    '<xroad:id>req-1</xroad:id>',
    '<xroad:userId>EE123</xroad:userId>',
    '<xroad:protocolVersion>4.0</xroad:protocolVersion>',
  ].map((h) => i + h).join('') + (o.extraHeader ?? '') + '\n  '
  return `${o.declaration ?? '<?xml version="1.0" encoding="UTF-8"?>\n'}<SOAP-ENV:Envelope ${NS}${o.envelopeAttributes ?? ''}>\n  <SOAP-ENV:Header>${header}</SOAP-ENV:Header>\n  <SOAP-ENV:Body>${o.body ?? '<ns:getThing xmlns:ns="urn:t"><x>1</x></ns:getThing>'}</SOAP-ENV:Body>\n</SOAP-ENV:Envelope>\n`
}

function read(text: string | Buffer, contentType = 'text/xml; charset=UTF-8'): SoapMessage {
  const soap = readSoap(typeof text === 'string' ? Buffer.from(text, 'utf8') : text, contentType)
  if (soap.kind !== 'message') throw new Error(`expected a message, got a fault ${soap.faultCode}`)
  return soap
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (error) {
    return (error as { code?: string }).code
  }
  return undefined
}

describe('SOAP envelope reader', () => {
  it('reads the X-Road header: subsystem client, service with version, id, userId, protocolVersion', () => {
    const soap = read(envelope())
    expect(soap.header.client).toEqual({ objectType: 'SUBSYSTEM', xRoadInstance: 'EE', memberClass: 'GOV', memberCode: '1', subsystemCode: 'sub' })
    expect(soap.header.service).toMatchObject({ serviceCode: 'getThing', serviceVersion: 'v1', memberCode: '2' })
    expect(soap.header).toMatchObject({ id: 'req-1', userId: 'EE123', protocolVersion: '4.0' })
    expect(soap.header.issue).toBeUndefined()
    expect(soap.serviceName).toBe('getThing')
    expect(soap.rpc).toBe(false)
  })

  it('reads securityServer, representedParty and securityToken', () => {
    const soap = read(envelope({
      extraHeader: '<xroad:securityServer id:objectType="SERVER"><id:xRoadInstance>EE</id:xRoadInstance><id:memberClass>GOV</id:memberClass><id:memberCode>2</id:memberCode><id:serverCode>ss1</id:serverCode></xroad:securityServer>' +
        '<repr:representedParty xmlns:repr="http://x-road.eu/xsd/representation.xsd"><repr:partyClass>COM</repr:partyClass><repr:partyCode>9</repr:partyCode></repr:representedParty>' +
        '<tok:securityToken xmlns:tok="http://x-road.eu/xsd/security-token.xsd" tokenType="urn:ietf:params:oauth:token-type:jwt">abc.def</tok:securityToken>',
    }))
    expect(soap.header.securityServer).toMatchObject({ objectType: 'SERVER', serverCode: 'ss1' })
    expect(soap.header.representedParty).toEqual({ partyClass: 'COM', partyCode: '9' })
    expect(soap.header.securityToken).toEqual({ tokenType: 'urn:ietf:params:oauth:token-type:jwt', value: 'abc.def' })
  })

  it('reads CDATA, comments and references in header values; unknown header elements are ignored', () => {
    const soap = read(envelope({
      header: envelope().split('<SOAP-ENV:Header>')[1]!.split('</SOAP-ENV:Header>')[0]!
        .replace('<xroad:userId>EE123</xroad:userId>', '<xroad:userId><![CDATA[a<b]]>&amp;<!-- note -->c&#x41;</xroad:userId><other:x xmlns:other="urn:o">1</other:x>'),
    }))
    expect(soap.header.userId).toBe('a<b&cA')
  })

  it('resolves default namespaces and other prefixes, and notes rpc style', () => {
    const text = '<Envelope xmlns="http://schemas.xmlsoap.org/soap/envelope/" xmlns:e="http://schemas.xmlsoap.org/soap/envelope/" e:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><Header>' +
      '<client xmlns="http://x-road.eu/xsd/xroad.xsd" xmlns:i="http://x-road.eu/xsd/identifiers" i:objectType="MEMBER"><i:xRoadInstance>EE</i:xRoadInstance><i:memberClass>GOV</i:memberClass><i:memberCode>1</i:memberCode></client>' +
      '<service xmlns="http://x-road.eu/xsd/xroad.xsd" xmlns:i="http://x-road.eu/xsd/identifiers" i:objectType="SERVICE"><i:xRoadInstance>EE</i:xRoadInstance><i:memberClass>GOV</i:memberClass><i:memberCode>2</i:memberCode><i:serviceCode>op</i:serviceCode></service>' +
      '<id xmlns="http://x-road.eu/xsd/xroad.xsd">x</id><protocolVersion xmlns="http://x-road.eu/xsd/xroad.xsd">4.1</protocolVersion></Header><Body><op xmlns="urn:a"/></Body></Envelope>'
    const soap = read(text)
    expect(soap.header.id).toBe('x')
    expect(soap.rpc).toBe(true)
    expect(soap.layout.idPrefix).toBe('')
  })

  it('accepts the response wrapper {serviceCode}Response and refuses another name (inconsistent_headers)', () => {
    expect(read(envelope({ body: '<a:getThingResponse xmlns:a="urn:a"/>' })).serviceName).toBe('getThingResponse')
    expect(codeOf(() => read(envelope({ body: '<a:other xmlns:a="urn:a"/>' })))).toBe('inconsistent_headers')
  })

  it.each([
    ['a DTD', (e: string) => e.replace('<SOAP-ENV:Envelope', '<!DOCTYPE x [<!ENTITY a "b">]><SOAP-ENV:Envelope'), 'invalid_soap'],
    ['a root that is not the envelope', () => '<a/>', 'invalid_soap'],
    ['an unbound prefix', (e: string) => e.replace('<x>1</x>', '<q:x>1</q:x>'), 'invalid_soap'],
    ['malformed XML', (e: string) => e.replace('</SOAP-ENV:Body>', '</SOAP-ENV:Bod>'), 'invalid_soap'],
    ['a duplicate identifier part', (e: string) => e.replace('<id:memberCode>1</id:memberCode>', '<id:memberCode>1</id:memberCode><id:memberCode>3</id:memberCode>'), 'duplicate_header_field'],
    ['a duplicate id', (e: string) => e.replace('<xroad:id>req-1</xroad:id>', '<xroad:id>req-1</xroad:id><xroad:id>req-2</xroad:id>'), 'duplicate_header_field'],
    ['an unknown objectType', (e: string) => e.replace('id:objectType="SUBSYSTEM"', 'id:objectType="PERSON"'), 'invalid_xml'],
    ['a service objectType on the client', (e: string) => e.replace('id:objectType="SUBSYSTEM"', 'id:objectType="SERVICE"'), 'invalid_xml'],
    ['protocolVersion 3.1', (e: string) => e.replace('>4.0<', '>3.1<'), 'invalid_protocol_version'],
    ['no id', (e: string) => e.replace('<xroad:id>req-1</xroad:id>', ''), 'missing_header_field'],
    ['a client without memberCode', (e: string) => e.replace('<id:memberCode>1</id:memberCode>', ''), 'invalid_xml'],
    ['two body elements', (e: string) => e.replace('</ns:getThing>', '</ns:getThing><b/>'), 'invalid_body'],
    ['invalid UTF-8', (e: string) => e.replace('<x>1</x>', '<x>\u0000</x>'), 'invalid_soap'],
  ])('refuses %s with %s', (_name, mutate, code) => {
    expect(codeOf(() => read(mutate(envelope())))).toBe(code)
  })

  it('refuses bytes that are not UTF-8 in a UTF-8 message, and an encoding it does not read', () => {
    const bytes = Buffer.concat([Buffer.from(envelope().split('<x>1</x>')[0]!), Buffer.from([0xc3, 0x28]), Buffer.from(envelope().split('<x>1</x>')[1]!)])
    expect(codeOf(() => readSoap(bytes, 'text/xml'))).toBe('invalid_soap')
    expect(codeOf(() => read(envelope({ declaration: '<?xml version="1.0" encoding="EBCDIC-XYZ"?>' })))).toBe('invalid_soap')
  })

  it('refuses media types other than text/xml and application/xop+xml (invalid_content_type)', () => {
    expect(codeOf(() => readSoap(Buffer.from(envelope()), 'application/json'))).toBe('invalid_content_type')
    expect(codeOf(() => decodeSoapMessage('blah', Buffer.from(envelope()), splitMultipart))).toBe('invalid_content_type')
  })

  it('keeps a UTF-8 BOM in the bytes and reads ISO-8859-1 by declaration or by Content-Type charset', () => {
    const withBom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(envelope())])
    expect(read(withBom).bytes.equals(withBom)).toBe(true)
    const latin = Buffer.from(envelope({ declaration: '<?xml version="1.0" encoding="ISO-8859-1"?>\n' }).replace('EE123', 'J\u00e4rvi'), 'latin1')
    const soap = read(latin, 'text/xml; charset=UTF-8')
    expect(soap.charset).toBe('ISO-8859-1')
    expect(soap.header.userId).toBe('J\u00e4rvi')
    const undeclared = Buffer.from(envelope({ declaration: '' }).replace('EE123', 'J\u00e4rvi'), 'latin1')
    expect(read(undeclared, 'text/xml; charset="ISO-8859-1"').header.userId).toBe('J\u00e4rvi')
  })

  it('returns a fault in the body as a fault, whatever the header', () => {
    const fault = readSoap(Buffer.from(`<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body><e:Fault><faultcode>e:Server</faultcode><faultstring>boom &amp; more</faultstring><detail><faultDetail>d-1</faultDetail></detail></e:Fault></e:Body></e:Envelope>`), 'text/xml')
    expect(fault).toMatchObject({ kind: 'fault', faultCode: 'e:Server', faultString: 'boom & more', faultDetail: 'd-1' })
  })
})

describe('requestHash (ResponseSoapParserImpl, ClientMessageProcessor.checkRequestHash)', () => {
  const request = Buffer.from(envelope())
  const hash = createHash('sha512').update(request).digest('base64')

  it('inserts it right after </xroad:id> with the prefix and the header indentation; every other byte stays', () => {
    const response = read(envelope({ body: '<a:getThingResponse xmlns:a="urn:a">ok</a:getThingResponse>' }))
    const rewritten = withRequestHash(response, request)
    const element = `\n    <xroad:requestHash algorithmId="${REQUEST_HASH_ALGORITHM_ID}">${hash}</xroad:requestHash>`
    const at = response.bytes.indexOf('</xroad:id>') + '</xroad:id>'.length
    expect(rewritten.bytes.toString()).toBe(response.bytes.subarray(0, at).toString() + element + response.bytes.subarray(at).toString())
    expect(rewritten.header.requestHash).toEqual({ algorithmId: REQUEST_HASH_ALGORITHM_ID, value: hash })
    expect(() => checkRequestHash(rewritten, request)).not.toThrow()
  })

  it('drops a requestHash the service wrote, before or after the id', () => {
    for (const where of ['before', 'after'] as const) {
      const forged = '<xroad:requestHash algorithmId="x">Zm9yZ2Vk</xroad:requestHash>'
      const text = envelope({ body: '<a:getThingResponse xmlns:a="urn:a"/>' })
        .replace('<xroad:id>req-1</xroad:id>', where === 'before' ? `${forged}<xroad:id>req-1</xroad:id>` : `<xroad:id>req-1</xroad:id>${forged}`)
      const rewritten = withRequestHash(read(text), request)
      expect(rewritten.bytes.toString()).not.toContain('Zm9yZ2Vk')
      expect(rewritten.header.requestHash?.value).toBe(hash)
    }
  })

  it('uses no indentation when the header has none, and keeps ISO-8859-1 bytes', () => {
    const compact = read(envelope({ indent: '', body: '<a:getThingResponse xmlns:a="urn:a"/>' }).replace(/\n\s*/g, ''))
    expect(withRequestHash(compact, request).bytes.toString()).toContain(`</xroad:id><xroad:requestHash algorithmId="${REQUEST_HASH_ALGORITHM_ID}">`)
    const latin = Buffer.from(envelope({ declaration: '<?xml version="1.0" encoding="ISO-8859-1"?>', body: '<a:getThingResponse xmlns:a="urn:a">\u00e4</a:getThingResponse>' }), 'latin1')
    const rewritten = withRequestHash(read(latin), request)
    expect(rewritten.bytes.includes(Buffer.from([0x3e, 0xe4, 0x3c]))).toBe(true)
  })

  it('refuses a response without it or with the hash of another request (inconsistent_response)', () => {
    const response = read(envelope({ body: '<a:getThingResponse xmlns:a="urn:a"/>' }))
    expect(codeOf(() => checkRequestHash(response, request))).toBe('inconsistent_response')
    const other = withRequestHash(response, Buffer.from(envelope({ extraHeader: '<xroad:issue>x</xroad:issue>' })))
    expect(codeOf(() => checkRequestHash(other, request))).toBe('inconsistent_response')
    expect(requestHashOf(request)).toBe(hash)
  })
})

describe('consumer consistency check (SoapUtils.checkConsistency)', () => {
  const request = read(envelope())
  it.each([
    ['client', (e: string) => e.replace('<id:subsystemCode>sub</id:subsystemCode>', '<id:subsystemCode>other</id:subsystemCode>')],
    ['service', (e: string) => e.replace('<id:serviceVersion>v1</id:serviceVersion>', '<id:serviceVersion>v2</id:serviceVersion>')],
    ['userId', (e: string) => e.replace('EE123', 'EE124')],
    ['issue', (e: string) => e.replace('<xroad:id>', '<xroad:issue/><xroad:id>')],
    ['id', (e: string) => e.replace('req-1', 'req-2')],
  ])('refuses a response whose %s differs (service_failed.inconsistent_response)', (_field, mutate) => {
    const response = read(mutate(envelope({ body: '<a:getThingResponse xmlns:a="urn:a"/>' })))
    let error: unknown
    try {
      checkConsistency(request.header, response.header)
    } catch (caught) {
      error = caught
    }
    expect((error as { faultCode?: string }).faultCode).toBe('service_failed.inconsistent_response')
  })

  it('does not compare protocolVersion, requestHash or securityServer', () => {
    const response = read(envelope({ body: '<a:getThingResponse xmlns:a="urn:a"/>' }).replace('>4.0<', '>4.1<'))
    expect(() => checkConsistency(request.header, withRequestHash(response, request.bytes).header)).not.toThrow()
  })
})

describe('SOAPAction (MessageProcessorBase.validateSoapActionHeader)', () => {
  it.each([undefined, '', '""', '"urn:getThing"', '"http://example.org/a?b=c#d"', '"getThing"'])('accepts %j', (value) => {
    expect(validateSoapAction(value)).toBe(value)
  })
  it.each(['getThing', '"a b"', '"x', '"%zz"', '"a#b#c"', '"<x>"'])('refuses %j (invalid_soap_action)', (value) => {
    expect(codeOf(() => validateSoapAction(value))).toBe('invalid_soap_action')
  })
})

describe('SOAP faults as X-Road writes them (SoapFault.createFaultXml)', () => {
  it('answers HTTP 200 text/xml with the snake_case code, empty faultactor and the detail', () => {
    const response = soapFaultResponse(clientError('missing_body', 'Malformed SOAP message: body missing').withPrefix('server.clientproxy').withPrefix('client'), () => 'uuid-1')
    expect(response.status).toBe(200)
    expect(response.headers).toContainEqual(['Content-Type', 'text/xml; charset=UTF-8'])
    expect(response.body.toString()).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Body><SOAP-ENV:Fault>' +
      '<faultcode>client.server.clientproxy.missing_body</faultcode><faultstring>Malformed SOAP message: body missing</faultstring><faultactor></faultactor>' +
      '<detail><faultDetail xmlns="">uuid-1</faultDetail></detail></SOAP-ENV:Fault></SOAP-ENV:Body></SOAP-ENV:Envelope>',
    )
  })

  it('keeps a forwarded fault\'s own code, actor and detail (CodedException.Fault)', () => {
    const fault = new SoapFaultError({ faultCode: 'CODE', faultString: 'STRING', faultActor: 'ACTOR', faultDetail: 'DETAIL' })
    const body = soapFaultResponse(fault).body.toString()
    expect(body).toContain('<faultcode>CODE</faultcode><faultstring>STRING</faultstring><faultactor>ACTOR</faultactor><detail><faultDetail xmlns="">DETAIL</faultDetail>')
    expect(fault.withPrefix('client').faultCode).toBe('client.CODE')
  })
})

/** A small seeded generator (mulberry32) so a failure names its seed. */
function random(seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

describe('property: the message\'s own bytes are kept', () => {
  const pieces = ['', ' ', '\n', '\r\n\t', '<!-- c -->', '<![CDATA[ <x> ]]>', '&amp;', '&#x263A;', '\u00e4\u00f5', '\u{1F600}']
  it('reads 300 random envelopes (white space, comments, CDATA, references, BOM, attribute quoting) and returns their bytes unchanged', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const r = random(seed)
      const pick = () => pieces[Math.floor(r() * pieces.length)] as string
      const ws = () => [' ', '\n', '\t', '\r\n  '][Math.floor(r() * 4)] as string
      const userId = `u${pick().replace(/<!--.*-->|<!\[CDATA\[.*\]\]>/, '')}${seed}`
      let text = envelope({ indent: ws() + ws(), body: `<b:getThing xmlns:b='urn:b'${ws()}a="${pick().replace(/[<&]/g, '')}">${pick()}${pick()}<c>${pick()}</c></b:getThing>` })
        .replace('EE123', userId.replace(/&(?!amp;|#x263A;)/g, '&amp;'))
      if (r() < 0.5) text = text.replace('<SOAP-ENV:Header>', `<SOAP-ENV:Header${ws()}>${pick()}`)
      const bytes = Buffer.concat([r() < 0.3 ? Buffer.from([0xef, 0xbb, 0xbf]) : Buffer.alloc(0), Buffer.from(text, 'utf8')])
      let soap: SoapMessage
      try {
        soap = read(bytes)
      } catch (error) {
        throw new Error(`seed ${seed}: ${(error as Error).message}`)
      }
      expect(soap.bytes.equals(bytes), `seed ${seed}`).toBe(true)
      expect(soap.header.id, `seed ${seed}`).toBe('req-1')
      const rewritten = withRequestHash(read(Buffer.from(bytes.toString('utf8').replace('<b:getThing', '<b:getThingResponse').replace('</b:getThing>', '</b:getThingResponse>'))), bytes)
      expect(() => checkRequestHash(rewritten, bytes), `seed ${seed}`).not.toThrow()
    }
  })
})

describe('multipart SOAP writer (MultipartSoapMessageEncoder)', () => {
  it('writes parts with their headers under the given boundary, and reads back to the same SOAP bytes and attachments', () => {
    const soap = Buffer.from(envelope())
    const segments = multipartSegments<Uint8Array>('b0undary', [
      { contentType: 'text/xml; charset=UTF-8', headers: [['Content-ID', '<root>'], ['Content-Type', 'ignored']], body: soap },
      { contentType: 'application/octet-stream', headers: [['Content-ID', '<a1>'], ['Content-Transfer-Encoding', 'binary']], body: Buffer.from([0, 1, 2, 13, 10]) },
    ])
    const written = Buffer.concat(segments.map((s) => Buffer.from(s)))
    expect(written.toString('latin1').startsWith('--b0undary\r\nContent-Type: text/xml; charset=UTF-8\r\nContent-ID: <root>\r\n\r\n')).toBe(true)
    expect(written.toString('latin1').endsWith('\r\n--b0undary--\r\n')).toBe(true)
    const read = decodeSoapMessage('multipart/related; type="text/xml"; boundary=b0undary', written, splitMultipart)
    expect(read.soap.bytes.equals(soap)).toBe(true)
    expect(read.attachments[0]?.body.equals(Buffer.from([0, 1, 2, 13, 10]))).toBe(true)
    expect(read.attachments[0]?.headers).toContainEqual(['Content-Transfer-Encoding', 'binary'])
  })
})

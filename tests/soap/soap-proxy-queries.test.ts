import { describe, expect, it } from 'vitest'
import { splitMultipart } from '../../src-main/proxy'
import { decodeSoapMessage, type DecodedSoapMessage } from '../../src-main/soap'
import { describeFixtures } from '../support/describe-fixtures'
import { listFixtures, readFixture } from '../support/fixtures'

/**
 * Conformance of the SOAP reader with X-Road's proxy test suite: every query and answer of
 * `messages/soap-proxy-queries` read as the client proxy reads an information system's request, or as the server
 * proxy reads a service's response, with the outcome X-Road's test case class expects at that step
 * (`src/service/proxy/proxy-core/src/test/java/.../testsuite/testcases/*.java`; where no class uses a file, the outcome
 * `SaxSoapParserImpl` gives). Fault codes are leaf codes: the pipelines add `client.` / `server.serverproxy.service_failed.`.
 */
const DIR = ['messages', 'soap-proxy-queries']
const BOUNDARY = 'jetty771207119h3h10dty'
const RELATED = `multipart/related; charset=UTF-8; boundary=${BOUNDARY}`
const MTOM = `Multipart/Related; start-info="application/soap+xml"; type="application/xop+xml"; boundary="${BOUNDARY}"`

type Outcome = 'message' | 'fault' | string

interface Case {
  /** X-Road's test case class (or the parser class) the expectation comes from. */
  source: string
  expect: Outcome
  contentType?: string
  attachments?: number
}

/** Requests from an information system (client proxy). */
const QUERIES: Record<string, Case> = {
  'allowedMethods.query': { source: 'AllowedMethodsMessage', expect: 'message' },
  'attach-error-withsoap.query': { source: 'SaxSoapParserImpl (body `test` vs service code `testQuery`)', expect: 'inconsistent_headers' },
  'attachm-error.query': { source: 'AttachmentFaulty', expect: 'invalid_content_type', contentType: RELATED },
  'attachm-faulty-soap.query': { source: 'AttachmentFaultySoap', expect: 'missing_header_field', contentType: RELATED },
  'attachm-mtom.query': { source: 'AttachmentMTOM', expect: 'message', contentType: MTOM, attachments: 1 },
  'attachm-no-soap.query': { source: 'AttachmentNoSoap', expect: 'invalid_content_type', contentType: RELATED },
  'attachm.query': { source: 'Attachment', expect: 'message', contentType: RELATED, attachments: 1 },
  'attachm2-utf8bom-inside.query': { source: 'Utf8BomAttachment2', expect: 'message', contentType: `multipart/related; boundary=${BOUNDARY}`, attachments: 1 },
  'attachm2.query': { source: 'Attachment2', expect: 'message', contentType: `multipart/related; boundary=${BOUNDARY}`, attachments: 1 },
  'attachments.query': { source: 'SeveralAttachments', expect: 'message', contentType: RELATED, attachments: 3 },
  'bigAttachment.query': { source: 'AttachmentBig (its SOAP part)', expect: 'message' },
  'cdata.query': { source: 'CDATAMessage', expect: 'message' },
  'empty.query': { source: 'EmptyQuery', expect: 'invalid_soap' },
  'fault.query': { source: 'SoapFaultToClientProxy', expect: 'fault' },
  'faulty-header.query': { source: 'FaultyHeaderResponse', expect: 'missing_header_field' },
  'faulty-header2.query': { source: 'FaultyHeader', expect: 'duplicate_header_field' },
  'faulty-multipart.query': { source: 'ServiceFaultyMultipart (no part found; the server proxy answers invalid_message)', expect: 'missing_soap', contentType: RELATED },
  'getstate-defaultnamespace.query': { source: 'DefaultNamespaceMessage', expect: 'message' },
  'getstate-subsystem.query': { source: 'NormalSubsystem', expect: 'message' },
  'getstate.query': { source: 'NormalMessage', expect: 'message' },
  'inconsistent-headers.query': { source: 'SaxSoapParserImpl (body `testFoo` vs service code `testQuery`)', expect: 'inconsistent_headers' },
  'invalid-service-address.query': { source: 'InvalidServiceAddress', expect: 'message' },
  'listMethods.query': { source: 'ListMethodsMessage', expect: 'message' },
  'malformed-body1.query': { source: 'MalformedBody1', expect: 'invalid_body' },
  'malformed-body2.query': { source: 'MalformedBody2', expect: 'invalid_body' },
  'malformed-body3.query': { source: 'MalformedBody3', expect: 'inconsistent_headers' },
  'malformed-protocolVersion.query': { source: 'MalformedProtocolVersionHeader', expect: 'invalid_protocol_version' },
  'mimesoap.query': { source: 'MimeSoap', expect: 'message', contentType: RELATED },
  'missing-body.query': { source: 'MissingBody', expect: 'missing_body' },
  'missing-org.query': { source: 'MissingOrg (unknown_member comes later, from global configuration)', expect: 'message' },
  'missing-protocolVersion.query': { source: 'MissingProtocolVersionHeader', expect: 'missing_header_field' },
  'missing-userId.query': { source: 'MissingUserIdHeader', expect: 'message' },
  'missingobjecttype.query': { source: 'MissingObjectTypeMessage', expect: 'invalid_xml' },
  'no-header.query': { source: 'MissingHeader', expect: 'missing_header' },
  'notAllowed.query': { source: 'NotAllowed (access_denied comes later, at the provider)', expect: 'message' },
  'nowhitespace.query': { source: 'NoWhitespaceMessage', expect: 'message' },
  'proxyemulator.query': { source: 'InvalidContentTypeFromServerProxy', expect: 'message' },
  'request-suffix.query': { source: 'SaxSoapParserImpl (`testQueryRequest` starts with `testQuery`)', expect: 'message' },
  'signing-error-request.query': { source: 'SigningFailsInClientProxy', expect: 'message' },
  'signing-error-response.query': { source: 'SigningFailsInServerProxy', expect: 'message' },
  'simple-representedparty.query': { source: 'SaxSoapParserImpl (representedParty)', expect: 'message' },
  'simple-rpc.query': { source: 'SaxSoapParserImpl (rpc)', expect: 'message' },
  'simple.query': { source: 'CommentMessage', expect: 'message' },
  'smallAttachment.query': { source: 'SaxSoapParserImpl', expect: 'message' },
  'soapfault-mtom.query': { source: 'SoapFaultInMultipartResponse', expect: 'message', contentType: MTOM },
  'soapfaulterror.query': { source: 'SaxSoapParserImpl (a fault in the body)', expect: 'fault' },
  'split-header.query': { source: 'SplitHeaderMessage', expect: 'message' },
  'wrong-protocolVersion.query': { source: 'WrongProtocolVersionHeader', expect: 'invalid_protocol_version' },
  'wrong-version.query': { source: 'SaxSoapParserImpl (protocolVersion xxx)', expect: 'invalid_protocol_version' },
  'xml.query': { source: 'ServerClientInconsistency (request side)', expect: 'message' },
  'xmlencoded.query': { source: 'XmlEncodedMessage', expect: 'message' },
}

/** Responses from a service (server proxy). */
const ANSWERS: Record<string, Case> = {
  'attachm-mtom.answer': { source: 'AttachmentMTOM', expect: 'message', contentType: MTOM, attachments: 1 },
  'attachm.answer': { source: 'Attachment', expect: 'message' },
  'attachm2-utf8bom-inside.answer': { source: 'Utf8BomAttachment2', expect: 'message', contentType: RELATED, attachments: 1 },
  'attachm2.answer': { source: 'Attachment2', expect: 'message', contentType: RELATED, attachments: 1 },
  'attachment-small-mantis.answer': { source: 'AttachmentSmallMantis', expect: 'message' },
  'attachments.answer': { source: 'SeveralAttachmentsResponse', expect: 'message', contentType: RELATED, attachments: 3 },
  'bigAttachment.answer': { source: 'AttachmentBig', expect: 'message' },
  'cdata.answer': { source: 'CDATAMessage', expect: 'message' },
  'customfault.answer': { source: 'SaxSoapParserImpl (a service fault)', expect: 'fault' },
  'customsoapenv.answer': { source: 'SaxSoapParserImpl (a service fault, other envelope prefix)', expect: 'fault' },
  'faulty-fault.answer': { source: 'ServiceFaultyFault', expect: 'fault' },
  'getstate-iso88591.answer': { source: 'NonUtf8ResponseContentType', expect: 'message', contentType: 'text/xml; charset=ISO-8859-1' },
  'getstate-subsystem.answer': { source: 'NormalSubsystem', expect: 'message' },
  'getstate.answer': { source: 'NormalMessage', expect: 'message' },
  'mimesoap.answer': { source: 'MimeSoap', expect: 'message', contentType: RELATED },
  'missing-userId.answer': { source: 'MissingUserIdHeader', expect: 'message' },
  'nowhitespace.answer': { source: 'NoWhitespaceMessage', expect: 'message' },
  'requesthash.answer': { source: 'ResponseWithRequestHash', expect: 'message' },
  'response-with-requestId.answer': { source: 'SaxSoapParserImpl', expect: 'message' },
  'simple-comment.answer': { source: 'CommentMessage', expect: 'message' },
  'simple.answer': { source: 'CommentMessage', expect: 'message' },
  'smallAttachment.answer': { source: 'SaxSoapParserImpl', expect: 'message' },
  'soapfault-mtom.answer': { source: 'SoapFaultInMultipartResponse', expect: 'fault', contentType: MTOM },
  'split-header.answer': { source: 'SplitHeaderMessage', expect: 'message' },
  'xmlencoded.answer': { source: 'XmlEncodedMessage', expect: 'message' },
  'xop.answer': { source: 'SaxSoapParserImpl (MTOM answer)', expect: 'message', attachments: 1 },
}

/** Files that are not a SOAP message from an information system or a service. */
const NOT_SOAP_MESSAGES: Record<string, string> = {
  'no-signature.query': 'a transport message between security servers (NoSignatureToServerProxy; tests/soap phase 2)',
  'no-soap.query': 'a transport message between security servers (NoSoapToServerProxy)',
  'signature.xml': 'a signature document',
  'simplesoap.xml': 'a SOAP message used by unit tests of X-Road\'s SOAP builder, not by the proxy suite',
  'test.ocsp': 'an OCSP response',
}

/** The content type a fixture is sent with: the test case's, else multipart by its first line, else text/xml. */
function contentTypeOf(file: string, body: Buffer, given?: string): string {
  if (given !== undefined) return given
  if (body.subarray(0, 2).toString() === '--') {
    const line = body.subarray(2, body.indexOf('\n')).toString('latin1').trim()
    return `multipart/related; charset=UTF-8; boundary=${line}`
  }
  return file.endsWith('.answer') ? 'text/xml; charset=UTF-8' : 'text/xml; charset=utf-8'
}

function outcome(file: string, c: Case): { got: Outcome; decoded?: DecodedSoapMessage } {
  const body = readFixture(...DIR, file)
  try {
    const decoded = decodeSoapMessage(contentTypeOf(file, body, c.contentType), body, splitMultipart)
    return { got: decoded.soap.kind, decoded }
  } catch (error) {
    return { got: (error as { code?: string }).code ?? String(error) }
  }
}

describeFixtures('conformance: SOAP reader on messages/soap-proxy-queries (X-Road proxy test cases)', () => {
  it('has an expectation for every query and answer present', () => {
    const files = listFixtures(...DIR)
    const unexplained = files.filter((f) => QUERIES[f] === undefined && ANSWERS[f] === undefined && NOT_SOAP_MESSAGES[f] === undefined)
    expect(unexplained).toEqual([])
  })

  for (const [file, c] of [...Object.entries(QUERIES), ...Object.entries(ANSWERS)]) {
    it(`${file}: ${c.expect} (${c.source})`, () => {
      if (!listFixtures(...DIR).includes(file)) return expect(NOT_SOAP_MESSAGES[file]).toBeUndefined()
      const { got, decoded } = outcome(file, c)
      expect(got).toBe(c.expect)
      if (c.attachments !== undefined) expect(decoded?.attachments.length).toBe(c.attachments)
    })
  }

  it('keeps the SOAP part\'s own bytes: a text/xml message is the whole body, a multipart one its first part', () => {
    const plain = readFixture(...DIR, 'getstate.query')
    const read = decodeSoapMessage('text/xml; charset=utf-8', plain, splitMultipart)
    expect(read.soap.bytes.equals(plain)).toBe(true)
    const related = readFixture(...DIR, 'attachm.query')
    const parts = decodeSoapMessage(RELATED, related, splitMultipart)
    const start = related.indexOf('<?xml')
    expect(parts.soap.bytes.equals(related.subarray(start, start + parts.soap.bytes.length))).toBe(true)
  })

  it('Attachment: the attachment keeps its own MIME headers (Client-Header) and raw bytes', () => {
    const decoded = decodeSoapMessage(RELATED, readFixture(...DIR, 'attachm.query'), splitMultipart)
    const [attachment] = decoded.attachments
    expect(attachment?.headers).toContainEqual(['Client-Header', 'FooBar'])
    expect(attachment?.contentType).toBe('text/plain')
    expect(attachment?.body.toString()).toBe('blaah')
  })

  it('MTOM: the root part is application/xop+xml; the xop:Include target is an attachment with its Content-ID', () => {
    const decoded = decodeSoapMessage(MTOM, readFixture(...DIR, 'attachm-mtom.query'), splitMultipart)
    expect(decoded.soapPartHeaders).toContainEqual(['Content-ID', '<foo>'])
    expect(decoded.attachments[0]?.headers).toContainEqual(['Content-ID', '<42a7ee0a-20ee-426b-a135-094d72bc138f@example.org>'])
  })

  it('reads the header fields as X-Road does: ids, userId, empty issue, protocolVersion, split values', () => {
    const getstate = decodeSoapMessage('text/xml', readFixture(...DIR, 'getstate.query'), splitMultipart).soap
    if (getstate.kind !== 'message') throw new Error('expected a message')
    expect(getstate.header).toMatchObject({
      client: { objectType: 'MEMBER', xRoadInstance: 'EE', memberClass: 'BUSINESS', memberCode: 'consumer' },
      service: { objectType: 'SERVICE', serviceCode: 'getState', memberCode: 'producer' },
      userId: 'EE:PIN:abc4567', id: '411d6755661409fed365ad8135f8210be07613da', issue: '', protocolVersion: '4.0',
    })
    expect(getstate.serviceName).toBe('getState')
    const split = decodeSoapMessage('text/xml', readFixture(...DIR, 'split-header.query'), splitMultipart).soap
    expect(split.kind === 'message' && split.header.issue).toBe('w\naa\nww\n')
    const subsystem = decodeSoapMessage('text/xml', readFixture(...DIR, 'getstate-subsystem.query'), splitMultipart).soap
    expect(subsystem.kind === 'message' && subsystem.header.client.objectType).toBe('SUBSYSTEM')
    const represented = decodeSoapMessage('text/xml', readFixture(...DIR, 'simple-representedparty.query'), splitMultipart).soap
    expect(represented.kind === 'message' && represented.header.representedParty?.partyCode).toBeTruthy()
  })

  it('reads the ISO-8859-1 answer by its Content-Type charset and a UTF-8 BOM inside a multipart part', () => {
    const iso = decodeSoapMessage('text/xml; charset=ISO-8859-1', readFixture(...DIR, 'getstate-iso88591.answer'), splitMultipart).soap
    expect(iso.kind === 'message' && iso.charset).toBe('ISO-8859-1')
    const bom = decodeSoapMessage(RELATED, readFixture(...DIR, 'attachm2-utf8bom-inside.query'), splitMultipart).soap
    expect(bom.kind).toBe('message')
  })

  it('reads a fault\'s code, string, actor and detail (fault.query, customfault.answer)', () => {
    const fault = decodeSoapMessage('text/xml', readFixture(...DIR, 'fault.query'), splitMultipart).soap
    expect(fault).toMatchObject({ kind: 'fault', faultCode: 'CODE', faultString: 'STRING', faultActor: 'ACTOR', faultDetail: 'DETAIL' })
    const custom = decodeSoapMessage('text/xml', readFixture(...DIR, 'customsoapenv.answer'), splitMultipart).soap
    expect(custom).toMatchObject({ kind: 'fault', faultCode: 'soapenv:Server.CODE' })
  })
})

/**
 * `messages/common-test`: an X-Road 4.0 doc/literal request, and two of the legacy v5 protocol (namespace
 * `http://x-road.ee/xsd/x-road.xsd`) whose header X-Road 7 does not know — so no `protocolVersion` is found.
 */
const COMMON_TEST: Record<string, Outcome> = {
  'xroadDoclit2.request': 'message',
  'v5DoclitWithVersion.request': 'missing_header_field',
  'v5DoclitWithoutVersion.request': 'missing_header_field',
}

/**
 * `messages/identifiers` spliced into a request's header in the element's place, read as `SaxSoapParserImpl` reads
 * them: `ClientId.Conf.create` makes a subsystem of whatever has a subsystem code (so X-Road's JAXB-invalid vectors
 * are read), and a group where a client belongs is an unexpected objectType (`invalid_xml`).
 */
const IDENTIFIER_SPLICES: Record<string, { replaces: 'client' | 'service' | 'securityServer'; expect: Outcome; check?: (m: DecodedSoapMessage) => unknown; value?: unknown }> = {
  'clientid.xml': { replaces: 'client', expect: 'message', check: (m) => m.soap.kind === 'message' && m.soap.header.client.objectType, value: 'MEMBER' },
  'clientid-subsystem.xml': { replaces: 'client', expect: 'message', check: (m) => m.soap.kind === 'message' && m.soap.header.client.objectType, value: 'SUBSYSTEM' },
  'invalid-clientid-member.xml': { replaces: 'client', expect: 'message', check: (m) => m.soap.kind === 'message' && m.soap.header.client.objectType, value: 'SUBSYSTEM' },
  'invalid-clientid-subsystem.xml': { replaces: 'client', expect: 'message', check: (m) => m.soap.kind === 'message' && m.soap.header.client.objectType, value: 'MEMBER' },
  'globalgroupid.xml': { replaces: 'client', expect: 'invalid_xml' },
  'localgroupid.xml': { replaces: 'client', expect: 'invalid_xml' },
  'securityserverid.xml': { replaces: 'securityServer', expect: 'message', check: (m) => m.soap.kind === 'message' && m.soap.header.securityServer?.serverCode, value: 'bambi' },
  'serviceid.xml': { replaces: 'service', expect: 'message', check: (m) => m.soap.kind === 'message' && m.soap.header.service.serviceVersion, value: undefined },
  'serviceid-version.xml': { replaces: 'service', expect: 'message', check: (m) => m.soap.kind === 'message' && m.soap.header.service.serviceVersion, value: 'v1' },
}

describeFixtures('conformance: SOAP reader on messages/common-test and messages/identifiers', () => {
  for (const [file, expected] of Object.entries(COMMON_TEST)) {
    it(`common-test/${file}: ${expected}`, () => {
      const body = readFixture('messages', 'common-test', file)
      let got: Outcome
      try {
        got = decodeSoapMessage('text/xml; charset=UTF-8', body, splitMultipart).soap.kind
      } catch (error) {
        got = (error as { code?: string }).code ?? String(error)
      }
      expect(got).toBe(expected)
    })
  }

  it('has a splice for every identifier vector', () => {
    expect(listFixtures('messages', 'identifiers')).toEqual(Object.keys(IDENTIFIER_SPLICES).sort())
  })

  for (const [file, splice] of Object.entries(IDENTIFIER_SPLICES)) {
    it(`identifiers/${file} as the header's ${splice.replaces}: ${splice.expect}`, () => {
      const fragment = readFixture('messages', 'identifiers', file).toString('utf8').replace(/^<\?xml[^>]*\?>/, '')
        .replace(/<xroad:group /, '<xroad:client ').replace('</xroad:group>', '</xroad:client>')
      const base = readFixture(...DIR, 'getstate.query').toString('utf8')
      const element = `xroad:${splice.replaces}`
      const header = splice.replaces === 'securityServer'
        ? base.replace('<xroad:protocolVersion>', `${fragment}<xroad:protocolVersion>`)
        : base.slice(0, base.indexOf(`<${element} `)) + fragment + base.slice(base.indexOf(`</${element}>`) + element.length + 3)
      let got: Outcome
      let decoded: DecodedSoapMessage | undefined
      try {
        decoded = decodeSoapMessage('text/xml; charset=UTF-8', Buffer.from(header, 'utf8'), splitMultipart)
        got = decoded.soap.kind
      } catch (error) {
        got = (error as { code?: string }).code ?? String(error)
      }
      expect(got).toBe(splice.expect)
      if (splice.check !== undefined && decoded !== undefined) expect(splice.check(decoded)).toBe(splice.value)
    })
  }
})

describe('SOAP reader without fixtures', () => {
  it('declares its cases even when the fixtures are absent', () => {
    expect(Object.keys(QUERIES).length + Object.keys(ANSWERS).length).toBeGreaterThan(70)
  })
})

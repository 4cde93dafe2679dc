import 'reflect-metadata'
import { createHash } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { serviceId, type ServiceId } from '@shared/domain/identifiers'
import { findRecordsByQueryId, listAttachments } from '../../src-main/message-log'
import { splitMultipart } from '../../src-main/proxy'
import { decodeSoapMessage, multipartSegments, type SoapMessage } from '../../src-main/soap'
import { verificationTrustFromGlobalConf, verifySignature } from '../../src-main/signature'
import { describeFixtures } from '../support/describe-fixtures'
import { readFixture } from '../support/fixtures'
import { SOAP_PROXY_CASES, XML } from '../support/soap-proxy-cases'
import { startLabPair, type LabPair, type PairSide } from './lab-pair'

/**
 * SOAP between two real security servers on loopback TLS over one lab: an information system POSTs to the consumer's
 * client proxy, the provider calls a SOAP service on loopback (its operation answers `{operation}Response` echoing the
 * request's first text, and sends back every attachment it received). Plain, with attachments, MTOM, ISO-8859-1, a
 * service fault, refusals; each side's message log and operational monitoring checked.
 */
let pair: LabPair
let service: Server
let serviceUrl: string
const received: Array<{ contentType: string; soapAction: string | undefined; body: Buffer }> = []
let getThing: ServiceId
let secret: ServiceId

function answer(contentType: string, body: Buffer): { status: number; contentType: string; body: Buffer } {
  const decoded = decodeSoapMessage(contentType, body, splitMultipart)
  const soap = decoded.soap as SoapMessage
  const latin = soap.charset !== 'UTF-8'
  const text = soap.bytes.toString(latin ? 'latin1' : 'utf8')
  const first = /<(?:\w+:)?getThing[^>]*>\s*(?:<[^>]+>)*([^<]*)/.exec(text)?.[1] ?? ''
  if (first.includes('FAULT')) {
    const fault = '<?xml version="1.0"?><e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body><e:Fault><faultcode>CODE</faultcode>' +
      '<faultstring>STRING</faultstring><faultactor>ACTOR</faultactor><detail><faultDetail>DETAIL</faultDetail></detail></e:Fault></e:Body></e:Envelope>'
    return { status: 500, contentType: 'text/xml; charset=UTF-8', body: Buffer.from(fault) }
  }
  const header = text.slice(0, text.indexOf('<SOAP-ENV:Body>'))
  const responseText = `${header}<SOAP-ENV:Body><t:getThingResponse xmlns:t="urn:test"><echo>${first}</echo></t:getThingResponse></SOAP-ENV:Body></SOAP-ENV:Envelope>\n`
  const responseBytes = Buffer.from(responseText, latin ? 'latin1' : 'utf8')
  if (decoded.attachments.length === 0 && decoded.soapPartHeaders === undefined) return { status: 200, contentType: `text/xml; charset=${soap.charset}`, body: responseBytes }
  const boundary = 'service-boundary-1'
  const parts = [{ contentType: soap.contentType, headers: decoded.soapPartHeaders ?? [], body: responseBytes }, ...decoded.attachments.map((a) => ({ contentType: a.contentType, headers: a.headers, body: a.body }))]
  return { status: 200, contentType: `multipart/related; type="text/xml"; boundary=${boundary}`, body: Buffer.concat(multipartSegments<never>(boundary, parts)) }
}

beforeAll(async () => {
  pair = await startLabPair()
  service = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      const contentType = req.headers['content-type'] ?? ''
      received.push({ contentType, soapAction: req.headers.soapaction as string | undefined, body })
      try {
        const out = answer(contentType, body)
        res.writeHead(out.status, { 'Content-Type': out.contentType }).end(out.body)
      } catch (error) {
        res.writeHead(400).end(String(error))
      }
    })
  })
  await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', resolve))
  serviceUrl = `http://127.0.0.1:${(service.address() as { port: number }).port}/soap`
  const conf = pair.provider.server.core.serverConf
  const description = conf.addWsdlDescription(pair.provider.subsystem, 'http://127.0.0.1:1/test.wsdl', [
    { code: 'getThing', version: 'v1', url: serviceUrl }, { code: 'secret', url: serviceUrl },
  ])
  conf.setServiceDescriptionEnabled(description.id, true)
  getThing = serviceId(pair.provider.subsystem, 'getThing', 'v1')
  secret = serviceId(pair.provider.subsystem, 'secret')
  conf.grantAccess(getThing, pair.consumer.subsystem)
}, 90_000)

afterAll(async () => {
  await new Promise<void>((resolve) => (service === undefined ? resolve() : service.close(() => resolve())))
  await pair?.close()
})

let sequence = 0

function envelope(options: { id?: string; operation?: string; text?: string; userId?: string; declaration?: string; service?: ServiceId } = {}): string {
  const svc = options.service ?? getThing
  const operation = options.operation ?? svc.serviceCode
  return `${options.declaration ?? '<?xml version="1.0" encoding="UTF-8"?>'}
<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xroad="http://x-road.eu/xsd/xroad.xsd" xmlns:id="http://x-road.eu/xsd/identifiers">
    <SOAP-ENV:Header>
        <xroad:client id:objectType="SUBSYSTEM"><id:xRoadInstance>LAB</id:xRoadInstance><id:memberClass>GOV</id:memberClass><id:memberCode>1001</id:memberCode><id:subsystemCode>consumer</id:subsystemCode></xroad:client>
        <xroad:service id:objectType="SERVICE"><id:xRoadInstance>LAB</id:xRoadInstance><id:memberClass>GOV</id:memberClass><id:memberCode>2002</id:memberCode><id:subsystemCode>provider</id:subsystemCode><id:serviceCode>${svc.serviceCode}</id:serviceCode>${svc.serviceVersion === undefined ? '' : `<id:serviceVersion>${svc.serviceVersion}</id:serviceVersion>`}</xroad:service>
        <xroad:id>${options.id ?? `soap-${++sequence}-${Date.now()}`}</xroad:id>
        <xroad:userId>${options.userId ?? 'EE12345'}</xroad:userId>
        <xroad:protocolVersion>4.0</xroad:protocolVersion>
    </SOAP-ENV:Header>
    <SOAP-ENV:Body><t:${operation} xmlns:t="urn:test"><value>${options.text ?? 'hello'}</value></t:${operation}></SOAP-ENV:Body>
</SOAP-ENV:Envelope>
`
}

async function post(body: Buffer, contentType: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${pair.consumer.clientProxyUrl}/`, { method: 'POST', headers: { 'Content-Type': contentType, ...headers }, body })
  const bytes = Buffer.from(await response.arrayBuffer())
  const type = response.headers.get('content-type') ?? ''
  return { status: response.status, contentType: type, body: bytes, fault: /<faultcode>([^<]*)<\/faultcode>/.exec(bytes.toString('latin1'))?.[1] }
}

function soapOf(res: { contentType: string; body: Buffer }): SoapMessage {
  const decoded = decodeSoapMessage(res.contentType, res.body, splitMultipart)
  if (decoded.soap.kind !== 'message') throw new Error(`a fault: ${decoded.soap.faultCode}`)
  return decoded.soap
}

function logged(side: PairSide, queryId: string) {
  return findRecordsByQueryId(side.server.core.databases.messageLog, queryId)
}

describe('SOAP between two security servers', () => {
  it('exchanges a plain text/xml message: requestHash over the request bytes, logged and signed on both sides, op-monitoring WSDL records', async () => {
    const request = Buffer.from(envelope({ id: 'plain-1', text: 'hello there' }))
    const res = await post(request, 'text/xml; charset=UTF-8', { SOAPAction: '"urn:getThing"' })
    expect(res.fault, res.body.toString().slice(0, 300)).toBeUndefined()
    expect(res.contentType).toBe('text/xml; charset=UTF-8')
    const soap = soapOf(res)
    expect(soap.serviceName).toBe('getThingResponse')
    expect(res.body.toString()).toContain('<echo>hello there</echo>')
    expect(soap.header.requestHash?.value).toBe(createHash('sha512').update(request).digest('base64'))
    expect(received.at(-1)?.soapAction).toBe('"urn:getThing"')
    expect(received.at(-1)?.body.equals(request)).toBe(true)
    for (const side of [pair.consumer, pair.provider]) {
      const records = logged(side, 'plain-1')
      expect(records.map((r) => r.response)).toEqual([false, true])
      const conf = side.server.core.globalConf.current()!
      for (const record of records) {
        verifySignature(record.signatureXml, {
          parts: { '/message.xml': record.message },
          expectedSigner: record.response ? pair.provider.subsystem : pair.consumer.subsystem,
          trust: verificationTrustFromGlobalConf(conf.snapshot), atTime: new Date(record.timeMs),
        })
      }
      expect(logged(side, 'plain-1')[0]!.message.equals(request)).toBe(true)
    }
    pair.consumer.server.core.opMonitor.flush()
    const records = pair.consumer.server.core.opMonitor.search(0, Math.ceil(Date.now() / 1000) + 60).filter((r) => r.messageId === 'plain-1')
    expect(records[0]).toMatchObject({ serviceType: 'WSDL', messageProtocolVersion: '4.0', succeeded: true, securityServerType: 'Client' })
  })

  it('exchanges SOAP with attachments: each attachment passed on with its headers and bytes, batch-signed, logged where X-Road logs it', async () => {
    const big = Buffer.alloc(100 * 1024)
    for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff
    const soap = Buffer.from(envelope({ id: 'swa-1', text: 'with attachments' }))
    const boundary = 'is-boundary-42'
    const body = Buffer.concat(multipartSegments<never>(boundary, [
      { contentType: 'text/xml; charset=UTF-8', headers: [['Content-ID', '<root>']], body: soap },
      { contentType: 'application/octet-stream', headers: [['Content-ID', '<bin>'], ['X-Custom', 'kept']], body: big },
      { contentType: 'text/plain', headers: [['Content-ID', '<txt>']], body: Buffer.from('second attachment') },
    ]))
    const contentType = `multipart/related; type="text/xml"; start="<root>"; boundary=${boundary}`
    const res = await post(body, contentType)
    expect(res.fault, res.body.toString().slice(0, 300)).toBeUndefined()
    expect(received.at(-1)?.contentType).toBe(contentType)
    expect(received.at(-1)?.body.includes(Buffer.from('X-Custom: kept\r\n'))).toBe(true)
    const answered = decodeSoapMessage(res.contentType, res.body, splitMultipart)
    expect(res.contentType).toBe('multipart/related; type="text/xml"; boundary=service-boundary-1')
    expect(answered.attachments.map((a) => a.body.length)).toEqual([big.length, 'second attachment'.length])
    expect(answered.attachments[0]!.body.equals(big)).toBe(true)
    const providerRequest = logged(pair.provider, 'swa-1').find((r) => !r.response)!
    expect(providerRequest.hashChainResult).not.toBeNull()
    const attachments = listAttachments(pair.provider.server.core.databases.messageLog, providerRequest.id)
    expect(attachments.map((a) => a.size)).toEqual([big.length, 'second attachment'.length])
    const consumerResponse = logged(pair.consumer, 'swa-1').find((r) => r.response)!
    expect(listAttachments(pair.consumer.server.core.databases.messageLog, consumerResponse.id)).toHaveLength(2)
  })

  it('exchanges MTOM: the application/xop+xml root part and the xop:Include target', async () => {
    const soap = Buffer.from(envelope({ id: 'mtom-1', text: 'mtom' }).replace('<value>mtom</value>', '<value>mtom</value><xop:Include xmlns:xop="http://www.w3.org/2004/08/xop/include" href="cid:data@x"/>'))
    const boundary = 'mtom-b'
    const body = Buffer.concat(multipartSegments<never>(boundary, [
      { contentType: 'application/xop+xml; charset=UTF-8; type="text/xml"', headers: [['Content-ID', '<root@x>']], body: soap },
      { contentType: 'application/octet-stream', headers: [['Content-ID', '<data@x>'], ['Content-Transfer-Encoding', 'binary']], body: Buffer.from([1, 2, 3, 0, 255]) },
    ]))
    const contentType = `multipart/related; type="application/xop+xml"; start="<root@x>"; start-info="text/xml"; boundary=${boundary}`
    const res = await post(body, contentType)
    expect(res.fault, res.body.toString().slice(0, 300)).toBeUndefined()
    expect(received.at(-1)?.contentType).toBe(contentType)
    const answered = decodeSoapMessage(res.contentType, res.body, splitMultipart)
    expect(answered.soap.contentType).toBe('application/xop+xml; charset=UTF-8; type="text/xml"')
    expect(answered.attachments[0]?.body.equals(Buffer.from([1, 2, 3, 0, 255]))).toBe(true)
  })

  it('exchanges an ISO-8859-1 message declared in its XML declaration, bytes unchanged', async () => {
    const request = Buffer.from(envelope({ id: 'iso-1', text: 'J\u00e4rvi \u00f5un', userId: 'EE:PIN:\u00c4', declaration: '<?xml version="1.0" encoding="ISO-8859-1"?>' }), 'latin1')
    const res = await post(request, 'text/xml')
    expect(res.fault, res.body.toString('latin1').slice(0, 300)).toBeUndefined()
    expect(received.at(-1)?.body.equals(request)).toBe(true)
    expect(res.contentType).toBe('text/xml; charset=ISO-8859-1')
    expect(res.body.includes(Buffer.from('<echo>J\u00e4rvi \u00f5un</echo>', 'latin1'))).toBe(true)
    expect(soapOf(res).header.userId).toBe('EE:PIN:\u00c4')
  })

  it('forwards the service\'s SOAP fault with its own code, string, actor and detail', async () => {
    const res = await post(Buffer.from(envelope({ id: 'fault-1', text: 'FAULT please' })), 'text/xml')
    expect(res.status).toBe(200)
    expect(res.body.toString()).toContain('<faultcode>CODE</faultcode><faultstring>STRING</faultstring><faultactor>ACTOR</faultactor><detail><faultDetail xmlns="">DETAIL</faultDetail>')
  })

  it('refuses a service the client has no right to (server.serverproxy.access_denied) and a version that does not exist (unknown_service)', async () => {
    const calls = received.length
    expect((await post(Buffer.from(envelope({ service: secret })), 'text/xml')).fault).toBe('server.serverproxy.access_denied')
    expect((await post(Buffer.from(envelope({ service: serviceId(pair.provider.subsystem, 'getThing', 'v9') })), 'text/xml')).fault).toBe('server.serverproxy.unknown_service')
    expect((await post(Buffer.from(envelope({ service: pair.pets, operation: 'pets' })), 'text/xml')).fault).toBe('server.serverproxy.service_type')
    expect(received.length).toBe(calls)
  })

  it('refuses a malformed SOAPAction and a GET with X-Road\'s client faults', async () => {
    expect((await post(Buffer.from(envelope()), 'text/xml', { SOAPAction: 'no-quotes' })).fault).toBe('client.invalid_soap_action')
    const get = await fetch(`${pair.consumer.clientProxyUrl}/`)
    expect(get.status).toBe(200)
    expect(await get.text()).toContain('<faultcode>client.invalid_http_method</faultcode>')
  })
})

/**
 * X-Road's bad SOAP queries (soap-proxy-queries) through the real pair, from the shared table: each refused by the
 * consumer (a `client.` fault, or an unknown member), never reaching the service.
 */
const BAD_QUERIES = Object.entries(SOAP_PROXY_CASES)
  .filter(([, c]) => (c.fault?.startsWith('client.') === true || c.fault === 'server.clientproxy.unknown_member') && c.method === undefined && c.headers === undefined && c.bom !== true)
  .map(([name, c]) => [name, c.query, c.contentType ?? XML, c.fault!] as const)

describeFixtures('X-Road\'s bad SOAP queries through a real pair', () => {
  for (const [name, file, contentType, fault] of BAD_QUERIES) {
    it(`${name}: ${file} → ${fault}`, async () => {
      const calls = received.length
      const res = await post(readFixture('messages', 'soap-proxy-queries', file), contentType)
      expect(res.status).toBe(200)
      expect(res.contentType).toBe('text/xml; charset=UTF-8')
      expect(res.fault).toBe(fault)
      expect(received.length).toBe(calls)
    })
  }
})

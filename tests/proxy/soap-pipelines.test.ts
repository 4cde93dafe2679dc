import { createHash } from 'node:crypto'
import { expect, it } from 'vitest'
import { encodeIdentifier, memberId, serviceProvider, type ClientId, type ServiceId } from '@shared/domain/identifiers'
import { SecurityServerError } from '../../src-main/platform'
import {
  bufferBody, defaultBodyStore, handleServerProxyRequest, readSource, type ClientProxyDeps, type MessagePart, type MessageRecord, type PeerClient, type ServerProxyDeps,
  type ServiceCall,
} from '../../src-main/proxy'
import { handleSoapClientRequest } from '../../src-main/proxy/soap/soap-client-proxy'
import { encodeSoapTransportStream, readSoapTransportMessage, soapSignedParts } from '../../src-main/proxy/soap/soap-transport'

import { readSoap } from '../../src-main/soap'
import { describeFixtures } from '../support/describe-fixtures'
import { readFixture } from '../support/fixtures'
import { BOUNDARY, MTOM, RELATED, SOAP_PROXY_CASES, SOAP_PROXY_QUERIES_DIR, XML, type CaseService, type SoapProxyCase } from '../support/soap-proxy-cases'

/**
 * Both SOAP pipelines joined in memory (the client proxy's peer calls the server proxy's handler; signer, verifier and
 * message log are the in-memory fakes of tests/proxy/support, the service answers a fixture), run over X-Road's proxy
 * test cases (`testsuite/testcases/*.java`): the query each sends, the answer its service gives, the outcome it expects.
 * The real TLS pair is in tests/integration/soap-exchange.test.ts.
 */
const DIR = SOAP_PROXY_QUERIES_DIR
const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf])
const DEFAULT_LIMITS = { maxBytes: 64 * 1024 * 1024, maxParts: 64, maxHeaderBytes: 16 * 1024 }

/** What each service call carried (its streamed body, read once by the fake service). */
const bodiesSent = new WeakMap<ServiceCall, Buffer>()

const fakeSignature = (member: ClientId, parts: MessagePart[]) =>
  parts.reduce((h, p) => h.update(p.name).update('bytes' in p ? p.bytes : p.digest), createHash('sha512').update(encodeIdentifier(member))).digest()

type Service = CaseService & { bom?: boolean }

interface World {
  calls: ServiceCall[]
  /** The Content-Type of each answer the server proxy gave the consumer (plain fault or multipart). */
  providerAnswers: string[]
  log: MessageRecord[]
  clientDeps: ClientProxyDeps
  serverDeps: ServerProxyDeps
}

interface WorldOptions {
  service?: Service
  rights?: 'allow' | 'deny' | 'unknown' | 'disabled'
  tamper?: (body: Buffer, contentType: string) => Promise<{ body: Buffer; contentType: string }>
  /** The server proxy's side: the provider not registered here, the service without an address, or unreachable. */
  provider?: SoapProxyCase['provider']
}

function world(options: WorldOptions = {}): World {
  const calls: ServiceCall[] = []
  const providerAnswers: string[] = []
  const log: MessageRecord[] = []
  const consumer = memberId('EE', 'BUSINESS', 'consumer')
  const signer = { sign: async (member: ClientId, parts: MessagePart[]) => ({ signatureXml: fakeSignature(member, parts) }) }
  const verifier = {
    verify: async (expected: ClientId, parts: MessagePart[], sig: { signatureXml: Uint8Array }) => {
      if (!fakeSignature(expected, parts).equals(Buffer.from(sig.signatureXml))) throw new SecurityServerError('invalid_signature_value', 'Signature is not valid')
    },
  }
  const messageLog = { assertAcceptingMessages: () => {}, bodyLimit: () => undefined, record: async (r: MessageRecord) => void log.push(r) }
  const globalConf = {
    assertValid: () => {}, instanceIdentifier: () => 'EE', authCertMatchesMember: () => true, memberExists: () => true, isGlobalGroupMember: () => false,
    serversOf: () => [{ serverId: { objectType: 'SERVER' as const, xRoadInstance: 'EE', memberClass: 'BUSINESS', memberCode: 'producer', serverCode: 'ss2' }, address: 'ss2', inMaintenanceMode: false }],
  }
  const rights = options.rights ?? 'allow'
  const serverConf = {
    // The consumer at the client proxy; the provider at the server proxy (ServerMessageProcessor.verifyClientStatus).
    isRegisteredClient: (id: ClientId) => encodeIdentifier(id) === encodeIdentifier(consumer) || id.memberCode === 'consumer' || (id.memberCode === 'producer' && options.provider !== 'unregistered'),
    accessRightsFor: (id: ServiceId) => rights === 'unknown' ? undefined : ({
      serviceId: id, disabled: rights === 'disabled', disabledNotice: 'Service is disabled',
      endpoints: [{ method: '*' as const, path: '**', subjects: rights === 'deny' ? [] : [serviceProviderClient(id)] }],
    }),
    localGroupMembers: () => [],
    service: () => ({ url: options.provider === 'no-url' ? '' : 'http://service.local/soap', timeoutSeconds: 5, sslVerify: true, type: 'WSDL' as const }),
    isAuthentication: () => undefined,
  }
  let lastClient: ClientId = consumer
  function serviceProviderClient(_id: ServiceId): ClientId {
    return lastClient
  }
  const service = options.service ?? { file: 'getstate.answer' }
  const serverDeps: ServerProxyDeps = {
    globalConf, serverConf, verifier, signer, messageLog, tlsClientVerifier: { verify: async (client) => void (lastClient = client) },
    serviceClient: {
      call: async (call) => {
        calls.push(call)
        if (options.provider === 'down') throw new SecurityServerError('network_error', 'Calling the service failed: ECONNREFUSED')
        // X-Road's DummyService answers with the request's query id (MessageTestCase.changeQueryId).
        const sent = call.body === undefined ? Buffer.alloc(0) : await readSource(call.body)
        bodiesSent.set(call, sent)
        const queryId = /<xroad:id>([^<]*)<\/xroad:id>/.exec(sent.toString('latin1'))?.[1] ?? ''
        const file = service.file === undefined ? Buffer.alloc(0) : Buffer.concat([service.bom === true ? UTF8_BOM : Buffer.alloc(0), readFixture(...DIR, service.file)])
        const body = Buffer.from(file.toString('latin1').replace(/<xroad:id>[^<]*<\/xroad:id>/g, `<xroad:id>${queryId}</xroad:id>`), 'latin1')
        return { status: service.status ?? 200, reason: 'OK', headers: [['Content-Type', service.contentType ?? XML]], body: bufferBody(body) }
      },
    },
  }
  const peer: PeerClient = {
    send: async (_targets, _provider, request) => {
      const answer = await handleServerProxyRequest(
        { method: 'POST', headers: [...request.headers, ['content-type', request.contentType]], body: await readSource(request.body), peerCertificateChain: [] },
        serverDeps,
      )
      const contentType = answer.headers.find(([n]) => n.toLowerCase() === 'content-type')?.[1] ?? ''
      providerAnswers.push(contentType)
      const answered = await readSource(answer.body)
      const tampered = options.tamper === undefined ? { body: answered, contentType } : await options.tamper(answered, contentType)
      return { contentType: tampered.contentType, headers: answer.headers, body: [tampered.body] }
    },
  }
  const clientDeps: ClientProxyDeps = { globalConf, serverConf, signer, verifier, messageLog, peer, proxyVersion: '7.8.0', authOcspResponses: async () => [] }
  return { calls, providerAnswers, log, clientDeps, serverDeps }
}

async function send(w: World, file: string | Buffer, contentType: string, extra: Array<[string, string]> = [], method = 'POST') {
  const body = typeof file === 'string' ? readFixture(...DIR, file) : file
  const res = await handleSoapClientRequest({ method, url: '/', headers: [['content-type', contentType], ...extra], body }, w.clientDeps)
  const contentTypeOut = res.headers.find(([n]) => n.toLowerCase() === 'content-type')?.[1] ?? ''
  const bytes = await readSource(res.body)
  const text = bytes.toString('latin1')
  const fault = /<faultcode>([^<]*)<\/faultcode>/.exec(text)?.[1]
  return { status: res.status, contentType: contentTypeOut, body: bytes, text, fault }
}


describeFixtures('SOAP pipelines joined in memory, over X-Road\'s proxy test cases', () => {
  for (const [name, c] of Object.entries(SOAP_PROXY_CASES).filter(([, c]) => c.pairOnly !== true)) {
    it(`${name}: ${c.fault ?? 'normal response'}`, async () => {
      const service = { ...(c.service ?? { file: 'getstate.answer' }), ...(c.bom === true ? { bom: true } : {}) }
      const w = world({ service, ...(c.rights === undefined ? {} : { rights: c.rights }), ...(c.provider === undefined ? {} : { provider: c.provider }) })
      const query = c.bom === true ? Buffer.concat([UTF8_BOM, readFixture(...DIR, c.query)]) : c.query
      const res = await send(w, query, c.contentType ?? XML, c.headers ?? [], c.method ?? 'POST')
      expect(res.status).toBe(200)
      expect(res.fault, res.text.slice(0, 400)).toBe(c.fault)
      if (c.fault === undefined) {
        const soap = readSoap(res.contentType.toLowerCase().startsWith('multipart') ? extractSoapPart(res.body, res.contentType) : res.body, 'text/xml')
        expect(soap.kind === 'message' && soap.header.requestHash?.value).toBeTruthy()
      } else if (c.fault.startsWith('client.')) {
        expect(w.calls).toHaveLength(0)
        expect(w.log).toHaveLength(0)
      }
    })
  }

  it('Attachment: the service receives the attachment with its MIME headers under the original boundary; the IS gets the answer', async () => {
    const w = world({ service: { file: 'attachm.answer' } })
    const res = await send(w, 'attachm.query', RELATED)
    expect(res.fault).toBeUndefined()
    const call = w.calls[0]!
    expect(call.headers).toContainEqual(['Content-Type', RELATED])
    const sent = bodiesSent.get(call)!.toString('latin1')
    expect(sent.startsWith(`--${BOUNDARY}\r\nContent-Type: text/xml; charset="utf-8"\r\n`)).toBe(true)
    expect(sent).toContain('Client-Header: FooBar\r\n\r\nblaah')
    // Logged as X-Road logs: the consumer's request without attachments, the provider's request with them.
    const providerRequest = w.log.find((r) => r.side === 'server' && r.direction === 'request')!
    expect(await Promise.all((providerRequest.attachments ?? []).map(async (a) => (await readSource(a)).toString()))).toEqual(['blaah'])
    expect(w.log.find((r) => r.side === 'client' && r.direction === 'request')?.attachments).toBeUndefined()
  })

  it('MTOM: service and information system see the original Multipart/Related content types; the xop part keeps its Content-ID', async () => {
    const answerType = `${MTOM};charset=UTF-8`
    const w = world({ service: { file: 'attachm-mtom.answer', contentType: answerType } })
    const res = await send(w, 'attachm-mtom.query', MTOM)
    expect(res.fault).toBeUndefined()
    expect(w.calls[0]!.headers).toContainEqual(['Content-Type', MTOM])
    expect(bodiesSent.get(w.calls[0]!)!.toString('latin1')).toContain('Content-ID: <foo>')
    expect(res.contentType).toBe(answerType)
    expect(res.text).toContain('Content-Type: application/xop+xml')
  })

  it('ISO-8859-1: the answer keeps its bytes and charset; requestHash is inserted in ISO-8859-1', async () => {
    const w = world({ service: { file: 'getstate-iso88591.answer', contentType: 'text/xml; charset=ISO-8859-1' } })
    const res = await send(w, 'getstate.query', XML)
    expect(res.contentType).toBe('text/xml; charset=ISO-8859-1')
    const answer = readFixture(...DIR, 'getstate-iso88591.answer')
    const tail = answer.subarray(answer.indexOf('<SOAP-ENV:Body>'))
    expect(res.body.subarray(res.body.length - tail.length).equals(tail)).toBe(true)
  })

  it('forwards SOAPAction as x-original-soapaction and gives it to the service as SOAPAction', async () => {
    const w = world()
    await send(w, 'getstate.query', XML, [['SOAPAction', '"urn:getState"']])
    expect(w.calls[0]!.headers).toContainEqual(['SOAPAction', '"urn:getState"'])
  })

  it('refuses a response whose requestHash is not the hash of the request (server.clientproxy.inconsistent_response)', async () => {
    const w = world({
      tamper: async (body, contentType) => {
        const message = await readSoapTransportMessage(contentType, [body], 'response', { bodies: defaultBodyStore(), limits: DEFAULT_LIMITS, attachmentLimits: [] })
        const forged = Buffer.from(message.soap.bytes.toString('utf8').replace(/(<xroad:requestHash[^>]*>)[^<]*/, `$1${createHash('sha512').update('another request').digest('base64')}`))
        const provider = serviceProvider(readSoapMessage(forged).header.service)
        const signature = { signatureXml: fakeSignature(provider, soapSignedParts(forged, message.attachments)) }
        const encoded = encodeSoapTransportStream({ soap: { ...message.soap, bytes: forged }, attachments: message.attachments, signature })
        return { contentType: encoded.contentType, body: await readSource(encoded.body) }
      },
    })
    const res = await send(w, 'getstate.query', XML)
    expect(res.fault).toBe('server.clientproxy.inconsistent_response')
  })

  it.each<[string, WorldOptions, 'plain' | 'multipart']>([
    // Before `parseResponse` → `preprocess` the provider has no encoder: a plain text/xml fault.
    ['an unreachable service', { provider: 'down' }, 'plain'],
    ['a service answering HTTP 502 (checkResponseStatus, inside sendRequest)', { service: { status: 502, contentType: 'text/html' } }, 'plain'],
    // From then on the fault goes inside the response multipart (ProxyMessageEncoder.fault), with x-original-content-type.
    ['an unreadable answer', { service: { file: 'empty.query' } }, 'multipart'],
    ['the service\'s own fault', { service: { file: 'fault.query', status: 500, contentType: 'text/xml' } }, 'multipart'],
  ])('the provider sends %s as a %s fault, and the consumer reads it', async (_name, options, shape) => {
    const w = world(options)
    const res = await send(w, 'getstate.query', XML)
    expect(res.fault).toBeDefined()
    expect(w.providerAnswers).toHaveLength(1)
    expect(w.providerAnswers[0]).toMatch(shape === 'plain' ? /^text\/xml; charset=UTF-8$/ : /^multipart\/mixed; charset=UTF-8; boundary=xtop[a-z]{30}$/)
  })

  it('refuses a response whose signature does not cover what arrived', async () => {
    const w = world({
      tamper: async (body, contentType) => {
        const message = await readSoapTransportMessage(contentType, [body], 'response', { bodies: defaultBodyStore(), limits: DEFAULT_LIMITS, attachmentLimits: [] })
        const encoded = encodeSoapTransportStream({
          soap: { ...message.soap, bytes: Buffer.from(message.soap.bytes.toString('utf8').replace('<response>', '<response>9')) },
          attachments: message.attachments, signature: { signatureXml: message.signature! },
        })
        return { contentType: encoded.contentType, body: await readSource(encoded.body) }
      },
    })
    const res = await send(w, 'getstate.query', XML)
    expect(res.fault).toBe('server.clientproxy.invalid_signature_value')
  })
})

function readSoapMessage(bytes: Buffer) {
  const soap = readSoap(bytes, 'text/xml')
  if (soap.kind !== 'message') throw new Error('expected a message')
  return soap
}

function extractSoapPart(body: Buffer, contentType: string): Buffer {
  const boundary = /boundary="?([^";]+)"?/i.exec(contentType)![1]!
  const text = body.toString('latin1')
  const start = text.indexOf('\r\n\r\n', text.indexOf(`--${boundary}`)) + 4
  const end = text.indexOf(`\r\n--${boundary}`, start)
  return Buffer.from(text.slice(start, end), 'latin1')
}

import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { serviceId, subsystemId } from '@shared/domain/identifiers'
import { SecurityServerError } from '../../src-main/platform'
import {
  checkResponseConsistency, computeRequestHash, parseRestHeaderPart, parseRestRequest, providerResponseHeaders,
  acceptValues, restErrorResponse, restRequestHeaderPart, serializeRestResponsePart, soapFaultXml,
} from '../../src-main/proxy'
import { ambiguousPath } from '../../src-main/proxy/http/client-proxy-listener'
import { describeFixtures } from '../support/describe-fixtures'
import { readFixture } from '../support/fixtures'
import { fixtureFile, itWith } from '../support/requirements'

let n = 0
const uuid = () => `00000000-0000-4000-8000-00000000000${n++}`
const base = { method: 'GET', url: '/r1/DEV/COM/1234/TestService/mock1/items/1?x=%20y', headers: [['X-Road-Client', 'DEV/COM/4422/TestClient']] as Array<[string, string]> }

function codeOf(work: () => unknown): string | undefined {
  try {
    work()
  } catch (error) {
    return error instanceof SecurityServerError ? error.code : `not coded: ${String(error)}`
  }
  return undefined
}

describe('parseRestRequest (PR-REST r1)', () => {
  it('parses identifiers, service path, query and the X-Road headers; generates the id', () => {
    n = 0
    const req = parseRestRequest(
      { ...base, headers: [
        ['Host', 'ss'], ['X-Road-Client', 'DEV/COM/1/ignored'], ['X-Road-Client', 'DEV/COM/4422/TestClient'], ['Accept', 'application/json'],
        ['X-Road-UserId', 'EE123'], ['X-Road-Issue', 'case-7'], ['X-Road-Represented-Party', 'COM/999'],
        ['X-Road-Security-Server', 'DEV/COM/1234/ss2'], ['x-road-request-id', 'forged'], ['Connection', 'keep-alive'],
      ] },
      'DEV',
      uuid,
    )
    expect(req.clientId).toEqual(subsystemId('DEV', 'COM', '4422', 'TestClient'))
    expect(req.serviceId).toEqual(serviceId(subsystemId('DEV', 'COM', '1234', 'TestService'), 'mock1'))
    expect(req.servicePath).toBe('/items/1')
    expect(req.rawQuery).toBe('x=%20y')
    expect(req.messageId).toBe('DEV-00000000-0000-4000-8000-000000000001')
    expect(req.requestId).toBe('00000000-0000-4000-8000-000000000000')
    expect(req).toMatchObject({ userId: 'EE123', issue: 'case-7', representedParty: { partyClass: 'COM', partyCode: '999' } })
    expect(req.targetSecurityServer?.serverCode).toBe('ss2')
    expect(restRequestHeaderPart(req).toString()).toBe(
      'GET\r\n/r1/DEV/COM/1234/TestService/mock1/items/1?x=%20y\r\n' +
        'X-Road-Client:DEV/COM/1/ignored\r\nX-Road-Client:DEV/COM/4422/TestClient\r\nAccept:application/json\r\n' +
        'X-Road-UserId:EE123\r\nX-Road-Issue:case-7\r\nX-Road-Represented-Party:COM/999\r\nX-Road-Security-Server:DEV/COM/1234/ss2\r\n' +
        'x-road-request-id:00000000-0000-4000-8000-000000000000\r\nx-road-id:DEV-00000000-0000-4000-8000-000000000001\r\n',
    )
  })

  it('keeps a client-supplied X-Road-Id', () => {
    const req = parseRestRequest({ ...base, headers: [...base.headers, ['X-Road-Id', 'my-id']] }, 'DEV', uuid)
    expect(req.messageId).toBe('my-id')
    expect(req.headers.filter(([k]) => k.toLowerCase() === 'x-road-id')).toHaveLength(1)
  })

  // X-Road's RestRequest throws IllegalArgumentException for what it cannot parse (→ `internal_error`), and
  // MessageProcessorBase.verifyClientStatus refuses a missing client with `invalid_client_identifier`.
  it.each([
    ['missing X-Road-Client', { headers: [] }, 'invalid_client_identifier'],
    ['client with 2 parts', { headers: [['X-Road-Client', 'DEV/COM']] }, 'internal_error'],
    ['client with a bad escape', { headers: [['X-Road-Client', 'DEV/COM/%zz']] }, 'internal_error'],
    ['version r2', { url: '/r2/DEV/COM/1234/TestService/mock1' }, 'invalid_protocol_version'],
    ['no version', { url: '/DEV/COM/1234/TestService/mock1' }, 'invalid_protocol_version'],
    ['no subsystem', { url: '/r1/DEV/COM/1234/mock1' }, 'internal_error'],
    ['empty segment', { url: '/r1/DEV//1234/TestService/mock1' }, 'internal_error'],
    ['unknown method', { method: 'BREW' }, 'internal_error'],
    ['bad security server', { headers: [...base.headers, ['X-Road-Security-Server', 'DEV/COM/1234']] }, 'internal_error'],
    ['security server in another instance', { headers: [...base.headers, ['X-Road-Security-Server', 'EE/COM/1234/ss']] }, 'invalid_security_server'],
    ['represented party with 3 parts', { headers: [...base.headers, ['X-Road-Represented-Party', 'a/b/c']] }, 'internal_error'],
    ['header injection', { headers: [['X-Road-Client', 'DEV/COM/4422/A\r\nX-Road-Id: evil']] }, 'invalid_request'],
  ])('%s → %s', (_name, change, code) => {
    expect(codeOf(() => parseRestRequest({ ...base, ...change } as typeof base, 'DEV', uuid))).toBe(code)
  })

  it('reads an encoded slash inside an identifier part as X-Road does (RestRequest, uriSegmentPercentDecode)', () => {
    const req = parseRestRequest({ ...base, url: '/r1/DEV%2FCOM/1234/x/TestService/mock1' } as typeof base, 'DEV', uuid)
    expect(req.serviceId).toMatchObject({ xRoadInstance: 'DEV/COM', memberClass: '1234', memberCode: 'x', subsystemCode: 'TestService', serviceCode: 'mock1' })
  })
})

describe('REST header part and request hash', () => {
  it('round-trips and rejects filtered headers received from a peer', () => {
    const part = Buffer.from('POST\r\n/r1/A/B/C/D/e?q=1\r\nContent-Type:application/json\r\nx-road-id:1\r\n')
    expect(parseRestHeaderPart(part)).toEqual({
      kind: 'request', method: 'POST', pathAndQuery: '/r1/A/B/C/D/e?q=1', headers: [['Content-Type', 'application/json'], ['x-road-id', '1']],
    })
    expect(codeOf(() => parseRestHeaderPart(Buffer.from('GET\r\n/r1/x\r\nConnection:close\r\n')))).toBe('invalid_message')
    expect(codeOf(() => parseRestHeaderPart(Buffer.from('GET\r\n/r1/x\r\nbad line\r\n')))).toBe('invalid_message')
    expect(codeOf(() => parseRestHeaderPart(Buffer.from('GET\r\n/r1/x')))).toBe('invalid_message')
    expect(serializeRestResponsePart({ status: 200, reason: 'OK', headers: [['a', 'b'], ['Content-Length', '5']] }).toString()).toBe('200\r\nOK\r\na:b\r\n')
  })

  it('hashes SHA-512(part) without body and SHA-512(SHA-512(part)‖SHA-512(body)) with one', () => {
    const part = Buffer.from('GET\r\n/r1/x\r\n')
    const body = Buffer.from('{"a":1}')
    const sha = (b: Buffer) => createHash('sha512').update(b).digest()
    expect(computeRequestHash(part)).toBe(sha(part).toString('base64'))
    expect(computeRequestHash(part, Buffer.alloc(0))).toBe(sha(part).toString('base64'))
    expect(computeRequestHash(part, body)).toBe(sha(Buffer.concat([sha(part), sha(body)])).toString('base64'))
  })

  it('strips a client-supplied x-road-request-hash, as X-Road RestRequest does', () => {
    const req = parseRestRequest({ ...base, headers: [...base.headers, ['X-Road-Request-Hash', 'forged']] }, 'DEV', uuid)
    expect(req.headers.some(([k]) => k.toLowerCase() === 'x-road-request-hash')).toBe(false)
  })

  it('gives an empty X-Road-Id an id of its own (X-Road keeps it, then refuses the answer: docs/xroad-differences.md)', () => {
    n = 0
    const req = parseRestRequest({ ...base, headers: [...base.headers, ['X-Road-Id', '']] }, 'DEV', uuid)
    expect(req.messageId).toBe('DEV-00000000-0000-4000-8000-000000000001')
    expect(req.headers.filter(([k]) => k.toLowerCase() === 'x-road-id').map(([, v]) => v)).toEqual(['DEV-00000000-0000-4000-8000-000000000001'])
  })

  it("keeps the service's own x-road-service before the provider's (X-Road RestResponse)", () => {
    const req = parseRestRequest(base, 'DEV', uuid)
    const headers = providerResponseHeaders(
      [['X-Road-Service', 'service/own'], ['X-Road-Client', 'spoofed']],
      { messageId: req.messageId, clientId: req.clientId, serviceId: req.serviceId, requestId: req.requestId, requestHash: 'h' },
    )
    expect(headers.filter(([k]) => k.toLowerCase() === 'x-road-service').map(([, v]) => v)).toEqual(['service/own', 'DEV/COM/1234/TestService/mock1'])
    expect(headers.filter(([k]) => k.toLowerCase() === 'x-road-client').map(([, v]) => v)).toEqual(['DEV/COM/4422/TestClient'])
  })

  it('builds the provider response headers in X-Road order and checks consistency on the consumer', () => {
    n = 0
    const req = parseRestRequest(base, 'DEV', uuid)
    const headerPart = restRequestHeaderPart(req)
    const requestHash = computeRequestHash(headerPart)
    const headers = providerResponseHeaders(
      [['Content-Type', 'application/json'], ['x-road-id', 'spoofed'], ['X-Road-Request-Hash', 'spoofed'], ['Transfer-Encoding', 'chunked']],
      { messageId: req.messageId, clientId: req.clientId, serviceId: req.serviceId, requestId: req.requestId, requestHash },
    )
    expect(headers.map(([k]) => k)).toEqual(['Content-Type', 'x-road-id', 'x-road-client', 'x-road-service', 'x-road-request-id', 'x-road-request-hash'])
    const response = { kind: 'response' as const, status: 200, reason: 'OK', headers }
    const context = { messageId: req.messageId, clientId: req.clientId, serviceId: req.serviceId, requestId: req.requestId, headerPart }
    expect(() => checkResponseConsistency(response, context)).not.toThrow()
    expect(codeOf(() => checkResponseConsistency(response, { ...context, body: Buffer.from('x') }))).toBe('inconsistent_response')
    expect(codeOf(() => checkResponseConsistency(response, { ...context, requestId: 'other' }))).toBe('inconsistent_response')
  })
})

describe('errors at the REST and SOAP edges', () => {
  it('maps server.* to 500 and client faults to 400 with X-Road-Error and a detail UUID', () => {
    const denied = new SecurityServerError('access_denied', 'Request is not allowed', { clientFault: true }).withPrefix('server.serverproxy')
    const r = restErrorResponse(denied, undefined, () => 'd-1')
    expect(r.status).toBe(500)
    expect(r.headers).toContainEqual(['X-Road-Error', 'server.serverproxy.access_denied'])
    expect(JSON.parse(r.body.toString())).toEqual({ type: 'server.serverproxy.access_denied', message: 'Request is not allowed', detail: 'd-1' })
    const bad = restErrorResponse(new SecurityServerError('missing_header', 'Missing header X-Road-Client', { clientFault: true }), 'text/xml', () => 'd-2')
    expect(bad.status).toBe(400)
    expect(bad.body.toString()).toBe(
      '<?xml version="1.0" encoding="UTF-8" standalone="no"?><error><type>client.missing_header</type><message>Missing header X-Road-Client</message><detail>d-2</detail></error>',
    )
  })

  // X-Road RestProxyTest (shouldReturnJsonErrorIfAcceptHeaderIs… / …Xml…): the error's Content-Type per Accept.
  it.each([
    [undefined, 'application/json'],
    ['application/json;charset=utf-8', 'application/json'],
    ['foobarbaz', 'application/json'],
    ['application/xml', 'application/xml;charset=utf-8'],
    ['text/xml', 'text/xml;charset=utf-8'],
    ['application/xml, text/xml', 'application/xml;charset=utf-8'],
    ['text/xml, application/xml', 'text/xml;charset=utf-8'],
    ['text/xml-patch+xml', 'application/json'],
    ['application/xml; q=0.2', 'application/xml;charset=utf-8'],
    ['text/xml, application/xml, application/json', 'text/xml;charset=utf-8'],
    ['text/*', 'text/xml;charset=utf-8'],
  ])('Accept %s → error Content-Type %s (ClientRestMessageHandler.decideErrorResponseContentType)', (accept, contentType) => {
    const r = restErrorResponse(new SecurityServerError('service_type', 'x').withPrefix('server.serverproxy'), accept)
    expect(r.headers).toContainEqual(['Content-Type', contentType])
    expect(r.body.toString().startsWith(contentType === 'application/json' ? '{' : '<?xml')).toBe(true)
  })

  it('reads every Accept header of a request, as X-Road does (getValues("Accept"))', () => {
    const accept = acceptValues([['Accept', 'application/json'], ['accept', 'text/xml']])
    expect(restErrorResponse(new SecurityServerError('internal_error', 'x'), accept).headers).toContainEqual(['Content-Type', 'text/xml;charset=utf-8'])
  })

  it('serializes the SOAP fault exactly as X-Road', () => {
    expect(soapFaultXml('Server.ClientProxy.ServiceFailed.MissingBody', 'Malformed SOAP message: body missing', 'f31e7451-f0ac-48f6-9f05-1f0459e48eea')).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Body><SOAP-ENV:Fault><faultcode>Server.ClientProxy.ServiceFailed.MissingBody</faultcode><faultstring>Malformed SOAP message: body missing</faultstring><faultactor></faultactor><detail><faultDetail xmlns="">f31e7451-f0ac-48f6-9f05-1f0459e48eea</faultDetail></detail></SOAP-ENV:Fault></SOAP-ENV:Body></SOAP-ENV:Envelope>',
    )
  })
})

const REST_ASIC = ['asic', 'asic-verifier-cli', 'asic-containers', 'valid-non-batch-rest', 'message.xml']
describeFixtures('REST header part against X-Road fixture valid-non-batch-rest', () => {
  itWith([fixtureFile(...REST_ASIC)], 'parses and re-serializes message.xml byte for byte', () => {
    const bytes = readFixture(...REST_ASIC)
    const part = parseRestHeaderPart(bytes)
    expect(part.kind).toBe('response')
    if (part.kind !== 'response') return
    expect(serializeRestResponsePart(part).equals(bytes)).toBe(true)
  })
})

// X-Road's client proxy is Jetty allowing only AMBIGUOUS_PATH_SEPARATOR (ClientProxy): what it refuses with a plain 400.
describe('ambiguous request paths at the client proxy (Jetty URI compliance)', () => {
  it.each([
    '/r1/I/C/M/S/svc/%2e%2e/x', '/r1/I/C/M/S/svc/.%2E/x', '/r1/I/C/M/S/svc/%2e/x', '/r1/I/C/M/S/svc//x', '/r1/I/C/M/S/svc/%252e',
    '/r1/I/C/M/S/svc/a\\b', '/r1/I/C/M/S/svc/%5Cb', '/r1/I/C/M/S/svc/%00', '/r1/I/C/M/S/svc/%1f', '/r1/I/C/M/S/svc/%zz', '/r1/I/C/M/S/svc/%u002e',
    '/r1/../../x',
  ])('refuses %s', (path) => {
    expect(ambiguousPath(path)).toBeDefined()
  })

  it.each([
    '/r1/I/C/M/S/svc/a%2Fb', '/r1/I/C/M/S/svc/a;v=1/b', '/r1/I/C/M/S/svc/./x', '/r1/I/C/M/S/svc/a/../b', '/r1/I/C/M/S/svc/', '/', '/r1/I/C/M/S/svc/..;/x',
  ])('passes %s', (path) => {
    expect(ambiguousPath(path)).toBeUndefined()
  })
})

import { createHash } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encodeIdentifier, serviceId, subsystemId, type ClientId } from '@shared/domain/identifiers'
import type { ServiceAccessRights } from '../../src-main/access-control'
import { SecurityServerError } from '../../src-main/platform'
import {
  bufferBody, createServiceClient, decodeTransportMessage, handleClientProxyRequest, handleServerProxyRequest, readSource,
  type ClientProxyDeps, type ClosableServiceClient, type MessagePart, type ServerProxyDeps, type ServiceCall,
} from '../../src-main/proxy'

/**
 * The server proxy's steps in X-Road's order (`ServerProxyHandler`, `ServerRestMessageProcessor`,
 * `ServerMessageProcessor`): each case breaks several checks at once, and the code that comes back is the first
 * check's, with X-Road's prefix — `service_failed.` for what fails while the message is read, `signature_verification.`
 * for the signature. A failure once the provider has begun answering comes back as a multipart whose only part is the
 * `text/xml` fault (`ProxyMessageEncoder.fault`). Handler level: one consumer request is captured and replayed.
 */
const consumer = subsystemId('DEV', 'COM', '4422', 'CLIENT')
const provider = subsystemId('DEV', 'GOV', '1234', 'PROVIDER')
const svc = serviceId(provider, 'orders')

const fakeSignature = (member: ClientId, parts: MessagePart[]) =>
  parts.reduce((h, p) => h.update(p.name).update('bytes' in p ? p.bytes : p.digest), createHash('sha512').update(encodeIdentifier(member))).digest()

/** What the server proxy answered: status, content type, the fault code, and whether the fault came in a multipart. */
interface Answer {
  status: number
  contentType: string
  faultCode: string | undefined
  inMultipart: boolean
  body: Buffer
}

interface Breakage {
  providerUnregistered?: boolean
  noSigningKey?: boolean
  tlsFails?: boolean
  unsigned?: boolean
  unknownService?: boolean
  soapService?: boolean
  denied?: boolean
  disabled?: boolean
  badSignature?: boolean
  noUrl?: boolean
  service?: ServerProxyDeps['serviceClient']
  signingFails?: boolean
  version?: string | null
  minimum?: string
}

let request: { headers: Array<[string, string]>; body: Buffer }

beforeAll(async () => {
  const signer = { sign: async (member: ClientId, parts: MessagePart[]) => ({ signatureXml: fakeSignature(member, parts) }) }
  const clientDeps: ClientProxyDeps = {
    globalConf: {
      assertValid: () => {}, instanceIdentifier: () => 'DEV', authCertMatchesMember: () => true, memberExists: () => true, isGlobalGroupMember: () => false,
      serversOf: () => [{ serverId: { objectType: 'SERVER', xRoadInstance: 'DEV', memberClass: 'GOV', memberCode: '1234', serverCode: 'ss2' }, address: 'ss2', inMaintenanceMode: false }],
    },
    serverConf: { isRegisteredClient: () => true, accessRightsFor: () => undefined, localGroupMembers: () => [], service: () => undefined, isAuthentication: () => undefined },
    signer, verifier: { verify: async () => {} },
    messageLog: { assertAcceptingMessages: () => {}, bodyLimit: () => undefined, record: async () => {} },
    proxyVersion: '7.8.0', authOcspResponses: async () => [],
    peer: {
      send: async (_targets, _to, req) => {
        request = { headers: [...req.headers, ['content-type', req.contentType]], body: await readSource(req.body) }
        throw new SecurityServerError('network_error', 'captured')
      },
    },
  }
  await handleClientProxyRequest({
    method: 'POST', url: '/r1/DEV/GOV/1234/PROVIDER/orders/api/items', headers: [['X-Road-Client', 'DEV/COM/4422/CLIENT'], ['Content-Type', 'application/json']],
    body: Buffer.from('{"n":1}'),
  }, clientDeps)
})

const calls: ServiceCall[] = []

function deps(broken: Breakage): ServerProxyDeps {
  const rights: ServiceAccessRights = {
    serviceId: svc, disabled: broken.disabled === true, disabledNotice: 'closed for maintenance',
    endpoints: [{ method: '*', path: '/api/**', subjects: broken.denied === true ? [] : [consumer] }],
  }
  return {
    globalConf: {
      assertValid: () => {}, instanceIdentifier: () => 'DEV', authCertMatchesMember: () => true, memberExists: () => true, isGlobalGroupMember: () => false, serversOf: () => [],
    },
    serverConf: {
      isRegisteredClient: (id) => !(broken.providerUnregistered === true && encodeIdentifier(id) === encodeIdentifier(provider)),
      accessRightsFor: () => (broken.unknownService === true ? undefined : rights),
      localGroupMembers: () => [],
      service: () => (broken.unknownService === true ? undefined : {
        url: broken.noUrl === true ? '' : 'http://service.local/base/', timeoutSeconds: 5, sslVerify: true, type: broken.soapService === true ? 'WSDL' : 'REST',
      }),
      isAuthentication: () => undefined,
    },
    tlsClientVerifier: {
      verify: async () => {
        if (broken.tlsFails === true) throw new SecurityServerError('ssl_authentication_failed', 'Cannot verify TLS certificate, corresponding OCSP response is missing')
      },
    },
    verifier: {
      verify: async (expected, parts, sig) => {
        if (broken.badSignature === true || !fakeSignature(expected, parts).equals(Buffer.from(sig.signatureXml))) {
          throw new SecurityServerError('invalid_signature_value', 'Signature is not valid')
        }
      },
    },
    signer: {
      sign: async (member, parts) => {
        if (broken.signingFails === true) throw new SecurityServerError('cannot_sign', 'The token is logged out')
        return { signatureXml: fakeSignature(member, parts) }
      },
      checkSigningContext: async () => {
        if (broken.noSigningKey === true) throw new SecurityServerError('cannot_sign', 'No active signing certificate on a logged-in token')
      },
    },
    messageLog: { assertAcceptingMessages: () => {}, bodyLimit: () => undefined, record: async () => {} },
    serviceClient: broken.service ?? {
      call: async (call) => {
        calls.push(call)
        return { status: 200, reason: 'OK', headers: [['Content-Type', 'application/json']], body: bufferBody(Buffer.from('{"ok":true}')) }
      },
    },
    ...(broken.minimum === undefined ? {} : { minSupportedClientVersion: () => broken.minimum }),
  }
}

async function serve(broken: Breakage = {}): Promise<Answer> {
  let headers = request.headers
  let body = request.body
  if (broken.version !== undefined) {
    headers = headers.filter(([n]) => n.toLowerCase() !== 'x-proxy-version')
    if (broken.version !== null) headers.push(['x-proxy-version', broken.version])
  }
  if (broken.unsigned === true) body = Buffer.from(body.toString('latin1').replace(/--xtop[a-z]+\r\ncontent-type: signature[\s\S]*?\r\n(?=--xtop)/, ''), 'latin1')
  const res = await handleServerProxyRequest({ method: 'POST', headers, body, peerCertificateChain: [] }, deps(broken))
  const contentType = res.headers.find(([n]) => n.toLowerCase() === 'content-type')?.[1] ?? ''
  const bytes = await readSource(res.body)
  let fault = bytes
  const inMultipart = contentType.startsWith('multipart/')
  if (inMultipart) {
    const decoded = decodeTransportMessage(contentType, bytes, 'response')
    fault = decoded.signature === undefined ? decoded.message.bytes : Buffer.alloc(0)
  }
  return { status: res.status, contentType, faultCode: /<faultcode>([^<]*)<\/faultcode>/.exec(fault.toString('utf8'))?.[1], inMultipart, body: bytes }
}

describe('server proxy (REST): X-Road\'s check order and codes', () => {
  it('serves the captured request when nothing is broken (control)', async () => {
    const answer = await serve()
    expect(answer.faultCode).toBeUndefined()
    expect(answer.contentType).toMatch(/^multipart\/mixed/)
  })

  it.each<[string, Breakage, string]>([
    ['provider not registered here first (verifyClientStatus)', { providerUnregistered: true, noSigningKey: true, tlsFails: true, unsigned: true, denied: true }, 'server.serverproxy.service_failed.unknown_member'],
    ['then the provider\'s signing context (createSigningCtx)', { noSigningKey: true, tlsFails: true, unsigned: true }, 'server.serverproxy.service_failed.cannot_create_signature'],
    ['then the TLS client certificate (verifySslClientCert)', { tlsFails: true, unsigned: true, unknownService: true }, 'server.serverproxy.service_failed.ssl_authentication_failed'],
    ['then the signature part (checkRequest)', { unsigned: true, unknownService: true }, 'server.serverproxy.missing_signature'],
    ['then the service (verifyAccess)', { unknownService: true, badSignature: true }, 'server.serverproxy.unknown_service'],
    ['then its type', { soapService: true, denied: true, disabled: true }, 'server.serverproxy.service_type'],
    ['then the access right', { denied: true, disabled: true, badSignature: true }, 'server.serverproxy.access_denied'],
    ['then the disabled notice', { disabled: true, badSignature: true }, 'server.serverproxy.service_disabled'],
    ['then the signature (Verifier.verify)', { badSignature: true, noUrl: true }, 'server.serverproxy.signature_verification.invalid_signature_value'],
  ])('%s: %s', async (_name, broken, code) => {
    const before = calls.length
    const answer = await serve(broken)
    expect(answer).toMatchObject({ status: 200, faultCode: code, inMultipart: false })
    expect(answer.contentType).toBe('text/xml; charset=UTF-8')
    expect(calls.length).toBe(before)
  })

  it('reads an x-proxy-version only against a configured minimum (ClientProxyVersionVerifier)', async () => {
    // No minimum (X-Road's default): an old version, and none at all (read as "unknown"), are served.
    expect((await serve({ version: '6.26.3' })).faultCode).toBeUndefined()
    expect((await serve({ version: null })).faultCode).toBeUndefined()
    // With one: older or missing is refused before anything is read, newer or equal passes.
    expect(await serve({ version: '6.26.3', minimum: '7.1.3', providerUnregistered: true })).toMatchObject({ faultCode: 'server.serverproxy.client_proxy_version_not_supported', inMultipart: false })
    expect((await serve({ version: null, minimum: '7.1.3' })).faultCode).toBe('server.serverproxy.client_proxy_version_not_supported')
    expect((await serve({ version: '7.1.3', minimum: '7.1.3' })).faultCode).toBeUndefined()
    expect((await serve({ version: '7.8.0', minimum: '7.1.3' })).faultCode).toBeUndefined()
  })
})

describe('server proxy (REST): failures once the provider has begun answering are a fault-only multipart', () => {
  let slow: Server
  let services: ClosableServiceClient
  beforeAll(async () => {
    // A service that accepts the request and never answers.
    slow = createServer(() => undefined)
    await new Promise<void>((r) => slow.listen(0, '127.0.0.1', () => r()))
    services = createServiceClient()
  })
  afterAll(async () => {
    services.close()
    slow.closeAllConnections()
    await new Promise<void>((r) => slow.close(() => r()))
  })

  const down = (code: 'network_error' | 'io_error'): ServerProxyDeps['serviceClient'] => ({ call: async () => { throw new SecurityServerError(code, 'Calling the service failed: ECONNREFUSED') } })

  it.each<[string, Breakage, string]>([
    ['a service without an address (DefaultRestServiceHandlerImpl)', { noUrl: true }, 'server.serverproxy.service_missing_url'],
    ['a service that cannot be reached (no service_failed. prefix)', { service: down('network_error') }, 'server.serverproxy.network_error'],
    // X-Road's SigningFailsInServerProxy: X_CANNOT_CREATE_SIGNATURE.
    ['a response that cannot be signed', { signingFails: true }, 'server.serverproxy.cannot_create_signature'],
  ])('%s: %s', async (_name, broken, code) => {
    const answer = await serve(broken)
    expect(answer).toMatchObject({ status: 200, faultCode: code, inMultipart: true })
    expect(answer.contentType).toMatch(/^multipart\/mixed; charset=UTF-8; boundary=xtop[a-z]{30}$/)
    // One part: the fault, text/xml in UTF-8, and nothing else (no signature).
    expect(answer.body.toString('latin1').match(/\r\ncontent-type: /g)).toHaveLength(1)
    expect(answer.body.toString('latin1')).toMatch(/^--xtop[a-z]{30}\r\ncontent-type: text\/xml; charset=UTF-8\r\n\r\n/)
  })

  it('a service that does not answer within its timeout: io_error (a SocketTimeoutException is an IOException)', async () => {
    const port = (slow.address() as AddressInfo).port
    const answer = await serve({ service: { call: (call) => services.call({ ...call, url: `http://127.0.0.1:${port}/`, timeoutMs: 200 }) } })
    expect(answer).toMatchObject({ faultCode: 'server.serverproxy.io_error', inMultipart: true })
  })
})

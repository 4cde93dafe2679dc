import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { encodeIdentifier, serviceId, subsystemId, type ClientId } from '@shared/domain/identifiers'
import type { ServiceAccessRights } from '../../src-main/access-control'
import { SecurityServerError } from '../../src-main/platform'
import {
  bufferBody, handleClientProxyRequest, handleServerProxyRequest, readSource,
  type ClientProxyDeps, type MessagePart, type MessageRecord, type ServerProxyDeps, type ServiceCall,
} from '../../src-main/proxy'

// In-memory fakes of the narrow interfaces: the "signature" is SHA-512 over the signer and the parts.
const fakeSignature = (member: ClientId, parts: MessagePart[]) =>
  parts.reduce((h, p) => h.update(p.name).update('bytes' in p ? p.bytes : p.digest), createHash('sha512').update(encodeIdentifier(member))).digest()

const consumer = subsystemId('DEV', 'COM', '4422', 'CLIENT')
const provider = subsystemId('DEV', 'GOV', '1234', 'PROVIDER')
const svc = serviceId(provider, 'orders')

function world(options: {
  rights?: Partial<ServiceAccessRights>; tamper?: (body: Buffer) => Buffer; tamperResponse?: (body: Buffer) => Buffer; registered?: boolean
  serviceBody?: Buffer
} = {}) {
  const calls: ServiceCall[] = []
  const log: MessageRecord[] = []
  const rights: ServiceAccessRights = {
    serviceId: svc, disabled: false, endpoints: [{ method: 'GET', path: '/api/*', subjects: [consumer] }], ...options.rights,
  }
  const globalConf = {
    assertValid: () => {},
    instanceIdentifier: () => 'DEV',
    serversOf: () => [{ serverId: { objectType: 'SERVER' as const, xRoadInstance: 'DEV', memberClass: 'GOV', memberCode: '1234', serverCode: 'ss2' }, address: '127.0.0.1', inMaintenanceMode: false }],
    authCertMatchesMember: () => true,
    memberExists: () => true,
    isGlobalGroupMember: () => false,
  }
  const signer = { sign: async (member: ClientId, parts: MessagePart[]) => ({ signatureXml: fakeSignature(member, parts) }) }
  const verifier = {
    verify: async (expected: ClientId, parts: MessagePart[], sig: { signatureXml: Uint8Array }) => {
      if (!fakeSignature(expected, parts).equals(Buffer.from(sig.signatureXml))) throw new SecurityServerError('invalid_signature_value', 'Signature is not valid')
    },
  }
  const messageLog = { assertAcceptingMessages: () => {}, bodyLimit: () => undefined, record: async (r: MessageRecord) => void log.push(r) }
  const serverDeps: ServerProxyDeps = {
    globalConf,
    serverConf: {
      isRegisteredClient: () => true,
      accessRightsFor: (id) => (encodeIdentifier(id) === encodeIdentifier(svc) ? rights : undefined),
      localGroupMembers: () => [],
      service: () => ({ url: 'http://service.local/base/', timeoutSeconds: 5, sslVerify: true }),
      isAuthentication: () => undefined,
    },
    tlsClientVerifier: { verify: async () => {} },
    verifier, signer, messageLog,
    serviceClient: {
      call: async (call) => {
        calls.push(call)
        return { status: 200, reason: 'OK', headers: [['Content-Type', 'application/json'], ['x-road-id', 'spoof']], body: bufferBody(options.serviceBody ?? Buffer.from('{"ok":true}')) }
      },
    },
  }
  const clientDeps: ClientProxyDeps = {
    globalConf, signer, verifier, messageLog, proxyVersion: '7.8.0',
    serverConf: { ...serverDeps.serverConf, isRegisteredClient: (id) => options.registered !== false && encodeIdentifier(id) === encodeIdentifier(consumer) },
    authOcspResponses: async () => [],
    peer: {
      send: async (_targets, _provider, req) => {
        const sent = await readSource(req.body)
        const body = options.tamper ? options.tamper(sent) : sent
        const res = await handleServerProxyRequest(
          { method: 'POST', headers: [...req.headers, ['content-type', req.contentType]], body, peerCertificateChain: [] },
          serverDeps,
        )
        const answer = await readSource(res.body)
        return { contentType: res.headers.find(([k]) => k.toLowerCase() === 'content-type')?.[1] ?? '', headers: res.headers, body: [options.tamperResponse ? options.tamperResponse(answer) : answer] }
      },
    },
  }
  return { calls, log, clientDeps }
}

const send = (w: ReturnType<typeof world>, path: string, extra: Array<[string, string]> = [], method = 'GET') =>
  handleClientProxyRequest({ method, url: `/r1/DEV/GOV/1234/PROVIDER/orders${path}`, headers: [['X-Road-Client', 'DEV/COM/4422/CLIENT'], ...extra], body: Buffer.alloc(0) }, w.clientDeps)

describe('client proxy → server proxy', () => {
  it('carries an allowed request to the service and returns its signed, checked response', async () => {
    const w = world()
    const res = await send(w, '/api/items?q=1')
    expect(res.status).toBe(200)
    expect((await readSource(res.body)).toString()).toBe('{"ok":true}')
    expect(res.headers.map(([k]) => k)).toEqual(['Content-Type', 'x-road-id', 'x-road-client', 'x-road-service', 'x-road-request-id', 'x-road-request-hash'])
    expect(w.calls).toHaveLength(1)
    expect(w.calls[0]?.url).toBe('http://service.local/base/api/items?q=1')
    expect(w.log.map((r) => `${r.side}/${r.direction}`)).toEqual(['client/request', 'server/request', 'server/response', 'client/response'])
  })

  it.each([
    ['access denied', {}, '/secret', 'server.serverproxy.access_denied'],
    ['path traversal', {}, '/api/%2e%2e/secret', 'server.serverproxy.invalid_request'],
    ['double-encoded traversal', {}, '/api/%252e%252e/secret', 'server.serverproxy.invalid_request'],
    ['disabled service', { rights: { disabled: true, disabledNotice: 'off' } }, '/api/x', 'server.serverproxy.service_disabled'],
    ['modified body in transit', { tamper: (b: Buffer) => Buffer.from(b.toString('latin1').replace('/api/x', '/api/y'), 'latin1') }, '/api/x', 'server.serverproxy.signature_verification.invalid_signature_value'],
    ['extra part in transit', { tamper: (b: Buffer) => Buffer.from(b.toString('latin1').replace(/--(xtop[a-z]+)--\r\n$/, '--$1\r\ncontent-type: text/plain\r\n\r\nx\r\n--$1--\r\n'), 'latin1') }, '/api/x', 'server.serverproxy.service_failed.invalid_message'],
    ['empty body part added in transit', { tamper: (b: Buffer) => Buffer.from(b.toString('latin1').replace(/(--(xtop[a-z]+)\r\ncontent-type: application\/x-road-rest-request\r\n\r\n[\s\S]*?\r\n)(?=--xtop)/, '$1--$2\r\ncontent-type: application/x-road-rest-body\r\n\r\n\r\n'), 'latin1') }, '/api/x', 'server.serverproxy.signature_verification.invalid_signature_value'],
    ['missing signature in transit', { tamper: (b: Buffer) => Buffer.from(b.toString('latin1').replace(/--xtop[a-z]+\r\ncontent-type: signature[\s\S]*?\r\n(?=--xtop)/, ''), 'latin1') }, '/api/x', 'server.serverproxy.missing_signature'],
    ['unregistered client', { registered: false }, '/api/x', 'server.clientproxy.unknown_member'],
  ])('%s → %s, nothing reaches the service', async (_name, options, path, code) => {
    const w = world(options as Parameters<typeof world>[0])
    const res = await send(w, path)
    expect(res.headers).toContainEqual(['X-Road-Error', code])
    expect(res.status).toBe(code.startsWith('server.') ? 500 : 400)
    expect(w.calls).toHaveLength(0)
  })

  it('fails a response whose provider signed no body but which arrives with an empty body part (the consumer keeps empty parts)', async () => {
    const w = world({
      serviceBody: Buffer.alloc(0),
      tamperResponse: (b) => Buffer.from(b.toString('latin1').replace(
        /(--(xtop[a-z]+)\r\ncontent-type: application\/x-road-rest-response\r\n\r\n[\s\S]*?\r\n)(?=--xtop)/,
        '$1--$2\r\ncontent-type: application/x-road-rest-body\r\n\r\n\r\n',
      ), 'latin1'),
    })
    const res = await send(w, '/api/x')
    expect(res.headers).toContainEqual(['X-Road-Error', 'server.clientproxy.invalid_signature_value'])
    expect(w.log.map((r) => `${r.side}/${r.direction}`)).not.toContain('client/response')
  })

  it('answers an unknown service with unknown_service', async () => {
    const w = world()
    const res = await handleClientProxyRequest({ method: 'GET', url: '/r1/DEV/GOV/1234/PROVIDER/nope/api/x', headers: [['X-Road-Client', 'DEV/COM/4422/CLIENT']], body: Buffer.alloc(0) }, w.clientDeps)
    expect(res.headers).toContainEqual(['X-Road-Error', 'server.serverproxy.unknown_service'])
    expect(w.calls).toHaveLength(0)
  })

  // ClientRestMessageProcessor: signingCtxProvider.createSigningCtx(sender) → KeyConf.getSigningInfo fails with
  // cannot_create_signature, the same code the SOAP client proxy answers (X-Road's SigningFailsInClientProxy).
  it('refuses a sender without a usable signing key with cannot_create_signature before signing, logging or sending', async () => {
    const w = world()
    let signed = 0
    let sent = 0
    const peer = w.clientDeps.peer
    const deps: ClientProxyDeps = {
      ...w.clientDeps,
      signer: {
        sign: async () => {
          signed++
          throw new SecurityServerError('cannot_sign', 'No active signing certificate on a logged-in token')
        },
        checkSigningContext: async (member) => {
          throw new SecurityServerError('cannot_sign', `No active signing certificate on a logged-in token for ${encodeIdentifier(member)}`)
        },
      },
      peer: { send: async (...args) => (sent++, peer.send(...args)) },
    }
    const res = await send({ ...w, clientDeps: deps }, '/api/x')
    expect(res.status).toBe(500)
    expect(res.headers).toContainEqual(['X-Road-Error', 'server.clientproxy.cannot_create_signature'])
    expect((await readSource(res.body)).toString()).toContain("Failed to get signing info for member 'SUBSYSTEM:DEV/COM/4422/CLIENT'")
    expect({ signed, sent, logged: w.log.length, served: w.calls.length }).toEqual({ signed: 0, sent: 0, logged: 0, served: 0 })
  })

  // The fault harness's OCSP outage: the signing certificate's OCSP response goes stale while the body is read, after
  // the check passed; the signer then refuses the context with cannot_sign, which is still cannot_create_signature.
  it('answers cannot_create_signature when the signing context becomes unusable between the check and signing', async () => {
    const w = world()
    const deps: ClientProxyDeps = {
      ...w.clientDeps,
      signer: {
        sign: async () => {
          throw new SecurityServerError('cannot_sign', 'No signing certificate of SUBSYSTEM:DEV/COM/4422/CLIENT has a fresh good OCSP response')
        },
        checkSigningContext: async () => undefined,
      },
    }
    const res = await send({ ...w, clientDeps: deps }, '/api/x')
    expect(res.status).toBe(500)
    expect(res.headers).toContainEqual(['X-Road-Error', 'server.clientproxy.cannot_create_signature'])
    expect((await readSource(res.body)).toString()).toContain('has a fresh good OCSP response')
    expect({ logged: w.log.length, served: w.calls.length }).toEqual({ logged: 0, served: 0 })
  })

  // X-Road RestProxyTest.shouldFailIfClientHeaderMissing / shouldFailIfMalformedRequestURI: 500 with X-Road-Error.
  it('refuses malformed X-Road headers before signing or sending anything', async () => {
    const w = world()
    const res = await handleClientProxyRequest({ method: 'GET', url: '/r1/DEV/GOV/1234/PROVIDER/orders', headers: [], body: Buffer.alloc(0) }, w.clientDeps)
    expect(res.status).toBe(500)
    expect(res.headers).toContainEqual(['X-Road-Error', 'server.clientproxy.invalid_client_identifier'])
    expect(w.log).toHaveLength(0)
  })
})

describe('server proxy checks before parsing', () => {
  it.each([
    // ClientProxyVersionVerifierTest.shouldRaiseError: a configured minimum above the consumer's version.
    ['old client proxy version', [['x-proxy-version', '6.26.3'], ['x-hash-algorithm', 'SHA-512']], 'server.serverproxy.client_proxy_version_not_supported'],
    ['missing client proxy version under a minimum', [['x-hash-algorithm', 'SHA-512']], 'server.serverproxy.client_proxy_version_not_supported'],
    ['missing hash algorithm', [['x-proxy-version', '7.8.0']], 'server.serverproxy.missing_header'],
  ])('%s → %s as a SOAP fault', async (_name, headers, code) => {
    const w = world()
    const res = await handleServerProxyRequest({ method: 'POST', headers: headers as Array<[string, string]>, body: Buffer.alloc(0), peerCertificateChain: [] }, {
      globalConf: w.clientDeps.globalConf, serverConf: w.clientDeps.serverConf, tlsClientVerifier: { verify: async () => {} },
      verifier: w.clientDeps.verifier, signer: w.clientDeps.signer, messageLog: w.clientDeps.messageLog,
      serviceClient: { call: async () => { throw new Error('must not be called') } },
      minSupportedClientVersion: () => '7.1.3',
    })
    expect(res.status).toBe(200)
    expect((await readSource(res.body)).toString()).toContain(`<faultcode>${code}</faultcode>`)
  })
})

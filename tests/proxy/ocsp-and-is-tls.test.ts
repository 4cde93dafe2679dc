import { createHash } from 'node:crypto'
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fetchPeerOcspResponses, startClientProxyListener, startOcspResponderListener, type RunningListener } from '../../src-main/proxy'
import { consumer, fakeWorld } from './support/fake-world'
import { createTestPki, type TestCert, type TestPki } from './support/tls-pki'

const sha1 = (der: Uint8Array) => createHash('sha1').update(der).digest('hex')
const sha256 = (der: Uint8Array) => createHash('sha256').update(der).digest('hex')

let pki: TestPki
let known: TestCert
let unknown: TestCert
let responder: RunningListener
const fakeOcsp = Buffer.from('3003020100', 'hex')

beforeAll(async () => {
  pki = createTestPki()
  known = pki.issue('known')
  unknown = pki.issue('unknown')
  responder = await startOcspResponderListener({
    host: '127.0.0.1', port: 0,
    ocspResponseFor: async (hash) => (hash === sha1(known.der) ? fakeOcsp : undefined),
  })
}, 30_000)
afterAll(async () => {
  await responder?.close()
  pki?.dispose()
})

function plainRequest(method: string, path: string) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: responder.port, method, path })
    req.once('response', (res) => {
      let body = ''
      res.on('data', (d: Buffer) => (body += d.toString()))
      res.once('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.once('error', reject)
    req.end()
  })
}

describe('OCSP responses on port 5577 (xroad-protocols.md §4.2)', () => {
  it('answers ?cert=sha1 with one application/ocsp-response part per known certificate; unknown ones are left out', async () => {
    const responses = await fetchPeerOcspResponses('127.0.0.1', [known.der, unknown.der], { port: responder.port })
    expect(responses.map((r) => Buffer.from(r).toString('hex'))).toEqual([fakeOcsp.toString('hex')])
  })

  it('answers 404 when no certificate is known, 400 on a malformed hash, 200 on HEAD', async () => {
    await expect(fetchPeerOcspResponses('127.0.0.1', [unknown.der], { port: responder.port })).rejects.toMatchObject({ code: 'network_error' })
    expect((await plainRequest('GET', '/?cert=xyz')).status).toBe(400)
    expect((await plainRequest('HEAD', '/')).status).toBe(200)
  })
})

describe('client proxy over HTTPS with IS certificate authentication (ug-ss §9.4)', () => {
  it('accepts the registered IS certificate under SSLAUTH and refuses another with ssl_authentication_failed', async () => {
    const isCert = pki.selfSigned('information-system')
    const otherCert = pki.selfSigned('stranger')
    const serverCert = pki.selfSigned('gatehouse-internal')
    const world = fakeWorld()
    world.addresses.push('127.0.0.1:1')
    const deps = world.clientDeps({ send: async () => ({ contentType: 'text/xml', headers: [], body: [Buffer.from('<x/>')] }) })
    deps.serverConf = { ...deps.serverConf, isAuthentication: () => ({ mode: 'SSLAUTH', certificateSha256: [sha256(isCert.der)] }) }
    const proxy = await startClientProxyListener({ host: '127.0.0.1', httpPort: null, httpsPort: 0, tls: { keyPem: serverCert.keyPem, certPem: serverCert.certPem }, deps })
    const call = (cert: TestCert) =>
      new Promise<{ status: number; error: string | undefined }>((resolve, reject) => {
        const req = httpsRequest({
          host: '127.0.0.1', port: proxy.https?.port, path: '/r1/DEV/GOV/1234/PROVIDER/orders/api/x', rejectUnauthorized: false,
          key: cert.keyPem, cert: cert.certPem, headers: { 'X-Road-Client': `DEV/COM/4422/${consumer.objectType === 'SUBSYSTEM' ? consumer.subsystemCode : ''}` },
        })
        req.once('response', (res) => {
          res.resume()
          res.once('end', () => resolve({ status: res.statusCode ?? 0, error: res.headers['x-road-error'] as string | undefined }))
        })
        req.once('error', reject)
        req.end()
      })
    try {
      expect(await call(otherCert)).toEqual({ status: 500, error: 'server.clientproxy.ssl_authentication_failed' })
      // The registered certificate passes the IS check and goes on to the provider (whose fake answer is not a valid fault).
      const accepted = await call(isCert)
      expect(accepted.error).toBe('server.clientproxy.service_failed.invalid_soap')
      expect(world.log.length).toBe(1)
    } finally {
      await proxy.close()
    }
  })
})

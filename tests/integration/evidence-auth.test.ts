import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseServerConfig } from '../../src-main/server'
import { createProxyRuntime, type ProxyRuntime } from '../../src-main/server/proxy-runtime'
import { silentLogger } from '../../src-main/platform'
import { createTestPki, type TestCert, type TestPki } from '../proxy/support/tls-pki'
import { startLabPair, type LabPair } from './lab-pair'

/**
 * Issue 14 §6: `/asic` gives a client's logged messages only to that client's information system, authenticated as
 * X-Road's `AsicContainerClientRequestProcessor.verifyClientAuthentication` does (ug-ss §9.4): NOSSL any connection,
 * SSLNOAUTH HTTPS, SSLAUTH HTTPS with one of the client's IS certificates — 401 otherwise, and 401 for a client this
 * server does not have. `/verificationconf` is public configuration X-Road serves to any caller. A second client-proxy
 * runtime over the consumer's core adds the HTTPS listener the lab pair does not open.
 */
let pair: LabPair
let runtime: ProxyRuntime
let http: { port: number }
let https: { port: number }
let pki: TestPki
let registered: TestCert
let stranger: TestCert
let queryId: string

interface Caller {
  name: string
  https: boolean
  cert?: () => TestCert
}

const callers: Caller[] = [
  { name: 'HTTP', https: false },
  { name: 'HTTPS without a certificate', https: true },
  { name: 'HTTPS with an unregistered certificate', https: true, cert: () => stranger },
  { name: 'HTTPS with the registered IS certificate', https: true, cert: () => registered },
]

function get(caller: Caller, path: string): Promise<{ status: number; type: string; error: string | undefined }> {
  return new Promise((resolve, reject) => {
    const cert = caller.cert?.()
    const options = { host: '127.0.0.1', path, agent: false as const }
    const req = caller.https
      ? httpsRequest({ ...options, port: https.port, rejectUnauthorized: false, ...(cert === undefined ? {} : { key: cert.keyPem, cert: cert.certPem }) })
      : httpRequest({ ...options, port: http.port })
    req.once('response', (res) => {
      res.resume()
      res.once('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'] ?? '', error: res.headers['x-road-error'] as string | undefined }))
    })
    req.once('error', reject)
    req.end()
  })
}

const asicOf = (client: string): string => `/asic?queryId=${encodeURIComponent(queryId)}&${client}&requestOnly&unique`
const CONSUMER = 'xRoadInstance=LAB&memberClass=GOV&memberCode=1001&subsystemCode=consumer'

beforeAll(async () => {
  pki = createTestPki()
  registered = pki.selfSigned('consumer-information-system')
  stranger = pki.selfSigned('someone-else')
  pair = await startLabPair({ messageLog: { timeStampingIntervalSeconds: 3600 } })
  const answer = await fetch(`${pair.consumer.clientProxyUrl}/r1/LAB/GOV/2002/provider/pets/pets/3`, { headers: { 'X-Road-Client': 'LAB/GOV/1001/consumer' } })
  expect(answer.status).toBe(200)
  await answer.arrayBuffer()
  queryId = answer.headers.get('x-road-id') as string
  expect((await pair.consumer.server.core.messageLog.timestampNow()).error).toBeUndefined()
  pair.consumer.server.core.serverConf.addIsCertificate(pair.consumer.subsystem, registered.der)
  runtime = createProxyRuntime(
    pair.consumer.server.core,
    parseServerConfig({
      internal: { host: '127.0.0.1', adminPort: null, clientProxyHttpPort: 0, clientProxyHttpsPort: 0 },
      external: { host: '127.0.0.1', serverProxyPort: null, ocspResponderPort: null },
      logging: { level: 'silent' },
    }, 'evidence-auth'),
    silentLogger(),
  )
  await runtime.reconcile('test')
  const portOf = (name: string): { port: number } => ({ port: Number(new URL(runtime.listeners().find((l) => l.name === name)!.url).port) })
  http = portOf('clientProxyHttp')
  https = portOf('clientProxyHttps')
}, 90_000)

afterAll(async () => {
  await runtime?.close()
  await pair?.close()
  pki?.dispose()
})

describe.each([
  ['NOSSL', [200, 200, 200, 200]],
  ['SSLNOAUTH', [401, 200, 200, 200]],
  ['SSLAUTH', [401, 401, 401, 200]],
] as const)('GET /asic for a %s client', (mode, expected) => {
  it.each(callers.map((caller, i) => [caller.name, caller, expected[i]] as const))('%s → %i', async (_name, caller, status) => {
    pair.consumer.server.core.serverConf.setIsAuthentication(pair.consumer.subsystem, mode)
    const answer = await get(caller, asicOf(CONSUMER))
    expect(answer.status).toBe(status)
    if (status === 200) expect(answer.type).toBe('application/vnd.etsi.asic-e+zip')
    else expect(answer.error).toBe('client.ssl_authentication_failed')
  })
})

describe('GET /asic refusals that do not depend on the connection', () => {
  it('answers 401 for a client this server does not have, whoever asks and however', async () => {
    pair.consumer.server.core.serverConf.setIsAuthentication(pair.consumer.subsystem, 'NOSSL')
    for (const caller of callers) {
      const answer = await get(caller, asicOf('xRoadInstance=LAB&memberClass=GOV&memberCode=2002&subsystemCode=provider'))
      expect(answer).toMatchObject({ status: 401, error: 'client.unauthorized' })
    }
  })

  it("answers the caller's mistakes with 400 and a query with nothing logged with 404, as X-Road does", async () => {
    const plain = callers[0] as Caller
    expect(await get(plain, `/asic?queryId=${queryId}`)).toMatchObject({ status: 400, error: 'client.bad_request' })
    expect(await get(plain, `/asic?${CONSUMER}`)).toMatchObject({ status: 400, error: 'client.bad_request' })
    expect(await get(plain, `/asic?queryId=${queryId}&${CONSUMER}&requestOnly&responseOnly`)).toMatchObject({ status: 400, error: 'client.bad_request' })
    expect(await get(plain, `/asic?queryId=no-such-query&${CONSUMER}`)).toMatchObject({ status: 404, error: 'client.not_found' })
  })

  it('checks the authentication before the query: an unauthenticated caller learns nothing about the query id', async () => {
    pair.consumer.server.core.serverConf.setIsAuthentication(pair.consumer.subsystem, 'SSLAUTH')
    const plain = callers[0] as Caller
    expect(await get(plain, `/asic?queryId=no-such-query&${CONSUMER}`)).toMatchObject({ status: 401 })
    expect(await get(plain, `/asic?${CONSUMER}`)).toMatchObject({ status: 401 })
  })
})

describe('GET /verificationconf', () => {
  it.each(callers.map((caller) => [caller.name, caller] as const))('is served to any caller, as X-Road serves it (%s)', async (_name, caller) => {
    pair.consumer.server.core.serverConf.setIsAuthentication(pair.consumer.subsystem, 'SSLAUTH')
    const answer = await get(caller, '/verificationconf')
    expect(answer).toMatchObject({ status: 200, type: 'application/zip' })
  })
})

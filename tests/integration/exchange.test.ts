import 'reflect-metadata'
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { request as httpsRequest } from 'node:https'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encodeIdentifier, serviceId, type ClientId } from '@shared/domain/identifiers'
import { ManualClock } from '../../src-main/platform'
import { findRecordsByQueryId, listAttachments } from '../../src-main/message-log'
import { verificationTrustFromGlobalConf, verifySignature } from '../../src-main/signature'
import {
  encodeMultipart, boundaryOf, parseMultipart, encodeRestTransportMessage, parseRestRequest, restRequestHeaderPart, signedParts,
  transportRequestHeaders, XROAD_TLS_OPTIONS,
} from '../../src-main/proxy'
import { startLabServer } from '../../src-main/lab'
import { startLabPair, type LabPair, type PairSide } from './lab-pair'

/**
 * Two security servers on real loopback TLS over one lab: a signed, logged REST exchange end to end, then X-Road's
 * refusals over the wire, each without the sample service being called.
 */
let pair: LabPair
// The servers' clock follows real time until the configuration-expiry case moves it forward.
const clock = new ManualClock()
const ticker = setInterval(() => clock.advance(100), 100)
ticker.unref()

beforeAll(async () => {
  // Time-stamping only when a test asks (timestampNow); refusal 60 s after time-stamping started failing.
  pair = await startLabPair({ clock, messageLog: { timeStampingIntervalSeconds: 3600, acceptableTimestampFailurePeriodSeconds: 60 } })
}, 60_000)

afterAll(async () => {
  clearInterval(ticker)
  await pair?.close()
})

interface Answer {
  status: number
  headers: Headers
  text: string
}

async function get(path: string, client = 'LAB/GOV/1001/consumer', init: RequestInit = {}): Promise<Answer> {
  const response = await fetch(`${pair.consumer.clientProxyUrl}/r1/${path}`, { ...init, headers: { 'X-Road-Client': client, ...(init.headers ?? {}) } })
  return { status: response.status, headers: response.headers, text: await response.text() }
}

function errorCode(answer: Answer): string {
  return (JSON.parse(answer.text) as { type: string }).type
}

/** Builds a signed transport request with the consumer's real keys, optionally tampered, and POSTs it to the provider. */
async function sendDirect(options: {
  body?: Buffer
  tamper?: (encoded: { contentType: string; body: Buffer }) => { contentType: string; body: Buffer }
  tls?: { key: string; cert: string }
  /** Sent as is instead of a signed message. */
  raw?: { contentType: string; body: Buffer }
}): Promise<{ status: number; contentType: string; body: string }> {
  const consumer = pair.consumer
  const method = options.body === undefined ? 'GET' : 'POST'
  const request = parseRestRequest({
    method, url: options.body === undefined ? '/r1/LAB/GOV/2002/provider/pets/pets/7' : '/r1/LAB/GOV/2002/provider/pets/echo',
    headers: [['X-Road-Client', 'LAB/GOV/1001/consumer'], ['Content-Type', 'text/plain']],
  }, 'LAB')
  const headerPart = restRequestHeaderPart(request)
  let encoded = options.raw
  if (encoded === undefined) {
    const signature = await consumer.server.core.signer.signMessage(consumer.subsystem, signedParts(headerPart, options.body))
    encoded = encodeRestTransportMessage({
      kind: 'request', ocspResponses: consumer.server.core.signer.ocspResponses(Buffer.from(consumer.authCertDer)), headerPart, body: options.body,
      signature: signature.signatureXml, hashChainResult: signature.hashChainResult, hashChain: signature.hashChain,
    })
  }
  if (options.tamper !== undefined) encoded = options.tamper(encoded)
  let tls = options.tls
  if (tls === undefined) {
    const auth = await consumer.server.core.signer.getAuthKey()
    tls = { key: auth.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), cert: derToPem(auth.certDer) }
  }
  const headers: Record<string, string> = { 'Content-Type': encoded.contentType, 'Content-Length': String(encoded.body.length) }
  for (const [name, value] of transportRequestHeaders({ requestId: request.requestId, originalContentType: 'text/plain', proxyVersion: '7.8.0' })) headers[name] = value
  return new Promise((resolve, reject) => {
    const req = httpsRequest({
      ...XROAD_TLS_OPTIONS, host: '127.0.0.1', port: pair.provider.serverProxyPort, method: 'POST', path: '/', headers,
      key: tls.key, cert: tls.cert, rejectUnauthorized: false, agent: false,
    }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'] ?? '', body: Buffer.concat(chunks).toString('utf8') }))
    })
    req.once('error', reject)
    req.end(encoded.body)
  })
}

function faultCode(body: string): string | undefined {
  return /<faultcode>([^<]*)<\/faultcode>/.exec(body)?.[1]
}

function derToPem(der: Uint8Array): string {
  return `-----BEGIN CERTIFICATE-----\n${Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END CERTIFICATE-----\n`
}

function verifyLogged(side: PairSide, queryId: string, expected: { request: ClientId; response: ClientId }): void {
  const records = findRecordsByQueryId(side.server.core.databases.messageLog, queryId)
  expect(records.map((r) => r.response)).toEqual([false, true])
  const conf = side.server.core.globalConf.current()!
  for (const record of records) {
    const attachments = listAttachments(side.server.core.databases.messageLog, record.id)
    const parts: Record<string, Uint8Array> = { '/message.xml': record.message }
    if (attachments[0] !== undefined) {
      // Body logging is on by default: the logged body is the signed one.
      expect(attachments[0].content).not.toBeNull()
      parts['/attachment1'] = attachments[0].content!
    }
    const result = verifySignature(record.signatureXml, {
      parts,
      ...(record.hashChainResult === null ? {} : { hashChainResult: record.hashChainResult }),
      ...(record.hashChain === null ? {} : { hashChain: record.hashChain }),
      expectedSigner: record.response ? expected.response : expected.request,
      trust: verificationTrustFromGlobalConf(conf.snapshot),
      atTime: new Date(record.timeMs),
    })
    expect(result.signer.memberCode).toBe((record.response ? expected.response : expected.request).memberCode)
  }
}

describe('signed REST exchange between two security servers', () => {
  it('GET through consumer and provider returns the service JSON, logged and verifiable on both sides', async () => {
    const before = pair.sample.served()
    const answer = await get('LAB/GOV/2002/provider/pets/pets/1')
    expect(answer.status).toBe(200)
    expect(JSON.parse(answer.text)).toEqual({ id: 1, name: 'Pet 1', species: 'cat', vaccinated: true })
    expect(answer.headers.get('x-road-request-hash')).toMatch(/^[A-Za-z0-9+/]+=*$/)
    const queryId = answer.headers.get('x-road-id')
    expect(queryId).toMatch(/^LAB-/)
    expect(pair.sample.served()).toBe(before + 1)
    const parties = { request: pair.consumer.member, response: pair.provider.member }
    verifyLogged(pair.consumer, queryId!, parties)
    verifyLogged(pair.provider, queryId!, parties)
    // The proxy hands the log the identifiers' text forms it made for the exchange: the records name its parties.
    for (const side of [pair.consumer, pair.provider]) {
      expect(findRecordsByQueryId(side.server.core.databases.messageLog, queryId!).map((r) => [r.client, r.service])).toEqual(Array(2).fill([
        encodeIdentifier(pair.consumer.subsystem), encodeIdentifier(serviceId(pair.provider.subsystem, 'pets')),
      ]))
    }

    for (const side of [pair.consumer, pair.provider]) side.server.core.opMonitor.flush()
    const now = Math.floor(clock.now().getTime() / 1000)
    const consumerOps = pair.consumer.server.core.opMonitor.search(now - 60, now + 60).filter((r) => r.messageId === queryId)
    const providerOps = pair.provider.server.core.opMonitor.search(now - 60, now + 60).filter((r) => r.messageId === queryId)
    expect(consumerOps).toMatchObject([{ securityServerType: 'Client', succeeded: true, statusCode: 200, serviceType: 'REST' }])
    expect(providerOps).toMatchObject([{ securityServerType: 'Producer', succeeded: true, statusCode: 200, restMethod: 'GET' }])
  })

  it('concurrent messages each succeed, are logged on both sides and time-stamped by the lab TSA', async () => {
    const answers = await Promise.all([2, 3, 4].map((n) => get(`LAB/GOV/2002/provider/pets/pets/${n}`)))
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200])
    expect(answers.map((a) => (JSON.parse(a.text) as { id: number }).id)).toEqual([2, 3, 4])
    for (const side of [pair.consumer, pair.provider]) {
      const outcome = await side.server.core.messageLog.timestampNow()
      expect(outcome.error).toBeUndefined()
      for (const answer of answers) {
        const records = findRecordsByQueryId(side.server.core.databases.messageLog, answer.headers.get('x-road-id')!)
        expect(records).toHaveLength(2)
        for (const record of records) expect(record.timestampRecordId).not.toBeNull()
      }
    }
  })

  it('the OCSP responder serves our certificates by SHA-1 for peers', async () => {
    const { createHash } = await import('node:crypto')
    const sha1 = createHash('sha1').update(pair.provider.authCertDer).digest('hex')
    const response = await fetch(`http://127.0.0.1:${pair.provider.ocspResponderPort}/?cert=${sha1}`)
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toMatch(/^multipart\/related; type="application\/ocsp-response"/)
  })
})

describe('bad input over the wire gets X-Road error codes and never reaches the service', () => {
  let served: number
  beforeAll(() => {
    const conf = pair.provider.server.core.serverConf
    const provider = pair.provider.subsystem
    conf.addService(provider, { code: 'private', url: pair.sample.url })
    conf.addService(provider, { code: 'closed', url: pair.sample.url })
    conf.grantAccess(serviceId(provider, 'closed'), pair.consumer.subsystem)
    conf.setServiceEnabled(serviceId(provider, 'closed'), false, 'Closed for maintenance')
  })
  beforeAll(() => {
    served = pair.sample.served()
  })
  afterAll(() => {
    expect(pair.sample.served()).toBe(served)
  })

  it('access denied', async () => {
    const answer = await get('LAB/GOV/2002/provider/private/pets/1')
    expect(answer.status).toBeGreaterThanOrEqual(400)
    expect(answer.headers.get('x-road-error')).toBe('server.serverproxy.access_denied')
    expect(errorCode(answer)).toBe('server.serverproxy.access_denied')
  })

  it('unknown service', async () => {
    const answer = await get('LAB/GOV/2002/provider/nosuch/pets/1')
    expect(answer.headers.get('x-road-error')).toBe('server.serverproxy.unknown_service')
  })

  it('disabled service', async () => {
    const answer = await get('LAB/GOV/2002/provider/closed/pets/1')
    expect(answer.headers.get('x-road-error')).toBe('server.serverproxy.service_disabled')
  })

  it('unknown provider member and an unregistered client', async () => {
    const provider = await get('LAB/GOV/9999/nobody/pets/pets/1')
    expect(provider.headers.get('x-road-error')).toMatch(/unknown_member$/)
    const client = await get('LAB/GOV/2002/provider/pets/pets/1', 'LAB/GOV/1001/stranger')
    expect(client.headers.get('x-road-error')).toMatch(/unknown_member$/)
  })

  it('a signed request the provider accepts as is, but not with a modified body or an extra part', async () => {
    const intact = await sendDirect({ body: Buffer.from('hello') })
    expect(intact.contentType).toMatch(/^multipart\/mixed/)
    served = pair.sample.served()

    const modified = await sendDirect({
      body: Buffer.from('hello'),
      tamper: (e) => ({ contentType: e.contentType, body: Buffer.from(e.body.toString('latin1').replace('hello', 'HELLO'), 'latin1') }),
    })
    // The batch signature covers the body through its hash chain. The body goes to the verifier by the digest taken as
    // it streamed in, as X-Road's ProxyMessageDecoder adds it (`addPart(attachmentOfIdx(n), hashAlgoId, restBodyDigest)`),
    // so a modified body changes the chain's result: X-Road's malformed_signature.invalid_hash_chain, under the
    // Verifier's signature_verification.
    expect(faultCode(modified.body)).toBe('server.serverproxy.signature_verification.malformed_signature.invalid_hash_chain')

    const extra = await sendDirect({
      body: Buffer.from('hello'),
      tamper: (e) => {
        const boundary = boundaryOf(e.contentType)!
        const parts = parseMultipart(e.body, boundary, { maxBytes: 1 << 20, maxParts: 32, maxHeaderBytes: 8192 })
        const bodyIndex = parts.findIndex((p) => p.contentType.startsWith('application/octet-stream'))
        const injected = [...parts.slice(0, bodyIndex + 1), { contentType: 'application/octet-stream', body: Buffer.from('injected') }, ...parts.slice(bodyIndex + 1)]
        return { contentType: e.contentType, body: encodeMultipart(boundary, injected.map((p) => ({ contentType: p.contentType, body: p.body }))) }
      },
    })
    // Refused while the message is read (ProxyMessageDecoder.parse): service_failed.
    expect(faultCode(extra.body)).toMatch(/^server\.serverproxy\.service_failed\.(invalid_content_type|invalid_message)$/)
  })

  it('an authentication certificate not registered in global configuration: the handshake is refused (AuthTrustManager)', async () => {
    const dir = pair.root
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=intruder',
      '-days', '1', '-keyout', join(dir, 'intruder.key'), '-out', join(dir, 'intruder.crt')], { stdio: 'pipe' })
    await expect(sendDirect({ tls: { key: readFileSync(join(dir, 'intruder.key'), 'utf8'), cert: readFileSync(join(dir, 'intruder.crt'), 'utf8') } }))
      .rejects.toMatchObject({ code: 'ECONNRESET' })
  })

  it('TSA down: messages flow until the acceptable failure period, then timestamping_failed; back when it returns', async () => {
    await pair.labServer.close()
    expect((await get('LAB/GOV/2002/provider/pets/pets/5')).status).toBe(200)
    for (const side of [pair.consumer, pair.provider]) expect((await side.server.core.messageLog.timestampNow()).error?.code).toBe('timestamping_failed')
    expect((await get('LAB/GOV/2002/provider/pets/pets/6')).status).toBe(200)
    const beforeRefusal = pair.sample.served()
    clock.advance(61_000)
    const refused = await get('LAB/GOV/2002/provider/pets/pets/7')
    expect(refused.headers.get('x-road-error')).toMatch(/\.timestamping_failed$/)
    expect(pair.sample.served()).toBe(beforeRefusal)
    // The TSA returns on the lab's stored ports: stamping catches up and messages flow again.
    pair.labServer = await startLabServer(pair.labDir, { clock })
    for (const side of [pair.consumer, pair.provider]) expect((await side.server.core.messageLog.timestampNow()).error).toBeUndefined()
    expect((await get('LAB/GOV/2002/provider/pets/pets/8')).status).toBe(200)
    served = pair.sample.served()
  })

  it('a revoked signing certificate: the consumer refuses to sign once OCSP says revoked', async () => {
    pair.lab.revoke(pair.consumer.signCertDer)
    const signer = pair.consumer.server.core.signer
    const cert = signer.listCertificates().find((c) => Buffer.from(c.certDer).equals(Buffer.from(pair.consumer.signCertDer)))!
    const [status] = await signer.refreshOcsp([cert.id])
    expect(status?.status).toBe('revoked')
    const answer = await get('LAB/GOV/2002/provider/pets/pets/1')
    expect(answer.headers.get('x-road-error')).toBe('server.clientproxy.cannot_create_signature')
  })

  it('an expired global configuration: global_conf_outdated on both servers', async () => {
    await pair.labServer.close()
    const expires = pair.consumer.server.core.globalConf.current()!.expiresAt!
    clock.set(expires.getTime() + 1000)
    const answer = await get('LAB/GOV/2002/provider/pets/pets/1')
    expect(answer.headers.get('x-road-error')).toBe('server.clientproxy.global_conf_outdated')
    // The provider refuses too (its own configuration expired) before reading the message.
    const direct = await sendDirect({ raw: { contentType: 'multipart/mixed; boundary=x', body: Buffer.from('--x--\r\n') } })
    expect(faultCode(direct.body)).toBe('server.serverproxy.global_conf_outdated')
  })
})

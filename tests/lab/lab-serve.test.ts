import { X509Certificate, createHash, verify } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawn } from 'node:child_process'
import { memberId } from '@shared/domain/identifiers'
import { initLab, openLab, startLabServer, type RunningLabServer } from '../../src-main/lab'
import { parseFetchIntervalParameters, parsePrivateParameters } from '../../src-main/global-conf'
import { makeCsr, tempDirs, writeTemp } from './lab-test-support'

const temp = tempDirs()
let dir: string
let server: RunningLabServer
let leafPath: string

/** OpenSSL asynchronously (the responder runs in this process, so spawnSync would deadlock it). */
function opensslAsync(args: string[]): Promise<{ status: number; out: string }> {
  return new Promise((resolve) => {
    const child = spawn('openssl', args)
    let out = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr.on('data', (d: Buffer) => (out += d.toString()))
    const timer = setTimeout(() => child.kill(), 15_000)
    child.on('close', (status) => {
      clearTimeout(timer)
      resolve({ status: status ?? -1, out })
    })
  })
}

beforeAll(async () => {
  dir = temp.make()
  await initLab(dir, { keyAlgorithm: 'ec-p256' })
  const lab = openLab(dir)
  try {
    lab.addMember(memberId('LAB', 'GOV', '1234'), 'Agency')
    const issued = await lab.issueCertificate((await makeCsr('C=LAB, O=GOV, CN=1234')).pem, 'sign')
    leafPath = writeTemp(dir, 'leaf.pem', issued.pem)
  } finally {
    lab.close()
  }
  server = await startLabServer(dir, { ports: { ocsp: 0, tsa: 0, conf: 0 }, confExpireSeconds: 300 })
})

afterAll(async () => {
  await server?.close()
  temp.cleanup()
})

describe('lab OCSP responder', () => {
  it('answers good, then revoked after lab revoke (openssl ocsp, POST and GET)', async () => {
    const ca = join(dir, 'ca.pem')
    const good = await opensslAsync(['ocsp', '-issuer', ca, '-cert', leafPath, '-url', server.urls.ocsp, '-CAfile', ca])
    expect(good.out).toContain('Response verify OK')
    expect(good.out).toMatch(/leaf\.pem: good/)
    expect(good.out).toContain('Next Update')
    const viaGet = await opensslAsync(['ocsp', '-issuer', ca, '-cert', leafPath, '-url', server.urls.ocsp, '-CAfile', ca, '-no_nonce', '-resp_key_id', '-header', 'Host=127.0.0.1'])
    expect(viaGet.out).toMatch(/leaf\.pem: good/)
    const lab = openLab(dir)
    try {
      lab.revoke(readFileSync(leafPath))
    } finally {
      lab.close()
    }
    const revoked = await opensslAsync(['ocsp', '-issuer', ca, '-cert', leafPath, '-url', server.urls.ocsp, '-CAfile', ca])
    expect(revoked.out).toContain('Response verify OK')
    expect(revoked.out).toMatch(/leaf\.pem: revoked/)
    const unknown = await opensslAsync(['ocsp', '-issuer', ca, '-serial', '0x1234', '-url', server.urls.ocsp, '-CAfile', ca])
    expect(unknown.out).toMatch(/0x1234: unknown/)
  })

  it('answers a GET request (RFC 6960 Annex A.1) and refuses garbage with malformedRequest', async () => {
    const ca = join(dir, 'ca.pem')
    const reqPath = join(dir, 'req.der')
    await opensslAsync(['ocsp', '-issuer', ca, '-cert', join(dir, 'tsa.pem'), '-reqout', reqPath, '-no_nonce'])
    const b64 = readFileSync(reqPath).toString('base64')
    const res = await fetch(`${server.urls.ocsp}/${encodeURIComponent(b64)}`)
    expect(res.headers.get('content-type')).toBe('application/ocsp-response')
    const respPath = writeTemp(dir, 'resp.der', new Uint8Array(await res.arrayBuffer()))
    const text = await opensslAsync(['ocsp', '-respin', respPath, '-issuer', ca, '-cert', join(dir, 'tsa.pem'), '-CAfile', ca])
    expect(text.out).toContain('Response verify OK')
    expect(text.out).toMatch(/tsa\.pem: good/)
    const bad = await fetch(server.urls.ocsp, { method: 'POST', headers: { 'Content-Type': 'application/ocsp-request' }, body: 'garbage' })
    expect(Buffer.from(await bad.arrayBuffer()).toString('hex')).toBe('30030a0101')
  })
})

describe('lab time-stamping authority', () => {
  for (const digest of ['sha256', 'sha512']) {
    it(`issues tokens openssl ts -verify accepts for ${digest} imprints, with nonce and certReq`, async () => {
      const data = writeTemp(dir, `data-${digest}.txt`, `hello ${digest}\n`)
      const query = join(dir, `q-${digest}.tsq`)
      await opensslAsync(['ts', '-query', '-data', data, `-${digest}`, '-cert', '-out', query])
      const res = await fetch(server.urls.tsa, { method: 'POST', headers: { 'Content-Type': 'application/timestamp-query' }, body: readFileSync(query) })
      expect(res.headers.get('content-type')).toBe('application/timestamp-reply')
      const tsr = writeTemp(dir, `r-${digest}.tsr`, new Uint8Array(await res.arrayBuffer()))
      const verified = await opensslAsync(['ts', '-verify', '-data', data, '-in', tsr, '-CAfile', join(dir, 'ca.pem'), '-untrusted', join(dir, 'tsa.pem')])
      expect(verified.out).toContain('Verification: OK')
      const queried = await opensslAsync(['ts', '-verify', '-queryfile', query, '-in', tsr, '-CAfile', join(dir, 'ca.pem'), '-untrusted', join(dir, 'tsa.pem')])
      expect(queried.out).toContain('Verification: OK')
      const shown = await opensslAsync(['ts', '-reply', '-in', tsr, '-text'])
      expect(shown.out).toContain('Status: Granted')
      expect(shown.out).toMatch(/Accuracy: 0x01 seconds/)
      expect(shown.out).toMatch(/Nonce: 0x[0-9A-F]+/)
    })
  }

  it('rejects a SHA-1 imprint with badAlg', async () => {
    const data = writeTemp(dir, 'data-sha1.txt', 'x')
    const query = join(dir, 'q-sha1.tsq')
    await opensslAsync(['ts', '-query', '-data', data, '-sha1', '-out', query])
    const res = await fetch(server.urls.tsa, { method: 'POST', headers: { 'Content-Type': 'application/timestamp-query' }, body: readFileSync(query) })
    const tsr = writeTemp(dir, 'r-sha1.tsr', new Uint8Array(await res.arrayBuffer()))
    const shown = await opensslAsync(['ts', '-reply', '-in', tsr, '-text'])
    expect(shown.out).toContain('Status: Rejected')
    expect(shown.out).toContain('unrecognized or unsupported algorithm')
  })
})

describe('lab configuration source', () => {
  it('serves version 6 only, with parts whose hashes match and a signature over the exact signed bytes', async () => {
    expect((await fetch(server.urls.internalconf)).status).toBe(404)
    expect((await fetch(`${server.urls.internalconf}?version=5`)).status).toBe(404)
    for (const [url, certFile, expectedParts] of [
      [server.urls.internalconf, 'conf-internal.pem', 2],
      [server.urls.externalconf, 'conf-external.pem', 1],
    ] as const) {
      const res = await fetch(`${url}?version=6`)
      expect(res.status).toBe(200)
      const body = Buffer.from(await res.arrayBuffer())
      const text = body.toString('latin1')
      expect(text.startsWith('Content-Type: multipart/related; charset=UTF-8; boundary=')).toBe(true)
      const outer = /boundary=(\S+)\r\n/.exec(text)?.[1] as string
      const inner = /multipart\/mixed; charset=UTF-8; boundary=(\S+)\r\n/.exec(text)?.[1] as string
      const start = text.indexOf(`--${inner}\r\n`)
      const end = text.indexOf(`--${inner}--\r\n`) + `--${inner}--\r\n`.length
      expect(text.slice(end, end + outer.length + 4)).toBe(`\r\n--${outer}`)
      const signed = body.subarray(start, end)
      expect(signed.toString('latin1')).toMatch(/Expire-date: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\r\nVersion: 6\r\n/)
      const sigPart = text.slice(end)
      const signature = Buffer.from(/\r\n\r\n([A-Za-z0-9+/=]+)\r\n--/.exec(sigPart)?.[1] as string, 'base64')
      expect(sigPart).toContain('Signature-Algorithm-Id: http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512')
      const certDer = Buffer.from(readFileSync(join(dir, certFile), 'utf8').replace(/-----[A-Z ]+-----|\s/g, ''), 'base64')
      expect(sigPart).toContain(`Verification-certificate-hash: ${createHash('sha512').update(certDer).digest('base64')}; hash-algorithm-id="http://www.w3.org/2001/04/xmlenc#sha512"`)
      const key = new X509Certificate(certDer).publicKey
      expect(verify('sha512', signed, { key, dsaEncoding: 'der' }, signature)).toBe(true)
      const tampered = Buffer.from(signed)
      tampered.writeUInt8((tampered.at(-10) ?? 0) ^ 1, tampered.length - 10)
      expect(verify('sha512', tampered, { key, dsaEncoding: 'der' }, signature)).toBe(false)
      const parts = [...signed.toString('latin1').matchAll(/Content-location: (\S+)\r\nHash-algorithm-id: \S+\r\n\r\n(\S+)\r\n/g)]
      expect(parts).toHaveLength(expectedParts)
      for (const [, location, hash] of parts) {
        const part = await fetch(new URL(location as string, url))
        expect(part.status).toBe(200)
        expect(createHash('sha512').update(Buffer.from(await part.arrayBuffer())).digest('base64')).toBe(hash)
      }
    }
    expect((await fetch(new URL('/V6/../../lab.sqlite', server.urls.internalconf))).status).toBe(404)
  })

  it('points the anchors and shared parameters at the running services', async () => {
    const anchor = readFileSync(server.anchor, 'utf8')
    expect(anchor).toContain(`<downloadURL>${server.urls.internalconf}</downloadURL>`)
    const res = await fetch(`${server.urls.internalconf}?version=6`)
    const location = /Content-identifier: SHARED-PARAMETERS; instance='LAB'\r\nContent-location: (\S+)/.exec(await res.text())?.[1] as string
    const shared = await (await fetch(new URL(location, server.urls.internalconf))).text()
    expect(shared).toContain(`<url>${server.urls.ocsp}</url>`)
    expect(shared).toContain(`<url>${server.urls.tsa}</url>`)
    expect(shared).toContain('<member id="id0"><memberClass><code>GOV</code>')
  })
})

describe('lab global settings and outages', () => {
  it('publishes ocspFreshnessSeconds, timeStampingIntervalSeconds and a FETCHINTERVAL part the server parsers read; null removes the part', async () => {
    const partOf = async (identifier: string): Promise<string | undefined> => {
      const directory = await (await fetch(`${server.urls.internalconf}?version=6`)).text()
      const location = new RegExp(`Content-identifier: ${identifier}; instance='LAB'\\r\\nContent-location: (\\S+)`).exec(directory)?.[1]
      return location === undefined ? undefined : (await fetch(new URL(location, server.urls.internalconf))).text()
    }
    expect(await partOf('FETCHINTERVAL')).toBeUndefined()
    const lab = openLab(dir)
    try {
      expect(() => lab.setGlobalSettings({ ocspFreshnessSeconds: 0 })).toThrow(expect.objectContaining({ code: 'validation_failed' }))
      lab.setGlobalSettings({ ocspFreshnessSeconds: 15, timeStampingIntervalSeconds: 2, ocspFetchIntervalSeconds: 3 })
      expect(lab.settings()).toMatchObject({ ocspFreshnessSeconds: 15, timeStampingIntervalSeconds: 2, ocspFetchIntervalSeconds: 3 })
    } finally {
      lab.close()
    }
    server.regenerate()
    expect(parseFetchIntervalParameters(await partOf('FETCHINTERVAL') ?? '')).toBe(3)
    expect(parsePrivateParameters(await partOf('PRIVATE-PARAMETERS') ?? '', 6).timeStampingIntervalSeconds).toBe(2)
    expect(await partOf('SHARED-PARAMETERS')).toContain('<ocspFreshnessSeconds>15</ocspFreshnessSeconds>')
    const back = openLab(dir)
    try {
      back.setGlobalSettings({ ocspFreshnessSeconds: 3600, timeStampingIntervalSeconds: 60, ocspFetchIntervalSeconds: null })
    } finally {
      back.close()
    }
    server.regenerate()
    expect(await partOf('FETCHINTERVAL')).toBeUndefined()
  })

  it('a stopped service is started again on the same port; the others serve throughout', async () => {
    await server.stopService('tsa')
    await expect(fetch(server.urls.tsa, { method: 'POST' })).rejects.toThrow()
    expect((await fetch(`${server.urls.internalconf}?version=6`)).status).toBe(200)
    await server.startService('tsa')
    await server.startService('tsa')
    expect((await fetch(server.urls.tsa, { method: 'GET' })).status).toBe(405)
  })
})

import { beforeAll, describe, expect, it, vi } from 'vitest'
import { derProblem, parseJson, pemBlocks, PemError } from '../../src-main/platform'
import { parseCertificate, parseOcspResponse, parseTimestampToken } from '../../src-main/signature'
import { makeCertificate, makeOcspResponse, makeTimestampToken, makeTrustSetup, type TestCert, type TestTrustSetup } from '../signature/support/test-pki'
import { compareWithBenign, expectRefusal } from './support/bounded-time'

/**
 * ASN.1/DER (certificates, OCSP responses, time-stamp tokens from peers), PEM (uploads, global configuration) and JSON
 * (admin API bodies, configuration metadata, transcripts): adversarial shapes are refused with a coded, bounded error
 * in time comparable to a benign input of the same size. Bounds: O(n) each.
 */
// The bound under test is the ratio to the benign input; a loaded machine may only make the whole run slower.
vi.setConfig({ testTimeout: 180_000 })

function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n])
  const bytes: number[] = []
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff)
  return Buffer.from([0x80 | bytes.length, ...bytes])
}
const tlv = (tag: number, content: Buffer): Buffer => Buffer.concat([Buffer.from([tag]), derLength(content.length), content])

/** `depth` nested SEQUENCEs of definite length around a NULL. */
function deepDer(depth: number): Buffer {
  let inner: Buffer = Buffer.from([0x05, 0x00])
  for (let i = 0; i < depth; i++) inner = tlv(0x30, inner)
  return inner
}

/** `size` bytes of indefinite-length SEQUENCEs that never end. */
function unterminatedIndefinite(size: number): Buffer {
  const out = Buffer.alloc(size)
  for (let i = 0; i + 1 < size; i += 2) {
    out[i] = 0x30
    out[i + 1] = 0x80
  }
  return out
}

/** One SEQUENCE of `size` bytes of NULL elements (many elements, flat). */
function manyElements(size: number): Buffer {
  const body = Buffer.alloc(size - 6)
  for (let i = 0; i + 1 < body.length; i += 2) body[i] = 0x05
  return tlv(0x30, body)
}

/** A SEQUENCE whose declared length is far longer than the bytes that follow. */
function lyingLength(size: number): Buffer {
  return Buffer.concat([Buffer.from([0x30, 0x84, 0x7f, 0xff, 0xff, 0xff]), Buffer.alloc(size - 6, 0x05)])
}

describe('ASN.1/DER: structure checked before pkijs, in one pass', () => {
  let pki: TestTrustSetup
  let cert: TestCert
  let ocsp: Buffer
  let token: Buffer
  /** Distinct benign inputs: certificate and OCSP parsing is memoised by content, so each run needs a new one. */
  let certs: Buffer[]
  let ocsps: Buffer[]

  beforeAll(async () => {
    pki = await makeTrustSetup()
    const made: TestCert[] = []
    for (let i = 0; i < 13; i++) made.push(await makeCertificate({ subject: `C=DEV, O=COM, CN=${1000 + i}`, issuer: pki.ca, keyUsage: ['nonRepudiation'], serial: 500 + i }))
    cert = made[0]!
    certs = made.map((c) => c.der)
    ocsps = []
    for (const c of made) ocsps.push(await makeOcspResponse({ cert: c, issuer: pki.ca, responder: pki.ocsp }))
    ocsp = ocsps[0]!
    token = await makeTimestampToken({ data: Buffer.from('stamped'), tsa: pki.tsa })
  }, 60_000)

  let next = 0
  const freshCert = () => certs[next++ % certs.length]!
  const freshOcsp = () => ocsps[next++ % ocsps.length]!

  const shapes: Array<[string, (size: number) => Buffer, RegExp]> = [
    ['deep nesting', (size) => deepDer(Math.floor(size / 4)), /nested deeper/],
    ['unterminated indefinite lengths', unterminatedIndefinite, /nested deeper|not terminated/],
    ['a length beyond the data', lyingLength, /exceeds its container|overruns/],
    ['trailing data', (size) => Buffer.concat([tlv(0x05, Buffer.alloc(0)), Buffer.alloc(size - 2, 0x05)]), /after the top-level element/],
  ]

  it.each(shapes)('a certificate of %s is incorrect_certificate', async (name, make, reason) => {
    const input = make(cert.der.length)
    const { adversarial } = await compareWithBenign(`DER certificate: ${name}`, () => parseCertificate(input, 'test certificate'),
      () => parseCertificate(freshCert(), 'test certificate'))
    expectRefusal(adversarial, 'incorrect_certificate', 200)
    expect((adversarial.error as Error).message).toMatch(reason)
  })

  it.each(shapes)('an OCSP response of %s is refused as invalid OCSP information', async (name, make, reason) => {
    const input = make(ocsp.length)
    const { adversarial } = await compareWithBenign(`DER OCSP response: ${name}`, () => parseOcspResponse(input), () => parseOcspResponse(freshOcsp()))
    expectRefusal(adversarial, 'incorrect_validation_info', 200)
    expect((adversarial.error as Error).message).toMatch(reason)
  })

  it.each(shapes)('a time-stamp token of %s is refused as malformed', async (name, make, reason) => {
    const input = make(token.length)
    const { adversarial } = await compareWithBenign(`DER time-stamp token: ${name}`, () => parseTimestampToken(input), () => parseTimestampToken(token))
    expectRefusal(adversarial, /malformed|timestamp/, 200)
    expect((adversarial.error as Error).message).toMatch(reason)
  })

  it('refuses more elements and more bytes than the limits, reading a benign structure of the same size as fast', async () => {
    const size = 200 * 1024
    // Benign: a bundle of real certificates, as CAs deliver chains (SEQUENCE OF Certificate).
    const bundle = tlv(0x30, Buffer.concat(Array.from({ length: Math.ceil(size / cert.der.length) }, () => cert.der)))
    const flat = manyElements(bundle.length)
    const benign = () => {
      const problem = derProblem(bundle, { maxBytes: 1024 * 1024 })
      if (problem !== undefined) throw new Error(problem)
    }
    const many = await compareWithBenign('DER: 100 000 elements', () => {
      const problem = derProblem(flat, { maxBytes: 1024 * 1024, maxElements: 20_000 })
      if (problem !== undefined) throw Object.assign(new Error(problem), { code: 'refused' })
    }, benign)
    expectRefusal(many.adversarial, 'refused', 100)
    expect((many.adversarial.error as Error).message).toMatch(/more than 20000 elements/)
    expect(derProblem(Buffer.alloc(300 * 1024, 0x05), { maxBytes: 256 * 1024 })).toMatch(/larger than/)
  })
})

describe('PEM: a forward scan, never a lazy regular expression', () => {
  let certs: TestCert[]

  beforeAll(async () => {
    const pki = await makeTrustSetup()
    certs = [pki.ca, pki.ocsp, pki.tsa]
  })

  const pemOf = (der: Buffer): string => `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END CERTIFICATE-----\n`

  it.each([
    ['40 000 BEGIN lines without an END line', (size: number) => '-----BEGIN CERTIFICATE-----\n'.repeat(Math.ceil(size / 28)), /^$/],
    ['BEGIN lines whose END names another label', (size: number) => '-----BEGIN CERTIFICATE-----\nAAAA\n-----END X-----\n'.repeat(Math.ceil(size / 48)), /another label/],
    ['a BEGIN line with a megabyte label', (size: number) => `-----BEGIN ${'A'.repeat(size)}-----\n`, /invalid label/],
    ['a block that is not base64', (size: number) => `-----BEGIN CERTIFICATE-----\n${'<'.repeat(size)}\n-----END CERTIFICATE-----\n`, /not base64/],
  ])('reads %s in time comparable to a bundle of the same size', async (name, make, reason) => {
    const size = 1024 * 1024
    const text = make(size)
    const bundle = Array.from({ length: Math.ceil(size / 1500) }, (_, i) => pemOf(certs[i % certs.length]!.der)).join('')
    const outcome = await compareWithBenign(`PEM: ${name}`, () => {
      const blocks = pemBlocks(text, { labels: ['CERTIFICATE'], maxBlocks: 100_000 })
      if (blocks.length > 0) throw new Error('expected no complete block')
    }, () => pemBlocks(bundle, { labels: ['CERTIFICATE'], maxBlocks: 100_000 }))
    if (reason.source === '^$') expect(outcome.adversarial.error).toBeUndefined()
    else {
      expect(outcome.adversarial.error).toBeInstanceOf(PemError)
      expect((outcome.adversarial.error as Error).message).toMatch(reason)
      expect((outcome.adversarial.error as Error).message.length).toBeLessThan(120)
    }
  })

  it('returns every block of a bundle and refuses more than the limit', () => {
    const bundle = certs.map((c) => pemOf(c.der)).join('')
    expect(pemBlocks(bundle).map((b) => b.der)).toEqual(certs.map((c) => c.der))
    expect(() => pemBlocks(bundle, { maxBlocks: 2 })).toThrow(/More than 2 PEM blocks/)
  })
})

describe('JSON: depth and size before JSON.parse', () => {
  const size = 1024 * 1024
  const benign = JSON.stringify(Array.from({ length: Math.ceil(size / 60) }, (_, i) => ({ id: i, name: `member ${i}`, tags: ['a', 'b'] })))
  const parseBenign = () => parseJson(benign, { maxLength: 2 * size })

  it.each([
    ['a megabyte of "["', () => '['.repeat(size), /nested deeper than 32/],
    ['nested objects', () => '{"a":'.repeat(size / 5) + '1' + '}'.repeat(size / 5), /nested deeper than 32/],
    ['a megabyte of escapes in one string', () => `"${'\\\\'.repeat(size / 2)}`, /not valid JSON/],
    ['brackets inside strings, then garbage', () => `["${'['.repeat(size)}"]x`, /not valid JSON/],
  ])('refuses %s in time comparable to a benign document of the same size', async (name, make, reason) => {
    const text = make()
    const { adversarial } = await compareWithBenign(`JSON: ${name}`, () => parseJson(text, { maxLength: 2 * size }), parseBenign)
    expectRefusal(adversarial, 'bad_request', 120)
    expect((adversarial.error as Error).message).toMatch(reason)
  })

  it('refuses a body over the length limit without scanning it', () => {
    expect(() => parseJson('1'.repeat(2000), { maxLength: 1000 })).toThrow(/longer than 1000/)
    expect(parseJson('{"a":[1,{"b":"]]]"}]}')).toEqual({ a: [1, { b: ']]]' }] })
  })
})

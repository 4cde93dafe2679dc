import { sign as cryptoSign } from 'node:crypto'
import { beforeAll, describe, expect, it } from 'vitest'
import { memberId } from '@shared/domain/identifiers'
import {
  parseSignature, SignatureVerificationCache, verificationTrust, verifySignature, type VerificationTrust, type VerifySignatureOptions,
} from '../../src-main/signature'
import { BatchSigner, type SignedMessage, type SigningContext } from '../../src-main/signer'
import { makeCertificate, makeOcspResponse, makeTrustSetup, type TestCert, type TestTrustSetup } from './support/test-pki'
import { EJBCA, codeOf, failureOf, member, message } from './support/verification-fixtures'

/**
 * The verification cache for batch signatures (issue 15 §4): messages of one batch share one full verification; each
 * still checks its own hash chain, signer, certificate validity and OCSP freshness, and fails with the code the full
 * verifier gives. A failure is never remembered.
 */

describe('signature verification cache', () => {
  let pki: TestTrustSetup
  let trust: VerificationTrust
  let batch: SignedMessage[]
  let lone: SignedMessage
  const now = new Date()

  const context = (cert: TestCert, ocsp: Buffer): SigningContext => ({
    certChain: [cert.der], keyId: 'k', algorithm: 'ecdsa-sha512', ocspResponses: [ocsp],
    sign: async (_digest, data) => cryptoSign('sha512', data!, { key: cert.keyObject, dsaEncoding: 'ieee-p1363' }),
  })

  beforeAll(async () => {
    pki = await makeTrustSetup()
    const cert = await makeCertificate({ subject: 'C=DEV, O=COM, CN=1234', issuer: pki.ca, keyUsage: ['nonRepudiation'], kind: 'EC' })
    const ocsp = await makeOcspResponse({ cert, issuer: pki.ca, responder: pki.ocsp, thisUpdate: new Date(now.getTime() - 60_000) })
    trust = verificationTrust({
      instance: 'DEV',
      approvedCas: [{ topCert: pki.ca.der, ocspResponderCerts: [pki.ocsp.der], certificateProfileInfo: EJBCA }],
    })
    const signer = new BatchSigner()
    batch = await Promise.all([0, 1, 2, 3].map((i) => signer.sign(context(cert, ocsp), [{ name: '/message.xml', bytes: message(i) }])))
    expect(new Set(batch.map((b) => b.signatureXml.toString('utf8'))).size).toBe(1)
    lone = await signer.sign(context(cert, ocsp), [{ name: '/message.xml', bytes: message(9) }])
  })

  const options = (i: number, overrides: Partial<VerifySignatureOptions> = {}): VerifySignatureOptions => ({
    parts: { '/message.xml': message(i) }, hashChainResult: batch[i]!.hashChainResult, hashChain: batch[i]!.hashChain,
    expectedSigner: member, trust, atTime: now, ...overrides,
  })

  it('verifies the signature value of a batch once for two messages of the batch', () => {
    const cache = new SignatureVerificationCache()
    const first = cache.verify(batch[0]!.signatureXml, options(0))
    const second = cache.verify(batch[1]!.signatureXml, options(1))
    expect(cache.stats).toEqual({ full: 1, reused: 1, entries: 1 })
    expect(second.signer).toEqual(member)
    expect(second.signingOcsp.status).toBe('good')
    expect(second.hashChain).toBeDefined()
    expect(second.hashChain).not.toBe(first.hashChain)
  })

  it('keeps its own copies, not views into what the first message brought (its bytes, a slab of Node\'s buffer pool)', () => {
    const cache = new SignatureVerificationCache()
    // The first message's hash-chain result inside a larger buffer, as a part read from a received message is.
    const received = Buffer.concat([Buffer.from('--boundary\r\n'), Buffer.from(batch[0]!.hashChainResult!), Buffer.from('\r\n--boundary--')])
    const view = received.subarray(12, 12 + Buffer.byteLength(batch[0]!.hashChainResult!))
    const first = cache.verify(batch[0]!.signatureXml, options(0, { hashChainResult: view }))
    received.fill(0)
    const second = cache.verify(batch[1]!.signatureXml, options(1))
    expect(cache.stats).toEqual({ full: 1, reused: 1, entries: 1 })
    expect(second.signatureValue.equals(first.signatureValue)).toBe(true)
    // A small decoded value from Buffer.from(…, 'base64') sits in an 8 KB pool slab; the entry's copy owns its memory.
    expect(first.signatureValue.buffer.byteLength).toBeGreaterThan(first.signatureValue.byteLength)
    expect(second.signatureValue.buffer.byteLength).toBe(second.signatureValue.byteLength)
    expect(second.references).toEqual(first.references)
  })

  it('still fails a tampered message under a cached signature, with the full verifier\'s code', () => {
    const cache = new SignatureVerificationCache()
    cache.verify(batch[0]!.signatureXml, options(0))
    const tampered = options(1, { parts: { '/message.xml': Buffer.concat([message(1), Buffer.from(' ')]) } })
    const expected = codeOf(() => verifySignature(batch[1]!.signatureXml, tampered))
    expect(expected).toMatch(/^malformed_signature\./)
    expect(codeOf(() => cache.verify(batch[1]!.signatureXml, tampered))).toBe(expected)
    // Another message of the batch under this message's chain fails too.
    expect(codeOf(() => cache.verify(batch[1]!.signatureXml, options(1, { parts: { '/message.xml': message(2) } })))).toBe(expected)
    expect(cache.stats.reused).toBe(2)
    expect(cache.stats.full).toBe(1)
  })

  it('checks the signer, certificate validity and OCSP freshness per message', () => {
    const cache = new SignatureVerificationCache()
    cache.verify(batch[0]!.signatureXml, options(0))
    const cases: Array<Partial<VerifySignatureOptions>> = [
      { expectedSigner: memberId('DEV', 'COM', '9999') },
      { atTime: new Date('2050-01-01T00:00:00Z') },
      { atTime: new Date('2001-01-01T00:00:00Z') },
      { atTime: new Date(now.getTime() + 2 * 3600_000) },
    ]
    for (const overrides of cases) {
      const expected = failureOf(() => verifySignature(batch[2]!.signatureXml, options(2, overrides)))
      expect(expected).not.toBe('no error')
      expect(failureOf(() => cache.verify(batch[2]!.signatureXml, options(2, overrides)))).toBe(expected)
    }
    // Within the validity and freshness windows the reused result is the full verifier's, OCSP included.
    const later = options(3, { atTime: new Date(now.getTime() + 60_000) })
    const full = verifySignature(batch[3]!.signatureXml, later)
    const reused = cache.verify(batch[3]!.signatureXml, later)
    expect(reused.ocsp.map((o) => [o.der, o.thisUpdate, o.status, o.serialNumber])).toEqual(full.ocsp.map((o) => [o.der, o.thisUpdate, o.status, o.serialNumber]))
    expect(reused.signingOcsp.der).toEqual(full.signingOcsp.der)
    expect(cache.stats).toMatchObject({ full: 1, reused: 5 })
  })

  it('reuses an entry only for the same bytes: a document one character away is verified in full, wherever the character is', () => {
    const cache = new SignatureVerificationCache()
    cache.verify(batch[0]!.signatureXml, options(0))
    const xml = Buffer.from(batch[0]!.signatureXml)
    const value = parseSignature(xml.toString('utf8')).signatureValue.toString('base64')
    const at = xml.indexOf(value)
    // Sixteen neighbouring positions of the SignatureValue: every offset a sampled fingerprint could skip.
    for (let k = 0; k < 16; k++) {
      const forged = Buffer.from(xml)
      forged[at + 8 + k] = forged[at + 8 + k] === 0x41 ? 0x42 : 0x41
      expect(codeOf(() => cache.verify(forged, options(1)))).toBe('invalid_signature_value')
    }
    expect(cache.stats).toMatchObject({ full: 17, reused: 0 })
    // The same document as text (its UTF-8 the same bytes) is the same entry.
    cache.verify(xml.toString('utf8'), options(2))
    expect(cache.stats).toMatchObject({ full: 17, reused: 1 })
  })

  it('never remembers a failure: a signature that failed is verified in full again', () => {
    const cache = new SignatureVerificationCache()
    expect(codeOf(() => cache.verify(batch[0]!.signatureXml, options(0, { expectedSigner: memberId('DEV', 'COM', '9999') })))).toBe('incorrect_certificate')
    expect(cache.stats).toEqual({ full: 1, reused: 0, entries: 0 })
    const xml = batch[0]!.signatureXml.toString('utf8')
    const value = parseSignature(xml).signatureValue
    const flipped = Buffer.from(value)
    flipped[5] = flipped[5]! ^ 1
    const forged = xml.replace(value.toString('base64'), flipped.toString('base64'))
    expect(codeOf(() => cache.verify(forged, options(0)))).toBe('invalid_signature_value')
    expect(codeOf(() => cache.verify(forged, options(1)))).toBe('invalid_signature_value')
    expect(cache.stats).toEqual({ full: 3, reused: 0, entries: 0 })
    cache.verify(batch[0]!.signatureXml, options(0))
    expect(cache.stats.entries).toBe(1)
  })

  it('starts afresh under another trust, leaves direct signatures alone and stays within its size', () => {
    const cache = new SignatureVerificationCache(1)
    cache.verify(batch[0]!.signatureXml, options(0))
    const otherTrust = verificationTrust({
      instance: 'DEV',
      approvedCas: [{ topCert: pki.ca.der, ocspResponderCerts: [pki.ocsp.der], certificateProfileInfo: EJBCA }],
    })
    cache.verify(batch[1]!.signatureXml, options(1, { trust: otherTrust }))
    expect(cache.stats).toMatchObject({ full: 2, reused: 0 })
    for (let i = 0; i < 2; i++) cache.verify(lone.signatureXml, { parts: { '/message.xml': message(9) }, expectedSigner: member, trust, atTime: now })
    expect(cache.stats).toMatchObject({ full: 4, reused: 0, entries: 1 })
  })
})

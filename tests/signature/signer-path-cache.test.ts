import { sign as cryptoSign } from 'node:crypto'
import { beforeAll, describe, expect, it } from 'vitest'
import { memberId } from '@shared/domain/identifiers'
import {
  buildSignature, parseSignature, SignatureVerificationCache, SignerPathCache, verificationTrust, verifySignature,
  type SignatureVerificationResult, type VerificationTrust, type VerifySignatureOptions,
} from '../../src-main/signature'
import { BatchSigner, type SigningContext } from '../../src-main/signer'
import { makeCertificate, makeOcspResponse, makeTrustSetup, type TestCert, type TestTrustSetup } from './support/test-pki'
import { EJBCA, failureOf, member, message } from './support/verification-fixtures'

/**
 * The signer path cache (issue 15): a new signature whose signing certificate, extra certificates and OCSP responses
 * are byte for byte those of a signature verified before under the same trust takes the certificate path, signer name
 * and OCSP verification from it, and checks again only what depends on the message's time — with the full verifier's
 * errors. Failures are never remembered.
 */

/** What a caller reads of a result, comparable across verifications. */
function summary(r: SignatureVerificationResult): unknown {
  return {
    signer: r.signer, signingCert: r.signingCert.der, certPath: r.certPath.map((c) => c.der), caName: r.caName,
    ocsp: r.ocsp.map((o) => ({ der: o.der, producedAt: o.producedAt, thisUpdate: o.thisUpdate, nextUpdate: o.nextUpdate, status: o.status, serial: o.serialNumber, responder: o.responderCert.der })),
    signingOcsp: r.signingOcsp.der, signingTime: r.signingTime, signatureValue: r.signatureValue, references: r.references,
  }
}

describe('signer path cache', () => {
  let pki: TestTrustSetup
  let trust: VerificationTrust
  let cert: TestCert
  let good: Buffer
  let other: TestCert
  let otherGood: Buffer
  /** A CA no trust below approves. */
  let stranger: TestCert
  const now = new Date()
  const freshFor = 30 * 60_000

  const caTrust = (extra: Partial<Parameters<typeof verificationTrust>[0]> = {}): VerificationTrust => verificationTrust({
    instance: 'DEV',
    approvedCas: [{ name: 'Test CA', topCert: pki.ca.der, ocspResponderCerts: [pki.ocsp.der], certificateProfileInfo: EJBCA }],
    ...extra,
  })

  /** A direct signature of message `i`, new every time (its own SigningTime and SignatureValue). */
  const signed = (i: number, signer = cert, ocsp = good, intermediates: Buffer[] = []): Promise<string> => buildSignature({
    parts: [{ uri: '/message.xml', data: message(i) }], signingCert: signer.der, intermediates, ocspResponses: [ocsp],
    sign: (req) => cryptoSign('sha512', req.dataToSign, { key: signer.keyObject, dsaEncoding: 'ieee-p1363' }),
    signatureAlgorithm: 'ECDSA-SHA512',
  })

  const options = (i: number, overrides: Partial<VerifySignatureOptions> = {}): VerifySignatureOptions => ({
    parts: { '/message.xml': message(i) }, expectedSigner: member, trust, atTime: now, ...overrides,
  })

  beforeAll(async () => {
    pki = await makeTrustSetup()
    trust = caTrust()
    cert = await makeCertificate({ subject: 'C=DEV, O=COM, CN=1234', issuer: pki.ca, keyUsage: ['nonRepudiation'], kind: 'EC' })
    good = await makeOcspResponse({ cert, issuer: pki.ca, responder: pki.ocsp, thisUpdate: new Date(now.getTime() - 60_000), nextUpdate: new Date(now.getTime() + freshFor) })
    other = await makeCertificate({ subject: 'C=DEV, O=COM, CN=1234', issuer: pki.ca, keyUsage: ['nonRepudiation'], kind: 'EC' })
    otherGood = await makeOcspResponse({ cert: other, issuer: pki.ca, responder: pki.ocsp, thisUpdate: new Date(now.getTime() - 60_000) })
    stranger = await makeCertificate({ subject: 'O=Elsewhere, CN=Other CA', ca: true, keyUsage: ['keyCertSign', 'cRLSign'], kind: 'EC' })
  })

  it('verifies the path and OCSP of a signer once for new signatures that bring the same bytes, with the full result', async () => {
    const cache = new SignatureVerificationCache()
    const [first, second] = [await signed(0), await signed(1)]
    expect(first).not.toBe(second)
    cache.verify(first, options(0))
    const reused = cache.verify(second, options(1))
    expect(cache.stats).toMatchObject({ full: 2, reused: 0 })
    expect(cache.pathStats).toEqual({ hits: 1, remembered: 1, entries: 1 })
    expect(summary(reused)).toEqual(summary(verifySignature(second, options(1))))

    // Batch signatures of two batches (each new to the batch cache) share the signer's entry too.
    const context: SigningContext = {
      certChain: [cert.der], keyId: 'k', algorithm: 'ecdsa-sha512', ocspResponses: [good],
      sign: async (_digest, data) => cryptoSign('sha512', data!, { key: cert.keyObject, dsaEncoding: 'ieee-p1363' }),
    }
    const batchSigner = new BatchSigner()
    for (const batch of [[10, 11], [12, 13]]) {
      const messages = await Promise.all(batch.map((i) => batchSigner.sign(context, [{ name: '/message.xml', bytes: message(i) }])))
      const batchOptions = (k: number): VerifySignatureOptions =>
        options(batch[k]!, { hashChainResult: messages[k]!.hashChainResult, hashChain: messages[k]!.hashChain })
      expect(messages[0]!.hashChain).toBeDefined()
      const result = cache.verify(messages[0]!.signatureXml, batchOptions(0))
      expect(summary(result)).toEqual(summary(verifySignature(messages[0]!.signatureXml, batchOptions(0))))
      cache.verify(messages[1]!.signatureXml, batchOptions(1))
    }
    expect(cache.stats).toMatchObject({ full: 4, reused: 2 })
    expect(cache.pathStats).toEqual({ hits: 3, remembered: 1, entries: 1 })
  })

  it('reuses a path through an intermediate CA, with one response per certificate', async () => {
    const intermediate = await makeCertificate({ subject: 'O=Gatehouse Test, CN=Intermediate', issuer: pki.ca, ca: true, keyUsage: ['keyCertSign', 'cRLSign'], kind: 'EC' })
    const leaf = await makeCertificate({ subject: 'C=DEV, O=COM, CN=1234', issuer: intermediate, keyUsage: ['nonRepudiation'], kind: 'EC' })
    const thisUpdate = new Date(now.getTime() - 60_000)
    const leafOcsp = await makeOcspResponse({ cert: leaf, issuer: intermediate, responder: intermediate, thisUpdate })
    const interOcsp = await makeOcspResponse({ cert: intermediate, issuer: pki.ca, responder: pki.ocsp, thisUpdate })
    const sign = (i: number): Promise<string> => buildSignature({
      parts: [{ uri: '/message.xml', data: message(i) }], signingCert: leaf.der, intermediates: [intermediate.der], ocspResponses: [leafOcsp, interOcsp],
      sign: (req) => cryptoSign('sha512', req.dataToSign, { key: leaf.keyObject, dsaEncoding: 'ieee-p1363' }), signatureAlgorithm: 'ECDSA-SHA512',
    })
    const paths = new SignerPathCache()
    verifySignature(await sign(0), options(0), paths)
    const xml = await sign(1)
    const reused = verifySignature(xml, options(1), paths)
    expect(paths.stats).toEqual({ hits: 1, remembered: 1, entries: 1 })
    expect(reused.certPath).toHaveLength(3)
    expect(summary(reused)).toEqual(summary(verifySignature(xml, options(1))))
    // The intermediate's validity and its response's freshness are checked again too.
    const late = { atTime: new Date(thisUpdate.getTime() + 3600_000 + 1000) }
    const expected = failureOf(() => verifySignature(xml, options(1, late)))
    expect(expected).toMatch(/^incorrect_validation_info: OCSP response is too old/)
    expect(failureOf(() => verifySignature(xml, options(1, late), paths))).toBe(expected)
  })

  it('checks certificate validity, OCSP freshness and nextUpdate at each message\'s time, with the full verifier\'s errors', async () => {
    const paths = new SignerPathCache()
    verifySignature(await signed(0), options(0), paths)
    const xml = await signed(1)
    const cases: Array<[Date, RegExp]> = [
      [new Date(now.getTime() + 3600_000), /^incorrect_validation_info: OCSP response is too old \(thisUpdate/],
      [new Date(now.getTime() + freshFor + 1000), /^incorrect_validation_info: OCSP response is too old \(nextUpdate/],
      [new Date('2050-01-01T00:00:00Z'), /^invalid_cert_path: Certificate .* is not valid at 2050/],
      [new Date('2023-06-01T00:00:00Z'), /^invalid_cert_path: Certificate .* is not valid at 2023/],
    ]
    for (const [atTime, pattern] of cases) {
      const expected = failureOf(() => verifySignature(xml, options(1, { atTime })))
      expect(expected).toMatch(pattern)
      expect(failureOf(() => verifySignature(xml, options(1, { atTime }), paths))).toBe(expected)
    }
    // nextUpdate is the configuration's choice (NEXTUPDATE part): without it, the same message passes.
    const noNextUpdate = caTrust({ verifyNextUpdate: false })
    const lenient = options(1, { atTime: new Date(now.getTime() + freshFor + 1000), trust: noNextUpdate })
    verifySignature(await signed(2), { ...lenient, parts: { '/message.xml': message(2) } }, paths)
    expect(verifySignature(xml, lenient, paths).signer).toEqual(member)
    expect(paths.stats).toEqual({ hits: cases.length + 1, remembered: 2, entries: 1 })
    // Within the windows the entry's result stands.
    expect(verifySignature(xml, options(1, { atTime: new Date(now.getTime() + 60_000) }), paths).signingOcsp.status).toBe('good')
  })

  it('fails a revoked or unknown response every time and never remembers it', async () => {
    const cache = new SignatureVerificationCache()
    cache.verify(await signed(0), options(0))
    for (const status of ['revoked', 'unknown'] as const) {
      const response = await makeOcspResponse({ cert, issuer: pki.ca, responder: pki.ocsp, status, thisUpdate: new Date(now.getTime() - 60_000) })
      for (const i of [1, 2, 3]) {
        const xml = await signed(i, cert, response)
        const expected = failureOf(() => verifySignature(xml, options(i)))
        expect(expected).toBe(`cert_validation: OCSP response indicates certificate status is ${status.toUpperCase()}`)
        expect(failureOf(() => cache.verify(xml, options(i)))).toBe(expected)
      }
    }
    expect(cache.pathStats).toEqual({ hits: 0, remembered: 1, entries: 1 })
    // The good response's entry is still the good response's.
    cache.verify(await signed(4), options(4))
    expect(cache.pathStats.hits).toBe(1)
  })

  it('starts afresh under a new trust snapshot, and fails under one that no longer approves the CA', async () => {
    const paths = new SignerPathCache()
    verifySignature(await signed(0), options(0), paths)
    const xml = await signed(1)
    // The same configuration downloaded again is another snapshot: verified in full, then remembered for it.
    const again = caTrust()
    verifySignature(xml, options(1, { trust: again }), paths)
    expect(paths.stats).toEqual({ hits: 0, remembered: 2, entries: 1 })
    verifySignature(xml, options(1, { trust: again }), paths)
    expect(paths.stats.hits).toBe(1)
    // A configuration whose approved CA is another one: the full verifier's refusal, though entries exist.
    const withdrawn = verificationTrust({ instance: 'DEV', approvedCas: [{ topCert: stranger.der, certificateProfileInfo: EJBCA }] })
    const expected = failureOf(() => verifySignature(xml, options(1, { trust: withdrawn })))
    expect(expected).toBe('cert_validation: Certificate is not issued by approved certification service provider.')
    expect(failureOf(() => verifySignature(xml, options(1, { trust: withdrawn }), paths))).toBe(expected)
    // A configuration with a shorter OCSP freshness applies at once.
    const strict = caTrust({ ocspFreshnessSeconds: 30 })
    const strictExpected = failureOf(() => verifySignature(xml, options(1, { trust: strict })))
    expect(strictExpected).toMatch(/^incorrect_validation_info: OCSP response is too old/)
    expect(failureOf(() => verifySignature(xml, options(1, { trust: strict }), paths))).toBe(strictExpected)
    expect(paths.stats).toEqual({ hits: 1, remembered: 2, entries: 1 })
  })

  it('stays within its capacity, the least recently used entry going first', async () => {
    const cache = new SignatureVerificationCache(256, 1)
    cache.verify(await signed(0), options(0))
    cache.verify(await signed(1, other, otherGood), options(1))
    cache.verify(await signed(2), options(2))
    expect(cache.pathStats).toEqual({ hits: 0, remembered: 3, entries: 1 })
    cache.verify(await signed(3), options(3))
    expect(cache.pathStats).toEqual({ hits: 1, remembered: 3, entries: 1 })

    const paths = new SignerPathCache(2)
    const third = await makeCertificate({ subject: 'C=DEV, O=COM, CN=1234', issuer: pki.ca, keyUsage: ['nonRepudiation'], kind: 'EC' })
    const thirdGood = await makeOcspResponse({ cert: third, issuer: pki.ca, responder: pki.ocsp, thisUpdate: new Date(now.getTime() - 60_000) })
    const a: [TestCert, Buffer] = [cert, good]
    const b: [TestCert, Buffer] = [other, otherGood]
    const c: [TestCert, Buffer] = [third, thirdGood]
    const outcomes: string[] = []
    // A, B, A (hit), C (B goes), A (hit), B (C goes), A (hit); then a response about another certificate: refused.
    for (const [i, [signer, ocsp]] of [a, b, a, c, a, b, a, [third, good] as [TestCert, Buffer]].entries()) {
      const xml = await signed(i, signer, ocsp)
      outcomes.push(failureOf(() => verifySignature(xml, options(i), paths)))
    }
    expect(outcomes.slice(0, 7)).toEqual(Array(7).fill('no error'))
    expect(outcomes[7]).toMatch(/^cert_validation: Unable to find OCSP response for certificate/)
    expect(paths.stats).toEqual({ hits: 3, remembered: 4, entries: 2 })
  })

  it('takes nothing for other bytes: the exact certificate, extra certificates and responses decide', async () => {
    const paths = new SignerPathCache()
    const xml = await signed(0)
    verifySignature(xml, options(0), paths)
    const parsed = parseSignature(xml)
    const flipped = (bytes: Buffer, at: number): Buffer => {
      const copy = Buffer.from(bytes)
      copy[at] = copy[at]! ^ 0x01
      return copy
    }
    const { signingCertDer: der, extraCerts, ocspResponses } = parsed
    expect(paths.lookup(der, extraCerts, ocspResponses, trust)).toBeDefined()
    const misses = [
      paths.lookup(flipped(der, der.length >> 1), extraCerts, ocspResponses, trust),
      paths.lookup(der, extraCerts, [flipped(ocspResponses[0]!, ocspResponses[0]!.length >> 1)], trust),
      paths.lookup(der, extraCerts, [...ocspResponses, otherGood], trust),
      paths.lookup(der, [other.der], ocspResponses, trust),
      paths.lookup(der, extraCerts, ocspResponses, caTrust()),
    ]
    expect(misses).toEqual([undefined, undefined, undefined, undefined, undefined])
    expect(paths.stats.hits).toBe(1)
  })

  it('never remembers a failure', async () => {
    const paths = new SignerPathCache()
    const xml = await signed(0)
    expect(failureOf(() => verifySignature(xml, options(0, { expectedSigner: memberId('DEV', 'COM', '9999') }), paths))).toMatch(/^incorrect_certificate: /)
    const value = parseSignature(xml).signatureValue
    const forged = xml.replace(value.toString('base64'), Buffer.from(value.map((b, i) => (i === 5 ? b ^ 1 : b))).toString('base64'))
    expect(failureOf(() => verifySignature(forged, options(0), paths))).toBe('invalid_signature_value: Signature is not valid')
    expect(failureOf(() => verifySignature(xml, options(0, { atTime: new Date(now.getTime() + 3600_000) }), paths))).toMatch(/^incorrect_validation_info: /)
    const elsewhere = verificationTrust({ instance: 'DEV', approvedCas: [{ topCert: stranger.der, certificateProfileInfo: EJBCA }] })
    expect(failureOf(() => verifySignature(xml, options(0, { trust: elsewhere }), paths))).toMatch(/^cert_validation: /)
    expect(paths.stats).toEqual({ hits: 0, remembered: 0, entries: 0 })
    verifySignature(xml, options(0), paths)
    expect(paths.stats).toEqual({ hits: 0, remembered: 1, entries: 1 })
  })
})

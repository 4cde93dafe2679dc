import { constants, sign as cryptoSign, X509Certificate } from 'node:crypto'
import forge from 'node-forge'
import { beforeAll, describe, expect, it } from 'vitest'
import { memberId } from '@shared/domain/identifiers'
import {
  base64Of, buildHashChains, buildSignature, digest, embedSignatureTimestamp, parseSignature, verificationTrust, verifySignature,
  verificationTrustFromGlobalConf, type SignRequest, type VerificationTrust,
} from '../../src-main/signature'
import { readConfigurationDirectory } from '../../src-main/global-conf'
import { describeFixtures } from '../support/describe-fixtures'
import { fixturePath, readFixture } from '../support/fixtures'
import { makeCertificate, makeOcspResponse, makeTrustSetup, type TestCert, type TestTrustSetup } from './support/test-pki'

const EJBCA = 'ee.ria.xroad.common.certificateprofile.impl.EjbcaCertificateProfileInfoProvider'
const MESSAGE = Buffer.from('<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Body/></SOAP-ENV:Envelope>\n')

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (error) {
    return (error as { faultCode?: string; code?: string }).faultCode ?? (error as { code?: string }).code
  }
  return 'no error'
}

function softSigner(cert: TestCert) {
  return (req: SignRequest): Buffer => {
    const hash = `sha${req.algorithm.slice(-3)}`
    if (req.algorithm.startsWith('ECDSA')) return cryptoSign(hash, req.dataToSign, { key: cert.keyObject, dsaEncoding: 'ieee-p1363' })
    if (req.algorithm.startsWith('RSA-PSS')) return cryptoSign(hash, req.dataToSign, { key: cert.keyObject, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: Number(req.algorithm.slice(-3)) / 8 })
    return cryptoSign(hash, req.dataToSign, cert.keyObject)
  }
}

describe('signature documents: build and verify', () => {
  let pki: TestTrustSetup
  let signer: TestCert
  let trust: VerificationTrust
  const now = new Date()
  const member = memberId('DEV', 'COM', '1234')

  beforeAll(async () => {
    pki = await makeTrustSetup()
    signer = await makeCertificate({ subject: 'C=DEV, O=COM, CN=1234', issuer: pki.ca, keyUsage: ['nonRepudiation'] })
    trust = verificationTrust({
      instance: 'DEV',
      approvedCas: [{ name: 'Gatehouse Test CA', topCert: pki.ca.der, ocspResponderCerts: [pki.ocsp.der], certificateProfileInfo: EJBCA }],
      approvedTsas: [{ cert: pki.tsa.der }],
    })
  })

  async function signed(cert: TestCert, extra: Partial<Parameters<typeof buildSignature>[0]> = {}): Promise<string> {
    const ocsp = await makeOcspResponse({ cert, issuer: pki.ca, responder: pki.ocsp, thisUpdate: new Date(now.getTime() - 60_000) })
    return buildSignature({ parts: [{ uri: '/message.xml', data: MESSAGE }], signingCert: cert.der, ocspResponses: [ocsp], sign: softSigner(cert), ...extra })
  }

  it('emits the X-Road 7.x layout and verifies it (RSA-SHA512)', async () => {
    const xml = await signed(signer)
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8" standalone="no"?><asic:XAdESSignatures xmlns:asic="http://uri.etsi.org/02918/v1.2.1#"')).toBe(true)
    expect(xml).toContain('<ds:CanonicalizationMethod Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"/>')
    expect(xml).toContain('<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha512"/>')
    expect(xml).toContain('<ds:Reference Id="signature-reference-0" URI="/message.xml">')
    expect(xml).toContain('<xades:MimeType>text/xml</xades:MimeType>')
    expect(xml).toContain(`<ds:X509IssuerName>CN=Gatehouse Test CA,O=Gatehouse Test</ds:X509IssuerName><ds:X509SerialNumber>${BigInt(`0x${new X509Certificate(signer.der).serialNumber}`)}</ds:X509SerialNumber>`)
    expect(xml).not.toContain('CertificateValues')
    const result = verifySignature(xml, { parts: { '/message.xml': MESSAGE }, expectedSigner: member, trust, atTime: now })
    expect(result.signer).toEqual(member)
    expect(result.ocsp).toHaveLength(1)
    expect(result.signingOcsp.status).toBe('good')
  })

  it('signs and verifies with ECDSA (raw r‖s) and RSA-PSS', async () => {
    const ec = await makeCertificate({ subject: 'C=DEV, O=COM, CN=1234', issuer: pki.ca, keyUsage: ['nonRepudiation'], kind: 'EC' })
    const xml = await signed(ec)
    expect(xml).toContain('xmldsig-more#ecdsa-sha512')
    expect(parseSignature(xml).signatureValue).toHaveLength(64)
    verifySignature(xml, { parts: { '/message.xml': MESSAGE }, expectedSigner: member, trust, atTime: now })
    const pss = await signed(signer, { signatureAlgorithm: 'RSA-PSS-SHA512' })
    expect(pss).toContain('sha512-rsa-MGF1')
    verifySignature(pss, { parts: { '/message.xml': MESSAGE }, expectedSigner: member, trust, atTime: now })
  })

  it('rejects tampering, a wrong signer, time and OCSP problems with X-Road codes', async () => {
    const xml = await signed(signer)
    const opts = { parts: { '/message.xml': MESSAGE }, expectedSigner: member, trust, atTime: now }
    expect(codeOf(() => verifySignature(xml, { ...opts, parts: { '/message.xml': Buffer.from('other') } }))).toBe('invalid_signature_value')
    expect(codeOf(() => verifySignature(xml.replace('<xades:MimeType>text/xml', '<xades:MimeType>text/plain'), opts))).toBe('invalid_signature_value')
    const value = parseSignature(xml).signatureValue.toString('base64')
    const flipped = Buffer.from(value, 'base64')
    flipped[10] = flipped[10]! ^ 1
    expect(codeOf(() => verifySignature(xml.replace(value, flipped.toString('base64')), opts))).toBe('invalid_signature_value')
    expect(codeOf(() => verifySignature(xml, { ...opts, expectedSigner: memberId('DEV', 'COM', '9999') }))).toBe('incorrect_certificate')
    expect(codeOf(() => verifySignature(xml, { ...opts, atTime: new Date('2050-01-01T00:00:00Z') }))).toBe('invalid_cert_path')
    expect(codeOf(() => verifySignature(xml, { ...opts, atTime: new Date(now.getTime() + 2 * 3600_000) }))).toBe('incorrect_validation_info')
    expect(codeOf(() => verifySignature(xml, { ...opts, parts: { ...opts.parts, '/attachment1': Buffer.from('x') } }))).toBe('malformed_signature')
    const revoked = await makeOcspResponse({ cert: signer, issuer: pki.ca, responder: pki.ocsp, status: 'revoked' })
    const revokedXml = await buildSignature({ parts: [{ uri: '/message.xml', data: MESSAGE }], signingCert: signer.der, ocspResponses: [revoked], sign: softSigner(signer) })
    expect(codeOf(() => verifySignature(revokedXml, opts))).toBe('cert_validation')
    const stranger = await makeCertificate({ subject: 'O=Other, CN=Other OCSP', keyUsage: ['digitalSignature'] })
    const unauthorized = await makeOcspResponse({ cert: signer, issuer: pki.ca, responder: stranger, includeResponderCert: true })
    const unauthorizedXml = await buildSignature({ parts: [{ uri: '/message.xml', data: MESSAGE }], signingCert: signer.der, ocspResponses: [unauthorized], sign: softSigner(signer) })
    expect(codeOf(() => verifySignature(unauthorizedXml, opts))).toBe('incorrect_validation_info')
    const none = await buildSignature({ parts: [{ uri: '/message.xml', data: MESSAGE }], signingCert: signer.der, sign: softSigner(signer) })
    expect(codeOf(() => verifySignature(none, opts))).toBe('malformed_signature')
    const noNr = await makeCertificate({ subject: 'C=DEV, O=COM, CN=1234', issuer: pki.ca, keyUsage: ['digitalSignature'] })
    const noNrXml = await signed(noNr)
    // SignatureVerifier.getSigningCertificate: not a signing certificate (no nonRepudiation) is malformed_signature.
    expect(codeOf(() => verifySignature(noNrXml, opts))).toBe('malformed_signature')
    const otherCa = await makeCertificate({ subject: 'CN=Unknown CA', ca: true, keyUsage: ['keyCertSign'] })
    const foreign = await makeCertificate({ subject: 'C=DEV, O=COM, CN=1234', issuer: otherCa, keyUsage: ['nonRepudiation'] })
    const foreignXml = await buildSignature({ parts: [{ uri: '/message.xml', data: MESSAGE }], signingCert: foreign.der, ocspResponses: [revoked], sign: softSigner(foreign) })
    expect(codeOf(() => verifySignature(foreignXml, opts))).toBe('cert_validation')
  })

  it('verifies a chain through an intermediate CA with OCSP for both certificates', async () => {
    const intermediate = await makeCertificate({ subject: 'O=Gatehouse Test, CN=Intermediate', issuer: pki.ca, ca: true, keyUsage: ['keyCertSign'] })
    const leaf = await makeCertificate({ subject: 'C=DEV, O=COM, CN=1234', issuer: intermediate, keyUsage: ['nonRepudiation'] })
    const leafOcsp = await makeOcspResponse({ cert: leaf, issuer: intermediate, responder: intermediate })
    const intOcsp = await makeOcspResponse({ cert: intermediate, issuer: pki.ca, responder: pki.ocsp })
    const xml = await buildSignature({
      parts: [{ uri: '/message.xml', data: MESSAGE }], signingCert: leaf.der, intermediates: [intermediate.der], ocspResponses: [leafOcsp, intOcsp], sign: softSigner(leaf),
    })
    expect(xml).toContain('<xades:CompleteCertificateRefs Id="complete-certificate-refs"><xades:CertRefs><xades:Cert URI="#encapsulated-cert-1">')
    expect(xml).toContain('<xades:EncapsulatedX509Certificate Id="encapsulated-cert-1">')
    const result = verifySignature(xml, { parts: { '/message.xml': MESSAGE }, expectedSigner: member, trust, atTime: now })
    expect(result.certPath).toHaveLength(3)
    expect(result.ocsp).toHaveLength(2)
    const missing = await buildSignature({
      parts: [{ uri: '/message.xml', data: MESSAGE }], signingCert: leaf.der, intermediates: [intermediate.der], ocspResponses: [leafOcsp], sign: softSigner(leaf),
    })
    expect(codeOf(() => verifySignature(missing, { parts: { '/message.xml': MESSAGE }, expectedSigner: member, trust, atTime: now }))).toBe('cert_validation')
  })

  it('batch-signs a hash chain result and verifies each message through its chain', async () => {
    const other = Buffer.from('<other/>')
    const attachment = Buffer.from('attachment bytes')
    const chains = buildHashChains([
      { parts: [{ uri: '/message.xml', digest: digest('SHA-512', MESSAGE) }, { uri: '/attachment1', digest: digest('SHA-512', attachment) }] },
      { parts: [{ uri: '/message.xml', digest: digest('SHA-512', other) }] },
    ])
    const ocsp = await makeOcspResponse({ cert: signer, issuer: pki.ca, responder: pki.ocsp })
    const xml = await buildSignature({ hashChainResult: chains.resultXml, signingCert: signer.der, ocspResponses: [ocsp], sign: softSigner(signer) })
    expect(xml).toContain('URI="/sig-hashchainresult.xml"')
    expect(xml).toContain('<xades:MimeType>application/hash-chain-result</xades:MimeType>')
    const base = { expectedSigner: member, trust, atTime: now, hashChainResult: chains.resultXml }
    verifySignature(xml, { ...base, parts: { '/message.xml': MESSAGE, '/attachment1': attachment }, hashChain: chains.chains[0] })
    verifySignature(xml, { ...base, parts: { '/message.xml': other }, hashChain: chains.chains[1] })
    expect(codeOf(() => verifySignature(xml, { ...base, parts: { '/message.xml': MESSAGE, '/attachment1': Buffer.from('changed') }, hashChain: chains.chains[0] })))
      .toBe('malformed_signature.invalid_hash_chain_ref')
    expect(codeOf(() => verifySignature(xml, { ...base, parts: { '/message.xml': other, '/attachment1': attachment }, hashChain: chains.chains[1] })))
      .toBe('malformed_signature.hashchain_unused_inputs')
  })

  it('checks the hash chain before the signing certificate\'s key usage (SignatureVerifier.verify → getSigningCertificate)', async () => {
    const noNr = await makeCertificate({ subject: 'C=DEV, O=COM, CN=1234', issuer: pki.ca, keyUsage: ['digitalSignature'] })
    const chains = buildHashChains([
      { parts: [{ uri: '/message.xml', digest: digest('SHA-512', MESSAGE) }] },
      { parts: [{ uri: '/message.xml', digest: digest('SHA-512', Buffer.from('<other/>')) }] },
    ])
    const ocsp = await makeOcspResponse({ cert: noNr, issuer: pki.ca, responder: pki.ocsp })
    const xml = await buildSignature({ hashChainResult: chains.resultXml, signingCert: noNr.der, ocspResponses: [ocsp], sign: softSigner(noNr) })
    const base = { expectedSigner: member, trust, atTime: now, hashChainResult: chains.resultXml, hashChain: chains.chains[0] }
    expect(codeOf(() => verifySignature(xml, { ...base, parts: { '/message.xml': Buffer.from('changed') } }))).toBe('malformed_signature.invalid_hash_chain_ref')
    expect(codeOf(() => verifySignature(xml, { ...base, parts: { '/message.xml': MESSAGE } }))).toBe('malformed_signature')
  })

  it('fails a signed part that is missing with invalid_reference, and an empty part nobody signed as unused (X-Road HashChainVerifier)', async () => {
    const attachment = Buffer.from('attachment bytes')
    const chains = buildHashChains([
      { parts: [{ uri: '/message.xml', digest: digest('SHA-512', MESSAGE) }, { uri: '/attachment1', digest: digest('SHA-512', attachment) }] },
      { parts: [{ uri: '/message.xml', digest: digest('SHA-512', Buffer.from('<other/>')) }] },
    ])
    const ocsp = await makeOcspResponse({ cert: signer, issuer: pki.ca, responder: pki.ocsp })
    const xml = await buildSignature({ hashChainResult: chains.resultXml, signingCert: signer.der, ocspResponses: [ocsp], sign: softSigner(signer) })
    const base = { expectedSigner: member, trust, atTime: now, hashChainResult: chains.resultXml }
    // The body was signed and then left out: the chain's own digest for it is never taken on trust.
    expect(codeOf(() => verifySignature(xml, { ...base, parts: { '/message.xml': MESSAGE }, hashChain: chains.chains[0] })))
      .toBe('malformed_signature.invalid_reference')
    // A resolver that knows nothing of the URI does not change that.
    expect(codeOf(() => verifySignature(xml, { ...base, parts: { '/message.xml': MESSAGE }, hashChain: chains.chains[0], resolve: () => undefined })))
      .toBe('malformed_signature.invalid_reference')
    // Only the ASiC verifier's shouldResolve (the container does not hold the body) reports it as unverified instead.
    const result = verifySignature(xml, { ...base, parts: { '/message.xml': MESSAGE }, hashChain: chains.chains[0], shouldResolve: () => false })
    expect(result.hashChain?.unresolved.map((u) => u.uri)).toEqual(['/attachment1'])
    // An empty body part that arrived is a part: unsigned, it fails.
    expect(codeOf(() => verifySignature(xml, { ...base, parts: { '/message.xml': Buffer.from('<other/>'), '/attachment1': Buffer.alloc(0) }, hashChain: chains.chains[1] })))
      .toBe('malformed_signature.hashchain_unused_inputs')
  })

  it('embeds a signature time-stamp as the first unsigned property without breaking the signature', async () => {
    const xml = await signed(signer)
    const stamped = embedSignatureTimestamp(xml, Buffer.from([0x30, 0x03, 0x02, 0x01, 0x01]))
    expect(stamped).toContain('<xades:UnsignedSignatureProperties><xades:SignatureTimeStamp><xades:EncapsulatedTimeStamp>MAMCAQE=</xades:EncapsulatedTimeStamp></xades:SignatureTimeStamp><xades:RevocationValues>')
    expect(parseSignature(stamped).timestampToken).toEqual(Buffer.from([0x30, 0x03, 0x02, 0x01, 0x01]))
    verifySignature(stamped, { parts: { '/message.xml': MESSAGE }, expectedSigner: member, trust, atTime: now })
  })
})

/** The certificate of a PKCS#12 file (the OCSP signer of sign-0.xml lives in `ocspsigner.p12`). */
function certFromP12(p12: Buffer, password: string): Buffer {
  const asn1 = forge.asn1.fromDer(forge.util.createBuffer(p12.toString('binary')))
  const bags = forge.pkcs12.pkcs12FromAsn1(asn1, password).getBags({ bagType: forge.pki.oids.certBag! })[forge.pki.oids.certBag!]!
  return Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(bags[0]!.cert!)).getBytes(), 'binary')
}

describeFixtures('signature conformance (signatures/common-test, globalconf-impl)', () => {
  const sign0Trust = (): VerificationTrust => verificationTrust({
    instance: 'EE',
    approvedCas: [{
      topCert: readFixture('pki/common-test-certs/root-ca.pem').toString('latin1'),
      ocspResponderCerts: [certFromP12(readFixture('pki/common-test-certs/ocspsigner.p12'), 'test')],
      certificateProfileInfo: EJBCA,
    }],
  })
  // Inside the consumer certificate's validity (2014-10-02..2024-09-29) and within an hour of the OCSP thisUpdate.
  const atTime = new Date('2017-09-09T09:30:00Z')
  const consumer = memberId('EE', 'Cybernetica', 'consumer')
  const message = () => readFixture('signatures/common-test/message-0.xml')

  it('sign-0.xml over message-0.xml verifies', () => {
    const result = verifySignature(readFixture('signatures/common-test/sign-0.xml'), { parts: { '/message.xml': message() }, expectedSigner: consumer, trust: sign0Trust(), atTime })
    expect(result.signer).toEqual(consumer)
    expect(result.signingTime?.toISOString()).toBe('2017-09-08T09:15:11.580Z')
    expect(result.signingOcsp.thisUpdate.toISOString()).toBe('2017-09-09T09:15:11.000Z')
  })

  it('sign-0.xml fails at today\'s date (the certificate expired in 2024) and for another signer', () => {
    const opts = { parts: { '/message.xml': message() }, expectedSigner: consumer, trust: sign0Trust(), atTime: new Date('2026-11-22T00:00:00Z') }
    expect(codeOf(() => verifySignature(readFixture('signatures/common-test/sign-0.xml'), opts))).toBe('invalid_cert_path')
    expect(codeOf(() => verifySignature(readFixture('signatures/common-test/sign-0.xml'), { ...opts, atTime, expectedSigner: memberId('EE', 'Cybernetica', 'FOORBAR') }))).toBe('incorrect_certificate')
    expect(codeOf(() => verifySignature(readFixture('signatures/common-test/sign-0.xml'), { ...opts, atTime, parts: { '/message.xml': Buffer.from('foo') } }))).toBe('invalid_signature_value')
  })

  it.each([
    ['empty.xml', 'invalid_xml'],
    ['sign-0-malformed-xml.xml', 'invalid_xml'],
    ['sign-0-no-signature.xml', 'malformed_signature'],
    ['sign-0-no-objectcontainer.xml', 'malformed_signature'],
    ['sign-0-schema-fail.xml', 'malformed_signature'],
    ['sign-0-no-signing-cert.xml', 'malformed_signature'],
    ['sign-0-invalid-signature-value.xml', 'invalid_signature_value'],
    ['sign-0-ocsp-no-responses.xml', 'malformed_signature'],
    ['extra-certs-missing-id.xml', 'malformed_signature'],
    ['extra-certs-missing-cert.xml', 'malformed_signature'],
    ['extra-certs-digest-invalid.xml', 'malformed_signature'],
  ])('globalconf-impl/%s fails with %s', (file, code) => {
    expect(codeOf(() => verifySignature(readFixture('signatures/globalconf-impl', file), {
      parts: { '/message.xml': message() }, expectedSigner: consumer, trust: sign0Trust(), atTime,
    }))).toBe(code)
  })
})

describeFixtures('X-Road 8 per-part signature (signatures/globalconf-impl/non-batch-sig)', () => {
  const dir = 'signatures/globalconf-impl/non-batch-sig'
  const trust = () => verificationTrustFromGlobalConf(readConfigurationDirectory(fixturePath('globalconf/parsed-dirs/globalconf_good2_v3')))
  const atTime = new Date('2024-07-09T00:00:00Z')
  const client = memberId('DEV', 'COM', '4321')

  it('verifies with the message bytes and the attachment as a precomputed digest', () => {
    const result = verifySignature(readFixture(dir, 'signatures.xml'), {
      parts: { '/message.xml': readFixture(dir, 'message.xml'), '/attachment1': { digest: digest('SHA-512', readFixture(dir, 'attachment1')) } },
      expectedSigner: client, trust: trust(), atTime,
    })
    expect(result.references).toContain('/attachment1')
  })

  it('fails with invalid_signature_value when the attachment digest differs', () => {
    expect(codeOf(() => verifySignature(readFixture(dir, 'signatures.xml'), {
      parts: { '/message.xml': readFixture(dir, 'message.xml'), '/attachment1': { digest: digest('SHA-512', Buffer.from([1])) } },
      expectedSigner: client, trust: trust(), atTime,
    }))).toBe('invalid_signature_value')
  })
})

describe('base64 in signed evidence', () => {
  it('accepts only the canonical spelling, so a changed character never decodes to the same bytes', () => {
    expect(base64Of('QQ==')).toEqual(Buffer.from('A'))
    expect(base64Of('QUI=')).toEqual(Buffer.from('AB'))
    expect(base64Of(' QUJD\r\nREVG ')).toEqual(Buffer.from('ABCDEF'))
    // 'QR==' and 'QQ' decode to the same byte as 'QQ==' in a lenient decoder (Node's, Java's).
    for (const lenient of ['QR==', 'QQ', 'QUJ=', 'QUJDRA=', 'QQ==QQ==', 'Q!==', 'Q===', 'QQ=', 'QU_D']) {
      expect(() => base64Of(lenient), lenient).toThrow(expect.objectContaining({ code: 'malformed_signature' }))
    }
  })
})

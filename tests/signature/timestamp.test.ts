import { describe, expect, it } from 'vitest'
import { verificationTrust, verifyTimestamp } from '../../src-main/signature'
import { describeFixtures } from '../support/describe-fixtures'
import { readFixture } from '../support/fixtures'
import { makeCertificate, makeTimestampToken, makeTrustSetup } from './support/test-pki'

const EJBCA = 'ee.ria.xroad.common.certificateprofile.impl.EjbcaCertificateProfileInfoProvider'

/** The full fault code, as X-Road's tests compare it (`mlog.tsp_certificate_not_found`). */
function codeOf(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (error) {
    return (error as { faultCode?: string }).faultCode
  }
  return 'no error'
}

describe('time-stamp tokens', () => {
  it('verifies a token from an approved TSA and refuses other data, other TSAs and tampering', async () => {
    const pki = await makeTrustSetup()
    const trust = verificationTrust({ instance: 'DEV', approvedCas: [{ topCert: pki.ca.der, certificateProfileInfo: EJBCA }], approvedTsas: [{ cert: pki.tsa.der }] })
    const data = Buffer.from('signature value bytes')
    const genTime = new Date('2026-01-02T03:04:05Z')
    const token = await makeTimestampToken({ data, tsa: pki.tsa, genTime })
    const info = verifyTimestamp(token, data, trust)
    expect(info.genTime.toISOString()).toBe(genTime.toISOString())
    expect(info.tsaCert.der.equals(pki.tsa.der)).toBe(true)
    expect(info.hashAlgorithm).toBe('SHA-512')
    expect(codeOf(() => verifyTimestamp(token, Buffer.from('other'), trust))).toBe('malformed_signature')
    const otherTsa = await makeCertificate({ subject: 'CN=Other TSA', issuer: pki.ca, keyUsage: ['nonRepudiation'] })
    expect(codeOf(() => verifyTimestamp(token, data, { ...trust, approvedTsas: [{ cert: otherTsa.der }] }))).toBe('mlog.tsp_certificate_not_found')
    expect(codeOf(() => verifyTimestamp(token, data, { ...trust, approvedTsas: [] }))).toBe('mlog.no_timestamping_provider_found')
    // A token whose signature does not come from the TSA key it names.
    const impostor = { ...pki.tsa, privateKey: otherTsa.privateKey }
    const forged = await makeTimestampToken({ data, tsa: impostor, genTime })
    expect(codeOf(() => verifyTimestamp(forged, data, trust))).toBe('mlog.timestamp_signer_verification_failed')
  })
})

describeFixtures('time-stamp conformance (signatures/globalconf-impl-timestamps)', () => {
  const trust = () => verificationTrust({
    instance: 'EE', approvedCas: [], approvedTsas: [{ cert: readFixture('pki/common-test-certs/tsp.pem').toString('latin1') }],
  })

  // X-Road's TimestampVerifierTest, case for case.
  it('validTimestamp: the valid token over stamped-data verifies', () => {
    const data = readFixture('signatures/globalconf-impl-timestamps/stamped-data')
    const info = verifyTimestamp(readFixture('signatures/globalconf-impl-timestamps/valid'), data, trust())
    expect(info.genTime.toISOString()).toBe('2012-11-29T13:10:04.000Z')
  })

  it('hashMismatch: one changed byte of the stamped data is malformed_signature, before any TSA is looked at', () => {
    const data = Buffer.from(readFixture('signatures/globalconf-impl-timestamps/stamped-data'))
    data[42] = 0x01
    const noTsas = verificationTrust({ instance: 'EE', approvedCas: [] })
    expect(codeOf(() => verifyTimestamp(readFixture('signatures/globalconf-impl-timestamps/valid'), data, noTsas))).toBe('malformed_signature')
  })

  it('wrongCertificate: another certificate in place of the TSA (X-Road: the OCSP responders) is mlog.tsp_certificate_not_found', () => {
    const data = readFixture('signatures/globalconf-impl-timestamps/stamped-data')
    const wrongCerts = verificationTrust({ instance: 'EE', approvedCas: [], approvedTsas: [{ cert: readFixture('pki/common-test-certs/producer.pem').toString('latin1') }] })
    expect(codeOf(() => verifyTimestamp(readFixture('signatures/globalconf-impl-timestamps/valid'), data, wrongCerts))).toBe('mlog.tsp_certificate_not_found')
  })

  it('invalidSignature: the invalid-signature token is mlog.timestamp_signer_verification_failed', () => {
    const data = readFixture('signatures/globalconf-impl-timestamps/stamped-data')
    expect(codeOf(() => verifyTimestamp(readFixture('signatures/globalconf-impl-timestamps/invalid-signature'), data, trust()))).toBe('mlog.timestamp_signer_verification_failed')
  })
})

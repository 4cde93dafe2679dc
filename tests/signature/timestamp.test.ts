import { describe, expect, it } from 'vitest'
import { verificationTrust, verifyTimestamp } from '../../src-main/signature'
import { describeFixtures } from '../support/describe-fixtures'
import { readFixture } from '../support/fixtures'
import { makeCertificate, makeTimestampToken, makeTrustSetup } from './support/test-pki'

const EJBCA = 'ee.ria.xroad.common.certificateprofile.impl.EjbcaCertificateProfileInfoProvider'

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (error) {
    return (error as { code?: string }).code
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
    expect(codeOf(() => verifyTimestamp(token, data, { ...trust, approvedTsas: [{ cert: otherTsa.der }] }))).toBe('incorrect_validation_info')
    // A token whose signature does not come from the TSA key it names.
    const impostor = { ...pki.tsa, privateKey: otherTsa.privateKey }
    const forged = await makeTimestampToken({ data, tsa: impostor, genTime })
    expect(codeOf(() => verifyTimestamp(forged, data, trust))).toBe('invalid_signature_value')
  })
})

describeFixtures('time-stamp conformance (signatures/globalconf-impl-timestamps)', () => {
  const trust = () => verificationTrust({
    instance: 'EE', approvedCas: [], approvedTsas: [{ cert: readFixture('pki/common-test-certs/tsp.pem').toString('latin1') }],
  })

  it('valid token over stamped-data verifies; invalid-signature fails', () => {
    const data = readFixture('signatures/globalconf-impl-timestamps/stamped-data')
    const info = verifyTimestamp(readFixture('signatures/globalconf-impl-timestamps/valid'), data, trust())
    expect(info.genTime.toISOString()).toBe('2012-11-29T13:10:04.000Z')
    expect(codeOf(() => verifyTimestamp(readFixture('signatures/globalconf-impl-timestamps/invalid-signature'), data, trust()))).toBe('invalid_signature_value')
  })
})

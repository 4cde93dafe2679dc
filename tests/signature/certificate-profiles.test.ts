import { X509Certificate } from 'node:crypto'
import { readdirSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { memberId, securityServerId } from '@shared/domain/identifiers'
import { certificateProfileFor, parseCertificate, SUPPORTED_CERTIFICATE_PROFILES } from '../../src-main/signature'
import { describeFixtures } from '../support/describe-fixtures'
import { fixturePath, readFixture } from '../support/fixtures'
import { makeCertificate } from './support/test-pki'

const FI = 'ee.ria.xroad.common.certificateprofile.impl.FiVRKCertificateProfileInfoProvider'
const EJBCA = 'ee.ria.xroad.common.certificateprofile.impl.EjbcaCertificateProfileInfoProvider'
const BASIC = 'ee.ria.xroad.common.certificateprofile.impl.BasicCertificateProfileInfoProvider'
const ACME = 'ee.ria.xroad.common.certificateprofile.impl.BasicACMECertificateProfileInfoProvider'

function pemToDer(pem: string): Buffer {
  return Buffer.from(new X509Certificate(pem).raw)
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (error) {
    return (error as { code?: string }).code
  }
  return undefined
}

describe('certificate profiles', () => {
  it('knows the four X-Road providers and rejects unknown class names clearly', () => {
    expect(SUPPORTED_CERTIFICATE_PROFILES).toHaveLength(4)
    expect(certificateProfileFor('FiVRKCertificateProfileInfoProvider').javaClassName).toBe(FI)
    expect(() => certificateProfileFor('com.example.NoSuchProvider')).toThrow(/Unknown certificate profile info provider 'com.example.NoSuchProvider'/)
    expect(codeOf(() => certificateProfileFor('x.Y'))).toBe('incorrect_validation_info')
  })

  it('builds sign and auth subjects per profile', () => {
    const m = memberId('DEV', 'COM', '1234')
    const s = securityServerId(m, 'SS0')
    expect(certificateProfileFor(EJBCA).signSubject(m).map((a) => `${a.type}=${a.value}`)).toEqual(['C=DEV', 'O=COM', 'CN=1234'])
    expect(certificateProfileFor(EJBCA).authSubject(s).map((a) => `${a.type}=${a.value}`)).toEqual(['C=DEV', 'CN=SS0'])
    const fi = certificateProfileFor(FI).signSubject(m, { memberName: 'Test member', serverCode: 'SS0' })
    expect(fi.map((a) => `${a.type}=${a.value}`)).toEqual(['C=FI', 'O=Test member', 'CN=1234', 'serialNumber=DEV/SS0/COM'])
    expect(fi.find((a) => a.type === 'serialNumber')?.oid).toBe('2.5.4.5')
    expect(certificateProfileFor(FI).authSubject(s, { memberName: 'Test member' }).map((a) => `${a.type}=${a.value}`))
      .toEqual(['C=FI', 'O=Test member', 'CN=SS0', 'serialNumber=DEV/SS0/COM'])
    const basic = certificateProfileFor(BASIC).signSubject(m, { memberName: 'Acme', country: 'FI' })
    expect(basic.map((a) => `${a.type}=${a.value}`)).toEqual(['CN=Acme', 'O=Acme', 'businessCategory=COM', 'C=FI', 'serialNumber=1234'])
    expect(basic.find((a) => a.type === 'businessCategory')?.oid).toBe('2.5.4.15')
    expect(codeOf(() => certificateProfileFor(FI).signSubject(m, {}))).toBe('validation_failed')
    expect(certificateProfileFor(ACME).authSubject(s, { memberName: 'Acme', serverDnsName: 'ss0.example.org' })[0]!.value).toBe('ss0.example.org')
  })

  it('reads member ids back from generated certificates, and refuses subjects that do not fit', async () => {
    const ejbca = await makeCertificate({ subject: 'C=DEV, O=GOV, CN=777' })
    expect(certificateProfileFor(EJBCA).memberIdFromSigningCert(ejbca.der, 'IGNORED')).toEqual(memberId('DEV', 'GOV', '777'))
    const basic = await makeCertificate({ subject: 'CN=Acme, O=Acme, 2.5.4.15=COM, serialNumber=555' })
    expect(certificateProfileFor(BASIC).memberIdFromSigningCert(basic.der, 'EE')).toEqual(memberId('EE', 'COM', '555'))
    expect(codeOf(() => certificateProfileFor(BASIC).memberIdFromSigningCert(ejbca.der, 'EE'))).toBe('incorrect_certificate')
    const notFi = await makeCertificate({ subject: 'C=SE, O=Org, CN=1, serialNumber=DEV/SS/COM' })
    expect(() => certificateProfileFor(FI).memberIdFromSigningCert(notFi.der, 'DEV')).toThrow(/valid country code/)
    const badSerial = await makeCertificate({ subject: 'C=FI, O=Org, CN=1, serialNumber=DEV/COM' })
    expect(() => certificateProfileFor(FI).memberIdFromSigningCert(badSerial.der, 'DEV')).toThrow(/serialNumber has invalid value/)
    const legacy = await makeCertificate({ subject: 'C=FI, O=FI-TEST, OU=PUB, CN=1234567-8' })
    expect(certificateProfileFor(FI).memberIdFromSigningCert(legacy.der, 'X')).toEqual(memberId('FI-TEST', 'PUB', '1234567-8'))
    expect(codeOf(() => certificateProfileFor(FI).memberIdFromSigningCert(Buffer.from('junk'), 'X'))).toBe('incorrect_certificate')
  })
})

describeFixtures('certificate profiles on real X-Road certificates', () => {
  it('FI profile reads every dev-test-ca sign certificate', () => {
    const dir = fixturePath('pki/dev-test-ca/CA/newcerts')
    const profile = certificateProfileFor(FI)
    const seen: string[] = []
    for (const name of readdirSync(dir)) {
      const der = pemToDer(readFixture('pki/dev-test-ca/CA/newcerts', name).toString('latin1'))
      const subject = parseCertificate(der).subject
      const serial = subject.find((a) => a.type === 'serialNumber')?.value
      if (serial === undefined) continue
      const id = profile.memberIdFromSigningCert(der, 'ignored')
      const [instance, , memberClass] = serial.split('/')
      expect(id).toEqual(memberId(instance!, memberClass!, subject.find((a) => a.type === 'CN')!.value))
      seen.push(`${id.xRoadInstance}/${id.memberClass}/${id.memberCode}`)
    }
    expect(seen).toContain('CS/ORG/2908758-4')
    expect(seen.length).toBeGreaterThan(10)
  })

  it('FI profile reads the SS0 sign certificate of keyconf.xml as DEV/COM/1234', () => {
    const keyconf = readFixture('pki/ss0-softtoken/keyconf.xml').toString('utf8')
    const signKey = keyconf.slice(keyconf.indexOf('usage="SIGNING"'))
    const der = Buffer.from(/<contents>([^<]+)<\/contents>/.exec(signKey)![1]!, 'base64')
    expect(certificateProfileFor(FI).memberIdFromSigningCert(der, 'DEV')).toEqual(memberId('DEV', 'COM', '1234'))
    expect(parseCertificate(der).issuerRfc2253).toBe('CN=Test CA,O=Test')
  })
})

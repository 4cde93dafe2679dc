import { existsSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { memberId, securityServerId, subsystemId, globalGroupId } from '@shared/domain/identifiers'
import { initLab, openLab } from '../../src-main/lab'
import { SecurityServerError } from '../../src-main/platform'
import { makeCsr, openssl, tempDirs, writeTemp } from './lab-test-support'

const temp = tempDirs()
afterAll(() => temp.cleanup())

describe('lab init', () => {
  it('creates a CA, OCSP and TSA certificates that OpenSSL verifies, keys 0600 and both anchors', async () => {
    const dir = temp.make()
    const result = await initLab(dir, { instance: 'LAB', keyAlgorithm: 'ec-p256' })
    expect(result.anchorSha256).toMatch(/^[0-9A-F]{64}$/)
    for (const cert of ['ca.pem', 'ocsp.pem', 'tsa.pem']) {
      const r = openssl(['verify', '-CAfile', join(dir, 'ca.pem'), join(dir, cert)])
      expect(r.stdout + r.stderr).toContain(': OK')
    }
    const ca = openssl(['x509', '-in', join(dir, 'ca.pem'), '-noout', '-text']).stdout
    expect(ca).toMatch(/Basic Constraints: critical\s+CA:TRUE/)
    expect(ca).toMatch(/Key Usage: critical\s+Certificate Sign, CRL Sign/)
    const tsa = openssl(['x509', '-in', join(dir, 'tsa.pem'), '-noout', '-text']).stdout
    expect(tsa).toMatch(/Extended Key Usage: critical\s+Time Stamping/)
    const ocsp = openssl(['x509', '-in', join(dir, 'ocsp.pem'), '-noout', '-text']).stdout
    expect(ocsp).toMatch(/Extended Key Usage:\s+OCSP Signing/)
    expect(ocsp).toContain('OCSP No Check')
    for (const key of ['ca', 'ocsp', 'tsa', 'conf-internal', 'conf-external']) {
      const path = join(dir, 'keys', `${key}.key.pem`)
      expect(readFileSync(path, 'utf8')).toContain('BEGIN PRIVATE KEY')
      expect(statSync(path).mode & 0o777).toBe(0o600)
    }
    const anchor = readFileSync(join(dir, 'anchor.xml'), 'utf8')
    expect(anchor).toContain('<ns3:configurationAnchor xmlns:ns2="http://x-road.eu/xsd/identifiers" xmlns:ns3="http://x-road.eu/xsd/xroad.xsd">')
    expect(anchor).toMatch(/<instanceIdentifier>LAB<\/instanceIdentifier>/)
    expect(anchor).toMatch(/<downloadURL>http:\/\/127\.0\.0\.1:\d+\/internalconf<\/downloadURL>/)
    const external = readFileSync(join(dir, 'anchor-external.xml'), 'utf8')
    expect(external).toMatch(/\/externalconf<\/downloadURL>/)
    const internalCert = /<verificationCert>([^<]+)</.exec(anchor)?.[1] ?? ''
    const text = openssl(['x509', '-inform', 'DER', '-noout', '-subject'], Buffer.from(internalCert, 'base64')).stdout
    expect(text).toContain('internalSigningKey')
  })

  it('refuses to re-run on an existing lab unless forced, and --force replaces the CA', async () => {
    const dir = temp.make()
    await initLab(dir, { keyAlgorithm: 'ec-p256' })
    const before = readFileSync(join(dir, 'ca.pem'), 'utf8')
    await expect(initLab(dir, { keyAlgorithm: 'ec-p256' })).rejects.toMatchObject({ code: 'already_initialized' })
    expect(readFileSync(join(dir, 'ca.pem'), 'utf8')).toBe(before)
    await initLab(dir, { keyAlgorithm: 'ec-p256', force: true, instance: 'LAB2' })
    expect(readFileSync(join(dir, 'ca.pem'), 'utf8')).not.toBe(before)
    const lab = openLab(dir)
    try {
      expect(lab.instance).toBe('LAB2')
    } finally {
      lab.close()
    }
  })

  it('builds an RSA-3072 lab whose certificates verify', async () => {
    const dir = temp.make()
    await initLab(dir, { keyAlgorithm: 'rsa-3072' })
    const r = openssl(['verify', '-CAfile', join(dir, 'ca.pem'), join(dir, 'tsa.pem'), join(dir, 'ocsp.pem')])
    expect(r.stdout).toContain('tsa.pem: OK')
    expect(r.stdout).toContain('ocsp.pem: OK')
    expect(openssl(['x509', '-in', join(dir, 'ca.pem'), '-noout', '-text']).stdout).toContain('Public-Key: (3072 bit)')
  })

  it('refuses an unknown instance code and a directory that is not a lab', async () => {
    expect(() => openLab(temp.make())).toThrow(/is not a lab/)
    await expect(initLab(temp.make(), { instance: 'A/B' })).rejects.toMatchObject({ code: 'invalid_identifier' })
  })
})

describe('lab registrations', () => {
  it('issues sign and auth certificates per the EJBCA profile and registers servers, clients and groups', async () => {
    const dir = temp.make()
    await initLab(dir, { keyAlgorithm: 'ec-p256' })
    const lab = openLab(dir)
    try {
      lab.addMember(memberId('LAB', 'GOV', '1234'), 'Agency')
      lab.addMember(memberId('LAB', 'GOV', '1234'), 'Agency', 'SUB1')
      lab.addMember(memberId('LAB', 'COM', '555'), 'Company', 'CLIENT')
      expect(() => lab.addMember(memberId('LAB', 'GOV', '1234'), 'Again')).toThrow(SecurityServerError)
      expect(() => lab.addMember(memberId('LAB', 'XYZ', '1'), 'Bad class')).toThrow(/Unknown member class/)
      expect(() => lab.addMember(memberId('OTHER', 'GOV', '1'), 'Other')).toThrow(/not this lab's instance/)

      const signCsr = await makeCsr('C=LAB, O=GOV, CN=1234')
      const sign = await lab.issueCertificate(signCsr.pem, 'sign')
      const signPath = writeTemp(dir, 'sign.pem', sign.pem)
      expect(openssl(['verify', '-CAfile', join(dir, 'ca.pem'), signPath]).stdout).toContain(': OK')
      const signText = openssl(['x509', '-in', signPath, '-noout', '-text']).stdout
      expect(signText).toMatch(/Subject: C\s?=\s?LAB, O\s?=\s?GOV, CN\s?=\s?1234/)
      expect(signText).toMatch(/Key Usage: critical\s+Non Repudiation/)

      const authCsr = await makeCsr('C=LAB, CN=SS1', 'rsa')
      const auth = await lab.issueCertificate(authCsr.der, 'auth')
      const authPath = writeTemp(dir, 'auth.pem', auth.pem)
      expect(openssl(['verify', '-CAfile', join(dir, 'ca.pem'), authPath]).stdout).toContain(': OK')
      const authText = openssl(['x509', '-in', authPath, '-noout', '-text']).stdout
      expect(authText).toMatch(/Key Usage: critical\s+Digital Signature, Key Encipherment/)
      expect(authText).toMatch(/Extended Key Usage:\s+TLS Web Client Authentication, TLS Web Server Authentication/)

      // The CSR is checked, not trusted: unregistered member, foreign instance, extra attributes, missing CN.
      await expect(lab.issueCertificate((await makeCsr('C=LAB, O=GOV, CN=9999')).pem, 'sign')).rejects.toMatchObject({ code: 'unknown_member' })
      await expect(lab.issueCertificate((await makeCsr('C=EE, O=GOV, CN=1234')).pem, 'sign')).rejects.toMatchObject({ code: 'invalid_identifier' })
      await expect(lab.issueCertificate((await makeCsr('C=LAB, O=GOV, CN=1234, OU=x')).pem, 'sign')).rejects.toMatchObject({ code: 'validation_failed' })
      await expect(lab.issueCertificate((await makeCsr('C=LAB, O=GOV')).pem, 'sign')).rejects.toMatchObject({ code: 'validation_failed' })
      await expect(lab.issueCertificate('not a csr', 'sign')).rejects.toMatchObject({ code: 'bad_request' })

      const owner = memberId('LAB', 'GOV', '1234')
      expect(() => lab.addSecurityServer(owner, 'SS1', '127.0.0.1', sign.der)).toThrow(/not an authentication certificate/)
      expect(() => lab.addSecurityServer(owner, 'SS2', '127.0.0.1', auth.der)).toThrow(/server code 'SS1'/)
      const { authCertHash } = lab.addSecurityServer(owner, 'SS1', '127.0.0.1', auth.pem)
      const server = securityServerId(owner, 'SS1')
      lab.addClient(server, subsystemId('LAB', 'GOV', '1234', 'SUB1'))
      lab.addClient(server, subsystemId('LAB', 'COM', '555', 'CLIENT'))
      expect(() => lab.addClient(server, subsystemId('LAB', 'GOV', '1234', 'SUB1'))).toThrow(/already a client/)
      expect(() => lab.addClient(server, subsystemId('LAB', 'GOV', '1234', 'NOPE'))).toThrow(/not registered/)
      lab.addGlobalGroup(globalGroupId('LAB', 'owners'), 'Server owners')
      lab.addGlobalGroupMember('owners', owner)
      expect(() => lab.addGlobalGroupMember('missing', owner)).toThrow(/does not exist/)

      const conf = lab.regenerateConfiguration()
      const shared = readFileSync(conf.sharedParams, 'utf8')
      expect(shared).toContain(`<authCertHash>${authCertHash}</authCertHash>`)
      expect(shared).toMatch(/<securityServer><owner>id0<\/owner><serverCode>SS1<\/serverCode><address>127\.0\.0\.1<\/address><authCertHash>[^<]+<\/authCertHash><client>id1<\/client><client>id3<\/client><\/securityServer>/)
      expect(shared).toContain('<groupMember ns2:objectType="MEMBER"><ns2:xRoadInstance>LAB</ns2:xRoadInstance><ns2:memberClass>GOV</ns2:memberClass><ns2:memberCode>1234</ns2:memberCode></groupMember>')
      expect(shared).toContain('<certificateProfileInfo>ee.ria.xroad.common.certificateprofile.impl.EjbcaCertificateProfileInfoProvider</certificateProfileInfo>')

      const revoked = lab.revoke(sign.pem)
      expect(revoked.alreadyRevoked).toBe(false)
      expect(lab.certificateStatus(sign.serial)).toMatchObject({ status: 'revoked' })
      expect(lab.revoke(sign.der).alreadyRevoked).toBe(true)
      expect(lab.certificateStatus(auth.serial)).toEqual({ status: 'good' })
      expect(() => lab.revoke(readFileSync(join(dir, 'conf-internal.pem')))).toThrow(/not issued by this lab CA/)
      expect(existsSync(conf.internalconf)).toBe(true)
    } finally {
      lab.close()
    }
  })
})

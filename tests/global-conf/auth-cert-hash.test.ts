import { createHash } from 'node:crypto'
import { expect, it } from 'vitest'
import { memberId, securityServerId } from '@shared/domain/identifiers'
import { GlobalConf, parseSharedParameters, readConfigurationDirectory } from '../../src-main/global-conf'
import { describeFixtures } from '../support/describe-fixtures'
import { fixturePath, readFixture } from '../support/fixtures'

const pemToDer = (pem: Buffer): Buffer => Buffer.from(pem.toString('latin1').replace(/-----[^-]+-----|\s+/g, ''), 'base64')
const cert = (name: string): Buffer => pemToDer(readFixture('pki', 'common-test-certs', `${name}.pem`))
const V2_DIR = ['globalconf', 'parsed-dirs', 'globalconf_good_v2'] as const

/**
 * Issue 17 item 14: `authCertHash` in a V2 configuration is the SHA-1 of the certificate (X-Road
 * `SharedParametersV2Converter`, `GlobalConfImpl.calculateCertHash`); X-Road's GlobalConfTest over globalconf_good_v2
 * with the common-test producer and consumer certificates, case for case.
 */
describeFixtures('authentication-certificate hashes of a V2 configuration (SHA-1)', () => {
  const conf = (): GlobalConf => new GlobalConf(readConfigurationDirectory(fixturePath(...V2_DIR)))
  const producer = memberId('EE', 'BUSINESS', 'producer')
  const consumer = memberId('EE', 'BUSINESS', 'consumer')

  it('authCertMatchesMember (GlobalConfTest.authCertMatchesMember)', () => {
    const c = conf()
    expect(c.getSharedParameters('EE')?.version).toBe(2)
    expect(c.authCertMatchesMember(cert('producer'), producer)).toBe(true)
    expect(c.authCertMatchesMember(cert('consumer'), producer)).toBe(false)
    expect(c.authCertMatchesMember(cert('producer'), consumer)).toBe(false)
    expect(c.authCertMatchesMember(cert('consumer'), consumer)).toBe(true)
  })

  it('finds the server of an authentication certificate (GlobalConfTest.getServerId)', () => {
    const c = conf()
    expect(c.getServerByAuthCert(cert('producer'))?.id).toEqual(securityServerId(memberId('EE', 'BUSINESS', 'foo'), 'fooServerCode'))
    expect(c.isSecurityServerAuthCert(cert('producer'))).toBe(true)
    expect(c.authCertHashMatches(securityServerId(memberId('EE', 'BUSINESS', 'foo'), 'fooServerCode'), cert('producer'))).toBe(true)
    expect(c.isSecurityServerAuthCert(cert('client'))).toBe(false)
  })

  it('compares a V3 configuration\'s hashes as SHA-256: the same SHA-1 values match nothing there', () => {
    const xml = readFixture(...V2_DIR, 'EE', 'shared-params.xml').toString('utf8')
      .replace('</instanceIdentifier>', '</instanceIdentifier><source><address>cs.example</address></source>')
    const v2 = parseSharedParameters(xml, 2)
    const v3 = parseSharedParameters(xml, 3)
    expect(v2.securityServers.every((s) => s.authCertHashAlgorithm === 'sha1')).toBe(true)
    expect(v3.securityServers.every((s) => s.authCertHashAlgorithm === 'sha256')).toBe(true)
    const snapshot = readConfigurationDirectory(fixturePath(...V2_DIR))
    const withV3 = new GlobalConf({ ...snapshot, instances: new Map([...snapshot.instances].map(([k, i]) => [k, k === 'EE' ? { ...i, shared: v3 } : i])) })
    expect(withV3.authCertMatchesMember(cert('producer'), producer)).toBe(false)
    expect(withV3.isSecurityServerAuthCert(cert('producer'))).toBe(false)
  })

  it('finds a certificate registered in two instances under different hash algorithms at the server a scan meets first', () => {
    const snapshot = readConfigurationDirectory(fixturePath(...V2_DIR))
    const ee = snapshot.instances.get('EE')!
    const sha256 = createHash('sha256').update(cert('producer')).digest('base64')
    // A V3 instance whose first server registered the producer's certificate by its SHA-256.
    const fiShared = { ...ee.shared, instanceIdentifier: 'FI', version: 3, securityServers: ee.shared.securityServers.map((s, i) => ({
      ...s, id: { ...s.id, xRoadInstance: 'FI' }, serverCode: `fi-${s.serverCode}`, authCertHashAlgorithm: 'sha256' as const, authCertHashes: i === 0 ? [sha256] : [],
    })) }
    const fi: typeof ee = { ...ee, shared: fiShared as typeof ee.shared }
    const inOrder = (order: string[]): GlobalConf => new GlobalConf({ ...snapshot, instances: new Map(order.map((k) => [k, k === 'FI' ? fi : ee])) })
    expect(inOrder(['EE', 'FI']).getServerByAuthCert(cert('producer'))?.serverCode).toBe('fooServerCode')
    expect(inOrder(['FI', 'EE']).getServerByAuthCert(cert('producer'))?.serverCode).toBe(`fi-${ee.shared.securityServers[0]!.serverCode}`)
    expect(inOrder(['FI', 'EE']).getServerByAuthCert(cert('client'))).toBeUndefined()
    // The index is the snapshot's: asked again, the same answer.
    const conf = inOrder(['FI', 'EE'])
    expect(conf.getServerByAuthCert(cert('producer'))).toBe(conf.getServerByAuthCert(cert('producer')))
  })
})

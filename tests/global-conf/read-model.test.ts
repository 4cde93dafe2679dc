import { readdirSync, readFileSync } from 'node:fs'
import { createHash, X509Certificate } from 'node:crypto'
import { beforeAll, expect, it } from 'vitest'
import {
  globalGroupId, memberId, securityServerId, subsystemId,
} from '@shared/domain/identifiers'
import {
  GlobalConf, parseFetchIntervalParameters, parseMonitoringParameters, parseNextUpdateParameters,
  parsePrivateParameters, parseSharedParameters, readConfigurationDirectory,
} from '../../src-main/global-conf'
import { SecurityServerError } from '../../src-main/platform'
import { describeFixtures } from '../support/describe-fixtures'
import { fixturePath, listFixtures, readFixture } from '../support/fixtures'

const PARSED = ['globalconf', 'parsed-dirs']
const pemToDer = (pem: string): Buffer => Buffer.from(pem.replace(/-----[^-]+-----|\s+/g, ''), 'base64')

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (error) {
    return error instanceof SecurityServerError ? error.code : `not coded: ${String(error)}`
  }
  return undefined
}

describeFixtures('global configuration read model (parsed-dirs fixtures)', () => {
  const goodSets = listFixtures(...PARSED).filter((n) => n.includes('good'))

  it('finds the good sets', () => {
    expect(goodSets.length).toBeGreaterThanOrEqual(6)
  })

  for (const name of goodSets) {
    it(`parses ${name}`, () => {
      const snapshot = readConfigurationDirectory(fixturePath(...PARSED, name))
      const own = readFileSync(fixturePath(...PARSED, name, 'instance-identifier'), 'utf8').trim()
      expect(snapshot.instanceIdentifier).toBe(own)
      expect(snapshot.instances.get(own)?.shared.instanceIdentifier).toBe(own)
      const dirs = readdirSync(fixturePath(...PARSED, name), { withFileTypes: true }).filter((d) => d.isDirectory())
      expect(snapshot.instances.size).toBe(dirs.length)
    })
  }

  it('reads versions, expiry and multi-instance content of globalconf_good_v6', () => {
    const snapshot = readConfigurationDirectory(fixturePath(...PARSED, 'globalconf_good_v6'))
    expect(snapshot.instances.get('EE')?.shared.version).toBe(6)
    expect(snapshot.instances.get('qux_v4')?.shared.version).toBe(4)
    expect(snapshot.instances.get('EE')?.private?.timeStampingIntervalSeconds).toBe(123)
    expect(snapshot.instances.get('EE')?.private?.configurationAnchors[0]?.instanceIdentifier).toBe('bar')
    expect(snapshot.expiresAt?.toISOString()).toBe('2124-05-20T17:42:55.000Z')
    const conf = new GlobalConf(snapshot)
    expect(conf.isExpired(new Date('2124-05-20T17:42:54Z'))).toBe(false)
    expect(conf.isExpired(new Date('2124-05-20T17:42:56Z'))).toBe(true)
    expect(codeOf(() => conf.assertValid(new Date('2125-01-01T00:00:00Z')))).toBe('global_conf_outdated')
    expect(() => conf.assertValid(new Date('2030-01-01T00:00:00Z'))).not.toThrow()
  })

  it('parses V2 shared parameters with SHA-1 auth-cert hashes, groups and central services', () => {
    const shared = parseSharedParameters(readFixture(...PARSED, 'globalconf_good_v2', 'EE', 'shared-params.xml'), 2)
    expect(shared.version).toBe(2)
    expect(shared.ocspFreshnessSeconds).toBe(42)
    expect(shared.approvedCas.map((c) => c.name)).toContain('pki5 with intermediate certs')
    const pki5 = shared.approvedCas.find((c) => c.name === 'pki5 with intermediate certs')
    expect(pki5?.intermediateCas).toHaveLength(3)
    expect(pki5?.authenticationOnly).toBe(true)
    expect(new X509Certificate(pki5?.topCa.cert as Uint8Array).subject).toContain('O=')
    const producer = shared.securityServers.find((s) => s.serverCode === 'producerServerCode')
    expect(producer?.authCertHashAlgorithm).toBe('sha1')
    expect(producer?.owner).toEqual(memberId('EE', 'BUSINESS', 'producer'))
    expect(producer?.clients).toContainEqual(subsystemId('EE', 'BUSINESS', 'foo', 'foosubsystem'))
    expect(shared.globalGroups[0]?.members).toContainEqual(subsystemId('EE', 'BUSINESS', 'member1', 'subsys'))
    expect(shared.centralServices[0]?.implementingService?.serviceCode).toBe('bazservice')
  })

  it('answers security-server lookups over globalconf_good_v2', () => {
    const conf = new GlobalConf(readConfigurationDirectory(fixturePath(...PARSED, 'globalconf_good_v2')))
    const foo = memberId('EE', 'BUSINESS', 'foo')
    expect(conf.getSecurityServers(foo).map((s) => s.serverCode).sort()).toEqual(['FooBarServerCode', 'fooServerCode', 'producerServerCode'])
    expect(conf.getSecurityServers(subsystemId('EE', 'BUSINESS', 'foo', 'foosubsystem')).map((s) => s.serverCode)).toEqual(['producerServerCode'])
    expect(conf.getSecurityServers(memberId('EE', 'BUSINESS', 'nobody'))).toEqual([])
    expect(conf.getServerById(securityServerId(foo, 'fooServerCode'))?.address).toBeUndefined()
    expect(conf.isMemberOrSubsystem(subsystemId('EE', 'BUSINESS', 'foo', 'foosubsystem'))).toBe(true)
    expect(conf.isMemberOrSubsystem(subsystemId('EE', 'BUSINESS', 'foo', 'other'))).toBe(false)
    expect(conf.isInGlobalGroup(memberId('EE', 'BUSINESS', 'member2'), globalGroupId('EE', 'Test group'))).toBe(true)
    expect(conf.isInGlobalGroup(memberId('EE', 'BUSINESS', 'member9'), globalGroupId('EE', 'Test group'))).toBe(false)
    expect(conf.ocspFreshnessSeconds).toBe(42)
  })

  it('rejects the malformed set and the set without instance-identifier', () => {
    expect(codeOf(() => readConfigurationDirectory(fixturePath(...PARSED, 'globalconf_malformed')))).toBe('malformed_global_conf')
    expect(() => readConfigurationDirectory(fixturePath(...PARSED, 'globalconf_missing_identifier'))).toThrow(/instance-identifier/)
    expect(() => readConfigurationDirectory(fixturePath(...PARSED, 'globalconf_empty'))).toThrow(/own instance EE/)
  })

  it('parses the optional parts and rejects invalid ones', () => {
    const read = (n: string): Buffer => readFixture(...PARSED, n)
    expect(parseMonitoringParameters(read('valid-monitoring-params.xml'))).toEqual(memberId('fdev', 'GOV', '66655666'))
    expect(parseMonitoringParameters(read('empty-monitoring-params.xml'))).toBeUndefined()
    expect(codeOf(() => parseMonitoringParameters(read('invalid-monitoring-params.xml')))).toBe('malformed_optional_parts_conf')
    expect(parseFetchIntervalParameters(read('valid-fetchinterval-params.xml'))).toBe(500)
    expect(parseFetchIntervalParameters(read('empty-fetchinterval-params.xml'))).toBe(1200)
    expect(codeOf(() => parseFetchIntervalParameters(read('invalid-fetchinterval-params.xml')))).toBe('malformed_optional_parts_conf')
    expect(parseNextUpdateParameters(read('valid-nextupdate-params.xml'))).toBe(false)
    expect(parseNextUpdateParameters(read('empty-nextupdate-params.xml'))).toBe(true)
    expect(codeOf(() => parseNextUpdateParameters(read('invalid-nextupdate-params.xml')))).toBe('malformed_optional_parts_conf')
  })
})

describeFixtures('global configuration read model (V6 DEV, real CS output)', () => {
  const dir = ['globalconf', 'dev-signed-V3-V6', 'public', 'V6']
  let shared: ReturnType<typeof parseSharedParameters>
  let priv: ReturnType<typeof parsePrivateParameters>
  beforeAll(() => {
    const stamp = listFixtures(...dir).find((n) => /^\d+$/.test(n)) as string
    shared = parseSharedParameters(readFixture(...dir, stamp, 'shared-params.xml'), 6)
    priv = parsePrivateParameters(readFixture(...dir, stamp, 'private-params.xml'), 3)
  })

  it('decodes base64-of-PEM certificates to DER and reads V6 fields', () => {
    const ca = shared.approvedCas.find((c) => c.name === 'Test CA')
    expect(shared.approvedCas.find((c) => c.name === 'New CA')?.defaultCsrFormat).toBe('PEM')
    expect(ca?.defaultCsrFormat).toBeUndefined()
    const caPem = readFixture('pki', 'dev-test-ca', 'CA', 'certs', 'ca.cert.pem').toString('utf8')
    expect(Buffer.from(ca?.topCa.cert as Uint8Array).equals(pemToDer(caPem))).toBe(true)
    expect(ca?.topCa.ocsp[0]).toMatchObject({ url: 'http://testca:8888', costType: 'FREE' })
    expect(ca?.certificateProfileInfo).toMatch(/FiVRKCertificateProfileInfoProvider$/)
    expect(ca?.acmeServer?.directoryUrl).toBe('http://testca:8887')
    expect(shared.approvedTsas[0]).toMatchObject({ name: 'Test TSA', url: 'http://testca:8899', costType: 'FREE' })
    expect(shared.members[0]?.subsystems[0]?.name).toBe('Management services')
    expect(shared.sources[0]?.address).toBe('cs')
    expect(priv.managementService.managementRequestServiceProviderId).toEqual(subsystemId('DEV', 'COM', '1234', 'MANAGEMENT'))
    expect(priv.timeStampingIntervalSeconds).toBe(60)
  })

  it('matches SS0 by the SHA-256 of its auth certificate and finds the issuing CA and OCSP responder', () => {
    const snapshot = {
      instanceIdentifier: 'DEV',
      instances: new Map([['DEV', { instanceIdentifier: 'DEV', shared, private: priv }]]),
      ocspFetchIntervalSeconds: 1200,
      verifyNextUpdate: true,
    }
    const conf = new GlobalConf(snapshot)
    const keyconf = readFixture('pki', 'ss0-softtoken', 'keyconf.xml').toString('utf8')
    const certs = [...keyconf.matchAll(/<contents>([A-Za-z0-9+/=\s]+)<\/contents>/g)].map((m) => Buffer.from((m[1] as string).replace(/\s+/g, ''), 'base64'))
    const ss0 = securityServerId(memberId('DEV', 'COM', '1234'), 'SS0')
    const auth = certs.find((c) => createHash('sha256').update(c).digest('base64') === '7Meh1uzLrM0z4DWhf30PPzICihqTHGgRSmWczyAIWB8=')
    expect(auth).toBeDefined()
    expect(conf.authCertHashMatches(ss0, auth as Buffer)).toBe(true)
    expect(conf.authCertHashMatches(securityServerId(memberId('DEV', 'COM', '4321'), 'SS1'), auth as Buffer)).toBe(false)
    expect(conf.getServerByAuthCert(auth as Buffer)?.serverCode).toBe('SS0')
    const match = conf.getApprovedCaFor(auth as Buffer)
    expect(match?.ca.name).toBe('Test CA')
    expect(conf.getOcspResponders(match?.issuerCert as Uint8Array).map((o) => o.url)).toEqual(['http://testca:8888'])
    expect(conf.getOcspResponders(auth as Buffer)).toEqual([])
    expect(conf.getTsas()).toHaveLength(1)
    expect(conf.getSecurityServers(subsystemId('DEV', 'COM', '4321', 'TestClient')).map((s) => s.serverCode).sort()).toEqual(['SS0', 'SS1'])
  })
})

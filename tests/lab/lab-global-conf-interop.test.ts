import { readFileSync } from 'node:fs'
import { afterAll, describe, expect, it } from 'vitest'
import { memberId, securityServerId, subsystemId } from '@shared/domain/identifiers'
import { initLab, openLab } from '../../src-main/lab'
import { parseConfigurationAnchor, parsePrivateParameters, parseSharedParameters, partsRootReader, verifySignedDirectory } from '../../src-main/global-conf'
import { makeCsr, tempDirs } from './lab-test-support'

const temp = tempDirs()
afterAll(() => temp.cleanup())

describe('lab output read by the global-configuration client', () => {
  it('verifies internal and external directories with the anchors and parses the parameters', async () => {
    const dir = temp.make()
    await initLab(dir, { keyAlgorithm: 'ec-p256' })
    const lab = openLab(dir)
    try {
      const owner = memberId('LAB', 'GOV', '1234')
      lab.addMember(owner, 'Agency', 'SUB1')
      const auth = await lab.issueCertificate((await makeCsr('C=LAB, CN=SS1')).pem, 'auth')
      const { authCertHash } = lab.addSecurityServer(owner, 'SS1', 'ss1.example', auth.der)
      lab.addClient(securityServerId(owner, 'SS1'), subsystemId('LAB', 'GOV', '1234', 'SUB1'))
      const conf = lab.regenerateConfiguration()
      for (const [anchorFile, directory, parts] of [
        [lab.paths.anchor, conf.internalconf, 2],
        [lab.paths.anchorExternal, conf.externalconf, 1],
      ] as const) {
        const anchor = parseConfigurationAnchor(readFileSync(anchorFile))
        expect(anchor.instanceIdentifier).toBe('LAB')
        const verified = verifySignedDirectory(readFileSync(directory), {
          verificationCerts: anchor.sources.flatMap((s) => s.verificationCerts),
          now: new Date(),
          readPart: partsRootReader(lab.paths.publicRoot),
        })
        expect(verified.parts).toHaveLength(parts)
        expect(() =>
          verifySignedDirectory(readFileSync(directory), {
            verificationCerts: anchor.sources.flatMap((s) => s.verificationCerts),
            now: new Date(conf.expireDate.getTime() + 1000),
          }),
        ).toThrow(/expired/)
      }
      const shared = parseSharedParameters(readFileSync(conf.sharedParams), 6)
      expect(shared.instanceIdentifier).toBe('LAB')
      expect(shared.securityServers[0]?.serverCode).toBe('SS1')
      expect(JSON.stringify(shared.securityServers[0])).toContain(authCertHash)
      expect(shared.approvedCas).toHaveLength(1)
      expect(shared.approvedTsas).toHaveLength(1)
      expect(shared.memberClasses.map((c) => c.code)).toEqual(['COM', 'GOV', 'ORG'])
      const priv = parsePrivateParameters(readFileSync(conf.privateParams), 3)
      expect(priv.instanceIdentifier).toBe('LAB')
    } finally {
      lab.close()
    }
  })
})

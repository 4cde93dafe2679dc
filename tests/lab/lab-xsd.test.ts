import { spawnSync } from 'node:child_process'
import { cpSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, expect } from 'vitest'
import { globalGroupId, memberId, securityServerId, subsystemId } from '@shared/domain/identifiers'
import { initLab, openLab } from '../../src-main/lab'
import { fixturePath } from '../support/fixtures'
import { describeFixtures } from '../support/describe-fixtures'
import { XMLLINT, itWith } from '../support/requirements'
import { makeCsr, tempDirs } from './lab-test-support'

const temp = tempDirs()
afterAll(() => temp.cleanup())

/**
 * X-Road's globalconf XSDs import `../../identifiers.xsd`; the fixtures keep that schema in common-domain, so the
 * set is assembled in a temporary folder (outside the project) with the relative paths the XSDs expect.
 */
function schemaSet(): { shared: string; private: string } {
  const root = join(temp.make('gatehouse-xsd-'), 'schemas')
  cpSync(fixturePath('schemas/globalconf/globalconf'), join(root, 'globalconf'), { recursive: true })
  cpSync(fixturePath('schemas/common-domain/identifiers.xsd'), join(root, 'identifiers.xsd'))
  return { shared: join(root, 'globalconf/v6/shared-parameters.xsd'), private: join(root, 'globalconf/v3/private-parameters.xsd') }
}

/** Validates `file` against one of X-Road's own XSDs with libxml2 (no one here wrote either). */
function xmllint(schema: string, file: string): { status: number | null; output: string } {
  const result = spawnSync('xmllint', ['--noout', '--nonet', '--schema', schema, file], { encoding: 'utf8', timeout: 20_000 })
  return { status: result.status, output: `${result.stdout}${result.stderr}` }
}

describeFixtures('lab configuration against X-Road XSDs', () => {
  itWith([XMLLINT], 'shared parameters V6 and private parameters V3 validate (xmllint)', async () => {
    const dir = temp.make()
    await initLab(dir, { keyAlgorithm: 'ec-p256' })
    const lab = openLab(dir)
    try {
      const owner = memberId('LAB', 'GOV', '1234')
      lab.addMember(owner, 'Provider Agency', 'SUB1')
      lab.addMember(memberId('LAB', 'COM', '5678'), 'Consumer Ltd', 'APP')
      const auth = await lab.issueCertificate((await makeCsr('C=LAB, CN=SS1')).pem, 'auth')
      lab.addSecurityServer(owner, 'SS1', '127.0.0.1:5500', auth.der)
      lab.addClient(securityServerId(owner, 'SS1'), subsystemId('LAB', 'GOV', '1234', 'SUB1'))
      lab.addClient(securityServerId(owner, 'SS1'), subsystemId('LAB', 'COM', '5678', 'APP'))
      lab.addGlobalGroup(globalGroupId('LAB', 'partners'), 'Partner organisations')
      lab.addGlobalGroupMember('partners', subsystemId('LAB', 'COM', '5678', 'APP'))
      // The management service's TLS certificate, published as authCertRegServiceCert (pr-mserv §2.3).
      await lab.managementTlsCredentials()
      const conf = lab.regenerateConfiguration()
      expect(readFileSync(conf.privateParams, 'utf8')).toMatch(/<authCertRegServiceAddress>[^<]+<\/authCertRegServiceAddress><authCertRegServiceCert>[A-Za-z0-9+/=]+<\/authCertRegServiceCert>/)
      const schemas = schemaSet()
      const shared = xmllint(schemas.shared, conf.sharedParams)
      expect(shared.output).toContain('validates')
      expect(shared.status).toBe(0)
      const priv = xmllint(schemas.private, conf.privateParams)
      expect(priv.output).toContain('validates')
      expect(priv.status).toBe(0)

      // The same check refuses a document that lost a required element, so a pass above means something.
      const broken = join(temp.make(), 'shared-params.xml')
      writeFileSync(broken, readFileSync(conf.sharedParams, 'utf8').replace(/<instanceIdentifier>[^<]*<\/instanceIdentifier>/, ''))
      expect(xmllint(schemas.shared, broken).status).not.toBe(0)
    } finally {
      lab.close()
    }
  })
})

import { readFileSync } from 'node:fs'
import { afterAll, describe, expect, it } from 'vitest'
import { memberId, securityServerId, subsystemId } from '@shared/domain/identifiers'
import { initLab, openLab } from '../../src-main/lab'
import { parseSharedParameters } from '../../src-main/global-conf'
import { makeCsr, tempDirs } from './lab-test-support'

/** What approving a client registration in a lab hosted here needs: which members and subsystems the lab knows, and a server's clients as the shared parameters list them. */
const temp = tempDirs()
afterAll(() => temp.cleanup())

describe('lab clients of a security server', () => {
  it('says which members and subsystems it knows; adding and removing a client regenerates the configuration', async () => {
    const dir = temp.make()
    await initLab(dir, { keyAlgorithm: 'ec-p256' })
    const lab = openLab(dir)
    try {
      const owner = memberId('LAB', 'GOV', '1234')
      const sub = subsystemId('LAB', 'GOV', '1234', 'SUB1')
      const server = securityServerId(owner, 'SS1')
      expect(lab.isRegistered(owner)).toBe(false)
      lab.addMember(owner, 'Agency', 'SUB1')
      expect(lab.isRegistered(owner)).toBe(true)
      expect(lab.isRegistered(sub)).toBe(true)
      expect(lab.isRegistered(subsystemId('LAB', 'GOV', '1234', 'OTHER'))).toBe(false)
      expect(lab.isRegistered(subsystemId('ELSE', 'GOV', '1234', 'SUB1'))).toBe(false)
      lab.addSecurityServer(owner, 'SS1', '127.0.0.1', (await lab.issueCertificate((await makeCsr('C=LAB, CN=SS1')).pem, 'auth')).der)
      lab.addClient(server, sub)
      const clients = (): string[] => {
        const shared = parseSharedParameters(readFileSync(lab.regenerateConfiguration().sharedParams))
        return (shared.securityServers[0]?.clients ?? []).map((c) => (c.objectType === 'SUBSYSTEM' ? c.subsystemCode : c.memberCode))
      }
      expect(clients()).toEqual(['SUB1'])

      lab.removeClient(server, sub)
      expect(clients()).toEqual([])
      expect(() => lab.removeClient(server, sub)).toThrow(expect.objectContaining({ code: 'not_found' }))
      lab.addClient(server, sub)
      expect(clients()).toEqual(['SUB1'])
    } finally {
      lab.close()
    }
  })
})

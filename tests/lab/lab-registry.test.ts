import 'reflect-metadata'
import { readFileSync } from 'node:fs'
import { webcrypto } from 'node:crypto'
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest'
import * as x509 from '@peculiar/x509'
import { encodeIdentifier, globalGroupId, memberId, securityServerId, subsystemId } from '@shared/domain/identifiers'
import { initLab, openLab, type LabAuthority } from '../../src-main/lab'
import { makeCsr, tempDirs } from './lab-test-support'

/**
 * The lab registry as the Lab page uses it: listing members, servers, certificates and global groups; deleting what
 * nothing uses (and refusing with the reason otherwise); address changes, client and auth-certificate removal; CSR
 * inspection. Every change is followed by a new signed configuration, checked in its shared parameters.
 */
const temp = tempDirs()
afterAll(() => temp.cleanup())

const owner = memberId('LAB', 'GOV', '1234')
const other = memberId('LAB', 'COM', '555')
const portal = subsystemId('LAB', 'GOV', '1234', 'portal')
const client = subsystemId('LAB', 'COM', '555', 'client')
const ss1 = securityServerId(owner, 'SS1')

let lab: LabAuthority

/** The shared parameters of the configuration generated last. */
function sharedParams(): string {
  return readFileSync(lab.regenerateConfiguration().sharedParams, 'utf8')
}

/** A CSR with a keyUsage extension, as Gatehouse's and X-Road's signers make them. */
async function csrWithKeyUsage(subject: string, usages: x509.KeyUsageFlags): Promise<string> {
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' }
  const keys = (await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: subject, keys: keys as never, signingAlgorithm: algorithm, extensions: [new x509.KeyUsagesExtension(usages, true)],
  })
  return csr.toString('pem')
}

beforeEach(async () => {
  const dir = temp.make()
  await initLab(dir, { keyAlgorithm: 'ec-p256' })
  lab = openLab(dir)
  lab.addMember(owner, 'Agency', 'portal')
  lab.addMember(other, 'Company', 'client')
})

afterEach(() => lab.close())

async function registerSs1(): Promise<{ hash: string; serial: string }> {
  const auth = await lab.issueCertificate((await makeCsr('C=LAB, CN=SS1')).pem, 'auth')
  const { authCertHash } = lab.addSecurityServer(owner, 'SS1', '127.0.0.1:5500', auth.der)
  lab.addClient(ss1, portal)
  lab.addClient(ss1, client)
  return { hash: authCertHash, serial: auth.serial }
}

describe('lab registry: reading', () => {
  it('lists members with subsystems, servers with hashes and clients, certificates with validity, groups', async () => {
    const { hash, serial } = await registerSs1()
    lab.addGlobalGroup(globalGroupId('LAB', 'partners'), 'Partners')
    lab.addGlobalGroupMember('partners', client)

    expect(lab.listMembers().map((m) => ({ id: encodeIdentifier(m.id), name: m.name, subsystems: m.subsystems.map(encodeIdentifier) }))).toEqual([
      { id: 'MEMBER:LAB/GOV/1234', name: 'Agency', subsystems: ['SUBSYSTEM:LAB/GOV/1234/portal'] },
      { id: 'MEMBER:LAB/COM/555', name: 'Company', subsystems: ['SUBSYSTEM:LAB/COM/555/client'] },
    ])
    const [server] = lab.listSecurityServers()
    expect(encodeIdentifier(server?.id ?? owner)).toBe('SERVER:LAB/GOV/1234/SS1')
    expect(server?.address).toBe('127.0.0.1:5500')
    expect(server?.authCertHashes).toEqual([hash])
    expect(server?.clients.map(encodeIdentifier)).toEqual(['SUBSYSTEM:LAB/GOV/1234/portal', 'SUBSYSTEM:LAB/COM/555/client'])

    const certs = lab.listCertificates()
    expect(certs.map((c) => c.usage).sort()).toEqual(['auth', 'ca', 'ocsp', 'tsa'])
    const auth = lab.certificate(serial.toLowerCase())
    expect(auth).toMatchObject({ serial, usage: 'auth', subject: 'C=LAB, CN=SS1', revokedAt: null, hash })
    expect(auth.notAfter.getTime()).toBeGreaterThan(auth.notBefore.getTime())
    expect(() => lab.certificate('ABCDEF')).toThrow(expect.objectContaining({ code: 'cert_not_found' }))

    expect(lab.listGlobalGroups().map((g) => ({ code: g.id.groupCode, description: g.description, members: g.members.map(encodeIdentifier) }))).toEqual([
      { code: 'partners', description: 'Partners', members: ['SUBSYSTEM:LAB/COM/555/client'] },
    ])
  })
})

describe('lab registry: deleting and removing', () => {
  it('refuses to delete a subsystem or member a server uses, naming the server; deletes them once unused', async () => {
    await registerSs1()
    lab.addGlobalGroup(globalGroupId('LAB', 'partners'), 'Partners')
    lab.addGlobalGroupMember('partners', client)
    lab.addGlobalGroupMember('partners', other)

    expect(() => lab.deleteSubsystem(client)).toThrow(/is a client of SERVER:LAB\/GOV\/1234\/SS1/)
    expect(() => lab.deleteMember(other)).toThrow(/LAB\/COM\/555.*is a client of SERVER:LAB\/GOV\/1234\/SS1/)
    expect(() => lab.deleteMember(owner)).toThrow(expect.objectContaining({ code: 'conflict', message: expect.stringMatching(/owns SERVER:LAB\/GOV\/1234\/SS1/) }))

    lab.removeClient(ss1, client)
    expect(() => lab.removeClient(ss1, client)).toThrow(expect.objectContaining({ code: 'not_found' }))
    expect(lab.listSecurityServers()[0]?.clients.map(encodeIdentifier)).toEqual(['SUBSYSTEM:LAB/GOV/1234/portal'])
    expect(sharedParams()).toMatch(/<serverCode>SS1<\/serverCode><address>[^<]+<\/address><authCertHash>[^<]+<\/authCertHash><client>id\d+<\/client><\/securityServer>/)

    lab.deleteSubsystem(client)
    expect(lab.listMembers().find((m) => m.id.memberCode === '555')?.subsystems).toEqual([])
    expect(lab.listGlobalGroups()[0]?.members.map(encodeIdentifier)).toEqual(['MEMBER:LAB/COM/555'])
    lab.deleteMember(other)
    expect(lab.listMembers().map((m) => m.id.memberCode)).toEqual(['1234'])
    expect(lab.listGlobalGroups()[0]?.members).toEqual([])
    const shared = sharedParams()
    expect(shared).not.toContain('<memberCode>555</memberCode>')
    expect(shared).toContain('<memberCode>1234</memberCode>')
    expect(() => lab.deleteMember(other)).toThrow(expect.objectContaining({ code: 'unknown_member' }))
  })

  it('changes a server address, removes its auth certificate, then deletes the server and its clients', async () => {
    const { hash } = await registerSs1()
    lab.setSecurityServerAddress(ss1, ' ss1.example.org:5500 ')
    expect(sharedParams()).toContain('<address>ss1.example.org:5500</address>')
    expect(() => lab.setSecurityServerAddress(ss1, 'http://x/')).toThrow(expect.objectContaining({ code: 'validation_failed', detail: 'address' }))
    expect(() => lab.setSecurityServerAddress(securityServerId(owner, 'NOPE'), 'h')).toThrow(expect.objectContaining({ code: 'invalid_security_server' }))

    expect(() => lab.deleteAuthCertificate(ss1, 'bm90IGEgaGFzaA==')).toThrow(expect.objectContaining({ code: 'cert_not_found' }))
    lab.deleteAuthCertificate(ss1, hash)
    expect(lab.listSecurityServers()[0]?.authCertHashes).toEqual([])
    expect(sharedParams()).not.toContain(hash)

    lab.deleteSecurityServer(ss1)
    expect(lab.listSecurityServers()).toEqual([])
    expect(sharedParams()).not.toContain('<serverCode>SS1</serverCode>')
    // With the server gone its clients are free again.
    lab.deleteSubsystem(portal)
  })

  it('adds a subsystem once, removes group members and deletes groups', () => {
    lab.addSubsystem(subsystemId('LAB', 'GOV', '1234', 'archive'))
    expect(() => lab.addSubsystem(subsystemId('LAB', 'GOV', '1234', 'archive'))).toThrow(expect.objectContaining({ code: 'conflict', detail: 'subsystemCode' }))
    expect(() => lab.addSubsystem(subsystemId('LAB', 'GOV', '9', 'x'))).toThrow(expect.objectContaining({ code: 'unknown_member' }))
    expect(sharedParams()).toContain('<subsystemCode>archive</subsystemCode>')

    lab.addGlobalGroup(globalGroupId('LAB', 'g1'), 'Group one')
    lab.addGlobalGroupMember('g1', portal)
    expect(() => lab.removeGlobalGroupMember('g1', client)).toThrow(expect.objectContaining({ code: 'not_found' }))
    lab.removeGlobalGroupMember('g1', portal)
    expect(lab.listGlobalGroups()[0]?.members).toEqual([])
    lab.deleteGlobalGroup('g1')
    expect(lab.listGlobalGroups()).toEqual([])
    expect(sharedParams()).not.toContain('<groupCode>g1</groupCode>')
    expect(() => lab.deleteGlobalGroup('g1')).toThrow(expect.objectContaining({ code: 'not_found' }))
  })

  it('revokes by serial number', async () => {
    const { serial } = await registerSs1()
    expect(lab.revokeSerial(serial).alreadyRevoked).toBe(false)
    expect(lab.certificate(serial).revokedAt).not.toBeNull()
    expect(lab.certificateStatus(serial)).toMatchObject({ status: 'revoked' })
    expect(lab.revokeSerial(serial).alreadyRevoked).toBe(true)
    const ca = lab.listCertificates().find((c) => c.usage === 'ca')
    expect(() => lab.revokeSerial(ca?.serial ?? '')).toThrow(/cannot revoke itself/)
  })
})

describe('lab registry: CSR inspection', () => {
  it('takes the usage from the keyUsage extension, else from the subject, and shows the profile subject', async () => {
    const sign = await lab.inspectCsr(await csrWithKeyUsage('C=LAB, O=GOV, CN=1234', x509.KeyUsageFlags.nonRepudiation))
    expect(sign).toMatchObject({ usage: 'sign', usageFrom: 'key-usage', subject: 'C=LAB, O=GOV, CN=1234', keyAlgorithm: 'EC prime256v1' })
    expect(encodeIdentifier(sign.member ?? other)).toBe('MEMBER:LAB/GOV/1234')
    const auth = await lab.inspectCsr(await csrWithKeyUsage('C=LAB, CN=SS2', x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement))
    expect(auth).toMatchObject({ usage: 'auth', usageFrom: 'key-usage', subject: 'C=LAB, CN=SS2', serverCode: 'SS2' })

    const plain = await makeCsr('C=LAB, CN=SS3', 'rsa')
    expect(await lab.inspectCsr(plain.der)).toMatchObject({ usage: 'auth', usageFrom: 'subject', keyAlgorithm: 'RSA 2048' })
    expect(await lab.inspectCsr((await makeCsr('C=LAB, O=COM, CN=555')).pem)).toMatchObject({ usage: 'sign', usageFrom: 'subject' })
    // The caller may choose the usage; the profile then decides what the subject must hold.
    await expect(lab.inspectCsr(plain.der, 'sign')).rejects.toMatchObject({ code: 'validation_failed' })
    await expect(lab.inspectCsr((await makeCsr('C=LAB, O=GOV, CN=777')).pem)).rejects.toMatchObject({ code: 'unknown_member' })
    await expect(lab.inspectCsr('garbage')).rejects.toMatchObject({ code: 'bad_request' })
    // Inspection issues nothing.
    expect(lab.listCertificates().map((c) => c.usage).sort()).toEqual(['ca', 'ocsp', 'tsa'])
  })
})

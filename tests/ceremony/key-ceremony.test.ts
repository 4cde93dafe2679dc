import { afterEach, expect, it } from 'vitest'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { memberId } from '@shared/domain/identifiers'
import { CeremonySession, KeyCeremony, parseTranscript, verifyTranscript, type PresentedConfirmation } from '../../src-main/ceremony'
import { initLab, openLab } from '../../src-main/lab'
import { createSoftHsmToken, type SoftHsmToken } from '../support/softhsm'
import { SOFTHSM, describeWith } from '../support/requirements'
import { useTempDirs } from '../support/temp-dir'
import { makeCsr } from '../lab/lab-test-support'

const tempDir = useTempDirs()
const PROFILE = 'EjbcaCertificateProfileInfoProvider'
const CARL: PresentedConfirmation = { participant: 'carl-custodian', passphrase: 'carl passphrase' }
const CLEO: PresentedConfirmation = { participant: 'cleo-custodian', passphrase: 'cleo passphrase' }

function newSession(dir: string): CeremonySession {
  const session = CeremonySession.create(dir, { title: 'Signing key for LAB/GOV/1234', kind: 'key' })
  session.addParticipant({ name: 'Ada Admin', role: 'administrator', passphrase: 'admin passphrase' })
  session.addParticipant({ name: 'Carl Custodian', role: 'custodian', passphrase: 'carl passphrase' })
  session.addParticipant({ name: 'Cleo Custodian', role: 'custodian', passphrase: 'cleo passphrase' })
  session.addParticipant({ name: 'Wes Witness', role: 'witness', passphrase: 'wes passphrase' })
  return session
}

describeWith([SOFTHSM], 'key ceremony on a SoftHSM2 token', () => {
  let token: SoftHsmToken | undefined
  const ceremonies: KeyCeremony[] = []
  afterEach(async () => {
    for (const c of ceremonies.splice(0)) await c.close()
    token?.cleanup()
    token = undefined
  })

  async function identified(dir: string): Promise<KeyCeremony> {
    token = createSoftHsmToken({ label: 'ceremony-token', pin: '739182' })
    const ceremony = KeyCeremony.open(newSession(dir))
    ceremonies.push(ceremony)
    await ceremony.identifyToken('ada-admin', { modulePath: token.module, tokenLabel: 'ceremony-token' })
    await ceremony.login('ada-admin', '739182')
    return ceremony
  }

  it('runs a full ceremony: key, CSR with QR code, lab-signed certificate, import, seal on the token', async () => {
    const dir = tempDir()
    token = createSoftHsmToken({ label: 'ceremony-token', pin: '739182' })
    const ceremony = KeyCeremony.open(newSession(join(dir, 'ceremony')))
    ceremonies.push(ceremony)
    expect(ceremony.checkOffline('ada-admin', { lo: [{ address: '127.0.0.1', internal: true } as never] }).offline).toBe(true)
    const details = await ceremony.identifyToken('ada-admin', { modulePath: token.module, tokenLabel: 'ceremony-token' })
    expect(details).toMatchObject({ label: 'ceremony-token', manufacturer: expect.stringMatching(/SoftHSM/), model: expect.stringMatching(/SoftHSM/) })
    expect(details.serialNumber).toMatch(/^[0-9a-f]+$/)
    expect(details.mechanisms).toEqual(expect.arrayContaining(['CKM_EC_KEY_PAIR_GEN', 'CKM_ECDSA', 'CKM_RSA_PKCS']))
    await ceremony.login('ada-admin', '739182')

    const key = await ceremony.generateKey('ada-admin', { label: 'sign-1' }, [CARL, CLEO])
    expect(key.attributes).toMatchObject({ CKA_EXTRACTABLE: false, CKA_NEVER_EXTRACTABLE: true, CKA_SENSITIVE: true, CKA_TOKEN: true, CKA_LOCAL: true })

    const media = join(dir, 'usb')
    const csr = await ceremony.createCsr('ada-admin', { subjectOf: memberId('LAB', 'GOV', '1234'), certificateProfile: PROFILE, outDir: media }, [CLEO, CARL])
    expect(readFileSync(csr.file, 'utf8')).toContain('BEGIN CERTIFICATE REQUEST')
    expect(csr.qrFile).toBe(join(media, 'sign-1.csr.pem.qr.png'))
    expect(readFileSync(csr.qrFile!).subarray(1, 4).toString()).toBe('PNG')

    await initLab(join(dir, 'lab'), { instance: 'LAB' })
    const lab = openLab(join(dir, 'lab'))
    lab.addMember(memberId('LAB', 'GOV', '1234'), 'Government 1234')
    const issued = await lab.issueCertificate(readFileSync(csr.file), 'sign')
    const other = await lab.issueCertificate((await makeCsr('C=LAB, O=GOV, CN=1234')).pem, 'sign')
    lab.close()
    const caPem = readFileSync(join(dir, 'lab', 'ca.pem'))
    writeFileSync(join(media, 'sign-1.cert.pem'), issued.pem)

    await expect(ceremony.importCertificate('ada-admin', { certificate: other.der, certificateName: 'other.pem', caCertificates: [{ name: 'ca.pem', bytes: caPem }] }))
      .rejects.toThrow(/does not carry the public key/)
    const imported = await ceremony.importCertificate('ada-admin', {
      certificate: Buffer.from(issued.pem), certificateName: 'sign-1.cert.pem', caCertificates: [{ name: 'ca.pem', bytes: caPem }],
    })
    expect(imported.chain).toHaveLength(1)
    expect(ceremony.signer.listCertificates()).toHaveLength(1)

    const seal = await ceremony.seal('ada-admin', [CARL, CLEO])
    expect(seal.keyLocation).toMatch(/^PKCS#11 token ceremony-token/)
    const transcript = parseTranscript(readFileSync(ceremony.session.transcriptPath, 'utf8'))
    expect(verifyTranscript(transcript)).toMatchObject({ valid: true, sealed: true })
    const steps = transcript.entries.map((e) => `${e.step}:${e.outcome}`)
    expect(steps).toEqual(expect.arrayContaining(['check-offline:done', 'identify-token:done', 'login:done', 'generate-key:done', 'create-csr:done', 'import-certificate:refused', 'import-certificate:done', 'prepare-seal:done']))
    const artifacts = verifyTranscript(transcript).artifacts.map((a) => a.name)
    expect(artifacts).toEqual(expect.arrayContaining(['sign-1.spki.der', 'sign-1.csr.pem', 'sign-1.csr.pem.qr.png', 'sign-1.cert.pem', 'ca.pem']))
    expect(transcript.entries.find((e) => e.step === 'generate-key')?.confirmedBy.map((c) => c.participant)).toEqual(['carl-custodian', 'cleo-custodian'])
    expect(JSON.stringify(transcript)).not.toContain('739182')
    expect(JSON.stringify(transcript)).not.toContain('passphrase')
  })

  it('refuses generate-key without the second person: recorded, and no key on the token', async () => {
    const ceremony = await identified(tempDir())
    await expect(ceremony.generateKey('ada-admin', { label: 'sign-1' }, [CARL])).rejects.toThrow(/2 different people/)
    await expect(ceremony.generateKey('ada-admin', { label: 'sign-1' }, [CARL, { participant: 'wes-witness', passphrase: 'wes passphrase' }])).rejects.toThrow(/may not confirm/)
    expect(await ceremony.driver().listKeys()).toEqual([])
    expect(ceremony.signer.listKeys()).toEqual([])
    expect(ceremony.state.key).toBeUndefined()
    const refused = ceremony.session.transcript.entries.filter((e) => e.step === 'generate-key')
    expect(refused.map((e) => e.outcome)).toEqual(['refused', 'refused'])
  })

  it('refuses a certificate that does not chain to the given CA', async () => {
    const dir = tempDir()
    const ceremony = await identified(join(dir, 'c'))
    await ceremony.generateKey('ada-admin', { label: 'sign-1' }, [CARL, CLEO])
    const csr = await ceremony.createCsr('ada-admin', { subjectOf: memberId('LAB', 'GOV', '1234'), certificateProfile: PROFILE, outDir: join(dir, 'usb') }, [CARL, CLEO])
    await initLab(join(dir, 'lab'), { instance: 'LAB' })
    await initLab(join(dir, 'other-lab'), { instance: 'LAB' })
    const lab = openLab(join(dir, 'lab'))
    lab.addMember(memberId('LAB', 'GOV', '1234'), 'Government 1234')
    const issued = await lab.issueCertificate(readFileSync(csr.file), 'sign')
    lab.close()
    await expect(ceremony.importCertificate('ada-admin', {
      certificate: issued.der, certificateName: 'sign-1.cert.der', caCertificates: [{ name: 'ca.pem', bytes: readFileSync(join(dir, 'other-lab', 'ca.pem')) }],
    })).rejects.toThrow(/No given CA certificate issued/)
    expect(ceremony.session.transcript.entries.at(-1)).toMatchObject({ step: 'import-certificate', outcome: 'refused' })
    expect(existsSync(join(dir, 'usb', 'sign-1.csr.pem'))).toBe(true)
  })
})

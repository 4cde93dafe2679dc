import { afterEach, expect, it } from 'vitest'
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { CaCeremony, CeremonySession, KeyCeremony, verifyTranscript, type PresentedConfirmation } from '../../src-main/ceremony'
import { openLab } from '../../src-main/lab'
import { createSoftHsmToken, type SoftHsmToken } from '../support/softhsm'
import { SOFTHSM, describeWith } from '../support/requirements'
import { useTempDirs } from '../support/temp-dir'
import { makeCsr, openssl } from '../lab/lab-test-support'

const tempDir = useTempDirs()
const DUAL: PresentedConfirmation[] = [
  { participant: 'carl', passphrase: 'carl passphrase' },
  { participant: 'ada', passphrase: 'admin passphrase' },
]

describeWith([SOFTHSM], 'offline CA ceremony with the CA key on a SoftHSM2 token', () => {
  let token: SoftHsmToken | undefined
  let ceremony: KeyCeremony | undefined
  afterEach(async () => {
    await ceremony?.close()
    ceremony = undefined
    token?.cleanup()
    token = undefined
  })

  it('signs CSRs from removable media with the token key, openssl accepts them, and an online lab imports their status', async () => {
    const dir = tempDir()
    token = createSoftHsmToken({ label: 'ca-token', pin: '9876' })
    const session = CeremonySession.create(join(dir, 'ceremony'), { title: 'Lab CA', kind: 'ca' })
    session.addParticipant({ name: 'Ada', role: 'administrator', passphrase: 'admin passphrase' })
    session.addParticipant({ name: 'Carl', role: 'custodian', passphrase: 'carl passphrase' })
    session.addParticipant({ name: 'Wes', role: 'witness', passphrase: 'wes passphrase' })
    ceremony = KeyCeremony.open(session)
    await ceremony.identifyToken('ada', { modulePath: token.module, tokenLabel: 'ca-token' })
    await ceremony.login('ada', '9876')
    const key = await ceremony.generateKey('ada', { label: 'lab-ca' }, DUAL)
    const ca = new CaCeremony(ceremony)
    const labDir = join(dir, 'lab')
    await expect(ca.initLab('ada', { labDir, instance: 'LAB' }, [DUAL[0]!])).rejects.toThrow(/2 different people/)
    expect(existsSync(join(labDir, 'lab.sqlite'))).toBe(false)
    const init = await ca.initLab('ada', { labDir, instance: 'LAB' }, DUAL)
    expect(existsSync(join(labDir, 'keys', 'ca.key.pem'))).toBe(false)
    // The CA certificate carries the token key: its SPKI is the key generated on the token.
    const caPem = readFileSync(join(labDir, 'ca.pem'), 'utf8')
    expect(Buffer.from(init.caCertificate).includes(key.publicKeyDer.subarray(-65))).toBe(true)
    expect(() => openLab(labDir).caSigner()).toThrow(/PKCS#11 token/)

    const online = join(dir, 'online-lab')
    cpSync(labDir, online, { recursive: true })

    const media = join(dir, 'usb')
    mkdirSync(media)
    writeFileSync(join(media, 'member-1234.csr'), (await makeCsr('C=LAB, O=GOV, CN=1234')).pem)
    writeFileSync(join(media, 'member-5678.csr'), (await makeCsr('C=LAB, O=COM, CN=5678', 'rsa')).pem)
    const signed = await ca.signCsrs('ada', { labDir, inDir: media, outDir: join(media, 'issued'), registerMembers: true }, DUAL)
    expect(signed.map((s) => s.subject)).toEqual(['C=LAB, O=GOV, CN=1234', 'C=LAB, O=COM, CN=5678'])
    writeFileSync(join(dir, 'ca.pem'), caPem)
    for (const s of signed) {
      const result = openssl(['verify', '-CAfile', join(dir, 'ca.pem'), s.certificateFile])
      expect(result.stdout + result.stderr).toContain(': OK')
      expect(result.status).toBe(0)
    }
    const { statusFile } = await ca.publish('ada', { labDir, outDir: join(media, 'issued') }, DUAL)

    const onlineLab = openLab(online)
    try {
      expect(onlineLab.certificateStatus(signed[0]!.serial)).toEqual({ status: 'unknown' })
      const file = JSON.parse(readFileSync(statusFile, 'utf8'))
      const forged = { ...file, payload: file.payload.replace('"revokedAt":null', '"revokedAt":"2020-01-01T00:00:00.000Z"') }
      expect(() => onlineLab.importCertificateStatus(forged)).toThrow(/not signed by this lab's CA/)
      expect(onlineLab.importCertificateStatus(file)).toEqual({ added: 2, revoked: 0 })
      expect(onlineLab.certificateStatus(signed[0]!.serial)).toEqual({ status: 'good' })
    } finally {
      onlineLab.close()
    }

    const seal = await ceremony.seal('ada', DUAL)
    expect(seal.keyLocation).toContain('PKCS#11 token ca-token')
    const verification = verifyTranscript(session.transcript)
    expect(verification.valid).toBe(true)
    expect(session.transcript.entries.map((e) => `${e.step}:${e.outcome}`)).toEqual([
      'identify-token:done', 'login:done', 'generate-key:done', 'init-ca:refused', 'init-ca:done', 'sign-csrs:done', 'publish:done', 'prepare-seal:done',
    ])
    expect(verification.artifacts.map((a) => a.name)).toEqual(expect.arrayContaining(['member-1234.csr', 'member-1234.cert.pem', 'certificate-status.json', 'ca.pem']))
  })
})

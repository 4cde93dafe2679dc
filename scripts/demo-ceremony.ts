/**
 * `npm run demo:ceremony`: a complete offline ceremony against fresh SoftHSM2 tokens in a temporary folder, with
 * scripted participants (an administrator, two custodians, a witness).
 *
 * 1. An offline CA ceremony: the lab CA key is generated on token `demo-ca` (dual control), the lab is initialized
 *    with it, and later signs the CSR from the "removable media" folder and publishes a certificate status file.
 * 2. A key ceremony on token `demo-keys`: offline check, token identification, login, key generation with dual
 *    control and the attributes read back, CSR (file and QR code) to removable media, import of the certificate the
 *    CA signed with verification against the key and the CA chain, and a seal with a key on the token.
 *
 * Both transcripts are verified; the key ceremony transcript's path is the last line printed. Any failure exits 1.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { memberId } from '@shared/domain/identifiers'
import {
  CaCeremony, CeremonySession, KeyCeremony, parseTranscript, renderTranscriptReport, verifyTranscript, type PresentedConfirmation,
} from '../src-main/ceremony'
import { openLab } from '../src-main/lab'

const MODULE = process.env.GATEHOUSE_SOFTHSM_MODULE ?? '/usr/lib/softhsm/libsofthsm2.so'
const PIN = '481516'
const SO_PIN = '23424815'

const PEOPLE = [
  { name: 'Ada Administrator', role: 'administrator', passphrase: 'ada: correct horse' },
  { name: 'Carl Custodian', role: 'custodian', passphrase: 'carl: battery staple' },
  { name: 'Cleo Custodian', role: 'custodian', passphrase: 'cleo: tr0ub4dor&3' },
  { name: 'Wes Witness', role: 'witness', passphrase: 'wes: watching closely' },
] as const
const ADMIN = 'ada-administrator'
const DUAL: PresentedConfirmation[] = [
  { participant: 'carl-custodian', passphrase: PEOPLE[1].passphrase },
  { participant: 'cleo-custodian', passphrase: PEOPLE[2].passphrase },
]

function log(line: string): void {
  process.stderr.write(`${line}\n`)
}

function newSession(dir: string, title: string, kind: 'key' | 'ca'): CeremonySession {
  const session = CeremonySession.create(dir, { title, kind })
  for (const p of PEOPLE) session.addParticipant(p)
  return session
}

async function main(): Promise<string> {
  if (!existsSync(MODULE)) throw new Error(`SoftHSM2 is not installed (${MODULE})`)
  const root = mkdtempSync(join(tmpdir(), 'gatehouse-ceremony-demo-'))
  const tokens = join(root, 'softhsm', 'tokens')
  mkdirSync(tokens, { recursive: true })
  const conf = join(root, 'softhsm', 'softhsm2.conf')
  writeFileSync(conf, `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`)
  process.env.SOFTHSM2_CONF = conf
  for (const label of ['demo-ca', 'demo-keys']) {
    execFileSync('softhsm2-util', ['--init-token', '--free', '--label', label, '--so-pin', SO_PIN, '--pin', PIN], { env: process.env, stdio: 'pipe' })
  }
  const media = join(root, 'removable-media')
  const labDir = join(root, 'lab')
  log(`Working folder: ${root}`)

  // --- 1. Offline CA ceremony: the CA key on token demo-ca -----------------------------------------------------
  const caSession = newSession(join(root, 'ca-ceremony'), 'Offline lab CA for instance LAB', 'ca')
  const caKeys = KeyCeremony.open(caSession)
  const ca = new CaCeremony(caKeys)
  try {
    caKeys.checkOffline(ADMIN)
    await caKeys.identifyToken(ADMIN, { modulePath: MODULE, tokenLabel: 'demo-ca' })
    await caKeys.login(ADMIN, PIN)
    await caKeys.generateKey(ADMIN, { label: 'lab-ca', algorithm: 'ec-p256' }, DUAL)
    const init = await ca.initLab(ADMIN, { labDir, instance: 'LAB' }, DUAL)
    log(`CA ceremony: lab initialized with the CA key on the token; anchor SHA-256 ${init.anchorSha256}`)

    // --- 2. Key ceremony on token demo-keys, up to the CSR ---------------------------------------------------
    const session = newSession(join(root, 'key-ceremony'), 'Signing key for LAB/GOV/1234', 'key')
    const keys = KeyCeremony.open(session)
    try {
      const offline = keys.checkOffline(ADMIN)
      log(offline.offline ? 'Machine is offline' : `Warning recorded: interfaces up (${offline.interfacesUp.join(', ')})`)
      const token = await keys.identifyToken(ADMIN, { modulePath: MODULE, tokenLabel: 'demo-keys' })
      log(`Token ${token.label}: ${token.manufacturer} ${token.model}, serial ${token.serialNumber}, firmware ${token.firmwareVersion}`)
      await keys.login(ADMIN, PIN)
      try {
        await keys.generateKey(ADMIN, { label: 'sign-1' }, [DUAL[0]!])
        throw new Error('a key was generated with one confirmation')
      } catch (error) {
        log(`Refused and recorded as expected: ${(error as Error).message}`)
      }
      const key = await keys.generateKey(ADMIN, { label: 'sign-1', algorithm: 'ec-p256' }, DUAL)
      log(`Key ${key.id} generated; CKA_EXTRACTABLE=${String(key.attributes.CKA_EXTRACTABLE)} CKA_NEVER_EXTRACTABLE=${String(key.attributes.CKA_NEVER_EXTRACTABLE)}`)
      const csr = await keys.createCsr(ADMIN, { subjectOf: memberId('LAB', 'GOV', '1234'), certificateProfile: 'EjbcaCertificateProfileInfoProvider', outDir: media }, DUAL)
      log(`CSR on removable media: ${csr.file} (SHA-256 ${csr.sha256})${csr.qrFile ? `, QR code ${csr.qrFile}` : ''}`)

      // --- 3. Back at the CA: sign the CSR from the media, publish, seal the CA transcript ---------------------
      const signed = await ca.signCsrs(ADMIN, { labDir, inDir: media, outDir: join(media, 'issued'), usage: 'sign', registerMembers: true }, DUAL)
      const published = await ca.publish(ADMIN, { labDir, outDir: join(media, 'issued') }, DUAL)
      log(`CA signed ${signed.length} request(s); status file ${published.statusFile}`)
      await caKeys.seal(ADMIN, DUAL)
      const caCheck = verifyTranscript(parseTranscript(readFileSync(caSession.transcriptPath, 'utf8')))
      if (!caCheck.valid) throw new Error(`CA transcript not valid: ${caCheck.problems.join('; ')}`)

      // The online responder's copy of the lab loads the status file (here: the same lab, which already knows them).
      const online = openLab(labDir)
      try {
        online.importCertificateStatus(JSON.parse(readFileSync(published.statusFile, 'utf8')))
        const status = online.certificateStatus(signed[0]!.serial)
        if (status.status !== 'good') throw new Error(`the online lab reports ${status.status} for the new certificate`)
      } finally {
        online.close()
      }

      // --- 4. Key ceremony: import and verify the certificate, seal on the token -----------------------------
      const certFile = signed[0]!.certificateFile
      const imported = await keys.importCertificate(ADMIN, {
        certificate: readFileSync(certFile), certificateName: 'sign-1.cert.pem', caCertificates: [{ name: 'ca.pem', bytes: readFileSync(published.caFile) }],
      })
      log(`Certificate ${imported.subject} serial ${imported.serialNumber} verified against the key and ${imported.chain[0]?.subject}`)
      const seal = await keys.seal(ADMIN, DUAL)
      log(`Sealed with ${seal.keyLocation}; fingerprint ${seal.publicKeyFingerprint}`)
    } finally {
      await keys.close()
    }
    const transcript = parseTranscript(readFileSync(session.transcriptPath, 'utf8'))
    const check = verifyTranscript(transcript, { expectedSealFingerprint: transcript.seal?.publicKeyFingerprint })
    if (!check.valid) throw new Error(`Key ceremony transcript not valid: ${check.problems.join('; ')}`)
    writeFileSync(join(session.dir, 'report.html'), renderTranscriptReport(transcript, check))
    log(`Transcript valid: ${check.entries} steps, ${check.artifacts.length} artifact fingerprints; report ${join(session.dir, 'report.html')}`)
    return session.transcriptPath
  } finally {
    await caKeys.close()
  }
}

main().then(
  (transcriptPath) => {
    process.stdout.write(`${transcriptPath}\n`)
  },
  (error: unknown) => {
    process.stderr.write(`demo:ceremony failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
    process.exitCode = 1
  },
)

import type { Command } from 'commander'
import { readFileSync, writeFileSync } from 'node:fs'
import { basename } from 'node:path'
import { createInterface } from 'node:readline'
import { decodeIdentifier, memberId, securityServerId, type MemberId, type SecurityServerId } from '@shared/domain/identifiers'
import {
  CaCeremony, CeremonySession, KeyCeremony, parseTranscript, renderTranscriptReport, verifyTranscript,
  type CeremonyRole, type PresentedConfirmation,
} from '../../ceremony'
import { clientError } from '../../platform'
import { KEY_ALGORITHMS, type KeyAlgorithm } from '../../signer'
import { CliExit, EXIT_FAILED, EXIT_USAGE, printResult } from '../cli-support'

/**
 * `gatehouse ceremony …`: each step of a key or CA ceremony as its own command on a ceremony folder, so a ceremony
 * runs by hand or from a script. Secrets (PINs, passphrases) come from stdin, one per line, in the order the
 * command's help gives, or from a prompt that does not echo when stdin is a terminal. They never appear as arguments.
 */

const ROLES: CeremonyRole[] = ['administrator', 'custodian', 'witness']

/** Reads `prompts.length` secrets: lines of stdin when piped, else no-echo prompts on the terminal. */
async function readSecrets(prompts: string[]): Promise<string[]> {
  if (prompts.length === 0) return []
  if (!process.stdin.isTTY) {
    const chunks: Buffer[] = []
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
    const lines = Buffer.concat(chunks).toString('utf8').split(/\r?\n/)
    if (lines.length < prompts.length || lines.slice(0, prompts.length).some((l) => l === '')) {
      throw new CliExit(EXIT_USAGE, `Expected ${prompts.length} line(s) on stdin: ${prompts.join('; ')}`)
    }
    return lines.slice(0, prompts.length)
  }
  const secrets: string[] = []
  for (const prompt of prompts) {
    const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true })
    const muted = rl as unknown as { _writeToOutput: (s: string) => void }
    process.stderr.write(`${prompt}: `)
    muted._writeToOutput = () => undefined
    secrets.push(await new Promise<string>((resolve) => rl.question('', resolve)))
    rl.close()
    process.stderr.write('\n')
  }
  return secrets
}

function confirmIds(value: string | undefined): string[] {
  const ids = (value ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '')
  if (ids.length === 0) throw clientError('validation_failed', 'Name the confirming participants: --confirm ID,ID')
  return ids
}

function confirmations(ids: string[], secrets: string[]): PresentedConfirmation[] {
  return ids.map((participant, i) => ({ participant, passphrase: secrets[i] ?? '' }))
}

function subjectOf(value: string, usage: 'sign' | 'auth'): MemberId | SecurityServerId {
  const parts = value.split(/[:/]/)
  if (usage === 'sign' && parts.length === 3) return memberId(parts[0]!, parts[1]!, parts[2]!)
  if (usage === 'auth' && parts.length === 4) return securityServerId(memberId(parts[0]!, parts[1]!, parts[2]!), parts[3]!)
  const decoded = decodeIdentifier(value)
  if (decoded.objectType === 'MEMBER' || decoded.objectType === 'SERVER') return decoded as MemberId | SecurityServerId
  throw clientError('validation_failed', `Give the ${usage === 'sign' ? 'member as INSTANCE:CLASS:CODE' : 'server as INSTANCE:CLASS:CODE:SERVER'}`)
}

/** Opens the ceremony in `dir`, runs `work`, and always closes the token session. */
async function withCeremony<T>(dir: string, work: (ceremony: KeyCeremony) => Promise<T>): Promise<T> {
  const ceremony = KeyCeremony.open(CeremonySession.open(dir))
  try {
    return await work(ceremony)
  } finally {
    await ceremony.close()
  }
}

interface Common {
  actor: string
  json?: boolean
}

export function registerCeremonyCommand(program: Command): void {
  const ceremony = program.command('ceremony').description('offline key and CA ceremonies: dual control and a signed transcript')

  ceremony
    .command('init <dir>')
    .description('start a ceremony in a new folder (transcript.json, credentials.json)')
    .requiredOption('--title <title>', 'what the ceremony is for')
    .option('--kind <kind>', 'key or ca', 'key')
    .option('--json', 'print the result as JSON')
    .action((dir: string, opts: { title: string; kind: string; json?: boolean }) => {
      if (opts.kind !== 'key' && opts.kind !== 'ca') throw clientError('validation_failed', '--kind is key or ca')
      const session = CeremonySession.create(dir, { title: opts.title, kind: opts.kind })
      printResult(opts, { id: session.transcript.ceremony.id, transcript: session.transcriptPath }, () => `Ceremony ${session.transcript.ceremony.id} in ${dir}`)
    })

  ceremony
    .command('participant')
    .description('participants (registered before the first step)')
    .command('add <dir>')
    .description('register a participant; their passphrase is read from stdin (or a prompt without echo)')
    .requiredOption('--name <name>', 'full name')
    .requiredOption('--role <role>', `one of ${ROLES.join(', ')}`)
    .option('--json', 'print the result as JSON')
    .action(async (dir: string, opts: { name: string; role: string; json?: boolean }) => {
      if (!ROLES.includes(opts.role as CeremonyRole)) throw clientError('validation_failed', `--role is one of ${ROLES.join(', ')}`)
      const [passphrase = ''] = await readSecrets([`Passphrase of ${opts.name}`])
      const participant = CeremonySession.open(dir).addParticipant({ name: opts.name, role: opts.role as CeremonyRole, passphrase })
      printResult(opts, participant, () => `${participant.name} (${participant.role}) registered as ${participant.id}`)
    })

  ceremony
    .command('check-offline <dir>')
    .description('record whether the machine is offline (interfaces up are a recorded warning); exit 1 when online')
    .requiredOption('--actor <id>', 'the participant performing the step')
    .option('--json', 'print the result as JSON')
    .action(async (dir: string, opts: Common) => {
      const check = await withCeremony(dir, async (c) => c.checkOffline(opts.actor))
      printResult(opts, check, () => (check.offline ? 'Offline: no network interface is up' : `WARNING: interfaces up: ${check.interfacesUp.join(', ')}`))
      if (!check.offline) throw new CliExit(EXIT_FAILED)
    })

  ceremony
    .command('identify-token <dir>')
    .description('load the PKCS#11 module, find the token and record its label, serial, model, firmware and mechanisms')
    .requiredOption('--actor <id>', 'the participant performing the step')
    .requiredOption('--module <path>', 'the PKCS#11 module')
    .requiredOption('--token <label>', 'the token label')
    .option('--json', 'print the result as JSON')
    .action(async (dir: string, opts: Common & { module: string; token: string }) => {
      const details = await withCeremony(dir, (c) => c.identifyToken(opts.actor, { modulePath: opts.module, tokenLabel: opts.token }))
      printResult(opts, details, () => [
        `Token ${details.label}: ${details.manufacturer} ${details.model}, serial ${details.serialNumber}`,
        `Hardware ${details.hardwareVersion}, firmware ${details.firmwareVersion}; module ${details.module.description} ${details.module.libraryVersion}`,
        `Mechanisms: ${details.mechanisms.join(' ')}`,
      ].join('\n'))
    })

  ceremony
    .command('generate-key <dir>')
    .description('log in and generate the key pair on the token (dual control). stdin: PIN, then each --confirm passphrase')
    .requiredOption('--actor <id>', 'the participant performing the step')
    .requiredOption('--confirm <ids>', 'the two confirming participants, comma-separated')
    .requiredOption('--label <label>', 'key label on the token')
    .option('--algorithm <algorithm>', `one of ${KEY_ALGORITHMS.join(', ')}`, 'ec-p256')
    .option('--usage <usage>', 'sign or auth', 'sign')
    .option('--json', 'print the result as JSON')
    .action(async (dir: string, opts: Common & { confirm: string; label: string; algorithm: string; usage: string }) => {
      if (!KEY_ALGORITHMS.includes(opts.algorithm as KeyAlgorithm)) throw clientError('validation_failed', `--algorithm is one of ${KEY_ALGORITHMS.join(', ')}`)
      if (opts.usage !== 'sign' && opts.usage !== 'auth') throw clientError('validation_failed', '--usage is sign or auth')
      const ids = confirmIds(opts.confirm)
      const [pin = '', ...secrets] = await readSecrets(['Token PIN', ...ids.map((id) => `Passphrase of ${id}`)])
      const key = await withCeremony(dir, async (c) => {
        await c.login(opts.actor, pin)
        return c.generateKey(opts.actor, { label: opts.label, algorithm: opts.algorithm as KeyAlgorithm, usage: opts.usage as 'sign' | 'auth' }, confirmations(ids, secrets))
      })
      printResult(opts, { keyId: key.id, label: key.label, algorithm: key.algorithm, attributes: key.attributes }, () =>
        `Key ${key.id} (${key.label}, ${key.algorithm}) generated on the token\n${Object.entries(key.attributes).map(([k, v]) => `  ${k}=${String(v)}`).join('\n')}`)
    })

  ceremony
    .command('csr <dir>')
    .description('create the CSR and export it (file and QR code) to --out (dual control). stdin: PIN, then each --confirm passphrase')
    .requiredOption('--actor <id>', 'the participant performing the step')
    .requiredOption('--confirm <ids>', 'the two confirming participants, comma-separated')
    .requiredOption('--subject <id>', 'member INSTANCE:CLASS:CODE (sign key) or server INSTANCE:CLASS:CODE:SERVER (auth key)')
    .requiredOption('--out <dir>', 'the removable media folder')
    .option('--profile <javaClass>', 'certificate profile of the approved CA', 'EjbcaCertificateProfileInfoProvider')
    .option('--json', 'print the result as JSON')
    .action(async (dir: string, opts: Common & { confirm: string; subject: string; out: string; profile: string }) => {
      const ids = confirmIds(opts.confirm)
      const [pin = '', ...secrets] = await readSecrets(['Token PIN', ...ids.map((id) => `Passphrase of ${id}`)])
      const csr = await withCeremony(dir, async (c) => {
        await c.login(opts.actor, pin)
        const usage = c.state.key?.usage ?? 'sign'
        return c.createCsr(opts.actor, { subjectOf: subjectOf(opts.subject, usage), certificateProfile: opts.profile, outDir: opts.out }, confirmations(ids, secrets))
      })
      printResult(opts, { file: csr.file, sha256: csr.sha256, qrFile: csr.qrFile, qrSha256: csr.qrSha256 }, () =>
        `CSR written to ${csr.file}\n  SHA-256 ${csr.sha256}${csr.qrFile ? `\nQR code ${csr.qrFile}\n  SHA-256 ${csr.qrSha256}` : ''}`)
    })

  ceremony
    .command('import-cert <dir>')
    .description('import the issued certificate; verify it carries the ceremony key and chains to the CA certificate(s)')
    .requiredOption('--actor <id>', 'the participant performing the step')
    .requiredOption('--cert <file>', 'the issued certificate (PEM or DER)')
    .requiredOption('--ca <files...>', 'the CA certificate(s)')
    .option('--json', 'print the result as JSON')
    .action(async (dir: string, opts: Common & { cert: string; ca: string[] }) => {
      const result = await withCeremony(dir, (c) => c.importCertificate(opts.actor, {
        certificate: readFileSync(opts.cert), certificateName: basename(opts.cert),
        caCertificates: opts.ca.map((f) => ({ name: basename(f), bytes: readFileSync(f) })),
      }))
      printResult(opts, result, () => `Certificate ${result.subject} (serial ${result.serialNumber}) verified and imported\n  SHA-256 ${result.sha256}`)
    })

  ceremony
    .command('ca-init <dir>')
    .description('CA ceremony: initialize a lab whose CA key is the ceremony key on the token (dual control). stdin: PIN, passphrases')
    .requiredOption('--actor <id>', 'the participant performing the step')
    .requiredOption('--confirm <ids>', 'the two confirming participants, comma-separated')
    .requiredOption('--lab <dir>', 'the lab folder to create')
    .option('--instance <code>', 'X-Road instance', 'LAB')
    .option('--json', 'print the result as JSON')
    .action(async (dir: string, opts: Common & { confirm: string; lab: string; instance: string }) => {
      const ids = confirmIds(opts.confirm)
      const [pin = '', ...secrets] = await readSecrets(['Token PIN', ...ids.map((id) => `Passphrase of ${id}`)])
      const result = await withCeremony(dir, async (c) => {
        await c.login(opts.actor, pin)
        return new CaCeremony(c).initLab(opts.actor, { labDir: opts.lab, instance: opts.instance }, confirmations(ids, secrets))
      })
      printResult(opts, { lab: opts.lab, anchorSha256: result.anchorSha256 }, () => `Lab initialized in ${opts.lab}; anchor SHA-256 ${result.anchorSha256}`)
    })

  ceremony
    .command('ca-sign <dir>')
    .description('CA ceremony: sign the CSRs in --in with the token CA key, write certificates to --out and publish the status file (dual control)')
    .requiredOption('--actor <id>', 'the participant performing the step')
    .requiredOption('--confirm <ids>', 'the two confirming participants, comma-separated')
    .requiredOption('--lab <dir>', 'the lab folder')
    .requiredOption('--in <dir>', 'folder with the certificate requests')
    .requiredOption('--out <dir>', 'folder for the certificates, ca.pem and certificate-status.json')
    .option('--usage <usage>', 'sign or auth', 'sign')
    .option('--register-members', 'register the members named by signing requests')
    .option('--json', 'print the result as JSON')
    .action(async (dir: string, opts: Common & { confirm: string; lab: string; in: string; out: string; usage: string; registerMembers?: boolean }) => {
      if (opts.usage !== 'sign' && opts.usage !== 'auth') throw clientError('validation_failed', '--usage is sign or auth')
      const ids = confirmIds(opts.confirm)
      const [pin = '', ...secrets] = await readSecrets(['Token PIN', ...ids.map((id) => `Passphrase of ${id}`)])
      const result = await withCeremony(dir, async (c) => {
        await c.login(opts.actor, pin)
        const ca = new CaCeremony(c)
        const signed = await ca.signCsrs(opts.actor, { labDir: opts.lab, inDir: opts.in, outDir: opts.out, usage: opts.usage as 'sign' | 'auth', registerMembers: opts.registerMembers }, confirmations(ids, secrets))
        return { signed, ...(await ca.publish(opts.actor, { labDir: opts.lab, outDir: opts.out }, confirmations(ids, secrets))) }
      })
      printResult(opts, result, () => [...result.signed.map((s) => `${s.certificateFile}: ${s.subject} serial ${s.serial}`), `Status file ${result.statusFile}`].join('\n'))
    })

  ceremony
    .command('seal <dir>')
    .description('seal the transcript with a P-256 key generated on the token (software key when none; dual control). stdin: PIN (when a token was identified), passphrases')
    .requiredOption('--actor <id>', 'the participant performing the step')
    .requiredOption('--confirm <ids>', 'the two confirming participants, comma-separated')
    .option('--json', 'print the result as JSON')
    .action(async (dir: string, opts: Common & { confirm: string }) => {
      const ids = confirmIds(opts.confirm)
      const seal = await withCeremony(dir, async (c) => {
        const withToken = c.state.token !== undefined
        const secrets = await readSecrets([...(withToken ? ['Token PIN'] : []), ...ids.map((id) => `Passphrase of ${id}`)])
        if (withToken) await c.login(opts.actor, secrets.shift() ?? '')
        return c.seal(opts.actor, confirmations(ids, secrets))
      })
      printResult(opts, { ...seal, transcript: CeremonySession.open(dir).transcriptPath }, () =>
        `Sealed with the key at ${seal.keyLocation}\nSeal key fingerprint (write it on the paper report): ${seal.publicKeyFingerprint.replace(/(.{4})/g, '$1 ').trim()}`)
    })

  ceremony
    .command('verify <transcript>')
    .description('check a ceremony transcript: the hash chain, the seal signature, and list its artifacts')
    .option('--seal-fingerprint <hex>', 'the seal key fingerprint from the signed paper report (spaces allowed)')
    .option('--json', 'print {"valid":…} as JSON')
    .action((file: string, opts: { json?: boolean; sealFingerprint?: string }) => {
      const transcript = parseTranscript(readFileSync(file, 'utf8'))
      const result = verifyTranscript(transcript, { expectedSealFingerprint: opts.sealFingerprint })
      printResult(opts, { ...result, ceremony: transcript.ceremony }, () =>
        [
          `${transcript.ceremony.title} (${transcript.ceremony.id})`,
          result.valid ? `VALID: ${result.entries} steps, sealed with key ${result.sealFingerprint}` : 'NOT VALID:',
          ...result.problems.map((p) => `  - ${p}`),
          'Artifacts:',
          ...result.artifacts.map((a) => `  ${a.seq}. ${a.step}: ${a.name} sha256=${a.sha256}`),
        ].join('\n'),
      )
      if (!result.valid) throw new CliExit(EXIT_FAILED)
    })

  ceremony
    .command('report <transcript>')
    .description('write the printable HTML report with signature lines for the participants')
    .requiredOption('--out <file>', 'where to write the HTML report')
    .action((file: string, opts: { out: string }) => {
      const transcript = parseTranscript(readFileSync(file, 'utf8'))
      writeFileSync(opts.out, renderTranscriptReport(transcript, verifyTranscript(transcript)))
      process.stdout.write(`${opts.out}\n`)
    })
}

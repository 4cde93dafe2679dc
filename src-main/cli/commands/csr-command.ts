import type { Command } from 'commander'
import { writeFileSync } from 'node:fs'
import { memberId, securityServerId, type MemberId } from '@shared/domain/identifiers'
import { CliExit, EXIT_USAGE, printResult } from '../cli-support'
import { auditedChange } from './cli-audit'
import { readPin, withSigner, type SignerCliOptions } from './token-command'

/** `gatehouse csr generate`: a PKCS#10 request signed on the token, subject from the CA's certificate profile. */
export function registerCsrCommand(program: Command): void {
  const csr = program.command('csr').description('certificate signing requests')
  csr.command('generate').description('generate a CSR for a key')
    .requiredOption('--data-dir <dir>', 'data directory').option('--json', 'print one JSON document')
    .requiredOption('--key <keyId>', 'key id')
    .requiredOption('--member <INSTANCE/CLASS/CODE>', 'member (the server owner for auth)')
    .requiredOption('--usage <usage>', 'sign|auth (must match the key)')
    .option('--server-code <code>', 'security server code (auth CSRs)')
    .option('--profile <javaClass>', 'certificate profile of the approved CA', 'EjbcaCertificateProfileInfoProvider')
    .option('--member-name <name>', 'member name (profiles that put it in the subject)')
    .option('--format <format>', 'pem|der', 'pem')
    .requiredOption('--out <file>', 'output file')
    .option('--pin <pin>', 'token PIN (else read from stdin)')
    .action(async (opts: SignerCliOptions & {
      key: string; member: string; usage: string; serverCode?: string; profile: string; memberName?: string; format: string; out: string
    }) => {
      if (opts.format !== 'pem' && opts.format !== 'der') throw new CliExit(EXIT_USAGE, '--format is pem or der')
      const parts = opts.member.split('/')
      if (parts.length !== 3) throw new CliExit(EXIT_USAGE, '--member is INSTANCE/CLASS/CODE')
      const member: MemberId = memberId(parts[0]!, parts[1]!, parts[2]!)
      if (opts.usage === 'auth' && opts.serverCode === undefined) throw new CliExit(EXIT_USAGE, 'An auth CSR needs --server-code')
      const pin = await readPin(opts.pin)
      const result = await withSigner(opts, async (signer, db) => {
        const key = signer.listKeys().find((k) => k.id === opts.key)
        if (key === undefined) throw new CliExit(1, `Key ${opts.key} is not in the key configuration`)
        if (key.usage !== opts.usage) throw new CliExit(EXIT_USAGE, `Key ${opts.key} is a ${key.usage} key`)
        await signer.login(key.tokenId, pin)
        const input = { keyId: opts.key, member: opts.member, usage: opts.usage, serverCode: opts.serverCode, profile: opts.profile, format: opts.format }
        return auditedChange(db, { event: 'csrs.generate', object: opts.key, input }, () => signer.generateCsr({
          keyId: opts.key,
          subjectOf: opts.usage === 'auth' ? securityServerId(member, opts.serverCode ?? '') : member,
          certificateProfile: opts.profile,
          subjectOptions: { memberName: opts.memberName, serverCode: opts.serverCode },
          format: opts.format as 'pem' | 'der',
        }), (csr) => ({ id: csr.id, subject: csr.subject }))
      })
      writeFileSync(opts.out, result.encoded)
      printResult(opts, { ok: true, csrId: result.id, subject: result.subject, file: opts.out }, () => `CSR for ${result.subject} written to ${opts.out}`)
    })
}

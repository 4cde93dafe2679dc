import type { Command } from 'commander'
import { readFileSync } from 'node:fs'
import { memberId } from '@shared/domain/identifiers'
import { CliExit, EXIT_USAGE, printResult } from '../cli-support'
import { registerCsrCommand } from './csr-command'
import { registerKeyCommand } from './key-command'
import { auditedChange } from './cli-audit'
import { registerTokenCommand, withSigner, type SignerCliOptions } from './token-command'

/** The signer console: `gatehouse token|key|csr|cert` (registered together in commands/index.ts). */
export function registerSignerCommands(program: Command): void {
  registerTokenCommand(program)
  registerKeyCommand(program)
  registerCsrCommand(program)
  registerCertCommand(program)
}

/** `gatehouse cert …`: import own certificates, list them with expiry dates, activate and disable them. */
export function registerCertCommand(program: Command): void {
  const cert = program.command('cert').description('own certificates')

  cert.command('import <file>').description('import a certificate (PEM or DER) for one of our keys')
    .requiredOption('--data-dir <dir>', 'data directory').option('--json', 'print one JSON document')
    .option('--member <INSTANCE/CLASS/CODE>', 'member the signing certificate belongs to')
    .option('--ca <file...>', 'approved CA certificates to check the chain against')
    .action(async (file: string, opts: SignerCliOptions & { member?: string; ca?: string[] }) => {
      const parts = opts.member?.split('/')
      if (parts !== undefined && parts.length !== 3) throw new CliExit(EXIT_USAGE, '--member is INSTANCE/CLASS/CODE')
      const info = await withSigner(opts, async (signer, db) => auditedChange(db, { event: 'certificates.import', object: file, input: { file, member: opts.member } },
        () => signer.importCertificate(readFileSync(file), {
          ...(parts === undefined ? {} : { memberId: memberId(parts[0]!, parts[1]!, parts[2]!) }),
          ...(opts.ca === undefined ? {} : { approvedCaCertificates: opts.ca.map((f) => readFileSync(f)) }),
        }), ({ certDer: _der, ...cert }) => cert))
      const { certDer: _d, ...rest } = info
      printResult(opts, { ok: true, certificate: rest }, () => `Certificate ${info.id} imported for key ${info.keyId} (${info.state})`)
    })

  cert.command('list').description('list own certificates with state and expiry')
    .requiredOption('--data-dir <dir>', 'data directory').option('--json', 'print one JSON document')
    .action(async (opts: SignerCliOptions) => {
      const certs = await withSigner(opts, async (signer) => signer.listCertificates())
      printResult(opts, { ok: true, certificates: certs.map(({ certDer: _d, ...c }) => c) },
        () => certs.map((c) => `${c.id.slice(0, 16)}  ${c.state.padEnd(10)} expires ${c.notAfter}  ${c.subject}`).join('\n') || '(no certificates)')
    })

  for (const [name, verb] of [['activate', 'activated'], ['disable', 'disabled']] as const) {
    cert.command(`${name} <certId>`).description(`${name} a certificate`)
      .requiredOption('--data-dir <dir>', 'data directory').option('--json', 'print one JSON document')
      .action(async (certId: string, opts: SignerCliOptions) => {
        await withSigner(opts, async (signer, db) => {
          const match = signer.listCertificates().filter((c) => c.id.startsWith(certId))
          if (match.length !== 1) throw new CliExit(1, `No single certificate matches ${certId}`)
          const id = match[0]!.id
          const state = (): unknown => {
            const found = signer.listCertificates().find((c) => c.id === id)
            return found === undefined ? undefined : { id: found.id, state: found.state, subject: found.subject, notAfter: found.notAfter }
          }
          await auditedChange(db, { event: `certificates.${name}`, object: id, input: { certId: id }, state }, () => {
            if (name === 'activate') signer.activateCertificate(id)
            else signer.disableCertificate(id)
          })
        })
        printResult(opts, { ok: true }, () => `Certificate ${certId} ${verb}`)
      })
  }
}

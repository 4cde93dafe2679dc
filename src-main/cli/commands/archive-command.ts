import { existsSync } from 'node:fs'
import type { Command } from 'commander'
import { verifyArchive, type ArchiveChainStart } from '../../message-log'
import { clientError } from '../../platform'
import { CliExit, EXIT_FAILED, EXIT_USAGE, printResult } from '../cli-support'

/**
 * `gatehouse archive verify FILE.zip [--previous HEX | --first] [--json]`: X-Road's messagelog-archive-verifier
 * (xroad-protocols.md §6.5): checks an archive's linking chain and prints its last digest for the next archive.
 */
interface VerifyOptions {
  previous?: string
  first?: boolean
  json?: boolean
}

async function verifyCommand(file: string, opts: VerifyOptions): Promise<void> {
  if ((opts.previous === undefined) === (opts.first !== true)) {
    throw new CliExit(EXIT_USAGE, 'gatehouse: give exactly one of --previous HEX or --first')
  }
  if (opts.previous !== undefined && !/^[0-9a-fA-F]{64,128}$/.test(opts.previous)) {
    throw new CliExit(EXIT_USAGE, `gatehouse: --previous '${opts.previous}' is not a hex digest`)
  }
  if (!existsSync(file)) throw clientError('config_file_not_found', `Archive ${file} does not exist`)
  const start: ArchiveChainStart = opts.previous !== undefined ? { previousDigest: opts.previous } : { first: true }
  const result = await verifyArchive(file, start)
  printResult(opts, result, () =>
    result.valid
      ? `valid: ${result.archive}, ${result.files} containers, ${result.algorithm} linking\nlast digest: ${result.lastDigest}`
      : `INVALID: ${result.archive}: ${result.detail} [${result.reason}]`,
  )
  if (!result.valid) throw new CliExit(EXIT_FAILED)
}

export function registerArchiveCommand(program: Command): void {
  const archive = program.command('archive').description('message-log archives')
  archive
    .command('verify')
    .description('verify the linking chain of a log archive and print its last digest')
    .argument('<file>', 'archive ZIP file (mlog-….zip)')
    .option('--previous <hex>', "the previous archive's last digest")
    .option('--first', 'the archive is the first of its chain')
    .option('--json', 'print one JSON document')
    .action(verifyCommand)
}

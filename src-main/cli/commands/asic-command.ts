import { existsSync, readFileSync } from 'node:fs'
import type { Command } from 'commander'
import { readConfigurationDirectory } from '../../global-conf'
import { clientError, SecurityServerError } from '../../platform'
import { describeSigner, asicTrustFromGlobalConf, verifyAsicContainer } from '../../signature'
import { CliExit, EXIT_FAILED, printResult } from '../cli-support'

/**
 * `gatehouse asic verify FILE.asice --globalconf DIR`: X-Road's asicverifier (xroad-protocols.md §6.4) —
 * exit 0 with the signer, time-stamp and OCSP when the container is valid, exit 1 with X-Road's error code when not.
 */
interface VerifyOptions {
  globalconf: string
  json?: boolean
}

async function verifyCommand(file: string, opts: VerifyOptions): Promise<void> {
  if (!existsSync(file)) throw clientError('config_file_not_found', `Container ${file} does not exist`)
  if (!existsSync(opts.globalconf)) throw clientError('config_file_not_found', `Global configuration directory ${opts.globalconf} does not exist`)
  const snapshot = readConfigurationDirectory(opts.globalconf)
  const container = readFileSync(file)
  try {
    const result = await verifyAsicContainer(container, asicTrustFromGlobalConf(snapshot))
    const value = {
      valid: true,
      signer: describeSigner(result.signer),
      signerCert: result.signerCert,
      timestamp: result.timestamp,
      ocsp: result.ocsp,
      attachments: result.attachments,
    }
    printResult(opts, value, () => [
      `valid: ${file}`,
      `  signer:     ${value.signer} (${value.signerCert.subject}, serial ${value.signerCert.serialNumber})`,
      `  time-stamp: ${value.timestamp.genTime} by ${value.timestamp.tsa}${value.timestamp.batch ? ' (batch)' : ''}`,
      `  OCSP:       produced ${value.ocsp.producedAt} by ${value.ocsp.responder}`,
      ...value.attachments.map((a) => `  ${a.name}: ${a.verified ? 'verified' : 'not covered by the signature'}`),
    ].join('\n'))
  } catch (error) {
    if (!(error instanceof SecurityServerError) || error.code === 'internal_error') throw error
    const value = { valid: false, code: error.faultCode, detail: error.message }
    printResult(opts, value, () => `invalid: ${file}\n  ${value.code}: ${value.detail}`)
    throw new CliExit(EXIT_FAILED)
  }
}

export function registerAsicCommand(program: Command): void {
  const asic = program.command('asic').description('ASiC-E evidence containers of the message log')
  asic
    .command('verify <file>')
    .description('verify an ASiC-E container as X-Road\'s asicverifier does (time-stamp, signature, hash chains, OCSP)')
    .requiredOption('--globalconf <dir>', 'global configuration directory (instance-identifier + INSTANCE/shared-params.xml)')
    .option('--json', 'print one JSON document')
    .action(async (file: string, opts: VerifyOptions) => {
      await verifyCommand(file, opts)
    })
}

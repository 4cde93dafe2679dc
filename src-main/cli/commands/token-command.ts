import type { Command } from 'commander'
import { join } from 'node:path'
import { closeDatabase, openDatabase, type WritableDb } from '../../platform'
import { createSigner, type Signer } from '../../signer'
import { CliExit, EXIT_USAGE, printResult } from '../cli-support'
import { auditedChange } from './cli-audit'

/** `gatehouse token …`: the signer console's token commands (UG-SS §8 "Security tokens"). PINs are never echoed. */

export interface SignerCliOptions {
  dataDir: string
  json?: boolean
  pin?: string
}

/**
 * Opens serverconf.sqlite under the data directory and runs `work` with a signer, closing both afterwards; `db` is
 * there for the change's audit entry (`auditedChange`).
 */
export async function withSigner<T>(opts: SignerCliOptions, work: (signer: Signer, db: WritableDb) => Promise<T>): Promise<T> {
  const db = openDatabase(join(opts.dataDir, 'serverconf.sqlite'))
  const signer = createSigner({ db, dataDir: opts.dataDir })
  try {
    return await work(signer, db)
  } finally {
    await signer.close()
    closeDatabase(db)
  }
}

/** The PIN from `--pin`, else read from stdin (echo off on a terminal). */
export async function readPin(given: string | undefined, prompt = 'PIN: '): Promise<string> {
  if (given !== undefined) return given
  const input = process.stdin
  if (input.isTTY) process.stderr.write(prompt)
  const pin = await new Promise<string>((resolve, reject) => {
    let buffer = ''
    const raw = input.isTTY === true
    if (raw) input.setRawMode(true)
    const done = (value: string | undefined, error?: Error): void => {
      input.off('data', onData)
      input.off('end', onEnd)
      if (raw) input.setRawMode(false)
      input.pause()
      if (raw) process.stderr.write('\n')
      if (error !== undefined) reject(error)
      else resolve(value ?? '')
    }
    const onData = (chunk: Buffer): void => {
      buffer += chunk.toString('utf8')
      if (raw && buffer.includes('\u0003')) return done(undefined, new CliExit(EXIT_USAGE, 'cancelled'))
      const end = buffer.search(/[\r\n]/)
      if (end >= 0) done(buffer.slice(0, end))
    }
    const onEnd = (): void => done(buffer.replace(/[\r\n]+$/, ''))
    input.on('data', onData)
    input.on('end', onEnd)
    input.resume()
  })
  if (pin === '') throw new CliExit(EXIT_USAGE, 'No PIN given')
  return pin
}

const common = (command: Command): Command =>
  command.requiredOption('--data-dir <dir>', 'data directory').option('--json', 'print one JSON document')

export function registerTokenCommand(program: Command): void {
  const token = program.command('token').description('security tokens: software token and PKCS#11 devices')

  common(token.command('list').description('list tokens with their status and PIN warnings'))
    .action(async (opts: SignerCliOptions) => {
      const tokens = await withSigner(opts, (signer) => signer.listTokens())
      printResult(opts, { ok: true, tokens }, () => tokens.map((t) =>
        `${t.id.padEnd(16)} ${t.kind.padEnd(8)} ${t.label.padEnd(20)} ${t.available ? 'available' : 'unavailable'}` +
        `${t.pinLocked ? ' PIN-LOCKED' : t.pinFinalTry ? ' PIN-FINAL-TRY' : t.pinCountLow ? ' PIN-COUNT-LOW' : ''}`).join('\n') || '(no tokens)')
    })

  common(token.command('init-software').description('initialize the software token'))
    .option('--label <label>', 'token label', 'softToken')
    .option('--pin <pin>', 'PIN (else read from stdin)')
    .action(async (opts: SignerCliOptions & { label: string }) => {
      const pin = await readPin(opts.pin)
      const info = await withSigner(opts, (signer, db) => auditedChange(db, { event: 'tokens.initSoftware', object: opts.label, input: { label: opts.label } },
        () => signer.initSoftwareToken(pin, { label: opts.label }), (token) => token))
      printResult(opts, { ok: true, token: info }, () => `Software token ${info.id} initialized`)
    })

  common(token.command('add-pkcs11').description('add a token on a PKCS#11 module, found by label or serial'))
    .requiredOption('--module <path>', 'PKCS#11 module (.so)')
    .option('--label <label>', 'token label')
    .option('--serial <serial>', 'token serial number')
    .action(async (opts: SignerCliOptions & { module: string; label?: string; serial?: string }) => {
      if (opts.label === undefined && opts.serial === undefined) throw new CliExit(EXIT_USAGE, 'Give --label or --serial')
      const input = { module: opts.module, label: opts.label, serial: opts.serial }
      const info = await withSigner(opts, (signer, db) => auditedChange(db, { event: 'tokens.addHsm', object: opts.label ?? opts.serial ?? null, input },
        () => signer.addPkcs11Token(opts.module, { label: opts.label, serial: opts.serial }), (token) => token))
      printResult(opts, { ok: true, token: info }, () => `Token ${info.id} (${info.label}) added`)
    })

  common(token.command('login').description('log in to a token (checks the PIN)'))
    .requiredOption('--token <id>', 'token id')
    .option('--pin <pin>', 'PIN (else read from stdin)')
    .action(async (opts: SignerCliOptions & { token: string }) => {
      const pin = await readPin(opts.pin)
      await withSigner(opts, (signer) => signer.login(opts.token, pin))
      printResult(opts, { ok: true }, () => `Logged in to token ${opts.token}`)
    })

  common(token.command('logout').description('log out of a token'))
    .requiredOption('--token <id>', 'token id')
    .action(async (opts: SignerCliOptions & { token: string }) => {
      await withSigner(opts, (signer) => signer.logout(opts.token))
      printResult(opts, { ok: true }, () => `Logged out of token ${opts.token}`)
    })

  common(token.command('change-pin').description('change the user PIN of a token'))
    .requiredOption('--token <id>', 'token id')
    .option('--pin <pin>', 'current PIN (else read from stdin)')
    .option('--new-pin <pin>', 'new PIN (else read from stdin)')
    .action(async (opts: SignerCliOptions & { token: string; newPin?: string }) => {
      const pin = await readPin(opts.pin, 'Current PIN: ')
      const newPin = await readPin(opts.newPin, 'New PIN: ')
      await withSigner(opts, (signer, db) => auditedChange(db, {
        event: 'tokens.changePin', object: opts.token, input: { tokenId: opts.token },
        state: async () => (await signer.listTokens()).find((t) => t.id === opts.token),
      }, () => signer.changePin(opts.token, pin, newPin)))
      printResult(opts, { ok: true }, () => `PIN of token ${opts.token} changed`)
    })
}

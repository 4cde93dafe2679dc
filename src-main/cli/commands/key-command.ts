import type { Command } from 'commander'
import { KEY_ALGORITHMS, KEY_USAGES, type KeyAlgorithm, type KeyUsage } from '../../signer'
import { CliExit, EXIT_USAGE, printResult } from '../cli-support'
import { auditedChange } from './cli-audit'
import { readPin, withSigner, type SignerCliOptions } from './token-command'

/** `gatehouse key …`: generate, list and delete keys on tokens. */
export function registerKeyCommand(program: Command): void {
  const key = program.command('key').description('keys on security tokens')

  key.command('generate').description('generate a key pair on a token')
    .requiredOption('--data-dir <dir>', 'data directory').option('--json', 'print one JSON document')
    .requiredOption('--token <id>', 'token id')
    .requiredOption('--usage <usage>', 'sign|auth')
    .option('--algorithm <algorithm>', `${KEY_ALGORITHMS.join('|')} (EC P-256 unless given: the cheapest to sign and verify)`, 'ec-p256')
    .requiredOption('--label <label>', 'key label')
    .option('--pin <pin>', 'token PIN (else read from stdin)')
    .action(async (opts: SignerCliOptions & { token: string; usage: string; algorithm: string; label: string }) => {
      if (!(KEY_USAGES as readonly string[]).includes(opts.usage)) throw new CliExit(EXIT_USAGE, `--usage is one of ${KEY_USAGES.join(', ')}`)
      if (!(KEY_ALGORITHMS as readonly string[]).includes(opts.algorithm)) throw new CliExit(EXIT_USAGE, `--algorithm is one of ${KEY_ALGORITHMS.join(', ')}`)
      const pin = await readPin(opts.pin)
      const input = { tokenId: opts.token, usage: opts.usage, algorithm: opts.algorithm, label: opts.label }
      const info = await withSigner(opts, async (signer, db) => {
        await signer.login(opts.token, pin)
        return auditedChange(db, { event: 'keys.generate', object: opts.token, input },
          () => signer.generateKey({ tokenId: opts.token, usage: opts.usage as KeyUsage, algorithm: opts.algorithm as KeyAlgorithm, label: opts.label }), (key) => key)
      })
      const { publicKeyDer, ...rest } = info
      printResult(opts, { ok: true, key: { ...rest, publicKey: publicKeyDer.toString('base64') } }, () => `Key ${info.id} generated (${info.algorithm}, ${info.usage})`)
    })

  key.command('list').description('list keys of the key configuration')
    .requiredOption('--data-dir <dir>', 'data directory').option('--json', 'print one JSON document')
    .action(async (opts: SignerCliOptions) => {
      const keys = await withSigner(opts, async (signer) => signer.listKeys())
      printResult(opts, { ok: true, keys: keys.map(({ publicKeyDer: _p, ...k }) => k) },
        () => keys.map((k) => `${k.id}  ${k.tokenId.padEnd(16)} ${k.usage.padEnd(5)} ${k.algorithm.padEnd(9)} ${k.label}`).join('\n') || '(no keys)')
    })

  key.command('delete <keyId>').description('delete a key with its certificates and CSRs')
    .requiredOption('--data-dir <dir>', 'data directory').option('--json', 'print one JSON document')
    .option('--pin <pin>', 'token PIN (else read from stdin)')
    .action(async (keyId: string, opts: SignerCliOptions) => {
      const pin = await readPin(opts.pin)
      await withSigner(opts, async (signer, db) => {
        const found = signer.listKeys().find((k) => k.id === keyId)
        if (found !== undefined) await signer.login(found.tokenId, pin)
        await auditedChange(db, { event: 'keys.delete', object: keyId, input: { keyId }, state: () => signer.listKeys().find((k) => k.id === keyId) },
          () => signer.deleteKey(keyId))
      })
      printResult(opts, { ok: true }, () => `Key ${keyId} deleted`)
    })
}

import type { Command } from 'commander'
import { readFileSync, statSync } from 'node:fs'
import { serve } from '../../headless'
import { CliExit, EXIT_USAGE } from '../cli-support'

/**
 * The autologin PIN: from `--token-pin-file` (first line; the file must not be readable by others) or the
 * environment variable GATEHOUSE_TOKEN_PIN, which is removed from the environment once read. Never an argument.
 */
function autologinPin(pinFile: string | undefined): string | undefined {
  if (pinFile !== undefined) {
    if ((statSync(pinFile).mode & 0o077) !== 0) throw new CliExit(EXIT_USAGE, `gatehouse: ${pinFile} is readable by other users; chmod 600 it`)
    return readFileSync(pinFile, 'utf8').split(/\r?\n/)[0]
  }
  const pin = process.env.GATEHOUSE_TOKEN_PIN
  delete process.env.GATEHOUSE_TOKEN_PIN
  return pin === undefined || pin === '' ? undefined : pin
}

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('run the security server headless until SIGTERM/SIGINT')
    .requiredOption('--data-dir <dir>', 'data directory (databases, tokens, archives)')
    .option('--config <file>', 'configuration file (default: DATA_DIR/gatehouse.json, else defaults)')
    .option('--json', 'print the listener URLs as one JSON line when ready')
    .option('--token-pin-file <file>', 'autologin: log the software token in at start with the PIN in this file (mode 600); or set GATEHOUSE_TOKEN_PIN')
    .option('--cluster-node <name>', "cluster mode: this node's name (completes or overrides the configuration's cluster section)")
    .option('--cluster-role <role>', 'cluster mode: primary (administrators change configuration here) or secondary (read-only)')
    .option('--cluster-db <url>', 'cluster mode: the shared PostgreSQL, postgres://user@host:port/database?schema=S (password: PGPASSWORD or cluster.postgres.passwordFile)')
    .action(async (opts: {
      dataDir: string; config?: string; json?: boolean; tokenPinFile?: string; clusterNode?: string; clusterRole?: string; clusterDb?: string
    }) => {
      const running = await serve({
        dataDir: opts.dataDir,
        configFile: opts.config,
        tokenPin: autologinPin(opts.tokenPinFile),
        cluster: { node: opts.clusterNode, role: opts.clusterRole, db: opts.clusterDb },
        onReady: (listeners) => {
          const line = opts.json
            ? JSON.stringify({ ready: true, listeners })
            : `Gatehouse is running:\n${listeners.map((l) => `  ${l.name.padEnd(18)} ${l.url}`).join('\n')}`
          process.stdout.write(`${line}\n`)
        },
      })
      await running.stopped
    })
}

import type { Command } from 'commander'
import { serve } from '../../headless'

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('run the security server headless until SIGTERM/SIGINT')
    .requiredOption('--data-dir <dir>', 'data directory (databases, tokens, archives)')
    .option('--config <file>', 'configuration file (default: DATA_DIR/gatehouse.json, else defaults)')
    .option('--json', 'print the listener URLs as one JSON line when ready')
    .action(async (opts: { dataDir: string; config?: string; json?: boolean }) => {
      const running = await serve({
        dataDir: opts.dataDir,
        configFile: opts.config,
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

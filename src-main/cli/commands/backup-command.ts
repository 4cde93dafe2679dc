import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import type { Command } from 'commander'
import { BACKUP_PASSPHRASE_MIN } from '@shared/admin-api/admin-api'
import { BackupStore, deriveKey, extractBackup, type BackupManifest } from '../../backup'
import { SCHEDULE_KEY_FILE, backupDataDirectory, checkRestoredDatabase, dataDirLayout, restoreDataDirectory } from '../../server'
import { CliExit, EXIT_USAGE, printResult } from '../cli-support'
import { cliActor } from './server-conf-db'

/**
 * `gatehouse backup create|verify|list` and `gatehouse restore`: encrypted backups of a data directory (the same files
 * the GUI's Backup and restore card makes) and restoring one into a new data directory. The passphrase is read from
 * standard input, so it never appears in the process list or shell history.
 */
async function readPassphrase(given: boolean | undefined): Promise<string> {
  if (given !== true) throw new CliExit(EXIT_USAGE, 'gatehouse: give the passphrase on standard input with --passphrase-stdin')
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  const passphrase = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '')
  if (passphrase === '') throw new CliExit(EXIT_USAGE, 'gatehouse: the passphrase on standard input is empty')
  return passphrase
}

function summary(manifest: BackupManifest) {
  return {
    createdAt: manifest.createdAt, serverId: manifest.serverId, gatehouseVersion: manifest.gatehouseVersion, kind: manifest.kind,
    files: manifest.files.length, databases: manifest.databases.map((d) => d.path), auditLogHead: manifest.auditLog?.head ?? null,
  }
}

function describe(manifest: BackupManifest): string {
  return [
    `  server:     ${manifest.serverId ?? '(not initialized)'}`,
    `  made:       ${manifest.createdAt} by Gatehouse ${manifest.gatehouseVersion} (${manifest.kind})`,
    `  files:      ${manifest.files.length}, databases ${manifest.databases.map((d) => d.path).join(', ')}`,
    ...(manifest.auditLog === null ? [] : [`  audit log:  head #${manifest.auditLog.head.id} ${manifest.auditLog.head.hash}`]),
  ].join('\n')
}

export function registerBackupCommand(program: Command): void {
  const backup = program.command('backup').description('encrypted backups of a data directory (scrypt + AES-256-GCM)')
  backup
    .command('create')
    .description('back up a data directory (running or not) into DATA_DIR/backups or --out')
    .requiredOption('--data-dir <dir>', 'data directory')
    .option('--out <file>', 'where to write the backup (default DATA_DIR/backups/gatehouse-<server>-<time>.ghbackup)')
    .option('--passphrase-stdin', 'read the passphrase from standard input')
    .option('--json', 'print one JSON document')
    .action(async (opts: { dataDir: string; out?: string; passphraseStdin?: boolean; json?: boolean }) => {
      const passphrase = await readPassphrase(opts.passphraseStdin)
      if (passphrase.length < BACKUP_PASSPHRASE_MIN) throw new CliExit(EXIT_USAGE, `gatehouse: a backup passphrase has at least ${BACKUP_PASSPHRASE_MIN} characters`)
      const made = await backupDataDirectory(opts.dataDir, await deriveKey(passphrase), opts.out === undefined ? undefined : resolve(opts.out))
      printResult(opts, { ok: true, file: made.path, size: made.file.size, ...summary(made.manifest) }, () => `Backup written to ${made.path} (${made.file.size} bytes)\n${describe(made.manifest)}`)
    })
  backup
    .command('verify')
    .description('decrypt and check a backup (passphrase, every chunk, the manifest, every hash, every database) without restoring it')
    .requiredOption('--from <file>', 'backup file')
    .option('--passphrase-stdin', 'read the passphrase from standard input')
    .option('--json', 'print one JSON document')
    .action(async (opts: { from: string; passphraseStdin?: boolean; json?: boolean }) => {
      const passphrase = await readPassphrase(opts.passphraseStdin)
      const scratch = mkdtempSync(join(tmpdir(), 'gatehouse-verify-'))
      try {
        const manifest = await extractBackup({ file: opts.from, passphrase, into: join(scratch, 'data'), checkDatabase: checkRestoredDatabase })
        printResult(opts, { ok: true, ...summary(manifest) }, () => `The backup verifies\n${describe(manifest)}`)
      } finally {
        rmSync(scratch, { recursive: true, force: true })
      }
    })
  backup
    .command('list')
    .description('the backups in DATA_DIR/backups, newest first')
    .requiredOption('--data-dir <dir>', 'data directory')
    .option('--json', 'print one JSON document')
    .action((opts: { dataDir: string; json?: boolean }) => {
      const layout = dataDirLayout(opts.dataDir)
      const backups = new BackupStore(layout.backupsDir, join(layout.root, SCHEDULE_KEY_FILE)).list()
      printResult(opts, { backups }, () => backups.map((b) => `${b.createdAt}  ${String(b.size).padStart(12)}  ${b.kind.padEnd(9)}  ${b.name}`).join('\n') || '(no backups)')
    })

  program
    .command('restore')
    .description('restore a backup into a new (absent or empty) data directory; nothing is written there unless the whole backup verifies')
    .requiredOption('--data-dir <dir>', 'the new data directory')
    .requiredOption('--from <file>', 'backup file')
    .option('--passphrase-stdin', 'read the passphrase from standard input')
    .option('--json', 'print one JSON document')
    .action(async (opts: { dataDir: string; from: string; passphraseStdin?: boolean; json?: boolean }) => {
      const passphrase = await readPassphrase(opts.passphraseStdin)
      const manifest = await restoreDataDirectory({ dataDir: opts.dataDir, file: opts.from, passphrase, actor: cliActor() })
      const dir = resolve(opts.dataDir)
      printResult(opts, { ok: true, dataDir: dir, ...summary(manifest) }, () =>
        `Restored into ${dir}\n${describe(manifest)}\nStart it with: gatehouse serve --data-dir ${dir} (log in to its tokens with their PINs)`)
    })
}

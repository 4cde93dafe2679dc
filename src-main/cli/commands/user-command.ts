import { mkdirSync } from 'node:fs'
import type { Command } from 'commander'
import { ADMIN_ROLES, isAdminRole } from '@shared/admin-api/admin-roles'
import { createAdminAccounts } from '../../admin'
import { appendAuditEntry } from '../../audit-log'
import { closeDatabase, systemClock, toSecurityServerError } from '../../platform'
import { dataDirLayout, openServerConfDatabase } from '../../server'
import { CliExit, EXIT_USAGE, printResult } from '../cli-support'
import { cliActor } from './server-conf-db'

/**
 * `gatehouse user add`: creates a local admin account headlessly (e.g. the first administrator before the GUI is
 * opened). The password is read from stdin so it never appears in the process list or shell history.
 */
async function readStdin(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '')
}

export function registerUserCommand(program: Command): void {
  const user = program.command('user').description('manage local admin accounts (roles, passwords)')
  user
    .command('add')
    .description('create an admin account; the password is read from stdin')
    .requiredOption('--data-dir <dir>', 'data directory')
    .requiredOption('--username <name>', 'user name')
    .option('--role <role...>', `role(s): ${ADMIN_ROLES.join(', ')}`, ['observer'])
    .option('--password-stdin', 'read the password from standard input')
    .option('--config <file>', 'configuration file (accepted for compatibility; accounts live in serverconf.sqlite)')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { dataDir: string; username: string; role: string[]; passwordStdin?: boolean; config?: string; json?: boolean }) => {
      const unknown = opts.role.filter((r) => !isAdminRole(r))
      if (unknown.length > 0) throw new CliExit(EXIT_USAGE, `gatehouse: unknown role(s) ${unknown.join(', ')}; use ${ADMIN_ROLES.join(', ')}`)
      if (!opts.passwordStdin) throw new CliExit(EXIT_USAGE, 'gatehouse: give the password on standard input with --password-stdin')
      const password = await readStdin()
      // Only serverconf.sqlite is opened (server configuration, audit log and admin-account migrations): no
      // security-server domain, token or listener is started for an account change.
      const layout = dataDirLayout(opts.dataDir)
      mkdirSync(layout.root, { recursive: true, mode: 0o700 })
      const db = openServerConfDatabase(layout)
      try {
        const accounts = createAdminAccounts(() => db, systemClock)
        const audit = (outcome: 'success' | 'failure', errorCode: string | null): void => {
          appendAuditEntry(db, {
            at: systemClock.now().toISOString(), actor: cliActor(), event: 'users.add', outcome,
            data: { username: opts.username, roles: opts.role }, errorCode,
          })
        }
        let created
        try {
          created = await accounts.createUser({ username: opts.username, password, roles: opts.role })
        } catch (error) {
          audit('failure', toSecurityServerError(error).code)
          throw error
        }
        audit('success', null)
        const user = { username: created.username, roles: created.roles, createdAt: created.createdAt }
        printResult(opts, { ok: true, user }, () => `Created user ${user.username} with roles ${user.roles.join(', ')}`)
      } finally {
        closeDatabase(db)
      }
    })
}

import { existsSync, mkdirSync } from 'node:fs'
import type { Command } from 'commander'
import { ADMIN_ROLES, isAdminRole } from '@shared/admin-api/admin-roles'
import { clearLoginLockout, createAdminAccounts } from '../../admin'
import { appendAuditEntry } from '../../audit-log'
import { closeDatabase, systemClock, toSecurityServerError } from '../../platform'
import { dataDirLayout, openServerConfDatabase } from '../../server'
import { CliExit, EXIT_USAGE, printResult } from '../cli-support'
import { cliActor } from './server-conf-db'

/**
 * `gatehouse user add`: creates a local admin account headlessly (e.g. the first administrator before the GUI is
 * opened). `gatehouse user passwd`: sets a new password on a locked-out server, run locally by whoever holds the data
 * directory; it ends the account's sessions and clears the sign-in lockout, and the running server sees both at once
 * (it reads accounts and failed sign-ins from the same database). Passwords are read from stdin so they never appear
 * in the process list or shell history. Both are recorded in the audit log with the actor `cli:<os user>`.
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
            at: systemClock.now().toISOString(), actor: cliActor(), event: 'users.add', outcome, object: opts.username,
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
  user
    .command('passwd')
    .description('set a new password for an admin account (e.g. on a locked-out server); the password is read from stdin')
    .requiredOption('--data-dir <dir>', 'data directory')
    .requiredOption('--username <name>', 'user name')
    .option('--password-stdin', 'read the new password from standard input')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { dataDir: string; username: string; passwordStdin?: boolean; json?: boolean }) => {
      if (!opts.passwordStdin) throw new CliExit(EXIT_USAGE, 'gatehouse: give the new password on standard input with --password-stdin')
      const layout = dataDirLayout(opts.dataDir)
      if (!existsSync(layout.serverConfDb)) throw new CliExit(EXIT_USAGE, `gatehouse: ${opts.dataDir} holds no Gatehouse data directory`)
      const password = await readStdin()
      const db = openServerConfDatabase(layout)
      try {
        const accounts = createAdminAccounts(() => db, systemClock)
        const audit = (outcome: 'success' | 'failure', errorCode: string | null, data: Record<string, unknown> = {}): void => {
          appendAuditEntry(db, {
            at: systemClock.now().toISOString(), actor: cliActor(), event: 'users.setPassword', outcome, object: opts.username,
            data: { username: opts.username, via: 'cli', ...data }, errorCode,
          })
        }
        let changed
        try {
          changed = await accounts.setPassword(opts.username, password)
        } catch (error) {
          audit('failure', toSecurityServerError(error).code)
          throw error
        }
        const cleared = clearLoginLockout(db, changed.username)
        audit('success', null, { lockoutCleared: cleared > 0 })
        printResult(opts, { ok: true, username: changed.username, sessionsEnded: true, lockoutCleared: cleared > 0 }, () =>
          `Password of ${changed.username} changed; their sessions ended${cleared > 0 ? ' and the sign-in lockout was cleared' : ''}`)
      } finally {
        closeDatabase(db)
      }
    })
}

import type { Command } from 'commander'
import { ADMIN_ROLES, isAdminRole, type AdminRole } from '@shared/admin-api/admin-roles'
import { createLogger } from '../../platform'
import { createSecurityServer, loadServerConfig, type ServerConfig } from '../../server'
import { CliExit, EXIT_USAGE, printResult } from '../cli-support'

/**
 * `gatehouse user add`: creates a local admin account headlessly (e.g. the first administrator before the GUI is
 * opened). The password is read from stdin so it never appears in the process list or shell history.
 */
async function readStdin(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '')
}

/** No listeners: the command only touches the database. */
function withoutListeners(config: ServerConfig): ServerConfig {
  return {
    ...config,
    logging: { level: 'warn' },
    internal: { ...config.internal, adminPort: null, clientProxyHttpPort: null, clientProxyHttpsPort: null },
    external: { ...config.external, serverProxyPort: null, ocspResponderPort: null },
  }
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
    .option('--config <file>', 'configuration file')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { dataDir: string; username: string; role: string[]; passwordStdin?: boolean; config?: string; json?: boolean }) => {
      const unknown = opts.role.filter((r) => !isAdminRole(r))
      if (unknown.length > 0) throw new CliExit(EXIT_USAGE, `gatehouse: unknown role(s) ${unknown.join(', ')}; use ${ADMIN_ROLES.join(', ')}`)
      if (!opts.passwordStdin) throw new CliExit(EXIT_USAGE, 'gatehouse: give the password on standard input with --password-stdin')
      const password = await readStdin()
      const config = withoutListeners(loadServerConfig(opts.dataDir, opts.config))
      const server = createSecurityServer({ dataDir: opts.dataDir, config, logger: createLogger({ level: 'warn' }) })
      await server.start()
      try {
        const created = await server.admin.users.add({ username: opts.username, password, roles: opts.role as AdminRole[] })
        printResult(opts, { ok: true, user: created }, () => `Created user ${created.username} with roles ${created.roles.join(', ')}`)
      } finally {
        await server.stop()
      }
    })
}

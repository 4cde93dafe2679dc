import { readFileSync } from 'node:fs'
import type { Command } from 'commander'
import { formatIdPath } from '@shared/domain/identifiers'
import { listedOnServer, servedByAnotherServer } from '../../admin'
import { GlobalConf, readStoredConfiguration } from '../../global-conf'
import { clientError, pemBlocks, type PemBlock } from '../../platform'
import { dataDirLayout } from '../../server'
import { CLIENT_STATES, IS_AUTHENTICATION_MODES, type ClientState, type IsAuthentication, type LocalClient } from '../../server-conf'
import { CliExit, EXIT_USAGE, printResult } from '../cli-support'
import { clientRequestCommand } from './register-command'
import { parseClientArg, readServerConf, withCommonOptions, withServerConf, type DataDirOptions } from './server-conf-db'

/**
 * `gatehouse client add|list|set-state|register|unregister|disable|enable|delete|set-is-auth|add-cert`: the security
 * server's clients (members and subsystems), their registration state and how their information systems connect
 * (ug-ss §4, §9). `register` and `unregister` send management requests (pr-mserv clientReg, clientDeletion) to the
 * central server; the lab's own registry is changed only by its operator (`gatehouse lab …`).
 */
interface ClientOptions extends DataDirOptions {
  client: string
}

function clientJson(c: LocalClient) {
  return { id: formatIdPath(c.id), objectType: c.id.objectType, state: c.state, isAuthentication: c.isAuthentication, createdAt: c.createdAt }
}

function describeClient(c: LocalClient): string {
  return `${formatIdPath(c.id)}  ${c.state}  ${c.isAuthentication}`
}

function state(value: string): ClientState {
  const upper = value.toUpperCase()
  if (!(CLIENT_STATES as readonly string[]).includes(upper)) throw new CliExit(EXIT_USAGE, `gatehouse: --state must be one of ${CLIENT_STATES.join(', ')}`)
  return upper as ClientState
}

function isAuth(value: string): IsAuthentication {
  const upper = value.toUpperCase()
  if (!(IS_AUTHENTICATION_MODES as readonly string[]).includes(upper)) {
    throw new CliExit(EXIT_USAGE, `gatehouse: --is-auth must be one of ${IS_AUTHENTICATION_MODES.join(', ')}`)
  }
  return upper as IsAuthentication
}

function addCommand(opts: ClientOptions & { state: string; isAuth?: string }): void {
  const id = parseClientArg(opts.client, '--client')
  const initial = state(opts.state)
  const mode = opts.isAuth === undefined ? undefined : isAuth(opts.isAuth)
  const client = withServerConf(opts.dataDir, 'client.add', { client: formatIdPath(id), state: initial, isAuthentication: mode }, ({ conf }) => {
    const added = conf.addClient(id, initial)
    return mode === undefined ? added : conf.setIsAuthentication(id, mode)
  })
  printResult(opts, { ok: true, client: clientJson(client) }, () => `added client ${describeClient(client)}`)
}

function listCommand(opts: DataDirOptions): void {
  const clients = readServerConf(opts.dataDir, (conf) => conf.listClients())
  printResult(opts, { clients: clients.map(clientJson) }, () => (clients.length === 0 ? 'no clients' : clients.map(describeClient).join('\n')))
}

function setStateCommand(opts: ClientOptions & { state: string }): void {
  const id = parseClientArg(opts.client, '--client')
  const next = state(opts.state)
  const client = withServerConf(opts.dataDir, 'client.set_state', { client: formatIdPath(id), state: next }, ({ conf }) => conf.setClientState(id, next))
  printResult(opts, { ok: true, client: clientJson(client) }, () => `client ${describeClient(client)}`)
}

function enableCommand(enabled: boolean) {
  return (opts: ClientOptions): void => {
    const id = parseClientArg(opts.client, '--client')
    const client = withServerConf(opts.dataDir, enabled ? 'client.enable' : 'client.disable', { client: formatIdPath(id) }, ({ conf }) =>
      enabled ? conf.enableClient(id) : conf.disableClient(id))
    printResult(opts, { ok: true, client: clientJson(client) }, () => `client ${describeClient(client)}`)
  }
}

/** Deletes a SAVED or unregistered client with what belongs to it (ug-ss §4.5); never the owner. */
function deleteCommand(opts: ClientOptions): void {
  const id = parseClientArg(opts.client, '--client')
  const layout = dataDirLayout(opts.dataDir)
  const removal = withServerConf(opts.dataDir, 'client.delete', { client: formatIdPath(id) }, ({ conf }) => {
    const snapshot = readStoredConfiguration(layout.globalConfDir)
    const global = snapshot === undefined ? undefined : new GlobalConf(snapshot)
    const server = conf.identity()?.serverId
    return conf.deleteClient(id, {
      removeAsSubject: !servedByAnotherServer(global?.own.shared, server, id),
      removedFromInstance: listedOnServer(global, server, id) === false,
    })
  })
  const value = { ...removal, services: removal.services.map(formatIdPath) }
  printResult(opts, { ok: true, client: formatIdPath(id), removed: value }, () => [
    `deleted client ${formatIdPath(id)}`,
    `  services: ${value.services.length === 0 ? 'none' : value.services.join(', ')} (${removal.accessRights} access rights)`,
    `  local groups: ${removal.localGroups.length === 0 ? 'none' : removal.localGroups.join(', ')}`,
    `  IS certificates: ${removal.isCertificates}`,
    `  access rights naming it elsewhere: ${removal.rightsAsSubject}, group memberships: ${removal.groupMemberships}`,
  ].join('\n'))
}

function isAuthCommand(opts: ClientOptions & { mode: string }): void {
  const id = parseClientArg(opts.client, '--client')
  const mode = isAuth(opts.mode)
  const client = withServerConf(opts.dataDir, 'client.set_is_authentication', { client: formatIdPath(id), mode }, ({ conf }) =>
    conf.setIsAuthentication(id, mode),
  )
  printResult(opts, { ok: true, client: clientJson(client) }, () => `client ${describeClient(client)}`)
}

/** The IS TLS certificate accepted for SSLAUTH (ug-ss §9.4): PEM or DER file. */
function addCertCommand(opts: ClientOptions & { cert: string }): void {
  const id = parseClientArg(opts.client, '--client')
  let bytes: Buffer
  try {
    bytes = readFileSync(opts.cert)
  } catch (cause) {
    throw clientError('cert_not_found', `Cannot read certificate file ${opts.cert}`, { cause })
  }
  let pem: PemBlock | undefined
  try {
    pem = pemBlocks(bytes.toString('latin1'), { labels: ['CERTIFICATE'] })[0]
  } catch (cause) {
    throw clientError('incorrect_certificate', `${opts.cert} is not a PEM or DER certificate: ${(cause as Error).message}`, { cause })
  }
  const der = pem === undefined ? bytes : pem.der
  if (der[0] !== 0x30) throw clientError('incorrect_certificate', `${opts.cert} is not a PEM or DER certificate`)
  const added = withServerConf(opts.dataDir, 'client.add_is_certificate', { client: formatIdPath(id), file: opts.cert }, ({ conf }) =>
    conf.addIsCertificate(id, der),
  )
  printResult(opts, { ok: true, client: formatIdPath(id), sha256: added.sha256 }, () => `added TLS certificate ${added.sha256} to ${formatIdPath(id)}`)
}

export function registerClientCommand(program: Command): void {
  const client = program.command('client').description("the security server's clients and their IS connection")
  withCommonOptions(client.command('add').description('add a member or subsystem as a client'))
    .requiredOption('--client <id>', 'INSTANCE/CLASS/CODE[/SUBSYSTEM]')
    .option('--state <state>', `initial state (${CLIENT_STATES.join(', ')})`, 'SAVED')
    .option('--is-auth <mode>', `IS connection type (${IS_AUTHENTICATION_MODES.join(', ')})`)
    .action(addCommand)
  withCommonOptions(client.command('list').description('list the clients')).action(listCommand)
  withCommonOptions(client.command('set-state').description("change a client's registration state"))
    .requiredOption('--client <id>', 'INSTANCE/CLASS/CODE[/SUBSYSTEM]')
    .requiredOption('--state <state>', CLIENT_STATES.join(', '))
    .action(setStateCommand)
  // The management requests of `gatehouse register client|delete-client`, here too where operators look for them.
  clientRequestCommand(client.command('register').description('clientReg to the central server: SAVED → REGISTRATION_IN_PROGRESS (as `register client`)'), 'register')
  clientRequestCommand(client.command('unregister').description('clientDeletion to the central server: → DELETION_IN_PROGRESS (as `register delete-client`)'), 'unregister')
  withCommonOptions(client.command('disable').description('disable a registered client (its messages are refused)'))
    .requiredOption('--client <id>', 'INSTANCE/CLASS/CODE[/SUBSYSTEM]')
    .action(enableCommand(false))
  withCommonOptions(client.command('enable').description('enable a disabled client'))
    .requiredOption('--client <id>', 'INSTANCE/CLASS/CODE[/SUBSYSTEM]')
    .action(enableCommand(true))
  withCommonOptions(client.command('delete').description('delete a SAVED or unregistered client with its services, endpoints, access rights, local groups and IS certificates'))
    .requiredOption('--client <id>', 'INSTANCE/CLASS/CODE[/SUBSYSTEM]')
    .action(deleteCommand)
  withCommonOptions(client.command('set-is-auth').alias('is-auth').description("set a client's IS connection type"))
    .requiredOption('--client <id>', 'INSTANCE/CLASS/CODE[/SUBSYSTEM]')
    .requiredOption('--mode <mode>', IS_AUTHENTICATION_MODES.join(', '))
    .action(isAuthCommand)
  withCommonOptions(client.command('add-cert').description("accept an information system's TLS certificate for a client"))
    .requiredOption('--client <id>', 'INSTANCE/CLASS/CODE[/SUBSYSTEM]')
    .requiredOption('--cert <file>', 'PEM or DER certificate')
    .action(addCertCommand)
}

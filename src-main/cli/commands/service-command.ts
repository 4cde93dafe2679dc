import type { Command } from 'commander'
import { formatIdPath } from '@shared/domain/identifiers'
import { DEFAULT_SERVICE_TIMEOUT_SECONDS, type ConfiguredService } from '../../server-conf'
import { CliExit, EXIT_USAGE, printResult } from '../cli-support'
import {
  parseClientArg, parseIntegerArg, parseServiceArg, readServerConf, subjectText, withCommonOptions, withServerConf, type DataDirOptions, serviceText,
} from './server-conf-db'
import { registerServiceDescriptionCommands } from './service-description-command'

/**
 * `gatehouse service add|list|update|enable|disable|delete`: REST services of a client — base URL, timeout, TLS
 * verification and the disabled notice (ug-ss §6, §6.1.3).
 */
function serviceJson(s: ConfiguredService) {
  return {
    id: serviceText(s.serviceId), url: s.url, timeoutSeconds: s.timeoutSeconds, sslVerify: s.sslVerify, disabled: s.disabled,
    ...(s.disabledNotice === undefined ? {} : { disabledNotice: s.disabledNotice }),
  }
}

function describeService(s: ConfiguredService): string {
  return `${serviceText(s.serviceId)}  ${s.url}  ${s.timeoutSeconds}s${s.sslVerify ? '' : ' no-ssl-verify'}${s.disabled ? '  DISABLED' : ''}`
}

interface AddOptions extends DataDirOptions {
  client: string
  code: string
  url: string
  timeout: string
  sslVerify: boolean
}

function addCommand(opts: AddOptions): void {
  const provider = parseClientArg(opts.client, '--client')
  const timeoutSeconds = parseIntegerArg(opts.timeout, '--timeout', 1, 3600)
  const input = { code: opts.code, url: opts.url, timeoutSeconds, sslVerify: opts.sslVerify }
  const service = withServerConf(opts.dataDir, 'service.add', { client: formatIdPath(provider), ...input }, ({ conf }) => conf.addService(provider, input))
  printResult(opts, { ok: true, service: serviceJson(service) }, () => `added service ${describeService(service)}`)
}

interface UpdateOptions extends DataDirOptions {
  service: string
  url?: string
  timeout?: string
  sslVerify?: boolean
}

function updateCommand(opts: UpdateOptions): void {
  const id = parseServiceArg(opts.service, '--service')
  const changes = {
    ...(opts.url === undefined ? {} : { url: opts.url }),
    ...(opts.timeout === undefined ? {} : { timeoutSeconds: parseIntegerArg(opts.timeout, '--timeout', 1, 3600) }),
    ...(opts.sslVerify === undefined ? {} : { sslVerify: opts.sslVerify }),
  }
  if (Object.keys(changes).length === 0) throw new CliExit(EXIT_USAGE, 'gatehouse: give --url, --timeout, --ssl-verify or --no-ssl-verify')
  const service = withServerConf(opts.dataDir, 'service.update', { service: serviceText(id), ...changes }, ({ conf }) => conf.updateService(id, changes))
  printResult(opts, { ok: true, service: serviceJson(service) }, () => `updated ${describeService(service)}`)
}

/** Deletes a service with its endpoints; prints who lost access. */
function deleteCommand(opts: DataDirOptions & { service: string }): void {
  const id = parseServiceArg(opts.service, '--service')
  const rights = withServerConf(opts.dataDir, 'service.delete', { service: serviceText(id) }, ({ conf }) => conf.deleteService(id))
  const lost = rights.map((r) => ({ subject: subjectText(r.subject), method: r.endpoint.method, path: r.endpoint.path }))
  printResult(opts, { ok: true, service: serviceText(id), accessRightsRemoved: lost }, () =>
    [`deleted service ${serviceText(id)}`, ...lost.map((r) => `  ${r.subject} lost access to ${r.method} ${r.path}`)].join('\n'))
}

function listCommand(opts: DataDirOptions & { client?: string }): void {
  const provider = opts.client === undefined ? undefined : parseClientArg(opts.client, '--client')
  const services = readServerConf(opts.dataDir, (conf) => conf.listServices(provider))
  printResult(opts, { services: services.map(serviceJson) }, () => (services.length === 0 ? 'no services' : services.map(describeService).join('\n')))
}

function toggle(enabled: boolean) {
  return (opts: DataDirOptions & { service: string; notice?: string }): void => {
    const id = parseServiceArg(opts.service, '--service')
    const event = enabled ? 'service.enable' : 'service.disable'
    const service = withServerConf(opts.dataDir, event, { service: serviceText(id), notice: opts.notice }, ({ conf }) =>
      conf.setServiceEnabled(id, enabled, opts.notice),
    )
    printResult(opts, { ok: true, service: serviceJson(service) }, () => `${enabled ? 'enabled' : 'disabled'} ${describeService(service)}`)
  }
}

export function registerServiceCommand(program: Command): void {
  const service = program.command('service').description("a client's services and their descriptions (WSDL, OpenAPI 3, REST)")
  withCommonOptions(service.command('add').description('add a REST service'))
    .requiredOption('--client <id>', 'provider INSTANCE/CLASS/CODE[/SUBSYSTEM]')
    .requiredOption('--code <code>', 'service code')
    .requiredOption('--url <url>', 'REST base URL (http or https)')
    .option('--timeout <seconds>', 'service timeout in seconds', String(DEFAULT_SERVICE_TIMEOUT_SECONDS))
    .option('--no-ssl-verify', "do not verify the service's TLS certificate")
    .action(addCommand)
  withCommonOptions(service.command('list').description('list services'))
    .option('--client <id>', 'only this provider')
    .action(listCommand)
  withCommonOptions(service.command('update').description("change a service's URL, timeout or TLS verification"))
    .requiredOption('--service <id>', 'INSTANCE/CLASS/CODE/SUBSYSTEM/SERVICE')
    .option('--url <url>', 'REST base URL (http or https)')
    .option('--timeout <seconds>', 'service timeout in seconds')
    .option('--ssl-verify', "verify the service's TLS certificate")
    .option('--no-ssl-verify', "do not verify the service's TLS certificate")
    .action(updateCommand)
  withCommonOptions(service.command('delete').description('delete a service with its endpoints and access rights'))
    .requiredOption('--service <id>', 'INSTANCE/CLASS/CODE/SUBSYSTEM/SERVICE')
    .action(deleteCommand)
  withCommonOptions(service.command('enable').description('enable a service'))
    .requiredOption('--service <id>', 'INSTANCE/CLASS/CODE/SUBSYSTEM/SERVICE')
    .action(toggle(true))
  withCommonOptions(service.command('disable').description('disable a service (clients get service_disabled)'))
    .requiredOption('--service <id>', 'INSTANCE/CLASS/CODE/SUBSYSTEM/SERVICE')
    .option('--notice <text>', 'message shown to clients')
    .action(toggle(false))
  registerServiceDescriptionCommands(service)
}

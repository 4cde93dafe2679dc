import type { Command } from 'commander'
import type { Endpoint } from '../../server-conf'
import { printResult } from '../cli-support'
import { parseServiceArg, readServerConf, subjectText, withCommonOptions, withServerConf, type DataDirOptions, serviceText } from './server-conf-db'

/**
 * `gatehouse endpoint add|list|delete`: REST endpoints (method + path pattern with `*`/`**`) of a service, the unit access
 * rights are granted on (ug-ss §6.1.4).
 */
function endpointJson(e: Endpoint) {
  return { service: serviceText(e.serviceId), method: e.method, path: e.path, generated: e.generated }
}

function addCommand(opts: DataDirOptions & { service: string; method: string; path: string }): void {
  const id = parseServiceArg(opts.service, '--service')
  const endpoint = withServerConf(opts.dataDir, 'endpoint.add', { service: serviceText(id), method: opts.method, path: opts.path }, ({ conf }) =>
    conf.addEndpoint(id, { method: opts.method, path: opts.path }),
  )
  printResult(opts, { ok: true, endpoint: endpointJson(endpoint) }, () => `added endpoint ${endpoint.method} ${endpoint.path} to ${opts.service}`)
}

/** Deletes an endpoint (never the generated whole-service one); prints who lost access. */
function deleteCommand(opts: DataDirOptions & { service: string; method: string; path: string }): void {
  const id = parseServiceArg(opts.service, '--service')
  const rights = withServerConf(opts.dataDir, 'endpoint.delete', { service: serviceText(id), method: opts.method, path: opts.path }, ({ conf }) =>
    conf.deleteEndpoint(id, { method: opts.method, path: opts.path }),
  )
  const lost = rights.map((r) => subjectText(r.subject))
  printResult(opts, { ok: true, service: serviceText(id), method: opts.method.toUpperCase(), path: opts.path, accessRightsRemoved: lost }, () =>
    [`deleted endpoint ${opts.method.toUpperCase()} ${opts.path} of ${serviceText(id)}`, ...lost.map((s) => `  ${s} lost access`)].join('\n'))
}

function listCommand(opts: DataDirOptions & { service: string }): void {
  const id = parseServiceArg(opts.service, '--service')
  const endpoints = readServerConf(opts.dataDir, (conf) => conf.listEndpoints(id))
  printResult(opts, { endpoints: endpoints.map(endpointJson) }, () => endpoints.map((e) => `${e.method} ${e.path}${e.generated ? ' (base)' : ''}`).join('\n'))
}

export function registerEndpointCommand(program: Command): void {
  const endpoint = program.command('endpoint').description("a service's REST endpoints")
  withCommonOptions(endpoint.command('add').description('add an endpoint'))
    .requiredOption('--service <id>', 'INSTANCE/CLASS/CODE/SUBSYSTEM/SERVICE')
    .requiredOption('--method <method>', 'HTTP method or *')
    .requiredOption('--path <path>', 'path pattern, e.g. /pets/*')
    .action(addCommand)
  withCommonOptions(endpoint.command('delete').description('delete an endpoint and its access rights'))
    .requiredOption('--service <id>', 'INSTANCE/CLASS/CODE/SUBSYSTEM/SERVICE')
    .requiredOption('--method <method>', 'HTTP method or *')
    .requiredOption('--path <path>', 'path pattern')
    .action(deleteCommand)
  withCommonOptions(endpoint.command('list').description("list a service's endpoints"))
    .requiredOption('--service <id>', 'INSTANCE/CLASS/CODE/SUBSYSTEM/SERVICE')
    .action(listCommand)
}

import { readFileSync } from 'node:fs'
import { basename } from 'node:path'
import type { Command } from 'commander'
import { formatIdPath, type ClientId } from '@shared/domain/identifiers'
import {
  MAX_OPENAPI_BYTES, WSDL_LIMITS, DEFAULT_DESCRIPTION_TIMEOUT_MS, descriptionUrl, downloadDescription, parseOpenApi, parseWsdl,
  type DescriptionChange, type ServiceDescription,
} from '../../server-conf'
import { CliExit, EXIT_FAILED, EXIT_USAGE, printResult } from '../cli-support'
import { parseClientArg, parseIntegerArg, readServerConf, serviceText, subjectText, withCommonOptions, withServerConf, type DataDirOptions } from './server-conf-db'

/**
 * `gatehouse service description list|add-wsdl|add-openapi|add-rest|refresh|enable|disable|delete`: a client's service
 * descriptions (ug-ss §6.1): a WSDL's operations become services with their versions, an OpenAPI 3 description (URL or
 * JSON file) one REST service with derived endpoints, a REST base URL one service. `refresh` prints what would be
 * added and removed and applies it only with `--yes` (X-Road's warnings and `ignore_warnings`).
 */
function descriptionJson(d: ServiceDescription) {
  return {
    id: d.id, client: formatIdPath(d.client), type: d.type, url: d.url, uploaded: d.uploaded, disabled: d.disabled,
    ...(d.disabledNotice === undefined ? {} : { disabledNotice: d.disabledNotice }), refreshedAt: d.refreshedAt,
    services: d.services.map((s) => ({ id: serviceText(s.serviceId), ...(s.title === undefined ? {} : { title: s.title }), url: s.url })),
  }
}

function describeDescription(d: ServiceDescription): string {
  const head = `#${d.id} ${d.type} ${d.url}${d.disabled ? `  DISABLED${d.disabledNotice ? ` (${d.disabledNotice})` : ''}` : ''}`
  return [head, ...d.services.map((s) => `  ${serviceText(s.serviceId)}  ${s.url}`)].join('\n')
}

function changeJson(c: DescriptionChange) {
  return {
    ok: c.applied, applied: c.applied, warnings: c.warnings,
    description: c.description === undefined ? null : descriptionJson(c.description),
    accessRightsRemoved: c.accessRightsRemoved.map((r) => ({ service: serviceText(r.serviceId), method: r.endpoint.method, path: r.endpoint.path, subject: subjectText(r.subject) })),
  }
}

function describeChange(c: DescriptionChange, confirm: string): string {
  const lines = c.warnings.map((w) => `  ${w.code}: ${w.metadata.join(', ')}`)
  const lost = c.accessRightsRemoved.map((r) => `  ${subjectText(r.subject)} would lose ${serviceText(r.serviceId)} ${r.endpoint.method} ${r.endpoint.path}`)
  if (!c.applied) return ['nothing changed yet:', ...lines, ...lost, confirm].join('\n')
  return [c.description === undefined ? 'done' : describeDescription(c.description), ...lines].join('\n')
}

interface DownloadOptions extends DataDirOptions {
  timeout: string
}

const downloadTimeout = (opts: DownloadOptions): number => parseIntegerArg(opts.timeout, '--timeout', 1, 600) * 1000

async function readWsdlAt(url: string, opts: DownloadOptions) {
  return parseWsdl(await downloadDescription(url, { maxBytes: WSDL_LIMITS.maxBytes, timeoutMs: downloadTimeout(opts), failureCode: 'wsdl_download_failed', what: 'Reading the WSDL failed' }))
}

/** An OpenAPI description from `--url` or `--file` (JSON). */
async function readOpenApiFrom(opts: DownloadOptions & { url?: string; file?: string }) {
  if ((opts.url === undefined) === (opts.file === undefined)) throw new CliExit(EXIT_USAGE, 'gatehouse: give --url or --file')
  if (opts.file !== undefined) {
    const bytes = readFileSync(opts.file)
    if (bytes.length > MAX_OPENAPI_BYTES) throw new CliExit(EXIT_FAILED, `gatehouse: ${opts.file} is larger than ${MAX_OPENAPI_BYTES} bytes`)
    const name = basename(opts.file)
    return { url: name, document: new Uint8Array(bytes), parsed: parseOpenApi(bytes.toString('utf8'), { name }) }
  }
  const url = descriptionUrl(opts.url as string).toString()
  const body = await downloadDescription(url, { maxBytes: MAX_OPENAPI_BYTES, timeoutMs: downloadTimeout(opts), failureCode: 'openapi_parsing_error', what: 'Error reading OpenAPI description' })
  return { url: opts.url as string, parsed: parseOpenApi(body.toString('utf8'), { url, name: url }) }
}

/** Warnings not yet accepted: what was printed is the answer, and the command did not do its work (exit 1). */
function exitUnlessApplied(change: DescriptionChange): void {
  if (!change.applied) throw new CliExit(EXIT_FAILED, '')
}

export function registerServiceDescriptionCommands(service: Command): void {
  const group = service.command('description').description('service descriptions of a client: WSDL, OpenAPI 3 and REST')
  const client = (opts: { client: string }): ClientId => parseClientArg(opts.client, '--client')
  const idOf = (value: string): number => parseIntegerArg(value, '--id', 1, Number.MAX_SAFE_INTEGER)

  withCommonOptions(group.command('list').description("a client's service descriptions with their services"))
    .requiredOption('--client <id>', 'INSTANCE/CLASS/CODE/SUBSYSTEM')
    .action((opts: DataDirOptions & { client: string }) => {
      const found = readServerConf(opts.dataDir, (conf) => conf.listServiceDescriptions(client(opts)))
      printResult(opts, { descriptions: found.map(descriptionJson) }, () => (found.length === 0 ? 'no service descriptions' : found.map(describeDescription).join('\n')))
    })

  withCommonOptions(group.command('add-wsdl').description('download a WSDL: each operation (with its version) becomes a service, added disabled'))
    .requiredOption('--client <id>', 'INSTANCE/CLASS/CODE/SUBSYSTEM')
    .requiredOption('--url <url>', 'where the WSDL is (http or https)')
    .option('--timeout <seconds>', 'download timeout', String(DEFAULT_DESCRIPTION_TIMEOUT_MS / 1000))
    .action(async (opts: DownloadOptions & { client: string; url: string }) => {
      const provider = client(opts)
      const services = await readWsdlAt(opts.url, opts)
      const added = withServerConf(opts.dataDir, 'service.description.add_wsdl', { client: formatIdPath(provider), url: opts.url }, ({ conf }) =>
        conf.addWsdlDescription(provider, opts.url, services))
      printResult(opts, { ok: true, description: descriptionJson(added) }, () => `added ${describeDescription(added)}`)
    })

  withCommonOptions(group.command('add-openapi').description('an OpenAPI 3 description (URL or JSON file): one REST service with derived endpoints'))
    .requiredOption('--client <id>', 'INSTANCE/CLASS/CODE/SUBSYSTEM')
    .requiredOption('--code <code>', 'service code')
    .option('--url <url>', 'where the description is (http or https)')
    .option('--file <path>', 'the description as a JSON file')
    .option('--yes', 'accept the validation warnings')
    .option('--timeout <seconds>', 'download timeout', String(DEFAULT_DESCRIPTION_TIMEOUT_MS / 1000))
    .action(async (opts: DownloadOptions & { client: string; code: string; url?: string; file?: string; yes?: boolean }) => {
      const provider = client(opts)
      const read = await readOpenApiFrom(opts)
      const change = withServerConf(opts.dataDir, 'service.description.add_openapi', { client: formatIdPath(provider), code: opts.code, url: read.url }, ({ conf }) =>
        conf.addOpenApiDescription(provider, { ...read, serviceCode: opts.code, ignoreWarnings: opts.yes === true }))
      printResult(opts, changeJson(change), () => describeChange(change, 'add --yes to accept the warnings'))
      exitUnlessApplied(change)
    })

  withCommonOptions(group.command('add-rest').description('a REST service by base URL; add endpoints with gatehouse endpoint add'))
    .requiredOption('--client <id>', 'INSTANCE/CLASS/CODE/SUBSYSTEM')
    .requiredOption('--code <code>', 'service code')
    .requiredOption('--url <url>', 'REST base URL (http or https)')
    .action((opts: DataDirOptions & { client: string; code: string; url: string }) => {
      const provider = client(opts)
      const added = withServerConf(opts.dataDir, 'service.description.add_rest', { client: formatIdPath(provider), code: opts.code, url: opts.url }, ({ conf }) =>
        conf.addRestDescription(provider, opts.url, opts.code))
      printResult(opts, { ok: true, description: descriptionJson(added) }, () => `added ${describeDescription(added)}`)
    })

  withCommonOptions(group.command('refresh').description('read a WSDL or OpenAPI description again; shows what is added and removed, applies with --yes'))
    .requiredOption('--id <n>', 'service description id (see list)')
    .option('--url <url>', 'read it from this URL from now on')
    .option('--file <path>', 'an OpenAPI description as a JSON file')
    .option('--yes', 'apply the changes (services or endpoints removed take their access rights)')
    .option('--timeout <seconds>', 'download timeout', String(DEFAULT_DESCRIPTION_TIMEOUT_MS / 1000))
    .action(async (opts: DownloadOptions & { id: string; url?: string; file?: string; yes?: boolean }) => {
      const id = idOf(opts.id)
      const current = readServerConf(opts.dataDir, (conf) => conf.findServiceDescription(id))
      if (current === undefined) throw new CliExit(EXIT_FAILED, `gatehouse: no service description ${id}`)
      const ignoreWarnings = opts.yes === true
      const data = { description: `servicedescription:${id}`, ...(opts.url === undefined ? {} : { url: opts.url }), ...(opts.file === undefined ? {} : { file: opts.file }) }
      let change: DescriptionChange
      if (current.type === 'WSDL') {
        const url = opts.url ?? current.url
        const services = await readWsdlAt(url, opts)
        change = withServerConf(opts.dataDir, 'service.description.refresh', data, ({ conf }) =>
          conf.refreshWsdlDescription(id, { ...(opts.url === undefined ? {} : { url }), services, ignoreWarnings }))
      } else if (current.type === 'OPENAPI3') {
        if (current.uploaded && opts.url === undefined && opts.file === undefined) throw new CliExit(EXIT_USAGE, 'gatehouse: this description was uploaded: give --file (or --url)')
        const read = await readOpenApiFrom({ ...opts, ...(opts.url === undefined && opts.file === undefined ? { url: current.url } : {}) })
        const changed = opts.url !== undefined || opts.file !== undefined
        change = withServerConf(opts.dataDir, 'service.description.refresh', data, ({ conf }) =>
          conf.refreshOpenApiDescription(id, { ...(changed ? { url: read.url } : {}), ...(read.document === undefined ? {} : { document: read.document }), parsed: read.parsed, ignoreWarnings }))
      } else {
        throw new CliExit(EXIT_USAGE, 'gatehouse: a REST description has nothing to refresh')
      }
      printResult(opts, changeJson(change), () => describeChange(change, 'run again with --yes to apply'))
      exitUnlessApplied(change)
    })

  const toggle = (enabled: boolean) => (opts: DataDirOptions & { id: string; notice?: string }): void => {
    const id = idOf(opts.id)
    const event = enabled ? 'service.description.enable' : 'service.description.disable'
    const done = withServerConf(opts.dataDir, event, { description: `servicedescription:${id}`, ...(opts.notice === undefined ? {} : { notice: opts.notice }) }, ({ conf }) =>
      conf.setServiceDescriptionEnabled(id, enabled, opts.notice))
    printResult(opts, { ok: true, description: descriptionJson(done) }, () => `${enabled ? 'enabled' : 'disabled'} ${describeDescription(done)}`)
  }
  withCommonOptions(group.command('enable').description('enable the services of a description'))
    .requiredOption('--id <n>', 'service description id')
    .action(toggle(true))
  withCommonOptions(group.command('disable').description('disable the services of a description (callers get service_disabled with the notice)'))
    .requiredOption('--id <n>', 'service description id')
    .option('--notice <text>', 'message shown to callers')
    .action(toggle(false))

  withCommonOptions(group.command('delete').description('delete a description with its services, endpoints and access rights'))
    .requiredOption('--id <n>', 'service description id')
    .action((opts: DataDirOptions & { id: string }) => {
      const id = idOf(opts.id)
      const rights = withServerConf(opts.dataDir, 'service.description.delete', { description: `servicedescription:${id}` }, ({ conf }) => conf.deleteServiceDescription(id))
      const lost = rights.map((r) => ({ service: serviceText(r.serviceId), subject: subjectText(r.subject), method: r.endpoint.method, path: r.endpoint.path }))
      printResult(opts, { ok: true, id, accessRightsRemoved: lost }, () =>
        [`deleted service description ${id}`, ...lost.map((r) => `  ${r.subject} lost access to ${r.service} ${r.method} ${r.path}`)].join('\n'))
    })
}

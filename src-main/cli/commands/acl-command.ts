import type { Command } from 'commander'
import { BASE_ENDPOINT, type AccessRight, type EndpointRef } from '../../server-conf'
import { CliExit, EXIT_USAGE, printResult } from '../cli-support'
import {
  parseServiceArg, parseSubjectArg, readServerConf, subjectText, withCommonOptions, withServerConf, type DataDirOptions, serviceText,
} from './server-conf-db'

/**
 * `gatehouse acl grant|revoke|list`: access rights of subjects (subsystems, members, local and global groups) on a
 * service's endpoints (ug-ss §11). Without `--endpoint` the right is on the base endpoint, i.e. the whole service.
 */
interface AclOptions extends DataDirOptions {
  service: string
  subject: string
  endpoint?: string
}

/** `--endpoint 'GET /pets/*'`: method and path separated by a space. */
function endpointArg(value: string | undefined): EndpointRef {
  if (value === undefined) return BASE_ENDPOINT
  const match = /^\s*(\S+)\s+(\S+)\s*$/.exec(value)
  if (match === null) throw new CliExit(EXIT_USAGE, "gatehouse: --endpoint must be 'METHOD PATH', e.g. 'GET /pets/*'")
  return { method: match[1] as string, path: match[2] as string }
}

function rightJson(r: AccessRight) {
  return { service: serviceText(r.serviceId), method: r.endpoint.method, path: r.endpoint.path, subject: subjectText(r.subject), grantedAt: r.grantedAt }
}

function change(grant: boolean) {
  return (opts: AclOptions): void => {
    const id = parseServiceArg(opts.service, '--service')
    const subject = parseSubjectArg(opts.subject, '--subject')
    const endpoint = endpointArg(opts.endpoint)
    const data = { service: serviceText(id), subject: subjectText(subject), method: endpoint.method, path: endpoint.path }
    const created = withServerConf(opts.dataDir, grant ? 'acl.grant' : 'acl.revoke', data, ({ conf }) => {
      if (grant) return conf.grantAccess(id, subject, endpoint)
      conf.revokeAccess(id, subject, endpoint)
      return true
    })
    printResult(opts, { ok: true, changed: created, ...data }, () =>
      grant
        ? `${created ? 'granted' : 'already granted'}: ${data.subject} → ${data.service} ${endpoint.method} ${endpoint.path}`
        : `revoked: ${data.subject} → ${data.service} ${endpoint.method} ${endpoint.path}`,
    )
  }
}

function listCommand(opts: DataDirOptions & { service: string }): void {
  const id = parseServiceArg(opts.service, '--service')
  const rights = readServerConf(opts.dataDir, (conf) => conf.listAccessRights(id))
  printResult(opts, { accessRights: rights.map(rightJson) }, () =>
    rights.length === 0 ? 'no access rights' : rights.map((r) => `${subjectText(r.subject)}  ${r.endpoint.method} ${r.endpoint.path}`).join('\n'),
  )
}

export function registerAclCommand(program: Command): void {
  const acl = program.command('acl').description('access rights on services')
  for (const [name, grant] of [['grant', true], ['revoke', false]] as const) {
    withCommonOptions(acl.command(name).description(`${name} an access right`))
      .requiredOption('--service <id>', 'INSTANCE/CLASS/CODE/SUBSYSTEM/SERVICE')
      .requiredOption('--subject <id>', 'INSTANCE/CLASS/CODE[/SUBSYSTEM], LOCALGROUP:CODE or GLOBALGROUP:INSTANCE/CODE')
      .option('--endpoint <endpoint>', "'METHOD PATH' (default: the whole service)")
      .action(change(grant))
  }
  withCommonOptions(acl.command('list').description("list a service's access rights"))
    .requiredOption('--service <id>', 'INSTANCE/CLASS/CODE/SUBSYSTEM/SERVICE')
    .action(listCommand)
}

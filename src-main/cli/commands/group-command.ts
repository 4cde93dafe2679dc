import type { Command } from 'commander'
import { formatIdPath } from '@shared/domain/identifiers'
import type { LocalGroup } from '../../server-conf'
import { printResult } from '../cli-support'
import { parseClientArg, readServerConf, withCommonOptions, withServerConf, type DataDirOptions } from './server-conf-db'

/**
 * `gatehouse group add|member|remove-member|delete|list`: a client's local groups and their members (ug-ss §10), usable as access-right
 * subjects `LOCALGROUP:CODE`.
 */
function groupJson(g: LocalGroup) {
  return { owner: formatIdPath(g.owner), code: g.groupCode, description: g.description, members: g.members.map(formatIdPath) }
}

function addCommand(opts: DataDirOptions & { client: string; code: string; description: string }): void {
  const owner = parseClientArg(opts.client, '--client')
  const group = withServerConf(opts.dataDir, 'group.add', { client: formatIdPath(owner), code: opts.code }, ({ conf }) =>
    conf.addLocalGroup(owner, opts.code, opts.description),
  )
  printResult(opts, { ok: true, group: groupJson(group) }, () => `added local group ${group.groupCode} of ${formatIdPath(owner)}`)
}

function memberCommand(opts: DataDirOptions & { client: string; code: string; member: string; remove?: boolean }): void {
  const owner = parseClientArg(opts.client, '--client')
  const member = parseClientArg(opts.member, '--member')
  const data = { client: formatIdPath(owner), code: opts.code, member: formatIdPath(member) }
  const changed = withServerConf(opts.dataDir, opts.remove === true ? 'group.member.remove' : 'group.member.add', data, ({ conf }) => {
    if (opts.remove !== true) return conf.addLocalGroupMember(owner, opts.code, member)
    conf.removeLocalGroupMember(owner, opts.code, member)
    return true
  })
  printResult(opts, { ok: true, changed, ...data }, () =>
    opts.remove === true ? `removed ${data.member} from ${opts.code}` : `${changed ? 'added' : 'already a member:'} ${data.member} to ${opts.code}`,
  )
}

/** Deletes a group with the access rights naming it (as X-Road's LocalGroupService does); prints them. */
function deleteCommand(opts: DataDirOptions & { client: string; code: string }): void {
  const owner = parseClientArg(opts.client, '--client')
  const rights = withServerConf(opts.dataDir, 'group.delete', { client: formatIdPath(owner), code: opts.code }, ({ conf }) => conf.deleteLocalGroup(owner, opts.code))
  const lost = rights.map((r) => ({ service: formatIdPath(r.serviceId), method: r.endpoint.method, path: r.endpoint.path }))
  printResult(opts, { ok: true, client: formatIdPath(owner), code: opts.code, accessRightsRemoved: lost }, () =>
    [`deleted local group ${opts.code} of ${formatIdPath(owner)}`, ...lost.map((r) => `  removed its access to ${r.service} ${r.method} ${r.path}`)].join('\n'))
}

function listCommand(opts: DataDirOptions & { client: string }): void {
  const owner = parseClientArg(opts.client, '--client')
  const groups = readServerConf(opts.dataDir, (conf) => conf.listLocalGroups(owner))
  printResult(opts, { groups: groups.map(groupJson) }, () =>
    groups.length === 0 ? 'no local groups' : groups.map((g) => `${g.groupCode}  ${g.description}  [${g.members.map(formatIdPath).join(', ')}]`).join('\n'),
  )
}

export function registerGroupCommand(program: Command): void {
  const group = program.command('group').description("a client's local groups")
  withCommonOptions(group.command('add').description('add a local group'))
    .requiredOption('--client <id>', 'owner INSTANCE/CLASS/CODE[/SUBSYSTEM]')
    .requiredOption('--code <code>', 'group code')
    .option('--description <text>', 'description', '')
    .action(addCommand)
  withCommonOptions(group.command('member').description('add (or with --remove, remove) a group member'))
    .requiredOption('--client <id>', 'owner INSTANCE/CLASS/CODE[/SUBSYSTEM]')
    .requiredOption('--code <code>', 'group code')
    .requiredOption('--member <id>', 'member INSTANCE/CLASS/CODE[/SUBSYSTEM]')
    .option('--remove', 'remove instead of add')
    .action(memberCommand)
  withCommonOptions(group.command('remove-member').description('remove a member from a group'))
    .requiredOption('--client <id>', 'owner INSTANCE/CLASS/CODE[/SUBSYSTEM]')
    .requiredOption('--code <code>', 'group code')
    .requiredOption('--member <id>', 'member INSTANCE/CLASS/CODE[/SUBSYSTEM]')
    .action((opts: DataDirOptions & { client: string; code: string; member: string }) => memberCommand({ ...opts, remove: true }))
  withCommonOptions(group.command('delete').description('delete a group and the access rights naming it'))
    .requiredOption('--client <id>', 'owner INSTANCE/CLASS/CODE[/SUBSYSTEM]')
    .requiredOption('--code <code>', 'group code')
    .action(deleteCommand)
  withCommonOptions(group.command('list').description("list a client's local groups"))
    .requiredOption('--client <id>', 'owner INSTANCE/CLASS/CODE[/SUBSYSTEM]')
    .action(listCommand)
}

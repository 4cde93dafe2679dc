import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import type { Command } from 'commander'
import { formatIdPath, parseClientIdPath, securityServerId, type MemberId } from '@shared/domain/identifiers'
import { parseConfigurationAnchor } from '../../global-conf'
import { clientError, closeDatabase, toSecurityServerError } from '../../platform'
import { printResult } from '../cli-support'
import { registerAclCommand } from './acl-command'
import { registerClientCommand } from './client-command'
import { registerEndpointCommand } from './endpoint-command'
import { registerGroupCommand } from './group-command'
import { registerServiceCommand } from './service-command'
import { openServerConf, withCommonOptions, type DataDirOptions } from './server-conf-db'

/**
 * `gatehouse init`: the security server's initial configuration (ug-ss §3.4) — the configuration anchor, the
 * owner member and the server code — stored in DATA_DIR/serverconf.sqlite. A second init is refused unless `--force`.
 */
interface InitOptions extends DataDirOptions {
  anchor: string
  owner: string
  serverCode: string
  force?: boolean
}

const MAX_ANCHOR_BYTES = 1024 * 1024

function initCommand(opts: InitOptions): void {
  let owner: MemberId
  try {
    const parsed = parseClientIdPath(opts.owner)
    if (parsed.objectType !== 'MEMBER') throw clientError('invalid_identifier', 'the owner is a member: INSTANCE/CLASS/CODE')
    owner = parsed
  } catch (error) {
    throw clientError('invalid_identifier', `--owner '${opts.owner}': ${toSecurityServerError(error).message}`, { cause: error })
  }
  const serverId = (() => {
    try {
      return securityServerId(owner, opts.serverCode)
    } catch (error) {
      throw clientError('invalid_identifier', `--server-code '${opts.serverCode}': ${toSecurityServerError(error).message}`, { cause: error })
    }
  })()
  const anchorPath = resolve(opts.anchor)
  let content: Buffer
  try {
    content = readFileSync(anchorPath)
  } catch (cause) {
    throw clientError('anchor_file_not_found', `Cannot read anchor file ${anchorPath}`, { cause })
  }
  if (content.length > MAX_ANCHOR_BYTES) throw clientError('malformed_anchor', `Anchor file is larger than ${MAX_ANCHOR_BYTES} bytes`)
  // PR-GCONF §2.2 / Annex E: a well-formed anchor (hardened parser, no DTD) with at least one source and certificate.
  const anchor = parseConfigurationAnchor(content)
  // ug-ss §3.4: the owner must belong to the instance the anchor is for.
  if (anchor.instanceIdentifier !== owner.xRoadInstance) {
    throw clientError(
      'malformed_anchor',
      `The anchor is for instance ${anchor.instanceIdentifier}, the owner is in instance ${owner.xRoadInstance}`,
    )
  }

  const session = openServerConf(opts.dataDir, { create: true })
  const data = { owner: formatIdPath(owner), serverCode: opts.serverCode, anchorHash: anchor.hash, force: opts.force === true }
  try {
    const before = session.conf.identity() ?? null
    try {
      session.conf.initialize(owner, serverId.serverCode, { sourcePath: anchorPath, content }, { force: opts.force === true })
    } catch (error) {
      session.audit('init', data, 'failure', toSecurityServerError(error).code, { before })
      throw error
    }
    session.audit('init', data, 'success', null, { before, after: session.conf.identity() ?? null })
  } finally {
    closeDatabase(session.db)
  }
  const result = {
    ok: true,
    securityServer: formatIdPath(serverId),
    owner: formatIdPath(owner),
    instance: anchor.instanceIdentifier,
    anchorHash: anchor.hash,
  }
  printResult(opts, result, () => `initialized security server ${result.securityServer} (anchor ${anchor.hash})`)
}

export function registerInitCommand(program: Command): void {
  withCommonOptions(program.command('init').description('initialize the server configuration: anchor, owner, server code'))
    .requiredOption('--anchor <file>', 'configuration anchor XML file')
    .requiredOption('--owner <id>', 'owner member, INSTANCE/CLASS/CODE')
    .requiredOption('--server-code <code>', 'security server code')
    .option('--force', 'replace an existing identity')
    .action(initCommand)
}

/** The server-configuration command groups, registered together: init, client, service, endpoint, acl, group. */
export function registerServerConfCommands(program: Command): void {
  registerInitCommand(program)
  registerClientCommand(program)
  registerServiceCommand(program)
  registerEndpointCommand(program)
  registerAclCommand(program)
  registerGroupCommand(program)
}

import { existsSync, mkdirSync } from 'node:fs'
import { userInfo } from 'node:os'
import type { Command } from 'commander'
import {
  decodeIdentifier, formatIdPath, parseClientIdPath, parseServiceIdPath, type ClientId, type ServiceId, type XRoadId,
} from '@shared/domain/identifiers'
import type { AccessSubject } from '../../access-control'
import { appendAuditEntry, auditLogMigrations, redactSecrets } from '../../audit-log'
import { clientError, closeDatabase, migrate, openDatabase, systemClock, toSecurityServerError, type WritableDb } from '../../platform'
import { dataDirLayout, loadServerConfig } from '../../server'
import { createServerConf, serverConfMigrations, type ServerConf } from '../../server-conf'
import { CliExit, EXIT_USAGE } from '../cli-support'

/**
 * What the server-configuration commands (`init`, `client`, `service`, `endpoint`, `acl`, `group`) share: opening
 * DATA_DIR/serverconf.sqlite with its migrations, recording each change in the audit log, and parsing identifiers
 * in the REST path form (`INSTANCE/CLASS/CODE[/SUB]`, services `INSTANCE/CLASS/CODE/SUB/SERVICE`; PR-REST §4.1).
 */
export interface DataDirOptions {
  dataDir: string
  json?: boolean
}

export interface ServerConfSession {
  db: WritableDb
  conf: ServerConf
  /**
   * Appends an audit entry for one administrative change; `cli:<os user>` is the actor, the object the input's
   * service or client, and `data` holds the input and the object's state `before` and `after` where given.
   */
  audit(event: string, input: Record<string, unknown>, outcome?: 'success' | 'failure', errorCode?: string | null, states?: { before?: unknown; after?: unknown }): void
}

/** The object a CLI change names: its service, else its client (with the local group), else what `init` sets up. */
function cliObject(event: string, input: Record<string, unknown>): string | null {
  if (event.startsWith('group.') && typeof input.client === 'string') return `${input.client} LOCALGROUP:${String(input.code ?? '')}`
  for (const field of ['description', 'service', 'client', 'owner']) {
    if (typeof input[field] === 'string') return input[field] as string
  }
  return event.startsWith('tsa.') ? 'timestamping services' : null
}

/**
 * The changed object's state as server configuration holds it, for the entry's before and after (the same object the
 * GUI's audit entries describe): a service with its endpoints, access rights, a local group, a client, the TSA
 * selection, the identity. Undefined when the input names nothing readable.
 */
function cliState(conf: ServerConf, event: string, input: Record<string, unknown>): unknown {
  try {
    if (typeof input.description === 'string') return conf.findServiceDescription(Number(input.description.replace('servicedescription:', ''))) ?? null
    if (event.startsWith('acl.') && typeof input.service === 'string') return conf.listAccessRights(parseServiceArg(input.service, 'service')) ?? null
    if (typeof input.service === 'string') {
      const id = parseServiceArg(input.service, 'service')
      const service = conf.findService(id)
      return service === undefined ? null : { ...service, endpoints: conf.listEndpoints(id) }
    }
    if (event.startsWith('group.') && typeof input.client === 'string') {
      return conf.listLocalGroups(parseClientIdPath(input.client)).find((g) => g.groupCode === input.code) ?? null
    }
    if (typeof input.client === 'string') return conf.findClient(parseClientIdPath(input.client)) ?? null
    if (event.startsWith('tsa.')) return conf.timestampingServices()
    if (event === 'init') return conf.identity() ?? null
  } catch {
    // Not readable (e.g. the client does not exist yet and the input is refused): the entry keeps the input.
  }
  return undefined
}

/** The actor recorded in the audit log for CLI changes. */
export function cliActor(): string {
  let name: string
  try {
    name = userInfo().username
  } catch {
    name = process.env.USER ?? 'unknown'
  }
  return `cli:${name}`
}

/**
 * Opens the server configuration. `create` makes the data directory and database (only `init` does); every other
 * command needs an initialized server (`not_initialized`).
 */
export function openServerConf(dataDir: string, options: { create?: boolean } = {}): ServerConfSession {
  const layout = dataDirLayout(dataDir)
  // A cluster node's configuration is the shared PostgreSQL database; its serverconf.sqlite holds only per-node state.
  if (existsSync(layout.configFile) && loadServerConfig(dataDir).cluster !== undefined) {
    throw clientError('unsupported', `${layout.root} is a cluster node (gatehouse.json has a cluster section): change the configuration in the primary node's admin GUI or API`, { detail: 'cluster' })
  }
  if (options.create === true) mkdirSync(layout.root, { recursive: true, mode: 0o700 })
  else if (!existsSync(layout.serverConfDb)) {
    throw clientError('not_initialized', `No server configuration at ${layout.serverConfDb}; run gatehouse init first`)
  }
  const db = openDatabase(layout.serverConfDb)
  try {
    migrate(db, [serverConfMigrations, auditLogMigrations])
  } catch (error) {
    closeDatabase(db)
    throw error
  }
  const conf = createServerConf(db)
  if (options.create !== true && conf.identity() === undefined) {
    closeDatabase(db)
    throw clientError('not_initialized', 'The security server is not initialized; run gatehouse init first')
  }
  const actor = cliActor()
  return {
    db,
    conf,
    audit(event, input, outcome = 'success', errorCode = null, states = {}) {
      const data = {
        input: redactSecrets(input),
        ...(states.before === undefined ? {} : { before: redactSecrets(states.before) }),
        ...(states.after === undefined ? {} : { after: redactSecrets(states.after) }),
      }
      appendAuditEntry(db, { at: systemClock.now().toISOString(), actor, event, outcome, object: cliObject(event, input), data, errorCode })
    },
  }
}

/**
 * Runs one change against the server configuration: success and failure both land in the audit log (a failed
 * change is recorded with its error code, then rethrown for the CLI to report).
 */
export function withServerConf<T>(dataDir: string, event: string, data: Record<string, unknown>, work: (s: ServerConfSession) => T): T {
  const session = openServerConf(dataDir)
  try {
    const before = cliState(session.conf, event, data)
    let result: T
    try {
      result = work(session)
    } catch (error) {
      const coded = toSecurityServerError(error)
      session.audit(event, data, 'failure', coded.code, { before })
      throw error
    }
    session.audit(event, data, 'success', null, { before, after: cliState(session.conf, event, data) })
    return result
  } finally {
    closeDatabase(session.db)
  }
}

/** Read-only use of the server configuration (no audit entry). */
export function readServerConf<T>(dataDir: string, work: (conf: ServerConf) => T): T {
  const session = openServerConf(dataDir)
  try {
    return work(session.conf)
  } finally {
    closeDatabase(session.db)
  }
}

export function parseClientArg(value: string, flag: string): ClientId {
  try {
    return parseClientIdPath(value)
  } catch (error) {
    throw usageError(`${flag} '${value}' is not a client identifier INSTANCE/CLASS/CODE[/SUBSYSTEM]`, error)
  }
}

/** A service as the CLI prints and parses it: the path form, with `;v=VERSION` when the service has a version. */
export function serviceText(id: ServiceId): string {
  const { serviceVersion, ...unversioned } = id
  return serviceVersion === undefined ? formatIdPath(id) : `${formatIdPath(unversioned)};v=${encodeURIComponent(serviceVersion)}`
}

/** `INSTANCE/CLASS/CODE/SUBSYSTEM/SERVICE`, with `;v=VERSION` for a versioned (SOAP) service, or the encoded `SERVICE:…` form. */
export function parseServiceArg(value: string, flag: string): ServiceId {
  try {
    if (value.startsWith('SERVICE:') || value.includes(';v=')) {
      const id = decodeIdentifier(value.startsWith('SERVICE:') ? value : `SERVICE:${value}`)
      if (id.objectType === 'SERVICE') return id
    }
    return parseServiceIdPath(value)
  } catch (error) {
    throw usageError(`${flag} '${value}' is not a service identifier INSTANCE/CLASS/CODE/SUBSYSTEM/SERVICE`, error)
  }
}

/**
 * An access-right subject: a member or subsystem in path form, `LOCALGROUP:CODE` or `GLOBALGROUP:INSTANCE/CODE`
 * (the subject types of X-Road's access rights, ug-ss §11.3).
 */
export function parseSubjectArg(value: string, flag: string): AccessSubject {
  const upper = value.toUpperCase()
  if (upper.startsWith('LOCALGROUP:') || upper.startsWith('GLOBALGROUP:')) {
    const colon = value.indexOf(':')
    try {
      return decodeIdentifier(`${upper.slice(0, colon)}${value.slice(colon)}`) as AccessSubject
    } catch (error) {
      throw usageError(`${flag} '${value}' is not a group identifier`, error)
    }
  }
  return parseClientArg(value, flag)
}

/** An access-right subject as the CLI prints and parses it: a client path, `LOCALGROUP:CODE` or `GLOBALGROUP:INSTANCE/CODE`. */
export function subjectText(subject: XRoadId): string {
  if (subject.objectType === 'LOCALGROUP' || subject.objectType === 'GLOBALGROUP') return `${subject.objectType}:${formatIdPath(subject)}`
  return formatIdPath(subject)
}

export function parseIntegerArg(value: string, flag: string, min: number, max: number): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < min || n > max) throw new CliExit(EXIT_USAGE, `gatehouse: ${flag} must be an integer in ${min}..${max}`)
  return n
}

function usageError(message: string, cause: unknown): Error {
  const detail = cause instanceof Error ? `: ${cause.message}` : ''
  return clientError('invalid_identifier', `${message}${detail}`, { cause })
}

/** Adds the options every server-configuration subcommand takes. */
export function withCommonOptions(command: Command): Command {
  return command.requiredOption('--data-dir <dir>', 'data directory').option('--json', 'print one JSON document')
}

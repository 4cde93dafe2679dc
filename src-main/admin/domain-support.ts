import { basename } from 'node:path'
import {
  decodeIdentifier, describeIdentifier, encodeIdentifier, formatIdPath, parseClientIdPath, parseSecurityServerIdPath, parseServiceIdPath,
  type ClientId, type GlobalGroupId, type LocalGroupId, type MemberId, type SecurityServerId, type ServiceId, type XRoadId,
} from '@shared/domain/identifiers'
import type { GlobalConf, GlobalConfService, SharedParameters } from '../global-conf'
import type { MessageLog } from '../message-log'
import type { OpMonitor } from '../op-monitoring'
import { SecurityServerError, clientError, type ReadableDb } from '../platform'
import type { ServerConf } from '../server-conf'
import type { Signer } from '../signer'

/**
 * What the security-server admin groups need from the composition root, and the identifier parsing they share.
 * `service` and `layout` are optional extras the composition root's core object carries (download status, age);
 * `databases.messageLog` gives the message-log group single records (details, bodies) beyond `MessageLog.search`.
 */
export interface AdminDomains {
  serverConf: ServerConf
  signer: Signer
  opMonitor: OpMonitor
  messageLog: MessageLog
  databases?: { messageLog: ReadableDb }
  globalConf: {
    current(): GlobalConf | undefined
    reloadAnchor(): Promise<void>
    service?(): GlobalConfService | undefined
  }
  layout?: { globalConfDir: string; root?: string; messageLogDb?: string; tlsDir?: string }
  /** The TSAs the next time-stamping round tries, in order (the administrator's selection among the approved ones). */
  timestampingServices(): ReadonlyArray<{ name?: string; url: string }>
}

/** Resolves the domains, or refuses when this runtime was built without them (admin-only tests). */
export type DomainsOf = () => AdminDomains

export function domainsOf(domains: AdminDomains | undefined): DomainsOf {
  return () => {
    if (domains === undefined) throw new SecurityServerError('unsupported', 'This admin runtime has no security-server domains')
    return domains
  }
}

function parseWith<T>(what: string, value: unknown, parse: (text: string) => T): T {
  if (typeof value !== 'string' || value.trim() === '' || value.length > 1200) throw clientError('validation_failed', `Give the ${what}`, { detail: what })
  try {
    return parse(value.trim())
  } catch (error) {
    throw clientError('validation_failed', `Invalid ${what} '${value}': ${(error as Error).message}`, { detail: what, cause: error })
  }
}

/** A client id from `MEMBER:…`/`SUBSYSTEM:…` or the path form `INSTANCE/CLASS/CODE[/SUBSYSTEM]`. */
export function parseClientRef(value: unknown, what = 'client'): ClientId {
  return parseWith(what, value, (text) => {
    const id = text.includes(':') ? decodeIdentifier(text) : parseClientIdPath(text)
    if (id.objectType !== 'MEMBER' && id.objectType !== 'SUBSYSTEM') throw clientError('validation_failed', 'not a member or subsystem')
    return id
  })
}

export function parseMemberRef(value: unknown, what = 'member'): MemberId {
  const id = parseClientRef(value, what)
  if (id.objectType !== 'MEMBER') throw clientError('validation_failed', `The ${what} must be a member (INSTANCE/CLASS/CODE), not a subsystem`, { detail: what })
  return id
}

/** A subsystem id from `SUBSYSTEM:…` or `INSTANCE/CLASS/CODE/SUBSYSTEM`. */
export function parseSubsystemRef(value: unknown, what = 'subsystem'): ClientId & { objectType: 'SUBSYSTEM' } {
  const id = parseClientRef(value, what)
  if (id.objectType !== 'SUBSYSTEM') throw clientError('validation_failed', `The ${what} must be a subsystem (INSTANCE/CLASS/CODE/SUBSYSTEM)`, { detail: what })
  return id
}

/** A security server id from `SERVER:…` or `INSTANCE/CLASS/CODE/SERVERCODE`. */
export function parseServerRef(value: unknown, what = 'server'): SecurityServerId {
  return parseWith(what, value, (text) => {
    const id = text.startsWith('SERVER:') ? decodeIdentifier(text) : parseSecurityServerIdPath(text)
    if (id.objectType !== 'SERVER') throw clientError('validation_failed', 'not a security server')
    return id
  })
}

/** A service id from `SERVICE:…` or `INSTANCE/CLASS/CODE/SUBSYSTEM/SERVICE`. */
export function parseServiceRef(value: unknown, what = 'service'): ServiceId {
  return parseWith(what, value, (text) => {
    const id = text.startsWith('SERVICE:') ? decodeIdentifier(text) : parseServiceIdPath(text)
    if (id.objectType !== 'SERVICE') throw clientError('validation_failed', 'not a service')
    return id
  })
}

export type Subject = ClientId | LocalGroupId | GlobalGroupId

/** An access-right subject: a client, `LOCALGROUP:code` or `GLOBALGROUP:INSTANCE/code` (or a client path). */
export function parseSubjectRef(value: unknown): Subject {
  return parseWith('subject', value, (text) => {
    const id: XRoadId = text.includes(':') ? decodeIdentifier(text) : parseClientIdPath(text)
    if (id.objectType === 'SERVICE' || id.objectType === 'SERVER') throw clientError('validation_failed', 'a subject is a client, a local group or a global group')
    return id
  })
}

/**
 * True when a security server other than `ownServer` lists `client` in these shared parameters: then deleting the
 * client here keeps the access rights and group memberships naming it (X-Road ClientService.removeLocalClient).
 */
export function servedByAnotherServer(shared: SharedParameters | undefined, ownServer: SecurityServerId | undefined, client: ClientId): boolean {
  const own = ownServer === undefined ? undefined : encodeIdentifier(ownServer)
  const wanted = encodeIdentifier(client)
  return (shared?.securityServers ?? []).some((s) => encodeIdentifier(s.id) !== own && s.clients.some((c) => encodeIdentifier(c) === wanted))
}

/**
 * Whether global configuration lists `client` on this security server (the owner counts): null when there is no
 * configuration yet or it does not list this server at all, so nothing can be said.
 */
export function listedOnServer(conf: GlobalConf | undefined, server: SecurityServerId | undefined, client: ClientId): boolean | null {
  if (conf === undefined || server === undefined || conf.getServerById(server) === undefined) return null
  return conf.isSecurityServerClient(client, server)
}

export const encodeId = (id: XRoadId): string => encodeIdentifier(id)
export const pathOf = (id: XRoadId): string => formatIdPath(id)
export const describeId = (id: XRoadId): string => describeIdentifier(id)

/** The download time of the configuration in force: generations are named `<epoch ms>-<random>` (configuration-store). */
export function generationTime(dir: string | undefined): Date | undefined {
  if (dir === undefined) return undefined
  const ms = Number(basename(dir).split('-')[0])
  return Number.isFinite(ms) && ms > 0 ? new Date(ms) : undefined
}

export function errorText(error: unknown): string | null {
  if (error === undefined || error === null) return null
  return error instanceof Error ? error.message : String(error)
}

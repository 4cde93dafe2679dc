import { createHash } from 'node:crypto'
import {
  decodeIdentifier, describeIdentifier, encodeIdentifier, serviceId as makeServiceId, serviceProvider,
  type ClientId, type MemberId, type ServiceId,
} from '@shared/domain/identifiers'
import { REST_METHODS, type AccessSubject, type EndpointMethod, type EndpointRule, type ServiceAccessRights } from '../access-control'
import { clientError, inTransaction, systemClock, toSecurityServerError, type Clock, type WritableDb } from '../platform'
import { findAnchorFile, saveAnchorFile } from './anchor-file-repository'
import {
  deleteAccessRight, insertAccessRight, listAccessRightRows,
} from './access-right-repository'
import {
  deleteIsCertificate, findClientRow, insertClient, insertIsCertificate, listClientRows, listIsCertificateRows,
  updateClientIsAuthentication, updateClientState, type ClientRow,
} from './client-repository'
import {
  deleteLocalGroupMember, findLocalGroupRow, insertLocalGroup, insertLocalGroupMember, listLocalGroupMembers, listLocalGroupRows,
} from './local-group-repository'
import { findServerIdentity, saveServerIdentity, type ServerIdentity } from './server-identity-repository'
import { listTimestampingServiceNames, replaceTimestampingServiceNames } from './timestamping-service-repository'
import {
  findEndpointRow, findServiceRow, insertEndpoint, insertService, listEndpointRows, listServiceRows, updateService,
  type ServiceRow,
} from './service-repository'

/**
 * The server-configuration use cases, one transaction each, over `serverconf.sqlite`: identity, clients with
 * their IS authentication, REST services and endpoints, local groups and access rights (X-Road serverconf).
 */
export const CLIENT_STATES = ['SAVED', 'REGISTRATION_IN_PROGRESS', 'REGISTERED', 'DISABLED', 'DELETION_IN_PROGRESS'] as const
export type ClientState = (typeof CLIENT_STATES)[number]
/** Information-system connection type per client (ug-ss §9: HTTP, HTTPS NO AUTH, HTTPS). */
export const IS_AUTHENTICATION_MODES = ['NOSSL', 'SSLNOAUTH', 'SSLAUTH'] as const
export type IsAuthentication = (typeof IS_AUTHENTICATION_MODES)[number]

export interface LocalClient {
  id: ClientId
  state: ClientState
  isAuthentication: IsAuthentication
  createdAt: string
}

export interface IsCertificate {
  sha256: string
  der: Uint8Array
  addedAt: string
}

export interface ConfiguredService {
  serviceId: ServiceId
  url: string
  timeoutSeconds: number
  sslVerify: boolean
  disabled: boolean
  disabledNotice?: string
}

export interface Endpoint {
  serviceId: ServiceId
  method: EndpointMethod
  path: string
  generated: boolean
}

export interface AccessRight {
  serviceId: ServiceId
  endpoint: { method: EndpointMethod; path: string }
  subject: AccessSubject
  grantedAt: string
}

export interface LocalGroup {
  owner: ClientId
  groupCode: string
  description: string
  members: ClientId[]
}

export interface ServiceInput {
  code: string
  url: string
  timeoutSeconds?: number
  sslVerify?: boolean
}

export interface EndpointRef {
  method: string
  path: string
}

/** X-Road's base endpoint: a right on it is a right on the whole service. */
export const BASE_ENDPOINT = { method: '*', path: '**' } as const
export const DEFAULT_SERVICE_TIMEOUT_SECONDS = 60
const MAX_URL_LENGTH = 2048

export interface ServerConf {
  identity(): ServerIdentity | undefined
  /** Stores identity and anchor once; `force` replaces an existing identity (`gatehouse init --force`). */
  initialize(owner: MemberId, serverCode: string, anchor?: { sourcePath: string; content: Uint8Array }, options?: { force?: boolean }): ServerIdentity
  anchorFile(): { sourcePath: string; content: Uint8Array; sha256: string; storedAt: string } | undefined
  /**
   * Replaces the anchor of an initialized server in one transaction (anchor re-import, ug-ss §10.1); the caller has
   * checked that it is for the server's instance. @throws not_initialized
   */
  replaceAnchor(anchor: { sourcePath: string; content: Uint8Array }): void

  addClient(id: ClientId, state?: ClientState): LocalClient
  listClients(): LocalClient[]
  findClient(id: ClientId): LocalClient | undefined
  /** True when `id` is a client of this server in state REGISTERED (the proxies' "client registered" check). */
  isRegisteredClient(id: ClientId): boolean
  setClientState(id: ClientId, state: ClientState): LocalClient
  setIsAuthentication(id: ClientId, mode: IsAuthentication): LocalClient
  addIsCertificate(id: ClientId, der: Uint8Array): IsCertificate
  removeIsCertificate(id: ClientId, sha256: string): void
  listIsCertificates(id: ClientId): IsCertificate[]

  addService(provider: ClientId, input: ServiceInput): ConfiguredService
  findService(id: ServiceId): ConfiguredService | undefined
  listServices(provider?: ClientId): ConfiguredService[]
  updateService(id: ServiceId, changes: Partial<Omit<ServiceInput, 'code'>>): ConfiguredService
  setServiceEnabled(id: ServiceId, enabled: boolean, notice?: string): ConfiguredService

  addEndpoint(id: ServiceId, endpoint: EndpointRef): Endpoint
  listEndpoints(id: ServiceId): Endpoint[]

  grantAccess(id: ServiceId, subject: AccessSubject, endpoint?: EndpointRef): boolean
  revokeAccess(id: ServiceId, subject: AccessSubject, endpoint?: EndpointRef): void
  listAccessRights(id: ServiceId): AccessRight[]
  /** What `decideAccess` needs for one service; undefined when the service is not configured here. */
  accessRightsFor(id: ServiceId): ServiceAccessRights | undefined

  addLocalGroup(owner: ClientId, groupCode: string, description: string): LocalGroup
  addLocalGroupMember(owner: ClientId, groupCode: string, member: ClientId): boolean
  removeLocalGroupMember(owner: ClientId, groupCode: string, member: ClientId): void
  listLocalGroups(owner: ClientId): LocalGroup[]
  localGroupMembers(owner: ClientId, groupCode: string): ClientId[]

  /** The administrator's time-stamping services (approved TSA names, tried in this order); empty when none is selected. */
  timestampingServices(): string[]
  /** Replaces the selection; `[]` returns to every approved TSA in global-configuration order (ug-ss §10.2). */
  selectTimestampingServices(names: readonly string[]): string[]
}

export function createServerConf(db: WritableDb, clock: Clock = systemClock): ServerConf {
  const now = (): string => clock.now().toISOString()
  /** One transaction per use case; identifier and SQLite failures leave as coded errors. */
  const tx = <T>(work: () => T): T => {
    try {
      return inTransaction(db, work)
    } catch (error) {
      throw toSecurityServerError(error, 'database_error')
    }
  }

  const requireClientRow = (id: ClientId): ClientRow => {
    const row = findClientRow(db, encodeIdentifier(id))
    if (row === undefined) throw clientError('not_found', `Client ${describeIdentifier(id)} is not a client of this security server`)
    return row
  }
  const requireServiceRow = (id: ServiceId): ServiceRow => {
    const row = findServiceRow(db, encodeIdentifier(serviceProvider(id)), id.serviceCode)
    if (row === undefined) throw clientError('unknown_service', `Unknown service: ${describeIdentifier(id)}`)
    return row
  }
  const requireEndpointId = (row: ServiceRow, endpoint: EndpointRef): number => {
    const method = validateMethod(endpoint.method)
    const found = findEndpointRow(db, row.id, method, endpoint.path)
    if (found === undefined) {
      throw clientError('not_found', `Service ${row.service_code} has no endpoint ${method} ${endpoint.path}`)
    }
    return found.id
  }
  const groupRowId = (owner: ClientId, groupCode: string): number => {
    const group = findLocalGroupRow(db, requireClientRow(owner).id, groupCode)
    if (group === undefined) throw clientError('not_found', `Client ${describeIdentifier(owner)} has no local group ${groupCode}`)
    return group.id
  }

  const conf: ServerConf = {
    identity: () => findServerIdentity(db),

    timestampingServices: () => listTimestampingServiceNames(db).map((r) => r.name),
    selectTimestampingServices(names) {
      if (!Array.isArray(names) || names.some((n) => typeof n !== 'string' || n.trim() === '' || n.length > 255)) {
        throw clientError('validation_failed', 'Time-stamping services are given by their non-empty names', { detail: 'names' })
      }
      const trimmed = names.map((n) => n.trim())
      const duplicate = trimmed.find((n, i) => trimmed.indexOf(n) !== i)
      if (duplicate !== undefined) throw clientError('validation_failed', `Time-stamping service ${duplicate} is selected twice`, { detail: 'names' })
      return tx(() => {
        replaceTimestampingServiceNames(db, trimmed, now())
        return listTimestampingServiceNames(db).map((r) => r.name)
      })
    },

    initialize(owner, serverCode, anchor, options = {}) {
      return tx(() => {
        if (findServerIdentity(db) !== undefined && options.force !== true) throw clientError('already_initialized', 'The security server is already initialized')
        const at = clock.now()
        saveServerIdentity(db, owner, serverCode, at)
        if (anchor !== undefined) {
          saveAnchorFile(db, anchor.sourcePath, anchor.content, sha256Hex(anchor.content), at.toISOString())
        }
        // ug-ss §3: the owner member is the first client of the server.
        if (findClientRow(db, encodeIdentifier(owner)) === undefined) insertClient(db, encodeIdentifier(owner), 'SAVED', at.toISOString())
        return findServerIdentity(db) as ServerIdentity
      })
    },

    replaceAnchor(anchor) {
      tx(() => {
        if (findServerIdentity(db) === undefined) throw clientError('not_initialized', 'The security server is not initialized: import the first anchor with the first-run wizard')
        saveAnchorFile(db, anchor.sourcePath, anchor.content, sha256Hex(anchor.content), now())
      })
    },

    anchorFile() {
      const row = findAnchorFile(db)
      return row === undefined ? undefined : { sourcePath: row.source_path, content: new Uint8Array(row.content), sha256: row.sha256, storedAt: row.stored_at }
    },

    addClient(id, state = 'SAVED') {
      return tx(() => {
        const key = encodeIdentifier(id)
        if (findClientRow(db, key) !== undefined) throw clientError('conflict', `Client ${describeIdentifier(id)} already exists`)
        insertClient(db, key, validateState(state), now())
        return toLocalClient(requireClientRow(id))
      })
    },
    listClients: () => listClientRows(db).map(toLocalClient),
    findClient(id) {
      const row = findClientRow(db, encodeIdentifier(id))
      return row === undefined ? undefined : toLocalClient(row)
    },
    isRegisteredClient(id) {
      return findClientRow(db, encodeIdentifier(id))?.state === 'REGISTERED'
    },
    setClientState(id, state) {
      return tx(() => {
        updateClientState(db, requireClientRow(id).id, validateState(state))
        return toLocalClient(requireClientRow(id))
      })
    },
    setIsAuthentication(id, mode) {
      return tx(() => {
        if (!(IS_AUTHENTICATION_MODES as readonly string[]).includes(mode)) {
          throw clientError('validation_failed', `IS authentication must be one of ${IS_AUTHENTICATION_MODES.join(', ')}`)
        }
        updateClientIsAuthentication(db, requireClientRow(id).id, mode)
        return toLocalClient(requireClientRow(id))
      })
    },
    addIsCertificate(id, der) {
      return tx(() => {
        const row = requireClientRow(id)
        const hash = sha256Hex(der)
        if (!insertIsCertificate(db, row.id, hash, der, now())) {
          throw clientError('cert_exists', `Client ${describeIdentifier(id)} already has this TLS certificate`)
        }
        return { sha256: hash, der, addedAt: now() }
      })
    },
    removeIsCertificate(id, sha256) {
      tx(() => {
        if (!deleteIsCertificate(db, requireClientRow(id).id, sha256.toLowerCase())) {
          throw clientError('cert_not_found', `Client ${describeIdentifier(id)} has no TLS certificate ${sha256}`)
        }
      })
    },
    listIsCertificates(id) {
      return listIsCertificateRows(db, requireClientRow(id).id).map((r) => ({ sha256: r.sha256, der: new Uint8Array(r.der), addedAt: r.added_at }))
    },

    addService(provider, input) {
      return tx(() => {
        const client = requireClientRow(provider)
        const id = makeServiceId(provider, input.code)
        if (findServiceRow(db, client.identifier, input.code) !== undefined) {
          throw clientError('conflict', `Service ${describeIdentifier(id)} already exists`)
        }
        const serviceRowId = insertService(
          db,
          {
            clientRowId: client.id,
            code: id.serviceCode,
            url: validateServiceUrl(input.url),
            timeoutSeconds: validateTimeout(input.timeoutSeconds ?? DEFAULT_SERVICE_TIMEOUT_SECONDS),
            sslVerify: input.sslVerify ?? true,
          },
          now(),
        )
        insertEndpoint(db, serviceRowId, BASE_ENDPOINT.method, BASE_ENDPOINT.path, true)
        return toService(requireServiceRow(id))
      })
    },
    findService(id) {
      const row = findServiceRow(db, encodeIdentifier(serviceProvider(id)), id.serviceCode)
      return row === undefined ? undefined : toService(row)
    },
    listServices(provider) {
      return listServiceRows(db, provider === undefined ? undefined : encodeIdentifier(provider)).map(toService)
    },
    updateService(id, changes) {
      return tx(() => {
        const current = toService(requireServiceRow(id))
        updateService(db, requireServiceRow(id).id, {
          url: changes.url === undefined ? current.url : validateServiceUrl(changes.url),
          timeoutSeconds: changes.timeoutSeconds === undefined ? current.timeoutSeconds : validateTimeout(changes.timeoutSeconds),
          sslVerify: changes.sslVerify ?? current.sslVerify,
          disabled: current.disabled,
          disabledNotice: current.disabledNotice ?? null,
        })
        return toService(requireServiceRow(id))
      })
    },
    setServiceEnabled(id, enabled, notice) {
      return tx(() => {
        const current = toService(requireServiceRow(id))
        updateService(db, requireServiceRow(id).id, { ...current, disabled: !enabled, disabledNotice: enabled ? null : (notice ?? '') })
        return toService(requireServiceRow(id))
      })
    },

    addEndpoint(id, endpoint) {
      return tx(() => {
        const row = requireServiceRow(id)
        const method = validateMethod(endpoint.method)
        const path = validateEndpointPath(endpoint.path)
        if (findEndpointRow(db, row.id, method, path) !== undefined) {
          throw clientError('conflict', `Service ${describeIdentifier(id)} already has endpoint ${method} ${path}`)
        }
        insertEndpoint(db, row.id, method, path, false)
        return { serviceId: toService(row).serviceId, method, path, generated: false }
      })
    },
    listEndpoints(id) {
      const row = requireServiceRow(id)
      return listEndpointRows(db, row.id).map((e) => ({
        serviceId: toService(row).serviceId,
        method: e.method as EndpointMethod,
        path: e.path,
        generated: e.generated === 1,
      }))
    },

    grantAccess(id, subject, endpoint = BASE_ENDPOINT) {
      return tx(() => {
        const row = requireServiceRow(id)
        if (subject.objectType === 'LOCALGROUP') groupRowId(decodeIdentifier(row.client_identifier) as ClientId, subject.groupCode)
        return insertAccessRight(db, requireEndpointId(row, endpoint), encodeIdentifier(subject), now())
      })
    },
    revokeAccess(id, subject, endpoint = BASE_ENDPOINT) {
      tx(() => {
        const row = requireServiceRow(id)
        if (!deleteAccessRight(db, requireEndpointId(row, endpoint), encodeIdentifier(subject))) {
          throw clientError('not_found', `${describeIdentifier(subject)} has no such access right on ${describeIdentifier(id)}`)
        }
      })
    },
    listAccessRights(id) {
      const row = requireServiceRow(id)
      const serviceId = toService(row).serviceId
      return listAccessRightRows(db, row.id).map((r) => ({
        serviceId,
        endpoint: { method: r.method as EndpointMethod, path: r.path },
        subject: decodeIdentifier(r.subject) as AccessSubject,
        grantedAt: r.granted_at,
      }))
    },
    accessRightsFor(id) {
      const row = findServiceRow(db, encodeIdentifier(serviceProvider(id)), id.serviceCode)
      if (row === undefined) return undefined
      const service = toService(row)
      const rights = listAccessRightRows(db, row.id)
      const endpoints: EndpointRule[] = listEndpointRows(db, row.id).map((e) => ({
        method: e.method as EndpointMethod,
        path: e.path,
        subjects: rights.filter((r) => r.endpoint_id === e.id).map((r) => decodeIdentifier(r.subject) as AccessSubject),
      }))
      return { serviceId: service.serviceId, disabled: service.disabled, disabledNotice: service.disabledNotice, endpoints }
    },

    addLocalGroup(owner, groupCode, description) {
      return tx(() => {
        const client = requireClientRow(owner)
        if (groupCode.trim() === '' || groupCode.length > 255) throw clientError('validation_failed', 'A local group code must be 1..255 characters')
        if (findLocalGroupRow(db, client.id, groupCode) !== undefined) {
          throw clientError('conflict', `Client ${describeIdentifier(owner)} already has local group ${groupCode}`)
        }
        insertLocalGroup(db, client.id, groupCode, description)
        return { owner, groupCode, description, members: [] }
      })
    },
    addLocalGroupMember(owner, groupCode, member) {
      return tx(() => insertLocalGroupMember(db, groupRowId(owner, groupCode), encodeIdentifier(member), now()))
    },
    removeLocalGroupMember(owner, groupCode, member) {
      tx(() => {
        if (!deleteLocalGroupMember(db, groupRowId(owner, groupCode), encodeIdentifier(member))) {
          throw clientError('not_found', `${describeIdentifier(member)} is not in local group ${groupCode}`)
        }
      })
    },
    listLocalGroups(owner) {
      return listLocalGroupRows(db, requireClientRow(owner).id).map((g) => ({
        owner,
        groupCode: g.group_code,
        description: g.description,
        members: listLocalGroupMembers(db, g.id).map((m) => decodeIdentifier(m) as ClientId),
      }))
    },
    localGroupMembers(owner, groupCode) {
      const client = findClientRow(db, encodeIdentifier(owner))
      const group = client === undefined ? undefined : findLocalGroupRow(db, client.id, groupCode)
      return group === undefined ? [] : listLocalGroupMembers(db, group.id).map((m) => decodeIdentifier(m) as ClientId)
    },
  }
  return conf
}

function toLocalClient(row: ClientRow): LocalClient {
  return {
    id: decodeIdentifier(row.identifier) as ClientId,
    state: row.state as ClientState,
    isAuthentication: row.is_authentication as IsAuthentication,
    createdAt: row.created_at,
  }
}

function toService(row: ServiceRow): ConfiguredService {
  const provider = decodeIdentifier(row.client_identifier) as ClientId
  return {
    serviceId: makeServiceId(provider, row.service_code),
    url: row.url,
    timeoutSeconds: row.timeout_seconds,
    sslVerify: row.ssl_verify === 1,
    disabled: row.disabled === 1,
    ...(row.disabled_notice === null ? {} : { disabledNotice: row.disabled_notice }),
  }
}

function validateState(state: string): ClientState {
  if (!(CLIENT_STATES as readonly string[]).includes(state)) {
    throw clientError('validation_failed', `Client state must be one of ${CLIENT_STATES.join(', ')}`)
  }
  return state as ClientState
}

/** A REST service URL is absolute http(s) with a host and no credentials or fragment (`service_malformed_url`). */
function validateServiceUrl(url: string): string {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw clientError('service_malformed_url', `Malformed service URL: ${url}`)
  }
  if (url.length > MAX_URL_LENGTH || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || parsed.hostname === '') {
    throw clientError('service_malformed_url', `Service URL must be an absolute http or https URL: ${url}`)
  }
  if (parsed.username !== '' || parsed.password !== '' || parsed.hash !== '') {
    throw clientError('service_malformed_url', 'Service URL must not carry credentials or a fragment')
  }
  return url
}

function validateTimeout(seconds: number): number {
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > 3600) {
    throw clientError('validation_failed', `Service timeout must be an integer number of seconds in 1..3600, got ${seconds}`)
  }
  return seconds
}

function validateMethod(method: string): EndpointMethod {
  const upper = method.toUpperCase()
  if (upper !== '*' && !(REST_METHODS as readonly string[]).includes(upper)) {
    throw clientError('validation_failed', `Endpoint method must be * or one of ${REST_METHODS.join(', ')}`)
  }
  return upper as EndpointMethod
}

/** Endpoint paths are decoded patterns starting with `/` (or the base `**`), without query or dot segments. */
function validateEndpointPath(path: string): string {
  if (path === BASE_ENDPOINT.path) return path
  if (!path.startsWith('/') || path.length > MAX_URL_LENGTH || /[?#\\;]/.test(path) || /(^|\/)\.\.?(\/|$)/.test(path)) {
    throw clientError('validation_failed', `Endpoint path must start with / and contain no query, ';', '\\' or dot segments: ${path}`)
  }
  return path
}

function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

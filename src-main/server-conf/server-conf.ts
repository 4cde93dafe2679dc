import { createHash } from 'node:crypto'
import {
  decodeIdentifier, describeIdentifier, encodeIdentifier, localGroupId, serviceId as makeServiceId, serviceProvider,
  validateIdentifierPart, type ClientId, type MemberId, type ServiceId,
} from '@shared/domain/identifiers'
import { type AccessSubject, type EndpointMethod, type EndpointRule, type ServiceAccessRights } from '../access-control'
import { clientError, inTransaction, systemClock, toSecurityServerError, type Clock, type SqlWriter } from '../platform'
import { findAnchorFile, saveAnchorFile } from './anchor-file-repository'
import {
  deleteAccessRight, deleteAccessRightsOfSubject, insertAccessRight, listAccessRightRows,
} from './access-right-repository'
import {
  countIsCertificates, deleteClientRow, deleteIsCertificate, findClientRow, insertClient, insertIsCertificate, listClientRows,
  listIsCertificateRows, updateClientIsAuthentication, updateClientState, type ClientRow,
} from './client-repository'
import {
  deleteLocalGroupMember, deleteLocalGroupRow, deleteMemberFromAllGroups, findLocalGroupRow, insertLocalGroup, insertLocalGroupMember,
  listLocalGroupMembers, listLocalGroupRows, updateLocalGroupDescription,
} from './local-group-repository'
import { deleteServiceDescriptionRow, insertServiceDescription, updateServiceDescriptionSource } from './service-description-repository'
import { createServiceDescriptionUseCases, type ServiceDescriptionType, type ServiceDescriptionUseCases } from './service-descriptions'
import {
  BASE_ENDPOINT, DEFAULT_SERVICE_TIMEOUT_SECONDS, toService, validateEndpointPath, validateMethod, validateServiceUrl, validateTimeout,
} from './service-rules'
import { findServerIdentity, saveServerIdentity, type ServerIdentity } from './server-identity-repository'
import { listTimestampingServiceNames, replaceTimestampingServiceNames } from './timestamping-service-repository'
import {
  deleteEndpointRow, findEndpointRow, findServiceRow, insertEndpoint, insertService, listEndpointRows, listServiceRows,
  updateEndpointRow, updateService, type EndpointRow, type ServiceRow,
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
  /** Carries the version when the service has one (a WSDL operation's `xrd:version`). */
  serviceId: ServiceId
  /** The service description it belongs to. */
  descriptionId: number
  descriptionType: ServiceDescriptionType
  /** A WSDL operation's `xrd:title`. */
  title?: string
  url: string
  timeoutSeconds: number
  sslVerify: boolean
  /** The description's state: services are enabled and disabled with their description (X-Road `servicedescription`). */
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

/** What went with a deleted client (UG-SS §4.5 "Deleting a client": its services, local groups and IS certificates). */
export interface ClientRemoval {
  services: ServiceId[]
  /** Access rights on those services. */
  accessRights: number
  localGroups: string[]
  isCertificates: number
  /** Access rights on other clients' services that named the deleted client (only with `removeAsSubject`). */
  rightsAsSubject: number
  /** Memberships of the deleted client in local groups of other clients (only with `removeAsSubject`). */
  groupMemberships: number
}

/**
 * Submits a registration or deletion request for a client to the central server (or approves it at once in a lab this
 * server hosts); called inside the state change's transaction, so a failure leaves the state unchanged.
 */
export type ClientRequestSender = (client: LocalClient) => void


export interface ServerConf extends ServiceDescriptionUseCases {
  identity(): ServerIdentity | undefined
  /** Stores identity and anchor once; `force` replaces an existing identity (`gatehouse init --force`). */
  initialize(owner: MemberId, serverCode: string, anchor?: { sourcePath: string; content: Uint8Array }, options?: { force?: boolean }): ServerIdentity
  anchorFile(): { sourcePath: string; content: Uint8Array; sha256: string; storedAt: string } | undefined
  /**
   * Replaces the anchor of an initialized server in one transaction (anchor re-import, ug-ss §10.1); the caller has
   * checked that it is for the server's instance. @throws not_initialized
   */
  replaceAnchor(anchor: { sourcePath: string; content: Uint8Array }): void
  /**
   * Makes member client `newOwner` the server's owner, keeping the server code (X-Road's `GlobalConfChecker.updateOwner`
   * after an approved ownerChange); the former owner stays a client. @throws not_initialized, not_found
   */
  changeOwner(newOwner: MemberId): ServerIdentity

  addClient(id: ClientId, state?: ClientState): LocalClient
  listClients(): LocalClient[]
  findClient(id: ClientId): LocalClient | undefined
  /** True when `id` is a client of this server in state REGISTERED (the proxies' "client registered" check). */
  isRegisteredClient(id: ClientId): boolean
  setClientState(id: ClientId, state: ClientState): LocalClient
  /** SAVED → REGISTRATION_IN_PROGRESS (X-Road ClientService.registerClient). @throws cannot_register_owner, action_not_possible */
  registerClient(id: ClientId, send?: ClientRequestSender): LocalClient
  /** REGISTERED, REGISTRATION_IN_PROGRESS or DISABLED → DELETION_IN_PROGRESS. @throws cannot_unregister_owner, action_not_possible */
  unregisterClient(id: ClientId, send?: ClientRequestSender): LocalClient
  /** REGISTERED → DISABLED: the proxies refuse its messages until it is enabled. @throws action_not_possible */
  disableClient(id: ClientId): LocalClient
  /** DISABLED → REGISTERED. @throws action_not_possible */
  enableClient(id: ClientId): LocalClient
  /**
   * Deletes a SAVED or unregistered client (DELETION_IN_PROGRESS, or DISABLED once `removedFromInstance`: global
   * configuration no longer lists it on this server) with its services, endpoints, access rights, local groups and IS
   * certificates; `removeAsSubject` also removes it from other clients' access rights and local groups (X-Road does so
   * when no other security server lists the client). @throws cannot_delete_owner, action_not_possible
   */
  deleteClient(id: ClientId, options?: { removeAsSubject?: boolean; removedFromInstance?: boolean }): ClientRemoval
  setIsAuthentication(id: ClientId, mode: IsAuthentication): LocalClient
  addIsCertificate(id: ClientId, der: Uint8Array): IsCertificate
  removeIsCertificate(id: ClientId, sha256: string): void
  listIsCertificates(id: ClientId): IsCertificate[]

  /** Adds a REST service in a REST description of its own, enabled (the short form of `addRestDescription`). @throws conflict */
  addService(provider: ClientId, input: ServiceInput): ConfiguredService
  /** The service with this code and version (none when `id` has none). */
  findService(id: ServiceId): ConfiguredService | undefined
  listServices(provider?: ClientId): ConfiguredService[]
  /** URL, timeout and TLS verification of one service (a REST description follows its service's URL). */
  updateService(id: ServiceId, changes: Partial<Omit<ServiceInput, 'code'>>): ConfiguredService
  /** Enables or disables the service's description, so every service of a WSDL together (X-Road has no per-service switch). */
  setServiceEnabled(id: ServiceId, enabled: boolean, notice?: string): ConfiguredService
  /**
   * Deletes a REST or OpenAPI service with its description and endpoints; returns the access rights that went with it.
   * A WSDL's services go with their WSDL. @throws wrong_servicedescription_type
   */
  deleteService(id: ServiceId): AccessRight[]

  /** A hand-made endpoint of a REST or OpenAPI service. @throws wrong_servicedescription_type, conflict */
  addEndpoint(id: ServiceId, endpoint: EndpointRef): Endpoint
  listEndpoints(id: ServiceId): Endpoint[]
  /** Changes an endpoint's method and path; its access rights stay. @throws illegal_generated_endpoint_update, conflict, not_found */
  updateEndpoint(id: ServiceId, endpoint: EndpointRef, changes: EndpointRef): Endpoint
  /** Deletes an endpoint; returns the access rights that went with it. @throws illegal_generated_endpoint_remove, not_found */
  deleteEndpoint(id: ServiceId, endpoint: EndpointRef): AccessRight[]

  grantAccess(id: ServiceId, subject: AccessSubject, endpoint?: EndpointRef): boolean
  revokeAccess(id: ServiceId, subject: AccessSubject, endpoint?: EndpointRef): void
  listAccessRights(id: ServiceId): AccessRight[]
  /** What `decideAccess` needs for one service; undefined when the service is not configured here. */
  accessRightsFor(id: ServiceId): ServiceAccessRights | undefined

  addLocalGroup(owner: ClientId, groupCode: string, description: string): LocalGroup
  addLocalGroupMember(owner: ClientId, groupCode: string, member: ClientId): boolean
  removeLocalGroupMember(owner: ClientId, groupCode: string, member: ClientId): void
  listLocalGroups(owner: ClientId): LocalGroup[]
  updateLocalGroup(owner: ClientId, groupCode: string, description: string): LocalGroup
  /**
   * Deletes a local group with its members and the access rights naming it on the owner's services (X-Road
   * LocalGroupService.deleteLocalGroup does the same); returns those access rights.
   */
  deleteLocalGroup(owner: ClientId, groupCode: string): AccessRight[]
  localGroupMembers(owner: ClientId, groupCode: string): ClientId[]

  /** The administrator's time-stamping services (approved TSA names, tried in this order); empty when none is selected. */
  timestampingServices(): string[]
  /** Replaces the selection; `[]` returns to every approved TSA in global-configuration order (ug-ss §10.2). */
  selectTimestampingServices(names: readonly string[]): string[]
}

export function createServerConf(db: SqlWriter, clock: Clock = systemClock): ServerConf {
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
  const findRow = (id: ServiceId): ServiceRow | undefined =>
    findServiceRow(db, encodeIdentifier(serviceProvider(id)), id.serviceCode, id.serviceVersion ?? '')
  const requireServiceRow = (id: ServiceId): ServiceRow => {
    const row = findRow(id)
    if (row === undefined) throw clientError('unknown_service', `Unknown service: ${describeIdentifier(id)}`)
    return row
  }
  const requireEndpointRow = (row: ServiceRow, endpoint: EndpointRef): EndpointRow => {
    const method = validateMethod(endpoint.method)
    const found = findEndpointRow(db, row.id, method, endpoint.path)
    if (found === undefined) throw clientError('not_found', `Service ${row.service_code} has no endpoint ${method} ${endpoint.path}`)
    return found
  }
  const rightsOf = (row: ServiceRow, endpointId?: number): AccessRight[] => {
    const serviceId = toService(row).serviceId
    return listAccessRightRows(db, row.id)
      .filter((r) => endpointId === undefined || r.endpoint_id === endpointId)
      .map((r) => ({
        serviceId,
        endpoint: { method: r.method as EndpointMethod, path: r.path },
        subject: decodeIdentifier(r.subject) as AccessSubject,
        grantedAt: r.granted_at,
      }))
  }
  const isOwner = (id: ClientId): boolean => {
    const identity = findServerIdentity(db)
    return identity !== undefined && encodeIdentifier(identity.owner) === encodeIdentifier(id)
  }
  /** A state change allowed only from `from` (X-Road ClientService: ActionNotPossibleException otherwise). */
  const transition = (id: ClientId, from: readonly ClientState[], to: ClientState, what: string, send?: ClientRequestSender): LocalClient =>
    tx(() => {
      const row = requireClientRow(id)
      if (!from.includes(row.state as ClientState)) {
        throw clientError('action_not_possible', `Client ${describeIdentifier(id)} is ${row.state}: only a client that is ${from.join(' or ')} can be ${what}`, {
          detail: 'state',
        })
      }
      send?.(toLocalClient(row))
      updateClientState(db, row.id, to)
      return toLocalClient(requireClientRow(id))
    })
  const groupRowId = (owner: ClientId, groupCode: string): number => {
    const group = findLocalGroupRow(db, requireClientRow(owner).id, groupCode)
    if (group === undefined) throw clientError('not_found', `Client ${describeIdentifier(owner)} has no local group ${groupCode}`)
    return group.id
  }

  const conf: ServerConf = {
    ...createServiceDescriptionUseCases({ db, now, tx, requireClientRow, rightsOf }),
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

    changeOwner(newOwner) {
      return tx(() => {
        const identity = findServerIdentity(db)
        if (identity === undefined) throw clientError('not_initialized', 'The security server is not initialized')
        if (findClientRow(db, encodeIdentifier(newOwner)) === undefined) {
          throw clientError('not_found', `${describeIdentifier(newOwner)} is not a client of this server`, { detail: 'client' })
        }
        saveServerIdentity(db, newOwner, identity.serverId.serverCode, clock.now())
        return findServerIdentity(db) as ServerIdentity
      })
    },

    anchorFile() {
      const row = findAnchorFile(db)
      return row === undefined ? undefined : { sourcePath: row.source_path, content: new Uint8Array(row.content), sha256: row.sha256, storedAt: row.stored_at }
    },

    addClient(id, state = 'SAVED') {
      return tx(() => {
        const key = encodeIdentifier(id)
        if (findClientRow(db, key) !== undefined) throw clientError('conflict', `Client ${describeIdentifier(id)} already exists`, { detail: 'client' })
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
    registerClient(id, send) {
      if (isOwner(id)) {
        throw clientError('cannot_register_owner', `${describeIdentifier(id)} owns this security server: it is registered with the server itself, not as a client`)
      }
      return transition(id, ['SAVED'], 'REGISTRATION_IN_PROGRESS', 'registered', send)
    },
    unregisterClient(id, send) {
      if (isOwner(id)) throw clientError('cannot_unregister_owner', `${describeIdentifier(id)} owns this security server and cannot be unregistered from it`)
      return transition(id, ['REGISTERED', 'REGISTRATION_IN_PROGRESS', 'DISABLED'], 'DELETION_IN_PROGRESS', 'unregistered', send)
    },
    disableClient(id) {
      return transition(id, ['REGISTERED'], 'DISABLED', 'disabled')
    },
    enableClient(id) {
      return transition(id, ['DISABLED'], 'REGISTERED', 'enabled')
    },
    deleteClient(id, options = {}) {
      // UG-SS §4.5 / X-Road ClientService.deleteLocalClient: never the owner; only SAVED or unregistered clients.
      if (isOwner(id)) throw clientError('cannot_delete_owner', `${describeIdentifier(id)} owns this security server and cannot be deleted`)
      return tx(() => {
        const row = requireClientRow(id)
        const unregistered = row.state === 'DELETION_IN_PROGRESS' || (row.state === 'DISABLED' && options.removedFromInstance === true)
        if (row.state !== 'SAVED' && !unregistered) {
          throw clientError('action_not_possible', `Client ${describeIdentifier(id)} is ${row.state}: unregister it before deleting it`, { detail: 'state' })
        }
        const services = listServiceRows(db, row.identifier)
        const removal: ClientRemoval = {
          services: services.map((s) => toService(s).serviceId),
          accessRights: services.reduce((n, s) => n + listAccessRightRows(db, s.id).length, 0),
          localGroups: listLocalGroupRows(db, row.id).map((g) => g.group_code),
          isCertificates: countIsCertificates(db, row.id),
          rightsAsSubject: 0,
          groupMemberships: 0,
        }
        deleteClientRow(db, row.id)
        if (options.removeAsSubject === true) {
          removal.rightsAsSubject = deleteAccessRightsOfSubject(db, row.identifier)
          removal.groupMemberships = deleteMemberFromAllGroups(db, row.identifier)
        }
        return removal
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
        // A service code this server creates keeps clear of the characters X-Road flags (received ones need not).
        const id = makeServiceId(provider, validateIdentifierPart('serviceCode', input.code))
        if (findRow(id) !== undefined) {
          throw clientError('conflict', `Service ${describeIdentifier(id)} already exists`, { detail: 'serviceCode' })
        }
        const url = validateServiceUrl(input.url)
        const descriptionId = insertServiceDescription(db, { clientRowId: client.id, type: 'REST', url, document: null, disabled: false, disabledNotice: null }, now())
        const serviceRowId = insertService(
          db,
          {
            clientRowId: client.id,
            descriptionRowId: descriptionId,
            code: id.serviceCode,
            version: '',
            title: null,
            url,
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
      const row = findRow(id)
      return row === undefined ? undefined : toService(row)
    },
    listServices(provider) {
      return listServiceRows(db, provider === undefined ? undefined : encodeIdentifier(provider)).map(toService)
    },
    updateService(id, changes) {
      return tx(() => {
        const row = requireServiceRow(id)
        const current = toService(row)
        const url = changes.url === undefined ? current.url : validateServiceUrl(changes.url)
        updateService(db, row.id, {
          url,
          timeoutSeconds: changes.timeoutSeconds === undefined ? current.timeoutSeconds : validateTimeout(changes.timeoutSeconds),
          sslVerify: changes.sslVerify ?? current.sslVerify,
        })
        if (row.description_type === 'REST' && url !== current.url) updateServiceDescriptionSource(db, row.description_id, url, null, now())
        return toService(requireServiceRow(id))
      })
    },
    setServiceEnabled(id, enabled, notice) {
      const row = requireServiceRow(id)
      conf.setServiceDescriptionEnabled(row.description_id, enabled, notice)
      return toService(requireServiceRow(id))
    },

    deleteService(id) {
      return tx(() => {
        const row = requireServiceRow(id)
        if (row.description_type === 'WSDL') {
          throw clientError('wrong_servicedescription_type', `${describeIdentifier(id)} comes from a WSDL: delete or refresh its WSDL instead`)
        }
        const rights = rightsOf(row)
        deleteServiceDescriptionRow(db, row.description_id)
        return rights
      })
    },

    addEndpoint(id, endpoint) {
      return tx(() => {
        const row = requireServiceRow(id)
        if (row.description_type === 'WSDL') {
          throw clientError('wrong_servicedescription_type', `${describeIdentifier(id)} is a SOAP service: access rights are on the whole service`, { detail: 'path' })
        }
        const method = validateMethod(endpoint.method)
        const path = validateEndpointPath(endpoint.path)
        if (findEndpointRow(db, row.id, method, path) !== undefined) {
          throw clientError('conflict', `Service ${describeIdentifier(id)} already has endpoint ${method} ${path}`, { detail: 'path' })
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

    updateEndpoint(id, endpoint, changes) {
      return tx(() => {
        const row = requireServiceRow(id)
        const current = requireEndpointRow(row, endpoint)
        if (current.generated === 1) {
          throw clientError('illegal_generated_endpoint_update', 'The whole-service endpoint is generated with the service and cannot be changed')
        }
        const method = validateMethod(changes.method)
        const path = validateEndpointPath(changes.path)
        const clash = findEndpointRow(db, row.id, method, path)
        if (clash !== undefined && clash.id !== current.id) {
          throw clientError('conflict', `Service ${describeIdentifier(id)} already has endpoint ${method} ${path}`, { detail: 'path' })
        }
        updateEndpointRow(db, current.id, method, path)
        return { serviceId: toService(row).serviceId, method, path, generated: false }
      })
    },
    deleteEndpoint(id, endpoint) {
      return tx(() => {
        const row = requireServiceRow(id)
        const current = requireEndpointRow(row, endpoint)
        if (current.generated === 1) {
          throw clientError('illegal_generated_endpoint_remove', 'The whole-service endpoint is generated with the service and cannot be deleted; delete the service instead')
        }
        const rights = rightsOf(row, current.id)
        deleteEndpointRow(db, current.id)
        return rights
      })
    },

    grantAccess(id, subject, endpoint = BASE_ENDPOINT) {
      return tx(() => {
        const row = requireServiceRow(id)
        if (subject.objectType === 'LOCALGROUP') groupRowId(decodeIdentifier(row.client_identifier) as ClientId, subject.groupCode)
        return insertAccessRight(db, requireEndpointRow(row, endpoint).id, encodeIdentifier(subject), now())
      })
    },
    revokeAccess(id, subject, endpoint = BASE_ENDPOINT) {
      tx(() => {
        const row = requireServiceRow(id)
        if (!deleteAccessRight(db, requireEndpointRow(row, endpoint).id, encodeIdentifier(subject))) {
          throw clientError('not_found', `${describeIdentifier(subject)} has no such access right on ${describeIdentifier(id)}`)
        }
      })
    },
    listAccessRights(id) {
      return rightsOf(requireServiceRow(id))
    },
    accessRightsFor(id) {
      const row = findRow(id)
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
        if (groupCode.trim() === '' || groupCode.length > 255) throw clientError('validation_failed', 'A local group code must be 1..255 characters', { detail: 'groupCode' })
        if (findLocalGroupRow(db, client.id, groupCode) !== undefined) {
          throw clientError('conflict', `Client ${describeIdentifier(owner)} already has local group ${groupCode}`, { detail: 'groupCode' })
        }
        insertLocalGroup(db, client.id, groupCode, validateDescription(description))
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
    updateLocalGroup(owner, groupCode, description) {
      return tx(() => {
        const groupId = groupRowId(owner, groupCode)
        updateLocalGroupDescription(db, groupId, validateDescription(description))
        const group = findLocalGroupRow(db, requireClientRow(owner).id, groupCode) as { id: number; description: string }
        return { owner, groupCode, description: group.description, members: listLocalGroupMembers(db, groupId).map((m) => decodeIdentifier(m) as ClientId) }
      })
    },
    deleteLocalGroup(owner, groupCode) {
      return tx(() => {
        const client = requireClientRow(owner)
        const groupId = groupRowId(owner, groupCode)
        const subject = encodeIdentifier(localGroupId(groupCode))
        const rights = listServiceRows(db, client.identifier).flatMap((s) => rightsOf(s)).filter((r) => encodeIdentifier(r.subject) === subject)
        deleteAccessRightsOfSubject(db, subject, client.id)
        deleteLocalGroupRow(db, groupId)
        return rights
      })
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

function validateDescription(description: string): string {
  if (description.length > 1000) throw clientError('validation_failed', 'A local group description is at most 1000 characters', { detail: 'description' })
  return description
}

function validateState(state: string): ClientState {
  if (!(CLIENT_STATES as readonly string[]).includes(state)) {
    throw clientError('validation_failed', `Client state must be one of ${CLIENT_STATES.join(', ')}`)
  }
  return state as ClientState
}

function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

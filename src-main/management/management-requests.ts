import { createHash } from 'node:crypto'
import {
  decodeIdentifier, describeIdentifier, encodeIdentifier, identifierEquals, memberOf, securityServerId, type ClientId, type MemberId, type SecurityServerId,
} from '@shared/domain/identifiers'
import type { GlobalConf } from '../global-conf'
import { clientError, inTransaction, systemClock, type SqlWriter } from '../platform'
import {
  getManagementRequestRow, insertManagementRequest, listManagementRequestRows, settleManagementRequest, type ClientState, type LocalClient,
  type ManagementRequestRow, type ServerConf,
} from '../server-conf'
import type { CertificateInfo } from '../signer'
import type { ManagementServiceCode } from './management-messages'
import {
  createManagementSender, type ManagementRequestInput, type ManagementSenderDeps, type PreparedManagementRequest,
} from './management-request-sender'

/**
 * The security server's management requests as use cases (X-Road's `ClientService`, `TokenCertificateService`,
 * `SecurityServerAddressService`, `MaintenanceModeService` on top of `ManagementRequestSenderService`): each checks
 * the precondition X-Road checks, sends once, and only when the central server accepted it changes the local state
 * and stores the request id; a refusal changes nothing. States then follow global configuration on every download
 * (X-Road's `GlobalConfChecker`): {@link settleWithGlobalConf}.
 *
 * Client states: SAVED → REGISTRATION_IN_PROGRESS (clientReg sent) → REGISTERED (listed on this server);
 * → DELETION_IN_PROGRESS (clientDeletion sent); REGISTERED with an open clientDisable is DISABLING_IN_PROGRESS until
 * the instance no longer lists it (then DISABLED); DISABLED with an open clientEnable is ENABLING_IN_PROGRESS until it
 * is listed again (then REGISTERED). Authentication certificates: saved with an open authCertReg is
 * `registration in progress` until the instance lists its hash (then registered); registered with an open
 * authCertDeletion is `deletion in progress` until the hash is gone (then saved).
 */
export type DerivedClientState = ClientState | 'DISABLING_IN_PROGRESS' | 'ENABLING_IN_PROGRESS'
export type DerivedAuthCertState = CertificateInfo['state'] | 'registration in progress' | 'deletion in progress'

export interface ManagementRequestRecord {
  readonly id: number
  readonly service: ManagementServiceCode
  /** Encoded client id, `authcert:{sha256 hex}`, or `server`. */
  readonly subject: string
  readonly detail?: string
  readonly messageId: string
  readonly requestId?: number
  readonly sentAt: string
  readonly sentBy?: string
  readonly status: 'SUBMITTED' | 'CONFIRMED' | 'SUPERSEDED'
  readonly settledAt?: string
}

export type ManagementOutcome =
  | { readonly dryRun: true; readonly prepared: PreparedManagementRequest }
  | { readonly dryRun: false; readonly prepared: PreparedManagementRequest; readonly requestId?: number; readonly record: ManagementRequestRecord }

export interface ManagementCallOptions {
  /** Build and sign the message, do not send it. */
  readonly dryRun?: boolean
  /** Who asked (recorded with the request). */
  readonly user?: string
}

export interface ManagementRequestsDeps extends ManagementSenderDeps {
  readonly db: SqlWriter
  readonly serverConf: ServerConf
}

export interface ManagementRequests {
  registerClient(id: ClientId, options?: ManagementCallOptions & { subsystemName?: string }): Promise<ManagementOutcome>
  unregisterClient(id: ClientId, options?: ManagementCallOptions): Promise<ManagementOutcome>
  disableClient(id: ClientId, options?: ManagementCallOptions): Promise<ManagementOutcome>
  enableClient(id: ClientId, options?: ManagementCallOptions): Promise<ManagementOutcome>
  renameClient(id: ClientId, subsystemName: string, options?: ManagementCallOptions): Promise<ManagementOutcome>
  changeOwner(newOwner: MemberId, options?: ManagementCallOptions): Promise<ManagementOutcome>
  changeAddress(address: string, options?: ManagementCallOptions): Promise<ManagementOutcome>
  enableMaintenanceMode(message: string | undefined, options?: ManagementCallOptions): Promise<ManagementOutcome>
  disableMaintenanceMode(options?: ManagementCallOptions): Promise<ManagementOutcome>
  registerAuthCertificate(certId: string, address: string, options?: ManagementCallOptions): Promise<ManagementOutcome>
  unregisterAuthCertificate(certId: string, options?: ManagementCallOptions): Promise<ManagementOutcome>
  /** Requests sent, newest first. */
  list(options?: { subject?: string; openOnly?: boolean }): ManagementRequestRecord[]
  clientState(client: LocalClient): DerivedClientState
  authCertState(cert: CertificateInfo): DerivedAuthCertState
  /** The open request on a client or certificate, if any. */
  openRequest(subject: string): ManagementRequestRecord | undefined
}

/** The subject key of a client's requests. */
export function clientSubject(id: ClientId): string {
  return encodeIdentifier(id)
}

/** The subject key of an authentication certificate's requests. */
export function authCertSubject(certDer: Uint8Array): string {
  return `authcert:${createHash('sha256').update(certDer).digest('hex')}`
}

export const SERVER_SUBJECT = 'server'

/** Requests that close an earlier open one on the same subject (a new state request replaces the old). */
const SUPERSEDES: Readonly<Record<ManagementServiceCode, readonly ManagementServiceCode[]>> = {
  clientReg: ['clientReg', 'clientDeletion'],
  clientDeletion: ['clientReg', 'clientDeletion', 'clientDisable', 'clientEnable', 'clientRename'],
  clientDisable: ['clientDisable', 'clientEnable'],
  clientEnable: ['clientDisable', 'clientEnable'],
  clientRename: ['clientRename'],
  ownerChange: ['ownerChange'],
  authCertReg: ['authCertReg', 'authCertDeletion'],
  authCertDeletion: ['authCertReg', 'authCertDeletion'],
  addressChange: ['addressChange'],
  maintenanceModeEnable: ['maintenanceModeEnable', 'maintenanceModeDisable'],
  maintenanceModeDisable: ['maintenanceModeEnable', 'maintenanceModeDisable'],
}

export function createManagementRequests(deps: ManagementRequestsDeps): ManagementRequests {
  const clock = deps.clock ?? systemClock
  const sender = createManagementSender(deps)
  const { db, serverConf } = deps

  const identity = (): SecurityServerId => {
    const serverId = deps.serverId()
    if (serverId === undefined) throw clientError('not_initialized', 'This security server has not joined an instance yet')
    return serverId
  }
  const requireClient = (id: ClientId): LocalClient => {
    const client = serverConf.findClient(id)
    if (client === undefined) throw clientError('not_found', `Client ${describeIdentifier(id)} is not a client of this server`, { detail: 'client' })
    return client
  }
  const notPossible = (message: string): never => {
    throw clientError('action_not_possible', message, { detail: 'state' })
  }
  const open = (subject: string, service?: ManagementServiceCode): ManagementRequestRecord | undefined =>
    listManagementRequestRows(db, { subject, openOnly: true }).map(toRecord).find((r) => service === undefined || r.service === service)

  /** Sends once; on acceptance applies `apply` and stores the request in one transaction. */
  const run = async (
    input: ManagementRequestInput, subject: string, detail: string | undefined, options: ManagementCallOptions, apply: () => void = () => undefined,
  ): Promise<ManagementOutcome> => {
    const prepared = await sender.compose(input)
    if (options.dryRun === true) return { dryRun: true, prepared }
    const sent = await sender.send(prepared)
    const record = inTransaction(db, () => {
      apply()
      const id = insertManagementRequest(db, {
        service: input.service, subject, ...(detail === undefined ? {} : { detail }), messageId: prepared.message.header.id,
        ...(sent.requestId === undefined ? {} : { requestId: sent.requestId }), sentAt: clock.now().toISOString(),
        ...(options.user === undefined ? {} : { sentBy: options.user }),
      }, SUPERSEDES[input.service])
      return toRecord(getManagementRequestRow(db, id) as ManagementRequestRow)
    })
    return { dryRun: false, prepared, record, ...(sent.requestId === undefined ? {} : { requestId: sent.requestId }) }
  }

  const ownCertificate = (certId: string): CertificateInfo => {
    const cert = deps.signer.listCertificates().find((c) => c.id === certId)
    if (cert === undefined) throw clientError('cert_not_found', `Certificate ${certId} is not in the key configuration`, { detail: 'certificate' })
    const key = deps.signer.listKeys().find((k) => k.id === cert.keyId)
    if (key?.usage !== 'auth') throw clientError('wrong_cert_usage', 'Only an authentication certificate is registered with the central server', { detail: 'certificate' })
    return cert
  }

  const facade: ManagementRequests = {
    async registerClient(id, options = {}) {
      const serverId = identity()
      // ClientService.registerClient.
      if (identifierEquals(id, memberOf(serverId))) throw clientError('cannot_register_owner', 'The owner member is registered with the server itself', { detail: 'client' })
      const client = requireClient(id)
      if (client.state !== 'SAVED') notPossible("Only clients with status 'saved' can be registered")
      if (id.xRoadInstance !== serverId.xRoadInstance) throw clientError('invalid_client_identifier', `Invalid instance identifier: ${id.xRoadInstance}`, { detail: 'client' })
      const name = options.subsystemName
      return run({ service: 'clientReg', client: id, ...(name === undefined ? {} : { subsystemName: name }) }, clientSubject(id), name, options,
        () => serverConf.registerClient(id))
    },
    async unregisterClient(id, options = {}) {
      const serverId = identity()
      const client = requireClient(id)
      if (!['REGISTERED', 'REGISTRATION_IN_PROGRESS', 'DISABLED'].includes(client.state)) notPossible(`cannot unregister client with status ${client.state}`)
      if (identifierEquals(id, memberOf(serverId))) throw clientError('cannot_unregister_owner', 'The owner member cannot be unregistered', { detail: 'client' })
      // The instance's management services would go with it (every later request is sent to it).
      const provider = deps.globalConf()?.managementService?.managementRequestServiceProviderId
      if (provider !== undefined && identifierEquals(provider, id)) {
        throw clientError('conflict', 'The management service provider cannot be unregistered', { detail: 'client' })
      }
      return run({ service: 'clientDeletion', client: id }, clientSubject(id), undefined, options, () => serverConf.unregisterClient(id))
    },
    async disableClient(id, options = {}) {
      identity()
      const client = requireClient(id)
      if (facade.clientState(client) !== 'REGISTERED') notPossible(`cannot disable client with status ${facade.clientState(client)}`)
      const provider = deps.globalConf()?.managementService?.managementRequestServiceProviderId
      if (provider !== undefined && identifierEquals(provider, id)) {
        throw clientError('conflict', 'The management service provider cannot be disabled', { detail: 'client' })
      }
      return run({ service: 'clientDisable', client: id }, clientSubject(id), undefined, options)
    },
    async enableClient(id, options = {}) {
      identity()
      const client = requireClient(id)
      if (facade.clientState(client) !== 'DISABLED') notPossible(`cannot enable client with status ${facade.clientState(client)}`)
      return run({ service: 'clientEnable', client: id }, clientSubject(id), undefined, options)
    },
    async renameClient(id, subsystemName, options = {}) {
      identity()
      if (id.objectType !== 'SUBSYSTEM') notPossible('Only subsystem can be renamed.')
      const client = requireClient(id)
      if (client.state !== 'REGISTERED') notPossible('Only registered clients can be renamed through the central server.')
      const name = subsystemName.trim()
      if (name === '') throw clientError('validation_failed', 'The new name is empty', { detail: 'subsystemName' })
      const current = deps.globalConf()?.findMember(id)?.subsystems.find((s) => s.subsystemCode === (id.objectType === 'SUBSYSTEM' ? id.subsystemCode : ''))?.name
      if (current === name) throw clientError('conflict', 'Can not change to the same name.', { detail: 'subsystemName' })
      if (open(clientSubject(id), 'clientRename') !== undefined) throw clientError('conflict', 'Subsystem rename change request already submitted.', { detail: 'subsystemName' })
      return run({ service: 'clientRename', client: id, subsystemName: name }, clientSubject(id), name, options)
    },
    async changeOwner(newOwner, options = {}) {
      const serverId = identity()
      const client = requireClient(newOwner)
      if (identifierEquals(newOwner, memberOf(serverId))) throw clientError('conflict', 'The member is the owner already', { detail: 'client' })
      if (client.state !== 'REGISTERED') notPossible("Only member with status 'registered' can become owner")
      return run({ service: 'ownerChange', client: newOwner }, SERVER_SUBJECT, encodeIdentifier(newOwner), options)
    },
    async changeAddress(address, options = {}) {
      identity()
      const value = address.trim()
      if (value === '' || value.length > 255 || /[\s/:@]/.test(value)) throw clientError('validation_failed', 'The address is a host name or an IP address', { detail: 'address' })
      return run({ service: 'addressChange', address: value }, SERVER_SUBJECT, value, options)
    },
    async enableMaintenanceMode(message, options = {}) {
      identity()
      return run({ service: 'maintenanceModeEnable', ...(message === undefined || message === '' ? {} : { message }) }, SERVER_SUBJECT, message, options)
    },
    async disableMaintenanceMode(options = {}) {
      identity()
      return run({ service: 'maintenanceModeDisable' }, SERVER_SUBJECT, undefined, options)
    },
    async registerAuthCertificate(certId, address, options = {}) {
      identity()
      const cert = ownCertificate(certId)
      // TokenCertificateService.registerAuthCert: only a saved certificate is registered.
      if (facade.authCertState(cert) !== 'saved') notPossible(`Only a saved authentication certificate can be registered (this one is ${facade.authCertState(cert)})`)
      const value = address.trim()
      if (value === '') throw clientError('validation_failed', 'The server address is required', { detail: 'address' })
      return run({ service: 'authCertReg', address: value, authCert: Buffer.from(cert.certDer) }, authCertSubject(cert.certDer), value, options)
    },
    async unregisterAuthCertificate(certId, options = {}) {
      identity()
      const cert = ownCertificate(certId)
      const state = facade.authCertState(cert)
      // TokenCertificateService.unregisterAuthCert: registered or registration in progress.
      if (state !== 'registered' && state !== 'active' && state !== 'registration in progress') notPossible(`An authentication certificate that is ${state} cannot be unregistered`)
      return run({ service: 'authCertDeletion', authCert: Buffer.from(cert.certDer) }, authCertSubject(cert.certDer), undefined, options)
    },
    list(options = {}) {
      return listManagementRequestRows(db, options).map(toRecord)
    },
    openRequest(subject) {
      return open(subject)
    },
    clientState(client) {
      const pending = open(clientSubject(client.id))
      if (client.state === 'REGISTERED' && pending?.service === 'clientDisable') return 'DISABLING_IN_PROGRESS'
      if (client.state === 'DISABLED' && pending?.service === 'clientEnable') return 'ENABLING_IN_PROGRESS'
      return client.state
    },
    authCertState(cert) {
      const pending = open(authCertSubject(cert.certDer))
      if (cert.state === 'saved' && pending?.service === 'authCertReg') return 'registration in progress'
      if ((cert.state === 'registered' || cert.state === 'active') && pending?.service === 'authCertDeletion') return 'deletion in progress'
      return cert.state
    },
  }
  return facade
}

/**
 * After an approved ownerChange global configuration no longer knows this server under its owner; it knows it under
 * the new owner, with the same server code and this server's authentication certificate. Then the owner changes here
 * too (X-Road's `GlobalConfChecker.updateOwner`: a member client, not the owner, whose server id global configuration
 * lists with an authentication certificate of this server's auth keys). Everything derived from the server's identity
 * (the server id in messages, the auth certificate in use, the owner's implicit client rights) follows from the next
 * read of the identity; the proxy runtime re-derives on the global-configuration change that brought it. Returns the
 * server id in force afterwards and what changed.
 */
export function followOwnerChange(
  deps: { readonly serverConf: ServerConf; readonly signer: Pick<ManagementRequestsDeps['signer'], 'listKeys' | 'listCertificates'> },
  conf: GlobalConf, serverId: SecurityServerId,
): { serverId: SecurityServerId; changed?: string } {
  if (conf.getServerById(serverId) !== undefined) return { serverId }
  const authKeys = new Set(deps.signer.listKeys().filter((k) => k.usage === 'auth').map((k) => k.id))
  const authCerts = deps.signer.listCertificates().filter((c) => authKeys.has(c.keyId))
  for (const client of deps.serverConf.listClients()) {
    if (client.id.objectType !== 'MEMBER' || identifierEquals(client.id, memberOf(serverId))) continue
    const candidate = securityServerId(client.id, serverId.serverCode)
    if (conf.getServerById(candidate) === undefined) continue
    if (!authCerts.some((c) => conf.authCertHashMatches(candidate, c.certDer))) continue
    deps.serverConf.changeOwner(client.id)
    return { serverId: candidate, changed: `owner ${describeIdentifier(client.id)}: this server is ${describeIdentifier(candidate)}` }
  }
  return { serverId }
}

/**
 * Moves states and closes requests as global configuration shows their effect (X-Road's `GlobalConfChecker`
 * `updateClientStatuses`, `updateAuthCertStatuses`, maintenance mode and subsystem name status): run after every
 * download, after the client/auth-certificate promotion of `registration-sync`. Returns what changed, for the log.
 */
export function settleWithGlobalConf(
  deps: Pick<ManagementRequestsDeps, 'db' | 'serverConf' | 'clock'> & { readonly signer: Pick<ManagementRequestsDeps['signer'], 'listCertificates'> & { setCertificateState(id: string, state: 'saved'): void } },
  conf: GlobalConf, serverId: SecurityServerId,
): string[] {
  const now = (deps.clock ?? systemClock).now().toISOString()
  const changed: string[] = []
  const openRows = listManagementRequestRows(deps.db, { openOnly: true })
  if (openRows.length === 0) return changed
  const certs = deps.signer.listCertificates()
  const server = conf.getServerById(serverId)
  for (const row of openRows) {
    const confirm = (what: string): void => {
      settleManagementRequest(deps.db, row.id, 'CONFIRMED', now)
      changed.push(`${row.service} ${row.request_id ?? ''} confirmed: ${what}`.replace('  ', ' '))
    }
    const clientId = row.subject.startsWith('authcert:') || row.subject === SERVER_SUBJECT ? undefined : decodeClient(row.subject)
    const listed = clientId !== undefined && conf.isSecurityServerClient(clientId, serverId)
    const client = clientId === undefined ? undefined : deps.serverConf.findClient(clientId)
    switch (row.service as ManagementServiceCode) {
      case 'clientReg':
        if (listed) confirm(`${row.subject} registered`)
        break
      case 'clientDeletion':
        if (clientId !== undefined && !listed) confirm(`${row.subject} removed from this server`)
        break
      case 'clientDisable':
        if (clientId !== undefined && !listed) {
          if (client?.state === 'REGISTERED') deps.serverConf.disableClient(clientId)
          confirm(`${row.subject} disabled`)
        }
        break
      case 'clientEnable':
        if (listed) {
          if (client?.state === 'DISABLED') deps.serverConf.enableClient(clientId)
          confirm(`${row.subject} enabled`)
        }
        break
      case 'clientRename': {
        const sub = clientId?.objectType === 'SUBSYSTEM' ? conf.findMember(clientId)?.subsystems.find((s) => s.subsystemCode === clientId.subsystemCode) : undefined
        if (sub?.name !== undefined && sub.name === row.detail) confirm(`${row.subject} renamed`)
        break
      }
      case 'authCertReg': case 'authCertDeletion': {
        const cert = certs.find((c) => authCertSubject(c.certDer) === row.subject)
        if (cert === undefined) break
        const registered = conf.authCertHashMatches(serverId, cert.certDer)
        if (row.service === 'authCertReg' && registered) confirm(`authentication certificate ${cert.subject} registered`)
        if (row.service === 'authCertDeletion' && !registered) {
          if (cert.state === 'registered') deps.signer.setCertificateState(cert.id, 'saved')
          confirm(`authentication certificate ${cert.subject} unregistered`)
        }
        break
      }
      case 'addressChange':
        if (server?.address === row.detail) confirm(`address ${row.detail ?? ''}`)
        break
      case 'maintenanceModeEnable':
        if (server?.inMaintenanceMode === true) confirm('maintenance mode on')
        break
      case 'maintenanceModeDisable':
        if (server !== undefined && !server.inMaintenanceMode) confirm('maintenance mode off')
        break
      case 'ownerChange': {
        const newOwner = row.detail === null ? undefined : decodeClient(row.detail)
        if (newOwner !== undefined && conf.getServerById(securityServerId(newOwner, serverId.serverCode)) !== undefined) confirm(`owner ${row.detail ?? ''}`)
        break
      }
    }
  }
  return changed
}

function decodeClient(subject: string): ClientId | undefined {
  if (!subject.startsWith('MEMBER:') && !subject.startsWith('SUBSYSTEM:')) return undefined
  try {
    return decodeIdentifier(subject) as ClientId
  } catch {
    return undefined
  }
}

function toRecord(row: ManagementRequestRow): ManagementRequestRecord {
  return {
    id: row.id, service: row.service as ManagementServiceCode, subject: row.subject, messageId: row.message_id, sentAt: row.sent_at, status: row.status,
    ...(row.detail === null ? {} : { detail: row.detail }),
    ...(row.request_id === null ? {} : { requestId: row.request_id }),
    ...(row.sent_by === null ? {} : { sentBy: row.sent_by }),
    ...(row.settled_at === null ? {} : { settledAt: row.settled_at }),
  }
}

import { X509Certificate } from 'node:crypto'
import { z } from 'zod'
import {
  serviceId as makeServiceId, serviceProvider, type ClientId, type ServiceId,
} from '@shared/domain/identifiers'
import {
  CLIENT_STATE_VALUES, IS_AUTHENTICATION_VALUES,
  type AccessMatrixRow, type AccessRightDto, type AccessRightsApi, type ClientDto, type ClientRequestDto, type ClientsApi, type IsCertificateDto,
  type LocalGroupDto, type LocalGroupsApi, type ServiceDto, type ServicesApi, type SubjectKind,
} from '@shared/admin-api/admin-api'
import type { ManagementApi, ManagementSendResultDto } from '@shared/admin-api/management-api'
import { SecurityServerError, clientError, type Clock } from '../platform'
import type { AccessRight, ConfiguredService, IsCertificate, LocalClient } from '../server-conf'
import { loadOrCreateAdminTls } from './admin-tls'
import { validate } from './admin-validation'
import {
  describeId, encodeId, listedOnServer, parseClientRef, parseServiceRef, parseSubjectRef, pathOf, servedByAnotherServer, type DomainsOf, type Subject,
} from './domain-support'

/**
 * Clients, REST services with endpoints, access rights and local groups (UG-SS §6–§10), and the "who may call
 * what" view. Validation of URLs, timeouts and endpoint patterns lives in server-conf; this layer checks shapes.
 */
const ref = z.string().min(1).max(1000)
const endpointSchema = z.object({ method: z.string().min(1).max(10), path: z.string().min(1).max(2048) }).strict()

export interface ClientsAdminDeps {
  domains: DomainsOf
  /** The management group: registering and unregistering are its clientReg and clientDeletion requests. */
  management: Pick<ManagementApi, 'registerClient' | 'unregisterClient'>
  clock: Clock
}

const clientInput = z.object({ client: ref }).strict()

export function createClientsAdmin(deps: ClientsAdminDeps): ClientsApi {
  const { domains, management, clock } = deps
  const toDto = (c: LocalClient): ClientDto => {
    const { serverConf, globalConf } = domains()
    const identity = serverConf.identity()
    return {
      id: encodeId(c.id), path: pathOf(c.id), kind: c.id.objectType, state: c.state, isAuthentication: c.isAuthentication,
      owner: identity !== undefined && encodeId(identity.owner) === encodeId(c.id),
      name: globalConf.current()?.getMemberName(c.id) ?? null,
      listedOnThisServer: listedOnServer(globalConf.current(), identity?.serverId, c.id),
      createdAt: c.createdAt,
    }
  }
  return {
    async list() {
      return domains().serverConf.listClients().map(toDto)
    },
    async add(input) {
      const value = validate(z.object({ client: ref, state: z.enum(CLIENT_STATE_VALUES).optional() }).strict(), input, 'client')
      const { serverConf } = domains()
      const client = parseClientRef(value.client)
      const identity = serverConf.identity()
      if (identity !== undefined && client.xRoadInstance !== identity.owner.xRoadInstance) {
        throw clientError('validation_failed', `A client must belong to instance ${identity.owner.xRoadInstance}`, { detail: 'client' })
      }
      return toDto(serverConf.addClient(client, value.state))
    },
    async setState(input) {
      const value = validate(z.object({ client: ref, state: z.enum(CLIENT_STATE_VALUES) }).strict(), input, 'client state')
      return toDto(domains().serverConf.setClientState(parseClientRef(value.client), value.state))
    },
    // X-Road's ClientService.registerClient / unregisterClient: the management request, then the client as it is now.
    async register(input) {
      const value = validate(clientInput, input, 'client')
      return withClient(parseClientRef(value.client), await management.registerClient({ client: value.client }))
    },
    async unregister(input) {
      const value = validate(clientInput, input, 'client')
      return withClient(parseClientRef(value.client), await management.unregisterClient({ client: value.client }))
    },
    async setEnabled(input) {
      const value = validate(z.object({ client: ref, enabled: z.boolean() }).strict(), input, 'client state')
      const { serverConf } = domains()
      const id = parseClientRef(value.client)
      return toDto(value.enabled ? serverConf.enableClient(id) : serverConf.disableClient(id))
    },
    async delete(input) {
      const id = parseClientRef(validate(clientInput, input, 'client').client)
      const { serverConf, globalConf } = domains()
      const conf = globalConf.current()
      const server = serverConf.identity()?.serverId
      const removal = serverConf.deleteClient(id, {
        removeAsSubject: !servedByAnotherServer(conf?.own.shared, server, id),
        // The runtime marks a client whose deletion the instance completed as DISABLED (src-main/server/registration-sync.ts).
        removedFromInstance: listedOnServer(conf, server, id) === false,
      })
      return { ...removal, services: removal.services.map(encodeId) }
    },
    async setIsAuthentication(input) {
      const value = validate(z.object({ client: ref, mode: z.enum(IS_AUTHENTICATION_VALUES) }).strict(), input, 'connection type')
      return toDto(domains().serverConf.setIsAuthentication(parseClientRef(value.client), value.mode))
    },
    async isCertificates(input) {
      const id = parseClientRef(validate(clientInput, input, 'client').client)
      return domains().serverConf.listIsCertificates(id).map(isCertificateDto)
    },
    async addIsCertificate(input) {
      const value = validate(
        z.object({ client: ref, content: z.string().min(1, 'choose a certificate file').max(64 * 1024), encoding: z.enum(['utf8', 'base64']).optional() }).strict(),
        input, 'certificate',
      )
      const id = parseClientRef(value.client)
      const bytes = Buffer.from(value.content, value.encoding === 'base64' ? 'base64' : 'utf8')
      let cert: X509Certificate
      try {
        cert = new X509Certificate(bytes)
      } catch (cause) {
        throw clientError('incorrect_certificate', 'The file is not a PEM or DER X.509 certificate', { detail: 'content', cause })
      }
      return isCertificateDto(domains().serverConf.addIsCertificate(id, new Uint8Array(cert.raw)))
    },
    async removeIsCertificate(input) {
      const value = validate(z.object({ client: ref, sha256: z.string().regex(/^[0-9a-fA-F]{64}$/, 'a SHA-256 in hex') }).strict(), input, 'certificate')
      domains().serverConf.removeIsCertificate(parseClientRef(value.client), value.sha256)
    },
    async internalTlsCertificate() {
      const tlsDir = domains().layout?.tlsDir
      if (tlsDir === undefined) throw new SecurityServerError('unsupported', 'This admin runtime has no TLS directory')
      const tls = await loadOrCreateAdminTls(tlsDir, clock)
      const cert = new X509Certificate(tls.cert)
      return {
        pem: tls.cert, sha256: cert.fingerprint256, subject: cert.subject.replace(/\n/g, ', '),
        notBefore: new Date(cert.validFrom).toISOString(), notAfter: new Date(cert.validTo).toISOString(), fileName: 'gatehouse-internal-tls.crt',
      }
    },
  }

  function withClient(id: ClientId, sent: ManagementSendResultDto): ClientRequestDto {
    const client = domains().serverConf.findClient(id)
    if (client === undefined) throw clientError('not_found', `Client ${describeId(id)} is not a client of this server`, { detail: 'client' })
    return { ...sent, client: toDto(client) }
  }
}

function isCertificateDto(c: IsCertificate): IsCertificateDto {
  let cert: X509Certificate | undefined
  try {
    cert = new X509Certificate(c.der)
  } catch {
    cert = undefined
  }
  return {
    sha256: c.sha256, subject: cert?.subject.replace(/\n/g, ', ') ?? null, issuer: cert?.issuer.replace(/\n/g, ', ') ?? null,
    notBefore: cert === undefined ? null : new Date(cert.validFrom).toISOString(), notAfter: cert === undefined ? null : new Date(cert.validTo).toISOString(),
    addedAt: c.addedAt,
  }
}

export function serviceDto(domains: DomainsOf, s: ConfiguredService): ServiceDto {
  return {
    id: encodeId(s.serviceId), provider: encodeId(serviceProvider(s.serviceId)), serviceCode: s.serviceId.serviceCode,
    serviceVersion: s.serviceId.serviceVersion ?? null, title: s.title ?? null, descriptionId: s.descriptionId, descriptionType: s.descriptionType,
    url: s.url, timeoutSeconds: s.timeoutSeconds, sslVerify: s.sslVerify, disabled: s.disabled, disabledNotice: s.disabledNotice ?? null,
    endpoints: domains().serverConf.listEndpoints(s.serviceId).map((e) => ({ method: e.method, path: e.path, generated: e.generated })),
  }
}

export function createServicesAdmin(domains: DomainsOf): ServicesApi {
  const one = (id: ServiceId): ServiceDto => {
    const found = domains().serverConf.findService(id)
    if (found === undefined) throw clientError('unknown_service', `Unknown service ${describeId(id)}`)
    return serviceDto(domains, found)
  }
  return {
    async list(input) {
      const value = validate(z.object({ client: ref.optional() }).strict(), input ?? {}, 'service list')
      const { serverConf } = domains()
      return serverConf.listServices(value.client === undefined ? undefined : parseClientRef(value.client)).map((s) => serviceDto(domains, s))
    },
    async add(input) {
      const value = validate(
        z.object({
          client: ref,
          serviceCode: z.string().trim().min(1, 'give the service code').max(255),
          url: z.string().min(1, 'give the service URL').max(2048),
          timeoutSeconds: z.number().int().min(1).max(3600).optional(),
          sslVerify: z.boolean().optional(),
        }).strict(),
        input, 'service',
      )
      const provider = parseClientRef(value.client)
      if (provider.objectType !== 'SUBSYSTEM') throw clientError('validation_failed', 'Services are provided by subsystems: choose a subsystem', { detail: 'client' })
      let id: ServiceId
      try {
        id = makeServiceId(provider, value.serviceCode)
      } catch (error) {
        throw clientError('validation_failed', `Invalid service code: ${(error as Error).message}`, { detail: 'serviceCode', cause: error })
      }
      domains().serverConf.addService(provider, {
        code: id.serviceCode, url: value.url,
        ...(value.timeoutSeconds === undefined ? {} : { timeoutSeconds: value.timeoutSeconds }),
        ...(value.sslVerify === undefined ? {} : { sslVerify: value.sslVerify }),
      })
      return one(id)
    },
    async update(input) {
      const value = validate(
        z.object({ service: ref, url: z.string().min(1).max(2048).optional(), timeoutSeconds: z.number().int().min(1).max(3600).optional(), sslVerify: z.boolean().optional() }).strict(),
        input, 'service',
      )
      const id = parseServiceRef(value.service)
      const { service: _omit, ...changes } = value
      domains().serverConf.updateService(id, changes)
      return one(id)
    },
    async setEnabled(input) {
      const value = validate(z.object({ service: ref, enabled: z.boolean(), notice: z.string().max(1000).optional() }).strict(), input, 'service state')
      const id = parseServiceRef(value.service)
      domains().serverConf.setServiceEnabled(id, value.enabled, value.notice)
      return one(id)
    },
    async addEndpoint(input) {
      const value = validate(z.object({ service: ref, method: z.string().min(1).max(10), path: z.string().min(1).max(2048) }).strict(), input, 'endpoint')
      const id = parseServiceRef(value.service)
      domains().serverConf.addEndpoint(id, { method: value.method, path: value.path })
      return one(id)
    },
    async delete(input) {
      const value = validate(z.object({ service: ref }).strict(), input, 'service')
      return domains().serverConf.deleteService(parseServiceRef(value.service)).map((r) => accessRightDto(domains, r))
    },
    async updateEndpoint(input) {
      const value = validate(
        z.object({ service: ref, endpoint: endpointSchema, method: z.string().min(1).max(10), path: z.string().min(1, 'give the path').max(2048) }).strict(),
        input, 'endpoint',
      )
      const id = parseServiceRef(value.service)
      domains().serverConf.updateEndpoint(id, value.endpoint, { method: value.method, path: value.path })
      return one(id)
    },
    async deleteEndpoint(input) {
      const value = validate(z.object({ service: ref, endpoint: endpointSchema }).strict(), input, 'endpoint')
      const id = parseServiceRef(value.service)
      domains().serverConf.deleteEndpoint(id, value.endpoint)
      return one(id)
    },
  }
}

export function accessRightDto(domains: DomainsOf, r: AccessRight): AccessRightDto {
  return {
    service: encodeId(r.serviceId), endpoint: r.endpoint, subject: encodeId(r.subject), subjectKind: subjectKind(r.subject),
    subjectLabel: subjectLabel(domains, r.subject), grantedAt: r.grantedAt,
  }
}

function subjectKind(subject: Subject): SubjectKind {
  return subject.objectType
}

function subjectLabel(domains: DomainsOf, subject: Subject): string {
  if (subject.objectType === 'LOCALGROUP') return `Local group ${subject.groupCode}`
  if (subject.objectType === 'GLOBALGROUP') return `Global group ${subject.groupCode} (${subject.xRoadInstance})`
  const name = domains().globalConf.current()?.getMemberName(subject)
  return name === undefined ? pathOf(subject) : `${name} · ${pathOf(subject)}`
}

export function createAccessRightsAdmin(domains: DomainsOf): AccessRightsApi {
  const toDto = (r: AccessRight): AccessRightDto => accessRightDto(domains, r)
  const change = z.object({ service: ref, subject: ref, endpoint: endpointSchema.optional() }).strict()
  const members = (provider: ClientId, subject: Subject): string[] => {
    if (subject.objectType === 'LOCALGROUP') return domains().serverConf.localGroupMembers(provider, subject.groupCode).map(encodeId)
    if (subject.objectType === 'GLOBALGROUP') {
      const shared = domains().globalConf.current()?.getSharedParameters(subject.xRoadInstance)
      const group = shared?.globalGroups.find((g) => g.id.groupCode === subject.groupCode)
      return group === undefined ? [] : group.members.map(encodeId)
    }
    return []
  }
  return {
    async list(input) {
      const value = validate(z.object({ service: ref }).strict(), input, 'service')
      return domains().serverConf.listAccessRights(parseServiceRef(value.service)).map(toDto)
    },
    async grant(input) {
      const value = validate(change, input, 'access right')
      const id = parseServiceRef(value.service)
      const subject = parseSubjectRef(value.subject)
      if (subject.objectType === 'GLOBALGROUP') {
        const shared = domains().globalConf.current()?.getSharedParameters(subject.xRoadInstance)
        if (shared !== undefined && !shared.globalGroups.some((g) => g.id.groupCode === subject.groupCode)) {
          throw clientError('not_found', `Global configuration has no global group ${subject.groupCode} in ${subject.xRoadInstance}`, { detail: 'subject' })
        }
      }
      domains().serverConf.grantAccess(id, subject, value.endpoint)
      return domains().serverConf.listAccessRights(id).map(toDto)
    },
    async revoke(input) {
      const value = validate(change, input, 'access right')
      const id = parseServiceRef(value.service)
      domains().serverConf.revokeAccess(id, parseSubjectRef(value.subject), value.endpoint)
      return domains().serverConf.listAccessRights(id).map(toDto)
    },
    async matrix() {
      const { serverConf } = domains()
      const rows: AccessMatrixRow[] = []
      for (const service of serverConf.listServices()) {
        const provider = serviceProvider(service.serviceId)
        for (const right of serverConf.listAccessRights(service.serviceId)) {
          rows.push({
            service: encodeId(service.serviceId), serviceCode: service.serviceId.serviceCode, provider: encodeId(provider), disabled: service.disabled,
            endpoint: right.endpoint, subject: encodeId(right.subject), subjectKind: subjectKind(right.subject),
            subjectLabel: subjectLabel(domains, right.subject), members: members(provider, right.subject),
          })
        }
      }
      return rows
    },
  }
}

export function createLocalGroupsAdmin(domains: DomainsOf): LocalGroupsApi {
  const groupCode = z.string().trim().min(1, 'give the group code').max(255)
  const one = (client: ClientId, code: string): LocalGroupDto => {
    const group = domains().serverConf.listLocalGroups(client).find((g) => g.groupCode === code)
    if (group === undefined) throw clientError('not_found', `Client ${describeId(client)} has no local group ${code}`)
    return { owner: encodeId(group.owner), groupCode: group.groupCode, description: group.description, members: group.members.map(encodeId) }
  }
  return {
    async list(input) {
      const value = validate(z.object({ client: ref }).strict(), input, 'client')
      return domains().serverConf.listLocalGroups(parseClientRef(value.client)).map((g) => ({
        owner: encodeId(g.owner), groupCode: g.groupCode, description: g.description, members: g.members.map(encodeId),
      }))
    },
    async add(input) {
      const value = validate(z.object({ client: ref, groupCode, description: z.string().max(1000) }).strict(), input, 'local group')
      const client = parseClientRef(value.client)
      domains().serverConf.addLocalGroup(client, value.groupCode, value.description)
      return one(client, value.groupCode)
    },
    async addMember(input) {
      const value = validate(z.object({ client: ref, groupCode, member: ref }).strict(), input, 'group member')
      const client = parseClientRef(value.client)
      one(client, value.groupCode)
      if (!domains().serverConf.addLocalGroupMember(client, value.groupCode, parseClientRef(value.member, 'member'))) {
        throw clientError('conflict', `${value.member} is already in local group ${value.groupCode}`, { detail: 'member' })
      }
      return one(client, value.groupCode)
    },
    async removeMember(input) {
      const value = validate(z.object({ client: ref, groupCode, member: ref }).strict(), input, 'group member')
      const client = parseClientRef(value.client)
      domains().serverConf.removeLocalGroupMember(client, value.groupCode, parseClientRef(value.member, 'member'))
      return one(client, value.groupCode)
    },
    async update(input) {
      const value = validate(z.object({ client: ref, groupCode, description: z.string().max(1000) }).strict(), input, 'local group')
      const client = parseClientRef(value.client)
      domains().serverConf.updateLocalGroup(client, value.groupCode, value.description)
      return one(client, value.groupCode)
    },
    async delete(input) {
      const value = validate(z.object({ client: ref, groupCode }).strict(), input, 'local group')
      return domains().serverConf.deleteLocalGroup(parseClientRef(value.client), value.groupCode).map((r) => accessRightDto(domains, r))
    },
  }
}

import { decodeIdentifier, formatIdPath } from '@shared/domain/identifiers'
import type { AdminApi } from '@shared/admin-api/admin-api'
import { redactSecrets } from '../audit-log'

/**
 * What the audit log records of a change besides who and what: the object it was made to and that object's state
 * before and after, as the admin API's own reads show it (they never carry secrets; `redactSecrets` is applied on top).
 * A change without a state reader records its input and, for creations, what it created (the method's result).
 */
type Input = Record<string, unknown>

interface AuditSubject {
  /** The object's state now; undefined when it does not exist (before a creation, after a deletion). */
  state(api: AdminApi, input: Input): Promise<unknown>
}

/** Input fields that name the changed object, most specific first. */
const OBJECT_FIELDS = ['service', 'client', 'subsystem', 'member', 'server', 'username', 'tokenId', 'keyId', 'csrId', 'certId', 'serial', 'name', 'code', 'groupCode', 'label', 'id'] as const

/** `SUBSYSTEM:LAB/GOV/1/x` and `LAB/GOV/1/x` name the same object. */
function sameId(dtoId: string, given: unknown): boolean {
  if (typeof given !== 'string') return false
  if (dtoId === given.trim()) return true
  try {
    return formatIdPath(decodeIdentifier(dtoId)) === given.trim()
  } catch {
    return false
  }
}

const str = (input: Input, field: string): string => String(input[field] ?? '')

const client: AuditSubject = { state: async (api, i) => (await api.clients.list()).find((c) => sameId(c.id, i.client)) }
const service: AuditSubject = { state: async (api, i) => (await api.services.list()).find((s) => sameId(s.id, i.service)) }
const user: AuditSubject = { state: async (api, i) => (await api.users.list()).find((u) => u.username === i.username) }
const apiKey: AuditSubject = { state: async (api, i) => (await api.apiKeys.list()).find((k) => k.id === i.id) }
const token: AuditSubject = { state: async (api, i) => (await api.tokens.list()).find((t) => t.id === i.tokenId) }
const key: AuditSubject = { state: async (api, i) => (await api.keys.list()).find((k) => k.id === i.keyId) }
const csr: AuditSubject = { state: async (api, i) => (await api.csrs.list()).find((c) => c.id === i.csrId) }
const certificate: AuditSubject = { state: async (api, i) => (await api.certificates.list()).find((c) => c.id === i.certId) }
const localGroup: AuditSubject = {
  state: async (api, i) => (await api.localGroups.list({ client: str(i, 'client') })).find((g) => g.groupCode === i.groupCode),
}
const setting: AuditSubject = {
  state: async (api, i) => {
    const found = (await api.settings.list()).find((s) => s.name === i.name)
    return found === undefined ? undefined : { value: found.value, isDefault: found.isDefault }
  },
}
const labMember: AuditSubject = { state: async (api, i) => (await api.lab.members()).find((m) => sameId(m.id, i.member)) }
const labSubsystem: AuditSubject = {
  state: async (api, i) => (await api.lab.members()).flatMap((m) => m.subsystems).find((s) => sameId(s.id, i.subsystem)),
}
const labServer: AuditSubject = { state: async (api, i) => (await api.lab.servers()).find((s) => sameId(s.id, i.server)) }
const labGroup: AuditSubject = { state: async (api, i) => (await api.lab.globalGroups()).find((g) => g.code === i.code) }
const labRequest: AuditSubject = { state: async (api, i) => (await api.lab.managementRequests()).requests.find((r) => r.id === i.id) }
const clusterNode: AuditSubject = { state: async (api, i) => (await api.system.clusterNodes()).nodes.find((n) => n.name === i.name) }
const ceremony: AuditSubject = { state: async (api, i) => (await api.ceremony.list()).find((c) => c.id === i.id) }

const serviceDescription: AuditSubject = {
  state: async (api, i) => {
    try {
      return await api.serviceDescriptions.get({ id: i.id as number })
    } catch (error) {
      // Gone (after a deletion): no state, as for the other objects.
      if ((error as { code?: string }).code === 'service_description_not_found') return undefined
      throw error
    }
  },
}

const SUBJECTS: Record<string, AuditSubject> = {
  'serviceDescriptions.refresh': serviceDescription, 'serviceDescriptions.update': serviceDescription,
  'serviceDescriptions.setEnabled': serviceDescription, 'serviceDescriptions.delete': serviceDescription,
  'system.forgetClusterNode': clusterNode,
  'users.add': user, 'users.setRoles': user, 'users.setPassword': user, 'users.remove': user,
  'apiKeys.setRoles': apiKey, 'apiKeys.revoke': apiKey,
  'initialization.initialize': { state: (api) => api.initialization.status() },
  'tokens.login': token, 'tokens.logout': token, 'tokens.changePin': token,
  'keys.delete': key,
  'csrs.delete': csr,
  'certificates.activate': certificate, 'certificates.disable': certificate, 'certificates.delete': certificate,
  'clients.add': client, 'clients.setState': client, 'clients.register': client, 'clients.unregister': client, 'clients.setEnabled': client,
  'clients.delete': client, 'clients.setIsAuthentication': client,
  'clients.addIsCertificate': { state: (api, i) => api.clients.isCertificates({ client: str(i, 'client') }) },
  'clients.removeIsCertificate': { state: (api, i) => api.clients.isCertificates({ client: str(i, 'client') }) },
  'services.add': {
    state: async (api, i) => (await api.services.list({ client: str(i, 'client') })).find((s) => s.serviceCode === i.serviceCode),
  },
  'services.update': service, 'services.setEnabled': service, 'services.addEndpoint': service, 'services.delete': service,
  'services.updateEndpoint': service, 'services.deleteEndpoint': service,
  'accessRights.grant': { state: (api, i) => api.accessRights.list({ service: str(i, 'service') }) },
  'accessRights.revoke': { state: (api, i) => api.accessRights.list({ service: str(i, 'service') }) },
  'localGroups.add': localGroup, 'localGroups.addMember': localGroup, 'localGroups.removeMember': localGroup,
  'localGroups.update': localGroup, 'localGroups.delete': localGroup,
  'globalConf.replaceAnchor': {
    state: async (api) => {
      const { content: _content, ...anchor } = await api.globalConf.anchor()
      return anchor
    },
  },
  'globalConf.selectTimestampingServices': { state: async (api) => (await api.globalConf.timestampingServices()).selected },
  'settings.set': setting, 'settings.reset': setting,
  'settings.setBootstrap': { state: async (api) => (await api.settings.bootstrap()).values },
  'ceremony.addParticipant': ceremony, 'ceremony.checkOffline': ceremony, 'ceremony.identifyToken': ceremony, 'ceremony.login': ceremony,
  'ceremony.generateKey': ceremony, 'ceremony.createCsr': ceremony, 'ceremony.importCertificate': ceremony, 'ceremony.seal': ceremony,
  'lab.create': { state: async (api) => pick(await api.lab.status(), ['exists', 'instance']) },
  'lab.confirm': { state: async (api) => pick(await api.lab.status(), ['exists', 'instance']) },
  'lab.addSubsystem': labMember, 'lab.deleteMember': labMember,
  'lab.deleteSubsystem': labSubsystem,
  'lab.setServerAddress': labServer, 'lab.deleteServer': labServer, 'lab.deleteAuthCertificate': labServer,
  'lab.addServerClient': labServer, 'lab.removeServerClient': labServer,
  'lab.revokeCertificate': { state: async (api, i) => (await api.lab.certificates()).find((c) => c.serial === i.serial) },
  'lab.addGlobalGroup': labGroup, 'lab.deleteGlobalGroup': labGroup, 'lab.addGlobalGroupMember': labGroup, 'lab.removeGlobalGroupMember': labGroup,
  'lab.setConfExpiry': { state: (api) => api.lab.trustServices() },
  'lab.approveManagementRequest': labRequest, 'lab.declineManagementRequest': labRequest,
  'lab.setManagementAutoApproval': { state: async (api) => (await api.lab.managementRequests()).autoApproval },
  'lab.serveManagementServices': { state: async (api) => pick(await api.lab.managementRequests(), ['providerId', 'managementSecurityServer']) },
}

function pick<T extends object>(value: T, keys: Array<keyof T>): Partial<T> {
  return Object.fromEntries(keys.map((k) => [k, value[k]])) as Partial<T>
}

/** The first argument when it is an object (every audited method takes at most one). */
export function auditInput(args: readonly unknown[]): Input {
  const first = args[0]
  return first !== null && typeof first === 'object' && !Array.isArray(first) ? (first as Input) : {}
}

/** The object a change names: the first identifying field of its input. */
export function auditObject(event: string, input: Input, actor: string): string | null {
  if (event === 'users.changeOwnPassword') return actor
  if (event.startsWith('serviceDescriptions.') && typeof input.id === 'number') return `servicedescription:${input.id}`
  if (event === 'apiKeys.setRoles' || event === 'apiKeys.revoke') return typeof input.id === 'number' ? `apikey:${input.id}` : null
  if (event === 'localGroups.add' || event.startsWith('localGroups.')) {
    if (typeof input.client === 'string' && typeof input.groupCode === 'string') return `${input.client} LOCALGROUP:${input.groupCode}`
  }
  for (const field of OBJECT_FIELDS) {
    const value = input[field]
    if (typeof value === 'string' && value.trim() !== '') return value.trim().slice(0, 300)
    if (typeof value === 'number') return String(value)
  }
  return null
}

/** The object's state for the audit entry (secrets removed), or undefined when the event has no reader or it failed. */
export async function auditState(api: AdminApi, event: string, input: Input): Promise<unknown> {
  const subject = SUBJECTS[event]
  if (subject === undefined) return undefined
  try {
    const state = await subject.state(api, input)
    return state === undefined ? null : redactSecrets(state)
  } catch {
    // The object cannot be read (invalid input, a domain this runtime lacks): the entry keeps the input.
    return undefined
  }
}

/** True when the event records its state before and after (so the result is not needed as "after"). */
export function hasStateReader(event: string): boolean {
  return SUBJECTS[event] !== undefined
}

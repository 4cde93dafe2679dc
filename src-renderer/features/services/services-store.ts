import { create } from 'zustand'
import type {
  AccessMatrixRow, ClientDto, ClientRemovalDto, GlobalGroupDto, GlobalMemberDto, InternalTlsCertificateDto,
  IsAuthenticationValue, IsCertificateDto, LocalGroupDto, ServiceDescriptionChangeDto, ServiceDescriptionDto, ServiceDto,
} from '@shared/admin-api/admin-api'
import type { ManagementRequestDto, ManagementSendResultDto } from '@shared/admin-api/management-api'
import { adminClient } from '../../lib/admin-client'

/**
 * Clients, their REST services and endpoints, local groups, access rights and the "who may call what" matrix, with
 * global configuration's members and global groups for the pickers. Changes throw on failure (the form or the confirm
 * dialog shows the error where it belongs) and reload everything on success.
 */
export type ServicesTab = 'clients' | 'services' | 'access' | 'groups'

export interface EndpointRef {
  method: string
  path: string
}

/** The client management requests of pr-mserv the Clients tab sends (ug-ss §4). */
export type ClientRequestKind = 'register' | 'unregister' | 'disable' | 'enable' | 'rename' | 'makeOwner'

/** What the page tells the person after a management request was sent: which one, for whom, the central server's id. */
export interface RequestNotice {
  kind: ClientRequestKind
  client: string
  requestId: number | null
}

/** The open (not yet confirmed by global configuration) management request on a client, if any. */
export function openRequestOf(requests: readonly ManagementRequestDto[], client: string): ManagementRequestDto | undefined {
  return requests.find((r) => r.subject === client && r.status === 'SUBMITTED')
}

/** The open ownerChange that makes `member` this server's owner (its subject is the server, its detail the member). */
export function openOwnerChangeFor(requests: readonly ManagementRequestDto[], member: string): ManagementRequestDto | undefined {
  return requests.find((r) => r.service === 'ownerChange' && r.detail === member && r.status === 'SUBMITTED')
}

interface ServicesState {
  tab: ServicesTab
  clients: ClientDto[]
  services: ServiceDto[]
  /** The service descriptions (WSDL, OpenAPI 3, REST) of every subsystem. */
  descriptions: ServiceDescriptionDto[]
  matrix: AccessMatrixRow[]
  groups: LocalGroupDto[]
  members: GlobalMemberDto[]
  globalGroups: GlobalGroupDto[]
  /** IS TLS certificates by encoded client id, loaded when the connection dialog opens. */
  isCertificates: Record<string, IsCertificateDto[]>
  loading: boolean
  error: unknown
  notice: RequestNotice | null
  /** Open management requests (sent, not yet confirmed by global configuration), newest first. */
  requests: ManagementRequestDto[]
  /** The subsystem serving the instance's management services (global configuration), if known. */
  managementProvider: string | null
  setTab(tab: ServicesTab): void
  load(): Promise<void>
  addClient(client: string): Promise<void>
  /** Sends a client management request to the central server (`management.*`); the subsystem name only for rename. */
  manage(kind: ClientRequestKind, client: string, subsystemName?: string): Promise<ManagementSendResultDto>
  deleteClient(client: string): Promise<ClientRemovalDto>
  setIsAuthentication(client: string, mode: IsAuthenticationValue): Promise<void>
  loadIsCertificates(client: string): Promise<void>
  addIsCertificate(client: string, file: { content: string; encoding: 'utf8' | 'base64' }): Promise<void>
  removeIsCertificate(client: string, sha256: string): Promise<void>
  internalTlsCertificate(): Promise<InternalTlsCertificateDto>
  addService(input: { client: string; serviceCode: string; url: string; timeoutSeconds: number; sslVerify: boolean }): Promise<void>
  updateService(input: { service: string; url: string; timeoutSeconds: number; sslVerify: boolean }): Promise<void>
  setServiceEnabled(service: string, enabled: boolean, notice?: string): Promise<void>
  deleteService(service: string): Promise<void>
  addWsdl(input: { client: string; url: string }): Promise<ServiceDescriptionDto>
  /** Not applied while it has warnings the person has not accepted (`ignoreWarnings`). */
  addOpenApi(input: { client: string; serviceCode: string; url?: string; file?: { name: string; contentBase64: string }; ignoreWarnings: boolean }): Promise<ServiceDescriptionChangeDto>
  /** Reads the description again; with changes, applied only with `ignoreWarnings` (the person confirmed what goes). */
  refreshDescription(id: number, ignoreWarnings: boolean): Promise<ServiceDescriptionChangeDto>
  setDescriptionEnabled(id: number, enabled: boolean, notice?: string): Promise<void>
  deleteDescription(id: number): Promise<void>
  addEndpoint(input: { service: string; method: string; path: string }): Promise<void>
  updateEndpoint(input: { service: string; endpoint: EndpointRef; method: string; path: string }): Promise<void>
  deleteEndpoint(service: string, endpoint: EndpointRef): Promise<void>
  grant(input: { service: string; subject: string; endpoint?: EndpointRef }): Promise<void>
  revoke(input: { service: string; subject: string; endpoint: EndpointRef }): Promise<void>
  addGroup(input: { client: string; groupCode: string; description: string }): Promise<void>
  updateGroup(input: { client: string; groupCode: string; description: string }): Promise<void>
  deleteGroup(client: string, groupCode: string): Promise<void>
  addGroupMember(input: { client: string; groupCode: string; member: string }): Promise<void>
  removeGroupMember(input: { client: string; groupCode: string; member: string }): Promise<void>
  clearError(): void
  clearNotice(): void
}

export const initialServices = {
  tab: 'clients' as ServicesTab, clients: [], services: [], descriptions: [], matrix: [], groups: [], members: [], globalGroups: [], isCertificates: {},
  loading: false, error: null, notice: null, requests: [] as ManagementRequestDto[], managementProvider: null as string | null,
}

export const useServicesStore = create<ServicesState>((set, get) => {
  const reload = async (): Promise<void> => {
    const client = adminClient()
    const [clients, services, matrix, members, globalGroups, requests, provider] = await Promise.all([
      client.call('clients', 'list'), client.call('services', 'list', {}), client.call('accessRights', 'matrix'),
      client.call('globalConf', 'members'), client.call('globalConf', 'globalGroups'), client.call('management', 'requests', { openOnly: true }),
      client.call('management', 'serviceProvider'),
    ])
    const subsystems = clients.filter((c) => c.kind === 'SUBSYSTEM')
    const [groups, descriptions] = await Promise.all([
      Promise.all(subsystems.map((c) => client.call('localGroups', 'list', { client: c.id }))).then((lists) => lists.flat()),
      Promise.all(subsystems.map((c) => client.call('serviceDescriptions', 'list', { client: c.id }))).then((lists) => lists.flat()),
    ])
    set({ clients, services, descriptions, matrix, groups, members, globalGroups, requests, managementProvider: provider.providerId })
  }
  /** Runs a change, then shows the new state; a failure is thrown to the caller (form or dialog), not kept here. */
  const change = async <T>(work: () => Promise<T>): Promise<T> => {
    const result = await work()
    await reload()
    return result
  }
  const manage = async (kind: ClientRequestKind, client: string, subsystemName?: string): Promise<ManagementSendResultDto> => {
    const send = (): Promise<ManagementSendResultDto> => {
      const api = adminClient()
      switch (kind) {
        case 'register': return api.call('management', 'registerClient', { client })
        case 'unregister': return api.call('management', 'unregisterClient', { client })
        case 'disable': return api.call('management', 'disableClient', { client })
        case 'enable': return api.call('management', 'enableClient', { client })
        case 'rename': return api.call('management', 'renameClient', { client, subsystemName: subsystemName ?? '' })
        case 'makeOwner': return api.call('management', 'changeOwner', { member: client })
      }
    }
    const result = await change(send)
    set({ notice: { kind, client: get().clients.find((c) => c.id === client)?.path ?? client, requestId: result.requestId } })
    return result
  }
  return {
    ...initialServices,
    setTab: (tab) => set({ tab }),
    load: async () => {
      set({ loading: true, error: null })
      try {
        await reload()
        set({ loading: false })
      } catch (error) {
        set({ error, loading: false })
      }
    },
    addClient: (client) => change(() => adminClient().call('clients', 'add', { client })).then(() => undefined),
    manage,
    deleteClient: (client) => change(() => adminClient().call('clients', 'delete', { client })),
    setIsAuthentication: (client, mode) => change(() => adminClient().call('clients', 'setIsAuthentication', { client, mode })).then(() => undefined),
    loadIsCertificates: async (client) => {
      const list = await adminClient().call('clients', 'isCertificates', { client })
      set({ isCertificates: { ...get().isCertificates, [client]: list } })
    },
    addIsCertificate: async (client, file) => {
      await adminClient().call('clients', 'addIsCertificate', { client, ...file })
      await get().loadIsCertificates(client)
    },
    removeIsCertificate: async (client, sha256) => {
      await adminClient().call('clients', 'removeIsCertificate', { client, sha256 })
      await get().loadIsCertificates(client)
    },
    internalTlsCertificate: () => adminClient().call('clients', 'internalTlsCertificate'),
    addService: (input) => change(() => adminClient().call('services', 'add', input)).then(() => undefined),
    updateService: (input) => change(() => adminClient().call('services', 'update', input)).then(() => undefined),
    setServiceEnabled: (service, enabled, notice) =>
      change(() => adminClient().call('services', 'setEnabled', { service, enabled, ...(notice === undefined ? {} : { notice }) })).then(() => undefined),
    deleteService: (service) => change(() => adminClient().call('services', 'delete', { service })).then(() => undefined),
    addWsdl: (input) => change(() => adminClient().call('serviceDescriptions', 'addWsdl', input)),
    addOpenApi: async (input) => {
      const result = await adminClient().call('serviceDescriptions', 'addOpenApi', input)
      if (result.applied) await reload()
      return result
    },
    refreshDescription: async (id, ignoreWarnings) => {
      const result = await adminClient().call('serviceDescriptions', 'refresh', { id, ignoreWarnings })
      if (result.applied) await reload()
      return result
    },
    setDescriptionEnabled: (id, enabled, notice) =>
      change(() => adminClient().call('serviceDescriptions', 'setEnabled', { id, enabled, ...(notice === undefined ? {} : { notice }) })).then(() => undefined),
    deleteDescription: (id) => change(() => adminClient().call('serviceDescriptions', 'delete', { id })).then(() => undefined),
    addEndpoint: (input) => change(() => adminClient().call('services', 'addEndpoint', input)).then(() => undefined),
    updateEndpoint: ({ endpoint, ...input }) => change(() => adminClient().call('services', 'updateEndpoint', { ...input, endpoint: endpointOnly(endpoint) })).then(() => undefined),
    deleteEndpoint: (service, endpoint) => change(() => adminClient().call('services', 'deleteEndpoint', { service, endpoint: endpointOnly(endpoint) })).then(() => undefined),
    grant: ({ endpoint, ...input }) =>
      change(() => adminClient().call('accessRights', 'grant', { ...input, ...(endpoint === undefined ? {} : { endpoint: endpointOnly(endpoint) }) })).then(() => undefined),
    revoke: ({ endpoint, ...input }) => change(() => adminClient().call('accessRights', 'revoke', { ...input, endpoint: endpointOnly(endpoint) })).then(() => undefined),
    addGroup: (input) => change(() => adminClient().call('localGroups', 'add', input)).then(() => undefined),
    updateGroup: (input) => change(() => adminClient().call('localGroups', 'update', input)).then(() => undefined),
    deleteGroup: (client, groupCode) => change(() => adminClient().call('localGroups', 'delete', { client, groupCode })).then(() => undefined),
    addGroupMember: (input) => change(() => adminClient().call('localGroups', 'addMember', input)).then(() => undefined),
    removeGroupMember: (input) => change(() => adminClient().call('localGroups', 'removeMember', input)).then(() => undefined),
    clearError: () => set({ error: null }),
    clearNotice: () => set({ notice: null }),
  }
})

/** Display form of an encoded identifier: `SUBSYSTEM:LAB/GOV/1234/SUB` → `LAB/GOV/1234/SUB`. */
export function shortId(encoded: string): string {
  const i = encoded.indexOf(':')
  return i < 0 ? encoded : decodeURIComponent(encoded.slice(i + 1))
}

/** The endpoint as the API takes it: method and path only (an endpoint from a list also says whether it was generated). */
export function endpointOnly(endpoint: EndpointRef): EndpointRef {
  return { method: endpoint.method, path: endpoint.path }
}

/** X-Road's base endpoint `* **`: a right on it is a right on the whole service. */
export function isWholeService(endpoint: EndpointRef): boolean {
  return endpoint.method === '*' && endpoint.path === '**'
}

/** A service as X-Road names it: the code, with `.version` when it has one (`getRandom.v1`). */
export function serviceName(service: { serviceCode: string; serviceVersion?: string | null }): string {
  return service.serviceVersion ? `${service.serviceCode}.${service.serviceVersion}` : service.serviceCode
}

/** The same from an encoded service id (`SERVICE:…/getRandom;v=v1` → `getRandom.v1`). */
export function serviceNameOfId(id: string): string {
  const [path = '', version] = id.split(';v=')
  const code = decodeURIComponent(path.split('/').at(-1) ?? '')
  return version === undefined ? code : `${code}.${decodeURIComponent(version)}`
}

export const REST_METHODS = ['*', 'GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const

/**
 * Picker options for clients from global configuration: each member's subsystems grouped under the member (path form,
 * which the server accepts), leaving out `exclude` (encoded ids, e.g. clients this server has already).
 */
export function subsystemOptions(members: readonly GlobalMemberDto[], exclude: readonly string[] = []): Array<{ group: string; items: string[] }> {
  const skip = new Set(exclude)
  return members
    .map((m) => ({ group: `${m.name} · ${shortId(m.id)}`, items: m.subsystems.filter((s) => !skip.has(s)).map(shortId) }))
    .filter((g) => g.items.length > 0)
}

/** Subsystems of one member (codes only), for the subsystem-code field of the add-client form. */
export function subsystemCodesOf(members: readonly GlobalMemberDto[], member: string | null, exclude: readonly string[] = []): string[] {
  const found = members.find((m) => m.id === member)
  if (found === undefined) return []
  const skip = new Set(exclude)
  return found.subsystems.filter((s) => !skip.has(s)).map((s) => shortId(s).split('/').at(-1) ?? '')
}

/** The access rights the matrix lists for one service (or one of its endpoints): who loses access if it goes. */
export function rightsOn(matrix: readonly AccessMatrixRow[], service: string, endpoint?: EndpointRef): AccessMatrixRow[] {
  return matrix.filter((r) => r.service === service && (endpoint === undefined || (r.endpoint.method === endpoint.method && r.endpoint.path === endpoint.path)))
}

/** What deleting a client takes along, as the server will do it (X-Road ClientService.deleteLocalClient). */
export interface ClientDependents {
  services: ServiceDto[]
  /** Rights on those services, i.e. who loses access. */
  rights: AccessMatrixRow[]
  groups: LocalGroupDto[]
  /** Rights on other clients' services naming this client. */
  rightsAsSubject: AccessMatrixRow[]
  /** Local groups of other clients that list it. */
  memberships: LocalGroupDto[]
}

export function clientDependents(state: { services: readonly ServiceDto[]; matrix: readonly AccessMatrixRow[]; groups: readonly LocalGroupDto[] }, client: string): ClientDependents {
  return {
    services: state.services.filter((s) => s.provider === client),
    rights: state.matrix.filter((r) => r.provider === client),
    groups: state.groups.filter((g) => g.owner === client),
    rightsAsSubject: state.matrix.filter((r) => r.provider !== client && r.subject === client),
    memberships: state.groups.filter((g) => g.owner !== client && g.members.includes(client)),
  }
}

/** The rights that name a local group on its owner's services (they go with the group, as in X-Road). */
export function rightsOfGroup(matrix: readonly AccessMatrixRow[], owner: string, groupCode: string): AccessMatrixRow[] {
  return matrix.filter((r) => r.provider === owner && r.subjectKind === 'LOCALGROUP' && shortId(r.subject) === groupCode)
}

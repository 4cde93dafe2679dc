import { create } from 'zustand'
import type { AccessMatrixRow, ClientDto, LocalGroupDto, ServiceDto } from '@shared/admin-api/admin-api'
import { adminClient } from '../../lib/admin-client'

/** Clients, their REST services and endpoints, local groups and the "who may call what" matrix. */
interface ServicesState {
  clients: ClientDto[]
  services: ServiceDto[]
  matrix: AccessMatrixRow[]
  groups: LocalGroupDto[]
  loading: boolean
  error: unknown
  load(): Promise<void>
  addClient(client: string): Promise<boolean>
  addService(input: { client: string; serviceCode: string; url: string; timeoutSeconds?: number }): Promise<boolean>
  addEndpoint(input: { service: string; method: string; path: string }): Promise<boolean>
  setEnabled(service: string, enabled: boolean, notice?: string): Promise<void>
  grant(input: { service: string; subject: string; endpoint?: { method: string; path: string } }): Promise<boolean>
  revoke(input: { service: string; subject: string; endpoint?: { method: string; path: string } }): Promise<void>
  addGroup(input: { client: string; groupCode: string; description: string }): Promise<boolean>
  addGroupMember(input: { client: string; groupCode: string; member: string }): Promise<boolean>
  clearError(): void
}

export const useServicesStore = create<ServicesState>((set) => {
  const reload = async (): Promise<void> => {
    const client = adminClient()
    const [clients, services, matrix] = await Promise.all([client.call('clients', 'list'), client.call('services', 'list', {}), client.call('accessRights', 'matrix')])
    const subsystems = clients.filter((c) => c.kind === 'SUBSYSTEM')
    const groups = (await Promise.all(subsystems.map((c) => client.call('localGroups', 'list', { client: c.id })))).flat()
    set({ clients, services, matrix, groups })
  }
  const run = async (work: () => Promise<unknown>): Promise<boolean> => {
    set({ loading: true, error: null })
    try {
      await work()
      await reload()
      set({ loading: false })
      return true
    } catch (error) {
      set({ error, loading: false })
      return false
    }
  }
  return {
    clients: [], services: [], matrix: [], groups: [], loading: false, error: null,
    load: async () => {
      await run(async () => undefined)
    },
    addClient: (client) => run(() => adminClient().call('clients', 'add', { client })),
    addService: (input) => run(() => adminClient().call('services', 'add', input)),
    addEndpoint: (input) => run(() => adminClient().call('services', 'addEndpoint', input)),
    setEnabled: async (service, enabled, notice) => {
      await run(() => adminClient().call('services', 'setEnabled', { service, enabled, ...(notice ? { notice } : {}) }))
    },
    grant: (input) => run(() => adminClient().call('accessRights', 'grant', input)),
    revoke: async (input) => {
      await run(() => adminClient().call('accessRights', 'revoke', input))
    },
    addGroup: (input) => run(() => adminClient().call('localGroups', 'add', input)),
    addGroupMember: (input) => run(() => adminClient().call('localGroups', 'addMember', input)),
    clearError: () => set({ error: null }),
  }
})

/** Display form of an encoded identifier: `SUBSYSTEM:LAB/GOV/1234/SUB` → `LAB/GOV/1234/SUB`. */
export function shortId(encoded: string): string {
  const i = encoded.indexOf(':')
  return i < 0 ? encoded : decodeURIComponent(encoded.slice(i + 1))
}

/** The subject string to grant: a client path stays as is; `group:code` becomes a local group. */
export function subjectFromInput(kind: 'client' | 'local' | 'global', value: string): string {
  const v = value.trim()
  if (kind === 'local') return `LOCALGROUP:${v}`
  if (kind === 'global') return `GLOBALGROUP:${v}`
  return v
}

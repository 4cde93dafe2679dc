import { create } from 'zustand'
import type { GlobalConfStatus, GlobalMemberDto, GlobalServerDto } from '@shared/admin-api/admin-api'
import { adminClient } from '../../lib/admin-client'

/** Global configuration: status, members and servers of the instance; refresh on demand. */
interface GlobalConfState {
  status: GlobalConfStatus | null
  members: GlobalMemberDto[]
  servers: GlobalServerDto[]
  loading: boolean
  error: unknown
  load(): Promise<void>
  refresh(): Promise<void>
  clearError(): void
}

export const useGlobalConfStore = create<GlobalConfState>((set) => ({
  status: null, members: [], servers: [], loading: false, error: null,
  async load() {
    set({ loading: true })
    try {
      const client = adminClient()
      const [status, members, servers] = await Promise.all([client.call('globalConf', 'status'), client.call('globalConf', 'members'), client.call('globalConf', 'servers')])
      set({ status, members, servers, loading: false, error: null })
    } catch (error) {
      set({ error, loading: false })
    }
  },
  async refresh() {
    set({ loading: true, error: null })
    try {
      const client = adminClient()
      const status = await client.call('globalConf', 'refresh')
      // A fresh download may list new members and servers (a registration just approved): show them too.
      const [members, servers] = await Promise.all([client.call('globalConf', 'members'), client.call('globalConf', 'servers')])
      set({ status, members, servers, loading: false })
    } catch (error) {
      set({ error, loading: false })
    }
  },
  clearError: () => set({ error: null }),
}))

import { create } from 'zustand'
import type { AdminUser, ApiKeyInfo } from '@shared/admin-api/admin-api'
import type { AdminRole } from '@shared/admin-api/admin-roles'
import { adminClient } from '../../lib/admin-client'

/** Admin accounts and API keys: lists and the changes an administrator makes. */
interface UsersState {
  users: AdminUser[]
  apiKeys: ApiKeyInfo[]
  /** A new API key's secret, shown once. */
  newKey: string | null
  loading: boolean
  error: unknown
  load(): Promise<void>
  addUser(input: { username: string; password: string; roles: AdminRole[] }): Promise<boolean>
  removeUser(username: string): Promise<void>
  createKey(input: { label: string; roles: AdminRole[] }): Promise<boolean>
  revokeKey(id: number): Promise<void>
  clearError(): void
}

export const useUsersStore = create<UsersState>((set, get) => {
  const run = async (work: () => Promise<void>): Promise<boolean> => {
    set({ loading: true, error: null })
    try {
      await work()
      set({ loading: false })
      return true
    } catch (error) {
      set({ error, loading: false })
      return false
    }
  }
  return {
    users: [],
    apiKeys: [],
    newKey: null,
    loading: false,
    error: null,
    load: async () => {
      await run(async () => {
        const client = adminClient()
        const [users, apiKeys] = await Promise.all([client.call('users', 'list'), client.call('apiKeys', 'list')])
        set({ users, apiKeys })
      })
    },
    addUser: (input) =>
      run(async () => {
        await adminClient().call('users', 'add', input)
        set({ users: await adminClient().call('users', 'list') })
      }),
    removeUser: async (username) => {
      await run(async () => {
        await adminClient().call('users', 'remove', { username })
        set({ users: get().users.filter((u) => u.username !== username) })
      })
    },
    createKey: (input) =>
      run(async () => {
        const created = await adminClient().call('apiKeys', 'create', input)
        set({ newKey: created.key, apiKeys: await adminClient().call('apiKeys', 'list') })
      }),
    revokeKey: async (id) => {
      await run(async () => {
        const revoked = await adminClient().call('apiKeys', 'revoke', { id })
        set({ apiKeys: get().apiKeys.map((k) => (k.id === id ? revoked : k)) })
      })
    },
    clearError: () => set({ error: null }),
  }
})

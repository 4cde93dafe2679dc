import { create } from 'zustand'
import type { AdminUser, ApiKeyInfo } from '@shared/admin-api/admin-api'
import type { AdminRole } from '@shared/admin-api/admin-roles'
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '@shared/admin-api/session'
import { translate } from '../../i18n'
import { adminClient } from '../../lib/admin-client'
import { localizeError } from '../../lib/localized-error'

/**
 * Admin accounts and API keys: the lists, and the changes made on them. Changes throw (with the refusal said in the
 * reader's language) so the form or confirmation dialog that asked shows why at the right place; each success reloads
 * what it changed.
 */
interface UsersState {
  users: AdminUser[]
  apiKeys: ApiKeyInfo[]
  /** A new API key's secret, shown once until dismissed. */
  newKey: { id: number; label: string; key: string } | null
  loading: boolean
  /** A failure to load the lists (a change's failure goes to its own form). */
  error: unknown
  load(canListUsers: boolean, canListKeys: boolean): Promise<void>
  addUser(input: { username: string; password: string; roles: AdminRole[] }): Promise<void>
  setUserRoles(username: string, roles: AdminRole[]): Promise<void>
  resetPassword(username: string, password: string): Promise<void>
  removeUser(username: string): Promise<void>
  changeOwnPassword(currentPassword: string, newPassword: string): Promise<void>
  createKey(input: { label: string; roles: AdminRole[] }): Promise<void>
  setKeyRoles(id: number, roles: AdminRole[]): Promise<void>
  revokeKey(id: number): Promise<void>
  dismissNewKey(): void
  clearError(): void
}

const policy = { min: PASSWORD_MIN_LENGTH, max: PASSWORD_MAX_LENGTH }

/** The users screens' refusals in the reader's language; `name` is the account the action was about. */
export function usersError(error: unknown, name = ''): unknown {
  return localizeError(error, (code, detail) => {
    const t = (key: string, options: Record<string, unknown> = {}): string => translate(`users:refusals.${key}`, options)
    if (code === 'conflict' && detail === 'lastSystemAdministrator') return t('lastSystemAdministrator', { name })
    if (code === 'conflict' && detail === 'ownAccount') return t('ownAccount')
    if (code === 'conflict' && detail === 'username') return t('usernameTaken', { name })
    if (code === 'conflict' && detail === 'revoked') return t('revoked')
    if (code === 'unsupported' && detail === 'account') return t('notAnAccount')
    if (code === 'rate_limited') return t('rateLimited', { seconds: detail ?? '60' })
    if (code !== 'validation_failed') return undefined
    if (detail === 'currentPassword') return t('currentPassword')
    if (detail === 'newPassword') return t('newPassword', policy)
    if (detail === 'password') return t('password', policy)
    if (detail === 'username') return t('username')
    if (detail === 'roles') return t('roles')
    if (detail === 'label') return t('label')
    return undefined
  })
}

/** What is wrong with a new password before it is sent (the server applies the same policy); null when none. */
export function newPasswordProblem(password: string, repeat: string, current?: string): string | null {
  if (password.length < PASSWORD_MIN_LENGTH) return translate('users:problems.tooShort', { min: PASSWORD_MIN_LENGTH })
  if (password.length > PASSWORD_MAX_LENGTH) return translate('users:problems.tooLong', { max: PASSWORD_MAX_LENGTH })
  if (current !== undefined && password === current) return translate('users:problems.same')
  if (password !== repeat) return translate('users:problems.differ')
  return null
}

export const useUsersStore = create<UsersState>((set, get) => {
  let canUsers = false
  let canKeys = false
  const reloadUsers = async (): Promise<void> => {
    if (canUsers) set({ users: await adminClient().call('users', 'list') })
  }
  const reloadKeys = async (): Promise<void> => {
    if (canKeys) set({ apiKeys: await adminClient().call('apiKeys', 'list') })
  }
  const attempt = async (work: () => Promise<void>, name?: string): Promise<void> => {
    try {
      await work()
    } catch (error) {
      throw usersError(error, name)
    }
  }
  return {
    users: [],
    apiKeys: [],
    newKey: null,
    loading: false,
    error: null,
    load: async (canListUsers, canListKeys) => {
      canUsers = canListUsers
      canKeys = canListKeys
      set({ loading: true, error: null })
      try {
        await Promise.all([reloadUsers(), reloadKeys()])
        set({ loading: false })
      } catch (error) {
        set({ error, loading: false })
      }
    },
    addUser: (input) => attempt(async () => {
      await adminClient().call('users', 'add', input)
      await reloadUsers()
    }, input.username),
    setUserRoles: (username, roles) => attempt(async () => {
      await adminClient().call('users', 'setRoles', { username, roles })
      await reloadUsers()
    }, username),
    resetPassword: (username, password) => attempt(async () => {
      await adminClient().call('users', 'setPassword', { username, password })
    }, username),
    removeUser: (username) => attempt(async () => {
      await adminClient().call('users', 'remove', { username })
      set({ users: get().users.filter((u) => u.username !== username) })
    }, username),
    changeOwnPassword: (currentPassword, newPassword) => attempt(async () => {
      await adminClient().call('users', 'changeOwnPassword', { currentPassword, newPassword })
    }),
    createKey: (input) => attempt(async () => {
      const created = await adminClient().call('apiKeys', 'create', input)
      set({ newKey: { id: created.id, label: created.label, key: created.key } })
      await reloadKeys()
    }),
    setKeyRoles: (id, roles) => attempt(async () => {
      const updated = await adminClient().call('apiKeys', 'setRoles', { id, roles })
      set({ apiKeys: get().apiKeys.map((k) => (k.id === id ? updated : k)) })
    }),
    revokeKey: (id) => attempt(async () => {
      const revoked = await adminClient().call('apiKeys', 'revoke', { id })
      set({ apiKeys: get().apiKeys.map((k) => (k.id === id ? revoked : k)) })
    }),
    dismissNewKey: () => set({ newKey: null }),
    clearError: () => set({ error: null }),
  }
})

import { z } from 'zod'
import type { AdminUser, UsersApi } from '@shared/admin-api/admin-api'
import { clientError, inTransaction, type WritableDb } from '../platform'
import { deleteUser, findUserByName, listUsers, updateUserRoles, type UserRow } from './admin-account-repository'
import type { AdminAccounts } from './admin-accounts'
import { currentCaller } from './caller-context'
import { rolesSchema, usernameSchema, validate } from './admin-validation'

/**
 * Users admin: local admin accounts and their roles (UG-SS §2). Password hashes never leave this file.
 * Refusals that protect the server name their reason in `detail` so the GUI can say it in the reader's language:
 * `lastSystemAdministrator` (someone must always be able to manage accounts) and `ownAccount` (nobody removes the
 * account they are signed in with; another administrator does it — X-Road's own admin users are operating-system
 * accounts, so it has no rule of its own to follow here).
 */
export interface UsersAdminDeps {
  db: () => WritableDb
  accounts: AdminAccounts
}

const toDto = (u: UserRow): AdminUser => ({ username: u.username, roles: u.roles, createdAt: u.createdAt })

export function createUsersAdmin(deps: UsersAdminDeps): UsersApi {
  const { db } = deps
  const requireUser = (username: unknown): UserRow => {
    const name = validate(usernameSchema, username, 'user name')
    const user = findUserByName(db(), name)
    if (user === undefined) throw clientError('not_found', `No user ${name}`, { detail: 'username' })
    return user
  }
  const assertAnotherAdmin = (user: UserRow): void => {
    const admins = listUsers(db()).filter((u) => u.id !== user.id && u.roles.includes('system-administrator'))
    if (admins.length === 0) {
      throw clientError('conflict', `${user.username} is the last system administrator and cannot lose that role or be removed; give another user the role first`, {
        detail: 'lastSystemAdministrator',
      })
    }
  }

  return {
    async list() {
      return listUsers(db()).map(toDto)
    },
    async add(input) {
      const value = validate(z.object({ username: z.unknown(), password: z.unknown(), roles: z.unknown() }), input, 'user')
      return toDto(await deps.accounts.createUser(value))
    },
    async setRoles(input) {
      const value = validate(z.object({ username: usernameSchema, roles: rolesSchema }), input, 'roles change')
      return inTransaction(db(), () => {
        const user = requireUser(value.username)
        if (user.roles.includes('system-administrator') && !value.roles.includes('system-administrator')) assertAnotherAdmin(user)
        updateUserRoles(db(), user.id, [...new Set(value.roles)])
        return toDto({ ...user, roles: [...new Set(value.roles)] })
      })
    },
    async setPassword(input) {
      const value = validate(z.object({ username: usernameSchema, password: z.unknown() }), input, 'password change')
      await deps.accounts.setPassword(value.username, value.password)
    },
    async changeOwnPassword(input) {
      const value = validate(z.object({ currentPassword: z.unknown(), newPassword: z.unknown() }).strict(), input, 'password change')
      await deps.accounts.changeOwnPassword(currentCaller(), value.currentPassword, value.newPassword)
    },
    async remove(input) {
      const value = validate(z.object({ username: usernameSchema }), input, 'user')
      const caller = currentCaller()
      inTransaction(db(), () => {
        const user = requireUser(value.username)
        if (caller.userId === user.id) {
          throw clientError('conflict', 'You cannot remove the account you are signed in with; another system administrator can', { detail: 'ownAccount' })
        }
        if (user.roles.includes('system-administrator')) assertAnotherAdmin(user)
        deleteUser(db(), user.id)
      })
    },
  }
}

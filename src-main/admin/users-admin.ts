import { z } from 'zod'
import type { AdminUser, UsersApi } from '@shared/admin-api/admin-api'
import { clientError, inTransaction, type Clock, type WritableDb } from '../platform'
import {
  deleteSessionsOfUser, deleteUser, findUserByName, listUsers, updateUserPassword, updateUserRoles, type UserRow,
} from './admin-account-repository'
import type { AdminAccounts } from './admin-accounts'
import { checkPasswordPolicy, hashPassword } from './passwords'
import { rolesSchema, usernameSchema, validate } from './admin-validation'

/** Users admin: local admin accounts and their roles (UG-SS §2). Password hashes never leave this file. */
export interface UsersAdminDeps {
  db: () => WritableDb
  clock: Clock
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
  // Someone must always be able to manage accounts.
  const assertAnotherAdmin = (user: UserRow): void => {
    const admins = listUsers(db()).filter((u) => u.id !== user.id && u.roles.includes('system-administrator'))
    if (admins.length === 0) throw clientError('conflict', 'The last system administrator cannot lose that role or be removed')
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
        if (!value.roles.includes('system-administrator')) assertAnotherAdmin(user)
        updateUserRoles(db(), user.id, [...new Set(value.roles)])
        return toDto({ ...user, roles: [...new Set(value.roles)] })
      })
    },
    async setPassword(input) {
      const value = validate(z.object({ username: usernameSchema, password: z.unknown() }), input, 'password change')
      const hash = await hashPassword(checkPasswordPolicy(value.password))
      inTransaction(db(), () => {
        const user = requireUser(value.username)
        updateUserPassword(db(), user.id, hash, deps.clock.now().toISOString())
        deleteSessionsOfUser(db(), user.id)
      })
    },
    async remove(input) {
      const value = validate(z.object({ username: usernameSchema }), input, 'user')
      inTransaction(db(), () => {
        const user = requireUser(value.username)
        assertAnotherAdmin(user)
        deleteUser(db(), user.id)
      })
    },
  }
}

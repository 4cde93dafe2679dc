import { z } from 'zod'
import type { ApiKeyInfo, ApiKeysApi } from '@shared/admin-api/admin-api'
import { clientError, inTransaction, type Clock, type WritableDb } from '../platform'
import { findApiKeyById, insertApiKey, listApiKeys, revokeApiKey, updateApiKeyRoles, type ApiKeyRow } from './admin-account-repository'
import { hashToken, newSecret } from './admin-accounts'
import { currentCaller } from './caller-context'
import { rolesSchema, validate } from './admin-validation'

/** API keys admin: keys with roles for automation, shown once and stored as hashes (UG-SS §19.1). */
export interface ApiKeysAdminDeps {
  db: () => WritableDb
  clock: Clock
}

const toDto = (k: ApiKeyRow): ApiKeyInfo => ({ ...k })

export function createApiKeysAdmin(deps: ApiKeysAdminDeps): ApiKeysApi {
  const { db } = deps
  return {
    async list() {
      return listApiKeys(db()).map(toDto)
    },
    async create(input) {
      const value = validate(z.object({ label: z.string().trim().min(1).max(100), roles: rolesSchema }), input, 'API key')
      const key = newSecret()
      const id = insertApiKey(db(), {
        keyHash: hashToken(key),
        label: value.label,
        roles: [...new Set(value.roles)],
        at: deps.clock.now().toISOString(),
        createdBy: currentCaller().actor,
      })
      return { ...toDto(findApiKeyById(db(), id) as ApiKeyRow), key }
    },
    async setRoles(input) {
      // X-Road: PUT /api-keys/{id} replaces the roles of a key; the key itself does not change.
      const value = validate(z.object({ id: z.number().int().positive(), roles: rolesSchema }).strict(), input, 'API key roles')
      return inTransaction(db(), () => {
        const key = findApiKeyById(db(), value.id)
        if (key === undefined) throw clientError('not_found', `No API key ${value.id}`, { detail: 'id' })
        if (key.revokedAt !== null) throw clientError('conflict', `API key ${key.label} is revoked; create a new key instead`, { detail: 'revoked' })
        updateApiKeyRoles(db(), value.id, [...new Set(value.roles)])
        return toDto(findApiKeyById(db(), value.id) as ApiKeyRow)
      })
    },
    async revoke(input) {
      const value = validate(z.object({ id: z.number().int().positive() }), input, 'API key')
      return inTransaction(db(), () => {
        if (findApiKeyById(db(), value.id) === undefined) throw clientError('not_found', `No API key ${value.id}`, { detail: 'id' })
        revokeApiKey(db(), value.id, deps.clock.now().toISOString())
        return toDto(findApiKeyById(db(), value.id) as ApiKeyRow)
      })
    },
  }
}

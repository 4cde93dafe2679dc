import { z } from 'zod'
import { ADMIN_ROLES } from '@shared/admin-api/admin-roles'
import { USERNAME_PATTERN } from '@shared/admin-api/session'
import { clientError } from '../platform'

/** Input validation shared by the admin implementations: zod schemas, failures as `validation_failed`. */
export const usernameSchema = z.string().regex(USERNAME_PATTERN, 'a user name is 1-64 letters, digits or . _ @ -')
export const rolesSchema = z.array(z.enum(ADMIN_ROLES)).min(1, 'give at least one role').max(ADMIN_ROLES.length)

export function validate<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value)
  if (result.success) return result.data
  const issue = result.error.issues[0]
  const field = issue && issue.path.length > 0 ? issue.path.join('.') : what
  throw clientError('validation_failed', `Invalid ${what}: ${field}: ${issue?.message ?? 'invalid'}`, { detail: field })
}

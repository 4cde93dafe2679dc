import { AdminError } from './admin-client'

/**
 * The message to show at one form field: the admin API names the offending field in `detail` (validation_failed,
 * conflict…), so the error appears where the person can fix it instead of only in a banner.
 */
export function fieldError(error: unknown, field: string): string | undefined {
  return error instanceof AdminError && error.detail === field ? error.message : undefined
}

/** True when the error belongs to one of the form's fields (so the banner need not repeat it). */
export function isFieldError(error: unknown, fields: readonly string[]): boolean {
  return error instanceof AdminError && error.detail !== undefined && fields.includes(error.detail)
}

/**
 * Roles of admin users and API keys: X-Road's five (UG-SS §2, reliability-and-security.md §2.4) plus a
 * Gatehouse key-custodian role for token PINs and key ceremonies.
 */
export const ADMIN_ROLES = [
  'security-officer',
  'registration-officer',
  'service-administrator',
  'system-administrator',
  'observer',
  'key-custodian',
] as const

export type AdminRole = (typeof ADMIN_ROLES)[number]

/** Every role: for methods any signed-in user may call (read-only status). */
export const ANY_ROLE: readonly AdminRole[] = ADMIN_ROLES

export const ROLE_LABELS: Record<AdminRole, string> = {
  'security-officer': 'Security officer',
  'registration-officer': 'Registration officer',
  'service-administrator': 'Service administrator',
  'system-administrator': 'System administrator',
  observer: 'Observer (read only)',
  'key-custodian': 'Key custodian',
}

export function isAdminRole(value: unknown): value is AdminRole {
  return typeof value === 'string' && (ADMIN_ROLES as readonly string[]).includes(value)
}

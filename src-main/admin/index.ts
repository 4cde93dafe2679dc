/**
 * Admin: implements the typed admin API (src-shared/admin-api) once, transport-agnostic, over the domains, with
 * local accounts, roles, sessions, API keys and the audit trail; `http/` is the HTTPS transport for browsers.
 */
export { createAdminRuntime, type AdminRuntime, type AdminService, type AdminDeps, type AdminDomains } from './admin-runtime'
export { dispatchAdminCall, type AuditRecord, type DispatchContext } from './dispatch'
export { createAdminHttpServer, ADMIN_CSP, FIRST_ADMIN_ROLES, GUI_CONTENT_TYPES, statusFor, type AdminHttpOptions } from './http/admin-http-server'
export { adminOpenApi } from './http/openapi'
export { loadOrCreateAdminTls, type AdminTlsMaterial } from './admin-tls'
export { adminMigrations } from './migrations'
export { SYSTEM_CALLER, currentCaller, type AdminCaller } from './caller-context'
export { createAdminAccounts, type AdminAccounts, type AccountOptions } from './admin-accounts'
export { hashPassword, verifyPassword, checkPasswordPolicy } from './passwords'
export { clearLoginLockout } from './rate-limiter'
export type { SystemAdminDeps } from './system-admin'
export type { BootstrapFile } from './settings-admin'
export type { DiagnosticsHooks } from './diagnostics-admin'
export { configureManagementServices, HOSTED_LAB_FILE } from './hosted-lab'
export { listedOnServer, servedByAnotherServer } from './domain-support'

/**
 * Admin: implements the typed admin API (src-shared/admin-api) once, transport-agnostic, over the domains;
 * `dispatchAdminCall` is the single entry both transports use, and `http/` is the browser transport.
 */
import type { AdminApi } from '@shared/admin-api/admin-api'
import { createSystemAdmin, type SystemAdminDeps } from './system-admin'

export { dispatchAdminCall } from './dispatch'
export { createAdminHttpServer, ADMIN_CSP } from './http/admin-http-server'

export interface AdminDeps {
  system: SystemAdminDeps
}

export function createAdminApi(deps: AdminDeps): AdminApi {
  return { system: createSystemAdmin(deps.system) }
}

import type { AdminApi } from './admin-api'

type MethodsOf<T> = { [D in keyof T]: ReadonlyArray<keyof T[D] & string> }

/** Runtime allow-list of admin methods: the preload exposes exactly these and the transports route only these. */
export const ADMIN_API_METHODS = {
  system: ['status', 'backup'],
} as const satisfies MethodsOf<AdminApi>

export type AdminDomain = keyof typeof ADMIN_API_METHODS

/** IPC channel / RPC name of a method, e.g. `system:status`. */
export function adminChannel(domain: string, method: string): string {
  return `${domain}:${method}`
}

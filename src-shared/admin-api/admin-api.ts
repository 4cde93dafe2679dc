/**
 * The typed admin API, grouped by domain. Implemented once in src-main/admin; reached through Electron IPC
 * in the desktop app and through HTTPS in headless mode. Each method documents the error codes it throws.
 * Adding a domain: one interface here, one entry in ADMIN_API_METHODS, one implementation file in
 * src-main/admin/, one feature folder in src-renderer/features/.
 */
import type { AdminRole } from './admin-roles'
import type {
  AccessRightsApi, CertificatesApi, ClientsApi, CsrsApi, DiagnosticsApi, GlobalConfApi, InitializationApi, KeysApi, LocalGroupsApi,
  ServicesApi, SettingsApi, TokensApi,
} from './security-server-api'
import type { MessageLogApi } from './message-log-api'
import type { CeremonyApi } from './ceremony-api'
import type { LabApi } from './lab-api'

export type ServiceState = 'stopped' | 'starting' | 'running' | 'stopping' | 'failed'

export interface ListenerInfo {
  name: 'clientProxyHttp' | 'clientProxyHttps' | 'serverProxy' | 'ocspResponder' | 'healthCheck' | 'admin'
  url: string
}

export interface DatabaseInfo {
  name: 'serverconf' | 'messagelog' | 'opmonitor'
  path: string
  journalMode: string
  synchronous: string
  schema: Array<{ component: string; version: number }>
}

/** A listener the bootstrap configuration asks for, and whether it listens. */
export interface ListenerStatus {
  name: ListenerInfo['name']
  /** `host:port` from the bootstrap configuration (port 0: any free port). */
  address: string
  /** Where it listens now; null while it does not. */
  url: string | null
  listening: boolean
  /** Why it does not listen (server not initialized, port taken…), in words. */
  problem: string | null
}

/**
 * Why messages can or cannot flow through this server right now, one check per area, each a code the GUI explains
 * with the fix in the user's language (`params` fill the text; `message` is the English text for logs and fallback).
 */
export const READINESS_CODES = [
  'configuration-ready', 'not-initialized', 'global-conf-missing', 'global-conf-expired',
  'listeners-ready', 'listener-failed', 'listeners-waiting',
  'auth-ready', 'auth-cert-missing', 'auth-cert-not-active', 'auth-token-logged-out', 'auth-token-unavailable',
  'auth-key-unsupported', 'auth-cert-untrusted', 'auth-cert-not-registered', 'auth-ocsp-not-good',
  'sign-ready', 'sign-cert-missing', 'sign-token-logged-out', 'sign-ocsp-not-good',
  'registration-ready', 'server-not-registered', 'clients-not-registered', 'clients-registration-lost',
  'timestamping-ready', 'timestamping-no-tsa', 'timestamping-failing', 'timestamping-stopped',
] as const
export type ReadinessCode = (typeof READINESS_CODES)[number]

export interface ReadinessCheck {
  key: 'configuration' | 'listeners' | 'authentication' | 'signing' | 'registration' | 'timestamping'
  light: 'green' | 'yellow' | 'red' | 'gray'
  code: ReadinessCode
  params: Record<string, string | number>
  message: string
}

export interface SystemStatus {
  version: string
  state: ServiceState
  startedAt: string | null
  initialized: boolean
  dataDir: string
  /** Listeners open now. */
  listeners: ListenerInfo[]
  /** Every listener the bootstrap configuration asks for, open or not, with the reason. */
  expectedListeners: ListenerStatus[]
  /** Whether traffic can flow (no red check), and each area's check. */
  readiness: { ready: boolean; checks: ReadinessCheck[] }
  /**
   * Settings of the bootstrap file (`gatehouse.json`: ports, addresses, limits) take effect at a restart: `required`
   * when the file differs from what runs; `supported` when this process can restart itself (`system.restart`).
   */
  restart: { supported: boolean; required: boolean; reasons: string[] }
  databases: DatabaseInfo[]
}

export interface SystemApi {
  /** Version, state, listeners and databases of this security server. */
  status(): Promise<SystemStatus>
  /** Online backup of every database into `DATA_DIR/backups/<timestamp>/`; returns that folder. @throws database_error */
  backup(): Promise<{ directory: string; files: string[] }>
  /**
   * Restarts the security server in this process (listeners, domains, databases) to apply the bootstrap settings;
   * the GUI reconnects and asks to sign in again. @throws unsupported (started without a supervisor, e.g. in tests)
   */
  restart(): Promise<{ restarting: true }>
}

export interface AdminUser {
  username: string
  roles: AdminRole[]
  createdAt: string
}

export interface UsersApi {
  /** Every local admin account (never the password hashes). */
  list(): Promise<AdminUser[]>
  /** Creates an account. @throws validation_failed (username, password policy, roles), conflict (name taken) */
  add(input: { username: string; password: string; roles: AdminRole[] }): Promise<AdminUser>
  /** Replaces the roles of an account. @throws not_found, validation_failed, conflict (detail `lastSystemAdministrator`) */
  setRoles(input: { username: string; roles: AdminRole[] }): Promise<AdminUser>
  /** An administrator resets another account's password; ends that account's sessions. @throws not_found, validation_failed */
  setPassword(input: { username: string; password: string }): Promise<void>
  /**
   * The signed-in user changes their own password (any role); their other sessions end, this one stays.
   * @throws unsupported (detail `account`: API key or desktop user), rate_limited, validation_failed (detail
   * `currentPassword` or `newPassword`)
   */
  changeOwnPassword(input: { currentPassword: string; newPassword: string }): Promise<void>
  /** Deletes an account and its sessions. @throws not_found, conflict (detail `lastSystemAdministrator` or `ownAccount`) */
  remove(input: { username: string }): Promise<void>
}

export interface ApiKeyInfo {
  id: number
  label: string
  roles: AdminRole[]
  createdAt: string
  createdBy: string
  revokedAt: string | null
}

export interface ApiKeysApi {
  list(): Promise<ApiKeyInfo[]>
  /** Creates a key; the secret `key` is returned once and stored only as a hash. @throws validation_failed */
  create(input: { label: string; roles: AdminRole[] }): Promise<ApiKeyInfo & { key: string }>
  /** Replaces the roles of a key (X-Road `PUT /api-keys/{id}`); the secret stays. @throws not_found, validation_failed, conflict (detail `revoked`) */
  setRoles(input: { id: number; roles: AdminRole[] }): Promise<ApiKeyInfo>
  /** Revokes a key at once. @throws not_found */
  revoke(input: { id: number }): Promise<ApiKeyInfo>
}

export interface AuditLogEntry {
  id: number
  at: string
  actor: string
  event: string
  outcome: 'success' | 'failure'
  data: Record<string, unknown>
  errorCode: string | null
}

export interface AuditSearch {
  /** ISO-8601 bounds, inclusive. */
  from?: string
  to?: string
  /** Exact user name (or `apikey:<id>`, `desktop:<os user>`). */
  actor?: string
  /** Substring of the event name, e.g. `users.` or `login`. */
  event?: string
  outcome?: 'success' | 'failure'
  /** 1..1000, default 200. */
  limit?: number
}

export interface AuditApi {
  /** Newest first. @throws validation_failed */
  search(query: AuditSearch): Promise<AuditLogEntry[]>
}

export interface AdminApi {
  system: SystemApi
  users: UsersApi
  apiKeys: ApiKeysApi
  audit: AuditApi
  initialization: InitializationApi
  tokens: TokensApi
  keys: KeysApi
  csrs: CsrsApi
  certificates: CertificatesApi
  clients: ClientsApi
  services: ServicesApi
  accessRights: AccessRightsApi
  localGroups: LocalGroupsApi
  globalConf: GlobalConfApi
  diagnostics: DiagnosticsApi
  settings: SettingsApi
  messageLog: MessageLogApi
  ceremony: CeremonyApi
  lab: LabApi
}

export * from './security-server-api'
export * from './message-log-api'
export * from './ceremony-api'
export * from './lab-api'


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
  name: 'clientProxyHttp' | 'clientProxyHttps' | 'serverProxy' | 'ocspResponder' | 'admin'
  url: string
}

export interface DatabaseInfo {
  name: 'serverconf' | 'messagelog' | 'opmonitor'
  path: string
  journalMode: string
  synchronous: string
  schema: Array<{ component: string; version: number }>
}

export interface SystemStatus {
  version: string
  state: ServiceState
  startedAt: string | null
  initialized: boolean
  dataDir: string
  listeners: ListenerInfo[]
  databases: DatabaseInfo[]
}

export interface SystemApi {
  /** Version, state, listeners and databases of this security server. */
  status(): Promise<SystemStatus>
  /** Online backup of every database into `DATA_DIR/backups/<timestamp>/`; returns that folder. @throws database_error */
  backup(): Promise<{ directory: string; files: string[] }>
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


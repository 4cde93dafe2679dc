/**
 * The typed admin API, grouped by domain. Implemented once in src-main/admin; reached through Electron IPC
 * in the desktop app and through HTTPS in headless mode. Each method documents the error codes it throws.
 * Adding a domain: one interface here, one entry in ADMIN_API_METHODS, one implementation file in
 * src-main/admin/, one feature folder in src-renderer/features/.
 */
import type { AdminRole } from './admin-roles'
import type {
  AccessRightsApi, CertificatesApi, ClientsApi, CsrsApi, DiagnosticsApi, GlobalConfApi, InitializationApi, KeysApi, LocalGroupsApi,
  ServiceDescriptionsApi, ServicesApi, SettingsApi, TokensApi,
} from './security-server-api'
import type { MessageLogApi } from './message-log-api'
import type { CeremonyApi } from './ceremony-api'
import type { LabApi } from './lab-api'
import type { AlertsApi, OperationsApi } from './operations-api'
import type { ManagementApi } from './management-api'

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
  'evidence-ready', 'evidence-gap', 'evidence-broken', 'evidence-acknowledged',
] as const
export type ReadinessCode = (typeof READINESS_CODES)[number]

export interface ReadinessCheck {
  key: 'configuration' | 'listeners' | 'authentication' | 'signing' | 'registration' | 'timestamping' | 'evidence'
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
  /** Cluster mode: the shared PostgreSQL database holding the server configuration (no password); absent when standalone. */
  sharedDatabase?: SharedDatabaseInfo
}

/** Where a cluster's shared configuration lives and whether this node reaches it now (issue 18). */
export interface SharedDatabaseInfo {
  host: string
  port: number
  database: string
  user: string
  /** The PostgreSQL schema the tables live in. */
  schema: string
  reachable: boolean
  /** Why it is not reachable (the driver's words); null when it is. */
  problem: string | null
  /** Each component's schema version there; empty when not reachable. */
  versions: Array<{ component: string; version: number }>
}

/** An encrypted backup file in `DATA_DIR/backups`. */
export interface BackupFileDto {
  name: string
  size: number
  createdAt: string
  /** Made by hand (kept until deleted) or on the schedule (the oldest beyond `backup.keep-scheduled` are deleted). */
  kind: 'manual' | 'scheduled'
}

export interface BackupScheduleDto {
  /** Scheduled backups run only once a passphrase for them is set. */
  passphraseSet: boolean
  /** `backup.interval-hours` (0: off) and `backup.keep-scheduled`. */
  intervalHours: number
  keepScheduled: number
  lastScheduledAt: string | null
  /** When the next scheduled backup is due; null when the schedule is off or has no passphrase. */
  nextAt: string | null
  /** Why the last scheduled backup failed, until one succeeds. */
  lastError: string | null
}

export interface BackupsDto {
  backups: BackupFileDto[]
  schedule: BackupScheduleDto
  /** Where the files are on the server. */
  directory: string
  /** Null when a backup may be restored into this server (it is fresh), else why not: `initialized`, `token`, `lab`. */
  restoreRefusal: 'initialized' | 'token' | 'lab' | null
}

export interface BackupCreatedDto extends BackupFileDto {
  /** Files in the backup, and which of them are databases. */
  files: number
  databases: string[]
}

/** A piece of a backup file (downloads go in pieces over both transports). */
export interface BackupChunkDto {
  name: string
  offset: number
  size: number
  /** Base64 of at most `BACKUP_CHUNK_BYTES` bytes from `offset`. */
  data: string
  done: boolean
}

export interface RestoreResultDto {
  /** The server restarts in place with the restored data (false: it was started without a supervisor; restart it to finish). */
  restarting: boolean
  backup: { createdAt: string; serverId: string | null; gatehouseVersion: string; files: number }
}

/** Bytes per piece of a backup download or upload (base64 in JSON stays under the admin API's 1 MiB body limit). */
export const BACKUP_CHUNK_BYTES = 512 * 1024

/** At least this many characters in a backup passphrase. */
export const BACKUP_PASSPHRASE_MIN = 10

/** X-Road's node types (GET /system/node-type): STANDALONE outside a cluster. */
export type NodeType = 'PRIMARY' | 'SECONDARY' | 'STANDALONE'

export interface NodeTypeDto {
  nodeType: NodeType
  /** This node's name in the cluster; null when standalone. */
  nodeName: string | null
}

/** One node of a cluster as its last heartbeat described it (issue 18). */
export interface ClusterNodeDto {
  name: string
  role: 'primary' | 'secondary'
  version: string
  /** Its listeners' URLs. */
  addresses: string[]
  startedAt: string
  heartbeatAt: string
  /** Whether its last heartbeat is recent (within `staleAfterSeconds`); a stale node has stopped or lost the database. */
  alive: boolean
  /** The node answering this call. */
  self: boolean
  /** Its readiness to take traffic: the keys of its checks that are red (empty when ready). */
  readiness: { ready: boolean; failing: Array<ReadinessCheck['key']> }
  /** Its own message log: each node time-stamps and archives its own. */
  messageLog: { acceptingMessages: boolean; unstampedRecords: boolean; lastTimestampAt: string | null; timestampingFailingSince: string | null }
}

/** How this node hears of the other nodes' changes (PostgreSQL LISTEN). */
export interface ChangeFeedDto {
  state: 'connecting' | 'listening' | 'reconnecting' | 'stopped'
  since: string
  lastError: string | null
  reconnects: number
}

export interface ClusterNodesDto {
  nodeType: NodeType
  heartbeatSeconds: number
  staleAfterSeconds: number
  /** Every node that ever started on the shared database, by name; empty when standalone. */
  nodes: ClusterNodeDto[]
  /** Null when standalone. */
  changeFeed: ChangeFeedDto | null
}

export interface SystemApi {
  /** Version, state, listeners and databases of this security server. */
  status(): Promise<SystemStatus>
  /** PRIMARY, SECONDARY or STANDALONE (X-Road GET /system/node-type); a secondary refuses configuration changes. */
  nodeType(): Promise<NodeTypeDto>
  /** The cluster's nodes with their heartbeat, readiness and message log (empty when standalone). */
  clusterNodes(): Promise<ClusterNodesDto>
  /**
   * Removes a stale node (no heartbeat for three intervals, not this node) from the cluster's registry; on the primary
   * only, as every configuration change. @throws not_found, action_not_possible (detail `self` or `alive`)
   */
  forgetClusterNode(input: { name: string }): Promise<void>
  /**
   * An encrypted backup (scrypt + AES-256-GCM STREAM) of everything the server needs on a new machine: every database
   * through SQLite's backup API, token key files, global configuration, TLS material, settings, a hosted lab; with a
   * manifest of SHA-256 hashes. @throws validation_failed (passphrase too short; detail `passphrase`)
   */
  backup(input: { passphrase: string }): Promise<BackupCreatedDto>
  /** The backup files, the schedule and whether a restore into this server is possible. */
  backups(): Promise<BackupsDto>
  /** A piece of a backup file, for downloading it. @throws not_found, validation_failed */
  downloadBackup(input: { name: string; offset: number }): Promise<BackupChunkDto>
  /** @throws not_found */
  deleteBackup(input: { name: string }): Promise<void>
  /** Sets (or with null clears) the passphrase scheduled backups are encrypted with; only a key derived from it is kept. */
  setBackupSchedule(input: { passphrase: string | null }): Promise<BackupScheduleDto>
  /** Appends a piece (base64) of a backup to restore; without `upload`, starts a new upload at offset 0. */
  uploadBackup(input: { upload?: string; offset: number; data: string }): Promise<{ upload: string; size: number }>
  /**
   * Restores an uploaded backup into this server, which must be fresh (not joined to an instance, no token, no lab):
   * everything is decrypted and verified aside first, then put in place at a restart in this process.
   * @throws backup_invalid (detail `passphrase-incorrect`, `corrupted`, `truncated`, `not-a-backup`, `unsupported`, `database`, `newer-version`),
   *   conflict (detail `not-fresh`), not_found (upload)
   */
  restore(input: { upload: string; passphrase: string }): Promise<RestoreResultDto>
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
  /** What the change was made to (a client, a setting's name…), when it names one. */
  object: string | null
  /** The input (secrets replaced by `[redacted]`), the object's state `before` and `after`, and event-specific facts. */
  data: Record<string, unknown>
  errorCode: string | null
  /** SHA-256 of the previous entry's hash and this entry's content (the hash chain). */
  hash: string
}

/** Why the audit log's hash chain does not verify, at the entry `id`. */
export type AuditChainProblemKind = 'altered' | 'missing' | 'unlinked' | 'truncated'

export interface AuditChainVerdict {
  ok: boolean
  /** Entries that verified, from the anchor on. */
  entries: number
  /** Where the chain starts: entries up to `lastPrunedId` were pruned for retention (0: none); `hash` is the last pruned one's. */
  anchor: { lastPrunedId: number; hash: string; prunedAt: string | null; entriesPruned: number }
  head: { id: number; hash: string } | null
  problem: { kind: AuditChainProblemKind; id: number } | null
  checkedAt: string
}

/** The audit log as JSON lines: one entry per line with its hashes, oldest first. */
export interface AuditExportFile {
  fileName: string
  mimeType: 'application/x-ndjson'
  content: string
  encoding: 'utf8'
  entries: number
}

export interface AuditSearch {
  /** ISO-8601 bounds, inclusive. */
  from?: string
  to?: string
  /** Exact user name (or `apikey:<id>`, `desktop:<os user>`). */
  actor?: string
  /** Substring of the event name, e.g. `users.` or `login`. */
  event?: string
  /** Substring of the object's name, e.g. a client or setting. */
  object?: string
  outcome?: 'success' | 'failure'
  /** 1..1000, default 200. */
  limit?: number
}

export interface AuditApi {
  /** Newest first. @throws validation_failed */
  search(query: AuditSearch): Promise<AuditLogEntry[]>
  /** Walks the hash chain from its anchor to its head and names the first entry where it breaks. */
  verify(): Promise<AuditChainVerdict>
  /** The entries of a time range (all by default) as JSON lines, with their hashes; recorded in the audit log. @throws validation_failed */
  export(input?: { from?: string; to?: string }): Promise<AuditExportFile>
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
  serviceDescriptions: ServiceDescriptionsApi
  accessRights: AccessRightsApi
  localGroups: LocalGroupsApi
  globalConf: GlobalConfApi
  diagnostics: DiagnosticsApi
  settings: SettingsApi
  messageLog: MessageLogApi
  ceremony: CeremonyApi
  lab: LabApi
  operations: OperationsApi
  alerts: AlertsApi
  management: ManagementApi
}

export * from './security-server-api'
export * from './message-log-api'
export * from './ceremony-api'
export * from './lab-api'
export * from './operations-api'
export * from './management-api'


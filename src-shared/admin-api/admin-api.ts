/**
 * The typed admin API, grouped by domain. Implemented once in src-main/admin; reached through Electron IPC
 * in the desktop app and through HTTPS in headless mode. Each method documents the error codes it throws.
 */

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

export interface AdminApi {
  system: SystemApi
}

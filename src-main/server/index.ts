/**
 * Server: the composition root (`createSecurityServer`) and the bootstrap configuration it reads.
 */
export { createSecurityServer, type SecurityServer, type SecurityServerOptions } from './create-security-server'
export { loadServerConfig, parseServerConfig, dataDirLayout, serverConfigSchema, type ClusterConfig, type ServerConfig, type DataDirLayout } from './server-config'
export { applyClusterOverrides, parseClusterDbUrl, type ClusterOverrides } from './cluster-config'
export type { ClusterNode } from './cluster-node'
export { GATEHOUSE_VERSION } from './version'
export type { ProxyViews } from './proxy-runtime'
export { openServerConfDatabase } from './security-server-core'
export { superviseSecurityServer, type Supervisor, type SupervisorOptions } from './supervisor'
export { SCHEDULE_KEY_FILE, backupDataDirectory, restoreDataDirectory, checkRestoredDatabase, excludedFromBackup } from './server-backups'

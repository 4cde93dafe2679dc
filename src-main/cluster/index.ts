/**
 * Cluster mode (issue 18): several nodes sharing the server configuration in PostgreSQL — how a node learns of the
 * others' changes (LISTEN/NOTIFY, change-feed.ts) and the nodes' registry with their heartbeats (`cluster_nodes`).
 */
export { clusterMigrations } from './migrations'
export { createChangeFeed, type ChangeFeed, type ChangeFeedOptions, type ChangeFeedState, type ChangeFeedStatus } from './change-feed'
export { createNodeRegistry, type NodeRegistry, type NodeRegistryOptions, type NodeReport } from './node-registry'

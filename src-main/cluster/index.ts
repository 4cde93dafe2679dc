/**
 * Cluster mode (issue 18): several nodes sharing the server configuration in PostgreSQL — the nodes' registry
 * (`cluster_nodes`) and how a node learns of the others' changes (LISTEN/NOTIFY).
 */
export { clusterMigrations } from './migrations'

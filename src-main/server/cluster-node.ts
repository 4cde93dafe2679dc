import type { ClusterNodesDto, NodeTypeDto, SharedDatabaseInfo } from '@shared/admin-api/admin-api'
import { createChangeFeed, createNodeRegistry, type ChangeFeed, type ChangeFeedStatus, type NodeRegistry, type NodeReport } from '../cluster'
import { schemaVersions, toSecurityServerError, type Logger } from '../platform'
import { clusterPostgresOptions } from './cluster-config'
import type { SecurityServerCore } from './security-server-core'
import { GATEHOUSE_VERSION } from './version'

/**
 * This server as one node of a cluster (issue 18): the change feed that tells it of the other nodes' configuration
 * changes, and its heartbeat in the nodes' registry. Absent when the server is standalone.
 */
export interface ClusterNode {
  start(): Promise<void>
  stop(): Promise<void>
  nodeType(): NodeTypeDto
  nodes(): ClusterNodesDto
  /** Removes a stale node from the registry (see NodeRegistry.forget). */
  forget(name: string): void
  /** Whether the other nodes' changes reach this node now (for readiness and health checks). */
  changeFeed(): ChangeFeedStatus
  /** The shared configuration database for the dashboard: where (no password), and whether it answers now. */
  sharedDatabase(): SharedDatabaseInfo
}

export interface ClusterNodeDeps {
  logger: Logger
  /** What this node's heartbeat says of it. */
  report(): NodeReport
  /**
   * Another node changed the configuration (`cluster.<node>`), or changes may have been missed while the feed was
   * down (`cluster.resync`): re-read everything derived from it.
   */
  onRemoteChange(event: string): void
}

export function createClusterNode(core: SecurityServerCore, deps: ClusterNodeDeps): ClusterNode | undefined {
  const { cluster } = core
  const shared = core.databases.shared
  if (cluster === undefined || shared === undefined) return undefined
  const logger = deps.logger.child({ component: 'cluster', node: cluster.node })
  // Until the feed listens, nothing tells this node of the others' writes.
  shared.followChanges(false)
  const feed: ChangeFeed = createChangeFeed({
    connection: clusterPostgresOptions(cluster, 'changes'),
    node: cluster.node,
    logger,
    onRemoteChange: (from) => deps.onRemoteChange(`cluster.${from}`),
    onResync: () => deps.onRemoteChange('cluster.resync'),
    // Not listening: nothing tells this node of the others' writes, so it trusts no derived value until it is again.
    onState: (status) => shared.followChanges(status.state === 'listening'),
  })
  const registry: NodeRegistry = createNodeRegistry({
    db: core.databases.serverConf, quietly: (work) => shared.quietly(work), node: cluster.node, role: cluster.role, version: GATEHOUSE_VERSION,
    clock: core.clock, logger, report: deps.report,
  })
  const nodeType = (): NodeTypeDto => ({ nodeType: cluster.role === 'primary' ? 'PRIMARY' : 'SECONDARY', nodeName: cluster.node })
  return {
    async start() {
      await feed.start()
      registry.start()
    },
    async stop() {
      registry.stop()
      await feed.stop()
    },
    nodeType,
    forget: (name) => void registry.forget(name),
    changeFeed: () => feed.status(),
    sharedDatabase() {
      const { host, port, database, user, schema } = cluster.postgres
      const where = { host, port, database, user, schema: schema ?? 'public' }
      try {
        // Quietly: a read, which must neither move the change stamp nor notify the other nodes.
        return { ...where, reachable: true, problem: null, versions: shared.quietly(() => schemaVersions(core.databases.serverConf)) }
      } catch (error) {
        return { ...where, reachable: false, problem: toSecurityServerError(error).message, versions: [] }
      }
    },
    nodes: () => ({
      nodeType: nodeType().nodeType,
      heartbeatSeconds: registry.intervalMs / 1000,
      staleAfterSeconds: registry.staleAfterMs / 1000,
      nodes: registry.nodes(),
      changeFeed: feed.status(),
    }),
  }
}

import type { ClusterNodeDto } from '@shared/admin-api/admin-api'
import { SecurityServerError, clientError, parseJson, type Clock, type Logger, type SqlWriter } from '../platform'
import { deleteClusterNode, listClusterNodes, upsertClusterNode, type ClusterNodeRow } from './cluster-nodes-repository'

/**
 * Each node's row in `cluster_nodes` (issue 18): upserted at start and every `intervalMs` (2 s) with what the node
 * reports of itself, so every node — the primary's dashboard in particular — sees every node's state, and a node whose
 * heartbeat is older than three intervals is shown stale (stopped, or cut off from the database). Nodes compare their
 * own clocks: they must be time-synchronized, as X-Road requires of every security server.
 */
export interface NodeReport {
  addresses: string[]
  readiness: ClusterNodeDto['readiness']
  messageLog: ClusterNodeDto['messageLog']
}

export interface NodeRegistryOptions {
  db: SqlWriter
  /** Runs the heartbeat's write so that it neither moves the change stamp nor notifies (PostgresDb.quietly). */
  quietly: <T>(work: () => T) => T
  node: string
  role: 'primary' | 'secondary'
  version: string
  clock: Clock
  logger: Logger
  report(): NodeReport
  intervalMs?: number
}

export interface NodeRegistry {
  /** Writes this node's row now and then at every interval. */
  start(): void
  stop(): void
  /** Writes this node's row now (also what each interval does). */
  beat(): void
  nodes(): ClusterNodeDto[]
  /**
   * Removes a stale node's row (a node taken out of the cluster); never this node's nor a live one's (a node that
   * comes back writes its row again). @throws not_found, action_not_possible (detail `self` or `alive`)
   */
  forget(name: string): ClusterNodeDto
  readonly intervalMs: number
  readonly staleAfterMs: number
}

export function createNodeRegistry(options: NodeRegistryOptions): NodeRegistry {
  const intervalMs = options.intervalMs ?? 2000
  const staleAfterMs = intervalMs * 3
  let startedAt: string | undefined
  let timer: NodeJS.Timeout | undefined
  let failing = false

  const beat = (): void => {
    const now = options.clock.now().toISOString()
    const since = (startedAt ??= now)
    try {
      const report = options.report()
      options.quietly(() => upsertClusterNode(options.db, {
        name: options.node, role: options.role, version: options.version, addresses: JSON.stringify(report.addresses), startedAt: since, heartbeatAt: now,
        readiness: JSON.stringify(report.readiness), messageLog: JSON.stringify(report.messageLog),
      }))
      if (failing) options.logger.info('cluster heartbeat written again')
      failing = false
    } catch (error) {
      // The other nodes see this node go stale; the change feed reports the database connection's state.
      if (!failing) options.logger.error({ err: error }, 'cluster heartbeat cannot be written')
      failing = true
    }
  }

  return {
    intervalMs,
    staleAfterMs,
    beat,
    start() {
      beat()
      timer = setInterval(beat, intervalMs)
      timer.unref()
    },
    stop() {
      if (timer !== undefined) clearInterval(timer)
      timer = undefined
    },
    nodes() {
      const now = options.clock.now().getTime()
      return listClusterNodes(options.db).map((row) => toDto(row, now - Date.parse(row.heartbeatAt) <= staleAfterMs, row.name === options.node))
    },
    forget(name) {
      const row = listClusterNodes(options.db).find((r) => r.name === name)
      if (row === undefined) throw clientError('not_found', `No cluster node ${name}`, { detail: 'name' })
      if (name === options.node) throw new SecurityServerError('action_not_possible', `${name} is this node: a node cannot forget itself`, { detail: 'self', params: { node: name }, clientFault: true })
      const alive = options.clock.now().getTime() - Date.parse(row.heartbeatAt) <= staleAfterMs
      // Only the heartbeat read here: a beat in between leaves the row, and the node is alive again.
      if (alive || !options.quietly(() => deleteClusterNode(options.db, name, row.heartbeatAt))) {
        throw new SecurityServerError('action_not_possible', `${name} sent a heartbeat less than ${staleAfterMs / 1000} s ago: stop it before forgetting it`, { detail: 'alive', params: { node: name }, clientFault: true })
      }
      options.logger.info({ forgotten: name }, 'cluster node forgotten')
      return toDto(row, false, false)
    },
  }
}

/** What another node wrote is read within limits, as any input from outside. */
const JSON_LIMITS = { maxLength: 64 * 1024 }

function toDto(row: ClusterNodeRow, alive: boolean, self: boolean): ClusterNodeDto {
  const readiness = parseJson(row.readiness, JSON_LIMITS, 'database_error', 'A cluster node row') as ClusterNodeDto['readiness']
  const messageLog = parseJson(row.messageLog, JSON_LIMITS, 'database_error', 'A cluster node row') as ClusterNodeDto['messageLog']
  return {
    name: row.name, role: row.role, version: row.version, addresses: parseJson(row.addresses, JSON_LIMITS, 'database_error', 'A cluster node row') as string[],
    startedAt: row.startedAt, heartbeatAt: row.heartbeatAt, alive, self, readiness, messageLog,
  }
}

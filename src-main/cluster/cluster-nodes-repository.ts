import type { SqlReader, SqlWriter } from '../platform'

/** The cluster's nodes (migration 0001): one row per node name, upserted by the node itself. */
export interface ClusterNodeRow {
  name: string
  role: 'primary' | 'secondary'
  version: string
  /** JSON: the node's listener URLs. */
  addresses: string
  startedAt: string
  heartbeatAt: string
  /** JSON: `{ ready, failing }`. */
  readiness: string
  /** JSON: the message log's state. */
  messageLog: string
}

const COLUMNS = 'name, role, version, addresses, started_at AS "startedAt", heartbeat_at AS "heartbeatAt", readiness, message_log AS "messageLog"'

export function upsertClusterNode(db: SqlWriter, row: ClusterNodeRow): void {
  db.prepare(`INSERT INTO cluster_nodes (name, role, version, addresses, started_at, heartbeat_at, readiness, message_log) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (name) DO UPDATE SET role = excluded.role, version = excluded.version, addresses = excluded.addresses, started_at = excluded.started_at,
      heartbeat_at = excluded.heartbeat_at, readiness = excluded.readiness, message_log = excluded.message_log`)
    .run(row.name, row.role, row.version, row.addresses, row.startedAt, row.heartbeatAt, row.readiness, row.messageLog)
}

/** Deletes a node's row if its heartbeat is still `heartbeatAt` (a node beating meanwhile keeps it); true when deleted. */
export function deleteClusterNode(db: SqlWriter, name: string, heartbeatAt: string): boolean {
  return db.prepare('DELETE FROM cluster_nodes WHERE name = ? AND heartbeat_at = ?').run(name, heartbeatAt).changes > 0
}

export function listClusterNodes(db: SqlReader): ClusterNodeRow[] {
  return db.prepare(`SELECT ${COLUMNS} FROM cluster_nodes ORDER BY name`).all() as ClusterNodeRow[]
}


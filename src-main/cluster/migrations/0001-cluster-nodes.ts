import type { Migration } from '../../platform'

/**
 * The nodes of a cluster (issue 18): each node upserts its own row at start and at every heartbeat — its role,
 * version, listener addresses, when it started, its readiness summary and its message log's state — so the primary's
 * dashboard shows every node, and a row whose heartbeat is old tells of a node that stopped. JSON columns are text.
 */
export const migration0001: Migration = {
  version: 1,
  name: 'cluster-nodes',
  up(db) {
    db.exec(`
      CREATE TABLE cluster_nodes (
        name TEXT PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 63),
        role TEXT NOT NULL CHECK (role IN ('primary', 'secondary')),
        version TEXT NOT NULL,
        addresses TEXT NOT NULL DEFAULT '[]',
        started_at TEXT NOT NULL,
        heartbeat_at TEXT NOT NULL,
        readiness TEXT NOT NULL DEFAULT '{}',
        message_log TEXT NOT NULL DEFAULT '{}'
      ) STRICT;
    `)
  },
  upPostgres(db) {
    db.exec(`
      CREATE TABLE cluster_nodes (
        name TEXT COLLATE "C" PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 63),
        role TEXT NOT NULL CHECK (role IN ('primary', 'secondary')),
        version TEXT NOT NULL,
        addresses TEXT NOT NULL DEFAULT '[]',
        started_at TEXT NOT NULL,
        heartbeat_at TEXT NOT NULL,
        readiness TEXT NOT NULL DEFAULT '{}',
        message_log TEXT NOT NULL DEFAULT '{}'
      );
    `)
  },
}

import type { Migration } from '../../platform'

/**
 * Alerts raised on this server (one row per condition and occurrence: raised, cleared, acknowledged) and the alert
 * settings (outbound webhook and syslog, thresholds) as one JSON document.
 */
export const migration0001: Migration = {
  version: 1,
  name: 'alerts',
  up(db) {
    db.exec(`
      CREATE TABLE alerts (
        row_id INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL,
        code TEXT NOT NULL,
        severity TEXT NOT NULL CHECK (severity IN ('critical', 'warning', 'info')),
        params TEXT NOT NULL DEFAULT '{}',
        message TEXT NOT NULL,
        raised_at TEXT NOT NULL,
        cleared_at TEXT,
        acknowledged_at TEXT,
        acknowledged_by TEXT
      ) STRICT;
      CREATE UNIQUE INDEX alerts_active ON alerts (id) WHERE cleared_at IS NULL;
      CREATE INDEX alerts_cleared_at ON alerts (cleared_at);
      CREATE TABLE alert_settings (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL
      ) STRICT;
    `)
  },
}

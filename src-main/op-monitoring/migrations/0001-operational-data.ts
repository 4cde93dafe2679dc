import type { Migration } from '../../platform'

/** One row per exchange handled, with the fields of X-Road's operational monitoring record (PR-OPMON §4). */
export const migration0001: Migration = {
  version: 1,
  name: 'operational-data',
  up(db) {
    db.exec(`
      CREATE TABLE operational_data (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        monitoring_data_ts INTEGER NOT NULL,
        security_server_type TEXT NOT NULL CHECK (security_server_type IN ('Client', 'Producer')),
        request_in_ts INTEGER NOT NULL,
        request_out_ts INTEGER,
        response_in_ts INTEGER,
        response_out_ts INTEGER NOT NULL,
        client_id TEXT,
        service_id TEXT,
        rest_method TEXT,
        rest_path TEXT,
        message_id TEXT,
        x_request_id TEXT,
        message_user_id TEXT,
        message_issue TEXT,
        represented_party TEXT,
        message_protocol_version TEXT,
        client_security_server_address TEXT,
        service_security_server_address TEXT,
        request_size INTEGER,
        response_size INTEGER,
        status_code INTEGER,
        succeeded INTEGER NOT NULL CHECK (succeeded IN (0, 1)),
        fault_code TEXT,
        fault_string TEXT,
        service_type TEXT
      ) STRICT;
      CREATE INDEX operational_data_ts ON operational_data (monitoring_data_ts);
    `)
  },
}

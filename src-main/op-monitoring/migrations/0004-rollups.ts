import type { Migration } from '../../platform'

/**
 * Roll-ups of the operational records for the operations screen (a day of a busy server is millions of records; its
 * minutes times its parties are tens of thousands of rows, its half hours a thirtieth of that): one row per span
 * (a minute, or a half hour), its start, side, service, client, outcome and fault code, with the count, the first and
 * last second, the largest latency and the latencies counted by bucket (`LatencyTally`), written with the records in
 * their transaction. Records stored before this migration have none: the summary reads those minutes — before
 * `operations_rollup_state.from_minute_s`, the minute after the newest record then — from the records themselves.
 */
export const migration0004: Migration = {
  version: 4,
  name: 'rollups',
  up(db) {
    db.exec(`
      CREATE TABLE operations_rollups (
        span_s INTEGER NOT NULL CHECK (span_s IN (60, 1800)),
        start_s INTEGER NOT NULL,
        side TEXT NOT NULL CHECK (side IN ('Client', 'Producer')),
        service TEXT NOT NULL,
        client TEXT NOT NULL,
        succeeded INTEGER NOT NULL CHECK (succeeded IN (0, 1)),
        fault_code TEXT NOT NULL,
        count INTEGER NOT NULL,
        first_s INTEGER NOT NULL,
        last_s INTEGER NOT NULL,
        max_ms INTEGER NOT NULL,
        latencies BLOB NOT NULL,
        PRIMARY KEY (span_s, start_s, side, service, client, succeeded, fault_code)
      ) STRICT, WITHOUT ROWID;
      CREATE TABLE operations_rollup_state (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        from_minute_s INTEGER NOT NULL
      ) STRICT;
      INSERT INTO operations_rollup_state (id, from_minute_s)
        SELECT 1, COALESCE(MAX(monitoring_data_ts) - MAX(monitoring_data_ts) % 60 + 60, 0) FROM operational_data;
    `)
  },
}

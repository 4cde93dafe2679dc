import type { Migration } from '../../platform'

/**
 * Indexes for the message-log screen's pages at real volumes: newest first by (time, id) within one client or one
 * service (an index on a column also holds the rowid, so `(client, time_ms)` orders by `(time_ms, id)` too). The time
 * range alone uses `message_records_time`, the query id `message_records_query_id` (migration 1).
 */
export const migration0002: Migration = {
  version: 2,
  name: 'exchange-page-indexes',
  up(db) {
    db.exec(`
      CREATE INDEX message_records_client_time ON message_records (client, time_ms);
      CREATE INDEX message_records_service_time ON message_records (service, time_ms);
    `)
  },
}

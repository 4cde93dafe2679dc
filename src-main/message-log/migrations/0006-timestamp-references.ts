import type { Migration } from '../../platform'

/**
 * The records of each time-stamp, by index (issue 15, archiving and retention without holding the server): retention
 * deletes a time-stamp once its last record went, which it can now ask of the index for the time-stamps of the records
 * it deletes, where it scanned every record kept to find the time-stamps still referenced (twice, each purge). Partial:
 * a record enters it only when it is stamped, so logging a message writes no more pages than before.
 */
export const migration0006: Migration = {
  version: 6,
  name: 'timestamp-references',
  up(db) {
    db.exec('CREATE INDEX message_records_timestamp ON message_records (timestamp_record_id) WHERE timestamp_record_id IS NOT NULL')
  },
}

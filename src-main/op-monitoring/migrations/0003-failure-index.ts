import type { Migration } from '../../platform'

/**
 * The operations screen lists and groups the failures of a time range (by fault code, then newest first): a partial
 * index over the failed records' time keeps that fast when successes are the vast majority.
 */
export const migration0003: Migration = {
  version: 3,
  name: 'failure-index',
  up(db) {
    db.exec('CREATE INDEX operational_data_failures ON operational_data (monitoring_data_ts, fault_code) WHERE succeeded = 0')
  },
}

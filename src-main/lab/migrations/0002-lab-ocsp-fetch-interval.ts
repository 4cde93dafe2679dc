import type { Migration } from '../../platform'

/**
 * The central server's `ocspFetchInterval` global setting (xroad-protocols.md §4.8): when set, the lab publishes the
 * optional FETCHINTERVAL part (`ocsp-fetchinterval-conf.xsd`) in its internal configuration; NULL publishes none and
 * security servers keep their default of 1200 s.
 */
export const migration0002: Migration = {
  version: 2,
  name: 'lab-ocsp-fetch-interval',
  up(db) {
    db.exec('ALTER TABLE lab_settings ADD COLUMN ocsp_fetch_interval_seconds INTEGER CHECK (ocsp_fetch_interval_seconds IS NULL OR ocsp_fetch_interval_seconds > 0)')
  },
}

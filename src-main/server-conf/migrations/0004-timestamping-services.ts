import type { Migration } from '../../platform'

/**
 * The time-stamping services the administrator selected from global configuration's approved TSAs, in the order
 * they are tried (X-Road serverconf `tsp`; ug-ss §10.2 "Managing the Timestamping Services"). Rows refer to a TSA
 * by its name in global configuration; none selected means every approved TSA in configuration order.
 */
export const migration0004: Migration = {
  version: 4,
  name: 'timestamping-services',
  up(db) {
    db.exec(`
      CREATE TABLE timestamping_services (
        position INTEGER PRIMARY KEY CHECK (position >= 1),
        name TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 255),
        selected_at TEXT NOT NULL
      ) STRICT;
    `)
  },
  upPostgres(db) {
    db.exec(`
      CREATE TABLE timestamping_services (
        position INTEGER PRIMARY KEY CHECK (position >= 1),
        name TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 255),
        selected_at TEXT NOT NULL
      );
    `)
  },
}

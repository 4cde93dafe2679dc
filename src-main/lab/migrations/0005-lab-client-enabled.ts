import type { Migration } from '../../platform'

/**
 * A client registration that clientDisable turned off (pr-mserv §2.7–2.8; X-Road's `server_clients.enabled`, 7.4+):
 * the registration stays in the registry, so clientEnable can turn it on again and clientDeletion can still remove it,
 * but shared parameters no longer list the client on its server (X-Road's `SharedParametersLoader` lists only enabled
 * server clients), so no security server routes to it.
 */
export const migration0005: Migration = {
  version: 5,
  name: 'lab-client-enabled',
  up(db) {
    db.exec(`
      ALTER TABLE server_clients ADD COLUMN enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1));
    `)
  },
}

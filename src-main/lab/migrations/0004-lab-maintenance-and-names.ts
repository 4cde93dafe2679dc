import type { Migration } from '../../platform'

/**
 * What shared parameters V6 publish beyond V3 and management requests change (pr-mserv §2.9–2.11): a subsystem's
 * name (`subsystemName`, set by clientReg or clientRename) and a security server's maintenance mode with its optional
 * message (`inMaintenanceMode`, set by maintenanceModeEnable/Disable), and the message a maintenanceModeEnable request carried.
 */
export const migration0004: Migration = {
  version: 4,
  name: 'lab-maintenance-and-names',
  up(db) {
    db.exec(`
      ALTER TABLE subsystems ADD COLUMN subsystem_name TEXT;
      ALTER TABLE security_servers ADD COLUMN maintenance_mode INTEGER NOT NULL DEFAULT 0 CHECK (maintenance_mode IN (0, 1));
      ALTER TABLE security_servers ADD COLUMN maintenance_message TEXT;
      ALTER TABLE management_requests ADD COLUMN maintenance_message TEXT;
    `)
  },
}

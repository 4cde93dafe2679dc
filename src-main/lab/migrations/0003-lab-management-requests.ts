import type { Migration } from '../../platform'

/**
 * The central server's management requests (pr-mserv; X-Road's DM-CS `requests` and `request_processings`): every
 * request a security server sent to the lab's management service, its status (WAITING until the lab operator decides,
 * APPROVED, DECLINED) and what it asked for, plus the central server's auto-approval settings (X-Road's
 * `auto-approve-auth-cert-reg-requests`, `auto-approve-client-reg-requests`, `auto-approve-owner-change-requests`; on
 * in a lab so a new server registers without an operator), the addresses the management service listens on and the
 * `managementRequestServiceProviderId` once the lab operator designated a management security server.
 */
export const migration0003: Migration = {
  version: 3,
  name: 'lab-management-requests',
  up(db) {
    db.exec(`
      CREATE TABLE management_requests (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        type TEXT NOT NULL CHECK (type IN ('authCertReg', 'clientReg', 'ownerChange', 'clientDeletion', 'authCertDeletion',
          'addressChange', 'clientDisable', 'clientEnable', 'clientRename', 'maintenanceModeEnable', 'maintenanceModeDisable')),
        status TEXT NOT NULL CHECK (status IN ('WAITING', 'APPROVED', 'DECLINED')),
        server TEXT NOT NULL,
        client TEXT,
        address TEXT,
        auth_cert BLOB,
        subsystem_name TEXT,
        message_id TEXT NOT NULL,
        received_at TEXT NOT NULL,
        decided_at TEXT,
        decided_by TEXT CHECK (decided_by IS NULL OR decided_by IN ('auto', 'operator'))
      ) STRICT;
      CREATE INDEX management_requests_status ON management_requests (status, id);
      ALTER TABLE lab_settings ADD COLUMN auto_approve_auth_cert_reg INTEGER NOT NULL DEFAULT 1 CHECK (auto_approve_auth_cert_reg IN (0, 1));
      ALTER TABLE lab_settings ADD COLUMN auto_approve_client_reg INTEGER NOT NULL DEFAULT 1 CHECK (auto_approve_client_reg IN (0, 1));
      ALTER TABLE lab_settings ADD COLUMN auto_approve_owner_change INTEGER NOT NULL DEFAULT 1 CHECK (auto_approve_owner_change IN (0, 1));
      ALTER TABLE lab_settings ADD COLUMN auth_cert_reg_url TEXT;
      ALTER TABLE lab_settings ADD COLUMN management_service_url TEXT;
      ALTER TABLE lab_settings ADD COLUMN management_provider TEXT;
    `)
  },
}

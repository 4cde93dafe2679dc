import type { Migration } from '../../platform'

/**
 * This server's clients (members and subsystems) with their information-system authentication, their REST
 * services and endpoints, local groups and access rights (X-Road serverconf: client, service, endpoint,
 * accessright, localgroup, groupmember). A right on a whole service is a right on its base endpoint `* **`.
 */
export const migration0002: Migration = {
  version: 2,
  name: 'clients-services-access-rights',
  up(db) {
    db.exec(`
      CREATE TABLE clients (
        id INTEGER PRIMARY KEY,
        identifier TEXT NOT NULL UNIQUE,
        state TEXT NOT NULL CHECK (state IN ('SAVED', 'REGISTRATION_IN_PROGRESS', 'REGISTERED', 'DISABLED', 'DELETION_IN_PROGRESS')),
        is_authentication TEXT NOT NULL DEFAULT 'NOSSL' CHECK (is_authentication IN ('NOSSL', 'SSLNOAUTH', 'SSLAUTH')),
        created_at TEXT NOT NULL
      ) STRICT;
      CREATE TABLE client_is_certificates (
        id INTEGER PRIMARY KEY,
        client_id INTEGER NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
        sha256 TEXT NOT NULL,
        der BLOB NOT NULL,
        added_at TEXT NOT NULL,
        UNIQUE (client_id, sha256)
      ) STRICT;
      CREATE TABLE services (
        id INTEGER PRIMARY KEY,
        client_id INTEGER NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
        service_code TEXT NOT NULL,
        url TEXT NOT NULL,
        timeout_seconds INTEGER NOT NULL CHECK (timeout_seconds > 0),
        ssl_verify INTEGER NOT NULL CHECK (ssl_verify IN (0, 1)),
        disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
        disabled_notice TEXT,
        created_at TEXT NOT NULL,
        UNIQUE (client_id, service_code)
      ) STRICT;
      CREATE TABLE endpoints (
        id INTEGER PRIMARY KEY,
        service_id INTEGER NOT NULL REFERENCES services (id) ON DELETE CASCADE,
        method TEXT NOT NULL CHECK (method IN ('*', 'DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT', 'TRACE')),
        path TEXT NOT NULL,
        generated INTEGER NOT NULL DEFAULT 0 CHECK (generated IN (0, 1)),
        UNIQUE (service_id, method, path)
      ) STRICT;
      CREATE TABLE local_groups (
        id INTEGER PRIMARY KEY,
        client_id INTEGER NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
        group_code TEXT NOT NULL,
        description TEXT NOT NULL,
        UNIQUE (client_id, group_code)
      ) STRICT;
      CREATE TABLE local_group_members (
        group_id INTEGER NOT NULL REFERENCES local_groups (id) ON DELETE CASCADE,
        member TEXT NOT NULL,
        added_at TEXT NOT NULL,
        PRIMARY KEY (group_id, member)
      ) STRICT;
      CREATE TABLE access_rights (
        id INTEGER PRIMARY KEY,
        endpoint_id INTEGER NOT NULL REFERENCES endpoints (id) ON DELETE CASCADE,
        subject TEXT NOT NULL,
        granted_at TEXT NOT NULL,
        UNIQUE (endpoint_id, subject)
      ) STRICT;
      CREATE INDEX services_by_client ON services (client_id);
      CREATE INDEX endpoints_by_service ON endpoints (service_id);
      CREATE INDEX access_rights_by_endpoint ON access_rights (endpoint_id);
    `)
  },
}

import { SecurityServerError, type Migration } from '../../platform'

/**
 * Service descriptions (X-Road serverconf `servicedescription`, ug-ss §6): a client's services come from a WSDL
 * (one service per operation and version), an OpenAPI 3 description (one REST service with endpoints derived from
 * it) or a plain REST base URL. A description is enabled or disabled as a whole, with the notice callers get with
 * `service_disabled`. Services gain their version (`service_version`, '' when none: X-Road's service code + version
 * names a service) and title, and belong to a description.
 *
 * Each existing service becomes a REST description of its own with the service's URL and disabled state; its id is
 * kept as the description's id. `services`, `endpoints` and `access_rights` are rebuilt (SQLite cannot change a
 * UNIQUE constraint in place) keeping every row id, so endpoints and access rights stay attached. The old tables are
 * dropped children first, so no ON DELETE CASCADE fires on rows being carried over.
 */
export const migration0005: Migration = {
  version: 5,
  name: 'service-descriptions',
  up(db) {
    db.exec(`
      CREATE TABLE service_descriptions (
        id INTEGER PRIMARY KEY,
        client_id INTEGER NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
        type TEXT NOT NULL CHECK (type IN ('WSDL', 'OPENAPI3', 'REST')),
        url TEXT NOT NULL CHECK (length(url) BETWEEN 1 AND 2048),
        document BLOB,
        disabled INTEGER NOT NULL CHECK (disabled IN (0, 1)),
        disabled_notice TEXT,
        refreshed_at TEXT NOT NULL,
        created_at TEXT NOT NULL
      ) STRICT;
      INSERT INTO service_descriptions (id, client_id, type, url, document, disabled, disabled_notice, refreshed_at, created_at)
        SELECT id, client_id, 'REST', url, NULL, disabled, disabled_notice, created_at, created_at FROM services;

      CREATE TABLE services_v5 (
        id INTEGER PRIMARY KEY,
        client_id INTEGER NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
        description_id INTEGER NOT NULL REFERENCES service_descriptions (id) ON DELETE CASCADE,
        service_code TEXT NOT NULL,
        service_version TEXT NOT NULL DEFAULT '',
        title TEXT,
        url TEXT NOT NULL,
        timeout_seconds INTEGER NOT NULL CHECK (timeout_seconds > 0),
        ssl_verify INTEGER NOT NULL CHECK (ssl_verify IN (0, 1)),
        created_at TEXT NOT NULL,
        UNIQUE (client_id, service_code, service_version)
      ) STRICT;
      INSERT INTO services_v5 (id, client_id, description_id, service_code, service_version, title, url, timeout_seconds, ssl_verify, created_at)
        SELECT id, client_id, id, service_code, '', NULL, url, timeout_seconds, ssl_verify, created_at FROM services;

      CREATE TABLE endpoints_v5 (
        id INTEGER PRIMARY KEY,
        service_id INTEGER NOT NULL REFERENCES services_v5 (id) ON DELETE CASCADE,
        method TEXT NOT NULL CHECK (method IN ('*', 'DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT', 'TRACE')),
        path TEXT NOT NULL,
        generated INTEGER NOT NULL DEFAULT 0 CHECK (generated IN (0, 1)),
        UNIQUE (service_id, method, path)
      ) STRICT;
      INSERT INTO endpoints_v5 (id, service_id, method, path, generated) SELECT id, service_id, method, path, generated FROM endpoints;

      CREATE TABLE access_rights_v5 (
        id INTEGER PRIMARY KEY,
        endpoint_id INTEGER NOT NULL REFERENCES endpoints_v5 (id) ON DELETE CASCADE,
        subject TEXT NOT NULL,
        granted_at TEXT NOT NULL,
        UNIQUE (endpoint_id, subject)
      ) STRICT;
      INSERT INTO access_rights_v5 (id, endpoint_id, subject, granted_at) SELECT id, endpoint_id, subject, granted_at FROM access_rights;

      DROP TABLE access_rights;
      DROP TABLE endpoints;
      DROP TABLE services;
      ALTER TABLE services_v5 RENAME TO services;
      ALTER TABLE endpoints_v5 RENAME TO endpoints;
      ALTER TABLE access_rights_v5 RENAME TO access_rights;

      CREATE INDEX service_descriptions_by_client ON service_descriptions (client_id);
      CREATE INDEX services_by_client ON services (client_id);
      CREATE INDEX services_by_description ON services (description_id);
      CREATE INDEX endpoints_by_service ON endpoints (service_id);
      CREATE INDEX access_rights_by_endpoint ON access_rights (endpoint_id);
    `)
    const problems = db.prepare('PRAGMA foreign_key_check').all()
    if (problems.length > 0) throw new SecurityServerError('migration_failed', `${problems.length} foreign key problem(s) after rebuilding the service tables`)
  },
}

import type { Migration } from '../../platform'

/**
 * Management requests this server sent to the central server (pr-mserv; X-Road keeps the answer's request id in the
 * audit log and the request's effect in the client or certificate status): what was asked (`service`, its `subject` —
 * an encoded client id, `authcert:{sha256 hex}` or the server itself — and its one free-text field), the message id
 * and the central server's request id, and whether global configuration has shown the change yet. Only requests the
 * central server accepted are stored: a refused one changes nothing here.
 */
export const migration0006: Migration = {
  version: 6,
  name: 'management-requests',
  up(db) {
    db.exec(`
      CREATE TABLE management_requests (
        id INTEGER PRIMARY KEY,
        service TEXT NOT NULL CHECK (service IN (
          'authCertReg', 'clientReg', 'ownerChange', 'clientDeletion', 'authCertDeletion', 'addressChange',
          'clientDisable', 'clientEnable', 'clientRename', 'maintenanceModeEnable', 'maintenanceModeDisable')),
        subject TEXT NOT NULL CHECK (length(subject) BETWEEN 1 AND 1024),
        detail TEXT,
        message_id TEXT NOT NULL,
        request_id INTEGER,
        sent_at TEXT NOT NULL,
        sent_by TEXT,
        status TEXT NOT NULL CHECK (status IN ('SUBMITTED', 'CONFIRMED', 'SUPERSEDED')),
        settled_at TEXT
      ) STRICT;
      CREATE INDEX management_requests_subject ON management_requests (subject, status);
    `)
  },
}

/**
 * Audit log: an append-only record of every administrative action (who, what, when, outcome) with
 * secrets left out, queryable from the GUI.
 */
export { auditLogMigrations } from './migrations'
export { appendAuditEntry, listAuditEntries, type AuditEntry } from './audit-log-repository'

/**
 * Audit log: a hash-chained, append-only record of every administrative change from every entry point (GUI, admin
 * API, CLI, lab): who, what, which object, before and after, outcome — secrets left out; verifiable, exportable and
 * pruned for retention without breaking the chain.
 */
export { auditLogMigrations } from './migrations'
export {
  appendAuditEntry, listAuditEntries, iterateAuditEntries, verifyAuditLog, auditChainState, pruneAuditLog,
  type AuditEntry, type NewAuditEntry, type PruneResult,
} from './audit-log-repository'
export {
  GENESIS_HASH, entryHash, verifyChain,
  type ChainAnchor, type ChainProblem, type ChainProblemKind, type ChainVerdict, type ChainedRow,
} from './audit-chain'
export { redactSecrets, isSecretField, REDACTED } from './redaction'
export { auditExportLine, parseAuditExportLine } from './audit-export'

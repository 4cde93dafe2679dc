import { parseJson } from '../platform'
import type { ChainedRow } from './audit-chain'
import type { AuditEntry } from './audit-log-repository'

/**
 * The JSON-lines export: one entry per line, oldest first, as stored and with both hashes, so an export verifies on
 * its own from its first entry (`gatehouse audit verify --file`).
 */
export function auditExportLine(e: AuditEntry): string {
  return JSON.stringify({
    id: e.id, at: e.at, actor: e.actor, event: e.event, outcome: e.outcome, object: e.object, data: e.data, errorCode: e.errorCode,
    prevHash: e.prevHash, hash: e.hash,
  })
}

/**
 * One exported line back as a chain row (the file is outside input: bounded by `parseJson`); `data` is re-serialized,
 * which gives the stored text (it was written by JSON.stringify).
 */
export function parseAuditExportLine(line: string): ChainedRow {
  const e = parseJson(line, { maxLength: 4 * 1024 * 1024 }, 'validation_failed', 'An exported audit entry') as Record<string, unknown>
  return {
    id: Number(e.id), at: String(e.at), actor: String(e.actor), event: String(e.event), outcome: String(e.outcome),
    object: typeof e.object === 'string' ? e.object : null, dataText: JSON.stringify(e.data ?? {}),
    errorCode: typeof e.errorCode === 'string' ? e.errorCode : null, prevHash: String(e.prevHash), hash: String(e.hash),
  }
}

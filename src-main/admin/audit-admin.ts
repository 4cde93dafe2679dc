import { z } from 'zod'
import type { AuditApi, AuditLogEntry } from '@shared/admin-api/admin-api'
import { auditExportLine, iterateAuditEntries, listAuditEntries, verifyAuditLog, type AuditEntry } from '../audit-log'
import type { Clock, WritableDb } from '../platform'
import { validate } from './admin-validation'
import { currentCaller } from './caller-context'
import type { AuditRecord } from './dispatch'

/** Audit admin: searching the audit log, verifying its hash chain and exporting it as JSON lines. */
const searchSchema = z
  .object({
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
    actor: z.string().max(100).optional(),
    event: z.string().max(100).optional(),
    object: z.string().max(300).optional(),
    outcome: z.enum(['success', 'failure']).optional(),
    limit: z.number().int().min(1).max(1000).optional(),
  })
  .strict()

const exportSchema = z.object({ from: z.iso.datetime({ offset: true }).optional(), to: z.iso.datetime({ offset: true }).optional() }).strict()

/** How many recent entries of the time range are filtered by actor/event/object/outcome. */
const SCAN_LIMIT = 20_000

const toUtc = (s: string | undefined): string | undefined => (s === undefined ? undefined : new Date(s).toISOString())

function toDto(e: AuditEntry): AuditLogEntry {
  return { id: e.id, at: e.at, actor: e.actor, event: e.event, outcome: e.outcome, object: e.object, data: e.data, errorCode: e.errorCode, hash: e.hash }
}

export function createAuditAdmin(deps: { db: () => WritableDb; clock: Clock; audit: (record: AuditRecord) => void }): AuditApi {
  return {
    async search(query) {
      const q = validate(searchSchema, query ?? {}, 'audit search')
      const filtered = q.actor !== undefined || q.event !== undefined || q.outcome !== undefined || q.object !== undefined
      const rows = listAuditEntries(deps.db(), { from: toUtc(q.from), to: toUtc(q.to), limit: filtered ? SCAN_LIMIT : (q.limit ?? 200) })
      const event = q.event?.toLowerCase()
      const object = q.object?.toLowerCase()
      return rows
        .filter((r) => (q.actor === undefined || r.actor === q.actor) && (event === undefined || r.event.toLowerCase().includes(event))
          && (object === undefined || (r.object ?? '').toLowerCase().includes(object)) && (q.outcome === undefined || r.outcome === q.outcome))
        .slice(0, q.limit ?? 200)
        .map(toDto)
    },
    async verify() {
      return { ...verifyAuditLog(deps.db()), checkedAt: deps.clock.now().toISOString() }
    },
    async export(input) {
      const q = validate(exportSchema, input ?? {}, 'audit export')
      const lines: string[] = []
      for (const entry of iterateAuditEntries(deps.db(), { from: toUtc(q.from), to: toUtc(q.to) })) lines.push(auditExportLine(entry))
      const stamp = deps.clock.now().toISOString().replace(/[:.]/g, '-')
      deps.audit({ actor: currentCaller().actor, event: 'audit.export', outcome: 'success', errorCode: null, data: { input: q, entries: lines.length } })
      return { fileName: `audit-log-${stamp}.jsonl`, mimeType: 'application/x-ndjson', content: lines.length === 0 ? '' : `${lines.join('\n')}\n`, encoding: 'utf8', entries: lines.length }
    },
  }
}

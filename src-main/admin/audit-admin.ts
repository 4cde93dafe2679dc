import { z } from 'zod'
import type { AuditApi } from '@shared/admin-api/admin-api'
import { listAuditEntries } from '../audit-log'
import type { WritableDb } from '../platform'
import { validate } from './admin-validation'

/** Audit admin: searching the audit log by time, actor, event and outcome. */
const searchSchema = z
  .object({
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
    actor: z.string().max(100).optional(),
    event: z.string().max(100).optional(),
    outcome: z.enum(['success', 'failure']).optional(),
    limit: z.number().int().min(1).max(1000).optional(),
  })
  .strict()

/** How many recent entries of the time range are filtered by actor/event/outcome. */
const SCAN_LIMIT = 20_000

export function createAuditAdmin(deps: { db: () => WritableDb }): AuditApi {
  return {
    async search(query) {
      const q = validate(searchSchema, query ?? {}, 'audit search')
      const toUtc = (s: string | undefined): string | undefined => (s === undefined ? undefined : new Date(s).toISOString())
      const filtered = q.actor !== undefined || q.event !== undefined || q.outcome !== undefined
      const rows = listAuditEntries(deps.db(), { from: toUtc(q.from), to: toUtc(q.to), limit: filtered ? SCAN_LIMIT : (q.limit ?? 200) })
      const event = q.event?.toLowerCase()
      return rows
        .filter((r) => (q.actor === undefined || r.actor === q.actor) && (event === undefined || r.event.toLowerCase().includes(event)) && (q.outcome === undefined || r.outcome === q.outcome))
        .slice(0, q.limit ?? 200)
    },
  }
}

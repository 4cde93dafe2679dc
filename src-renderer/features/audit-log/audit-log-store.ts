import { create } from 'zustand'
import type { AuditChainVerdict, AuditLogEntry, AuditSearch } from '@shared/admin-api/admin-api'
import { adminClient } from '../../lib/admin-client'
import { saveFile } from '../../lib/save-file'

/** Audit log search (the filter the user typed and the entries found), the hash chain's verdict and the export. */
export interface AuditFilter {
  from: string
  to: string
  actor: string
  event: string
  object: string
  outcome: '' | 'success' | 'failure'
}

interface AuditLogState {
  filter: AuditFilter
  entries: AuditLogEntry[]
  loading: boolean
  error: unknown
  verdict: AuditChainVerdict | null
  verifying: boolean
  exporting: boolean
  /** How many entries the last export held. */
  exported: number | null
  setFilter(patch: Partial<AuditFilter>): void
  search(): Promise<void>
  verify(): Promise<void>
  exportLog(): Promise<void>
}

/** `datetime-local` values are local time without a zone; the API wants ISO-8601 with one. */
export function toQuery(filter: AuditFilter): AuditSearch {
  const query: AuditSearch = { limit: 200 }
  if (filter.from) query.from = new Date(filter.from).toISOString()
  if (filter.to) query.to = new Date(filter.to).toISOString()
  if (filter.actor.trim()) query.actor = filter.actor.trim()
  if (filter.event.trim()) query.event = filter.event.trim()
  if (filter.object.trim()) query.object = filter.object.trim()
  if (filter.outcome) query.outcome = filter.outcome
  return query
}

export const useAuditLogStore = create<AuditLogState>((set, get) => ({
  filter: { from: '', to: '', actor: '', event: '', object: '', outcome: '' },
  entries: [],
  loading: false,
  error: null,
  verdict: null,
  verifying: false,
  exporting: false,
  exported: null,
  setFilter: (patch) => set({ filter: { ...get().filter, ...patch } }),
  async search() {
    set({ loading: true, error: null })
    try {
      set({ entries: await adminClient().call('audit', 'search', toQuery(get().filter)), loading: false })
    } catch (error) {
      set({ error, loading: false })
    }
  },
  async verify() {
    set({ verifying: true, error: null })
    try {
      set({ verdict: await adminClient().call('audit', 'verify'), verifying: false })
    } catch (error) {
      set({ error, verifying: false })
    }
  },
  async exportLog() {
    set({ exporting: true, error: null, exported: null })
    try {
      const { from, to } = toQuery(get().filter)
      const file = await adminClient().call('audit', 'export', { ...(from === undefined ? {} : { from }), ...(to === undefined ? {} : { to }) })
      saveFile(file.fileName, file.mimeType, file.content, file.encoding)
      set({ exporting: false, exported: file.entries })
    } catch (error) {
      set({ error, exporting: false })
    }
  },
}))

import { create } from 'zustand'
import type { AuditLogEntry, AuditSearch } from '@shared/admin-api/admin-api'
import { adminClient } from '../../lib/admin-client'

/** Audit log search: the filter the user typed and the entries found. */
export interface AuditFilter {
  from: string
  to: string
  actor: string
  event: string
  outcome: '' | 'success' | 'failure'
}

interface AuditLogState {
  filter: AuditFilter
  entries: AuditLogEntry[]
  loading: boolean
  error: unknown
  setFilter(patch: Partial<AuditFilter>): void
  search(): Promise<void>
}

/** `datetime-local` values are local time without a zone; the API wants ISO-8601 with one. */
export function toQuery(filter: AuditFilter): AuditSearch {
  const query: AuditSearch = { limit: 200 }
  if (filter.from) query.from = new Date(filter.from).toISOString()
  if (filter.to) query.to = new Date(filter.to).toISOString()
  if (filter.actor.trim()) query.actor = filter.actor.trim()
  if (filter.event.trim()) query.event = filter.event.trim()
  if (filter.outcome) query.outcome = filter.outcome
  return query
}

export const useAuditLogStore = create<AuditLogState>((set, get) => ({
  filter: { from: '', to: '', actor: '', event: '', outcome: '' },
  entries: [],
  loading: false,
  error: null,
  setFilter: (patch) => set({ filter: { ...get().filter, ...patch } }),
  async search() {
    set({ loading: true, error: null })
    try {
      set({ entries: await adminClient().call('audit', 'search', toQuery(get().filter)), loading: false })
    } catch (error) {
      set({ error, loading: false })
    }
  },
}))

import { create } from 'zustand'
import type {
  EvidenceVerdict, EvidenceVerification, MessageDirection, MessageLogForecast, MessageLogSearch, MessageRecordDetails,
  MessageRecordStatus, MessageRecordSummary, TimestampingStatus,
} from '@shared/admin-api/admin-api'
import { MESSAGE_BODY_ROLES } from '@shared/admin-api/message-log-api'
import { adminClient } from '../../lib/admin-client'
import { saveFile } from '../../lib/save-file'

/**
 * The message-log screen: the search form, the records found, the open record with its body (for permitted roles),
 * evidence export and verification, and the time-stamping status and disk forecast shown above the search.
 */
export interface MessageLogFilter {
  /** `datetime-local` values (local time, no zone). */
  from: string
  to: string
  client: string
  service: string
  queryId: string
  direction: '' | MessageDirection
  status: '' | MessageRecordStatus
}

export const EMPTY_FILTER: MessageLogFilter = { from: '', to: '', client: '', service: '', queryId: '', direction: '', status: '' }

/** The form as an API query: local times to ISO-8601, blanks left out. */
export function toSearch(filter: MessageLogFilter, limit = 200): MessageLogSearch {
  const query: MessageLogSearch = { limit }
  if (filter.from) query.from = new Date(filter.from).toISOString()
  if (filter.to) query.to = new Date(filter.to).toISOString()
  if (filter.client.trim()) query.client = filter.client.trim()
  if (filter.service.trim()) query.service = filter.service.trim()
  if (filter.queryId.trim()) query.queryId = filter.queryId.trim()
  if (filter.direction) query.direction = filter.direction
  if (filter.status) query.status = filter.status
  return query
}

/** A form problem to show before asking the server, or null. */
export function filterProblem(filter: MessageLogFilter): string | null {
  if (filter.from && filter.to && new Date(filter.from).getTime() >= new Date(filter.to).getTime()) return 'The end of the time range must be after its start.'
  return null
}

export const STATUS_WORDS: Record<MessageRecordStatus, string> = {
  unstamped: 'Waiting for time-stamp',
  timestamped: 'Time-stamped',
  archived: 'Archived',
}

export const VERDICT_TITLES: Record<EvidenceVerdict['verdict'], string> = {
  valid: 'Valid',
  invalid: 'Not valid',
  'not-verified': 'Not verified yet',
}

export function mayReadBodies(roles: readonly string[]): boolean {
  return MESSAGE_BODY_ROLES.some((role) => roles.includes(role))
}

export interface MessageLogState {
  filter: MessageLogFilter
  records: MessageRecordSummary[]
  searched: boolean
  loading: boolean
  error: unknown
  selected: MessageRecordDetails | null
  detailsLoading: boolean
  detailsError: unknown
  verification: EvidenceVerification | null
  verifying: boolean
  exporting: boolean
  exported: string[]
  status: TimestampingStatus | null
  forecast: MessageLogForecast | null
  overviewError: unknown
  stamping: boolean
  setFilter(patch: Partial<MessageLogFilter>): void
  clearFilter(): void
  search(): Promise<void>
  open(id: number): Promise<void>
  close(): void
  showBody(): Promise<void>
  exportEvidence(): Promise<void>
  verify(): Promise<void>
  loadOverview(): Promise<void>
  timestampNow(): Promise<void>
}

export const initialMessageLog = {
  filter: EMPTY_FILTER, records: [], searched: false, loading: false, error: null, selected: null, detailsLoading: false, detailsError: null,
  verification: null, verifying: false, exporting: false, exported: [], status: null, forecast: null, overviewError: null, stamping: false,
}

export const useMessageLogStore = create<MessageLogState>((set, get) => ({
  ...initialMessageLog,
  setFilter: (patch) => set({ filter: { ...get().filter, ...patch } }),
  clearFilter: () => set({ filter: EMPTY_FILTER }),
  async search() {
    const problem = filterProblem(get().filter)
    if (problem !== null) {
      set({ error: new Error(problem) })
      return
    }
    set({ loading: true, error: null })
    try {
      const records = await adminClient().call('messageLog', 'search', toSearch(get().filter))
      set({ records, loading: false, searched: true })
    } catch (error) {
      set({ error, loading: false })
    }
  },
  async open(id) {
    set({ detailsLoading: true, detailsError: null, verification: null, exported: [], selected: get().selected?.id === id ? get().selected : null })
    try {
      const selected = await adminClient().call('messageLog', 'record', { id })
      set({ selected, detailsLoading: false })
    } catch (error) {
      set({ detailsError: error, detailsLoading: false })
    }
  },
  close: () => set({ selected: null, detailsError: null, verification: null, exported: [] }),
  async showBody() {
    const current = get().selected
    if (current === null) return
    set({ detailsLoading: true, detailsError: null })
    try {
      const selected = await adminClient().call('messageLog', 'record', { id: current.id, includeBody: true })
      set({ selected, detailsLoading: false })
    } catch (error) {
      set({ detailsError: error, detailsLoading: false })
    }
  },
  async exportEvidence() {
    const current = get().selected
    if (current === null) return
    set({ exporting: true, detailsError: null })
    try {
      const result = await adminClient().call('messageLog', 'export', { queryId: current.queryId })
      for (const file of result.files) saveFile(file.fileName, file.mimeType, file.content, file.encoding)
      set({ exporting: false, exported: result.files.map((f) => f.fileName) })
    } catch (error) {
      set({ detailsError: error, exporting: false })
    }
  },
  async verify() {
    const current = get().selected
    if (current === null) return
    set({ verifying: true, detailsError: null, verification: null })
    try {
      const verification = await adminClient().call('messageLog', 'verify', { queryId: current.queryId })
      set({ verification, verifying: false })
    } catch (error) {
      set({ detailsError: error, verifying: false })
    }
  },
  async loadOverview() {
    try {
      const [status, forecast] = await Promise.all([adminClient().call('messageLog', 'status'), adminClient().call('messageLog', 'forecast', {})])
      set({ status, forecast, overviewError: null })
    } catch (error) {
      set({ overviewError: error })
    }
  },
  async timestampNow() {
    set({ stamping: true, overviewError: null })
    try {
      const status = await adminClient().call('messageLog', 'timestampNow')
      set({ status, stamping: false })
      if (get().searched) await get().search()
      const selected = get().selected
      if (selected !== null) await get().open(selected.id)
    } catch (error) {
      set({ overviewError: error, stamping: false })
    }
  },
}))

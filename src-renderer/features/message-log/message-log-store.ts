import { create } from 'zustand'
import type {
  EvidenceVerification, MessageDirection, MessageExchange, MessageExchangePage, MessageExchangePageStart, MessageExchangeQuery,
  MessageLogForecast, MessageLogPageSize, MessageRecordDetails, MessageRecordStatus, TimestampingStatus, EvidenceContinuity,
} from '@shared/admin-api/admin-api'
import { MAX_EVIDENCE_ZIP_EXCHANGES, MESSAGE_BODY_ROLES } from '@shared/admin-api/message-log-api'
import { adminClient } from '../../lib/admin-client'
import { saveBlob, saveFile } from '../../lib/save-file'

/**
 * The message-log screen: the search form, one page of exchanges (newest first, moved by cursor), which exchanges are
 * open and which are chosen for an evidence ZIP, the open record with its body (for permitted roles), evidence export
 * and verification, and the time-stamping status and disk forecast shown above the search.
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

/** Why the form cannot be sent yet (a key of the `messageLog` catalogue), or null. */
export type FilterProblem = 'filter.rangeReversed'

/** The form as an API query: local times to ISO-8601, blanks left out. */
export function toQuery(filter: MessageLogFilter, pageSize: MessageLogPageSize, page: MessageExchangePageStart): MessageExchangeQuery {
  const query: MessageExchangeQuery = { pageSize, page }
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
export function filterProblem(filter: MessageLogFilter): FilterProblem | null {
  if (filter.from && filter.to && new Date(filter.from).getTime() >= new Date(filter.to).getTime()) return 'filter.rangeReversed'
  return null
}

export function mayReadBodies(roles: readonly string[]): boolean {
  return MESSAGE_BODY_ROLES.some((role) => roles.includes(role))
}

/** The least advanced time-stamping state among an exchange's records (waiting beats stamped beats archived). */
export function exchangeStatus(exchange: MessageExchange): MessageRecordStatus {
  const states = exchange.records.map((r) => r.status)
  if (states.includes('unstamped')) return 'unstamped'
  if (states.includes('timestamped')) return 'timestamped'
  return 'archived'
}

export type PageMove = 'newest' | 'newer' | 'older' | 'oldest'

/** A form problem found before asking (shown translated). */
export class FilterError extends Error {
  constructor(readonly problem: FilterProblem) {
    super(problem)
    this.name = 'FilterError'
  }
}

export interface MessageLogState {
  filter: MessageLogFilter
  pageSize: MessageLogPageSize
  /** The start of the page shown, to reload it in place. */
  start: MessageExchangePageStart
  page: MessageExchangePage | null
  loading: boolean
  error: unknown
  /** Query ids of the exchanges shown open (their records listed). */
  expanded: string[]
  /** Query ids chosen for an evidence ZIP (kept across pages). */
  selection: string[]
  zipping: boolean
  /** File name of the last evidence ZIP saved, with how many exchanges it held. */
  zipSaved: { fileName: string; exchanges: number } | null
  zipError: unknown
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
  /** Evidence continuity (the chain over the records and the last acknowledged one). */
  evidence: EvidenceContinuity | null
  evidenceError: unknown
  evidenceChecking: boolean
  setFilter(patch: Partial<MessageLogFilter>): void
  clearFilter(): void
  /** The newest page for the form's filter. */
  search(): Promise<void>
  move(to: PageMove): Promise<void>
  setPageSize(size: MessageLogPageSize): Promise<void>
  reload(): Promise<void>
  toggleExpanded(queryId: string): void
  toggleSelected(queryId: string): void
  /** Chooses (or un-chooses) every exchange on the page shown. */
  selectPage(chosen: boolean): void
  clearSelection(): void
  /** One ZIP with the evidence of these exchanges (default: the selection). */
  exportZip(queryIds?: string[]): Promise<void>
  open(id: number): Promise<void>
  close(): void
  showBody(): Promise<void>
  exportEvidence(): Promise<void>
  verify(): Promise<void>
  loadOverview(): Promise<void>
  timestampNow(): Promise<void>
  loadEvidence(): Promise<void>
  /** Walks every record now. */
  checkEvidence(): Promise<void>
  /** Acknowledges the open evidence problems with a reason; throws the server's refusal (shown in the dialog). */
  acknowledgeGap(reason: string): Promise<void>
}

export const initialMessageLog = {
  filter: EMPTY_FILTER, pageSize: 25 as MessageLogPageSize, start: { from: 'newest' } as MessageExchangePageStart, page: null, loading: false,
  error: null, expanded: [], selection: [], zipping: false, zipSaved: null, zipError: null, selected: null, detailsLoading: false,
  detailsError: null, verification: null, verifying: false, exporting: false, exported: [], status: null, forecast: null, overviewError: null,
  stamping: false, evidence: null, evidenceError: null, evidenceChecking: false,
}

export const useMessageLogStore = create<MessageLogState>((set, get) => {
  const load = async (start: MessageExchangePageStart): Promise<void> => {
    const problem = filterProblem(get().filter)
    if (problem !== null) {
      set({ error: new FilterError(problem) })
      return
    }
    set({ loading: true, error: null })
    try {
      const page = await adminClient().call('messageLog', 'exchanges', toQuery(get().filter, get().pageSize, start))
      set({ page, start, loading: false })
    } catch (error) {
      set({ error, loading: false })
    }
  }
  return {
    ...initialMessageLog,
    setFilter: (patch) => set({ filter: { ...get().filter, ...patch } }),
    clearFilter: () => set({ filter: EMPTY_FILTER }),
    search: () => load({ from: 'newest' }),
    async move(to) {
      const page = get().page
      if (to === 'newest' || to === 'oldest') return load({ from: to })
      const cursor = to === 'newer' ? page?.newer : page?.older
      if (cursor === null || cursor === undefined) return undefined
      return load(to === 'newer' ? { newerThan: cursor } : { olderThan: cursor })
    },
    async setPageSize(pageSize) {
      set({ pageSize })
      await load({ from: 'newest' })
    },
    reload: () => load(get().start),
    toggleExpanded: (queryId) => {
      const { expanded } = get()
      set({ expanded: expanded.includes(queryId) ? expanded.filter((q) => q !== queryId) : [...expanded, queryId] })
    },
    toggleSelected: (queryId) => {
      const { selection } = get()
      set({ selection: selection.includes(queryId) ? selection.filter((q) => q !== queryId) : [...selection, queryId], zipSaved: null })
    },
    selectPage(chosen) {
      const onPage = (get().page?.exchanges ?? []).map((e) => e.queryId)
      const rest = get().selection.filter((q) => !onPage.includes(q))
      set({ selection: chosen ? [...rest, ...onPage] : rest, zipSaved: null })
    },
    clearSelection: () => set({ selection: [], zipSaved: null }),
    async exportZip(queryIds) {
      const chosen = (queryIds ?? get().selection).slice(0, MAX_EVIDENCE_ZIP_EXCHANGES)
      if (chosen.length === 0) return
      set({ zipping: true, zipError: null, zipSaved: null })
      try {
        const client = adminClient()
        if (client.downloadEvidenceZip !== undefined) {
          const file = await client.downloadEvidenceZip({ queryIds: chosen })
          saveBlob(file.fileName, file.blob)
          set({ zipping: false, zipSaved: { fileName: file.fileName, exchanges: chosen.length } })
        } else {
          const file = await client.call('messageLog', 'exportZip', { queryIds: chosen })
          saveFile(file.fileName, file.mimeType, file.content, file.encoding)
          set({ zipping: false, zipSaved: { fileName: file.fileName, exchanges: chosen.length } })
        }
      } catch (error) {
        set({ zipError: error, zipping: false })
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
    close: () => set({ selected: null, detailsLoading: false, detailsError: null, verification: null, exported: [] }),
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
    async loadEvidence() {
      try {
        set({ evidence: await adminClient().call('messageLog', 'evidence'), evidenceError: null })
      } catch (error) {
        set({ evidenceError: error })
      }
    },
    async checkEvidence() {
      set({ evidenceChecking: true, evidenceError: null })
      try {
        set({ evidence: await adminClient().call('messageLog', 'checkEvidence', { scope: 'full' }), evidenceChecking: false })
      } catch (error) {
        set({ evidenceError: error, evidenceChecking: false })
      }
    },
    async acknowledgeGap(reason) {
      set({ evidence: await adminClient().call('messageLog', 'acknowledgeGap', { reason }), evidenceError: null })
    },
    async timestampNow() {
      set({ stamping: true, overviewError: null })
      try {
        const status = await adminClient().call('messageLog', 'timestampNow')
        set({ status, stamping: false })
        if (get().page !== null) await get().reload()
        const selected = get().selected
        if (selected !== null) await get().open(selected.id)
      } catch (error) {
        set({ overviewError: error, stamping: false })
      }
    },
  }
})

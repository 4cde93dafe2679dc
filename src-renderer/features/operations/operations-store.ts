import { create } from 'zustand'
import type { FailedExchange, FailureQuery, OperationsSide, OperationsSummary } from '@shared/admin-api/admin-api'
import { adminClient } from '../../lib/admin-client'
import { EMPTY_FILTER, useMessageLogStore } from '../message-log/message-log-store'
import { useRouterStore } from '../../app/router-store'

/**
 * The operations screen: a time range (a preset or from–to), which side of the exchanges, the summary of that range,
 * and the failed exchanges behind a figure (one error code, service or client), each of which opens the message log
 * filtered to its records.
 */
export type RangePreset = '1h' | '6h' | '24h' | '7d' | 'custom'
export const RANGE_PRESETS: readonly RangePreset[] = ['1h', '6h', '24h', '7d', 'custom']
const PRESET_MS: Record<Exclude<RangePreset, 'custom'>, number> = { '1h': 3600_000, '6h': 6 * 3600_000, '24h': 86_400_000, '7d': 7 * 86_400_000 }

/** Which failures are listed: of one error code, one service or one client. */
export type FailureSelection =
  | { kind: 'fault'; faultCode: string }
  | { kind: 'service'; id: string; path: string }
  | { kind: 'client'; id: string; path: string }

export const FAILURE_LIMIT = 100

export interface OperationsState {
  preset: RangePreset
  /** `datetime-local` values (local time) of a custom range. */
  customFrom: string
  customTo: string
  side: OperationsSide
  summary: OperationsSummary | null
  loading: boolean
  error: unknown
  updatedAt: Date | null
  selection: FailureSelection | null
  failures: FailedExchange[] | null
  failuresLoading: boolean
  failuresError: unknown
  setPreset(preset: RangePreset): void
  setCustom(patch: { customFrom?: string; customTo?: string }): void
  setSide(side: OperationsSide): void
  load(): Promise<void>
  showFailures(selection: FailureSelection): Promise<void>
  closeFailures(): void
}

/** A `datetime-local` value for a time (local time, minutes). */
export function toLocalInput(time: number): string {
  const d = new Date(time)
  const pad = (n: number): string => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`
}

/**
 * The range asked for, as ISO-8601, or `reversed` when a custom range ends before it starts. A preset ends at the
 * next whole minute (custom ranges are whole minutes too): the server answers whole minutes from its per-minute
 * roll-ups, the rest from the records one by one.
 */
export function rangeOf(state: Pick<OperationsState, 'preset' | 'customFrom' | 'customTo'>, now: number): { from: string; to: string } | 'reversed' {
  if (state.preset !== 'custom') {
    const to = Math.ceil(now / 60_000) * 60_000
    return { from: new Date(to - PRESET_MS[state.preset]).toISOString(), to: new Date(to).toISOString() }
  }
  const from = new Date(state.customFrom).getTime()
  const to = new Date(state.customTo).getTime()
  if (!Number.isFinite(from) || !Number.isFinite(to) || to <= from) return 'reversed'
  return { from: new Date(from).toISOString(), to: new Date(to).toISOString() }
}

export class ReversedRangeError extends Error {
  constructor() {
    super('reversed')
    this.name = 'ReversedRangeError'
  }
}

export const initialOperations = {
  preset: '24h' as RangePreset, customFrom: '', customTo: '', side: 'all' as OperationsSide, summary: null, loading: false, error: null,
  updatedAt: null, selection: null, failures: null, failuresLoading: false, failuresError: null,
}

export const useOperationsStore = create<OperationsState>((set, get) => ({
  ...initialOperations,
  setPreset(preset) {
    if (preset === 'custom' && get().customFrom === '') {
      const now = Date.now()
      set({ preset, customFrom: toLocalInput(now - 86_400_000), customTo: toLocalInput(now) })
      return
    }
    set({ preset })
  },
  setCustom: (patch) => set(patch),
  setSide: (side) => set({ side }),
  async load() {
    const range = rangeOf(get(), Date.now())
    if (range === 'reversed') {
      set({ error: new ReversedRangeError() })
      return
    }
    set({ loading: true, error: null })
    try {
      const summary = await adminClient().call('operations', 'summary', { ...range, side: get().side })
      set({ summary, loading: false, updatedAt: new Date() })
      const selection = get().selection
      if (selection !== null) await get().showFailures(selection)
    } catch (error) {
      set({ error, loading: false })
    }
  },
  async showFailures(selection) {
    const summary = get().summary
    if (summary === null) return
    set({ selection, failuresLoading: true, failuresError: null })
    const query: FailureQuery = { from: summary.from, to: summary.to, side: summary.side, limit: FAILURE_LIMIT }
    if (selection.kind === 'fault') query.faultCode = selection.faultCode
    else if (selection.kind === 'service') query.service = selection.id
    else query.client = selection.id
    try {
      set({ failures: await adminClient().call('operations', 'failures', query), failuresLoading: false })
    } catch (error) {
      set({ failuresError: error, failuresLoading: false })
    }
  },
  closeFailures: () => set({ selection: null, failures: null, failuresError: null }),
}))

/**
 * Opens the message log on the records of a failed exchange: by its query id, or — when it never got one (refused
 * before it was read) — by its client and service in the minute around it.
 */
export function openInMessageLog(failure: FailedExchange): void {
  const log = useMessageLogStore.getState()
  log.clearFilter()
  if (failure.messageId !== null) {
    log.setFilter({ ...EMPTY_FILTER, queryId: failure.messageId })
  } else {
    const at = Date.parse(failure.at)
    log.setFilter({
      ...EMPTY_FILTER, from: toLocalInput(at - 60_000), to: toLocalInput(at + 120_000),
      client: failure.client ?? '', service: failure.service ?? '',
    })
  }
  useRouterStore.getState().navigate('message-log')
}

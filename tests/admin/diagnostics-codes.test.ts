import { describe, expect, it } from 'vitest'
import type { TimestampingStatus } from '@shared/admin-api/admin-api'
import { freshnessCode, timestampingCode } from '../../src-main/admin/diagnostics-admin'
import { describeFreshness } from '../../src-main/admin/global-conf-admin'

/**
 * The diagnostics codes name the same verdicts as the English explanations: every case of the global-configuration
 * freshness and of time-stamping gets its own code, with the facts the GUI words (durations, times, the error).
 */
interface Freshness { anchorImported: boolean; available: boolean; expired: boolean; lastError: string | null; expiresInSeconds: number | null; ageSeconds: number | null }
const FRESH: Freshness = { anchorImported: true, available: true, expired: false, lastError: null, expiresInSeconds: 540, ageSeconds: 60 }

describe('global configuration check codes', () => {
  const cases: Array<[Partial<Freshness>, string, string, Record<string, unknown>]> = [
    [{ anchorImported: false, available: false }, 'gray', 'global-conf-no-anchor', {}],
    [{ available: false, lastError: 'connection refused' }, 'red', 'global-conf-not-downloaded', { error: 'connection refused' }],
    [{ available: false }, 'red', 'global-conf-not-downloaded', { error: '' }],
    [{ expired: true, expiresInSeconds: -5 }, 'red', 'global-conf-expired', {}],
    [{ lastError: 'timeout', expiresInSeconds: 300 }, 'yellow', 'global-conf-download-failed', { error: 'timeout', expiresInSeconds: 300 }],
    [{ expiresInSeconds: 90 }, 'yellow', 'global-conf-expires-soon', { expiresInSeconds: 90 }],
    [{}, 'green', 'global-conf-up-to-date', { ageSeconds: 60 }],
    [{ ageSeconds: null }, 'green', 'global-conf-up-to-date', {}],
  ]
  for (const [patch, light, code, params] of cases) {
    it(`${code} ${JSON.stringify(patch)}`, () => {
      const status = { ...FRESH, ...patch }
      const verdict = describeFreshness(status)
      expect(verdict.light).toBe(light)
      expect(freshnessCode({ ...status, light: verdict.light })).toEqual({ code, params })
    })
  }
})

const STAMPING: TimestampingStatus = {
  acceptingMessages: true, backlog: 0, backlogCapped: false, oldestUnstampedAt: null, lastSuccessAt: '2026-03-01T10:00:00.000Z', failingSince: null,
  lastError: null, failurePeriodSeconds: 14_400, trafficStopsAt: null, secondsLeft: null, light: 'green', explanation: '',
}

describe('time-stamping check codes', () => {
  it('names a server that stopped accepting messages, with the period, backlog and error', () => {
    const s = { ...STAMPING, acceptingMessages: false, backlog: 1000, backlogCapped: true, lastError: 'tsa down', light: 'red' as const }
    expect(timestampingCode(s)).toEqual({ code: 'timestamping-stopped', params: { backlog: 1000, backlogCapped: true, periodSeconds: 14_400, error: 'tsa down' } })
  })

  it('names a failing service with the time left and the last success', () => {
    const s = { ...STAMPING, backlog: 3, lastError: 'tsa down', secondsLeft: 600, light: 'yellow' as const }
    expect(timestampingCode(s)).toEqual({
      code: 'timestamping-failing', params: { backlog: 3, backlogCapped: false, secondsLeft: 600, lastSuccessAt: '2026-03-01T10:00:00.000Z', error: 'tsa down' },
    })
    expect(timestampingCode({ ...s, lastSuccessAt: null, secondsLeft: null }).params).toEqual({ backlog: 3, backlogCapped: false, error: 'tsa down' })
  })

  it('names an idle log and a working service, with the time left only while messages wait', () => {
    expect(timestampingCode({ ...STAMPING, lastSuccessAt: null, light: 'gray' })).toEqual({ code: 'timestamping-idle', params: {} })
    expect(timestampingCode({ ...STAMPING, secondsLeft: 900 })).toEqual({
      code: 'timestamping-ok', params: { backlog: 0, backlogCapped: false, lastSuccessAt: '2026-03-01T10:00:00.000Z' },
    })
    expect(timestampingCode({ ...STAMPING, backlog: 2, secondsLeft: 900 }).params).toEqual({
      backlog: 2, backlogCapped: false, secondsLeft: 900, lastSuccessAt: '2026-03-01T10:00:00.000Z',
    })
  })
})

// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from 'vitest'
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react'
import { MantineProvider } from '@mantine/core'
import type { SessionInfo } from '@shared/admin-api/session'
import type {
  EvidenceVerification, MessageLogForecast, MessageRecordDetails, MessageRecordSummary, TimestampingStatus,
} from '@shared/admin-api/admin-api'
import { AdminError, setAdminClient, type AdminClient } from '../../src-renderer/lib/admin-client'
import { useSessionStore } from '../../src-renderer/features/login/session-store'
import {
  EMPTY_FILTER, filterProblem, initialMessageLog, mayReadBodies, toSearch, useMessageLogStore,
} from '../../src-renderer/features/message-log/message-log-store'
import { MessageLogPage } from '../../src-renderer/features/message-log/MessageLogPage'
import { ocspLight } from '../../src-renderer/features/dashboard/dashboard-store'

/** The message-log screen: the search form rules, the store against a fake admin client, and the page's controls. */
const row: MessageRecordSummary = {
  id: 7, queryId: 'LAB-q1', xRequestId: null, client: 'SUBSYSTEM:LAB/GOV/1001/consumer', clientPath: 'LAB/GOV/1001/consumer',
  service: 'SERVICE:LAB/GOV/2002/provider/pets', servicePath: 'LAB/GOV/2002/provider/pets', direction: 'request',
  loggedAt: '2026-01-01T10:00:00.000Z', status: 'timestamped', bodyLogged: true,
}
const details: MessageRecordDetails = {
  ...row, signatureHash: 'c2ln', messageBytes: 120, attachments: [], timestamp: { at: '2026-01-01T10:01:00.000Z', tsaUrl: 'http://tsa', batch: false },
  archiveFile: null, archivedAt: null, bodyAccess: 'not-requested', body: null,
}
const status: TimestampingStatus = {
  acceptingMessages: true, backlog: 0, backlogCapped: false, oldestUnstampedAt: null, lastSuccessAt: '2026-01-01T10:01:00.000Z', failingSince: null,
  lastError: null, failurePeriodSeconds: 14400, trafficStopsAt: null, secondsLeft: null, light: 'green', explanation: 'every logged message is time-stamped',
}
const forecast: MessageLogForecast = {
  windowDays: 7, recordsPerDay: 2, averageRecordBytes: 4000, bytesPerDay: 8000, freeBytes: 1e10, totalBytes: 2e10, daysUntilFull: 1e6,
  keepRecordsForDays: 30, archiving: false, light: 'green', explanation: 'About 2 messages a day',
}
const verification: EvidenceVerification = {
  checkedAt: '2026-01-01T10:02:00.000Z', queryId: 'LAB-q1',
  containers: [{
    fileName: 'LAB-q1-request-7.asice', recordId: 7, direction: 'request', verdict: 'invalid', code: 'server.signature_not_valid',
    explanation: 'Not valid: the signature does not match the message.', signer: null, signerCertificate: null, timestamp: null, ocsp: null,
  }],
}

function session(roles: SessionInfo['roles']): SessionInfo {
  return { authenticated: true, username: 'u', roles, csrfToken: 't', setupRequired: false, transport: 'browser' }
}

function fakeClient(call: (domain: string, method: string, ...args: unknown[]) => Promise<unknown>): AdminClient {
  const fail = async (): Promise<never> => {
    throw new AdminError('unsupported', 'not in this test')
  }
  return { transport: 'browser', session: fail, login: fail, setup: fail, logout: fail, call: call as AdminClient['call'] }
}

function api(overrides: Record<string, unknown> = {}) {
  return vi.fn(async (domain: string, method: string, ...args: unknown[]) => {
    const key = `${domain}.${method}`
    if (key in overrides) {
      const value = overrides[key]
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown)(...args) : value
    }
    if (key === 'messageLog.search') return [row]
    if (key === 'messageLog.record') return details
    if (key === 'messageLog.status') return status
    if (key === 'messageLog.forecast') return forecast
    if (key === 'messageLog.verify') return verification
    throw new AdminError('not_found', `unexpected ${key}`)
  })
}

afterEach(() => {
  cleanup()
  setAdminClient(undefined)
  useMessageLogStore.setState(initialMessageLog)
  useSessionStore.setState({ session: null })
})

describe('message-log search form', () => {
  it('turns the form into a query with ISO times and no blanks', () => {
    expect(toSearch(EMPTY_FILTER)).toEqual({ limit: 200 })
    const query = toSearch({ ...EMPTY_FILTER, from: '2026-01-01T10:00', client: ' LAB/GOV/1001/consumer ', queryId: 'q', direction: 'response', status: 'unstamped' })
    expect(query).toEqual({ limit: 200, from: new Date('2026-01-01T10:00').toISOString(), client: 'LAB/GOV/1001/consumer', queryId: 'q', direction: 'response', status: 'unstamped' })
  })

  it('refuses a time range that ends before it starts, without asking the server', async () => {
    expect(filterProblem({ ...EMPTY_FILTER, from: '2026-01-02T00:00', to: '2026-01-01T00:00' })).toMatch(/after its start/)
    expect(filterProblem({ ...EMPTY_FILTER, from: '2026-01-01T00:00', to: '2026-01-02T00:00' })).toBeNull()
    const call = api()
    setAdminClient(fakeClient(call))
    useMessageLogStore.getState().setFilter({ from: '2026-01-02T00:00', to: '2026-01-01T00:00' })
    await useMessageLogStore.getState().search()
    expect(call).not.toHaveBeenCalled()
    expect(String(useMessageLogStore.getState().error)).toMatch(/after its start/)
  })

  it('lets only security officers and system administrators read bodies', () => {
    expect(mayReadBodies(['observer', 'service-administrator'])).toBe(false)
    expect(mayReadBodies(['observer', 'security-officer'])).toBe(true)
    expect(mayReadBodies(['system-administrator'])).toBe(true)
  })

  it('words OCSP statuses for the dashboard lights', () => {
    expect(ocspLight('good')).toEqual({ light: 'green', text: 'OCSP good' })
    expect(ocspLight('revoked').light).toBe('red')
    expect(ocspLight('stale').light).toBe('yellow')
  })
})

describe('message-log store', () => {
  it('searches, opens a record, asks for the body and verifies by query id', async () => {
    const call = api({ 'messageLog.record': (input: { includeBody?: boolean }) => (input.includeBody ? { ...details, bodyAccess: 'shown', body: { message: { encoding: 'utf8', content: 'GET /pets/7' }, attachments: [] } } : details) })
    setAdminClient(fakeClient(call))
    const store = useMessageLogStore.getState()
    store.setFilter({ queryId: 'LAB-q1' })
    await useMessageLogStore.getState().search()
    expect(call).toHaveBeenLastCalledWith('messageLog', 'search', { limit: 200, queryId: 'LAB-q1' })
    expect(useMessageLogStore.getState().records).toEqual([row])
    await useMessageLogStore.getState().open(7)
    expect(useMessageLogStore.getState().selected?.body).toBeNull()
    await useMessageLogStore.getState().showBody()
    expect(call).toHaveBeenLastCalledWith('messageLog', 'record', { id: 7, includeBody: true })
    expect(useMessageLogStore.getState().selected?.body?.message.content).toBe('GET /pets/7')
    await useMessageLogStore.getState().verify()
    expect(call).toHaveBeenLastCalledWith('messageLog', 'verify', { queryId: 'LAB-q1' })
    expect(useMessageLogStore.getState().verification?.containers[0]?.verdict).toBe('invalid')
  })

  it('keeps an export failure on the record with its code', async () => {
    setAdminClient(fakeClient(api({ 'messageLog.export': () => { throw new AdminError('forbidden', 'Your roles do not allow messageLog.export') } })))
    await useMessageLogStore.getState().open(7)
    await useMessageLogStore.getState().exportEvidence()
    expect((useMessageLogStore.getState().detailsError as AdminError).code).toBe('forbidden')
    expect(useMessageLogStore.getState().exported).toEqual([])
  })
})

describe('message-log page', () => {
  it('shows the records, the time-stamping and disk cards, and the verdict in words with the code', async () => {
    setAdminClient(fakeClient(api()))
    useSessionStore.setState({ session: session(['observer']) })
    render(<MantineProvider><MessageLogPage /></MantineProvider>)
    await screen.findByText('LAB-q1')
    expect(screen.getByLabelText('Query id')).toBeTruthy()
    expect(screen.getByLabelText('Direction')).toBeTruthy()
    expect(screen.getByText('every logged message is time-stamped')).toBeTruthy()
    expect(screen.getByRole('button', { name: 'Retention settings' })).toBeTruthy()
    fireEvent.click(screen.getByRole('button', { name: 'Open request LAB-q1' }))
    await screen.findByRole('button', { name: 'Verify evidence' })
    // An observer may verify but not export or read the body.
    expect((screen.getByRole('button', { name: 'Export evidence' }) as HTMLButtonElement).disabled).toBe(true)
    expect(screen.getByText('The message body is visible only to security officers and system administrators.')).toBeTruthy()
    fireEvent.click(screen.getByRole('button', { name: 'Verify evidence' }))
    await screen.findByText('Request: Not valid')
    expect(screen.getByText('Not valid: the signature does not match the message.')).toBeTruthy()
    await waitFor(() => expect(screen.getByText('server.signature_not_valid')).toBeTruthy())
  })
})

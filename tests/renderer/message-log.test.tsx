// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from 'vitest'
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react'
import { MantineProvider } from '@mantine/core'
import type { SessionInfo } from '@shared/admin-api/session'
import type {
  EvidenceContinuity, EvidenceVerification, MessageExchange, MessageExchangePage, MessageLogForecast, MessageRecordDetails, MessageRecordSummary, TimestampingStatus,
} from '@shared/admin-api/admin-api'
import { AdminError, setAdminClient, type AdminClient } from '../../src-renderer/lib/admin-client'
import { useSessionStore } from '../../src-renderer/features/login/session-store'
import {
  EMPTY_FILTER, FilterError, exchangeStatus, filterProblem, initialMessageLog, mayReadBodies, toQuery, useMessageLogStore,
} from '../../src-renderer/features/message-log/message-log-store'
import { MessageLogPage } from '../../src-renderer/features/message-log/MessageLogPage'
import { ocspLight } from '../../src-renderer/features/dashboard/dashboard-store'

/**
 * The message-log screen: the search form rules, the store against a fake admin client (pages by cursor, selection,
 * evidence ZIP), and the page's controls (exchanges grouped with their outcome, records, verdicts in words).
 */
const row: MessageRecordSummary = {
  id: 7, queryId: 'LAB-q1', xRequestId: null, client: 'SUBSYSTEM:LAB/GOV/1001/consumer', clientPath: 'LAB/GOV/1001/consumer',
  service: 'SERVICE:LAB/GOV/2002/provider/pets', servicePath: 'LAB/GOV/2002/provider/pets', direction: 'request',
  loggedAt: '2026-01-01T10:00:00.000Z', status: 'timestamped', bodyLogged: true,
}
const responseRow: MessageRecordSummary = { ...row, id: 8, direction: 'response', loggedAt: '2026-01-01T10:00:01.000Z' }
const exchange: MessageExchange = {
  queryId: 'LAB-q1', client: row.client, clientPath: row.clientPath, service: row.service, servicePath: row.servicePath,
  firstLoggedAt: row.loggedAt, lastLoggedAt: responseRow.loggedAt, records: [row, responseRow], moreRecords: false,
  outcome: { result: 'success', faultCode: null, faultString: null, statusCode: 200, sides: ['client'] },
}
const failed: MessageExchange = {
  ...exchange, queryId: 'LAB-q2', records: [{ ...row, id: 9, queryId: 'LAB-q2', status: 'unstamped' }],
  outcome: { result: 'failure', faultCode: 'server.serverproxy.service_failed.http_error', faultString: 'Service is down', statusCode: null, sides: ['client'] },
}
const firstPage: MessageExchangePage = { exchanges: [failed, exchange], pageSize: 25, newer: null, older: '1767261600000.7' }
const secondPage: MessageExchangePage = {
  exchanges: [{ ...exchange, queryId: 'LAB-q0', outcome: { result: 'unknown', faultCode: null, faultString: null, statusCode: null, sides: [] } }],
  pageSize: 25, newer: '1767261500000.5', older: null,
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

const intact: EvidenceContinuity = {
  state: 'ok', light: 'green', checkedAt: '2026-01-01T10:05:00.000Z', scope: 'full', checking: false, lastFullCheckAt: '2026-01-01T10:05:00.000Z',
  records: 42, verifiedRecords: 42, firstSeq: 1, lastSeq: 42, lastAcknowledgedSeq: 42, ackFile: 'ok', missingRecords: 0, problems: [],
  problemsTruncated: false, failClosed: true, refusing: false, incidents: [],
}
const lost: EvidenceContinuity = {
  ...intact, state: 'problem', light: 'red', refusing: true, missingRecords: 27, lastSeq: 119, lastAcknowledgedSeq: 146,
  problems: [
    { kind: 'missing', firstSeq: 120, lastSeq: 146, detail: 'records 120–146 (27) were acknowledged but are missing', acknowledged: false },
    { kind: 'altered', firstSeq: 7, lastSeq: 7, detail: 'record 7: its content no longer matches its chain hash', acknowledged: false },
  ],
  incidents: [],
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
    if (key === 'messageLog.exchanges') {
      const page = (args[0] as { page?: Record<string, string> }).page ?? {}
      return 'olderThan' in page || page.from === 'oldest' ? secondPage : firstPage
    }
    if (key === 'messageLog.record') return details
    if (key === 'messageLog.status') return status
    if (key === 'messageLog.forecast') return forecast
    if (key === 'messageLog.verify') return verification
    if (key === 'messageLog.evidence') return intact
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
  it('turns the form into a page query with ISO times and no blanks', () => {
    expect(toQuery(EMPTY_FILTER, 25, { from: 'newest' })).toEqual({ pageSize: 25, page: { from: 'newest' } })
    const query = toQuery({ ...EMPTY_FILTER, from: '2026-01-01T10:00', client: ' LAB/GOV/1001/consumer ', queryId: 'q', direction: 'response', status: 'unstamped' }, 50, { olderThan: '1.2' })
    expect(query).toEqual({
      pageSize: 50, page: { olderThan: '1.2' }, from: new Date('2026-01-01T10:00').toISOString(), client: 'LAB/GOV/1001/consumer', queryId: 'q',
      direction: 'response', status: 'unstamped',
    })
  })

  it('refuses a time range that ends before it starts, without asking the server', async () => {
    expect(filterProblem({ ...EMPTY_FILTER, from: '2026-01-02T00:00', to: '2026-01-01T00:00' })).toBe('filter.rangeReversed')
    expect(filterProblem({ ...EMPTY_FILTER, from: '2026-01-01T00:00', to: '2026-01-02T00:00' })).toBeNull()
    const call = api()
    setAdminClient(fakeClient(call))
    useMessageLogStore.getState().setFilter({ from: '2026-01-02T00:00', to: '2026-01-01T00:00' })
    await useMessageLogStore.getState().search()
    expect(call).not.toHaveBeenCalled()
    expect(useMessageLogStore.getState().error).toBeInstanceOf(FilterError)
  })

  it('lets only security officers and system administrators read bodies', () => {
    expect(mayReadBodies(['observer', 'service-administrator'])).toBe(false)
    expect(mayReadBodies(['observer', 'security-officer'])).toBe(true)
    expect(mayReadBodies(['system-administrator'])).toBe(true)
  })

  it('sums up an exchange by its least advanced record', () => {
    expect(exchangeStatus(exchange)).toBe('timestamped')
    expect(exchangeStatus(failed)).toBe('unstamped')
    expect(exchangeStatus({ ...exchange, records: [{ ...row, status: 'archived' }] })).toBe('archived')
  })

  it('words OCSP statuses for the dashboard lights', () => {
    expect(ocspLight('good')).toEqual({ light: 'green', text: 'OCSP good' })
    expect(ocspLight('revoked').light).toBe('red')
    expect(ocspLight('stale').light).toBe('yellow')
  })
})

describe('message-log store', () => {
  it('pages by cursor, keeps the page size, and reloads the page in place', async () => {
    const call = api()
    setAdminClient(fakeClient(call))
    useMessageLogStore.getState().setFilter({ queryId: 'LAB-q1' })
    await useMessageLogStore.getState().search()
    expect(call).toHaveBeenLastCalledWith('messageLog', 'exchanges', { pageSize: 25, page: { from: 'newest' }, queryId: 'LAB-q1' })
    expect(useMessageLogStore.getState().page).toEqual(firstPage)
    await useMessageLogStore.getState().move('newer')
    expect(call).toHaveBeenCalledTimes(1)
    await useMessageLogStore.getState().move('older')
    expect(call).toHaveBeenLastCalledWith('messageLog', 'exchanges', { pageSize: 25, page: { olderThan: '1767261600000.7' }, queryId: 'LAB-q1' })
    expect(useMessageLogStore.getState().page).toEqual(secondPage)
    await useMessageLogStore.getState().move('newer')
    expect(call).toHaveBeenLastCalledWith('messageLog', 'exchanges', { pageSize: 25, page: { newerThan: '1767261500000.5' }, queryId: 'LAB-q1' })
    await useMessageLogStore.getState().setPageSize(100)
    expect(call).toHaveBeenLastCalledWith('messageLog', 'exchanges', { pageSize: 100, page: { from: 'newest' }, queryId: 'LAB-q1' })
    await useMessageLogStore.getState().move('oldest')
    await useMessageLogStore.getState().reload()
    expect(call).toHaveBeenLastCalledWith('messageLog', 'exchanges', { pageSize: 100, page: { from: 'oldest' }, queryId: 'LAB-q1' })
  })

  it('keeps the chosen exchanges across pages and exports them as one ZIP, streamed where the transport can', async () => {
    const call = api()
    const download = vi.fn(async () => ({ fileName: 'evidence-x.zip', blob: new Blob(['PK']) }))
    setAdminClient({ ...fakeClient(call), downloadEvidenceZip: download })
    await useMessageLogStore.getState().search()
    useMessageLogStore.getState().toggleSelected('LAB-q2')
    await useMessageLogStore.getState().move('older')
    useMessageLogStore.getState().selectPage(true)
    expect(useMessageLogStore.getState().selection).toEqual(['LAB-q2', 'LAB-q0'])
    useMessageLogStore.getState().selectPage(false)
    useMessageLogStore.getState().toggleSelected('LAB-q0')
    await useMessageLogStore.getState().exportZip()
    expect(download).toHaveBeenCalledWith({ queryIds: ['LAB-q2', 'LAB-q0'] })
    expect(useMessageLogStore.getState().zipSaved).toEqual({ fileName: 'evidence-x.zip', exchanges: 2 })
    // Without a streaming transport (the desktop app), the same method answers base64.
    setAdminClient(fakeClient(api({ 'messageLog.exportZip': { fileName: 'evidence-LAB-q1.zip', mimeType: 'application/zip', content: 'UEs=', encoding: 'base64', queryIds: ['LAB-q1'], containers: 2, notFound: [] } })))
    await useMessageLogStore.getState().exportZip(['LAB-q1'])
    expect(useMessageLogStore.getState().zipSaved).toEqual({ fileName: 'evidence-LAB-q1.zip', exchanges: 1 })
    setAdminClient(fakeClient(api({ 'messageLog.exportZip': () => { throw new AdminError('forbidden', 'Your roles do not allow messageLog.exportZip') } })))
    await useMessageLogStore.getState().exportZip(['LAB-q1'])
    expect((useMessageLogStore.getState().zipError as AdminError).code).toBe('forbidden')
  })

  it('opens a record, asks for the body and verifies by query id', async () => {
    const call = api({ 'messageLog.record': (input: { includeBody?: boolean }) => (input.includeBody ? { ...details, bodyAccess: 'shown', body: { message: { encoding: 'utf8', content: 'GET /pets/7' }, attachments: [] } } : details) })
    setAdminClient(fakeClient(call))
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
  it('shows one row per exchange with its outcome, its records on opening, and the verdict in words with the code', async () => {
    setAdminClient(fakeClient(api()))
    useSessionStore.setState({ session: session(['observer']) })
    render(<MantineProvider><MessageLogPage /></MantineProvider>)
    await screen.findByText('LAB-q1')
    const table = screen.getByRole('table', { name: 'Logged exchanges' })
    expect(table.querySelectorAll('[data-testid="exchange-row"]')).toHaveLength(2)
    expect(screen.getByText('Success')).toBeTruthy()
    expect(screen.getByText('Failed')).toBeTruthy()
    expect(screen.getByText('server.serverproxy.service_failed.http_error')).toBeTruthy()
    expect(screen.getAllByText('2 exchanges on this page · older exchanges follow')).toHaveLength(2)
    expect(screen.getByLabelText('Query id')).toBeTruthy()
    expect(screen.getByLabelText('Direction')).toBeTruthy()
    expect(screen.getByText('The last time-stamp succeeded at 2026-01-01 10:01:00 UTC; every logged message is time-stamped.')).toBeTruthy()
    expect(screen.getByRole('button', { name: 'Retention settings' })).toBeTruthy()
    // An observer may not export evidence.
    expect((screen.getByRole('button', { name: 'Save evidence as ZIP' }) as HTMLButtonElement).disabled).toBe(true)
    fireEvent.click(screen.getByRole('button', { name: 'Show the records of LAB-q1' }))
    expect(await screen.findByRole('table', { name: 'Records of LAB-q1' })).toBeTruthy()
    expect(screen.getByRole('button', { name: 'Open response LAB-q1' })).toBeTruthy()
    fireEvent.click(screen.getByRole('button', { name: 'Open request LAB-q1' }))
    await screen.findByRole('button', { name: 'Verify evidence' })
    expect((screen.getByRole('button', { name: 'Export evidence' }) as HTMLButtonElement).disabled).toBe(true)
    expect(screen.getByText('The message body is visible only to security officers and system administrators.')).toBeTruthy()
    fireEvent.click(screen.getByRole('button', { name: 'Verify evidence' }))
    await screen.findByText('Request: Not valid')
    expect(screen.getByText('Not valid: the signature does not match the message. Do not rely on this evidence; give the code to support.')).toBeTruthy()
    await waitFor(() => expect(screen.getByText('server.signature_not_valid')).toBeTruthy())
  })

  it('pages older and chooses exchanges for a ZIP (security officer)', async () => {
    const call = api()
    const download = vi.fn(async () => ({ fileName: 'evidence-2.zip', blob: new Blob(['PK']) }))
    setAdminClient({ ...fakeClient(call), downloadEvidenceZip: download })
    useSessionStore.setState({ session: session(['security-officer']) })
    render(<MantineProvider><MessageLogPage /></MantineProvider>)
    await screen.findByText('LAB-q1')
    fireEvent.click(screen.getByRole('checkbox', { name: 'Choose every exchange on this page' }))
    expect(screen.getByTestId('zip-chosen').textContent).toBe('2 exchanges chosen')
    fireEvent.click(screen.getAllByRole('button', { name: 'Older' })[0] as HTMLElement)
    await screen.findByText('LAB-q0')
    expect(screen.getByText('Unknown')).toBeTruthy()
    expect(screen.getAllByText('1 exchange on this page · the oldest exchange is on this page')).toHaveLength(2)
    fireEvent.click(screen.getByRole('checkbox', { name: 'Choose exchange LAB-q0' }))
    fireEvent.click(screen.getByRole('button', { name: 'Save evidence as ZIP' }))
    await waitFor(() => expect(download).toHaveBeenCalledWith({ queryIds: ['LAB-q2', 'LAB-q1', 'LAB-q0'] }))
    expect((await screen.findByTestId('zip-saved')).textContent).toContain('evidence-2.zip with the evidence of 3 exchanges')
  })

  it('shows an intact evidence chain in words', async () => {
    setAdminClient(fakeClient(api()))
    useSessionStore.setState({ session: session(['observer']) })
    render(<MantineProvider><MessageLogPage /></MantineProvider>)
    expect((await screen.findByTestId('evidence-explanation')).textContent)
      .toBe('All 42 records are there and unchanged (chain positions 1–42); the last acknowledged is 42.')
    expect(screen.getByText('Last check of every record: 2026-01-01 10:05:00 UTC')).toBeTruthy()
    // An observer sees the status; checking and acknowledging are for the security officer and the system administrator.
    expect((screen.getByRole('button', { name: 'Check every record now' }) as HTMLButtonElement).disabled).toBe(true)
    expect(screen.queryByRole('button', { name: 'Acknowledge the loss…' })).toBeNull()
  })

  it('explains a loss that refuses traffic, and acknowledges it with a reason (security officer)', async () => {
    const reason = 'Disk failure on 3 March; database restored from the nightly backup'
    const acknowledged: EvidenceContinuity = {
      ...lost, state: 'acknowledged', light: 'green', refusing: false, missingRecords: 0,
      problems: lost.problems.map((p) => ({ ...p, acknowledged: true })),
      incidents: [{
        kind: 'missing', firstSeq: 120, lastSeq: 146, detail: '', detectedAt: '2026-01-01T10:05:00.000Z', acknowledgedAt: '2026-01-01T11:00:00.000Z',
        acknowledgedBy: 'officer', reason,
      }],
    }
    const acknowledge = vi.fn(() => acknowledged)
    const check = vi.fn(() => lost)
    setAdminClient(fakeClient(api({ 'messageLog.evidence': lost, 'messageLog.acknowledgeGap': acknowledge, 'messageLog.checkEvidence': check })))
    useSessionStore.setState({ session: session(['security-officer']) })
    render(<MantineProvider><MessageLogPage /></MantineProvider>)
    expect((await screen.findByTestId('evidence-explanation')).textContent).toContain('This server refuses new messages (X-Road error logging_failed)')
    const problems = screen.getByTestId('evidence-problems')
    expect(problems.textContent).toContain('27 acknowledged records are missing (chain positions 120–146).')
    expect(problems.textContent).toContain('Record 7 was changed: it no longer matches its chain hash.')
    fireEvent.click(screen.getByRole('button', { name: 'Check every record now' }))
    await waitFor(() => expect(check).toHaveBeenCalledWith({ scope: 'full' }))

    fireEvent.click(screen.getByRole('button', { name: 'Acknowledge the loss…' }))
    const confirm = await screen.findByRole('button', { name: 'Acknowledge' })
    expect((confirm as HTMLButtonElement).disabled).toBe(true)
    fireEvent.change(screen.getByLabelText('Reason'), { target: { value: reason } })
    expect((confirm as HTMLButtonElement).disabled).toBe(false)
    fireEvent.click(confirm)
    await waitFor(() => expect(acknowledge).toHaveBeenCalledWith({ reason }))
    await waitFor(() => expect(screen.getByTestId('evidence-explanation').textContent).toContain('which an administrator acknowledged'))
    expect(screen.getByTestId('evidence-incidents').textContent).toContain(`acknowledged by officer on 2026-01-01 11:00:00 UTC: “${reason}”`)
    expect(screen.queryByRole('button', { name: 'Acknowledge the loss…' })).toBeNull()
  })
})

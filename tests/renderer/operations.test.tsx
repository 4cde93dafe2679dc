// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from 'vitest'
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react'
import { MantineProvider } from '@mantine/core'
import type { AlertDto, FailedExchange, OperationsSummary, SystemStatus } from '@shared/admin-api/admin-api'
import type { SessionInfo } from '@shared/admin-api/session'
import type { ServerEvent } from '@shared/server-events'
import { AdminError, setAdminClient, sseSubscriptions, type AdminClient } from '../../src-renderer/lib/admin-client'
import { setLanguage } from '../../src-renderer/i18n'
import { useSessionStore } from '../../src-renderer/features/login/session-store'
import { useDashboardStore } from '../../src-renderer/features/dashboard/dashboard-store'
import { useMessageLogStore, initialMessageLog } from '../../src-renderer/features/message-log/message-log-store'
import { useRouterStore } from '../../src-renderer/app/router-store'
import { faultMeaning } from '../../src-renderer/features/operations/fault-texts'
import { alertAction, alertRoute, alertTitle } from '../../src-renderer/features/operations/alert-texts'
import { initialAlerts, useAlertsStore } from '../../src-renderer/features/operations/alerts-store'
import { followServerEvents } from '../../src-renderer/features/operations/follow-server-events'
import { initialOperations, rangeOf, useOperationsStore } from '../../src-renderer/features/operations/operations-store'
import { OperationsPage } from '../../src-renderer/features/operations/OperationsPage'
import { AlertBell } from '../../src-renderer/features/operations/AlertBell'

/**
 * The operations screen and the alerts in the GUI: fault codes and alerts in words, the stores following server events
 * (no polling), the shared event stream, the screen's drill-down to the message log, and the bell with acknowledgement.
 */
const NOW = '2026-05-01T12:00:00.000Z'

function alert(patch: Partial<AlertDto>): AlertDto {
  return { id: 'a', code: 'disk-filling', severity: 'warning', params: {}, message: 'English', raisedAt: NOW, clearedAt: null, acknowledgedAt: null, acknowledgedBy: null, ...patch }
}

const tokenAlert = alert({ id: 'token-logged-out:0', code: 'token-logged-out', severity: 'critical', params: { token: 'HSM 1', tokenId: '0', available: 1 } })
const certAlert = alert({
  id: 'certificate-expiring:c1:7', code: 'certificate-expiring', severity: 'critical', raisedAt: '2026-05-01T11:00:00.000Z',
  params: { certificate: 'c1', subject: 'CN=ss1', usage: 'auth', notAfter: '2026-05-07T00:00:00.000Z', daysLeft: 5, threshold: 7 },
})

const summary: OperationsSummary = {
  from: '2026-05-01T11:00:00.000Z', to: NOW, side: 'all', bucketSeconds: 60, totals: { succeeded: 40, failed: 2 },
  latency: { count: 42, p50Ms: 12, p90Ms: 30, p95Ms: 35, p99Ms: 80, maxMs: 90 },
  traffic: [{ start: '2026-05-01T11:00:00.000Z', succeeded: 40, failed: 2, p50Ms: 12, p95Ms: 35, p99Ms: 80 }],
  services: [{ id: 'SERVICE:LAB/GOV/2002/provider/pets', path: 'LAB/GOV/2002/provider/pets', succeeded: 40, failed: 2, latency: { count: 42, p50Ms: 12, p90Ms: 30, p95Ms: 35, p99Ms: 80, maxMs: 90 } }],
  clients: [{ id: 'SUBSYSTEM:LAB/GOV/1001/consumer', path: 'LAB/GOV/1001/consumer', succeeded: 40, failed: 2, latency: { count: 42, p50Ms: 12, p90Ms: 30, p95Ms: 35, p99Ms: 80, maxMs: 90 } }],
  faults: [{ faultCode: 'server.serverproxy.access_denied', count: 2, firstAt: NOW, lastAt: NOW, services: ['LAB/GOV/2002/provider/pets'] }],
  retentionDays: 7, oldestRecordAt: '2026-04-30T00:00:00.000Z',
}
const failure: FailedExchange = {
  at: NOW, side: 'client', client: 'SUBSYSTEM:LAB/GOV/1001/consumer', clientPath: 'LAB/GOV/1001/consumer', service: 'SERVICE:LAB/GOV/2002/provider/pets',
  servicePath: 'LAB/GOV/2002/provider/pets', messageId: 'LAB-denied-1', faultCode: 'server.serverproxy.access_denied', faultString: 'denied', statusCode: null, durationMs: 9,
}

function session(roles: SessionInfo['roles']): SessionInfo {
  return { authenticated: true, username: 'u', roles, csrfToken: 't', setupRequired: false, transport: 'browser' }
}

function fakeClient(call: (domain: string, method: string, ...args: unknown[]) => Promise<unknown>, subscribe?: AdminClient['subscribe']): AdminClient {
  const fail = async (): Promise<never> => {
    throw new AdminError('unsupported', 'not in this test')
  }
  return { transport: 'browser', session: fail, login: fail, setup: fail, logout: fail, call: call as AdminClient['call'], ...(subscribe === undefined ? {} : { subscribe }) }
}

afterEach(async () => {
  cleanup()
  setAdminClient(undefined)
  useAlertsStore.setState(initialAlerts)
  useOperationsStore.setState(initialOperations)
  useMessageLogStore.setState(initialMessageLog)
  useSessionStore.setState({ session: null })
  useDashboardStore.setState({ status: null })
  delete (window as { admin?: unknown }).admin
  await setLanguage('en')
})

describe('fault codes and alerts in words', () => {
  it('explains an X-Road fault code by its first known code, a more specific one added, CamelCase codes too', async () => {
    expect(faultMeaning('server.serverproxy.access_denied')).toMatch(/^The client has no access right/)
    expect(faultMeaning('server.serverproxy.service_failed.http_error')).toMatch(/^The service itself failed.* The service answered with an HTTP error/)
    expect(faultMeaning('Server.ServerProxy.AccessDenied')).toMatch(/^The client has no access right/)
    expect(faultMeaning('server.clientproxy.something_new')).toMatch(/^X-Road has no plain description/)
    // A sender without a usable signing key, on the REST and SOAP client proxies alike, and a token failure while signing.
    expect(faultMeaning('server.clientproxy.cannot_create_signature')).toMatch(/^The sender's message could not be signed: no usable signing key/)
    expect(faultMeaning('server.clientproxy.cannot_create_signature.token_not_active')).toMatch(/could not be signed.* The token holding the signing key is logged out/)
    expect(faultMeaning('')).toMatch(/^The failure carried no error code/)
    await setLanguage('es')
    expect(faultMeaning('server.serverproxy.access_denied')).toMatch(/^El cliente no tiene derecho de acceso/)
  })

  it('words each alert with what to do, in the language shown, and sends it where it is fixed', async () => {
    expect(alertTitle(certAlert)).toBe('Certificate expires in 5 days')
    expect(alertAction(certAlert)).toMatch(/^The authentication certificate CN=ss1 expires on .*2026.* Generate a new key and CSR/)
    expect(alertRoute(certAlert)).toBe('keys')
    const stopping = alert({ code: 'timestamping-failing', params: { error: 'TSA down', trafficStopsAt: '2026-05-01T16:00:00.000Z' } })
    expect(alertAction(stopping, new Date(NOW))).toMatch(/\(TSA down\)\. Traffic stops on .* \(4 hours from now\)/)
    expect(alertAction(alert({ code: 'timestamping-failing', params: { error: 'x', trafficStopsAt: '' } }))).toMatch(/Traffic does not stop/)
    const red = alert({ code: 'readiness-red', params: { area: 'configuration', check: 'global-conf-expired', expiresAt: NOW } })
    expect(alertTitle(red)).toBe('Messages cannot flow: Global configuration')
    expect(alertAction(red)).toMatch(/expired/)
    expect(alertRoute(red)).toBe('global-conf')
    // An area this GUI does not know yet (a readiness check added later) still reads, with the server's words.
    const later = alert({ code: 'readiness-red', params: { area: 'quorum', check: 'quorum-lost' }, message: 'Messages cannot flow (quorum): no quorum' })
    expect(alertTitle(later)).toBe('Messages cannot flow: another area')
    expect(alertAction(later)).toBe('Messages cannot flow (quorum): no quorum')
    const evidence = alert({ code: 'readiness-red', params: { area: 'evidence', check: 'evidence-gap' }, message: 'Messages cannot flow (evidence): records lack evidence' })
    expect(alertTitle(evidence)).toBe('Messages cannot flow: Evidence continuity')
    expect(alertAction(evidence)).not.toBe('Messages cannot flow (evidence): records lack evidence')
    expect(alertAction(alert({ code: 'disk-filling', params: { days: 3, freeBytes: 2_500_000_000, threshold: 14 } }))).toMatch(/about 3 days \(2\.5 GB free/)
    await setLanguage('pt-BR')
    expect(alertTitle(tokenAlert)).toBe('Token desconectado quando se espera tráfego')
    expect(alertAction(tokenAlert)).toMatch(/^O token HSM 1 guarda chaves em uso/)
  })
})

describe('alerts follow the server\'s events', () => {
  it('adds a raised alert (and asks the desktop for a notification), updates an acknowledged one, moves a cleared one', () => {
    const notify = vi.fn(async () => ({ ok: true as const, value: null }))
    ;(window as { admin?: unknown }).admin = { notify }
    const store = useAlertsStore.getState()
    store.apply({ change: 'raised', alert: certAlert, at: NOW })
    store.apply({ change: 'raised', alert: alert({ id: 'disk', severity: 'warning' }), at: NOW })
    store.apply({ change: 'raised', alert: tokenAlert, at: NOW })
    expect(useAlertsStore.getState().active.map((a) => a.id)).toEqual(['token-logged-out:0', 'certificate-expiring:c1:7', 'disk'])
    expect(notify).toHaveBeenCalledWith({ title: 'Token logged out while traffic is expected', body: expect.stringMatching(/^Token HSM 1 holds keys in use/) })
    store.apply({ change: 'acknowledged', alert: { ...tokenAlert, acknowledgedAt: NOW, acknowledgedBy: 'alice' }, at: NOW })
    expect(useAlertsStore.getState().active[0]?.acknowledgedBy).toBe('alice')
    store.apply({ change: 'cleared', alert: { ...certAlert, clearedAt: NOW }, at: NOW })
    expect(useAlertsStore.getState().active.map((a) => a.id)).toEqual(['token-logged-out:0', 'disk'])
    expect(useAlertsStore.getState().resolved.map((a) => a.id)).toEqual(['certificate-expiring:c1:7'])
    expect(notify).toHaveBeenCalledTimes(3)
  })

  it('refreshes the dashboard once for a burst of status events, and applies alert events, without polling', async () => {
    let emit: (event: ServerEvent) => void = () => undefined
    const unsubscribe = vi.fn()
    const call = vi.fn(async (domain: string, method: string) => {
      if (`${domain}.${method}` === 'alerts.list') return [tokenAlert]
      if (`${domain}.${method}` === 'system.status') return { state: 'running' } as SystemStatus
      throw new AdminError('not_found', `${domain}.${method}`)
    })
    setAdminClient(fakeClient(call, (listener) => {
      emit = listener
      return unsubscribe
    }))
    useDashboardStore.setState({ status: { state: 'running' } as SystemStatus })
    const stop = followServerEvents()
    await waitFor(() => expect(useAlertsStore.getState().active).toEqual([tokenAlert]))
    for (let i = 0; i < 5; i++) emit({ name: 'status-changed', payload: { ready: false, at: NOW } })
    emit({ name: 'configuration-changed', payload: { event: 'clients.add', at: NOW } })
    emit({ name: 'alert', payload: { change: 'cleared', alert: { ...tokenAlert, clearedAt: NOW }, at: NOW } })
    expect(useAlertsStore.getState().active).toEqual([])
    await waitFor(() => expect(call.mock.calls.filter(([d, m]) => d === 'system' && m === 'status')).toHaveLength(1))
    await new Promise((r) => setTimeout(r, 400))
    expect(call.mock.calls.filter(([d, m]) => d === 'system' && m === 'status')).toHaveLength(1)
    stop()
    expect(unsubscribe).toHaveBeenCalled()
  })

  it('shares one EventSource among subscribers, opens it with the first and closes it with the last', () => {
    const handlers = new Map<string, (message: { data: string }) => void>()
    const close = vi.fn()
    const open = vi.fn((_url: string) => ({
      addEventListener: (name: string, fn: (message: { data: string }) => void) => handlers.set(name, fn),
      close,
    }))
    const subscribe = sseSubscriptions(open as never, '/api/events')
    const a: ServerEvent[] = []
    const b: ServerEvent[] = []
    const offA = subscribe((e) => a.push(e))
    const offB = subscribe((e) => b.push(e))
    expect(open).toHaveBeenCalledTimes(1)
    expect(open).toHaveBeenCalledWith('/api/events')
    handlers.get('configuration-changed')?.({ data: JSON.stringify({ event: 'users.add', at: NOW }) })
    handlers.get('alert')?.({ data: 'not json' })
    expect(a).toEqual([{ name: 'configuration-changed', payload: { event: 'users.add', at: NOW } }])
    expect(b).toEqual(a)
    offA()
    expect(close).not.toHaveBeenCalled()
    offB()
    expect(close).toHaveBeenCalledTimes(1)
    subscribe(() => undefined)
    expect(open).toHaveBeenCalledTimes(2)
  })
})

describe('operations screen', () => {
  it('computes preset ranges ending at a whole minute and custom ranges, refusing one that ends before it starts', () => {
    const now = Date.parse(NOW)
    expect(rangeOf({ preset: '1h', customFrom: '', customTo: '' }, now)).toEqual({ from: '2026-05-01T11:00:00.000Z', to: NOW })
    // A preset ends at the next whole minute (the server's roll-ups answer whole minutes).
    expect(rangeOf({ preset: '24h', customFrom: '', customTo: '' }, now + 1)).toEqual({ from: '2026-04-30T12:01:00.000Z', to: '2026-05-01T12:01:00.000Z' })
    expect(rangeOf({ preset: 'custom', customFrom: '2026-05-02T10:00', customTo: '2026-05-01T10:00' }, now)).toBe('reversed')
  })

  it('shows totals, failures by code with their meaning, and opens a failure in the message log', async () => {
    const call = vi.fn(async (domain: string, method: string, ...args: unknown[]) => {
      const key = `${domain}.${method}`
      if (key === 'operations.summary') return summary
      if (key === 'operations.failures') return [failure]
      if (key === 'alerts.list') return []
      if (key === 'alerts.settings') throw new AdminError('forbidden', 'no')
      throw new AdminError('not_found', `${key} ${JSON.stringify(args)}`)
    })
    setAdminClient(fakeClient(call))
    useSessionStore.setState({ session: session(['observer']) })
    useAlertsStore.setState({ loaded: true })
    render(<MantineProvider><OperationsPage /></MantineProvider>)
    await waitFor(() => expect(screen.getByTestId('total-exchanges').textContent).toBe('42'))
    expect(screen.getByTestId('total-failed').textContent).toBe('2')
    expect(screen.getByTestId('total-p95').textContent).toBe('35 ms')
    const row = screen.getByTestId('fault-row')
    expect(within(row).getByText(/The client has no access right to this service/)).toBeTruthy()
    expect(call.mock.calls[0]?.[2]).toMatchObject({ side: 'all' })
    fireEvent.click(within(row).getByRole('button', { name: 'Show failures' }))
    const failed = await screen.findByTestId('failure-row')
    expect(call).toHaveBeenCalledWith('operations', 'failures', expect.objectContaining({ faultCode: 'server.serverproxy.access_denied', from: summary.from, to: summary.to, limit: 100 }))
    fireEvent.click(within(failed).getByRole('button', { name: 'Open in message log' }))
    expect(useMessageLogStore.getState().filter.queryId).toBe('LAB-denied-1')
    expect(useRouterStore.getState().route).toBe('message-log')
    // The observer reads where alerts go but cannot change it; here the server refused even reading.
    expect(screen.getByText('Only a system administrator changes where alerts go.')).toBeTruthy()
  })
})

describe('alert bell', () => {
  it('counts unacknowledged alerts, lists them with what to do, and acknowledges one', async () => {
    const call = vi.fn(async (domain: string, method: string, ...args: unknown[]) => {
      const key = `${domain}.${method}`
      if (key === 'alerts.list') return [tokenAlert, certAlert]
      if (key === 'alerts.acknowledge') return { ...tokenAlert, acknowledgedAt: NOW, acknowledgedBy: 'u' }
      throw new AdminError('not_found', `${key} ${JSON.stringify(args)}`)
    })
    setAdminClient(fakeClient(call))
    useSessionStore.setState({ session: session(['security-officer']) })
    await useAlertsStore.getState().load()
    render(<MantineProvider><AlertBell /></MantineProvider>)
    const bell = screen.getByTestId('alert-bell')
    expect(bell.getAttribute('aria-label')).toBe('Alerts: 2 need attention')
    fireEvent.click(bell)
    const items = await screen.findAllByTestId('alert-item')
    expect(items.map((i) => i.getAttribute('data-code'))).toEqual(['token-logged-out', 'certificate-expiring'])
    expect(within(items[0] as HTMLElement).getByText(/Log in with its PIN on the Keys and certificates page/)).toBeTruthy()
    fireEvent.click(within(items[0] as HTMLElement).getByRole('button', { name: 'Acknowledge', hidden: true }))
    await waitFor(() => expect(bell.getAttribute('aria-label')).toBe('Alerts: 1 needs attention'))
    expect(call).toHaveBeenCalledWith('alerts', 'acknowledge', { id: 'token-logged-out:0' })
    expect(within(items[0] as HTMLElement).getByText(/Seen by u/)).toBeTruthy()
  })

  it('offers no acknowledgement to the observer', async () => {
    setAdminClient(fakeClient(async () => [certAlert]))
    useSessionStore.setState({ session: session(['observer']) })
    await useAlertsStore.getState().load()
    render(<MantineProvider><AlertBell /></MantineProvider>)
    fireEvent.click(screen.getByTestId('alert-bell'))
    const item = await screen.findByTestId('alert-item')
    expect(within(item).queryByRole('button', { name: 'Acknowledge', hidden: true })).toBeNull()
    expect(within(item).getByRole('button', { name: 'Go there', hidden: true })).toBeTruthy()
  })
})

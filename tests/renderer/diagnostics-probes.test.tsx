// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from 'vitest'
import { cleanup, fireEvent, render, screen, within } from '@testing-library/react'
import { MantineProvider } from '@mantine/core'
import type { HealthCheckStatus, ProbeReport, ProbeResult } from '@shared/admin-api/admin-api'
import type { SessionInfo } from '@shared/admin-api/session'
import { AdminError, setAdminClient, type AdminClient } from '../../src-renderer/lib/admin-client'
import { setLanguage } from '../../src-renderer/i18n'
import { DiagnosticsPage } from '../../src-renderer/features/diagnostics/DiagnosticsPage'
import { useDiagnosticsStore } from '../../src-renderer/features/diagnostics/diagnostics-store'
import { useSessionStore } from '../../src-renderer/features/login/session-store'

/**
 * The Diagnostics page's probes, test call and health check: results worded from their codes in the reader's
 * language with each step's time, the test call sent with the chosen client, provider and metaservice, and the
 * maintenance switch offered to system administrators only.
 */
const result = (over: Partial<ProbeResult> & Pick<ProbeResult, 'kind' | 'code'>): ProbeResult => ({
  target: '', address: '', light: 'green', params: {}, explanation: `English explanation of ${over.code}`, steps: [], totalMs: 12.3, ...over,
})

const REPORT: ProbeReport = {
  startedAt: '2026-03-01T12:00:00.000Z',
  finishedAt: '2026-03-01T12:00:01.000Z',
  probes: [
    result({
      kind: 'tsa', code: 'tsa-unreachable', light: 'red', target: 'Lab TSA', address: 'http://127.0.0.1:9',
      params: { name: 'Lab TSA', url: 'http://127.0.0.1:9', inUse: true, error: 'connection refused (127.0.0.1:9)', stage: 'connect', network: 'refused' },
      steps: [{ name: 'connect', ms: 1.25, ok: false }], totalMs: 1.4,
    }),
    result({
      kind: 'ocsp', code: 'ocsp-good', target: 'http://127.0.0.1:8', address: 'http://127.0.0.1:8',
      params: { url: 'http://127.0.0.1:8', ca: 'Lab CA', certificate: 'C=LAB, CN=ss1', status: 'good' },
      steps: [{ name: 'connect', ms: 2, ok: true }, { name: 'answer', ms: 30, ok: true }, { name: 'verify', ms: 40, ok: true }], totalMs: 72.5,
    }),
    result({
      kind: 'listener', code: 'listener-auth-cert', target: 'serverProxy', address: '127.0.0.1:5500',
      params: { listener: 'serverProxy', address: '127.0.0.1:5500', subject: 'C=LAB, CN=ss1', protocol: 'TLSv1.2' },
      steps: [{ name: 'connect', ms: 1, ok: true }, { name: 'tls', ms: 9, ok: true }], totalMs: 10,
    }),
    result({ kind: 'listener', code: 'listener-ok-someday' as ProbeResult['code'], target: 'admin', address: '127.0.0.1:4000' }),
  ],
}

const PEER: ProbeResult = result({
  kind: 'peer', code: 'peer-ok', target: 'LAB/GOV/2002/provider', address: '127.0.0.1:5500',
  params: { provider: 'LAB/GOV/2002/provider', client: 'LAB/GOV/1001/consumer', method: 'allowedMethods', services: 3 },
  steps: [{ name: 'route', ms: 0.1, ok: true }, { name: 'sign', ms: 20, ok: true }, { name: 'peer', ms: 60, ok: true }, { name: 'verify', ms: 8, ok: true }], totalMs: 95,
})

const HEALTH: HealthCheckStatus = {
  enabled: true, address: '0.0.0.0:5588', url: 'http://0.0.0.0:5588/', maintenanceMode: false, httpStatus: 500,
  message: 'No authentication key available. Signer might be down.',
  checks: [
    { name: 'global-conf', ok: true, message: 'ok', checkedAt: '2026-03-01T12:00:00.000Z' },
    { name: 'auth-key-ocsp', ok: false, message: 'No authentication key available. Signer might be down.', checkedAt: '2026-03-01T12:00:00.000Z' },
  ],
}

function client(): { client: AdminClient; call: ReturnType<typeof vi.fn> } {
  const fail = async (): Promise<never> => {
    throw new AdminError('unsupported', 'not in this test')
  }
  const call = vi.fn(async (domain: string, method: string, input?: { kinds?: string[] }): Promise<unknown> => {
    switch (`${domain}.${method}`) {
      case 'diagnostics.run': return { checkedAt: REPORT.startedAt, checks: [], tokens: [], certificates: [], traffic: { bucketSeconds: 120, points: [], succeeded: 0, failed: 0 } }
      case 'diagnostics.probe': return input?.kinds?.includes('peer') === true ? { ...REPORT, probes: [PEER] } : REPORT
      case 'diagnostics.probeTargets': return { clients: ['LAB/GOV/1001', 'LAB/GOV/1001/consumer'], providers: [{ id: 'LAB/GOV/1001/consumer', name: 'Consumer' }, { id: 'LAB/GOV/2002/provider', name: 'Provider Agency' }], methods: ['listMethods', 'allowedMethods'] }
      case 'diagnostics.health': return HEALTH
      default: throw new AdminError('not_found', `unexpected ${domain}.${method}`)
    }
  })
  return { client: { transport: 'browser', session: fail, login: fail, setup: fail, logout: fail, call: call as AdminClient['call'] }, call }
}

const session = (roles: SessionInfo['roles']): SessionInfo => ({ authenticated: true, username: 'u', roles, csrfToken: 't', setupRequired: false, transport: 'browser' })
const page = () => render(<MantineProvider><DiagnosticsPage /></MantineProvider>)

afterEach(async () => {
  cleanup()
  setAdminClient(undefined)
  useDiagnosticsStore.setState({ result: null, probes: null, peer: null, targets: null, health: null, probeError: null, peerError: null, healthError: null })
  useSessionStore.setState({ session: null })
  await setLanguage('en')
})

describe('diagnostics probes on the page', () => {
  it('words each probe in Portuguese with its steps and times; an unknown code keeps the server English', async () => {
    await setLanguage('pt-BR')
    setAdminClient(client().client)
    useSessionStore.setState({ session: session(['observer']) })
    page()
    const probes = await screen.findByTestId('probes')
    fireEvent.click(within(probes).getByRole('button', { name: 'Executar as sondagens' }))
    await within(probes).findByText('Não pode ser contatado: conexão recusada. Verifique o caminho de rede deste servidor até este endereço.')
    expect(within(probes).getByText('Confirmou que o certificado C=LAB, CN=ss1 está bom.')).toBeTruthy()
    expect(within(probes).getByText('Apresenta o certificado de autenticação deste servidor C=LAB, CN=ss1 (TLSv1.2).')).toBeTruthy()
    expect(within(probes).getByText('English explanation of listener-ok-someday')).toBeTruthy()
    // Names: a TSA by its name, a responder by its CA with the URL under it, a listener by what it is.
    expect(within(probes).getByText('Lab TSA')).toBeTruthy()
    expect(within(probes).getByText('Lab CA')).toBeTruthy()
    expect(within(probes).getByText('http://127.0.0.1:8')).toBeTruthy()
    expect(within(probes).getByText('Proxy de servidor (TLS mútuo)')).toBeTruthy()
    expect(within(probes).getByRole('img', { name: 'conexão 1,3 ms (falhou); total 1,4 ms' })).toBeTruthy()
    expect(within(probes).getByRole('img', { name: 'conexão 2,0 ms, resposta 30 ms, verificação 40 ms; total 73 ms' })).toBeTruthy()
  })

  it('sends the test call with the chosen client, provider and metaservice', async () => {
    const fake = client()
    setAdminClient(fake.client)
    useSessionStore.setState({ session: session(['observer']) })
    page()
    const card = await screen.findByTestId('peer-test')
    // A subsystem of this server calls a provider that is not one of its own clients, by default.
    const value = (label: string): string => (within(card).getByRole('combobox', { name: label }) as HTMLInputElement).value
    await vi.waitFor(() => expect(value('As client')).toBe('LAB/GOV/1001/consumer'))
    expect(value('To provider')).toBe('LAB/GOV/2002/provider (Provider Agency)')
    fireEvent.click(within(card).getByText('allowedMethods'))
    fireEvent.click(within(card).getByRole('button', { name: 'Send test call' }))
    await within(card).findByText('Answered allowedMethods through this server\'s client proxy: 3 services listed.')
    expect(fake.call).toHaveBeenCalledWith('diagnostics', 'probe', {
      kinds: ['peer'], peer: { client: 'LAB/GOV/1001/consumer', provider: 'LAB/GOV/2002/provider', method: 'allowedMethods' },
    })
  })

  it('shows what the load balancer reads, and offers maintenance mode to system administrators only', async () => {
    setAdminClient(client().client)
    useSessionStore.setState({ session: session(['observer']) })
    page()
    const card = await screen.findByTestId('health-check')
    await within(card).findByText('500: not healthy')
    expect(within(card).getAllByText('No authentication key available. Signer might be down.').length).toBeGreaterThan(0)
    expect(within(card).getByText('Authentication key available, OCSP good')).toBeTruthy()
    expect((within(card).getByLabelText(/^Maintenance mode/) as HTMLInputElement).disabled).toBe(true)
    expect(within(card).getByText('Only a system administrator can switch maintenance mode.')).toBeTruthy()
    cleanup()
    useSessionStore.setState({ session: session(['system-administrator']) })
    page()
    const again = await screen.findByTestId('health-check')
    await within(again).findByText('500: not healthy')
    expect((within(again).getByLabelText(/^Maintenance mode/) as HTMLInputElement).disabled).toBe(false)
  })
})

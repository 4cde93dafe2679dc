// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from 'vitest'
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react'
import { MantineProvider } from '@mantine/core'
import type { SessionInfo } from '@shared/admin-api/session'
import type { SystemStatus } from '@shared/admin-api/admin-api'
import { AdminError, httpClient, setAdminClient, type AdminClient } from '../../src-renderer/lib/admin-client'
import { describeError } from '../../src-renderer/lib/error-messages'
import { LoginPage } from '../../src-renderer/features/login/LoginPage'
import { useSessionStore } from '../../src-renderer/features/login/session-store'
import { statusLights } from '../../src-renderer/features/dashboard/dashboard-store'
import { toQuery } from '../../src-renderer/features/audit-log/audit-log-store'

const signedIn: SessionInfo = { authenticated: true, username: 'admin', roles: ['system-administrator'], csrfToken: 't', setupRequired: false, transport: 'browser' }

function fakeClient(overrides: Partial<AdminClient>): AdminClient {
  const fail = async (): Promise<never> => {
    throw new AdminError('unsupported', 'not in this test')
  }
  return { transport: 'browser', session: fail, login: fail, setup: fail, logout: fail, call: fail as AdminClient['call'], ...overrides }
}

afterEach(() => {
  cleanup()
  setAdminClient(undefined)
  useSessionStore.setState({ session: null, error: null, busy: false })
})

describe('first-run and sign-in form', () => {
  it('does not submit a short or mismatched password on first run', async () => {
    const setup = vi.fn(async () => signedIn)
    setAdminClient(fakeClient({ setup }))
    render(<MantineProvider><LoginPage setup /></MantineProvider>)
    fireEvent.change(screen.getByLabelText(/^User name/), { target: { value: 'admin' } })
    fireEvent.change(screen.getByLabelText(/^Password/), { target: { value: 'short' } })
    expect(await screen.findByText('Use at least 12 characters')).toBeTruthy()
    fireEvent.change(screen.getByLabelText(/^Password/), { target: { value: 'long enough passphrase' } })
    fireEvent.change(screen.getByLabelText(/^Repeat password/), { target: { value: 'different passphrase' } })
    fireEvent.click(screen.getByRole('button', { name: 'Create administrator and sign in' }))
    expect(screen.getByText('The passwords differ')).toBeTruthy()
    expect(setup).not.toHaveBeenCalled()
    fireEvent.change(screen.getByLabelText(/^Repeat password/), { target: { value: 'long enough passphrase' } })
    fireEvent.click(screen.getByRole('button', { name: 'Create administrator and sign in' }))
    await waitFor(() => expect(setup).toHaveBeenCalledWith('admin', 'long enough passphrase'))
    expect(useSessionStore.getState().session).toEqual(signedIn)
  })

  it('shows a failed sign-in in words, with the code for support', async () => {
    setAdminClient(fakeClient({ login: async () => Promise.reject(new AdminError('unauthorized', 'Wrong user name or password')) }))
    render(<MantineProvider><LoginPage setup={false} /></MantineProvider>)
    fireEvent.change(screen.getByLabelText(/^User name/), { target: { value: 'admin' } })
    fireEvent.change(screen.getByLabelText(/^Password/), { target: { value: 'nope' } })
    fireEvent.click(screen.getByRole('button', { name: 'Sign in' }))
    const alert = await screen.findByRole('alert')
    expect(alert.textContent).toContain('Wrong user name or password')
    expect(alert.textContent).toContain('unauthorized')
    expect(useSessionStore.getState().session).toBeNull()
  })
})

describe('admin client over HTTP', () => {
  it('sends the CSRF token after login and unwraps errors into AdminError', async () => {
    const calls: Array<{ url: string; init: RequestInit }> = []
    const responses = [{ ok: true, value: signedIn }, { ok: false, error: { code: 'forbidden', message: 'no' } }]
    const fetchFn = (async (url: string, init: RequestInit) => {
      calls.push({ url, init })
      return new Response(JSON.stringify(responses.shift()), { status: 200 })
    }) as unknown as typeof fetch
    const client = httpClient(fetchFn)
    await client.login('admin', 'pw')
    await expect(client.call('system', 'backup', { passphrase: 'long enough passphrase' })).rejects.toMatchObject({ name: 'AdminError', code: 'forbidden' })
    expect(calls[1]?.url).toBe('/api/system/backup')
    expect((calls[1]?.init.headers as Record<string, string>)['x-csrf-token']).toBe('t')
  })
})

describe('stores and messages', () => {
  it('turns the status into lights with explanations', () => {
    const status: SystemStatus = {
      version: '0.1.0', state: 'running', startedAt: new Date().toISOString(), initialized: false, dataDir: '/d', listeners: [],
      expectedListeners: [], readiness: { ready: false, checks: [] }, restart: { supported: false, required: false, reasons: [] },
      databases: [
        { name: 'serverconf', path: '', journalMode: 'wal', synchronous: 'NORMAL', schema: [] },
        { name: 'messagelog', path: '', journalMode: 'wal', synchronous: 'NORMAL', schema: [] },
      ],
    }
    const lights = Object.fromEntries(statusLights(status).map((l) => [l.key, l.light]))
    expect(lights).toEqual({ service: 'green', identity: 'yellow', storage: 'red' })
  })

  it('builds audit queries with zoned times and explains unknown codes', () => {
    const q = toQuery({ from: '2026-01-02T03:04', to: '', actor: ' admin ', event: '', object: '', outcome: 'failure' })
    expect(q).toMatchObject({ actor: 'admin', outcome: 'failure', limit: 200 })
    expect(q.from).toMatch(/Z$/)
    expect(describeError(new AdminError('server.clientproxy.rate_limited', 'x')).text).toContain('Too many')
    expect(describeError(new AdminError('weird_code', 'x')).code).toBe('weird_code')
  })
})

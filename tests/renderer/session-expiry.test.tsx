// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from 'vitest'
import { cleanup, render, screen, waitFor } from '@testing-library/react'
import { MantineProvider } from '@mantine/core'
import type { SessionInfo } from '@shared/admin-api/session'
import { App } from '../../src-renderer/app/App'
import { AdminError, adminClient, httpClient, setAdminClient, type AdminClient } from '../../src-renderer/lib/admin-client'
import { LoginPage } from '../../src-renderer/features/login/LoginPage'
import { useSessionStore } from '../../src-renderer/features/login/session-store'

/**
 * Several servers on one machine, in the GUI: the login page names the server it signs in to, and a session that
 * ends while the GUI is open (idle timeout, signed out on the server) brings back the login page with a notice,
 * not a refusal on every card. A refusal while the session is still valid stays where it happened.
 */
const server = { serverId: 'LAB/GOV/1001/ss1', address: '127.0.0.1:4443', version: '0.1.0' }
const signedIn: SessionInfo = { authenticated: true, username: 'admin', roles: ['system-administrator'], csrfToken: 't', setupRequired: false, transport: 'browser', server }
const signedOut: SessionInfo = { authenticated: false, username: null, roles: [], csrfToken: null, setupRequired: false, transport: 'browser', server }

function fakeClient(overrides: Partial<AdminClient>): AdminClient {
  const fail = async (): Promise<never> => {
    throw new AdminError('unsupported', 'not in this test')
  }
  return { transport: 'browser', session: fail, login: fail, setup: fail, logout: fail, call: fail as AdminClient['call'], ...overrides }
}

afterEach(() => {
  cleanup()
  setAdminClient(undefined)
  useSessionStore.setState({ session: null, error: null, busy: false, loading: true, expired: false })
})

describe('login page', () => {
  it('names the server: its id, address and version, or that it is not initialized', () => {
    useSessionStore.setState({ session: signedOut })
    render(<MantineProvider><LoginPage setup={false} /></MantineProvider>)
    expect(screen.getByTestId('login-server-id').textContent).toBe('LAB/GOV/1001/ss1')
    expect(screen.getByText('127.0.0.1:4443')).toBeTruthy()
    expect(screen.getByText('0.1.0')).toBeTruthy()
    expect(screen.queryByTestId('session-expired')).toBeNull()
    cleanup()
    useSessionStore.setState({ session: { ...signedOut, setupRequired: true, server: { ...server, serverId: null } } })
    render(<MantineProvider><LoginPage setup /></MantineProvider>)
    expect(screen.getByTestId('login-server-id').textContent).toBe('Not initialized')
  })
})

describe('an expired session', () => {
  it('goes back to the login page with a notice when the calls of a signed-in GUI are refused as unauthorized', async () => {
    let ended = false
    const session = vi.fn(async () => (ended ? signedOut : signedIn))
    const call = vi.fn(async () => {
      if (ended) throw new AdminError('unauthorized', 'Sign in or give an API key')
      throw new AdminError('unsupported', 'not in this test')
    })
    setAdminClient(fakeClient({ session, call: call as unknown as AdminClient['call'] }))
    render(<MantineProvider><App /></MantineProvider>)
    await screen.findByRole('heading', { name: 'Dashboard' })
    // The server ends the session (idle timeout); the dashboard's next refresh is refused.
    ended = true
    await adminClient().call('system', 'status').catch(() => undefined)
    const notice = await screen.findByTestId('session-expired')
    expect(notice.textContent).toContain('Your session expired')
    expect(screen.getByRole('button', { name: 'Sign in' })).toBeTruthy()
    expect(screen.getByTestId('login-server-id').textContent).toBe('LAB/GOV/1001/ss1')
    expect(screen.queryByRole('heading', { name: 'Dashboard' })).toBeNull()
    expect(useSessionStore.getState()).toMatchObject({ expired: true, session: signedOut })
  })

  it('clears the notice on the next sign-in', async () => {
    setAdminClient(fakeClient({ login: async () => signedIn }))
    useSessionStore.setState({ session: signedOut, expired: true, loading: false })
    expect(await useSessionStore.getState().login('admin', 'pw')).toBe(true)
    expect(useSessionStore.getState()).toMatchObject({ expired: false, session: signedIn })
  })

  it('stays signed in when a refusal was not about the session', async () => {
    const session = vi.fn(async () => signedIn)
    setAdminClient(fakeClient({ session, call: (async () => { throw new AdminError('unauthorized', 'The current password is wrong') }) as unknown as AdminClient['call'] }))
    useSessionStore.setState({ session: signedIn, loading: false })
    await expect(adminClient().call('system', 'status')).rejects.toMatchObject({ code: 'unauthorized' })
    await waitFor(() => expect(session).toHaveBeenCalled())
    await useSessionStore.getState().checkExpired()
    expect(useSessionStore.getState()).toMatchObject({ expired: false, session: signedIn })
  })

  it('does not treat a wrong password at sign-in as an expired session', async () => {
    const session = vi.fn(async () => signedOut)
    setAdminClient(fakeClient({ session, login: async () => Promise.reject(new AdminError('unauthorized', 'Wrong user name or password')) }))
    useSessionStore.setState({ session: signedOut, loading: false })
    expect(await useSessionStore.getState().login('admin', 'nope')).toBe(false)
    expect(session).not.toHaveBeenCalled()
    expect(useSessionStore.getState().expired).toBe(false)
  })
})

describe('evidence ZIP over HTTPS', () => {
  it('downloads the streamed ZIP with its file name, and turns a JSON refusal into an AdminError', async () => {
    const sent: RequestInit[] = []
    const replies = [
      new Response(new Uint8Array([0x50, 0x4b, 3, 4]), { status: 200, headers: { 'content-type': 'application/zip', 'content-disposition': 'attachment; filename="evidence-LAB-1.zip"' } }),
      new Response(JSON.stringify({ ok: false, error: { code: 'forbidden', message: 'Your roles do not allow messageLog.exportZip' } }), { status: 403, headers: { 'content-type': 'application/json' } }),
    ]
    const client = httpClient((async (_url: string, init: RequestInit) => {
      sent.push(init)
      return replies.shift() as Response
    }) as unknown as typeof fetch)
    const file = await client.downloadEvidenceZip?.({ queryIds: ['LAB-1'] })
    expect(file?.fileName).toBe('evidence-LAB-1.zip')
    expect(new Uint8Array(await (file?.blob as Blob).arrayBuffer()).slice(0, 2)).toEqual(new Uint8Array([0x50, 0x4b]))
    expect((sent[0]?.headers as Record<string, string>).accept).toBe('application/zip')
    expect(sent[0]?.body).toBe(JSON.stringify([{ queryIds: ['LAB-1'] }]))
    await expect(client.downloadEvidenceZip?.({ queryIds: ['LAB-1'] })).rejects.toMatchObject({ name: 'AdminError', code: 'forbidden' })
  })
})

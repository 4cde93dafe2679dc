// @vitest-environment happy-dom
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react'
import { MantineProvider } from '@mantine/core'
import type {
  AdminUser, ApiKeyInfo, CertificateDto, GlobalConfStatus, InitializationStatus, KeyDto, TimestampingServicesDto, TokenDto,
} from '@shared/admin-api/admin-api'
import type { SessionInfo } from '@shared/admin-api/session'
import { AdminError, setAdminClient, type AdminClient } from '../../src-renderer/lib/admin-client'
import { setLanguage } from '../../src-renderer/i18n'
import { useSessionStore } from '../../src-renderer/features/login/session-store'
import { UsersPage } from '../../src-renderer/features/users/UsersPage'
import { newPasswordProblem, useUsersStore } from '../../src-renderer/features/users/users-store'
import { GlobalConfPage } from '../../src-renderer/features/global-conf/GlobalConfPage'
import { anchorInstanceOf, freshnessText, useGlobalConfStore } from '../../src-renderer/features/global-conf/global-conf-store'
import { KeysPage } from '../../src-renderer/features/keys/KeysPage'
import { useKeysStore } from '../../src-renderer/features/keys/keys-store'

/** The users, global-configuration and keys screens' own tasks with a fake admin client: what is sent, what is shown. */
type Call = (domain: string, method: string, ...args: unknown[]) => Promise<unknown>

function fakeClient(call: Call): AdminClient {
  const fail = async (): Promise<never> => {
    throw new AdminError('unsupported', 'not in this test')
  }
  return { transport: 'browser', session: fail, login: fail, setup: fail, logout: fail, call: call as AdminClient['call'] }
}

const session = (over: Partial<SessionInfo> = {}): SessionInfo => ({
  authenticated: true, username: 'alice', roles: ['system-administrator', 'security-officer'], csrfToken: 'x', setupRequired: false, transport: 'browser', ...over,
})

const page = (node: React.ReactNode) => render(<MantineProvider>{node}</MantineProvider>)

beforeAll(() => {
  // happy-dom has no FontFaceSet; Mantine's autosize textareas listen on it.
  if (!('fonts' in document)) Object.defineProperty(document, 'fonts', { configurable: true, value: { addEventListener: () => undefined, removeEventListener: () => undefined } })
})

afterEach(async () => {
  cleanup()
  setAdminClient(undefined)
  await setLanguage('en')
  useUsersStore.setState({ users: [], apiKeys: [], newKey: null, error: null })
  useGlobalConfStore.setState({ status: null, members: [], servers: [], tsas: null, anchor: null, error: null })
  useKeysStore.setState({ tokens: [], keys: [], certificates: [], csrs: [], authorities: [], error: null, importError: null })
})

describe('users and API keys', () => {
  const users: AdminUser[] = [
    { username: 'alice', roles: ['system-administrator', 'security-officer'], createdAt: '2025-01-01T00:00:00Z' },
    { username: 'bob', roles: ['observer'], createdAt: '2025-01-02T00:00:00Z' },
  ]
  const keys: ApiKeyInfo[] = [{ id: 7, label: 'backup script', roles: ['observer', 'service-administrator'], createdAt: '2025-01-03T00:00:00Z', createdBy: 'alice', revokedAt: null }]

  it('changes your own password after checking it locally, and shows a wrong current password at its field', async () => {
    useSessionStore.setState({ session: session({ roles: ['observer'], username: 'bob' }) })
    const call = vi.fn<Call>(async (_domain, method) => {
      if (method === 'changeOwnPassword') throw new AdminError('validation_failed', 'The current password is not correct', 'currentPassword')
      return []
    })
    setAdminClient(fakeClient(call))
    page(<UsersPage />)
    expect(screen.getByText('Signed in as bob')).toBeTruthy()
    // An observer may not list accounts: the page does not ask.
    expect(call.mock.calls.map((c) => `${c[0]}.${c[1]}`)).toEqual([])
    expect(screen.queryByRole('table', { name: 'Users' })).toBeNull()
    fireEvent.change(screen.getByLabelText(/^Current password/), { target: { value: 'the-old-one' } })
    fireEvent.change(screen.getByLabelText(/^New password/), { target: { value: 'a-brand-new-phrase' } })
    fireEvent.change(screen.getByLabelText(/^Repeat the new password/), { target: { value: 'a-brand-new-phrasE' } })
    fireEvent.click(screen.getByRole('button', { name: 'Change password' }))
    expect(await screen.findByText('The two passwords differ')).toBeTruthy()
    expect(call).not.toHaveBeenCalledWith('users', 'changeOwnPassword', expect.anything())
    fireEvent.change(screen.getByLabelText(/^Repeat the new password/), { target: { value: 'a-brand-new-phrase' } })
    fireEvent.click(screen.getByRole('button', { name: 'Change password' }))
    await waitFor(() => expect(call).toHaveBeenCalledWith('users', 'changeOwnPassword', { currentPassword: 'the-old-one', newPassword: 'a-brand-new-phrase' }))
    expect(await screen.findByText('The current password is not correct.')).toBeTruthy()
  })

  it('explains on the desktop why there is no password to change', async () => {
    useSessionStore.setState({ session: session({ transport: 'desktop', username: 'desktop:maria' }) })
    setAdminClient(fakeClient(async (domain) => (domain === 'users' ? users : keys)))
    page(<UsersPage />)
    expect(screen.getByTestId('password-not-available').textContent).toContain('computer user desktop:maria')
    expect(screen.queryByLabelText(/^Current password/)).toBeNull()
  })

  it('resets another user\'s password with the policy shown, and edits roles', async () => {
    useSessionStore.setState({ session: session() })
    const call = vi.fn<Call>(async (domain, method) => {
      if (method === 'list') return domain === 'users' ? users : keys
      if (method === 'setRoles') return { ...users[1], roles: ['observer', 'registration-officer'] }
      return undefined
    })
    setAdminClient(fakeClient(call))
    page(<UsersPage />)
    fireEvent.click(await screen.findByRole('button', { name: 'Reset the password of bob' }))
    const reset = await screen.findByRole('form', { name: 'New password for bob' })
    expect(within(reset).getByText(/12 to 256 characters/)).toBeTruthy()
    fireEvent.change(within(reset).getByLabelText(/^New password/), { target: { value: 'short' } })
    fireEvent.change(within(reset).getByLabelText(/^Repeat the new password/), { target: { value: 'short' } })
    fireEvent.click(within(reset).getByRole('button', { name: 'Set password' }))
    expect(await within(reset).findByText('Use at least 12 characters')).toBeTruthy()
    fireEvent.change(within(reset).getByLabelText(/^New password/), { target: { value: 'bob-gets-this-one' } })
    fireEvent.change(within(reset).getByLabelText(/^Repeat the new password/), { target: { value: 'bob-gets-this-one' } })
    fireEvent.click(within(reset).getByRole('button', { name: 'Set password' }))
    await waitFor(() => expect(call).toHaveBeenCalledWith('users', 'setPassword', { username: 'bob', password: 'bob-gets-this-one' }))
    expect(await screen.findByText('Password of bob reset; their sessions have ended.')).toBeTruthy()

    fireEvent.click(screen.getByRole('button', { name: 'Edit the roles of bob' }))
    const dialog = await screen.findByRole('dialog', { name: 'Roles of bob' })
    fireEvent.click(within(dialog).getByLabelText('Registration Officer'))
    fireEvent.click(within(dialog).getByRole('button', { name: 'Save' }))
    await waitFor(() => expect(call).toHaveBeenCalledWith('users', 'setRoles', { username: 'bob', roles: ['observer', 'registration-officer'] }))
  })

  it('warns before you remove your own administrator role, and shows the last-administrator refusal with its reason', async () => {
    useSessionStore.setState({ session: session() })
    setAdminClient(fakeClient(async (domain, method) => {
      if (method === 'list') return domain === 'users' ? users : keys
      throw new AdminError('conflict', 'alice is the last system administrator', 'lastSystemAdministrator')
    }))
    page(<UsersPage />)
    fireEvent.click(await screen.findByRole('button', { name: 'Edit the roles of alice' }))
    const dialog = await screen.findByRole('dialog', { name: 'Roles of alice' })
    fireEvent.click(within(dialog).getByLabelText('System Administrator'))
    expect(within(dialog).getByText(/removing your own System Administrator role/)).toBeTruthy()
    fireEvent.click(within(dialog).getByRole('button', { name: 'Save' }))
    expect(await within(dialog).findByText(/alice is the last System Administrator: the role cannot be taken away/)).toBeTruthy()
  })

  it('removes a user only after a confirmation that names them and their roles; your own account is refused with the reason', async () => {
    useSessionStore.setState({ session: session() })
    const call = vi.fn<Call>(async (domain, method, input) => {
      if (method === 'list') return domain === 'users' ? users : keys
      if (method === 'remove' && (input as { username: string }).username === 'alice') throw new AdminError('conflict', 'You cannot remove…', 'ownAccount')
      return undefined
    })
    setAdminClient(fakeClient(call))
    page(<UsersPage />)
    fireEvent.click(await screen.findByRole('button', { name: 'Remove user alice' }))
    const own = await screen.findByRole('dialog', { name: 'Remove user alice?' })
    expect(within(own).getByText('This is your own account: another system administrator must remove it.')).toBeTruthy()
    fireEvent.click(within(own).getByRole('button', { name: 'Remove user' }))
    expect(await within(own).findByText('You cannot remove the account you are signed in with. Another System Administrator can remove it.')).toBeTruthy()
    fireEvent.click(within(own).getByRole('button', { name: 'Cancel' }))
    fireEvent.click(screen.getByRole('button', { name: 'Remove user bob' }))
    const other = await screen.findByRole('dialog', { name: 'Remove user bob?' })
    expect(within(other).getByText('Roles lost: Server Observer.')).toBeTruthy()
    expect(call).not.toHaveBeenCalledWith('users', 'remove', { username: 'bob' })
    fireEvent.click(within(other).getByRole('button', { name: 'Remove user' }))
    await waitFor(() => expect(call).toHaveBeenCalledWith('users', 'remove', { username: 'bob' }))
  })

  it('shows a new API key once with a copy button, edits a key\'s roles, and names label and roles before revoking', async () => {
    useSessionStore.setState({ session: session() })
    const call = vi.fn<Call>(async (domain, method, input) => {
      if (method === 'list') return domain === 'users' ? users : keys
      if (method === 'create') return { ...keys[0], id: 8, label: 'monitoring', roles: ['observer'], key: 'SECRET-KEY-VALUE' }
      if (method === 'setRoles') return { ...keys[0], roles: (input as { roles: string[] }).roles }
      if (method === 'revoke') return { ...keys[0], revokedAt: '2025-02-01T00:00:00Z' }
      return undefined
    })
    setAdminClient(fakeClient(call))
    page(<UsersPage />)
    const form = await screen.findByRole('form', { name: 'Create an API key' })
    fireEvent.change(within(form).getByLabelText(/^Label/), { target: { value: ' monitoring ' } })
    fireEvent.click(within(form).getByRole('button', { name: 'Create API key' }))
    await waitFor(() => expect(call).toHaveBeenCalledWith('apiKeys', 'create', { label: 'monitoring', roles: ['observer'] }))
    expect((await screen.findByTestId('new-api-key')).textContent).toBe('SECRET-KEY-VALUE')
    expect(screen.getByRole('button', { name: 'Copy key' })).toBeTruthy()
    fireEvent.click(screen.getByRole('button', { name: 'I have saved the key' }))
    expect(screen.queryByTestId('new-api-key')).toBeNull()

    fireEvent.click(screen.getByRole('button', { name: 'Edit the roles of API key backup script' }))
    const dialog = await screen.findByRole('dialog', { name: 'Roles of API key backup script (ID 7)' })
    fireEvent.click(within(dialog).getByLabelText('Service Administrator'))
    fireEvent.click(within(dialog).getByRole('button', { name: 'Save' }))
    await waitFor(() => expect(call).toHaveBeenCalledWith('apiKeys', 'setRoles', { id: 7, roles: ['observer'] }))

    fireEvent.click(screen.getByRole('button', { name: 'Revoke API key backup script' }))
    const revoke = await screen.findByRole('dialog', { name: 'Revoke API key backup script?' })
    expect(within(revoke).getByText(/using key backup script \(ID 7\)/)).toBeTruthy()
    expect(within(revoke).getByText('They lose these roles: Server Observer.')).toBeTruthy()
    fireEvent.click(within(revoke).getByRole('button', { name: 'Revoke key' }))
    await waitFor(() => expect(call).toHaveBeenCalledWith('apiKeys', 'revoke', { id: 7 }))
  })

  it('speaks Brazilian Portuguese and Spanish, role names included', async () => {
    useSessionStore.setState({ session: session() })
    setAdminClient(fakeClient(async (domain) => (domain === 'users' ? users : keys)))
    await setLanguage('pt-BR')
    page(<UsersPage />)
    expect(await screen.findByRole('heading', { name: 'Usuários e chaves de API' })).toBeTruthy()
    expect((await screen.findAllByText('Administrador do Sistema')).length).toBeGreaterThan(0)
    cleanup()
    await setLanguage('es')
    page(<UsersPage />)
    expect(await screen.findByRole('heading', { name: 'Usuarios y claves API' })).toBeTruthy()
    expect((await screen.findAllByText('Observador del servidor de seguridad')).length).toBeGreaterThan(0)
    expect(newPasswordProblem('corta', 'corta')).toBe('Use al menos 12 caracteres')
  })
})

describe('global configuration', () => {
  const status: GlobalConfStatus = {
    anchorImported: true, anchorHash: 'AA:BB', sources: ['http://127.0.0.1:1/internalconf'], available: true, instance: 'LAB', version: 6,
    downloadedAt: '2025-01-01T00:00:00Z', ageSeconds: 30, expiresAt: '2025-01-01T00:10:00Z', expiresInSeconds: 570, expired: false, lastError: null,
    memberCount: 1, serverCount: 1, approvedCaCount: 1, tsaCount: 2, light: 'green', explanation: 'Up to date (server text)',
  }
  const tsas: TimestampingServicesDto = {
    available: true,
    approved: [{ name: 'TSA One', url: 'http://tsa-one.example' }, { name: 'TSA Two', url: 'http://tsa-two.example' }],
    selected: [],
    inUse: ['TSA One', 'TSA Two'],
  }
  const init: InitializationStatus = {
    initialized: true, owner: 'MEMBER:LAB/GOV/1', serverCode: 'SS1', serverId: 'SERVER:LAB/GOV/1/SS1', anchor: { instance: 'LAB', hash: 'AA:BB', storedAt: '2025-01-01T00:00:00Z' }, softwareTokenInitialized: true,
  }
  const reads = (domain: string, method: string): unknown => {
    if (domain === 'initialization') return init
    if (method === 'status') return status
    if (method === 'timestampingServices') return tsas
    return []
  }

  it('says the freshness in the reader\'s language and finds an anchor\'s instance', async () => {
    expect(freshnessText(status)).toBe('Up to date: downloaded 30 s ago.')
    expect(freshnessText({ ...status, lastError: 'timeout', expiresInSeconds: 7200 })).toBe('The last download failed; the previous copy is still valid. It expires in 2 h.')
    await setLanguage('pt-BR')
    expect(freshnessText({ ...status, ageSeconds: 3 * 86_400 })).toBe('Atualizada: baixada há 3 dias.')
    expect(anchorInstanceOf('<ns3:configurationAnchor><instanceIdentifier>OTHER</instanceIdentifier></ns3:configurationAnchor>')).toBe('OTHER')
  })

  it('chooses time-stamping services and their order', async () => {
    useSessionStore.setState({ session: session() })
    const call = vi.fn<Call>(async (domain, method, input) => {
      if (method === 'selectTimestampingServices') return { ...tsas, selected: (input as { names: string[] }).names, inUse: (input as { names: string[] }).names }
      return reads(domain, method)
    })
    setAdminClient(fakeClient(call))
    page(<GlobalConfPage />)
    expect((await screen.findByTestId('tsa-in-use')).textContent).toBe('The next round tries: TSA One → TSA Two')
    fireEvent.click(screen.getByLabelText('Use only the services I choose, in this order'))
    expect(screen.getByRole('button', { name: 'Save selection' }).hasAttribute('disabled')).toBe(true)
    fireEvent.click(screen.getByLabelText('Use TSA One'))
    fireEvent.click(screen.getByLabelText('Use TSA Two'))
    fireEvent.click(screen.getByRole('button', { name: 'Move TSA Two up' }))
    fireEvent.click(screen.getByRole('button', { name: 'Save selection' }))
    await waitFor(() => expect(call).toHaveBeenCalledWith('globalConf', 'selectTimestampingServices', { names: ['TSA Two', 'TSA One'] }))
    expect(await screen.findByText('Saved: the next time-stamping round uses TSA Two, TSA One.')).toBeTruthy()
    expect(screen.getByTestId('tsa-in-use').textContent).toBe('The next round tries: TSA Two → TSA One')
  })

  it('re-imports an anchor after its hash is confirmed, and says why an anchor of another instance is refused', async () => {
    useSessionStore.setState({ session: session() })
    const call = vi.fn<Call>(async (domain, method, input) => {
      if (method === 'previewAnchor') {
        if ((input as { anchorXml: string }).anchorXml.includes('OTHER')) throw new AdminError('validation_failed', 'This anchor is for instance OTHER…', 'anchorXml')
        return { instance: 'LAB', hash: 'CC:DD:EE', generatedAt: '2025-03-01T00:00:00Z', sources: ['http://127.0.0.1:1/internalconf'] }
      }
      if (method === 'replaceAnchor') return { ...status, anchorHash: 'CC:DD:EE' }
      return reads(domain, method)
    })
    setAdminClient(fakeClient(call))
    page(<GlobalConfPage />)
    expect((await screen.findByTestId('current-anchor-hash')).textContent).toBe('AA:BB')
    fireEvent.click(screen.getByRole('button', { name: 'Import a new anchor…' }))
    const dialog = await screen.findByRole('dialog', { name: 'Import a new configuration anchor' })
    fireEvent.change(within(dialog).getByLabelText(/^Anchor XML/), { target: { value: '<configurationAnchor><instanceIdentifier>OTHER</instanceIdentifier></configurationAnchor>' } })
    fireEvent.click(within(dialog).getByRole('button', { name: 'Check anchor' }))
    expect(await within(dialog).findByText('This anchor is for instance OTHER; this server belongs to instance LAB. Use the anchor of LAB.')).toBeTruthy()
    fireEvent.change(within(dialog).getByLabelText(/^Anchor XML/), { target: { value: '<configurationAnchor><instanceIdentifier>LAB</instanceIdentifier></configurationAnchor>' } })
    fireEvent.click(within(dialog).getByRole('button', { name: 'Check anchor' }))
    expect((await within(dialog).findByTestId('anchor-hash')).textContent).toBe('CC:DD:EE')
    const replace = within(dialog).getByRole('button', { name: 'Replace the anchor' })
    expect(replace.hasAttribute('disabled')).toBe(true)
    fireEvent.click(within(dialog).getByLabelText('The hash matches the published one'))
    fireEvent.click(replace)
    await waitFor(() => expect(call).toHaveBeenCalledWith('globalConf', 'replaceAnchor', { anchorXml: expect.stringContaining('LAB'), confirmedHash: 'CC:DD:EE' }))
    expect(await within(dialog).findByText(/The new anchor is in use/)).toBeTruthy()
  })
})

describe('keys and certificates', () => {
  const token: TokenDto = {
    id: '0', kind: 'software', label: '', serialNumber: '', state: 'logged-in', available: true, loggedIn: true, pinCountLow: false, pinFinalTry: false,
    pinLocked: false, manufacturer: null, model: null, keyCount: 1,
  }
  const key: KeyDto = { id: 'k1', tokenId: '0', label: 'sign key', usage: 'sign', algorithm: 'ec-p256', createdAt: '2025-01-01T00:00:00Z', publicKeySha256: 'ab', certificateCount: 1 }
  const cert: CertificateDto = {
    id: 'c1', keyId: 'k1', usage: 'sign', tokenId: '0', member: 'MEMBER:LAB/GOV/1', subject: 'CN=Agency, O=LAB', issuer: 'CN=Lab CA', serialNumber: '42',
    notBefore: '2025-01-01T00:00:00Z', notAfter: '2026-01-01T00:00:00Z', state: 'active', daysLeft: 200, ocsp: { status: 'good', thisUpdate: null, nextUpdate: null, lastError: null },
  }
  const reads = (domain: string, method: string): unknown => {
    if (domain === 'tokens') return [token]
    if (domain === 'keys') return [key]
    if (domain === 'certificates') return [cert]
    if (domain === 'csrs' && method === 'list') return [{ id: 'r1', keyId: 'k1', subjectOf: 'MEMBER:LAB/GOV/1', subject: 'CN=Agency', createdAt: '2025-01-01T00:00:00Z' }]
    return []
  }

  it('names the certificates and requests a key deletion destroys, and shows the refusal for a certificate in use', async () => {
    const call = vi.fn<Call>(async (domain, method) => {
      if (method === 'delete' && domain === 'keys') throw new AdminError('conflict', 'Key sign key has a certificate in use…', 'activeCertificate')
      return reads(domain, method)
    })
    setAdminClient(fakeClient(call))
    page(<KeysPage />)
    fireEvent.click(await screen.findByRole('button', { name: 'Delete key sign key' }))
    const dialog = await screen.findByRole('dialog', { name: 'Delete key sign key?' })
    expect(within(dialog).getByText('Its certificate is deleted with it: CN=Agency, O=LAB (active).')).toBeTruthy()
    expect(within(dialog).getByText('1 certificate request made with it is deleted too.')).toBeTruthy()
    expect(within(dialog).getByText(/the server refuses until you disable it/)).toBeTruthy()
    const confirm = within(dialog).getByRole('button', { name: 'Delete key' })
    expect(confirm.hasAttribute('disabled')).toBe(true)
    fireEvent.change(within(dialog).getByLabelText('Type sign key to confirm'), { target: { value: 'sign key' } })
    fireEvent.click(confirm)
    expect(await within(dialog).findByText('Refused: key sign key has a certificate in use (CN=Agency, O=LAB (active)). Disable the certificate first, then delete the key.')).toBeTruthy()
    expect(call).toHaveBeenCalledWith('keys', 'delete', { keyId: 'k1' })
  })

  it('deletes a certificate request and a disabled certificate after asking', async () => {
    const disabled = { ...cert, state: 'disabled' as const }
    const call = vi.fn<Call>(async (domain, method) => (domain === 'certificates' && method === 'list' ? [disabled] : reads(domain, method)))
    setAdminClient(fakeClient(call))
    page(<KeysPage />)
    fireEvent.click(await screen.findByRole('button', { name: 'Delete the certificate request of CN=Agency' }))
    const csrDialog = await screen.findByRole('dialog', { name: 'Delete this certificate request?' })
    fireEvent.click(within(csrDialog).getByRole('button', { name: 'Delete request' }))
    await waitFor(() => expect(call).toHaveBeenCalledWith('csrs', 'delete', { csrId: 'r1' }))
    fireEvent.click(screen.getByRole('button', { name: 'Delete certificate CN=Agency, O=LAB' }))
    const certDialog = await screen.findByRole('dialog', { name: 'Delete this certificate?' })
    expect(within(certDialog).getByText('Its key sign key stays; import the certificate again to use it.')).toBeTruthy()
    fireEvent.click(within(certDialog).getByRole('button', { name: 'Delete certificate' }))
    await waitFor(() => expect(call).toHaveBeenCalledWith('certificates', 'delete', { certId: 'c1' }))
  })

  it('registers an authentication certificate with the server address and unregisters it, showing the request id until confirmed', async () => {
    const auth: CertificateDto = { ...cert, id: 'ab12', keyId: 'k2', usage: 'auth', member: null, subject: 'CN=ss1', state: 'saved' }
    const open: unknown[] = []
    const call = vi.fn<Call>(async (domain, method, input) => {
      if (domain === 'certificates' && method === 'list') return [auth]
      if (domain === 'management' && method === 'requests') return open
      if (domain === 'management' && method === 'registerAuthCertificate') {
        if ((input as { address: string }).address === 'bad host') throw new AdminError('validation_failed', 'The address is not a host name', 'address')
        open.push({ id: 1, service: 'authCertReg', subject: 'authcert:ab12', detail: 'ss1.example.org', messageId: 'm', requestId: 7, sentAt: '', sentBy: null, status: 'SUBMITTED', settledAt: null })
        return { requestId: 7 }
      }
      if (domain === 'management' && method === 'unregisterAuthCertificate') return { requestId: 8 }
      return reads(domain, method)
    })
    setAdminClient(fakeClient(call))
    page(<KeysPage />)
    fireEvent.click(await screen.findByRole('button', { name: 'Register certificate CN=ss1 with the central server' }))
    const form = screen.getByRole('form', { name: 'Register CN=ss1 with the central server' })
    fireEvent.change(within(form).getByRole('textbox', { name: /Server address/ }), { target: { value: 'bad host' } })
    fireEvent.click(within(form).getByRole('button', { name: 'Send the request' }))
    expect(await within(form).findByText('The address is not a host name')).toBeTruthy()
    fireEvent.change(within(form).getByRole('textbox', { name: /Server address/ }), { target: { value: ' ss1.example.org ' } })
    fireEvent.click(within(form).getByRole('button', { name: 'Send the request' }))
    expect((await screen.findByRole('status')).textContent).toContain('Registration request #7 for CN=ss1 sent to the central server')
    expect(call).toHaveBeenCalledWith('management', 'registerAuthCertificate', { certificate: 'ab12', address: 'ss1.example.org' })
    expect(screen.getByText('registration in progress')).toBeTruthy()
    expect(screen.getByText('Request #7, waiting for global configuration')).toBeTruthy()
    fireEvent.click(screen.getByRole('button', { name: 'Unregister certificate CN=ss1' }))
    const dialog = await screen.findByRole('dialog', { name: 'Unregister this authentication certificate?' })
    fireEvent.click(within(dialog).getByRole('button', { name: 'Unregister' }))
    await waitFor(() => expect(call).toHaveBeenCalledWith('management', 'unregisterAuthCertificate', { certificate: 'ab12' }))
    expect((await screen.findByRole('status')).textContent).toContain('Deletion request #8 for CN=ss1')
  })

  it('shows a certificate import fault at the field, in the reader\'s language', async () => {
    setAdminClient(fakeClient(async (domain, method) => {
      if (method === 'import') throw new AdminError('key_not_found', 'No key in the key configuration matches…', 'content')
      return reads(domain, method)
    }))
    await setLanguage('es')
    page(<KeysPage />)
    const form = await screen.findByRole('form', { name: 'Importar un certificado' })
    fireEvent.change(within(form).getByLabelText(/^Certificado \(PEM\)/), { target: { value: '-----BEGIN CERTIFICATE-----' } })
    fireEvent.click(within(form).getByRole('button', { name: 'Importar' }))
    const message = await within(form).findByText(/Ninguna clave de este servidor corresponde/)
    expect(message.closest('.mantine-InputWrapper-root')).not.toBeNull()
  })
})

// @vitest-environment happy-dom
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react'
import { MantineProvider } from '@mantine/core'
import type {
  LabAnchorDto, LabCertificateDto, LabCertificateFileDto, LabCsrInspectionDto, LabGlobalGroupDto, LabManagementDto, LabMemberDto, LabServerDto, LabStatus,
  LabTrustServicesDto,
} from '@shared/admin-api/admin-api'
import type { SessionInfo } from '@shared/admin-api/session'
import { AdminError, setAdminClient, type AdminClient } from '../../src-renderer/lib/admin-client'
import { setLanguage } from '../../src-renderer/i18n'
import { LabPage } from '../../src-renderer/features/lab/LabPage'
import { clientOptions, commonName, initialLabAdmin, registrableCertificates, useLabAdminStore } from '../../src-renderer/features/lab/lab-admin-store'
import { useSessionStore } from '../../src-renderer/features/login/session-store'
import { GlobalConfPage } from '../../src-renderer/features/global-conf/GlobalConfPage'
import { useGlobalConfStore } from '../../src-renderer/features/global-conf/global-conf-store'

/** The Lab page against a fake admin client: what it lists, what it sends, where refusals and field errors appear. */
const admin: SessionInfo = { authenticated: true, username: 'admin', roles: ['system-administrator'], csrfToken: 't', setupRequired: false, transport: 'browser' }
const observer: SessionInfo = { ...admin, username: 'watcher', roles: ['observer'] }

const status: LabStatus = {
  exists: true, instance: 'DEMO', operation: null,
  services: { running: true, ocspUrl: 'http://127.0.0.1:1', tsaUrl: 'http://127.0.0.1:2', configurationUrl: 'http://127.0.0.1:3/internalconf', problem: null },
}
const members: LabMemberDto[] = [
  {
    id: 'MEMBER:DEMO/GOV/7001', memberClass: 'GOV', memberCode: '7001', name: 'Demo Agency', ownedServers: ['SERVER:DEMO/GOV/7001/ss1'], clientOf: [], globalGroups: [],
    subsystems: [{ id: 'SUBSYSTEM:DEMO/GOV/7001/portal', code: 'portal', servers: ['SERVER:DEMO/GOV/7001/ss1'], globalGroups: ['partners'] }],
  },
  { id: 'MEMBER:DEMO/COM/8002', memberClass: 'COM', memberCode: '8002', name: 'Second Agency', ownedServers: [], clientOf: [], globalGroups: [], subsystems: [] },
]
const servers: LabServerDto[] = [{
  id: 'SERVER:DEMO/GOV/7001/ss1', owner: 'MEMBER:DEMO/GOV/7001', ownerName: 'Demo Agency', serverCode: 'ss1', address: '127.0.0.1:5500', thisServer: true,
  authCertificates: [{ hash: 'aGFzaA==', serial: '0A', subject: 'C=DEMO, CN=ss1', notAfter: '2030-01-01T00:00:00Z', revoked: false }],
  clients: ['SUBSYSTEM:DEMO/GOV/7001/portal'], disabledClients: [],
}]
const cert = (serial: string, usage: LabCertificateDto['usage'], subject: string, registeredOn: string[] = []): LabCertificateDto => ({
  serial, usage, subject, issuedAt: '2026-01-01T00:00:00Z', notBefore: '2026-01-01T00:00:00Z', notAfter: '2028-01-01T00:00:00Z', status: 'good', revokedAt: null, hash: `h${serial}`, registeredOn,
})
const certificates: LabCertificateDto[] = [
  cert('01', 'ca', 'C=DEMO, O=Gatehouse Lab, CN=Gatehouse Lab CA DEMO'),
  cert('0A', 'auth', 'C=DEMO, CN=ss1', ['SERVER:DEMO/GOV/7001/ss1']),
  cert('0B', 'auth', 'C=DEMO, CN=ss2'),
]
const groups: LabGlobalGroupDto[] = [{ id: 'GLOBALGROUP:DEMO/partners', code: 'partners', description: 'Partner agencies', members: ['SUBSYSTEM:DEMO/GOV/7001/portal'] }]
const trust: LabTrustServicesDto = {
  instance: 'DEMO', services: status.services, caSubject: 'CN=Gatehouse Lab CA DEMO', ocspSubject: 'CN=OCSP', tsaSubject: 'CN=TSA', confExpireSeconds: 600,
  ocspFreshnessSeconds: 3600, timeStampingIntervalSeconds: 60, memberClasses: [{ code: 'COM', description: 'Commercial' }, { code: 'GOV', description: 'Governmental' }],
}
const anchor: LabAnchorDto = { instance: 'DEMO', fileName: 'configuration-anchor-DEMO.xml', content: '<anchor/>', hash: 'AB:CD:EF', generatedAt: '2026-01-01T00:00:00Z', downloadUrl: 'http://127.0.0.1:3/internalconf' }

const management: LabManagementDto = {
  providerId: 'SUBSYSTEM:DEMO/ORG/LAB/MANAGEMENT', managementSecurityServer: null, authCertRegUrl: 'https://127.0.0.1:4/managementservice/', managementServiceUrl: 'http://127.0.0.1:3/managementservice/manage',
  autoApproval: { authCertReg: true, clientReg: false, ownerChange: true },
  counts: { total: 2, waiting: 1, approved: 1, declined: 0 },
  requests: [
    { id: 2, type: 'clientReg', status: 'WAITING', server: 'SERVER:DEMO/GOV/7001/ss1', client: 'SUBSYSTEM:DEMO/COM/8002/shop', address: null, authCertHash: null,
      subsystemName: null, receivedAt: '2026-01-02T00:00:00Z', decidedAt: null, decidedBy: null },
    { id: 1, type: 'authCertReg', status: 'APPROVED', server: 'SERVER:DEMO/GOV/7001/ss1', client: null, address: '127.0.0.1:5500', authCertHash: 'aGFzaA==',
      subsystemName: null, receivedAt: '2026-01-01T00:00:00Z', decidedAt: '2026-01-01T00:00:00Z', decidedBy: 'auto' },
  ],
}

type Handler = (method: string, input: unknown) => unknown

function labClient(handle: Handler = () => undefined, listed: Record<string, unknown> = {}): { client: AdminClient; calls: Array<[string, unknown]> } {
  const calls: Array<[string, unknown]> = []
  const reads: Record<string, unknown> = { status, members, servers, certificates, globalGroups: groups, trustServices: trust, anchor, managementRequests: management, ...listed }
  const fail = async (): Promise<never> => {
    throw new AdminError('unsupported', 'not in this test')
  }
  const call = vi.fn(async (domain: string, method: string, input?: unknown) => {
    if (domain !== 'lab') throw new Error(`unexpected ${domain}.${method}`)
    if (method in reads) return reads[method]
    calls.push([method, input])
    return handle(method, input)
  })
  return { client: { transport: 'browser', session: fail, login: fail, setup: fail, logout: fail, call: call as AdminClient['call'] }, calls }
}

function renderPage(session: SessionInfo = admin) {
  useSessionStore.setState({ session })
  return render(<MantineProvider><LabPage /></MantineProvider>)
}

beforeAll(() => {
  // happy-dom has no FontFaceSet; Mantine's autosize textareas listen on it.
  if (!('fonts' in document)) Object.defineProperty(document, 'fonts', { configurable: true, value: { addEventListener: () => undefined, removeEventListener: () => undefined } })
})

afterEach(async () => {
  cleanup()
  setAdminClient(undefined)
  useLabAdminStore.setState(initialLabAdmin)
  useSessionStore.setState({ session: null })
  await setLanguage('en')
})

describe('Lab page', () => {
  it('lists members with subsystems and how another server joins; adds a member with the error at its field', async () => {
    const { client, calls } = labClient((method) => {
      if (method === 'addMember' && calls.length === 1) throw new AdminError('conflict', 'Member DEMO/COM/8002 is already registered', 'memberCode')
      return members[1]
    })
    setAdminClient(client)
    renderPage()
    expect(await screen.findByRole('heading', { name: 'Lab DEMO' })).toBeTruthy()
    const table = screen.getByRole('table', { name: 'Lab members' })
    expect(within(table).getByText('Demo Agency')).toBeTruthy()
    expect(within(table).getByText('portal')).toBeTruthy()
    expect(within(table).getByText('Server owner')).toBeTruthy()
    expect(screen.getByTestId('lab-join-steps').textContent).toContain('Register a security server')

    const form = screen.getByRole('form', { name: 'Add a member' })
    fireEvent.change(within(form).getByLabelText(/^Member code/), { target: { value: '8002' } })
    fireEvent.change(within(form).getByLabelText(/^Member name/), { target: { value: 'Second Agency' } })
    fireEvent.change(within(form).getByLabelText(/^Subsystem code/), { target: { value: 'client' } })
    fireEvent.click(within(form).getByRole('button', { name: 'Add member' }))
    await waitFor(() => expect(calls[0]).toEqual(['addMember', { memberClass: 'GOV', memberCode: '8002', name: 'Second Agency', subsystemCode: 'client' }]))
    // The refusal names the field: it is shown there, not as a banner.
    expect(await within(form).findByText('Member DEMO/COM/8002 is already registered')).toBeTruthy()
    expect(within(form).queryByRole('alert')).toBeNull()
    fireEvent.click(within(form).getByRole('button', { name: 'Add member' }))
    await waitFor(() => expect(calls).toHaveLength(2))
    await waitFor(() => expect((within(form).getByLabelText(/^Member code/) as HTMLInputElement).value).toBe(''))
  })

  it('lists management requests, approves a held one, names what declining leaves and switches auto-approval', async () => {
    const { client, calls } = labClient((method) => {
      if (method === 'approveManagementRequest') throw new AdminError('management_request_member_not_found', 'Member of SUBSYSTEM:DEMO/COM/8002/shop is not registered in DEMO')
      return undefined
    })
    setAdminClient(client)
    renderPage()
    fireEvent.click(await screen.findByRole('tab', { name: 'Management requests' }))
    const table = await screen.findByRole('table', { name: 'Management requests' })
    expect(within(table).getByText('Add client')).toBeTruthy()
    expect(within(table).getByText('Pending')).toBeTruthy()
    expect(within(table).getByText(/Approved automatically/)).toBeTruthy()
    expect(within(table).queryByRole('button', { name: 'Approve request 1' })).toBeNull()
    fireEvent.click(within(table).getByRole('button', { name: 'Approve request 2' }))
    expect(await screen.findByText('Member of SUBSYSTEM:DEMO/COM/8002/shop is not registered in DEMO')).toBeTruthy()
    fireEvent.click(within(table).getByRole('button', { name: 'Decline request 2' }))
    const dialog = await screen.findByRole('dialog')
    expect(within(dialog).getByText(/DEMO\/GOV\/7001\/ss1 does not get what it asked for/)).toBeTruthy()
    fireEvent.click(within(dialog).getByRole('button', { name: 'Decline' }))
    await waitFor(() => expect(calls).toContainEqual(['declineManagementRequest', { id: 2 }]))
    fireEvent.click(screen.getByRole('switch', { name: 'Approve client registrations automatically' }))
    await waitFor(() => expect(calls).toContainEqual(['setManagementAutoApproval', { clientReg: true }]))
    fireEvent.click(screen.getByRole('button', { name: 'Serve the management services on this server' }))
    await waitFor(() => expect(calls).toContainEqual(['serveManagementServices', undefined]))
    fireEvent.click(screen.getByLabelText('Show only pending requests'))
    expect(screen.queryByTestId('lab-request-1')).toBeNull()
    expect(screen.getByTestId('lab-request-2')).toBeTruthy()
  })

  it('names what deleting a subsystem breaks and shows the lab’s refusal in the dialog', async () => {
    const { client, calls } = labClient((method) => {
      if (method === 'deleteSubsystem') throw new AdminError('conflict', 'Subsystem SUBSYSTEM:DEMO/GOV/7001/portal is a client of SERVER:DEMO/GOV/7001/ss1; remove it from there first')
      return undefined
    })
    setAdminClient(client)
    renderPage()
    fireEvent.click(await screen.findByRole('button', { name: 'Delete subsystem DEMO/GOV/7001/portal' }))
    const dialog = await screen.findByRole('dialog')
    expect(within(dialog).getByText(/It leaves the global groups partners/)).toBeTruthy()
    expect(within(dialog).getByText(/It is a client of DEMO\/GOV\/7001\/ss1/)).toBeTruthy()
    fireEvent.click(within(dialog).getByRole('button', { name: 'Delete' }))
    expect(await within(dialog).findByText(/remove it from there first/)).toBeTruthy()
    expect(calls).toEqual([['deleteSubsystem', { subsystem: 'SUBSYSTEM:DEMO/GOV/7001/portal' }]])
  })

  it('registers a server with a certificate the lab signed for its server code', async () => {
    const { client, calls } = labClient(() => servers[0])
    setAdminClient(client)
    renderPage()
    fireEvent.click(await screen.findByRole('tab', { name: 'Security servers' }))
    const card = await screen.findByRole('region', { name: 'DEMO/GOV/7001/ss1' })
    expect(within(card).getByText('This server')).toBeTruthy()
    expect(within(card).getByText('127.0.0.1:5500')).toBeTruthy()
    expect(within(card).getByText('SHA-256 aGFzaA==')).toBeTruthy()

    const form = screen.getByRole('form', { name: 'Register a security server' })
    fireEvent.change(within(form).getByLabelText(/^Server code/), { target: { value: 'ss2' } })
    fireEvent.change(within(form).getByLabelText(/^Address/), { target: { value: '127.0.0.1:15501' } })
    const submit = within(form).getByRole('button', { name: 'Register' }) as HTMLButtonElement
    expect(submit.disabled).toBe(true)
    const owner = within(form).getByLabelText('Owner')
    fireEvent.focus(owner)
    fireEvent.change(owner, { target: { value: '8002' } })
    await waitFor(() => expect(owner.getAttribute('aria-controls')).toBeTruthy())
    const listbox = document.getElementById(owner.getAttribute('aria-controls') ?? '') as HTMLElement
    fireEvent.click(await within(listbox).findByText('DEMO/COM/8002 · Second Agency'))
    await waitFor(() => expect(submit.disabled).toBe(false))
    fireEvent.click(submit)
    await waitFor(() => expect(calls[0]).toEqual(['registerServer', { owner: 'MEMBER:DEMO/COM/8002', serverCode: 'ss2', address: '127.0.0.1:15501', certificateSerial: '0B' }]))
  })

  it('checks a pasted CSR, shows the subject the profile yields, signs it and offers the certificate', async () => {
    const inspection: LabCsrInspectionDto = { usage: 'auth', usageFrom: 'key-usage', requestedSubject: 'C=DEMO, CN=ss2', subject: 'C=DEMO, CN=ss2', keyAlgorithm: 'EC prime256v1', member: null, serverCode: 'ss2' }
    const issued: LabCertificateFileDto = { serial: '0C', usage: 'auth', subject: 'C=DEMO, CN=ss2', pem: '-----BEGIN CERTIFICATE-----', derBase64: 'AA==', fileName: 'DEMO-ss2-auth-0C' }
    const { client, calls } = labClient((method) => (method === 'inspectCsr' ? inspection : method === 'signCsr' ? issued : undefined))
    setAdminClient(client)
    renderPage()
    fireEvent.click(await screen.findByRole('tab', { name: 'Certificates' }))
    const form = await screen.findByRole('form', { name: 'Sign a certificate request' })
    fireEvent.change(within(form).getByLabelText('CSR (PEM)'), { target: { value: '-----BEGIN CERTIFICATE REQUEST-----' } })
    fireEvent.click(within(form).getByRole('button', { name: 'Check' }))
    const shown = await screen.findByTestId('lab-csr-inspection')
    await waitFor(() => expect(within(shown).getByText('For security server code ss2')).toBeTruthy())
    expect(within(shown).getByText('Taken from the key usage in the request.')).toBeTruthy()
    fireEvent.click(within(shown).getByRole('button', { name: 'Sign and issue' }))
    expect((await screen.findByTestId('lab-issued')).textContent).toContain('C=DEMO, CN=ss2 (Authentication), serial 0C')
    expect(calls).toEqual([
      ['inspectCsr', { content: '-----BEGIN CERTIFICATE REQUEST-----', encoding: 'utf8' }],
      ['signCsr', { content: '-----BEGIN CERTIFICATE REQUEST-----', encoding: 'utf8', usage: 'auth' }],
    ])
    const table = screen.getByRole('table', { name: 'Issued certificates' })
    expect(within(table).queryByRole('button', { name: 'Revoke certificate 01' })).toBeNull()
    fireEvent.click(within(table).getByRole('button', { name: 'Revoke certificate 0A' }))
    expect(within(await screen.findByRole('dialog')).getByText(/DEMO\/GOV\/7001\/ss1 uses it to authenticate/)).toBeTruthy()
  })

  it('marks the clients a clientDisable turned off as disabled, in every language, and only those', async () => {
    const portal = 'SUBSYSTEM:DEMO/GOV/7001/portal'
    const legacy = 'SUBSYSTEM:DEMO/GOV/7001/legacy'
    const withDisabled: LabServerDto[] = [{ ...servers[0] as LabServerDto, clients: [portal, legacy], disabledClients: [legacy] }]
    const { client } = labClient(undefined, { servers: withDisabled })
    setAdminClient(client)
    const expected = [['en', 'Security servers', 'disabled'], ['pt-BR', 'Servidores de segurança', 'desativado'], ['es', 'Servidores de seguridad', 'deshabilitado']] as const
    for (const [language, tab, badge] of expected) {
      await setLanguage(language)
      const { unmount } = renderPage()
      fireEvent.click(await screen.findByRole('tab', { name: tab }))
      const card = await screen.findByRole('region', { name: 'DEMO/GOV/7001/ss1' })
      const row = (id: string): HTMLElement => within(card).getByText(id).parentElement as HTMLElement
      // The badge says why in its title: the server's clientDisable request, undone by a clientEnable.
      expect(within(row('DEMO/GOV/7001/legacy')).getByTitle(/clientDisable.*clientEnable/).textContent, language).toBe(badge)
      expect(within(row('DEMO/GOV/7001/portal')).queryByText(badge), language).toBeNull()
      unmount()
    }
  })

  it('shows an observer everything but no way to change it, in the language chosen', async () => {
    await setLanguage('pt-BR')
    const { client } = labClient()
    setAdminClient(client)
    renderPage(observer)
    expect(await screen.findByRole('heading', { name: 'Laboratório DEMO' })).toBeTruthy()
    expect(screen.getByText('Você pode consultar o laboratório. Alterações exigem o papel de administrador do sistema.')).toBeTruthy()
    expect(screen.queryByRole('form', { name: 'Adicionar um membro' })).toBeNull()
    expect(screen.queryByRole('button', { name: /Excluir/ })).toBeNull()
    fireEvent.click(screen.getByRole('tab', { name: 'Âncora' }))
    expect((await screen.findByTestId('lab-page-anchor-hash')).textContent).toBe('AB:CD:EF')
    expect(screen.getByRole('button', { name: 'Baixar o arquivo de âncora' })).toBeTruthy()
    fireEvent.click(screen.getByRole('tab', { name: 'Grupos globais' }))
    expect(await screen.findByText('Partner agencies')).toBeTruthy()
    expect(screen.queryByRole('form', { name: 'Adicionar um grupo global' })).toBeNull()
  })
})

describe('the joining server', () => {
  it('shows its own registration after “Download now”, without reloading the page', async () => {
    const before = [{ id: 'SERVER:LAB/GOV/7001/SS1', owner: 'MEMBER:LAB/GOV/7001', serverCode: 'SS1', address: '127.0.0.1:5500', clients: [] }]
    const after = [...before, { id: 'SERVER:LAB/COM/8002/SS2', owner: 'MEMBER:LAB/COM/8002', serverCode: 'SS2', address: '127.0.0.1:5501', clients: ['SUBSYSTEM:LAB/COM/8002/client'] }]
    let refreshed = false
    const globalStatus = {
      anchorImported: true, anchorHash: 'AB', sources: [], available: true, instance: 'LAB', version: 6, downloadedAt: null, ageSeconds: null, expiresAt: null, expiresInSeconds: null,
      expired: false, lastError: null, memberCount: 2, serverCount: 1, approvedCaCount: 1, tsaCount: 1, light: 'green', explanation: 'Up to date',
    }
    const fail = async (): Promise<never> => {
      throw new AdminError('unsupported', 'not in this test')
    }
    const call = vi.fn(async (_domain: string, method: string) => {
      if (method === 'refresh') {
        refreshed = true
        return globalStatus
      }
      if (method === 'servers') return refreshed ? after : before
      if (method === 'timestampingServices') return { available: true, approved: [], selected: [], inUse: [] }
      if (_domain === 'initialization') return { anchor: null }
      return method === 'members' ? [] : globalStatus
    })
    setAdminClient({ transport: 'browser', session: fail, login: fail, setup: fail, logout: fail, call: call as AdminClient['call'] })
    render(<MantineProvider><GlobalConfPage /></MantineProvider>)
    const table = await screen.findByRole('table', { name: 'Security servers' })
    await within(table).findByText('LAB/GOV/7001/SS1')
    fireEvent.click(screen.getByRole('button', { name: 'Download now' }))
    expect(await within(table).findByText('LAB/COM/8002/SS2')).toBeTruthy()
    useGlobalConfStore.setState({ status: null, members: [], servers: [], loading: false, error: null })
  })
})

describe('Lab page helpers', () => {
  it('offers every member and subsystem, and only registrable auth certificates for a server code', () => {
    expect(clientOptions(members).map((o) => o.value)).toEqual(['MEMBER:DEMO/GOV/7001', 'SUBSYSTEM:DEMO/GOV/7001/portal', 'MEMBER:DEMO/COM/8002'])
    expect(registrableCertificates(certificates, 'ss2').map((c) => c.serial)).toEqual(['0B'])
    expect(registrableCertificates(certificates, 'ss1')).toEqual([])
    expect(commonName('C=DEMO, O=GOV, CN=7001')).toBe('7001')
  })
})

// @vitest-environment happy-dom
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react'
import { MantineProvider } from '@mantine/core'
import type {
  AccessMatrixRow, ClientDto, GlobalGroupDto, GlobalMemberDto, IsCertificateDto, LocalGroupDto, ServiceDto,
} from '@shared/admin-api/admin-api'
import type { ManagementRequestDto, ManagementServiceName } from '@shared/admin-api/management-api'
import { AdminError, setAdminClient, type AdminClient } from '../../src-renderer/lib/admin-client'
import { ServicesPage } from '../../src-renderer/features/services/ServicesPage'
import {
  clientDependents, endpointOnly, initialServices, rightsOfGroup, rightsOn, subsystemCodesOf, subsystemOptions, useServicesStore,
} from '../../src-renderer/features/services/services-store'

/**
 * The Clients and services screen with a fake admin client: the subsystem picker fed from global configuration, errors
 * at the field, registration notices, the confirm dialogs naming what goes and who loses access, the pickers of the
 * grant form, and the IS connection dialog.
 */
const OWNER = 'MEMBER:DEMO/GOV/7001'
const PORTAL = 'SUBSYSTEM:DEMO/GOV/7001/portal'
const BILLING = 'SUBSYSTEM:DEMO/GOV/7001/billing'
const WEATHER = 'SERVICE:DEMO/GOV/7001/billing/weather'

const client = (id: string, state: ClientDto['state'], owner = false): ClientDto => ({
  id, path: id.slice(id.indexOf(':') + 1), kind: id.startsWith('MEMBER') ? 'MEMBER' : 'SUBSYSTEM', state, isAuthentication: 'NOSSL', owner, name: 'Demo Agency',
  listedOnThisServer: state === 'REGISTERED' || owner, createdAt: '',
})
const members: GlobalMemberDto[] = [{ id: OWNER, name: 'Demo Agency', memberClass: 'GOV', subsystems: [PORTAL, 'SUBSYSTEM:DEMO/GOV/7001/archive'] }]
const globalGroups: GlobalGroupDto[] = [{ id: 'GLOBALGROUP:DEMO/owners', instance: 'DEMO', groupCode: 'owners', description: 'Server owners', members: [OWNER] }]
const weather: ServiceDto = {
  id: WEATHER, provider: BILLING, serviceCode: 'weather', serviceVersion: null, title: null, descriptionId: 1, descriptionType: 'REST', url: 'http://127.0.0.1:9/api', timeoutSeconds: 60, sslVerify: true, disabled: false, disabledNotice: null,
  endpoints: [{ method: '*', path: '**', generated: true }, { method: 'GET', path: '/forecast/*', generated: false }],
}
const right = (subject: string, kind: AccessMatrixRow['subjectKind'], endpoint = { method: '*', path: '**' }, memberIds: string[] = []): AccessMatrixRow => ({
  service: WEATHER, serviceCode: 'weather', provider: BILLING, disabled: false, endpoint, subject, subjectKind: kind,
  subjectLabel: kind === 'SUBSYSTEM' ? `Demo Agency · ${subject.slice(subject.indexOf(':') + 1)}` : `server label ${subject}`, members: memberIds,
})
const partners: LocalGroupDto = { owner: BILLING, groupCode: 'partners', description: 'Partner agencies', members: [PORTAL] }

interface World {
  clients: ClientDto[]
  services: ServiceDto[]
  matrix: AccessMatrixRow[]
  groups: LocalGroupDto[]
  certificates: IsCertificateDto[]
  requests: ManagementRequestDto[]
  /** Global configuration's management service provider. */
  provider?: string
}

/** What the central server answers: the next request id, the request stored as open on this server. */
function sent(world: World, service: ManagementServiceName, subject: string, detail: string | null = null) {
  const request: ManagementRequestDto = {
    id: world.requests.length + 1, service, subject, detail, messageId: `m${world.requests.length}`, requestId: 40 + world.requests.length,
    sentAt: '', sentBy: 'admin', status: 'SUBMITTED', settledAt: null,
  }
  world.requests.unshift(request)
  return { dryRun: false, service, via: 'client-proxy', target: 'DEMO/GOV/1/mgmt', messageId: request.messageId, requestId: request.requestId, request, message: null }
}

/** An admin client over an in-memory server; `refuse` makes one method fail with an AdminError. */
function fakeServer(world: World, refuse: Record<string, AdminError> = {}) {
  const calls: Array<[string, string, unknown]> = []
  const call = vi.fn(async (domain: string, method: string, input?: unknown) => {
    calls.push([domain, method, input])
    const refusal = refuse[`${domain}.${method}`]
    if (refusal !== undefined) throw refusal
    const arg = (input ?? {}) as Record<string, unknown>
    switch (`${domain}.${method}`) {
      case 'clients.list': return world.clients
      case 'services.list': return world.services
      case 'accessRights.matrix': return world.matrix
      case 'globalConf.members': return members
      case 'globalConf.globalGroups': return globalGroups
      case 'localGroups.list': return world.groups.filter((g) => g.owner === arg.client)
      case 'serviceDescriptions.list': return []
      case 'clients.add': world.clients.push(client(`SUBSYSTEM:${String(arg.client)}`, 'SAVED')); return world.clients.at(-1)
      case 'management.requests': return world.requests.filter((r) => r.status === 'SUBMITTED')
      case 'management.registerClient': {
        (world.clients.find((x) => x.id === arg.client) as ClientDto).state = 'REGISTRATION_IN_PROGRESS'
        return sent(world, 'clientReg', String(arg.client))
      }
      case 'management.unregisterClient': {
        (world.clients.find((x) => x.id === arg.client) as ClientDto).state = 'DELETION_IN_PROGRESS'
        return sent(world, 'clientDeletion', String(arg.client))
      }
      case 'management.disableClient': return sent(world, 'clientDisable', String(arg.client))
      case 'management.enableClient': return sent(world, 'clientEnable', String(arg.client))
      case 'management.changeOwner': return sent(world, 'ownerChange', 'server', String(arg.member))
      case 'management.serviceProvider': return { providerId: world.provider ?? null }
      case 'management.renameClient': return sent(world, 'clientRename', String(arg.client), String(arg.subsystemName))
      case 'clients.delete': world.clients = world.clients.filter((x) => x.id !== arg.client); return { services: [], accessRights: 0, localGroups: [], isCertificates: 0, rightsAsSubject: 0, groupMemberships: 0 }
      case 'clients.setIsAuthentication': (world.clients.find((x) => x.id === arg.client) as ClientDto).isAuthentication = arg.mode as ClientDto['isAuthentication']; return undefined
      case 'clients.isCertificates': return world.certificates
      case 'services.delete': world.services = []; world.matrix = []; return []
      case 'services.deleteEndpoint': return weather
      case 'accessRights.grant': return []
      case 'accessRights.revoke': world.matrix = world.matrix.filter((r) => r.subject !== arg.subject); return []
      case 'localGroups.delete': world.groups = []; return []
      default: throw new Error(`unexpected ${domain}.${method}`)
    }
  })
  const fail = async (): Promise<never> => {
    throw new AdminError('unsupported', 'not in this test')
  }
  const admin: AdminClient = { transport: 'browser', session: fail, login: fail, setup: fail, logout: fail, call: call as AdminClient['call'] }
  setAdminClient(admin)
  return { call, calls }
}

function world(partial: Partial<World> = {}): World {
  return { clients: [client(OWNER, 'SAVED', true), client(BILLING, 'SAVED'), client(PORTAL, 'REGISTERED')], services: [], matrix: [], groups: [], certificates: [], requests: [], ...partial }
}

/**
 * An option of an opened picker. happy-dom never finishes Mantine's dropdown transition, so the list stays `display: none`
 * here; the option is still the real one (its click selects it). Chromium shows it for real in tests/e2e/services.e2e.test.ts.
 */
function findOption(name: string): Promise<HTMLElement> {
  return screen.findByRole('option', { name, hidden: true })
}

function page() {
  return render(<MantineProvider><ServicesPage /></MantineProvider>)
}

beforeAll(() => {
  if (!('fonts' in document)) Object.defineProperty(document, 'fonts', { configurable: true, value: { addEventListener: () => undefined, removeEventListener: () => undefined } })
})

afterEach(() => {
  cleanup()
  setAdminClient(undefined)
  useServicesStore.setState(initialServices)
})

describe('picker options and what goes with a deletion', () => {
  it('groups global-configuration subsystems under their member, leaving out those already here', () => {
    expect(subsystemOptions(members, [PORTAL])).toEqual([{ group: 'Demo Agency · DEMO/GOV/7001', items: ['DEMO/GOV/7001/archive'] }])
    expect(subsystemOptions(members, [PORTAL, 'SUBSYSTEM:DEMO/GOV/7001/archive'])).toEqual([])
    expect(subsystemCodesOf(members, OWNER, [PORTAL])).toEqual(['archive'])
    expect(subsystemCodesOf(members, 'MEMBER:DEMO/GOV/9', [])).toEqual([])
  })

  it('finds the services, rights, groups and memberships a client deletion takes along', () => {
    const portalGroup: LocalGroupDto = { owner: PORTAL, groupCode: 'internal', description: '', members: [BILLING] }
    const portalRight: AccessMatrixRow = { ...right(BILLING, 'SUBSYSTEM'), service: 'SERVICE:DEMO/GOV/7001/portal/news', serviceCode: 'news', provider: PORTAL }
    const state = { services: [weather], matrix: [right(PORTAL, 'SUBSYSTEM'), portalRight], groups: [partners, portalGroup] }
    const d = clientDependents(state, BILLING)
    expect(d.services.map((s) => s.serviceCode)).toEqual(['weather'])
    expect(d.rights.map((r) => r.subject)).toEqual([PORTAL])
    expect(d.groups.map((g) => g.groupCode)).toEqual(['partners'])
    expect(d.rightsAsSubject.map((r) => r.serviceCode)).toEqual(['news'])
    expect(d.memberships.map((g) => g.groupCode)).toEqual(['internal'])
    expect(rightsOn([right(PORTAL, 'SUBSYSTEM', { method: 'GET', path: '/forecast/*' })], WEATHER, { method: 'GET', path: '/forecast/*' })).toHaveLength(1)
    expect(rightsOn([right(PORTAL, 'SUBSYSTEM')], WEATHER, { method: 'GET', path: '/forecast/*' })).toHaveLength(0)
    expect(rightsOfGroup([right('LOCALGROUP:partners', 'LOCALGROUP')], BILLING, 'partners')).toHaveLength(1)
    expect(endpointOnly({ method: 'GET', path: '/x', generated: false } as never)).toEqual({ method: 'GET', path: '/x' })
  })
})

describe('clients', () => {
  it('adds a subsystem of a member picked from global configuration, and shows a refusal at the field', async () => {
    const { call } = fakeServer(world(), { 'clients.add': new AdminError('conflict', 'Client exists', 'client') })
    page()
    expect(await screen.findByRole('table', { name: 'Clients' })).toBeTruthy()
    const form = screen.getByRole('form', { name: 'Add a subsystem' })
    await waitFor(() => expect((within(form).getByRole('combobox', { name: 'Member' }) as HTMLInputElement).value).toBe('Demo Agency · DEMO/GOV/7001'))
    fireEvent.change(within(form).getByRole('combobox', { name: 'Subsystem code' }), { target: { value: 'billing' } })
    fireEvent.click(within(form).getByRole('button', { name: 'Add subsystem' }))
    expect(await within(form).findByText('This already exists.')).toBeTruthy()
    expect(call).toHaveBeenCalledWith('clients', 'add', { client: 'DEMO/GOV/7001/billing' })
  })

  it('takes a typed identifier for a member global configuration does not list', async () => {
    const { call } = fakeServer(world())
    page()
    const form = await screen.findByRole('form', { name: 'Add a subsystem' })
    fireEvent.click(within(form).getByLabelText('The member is not in global configuration yet: type the identifier'))
    fireEvent.change(within(form).getByRole('textbox', { name: /Client identifier/ }), { target: { value: ' DEMO/COM/42/app ' } })
    fireEvent.click(within(form).getByRole('button', { name: 'Add subsystem' }))
    await waitFor(() => expect(call).toHaveBeenCalledWith('clients', 'add', { client: 'DEMO/COM/42/app' }))
  })

  it('registers a saved subsystem through a management request and shows its request id until confirmed; the owner offers no removal', async () => {
    const { call } = fakeServer(world())
    page()
    fireEvent.click(await screen.findByRole('button', { name: 'Register DEMO/GOV/7001/billing' }))
    expect((await screen.findByRole('status')).textContent).toContain('Registration request #40 for DEMO/GOV/7001/billing sent to the central server')
    expect(call).toHaveBeenCalledWith('management', 'registerClient', { client: BILLING })
    expect(await screen.findByText('Registration in progress — request #40, waiting for global configuration')).toBeTruthy()
    expect(screen.getByText('Registration in progress')).toBeTruthy()
    const ownerRow = within(screen.getByRole('table', { name: 'Clients' })).getByText('owner').closest('tr') as HTMLElement
    expect(within(ownerRow).getByText(/cannot be unregistered or deleted/)).toBeTruthy()
    expect(within(ownerRow).queryByRole('button', { name: /Delete|Unregister|Register/ })).toBeNull()
  })

  it('disables, enables, unregisters (after confirming) and renames through management requests, showing the derived states', async () => {
    const w = world({ clients: [client(OWNER, 'SAVED', true), client(BILLING, 'DISABLED'), client(PORTAL, 'REGISTERED')] })
    w.clients[1] = { ...client(BILLING, 'DISABLED'), listedOnThisServer: true }
    const { call } = fakeServer(w)
    page()
    fireEvent.click(await screen.findByRole('button', { name: 'Enable DEMO/GOV/7001/billing' }))
    expect(await screen.findByText('Enabling in progress — request #40, waiting for global configuration')).toBeTruthy()
    expect(screen.getByText('Enabling in progress')).toBeTruthy()
    expect(screen.queryByRole('button', { name: 'Enable DEMO/GOV/7001/billing' })).toBeNull()
    expect(call).toHaveBeenCalledWith('management', 'enableClient', { client: BILLING })

    fireEvent.click(screen.getByRole('button', { name: 'Disable DEMO/GOV/7001/portal' }))
    fireEvent.click(within(await screen.findByRole('dialog')).getByRole('button', { name: 'Disable' }))
    expect(await screen.findByText('Disabling in progress — request #41, waiting for global configuration')).toBeTruthy()
    expect(call).toHaveBeenCalledWith('management', 'disableClient', { client: PORTAL })
    expect(screen.queryByRole('button', { name: 'Disable DEMO/GOV/7001/portal' })).toBeNull()

    fireEvent.click(screen.getByRole('button', { name: 'Rename DEMO/GOV/7001/portal' }))
    fireEvent.change(screen.getByRole('textbox', { name: 'New subsystem name of DEMO/GOV/7001/portal' }), { target: { value: ' Citizen portal ' } })
    fireEvent.click(screen.getByRole('button', { name: 'Send' }))
    expect(await screen.findByText('Rename to “Citizen portal” in progress — request #42, waiting for global configuration')).toBeTruthy()
    expect(call).toHaveBeenCalledWith('management', 'renameClient', { client: PORTAL, subsystemName: 'Citizen portal' })

    fireEvent.click(screen.getByRole('button', { name: 'Unregister DEMO/GOV/7001/portal' }))
    const dialog = await screen.findByRole('dialog')
    expect(within(dialog).getByText(/will no longer be a client of this server/)).toBeTruthy()
    fireEvent.click(within(dialog).getByRole('button', { name: 'Unregister' }))
    expect(await screen.findByText('Deletion in progress — request #43, waiting for global configuration')).toBeTruthy()
    expect(call).toHaveBeenCalledWith('management', 'unregisterClient', { client: PORTAL })
  })

  it('makes a registered member the owner after confirming, with the request id until confirmed; the management services\' subsystem offers no disable nor unregister', async () => {
    const NEWCO = 'MEMBER:DEMO/COM/8008'
    const MANAGEMENT = 'SUBSYSTEM:DEMO/GOV/7001/MANAGEMENT'
    const { call } = fakeServer(world({ clients: [client(OWNER, 'REGISTERED', true), client(NEWCO, 'REGISTERED'), client(MANAGEMENT, 'REGISTERED')], provider: MANAGEMENT }))
    page()
    const table = within(await screen.findByRole('table', { name: 'Clients' }))
    const managementRow = (await table.findByText('DEMO/GOV/7001/MANAGEMENT')).closest('tr') as HTMLElement
    expect(within(managementRow).getByText(/Provides the management services of the instance/)).toBeTruthy()
    expect(within(managementRow).queryByRole('button', { name: /Disable|Unregister/ })).toBeNull()
    expect(within(managementRow).getByRole('button', { name: 'Rename DEMO/GOV/7001/MANAGEMENT' })).toBeTruthy()
    // Only a member becomes owner.
    expect(screen.queryByRole('button', { name: 'Make DEMO/GOV/7001/MANAGEMENT the owner of this server' })).toBeNull()

    fireEvent.click(screen.getByRole('button', { name: 'Make DEMO/COM/8008 the owner of this server' }))
    const dialog = within(await screen.findByRole('dialog'))
    expect(dialog.getByText(/signed with the signing key of DEMO\/COM\/8008/)).toBeTruthy()
    expect(dialog.getByText(/DEMO\/GOV\/7001, the owner until then, stays a client of this server/)).toBeTruthy()
    fireEvent.click(dialog.getByRole('button', { name: 'Send owner change request' }))
    expect((await screen.findByRole('status')).textContent).toContain('Owner change request #40 for DEMO/COM/8008 sent to the central server')
    expect(call).toHaveBeenCalledWith('management', 'changeOwner', { member: NEWCO })
    const newcoRow = screen.getByText('DEMO/COM/8008').closest('tr') as HTMLElement
    expect(within(newcoRow).getByText('Becoming the owner — request #40, waiting for the central server’s approval and global configuration')).toBeTruthy()
    // One owner change at a time (the central server refuses a second one).
    expect(screen.queryByRole('button', { name: 'Make DEMO/COM/8008 the owner of this server' })).toBeNull()
  })

  it('explains the central server\'s refusal of an owner change in the dialog', async () => {
    const NEWCO = 'MEMBER:DEMO/COM/8008'
    fakeServer(world({ clients: [client(OWNER, 'REGISTERED', true), client(NEWCO, 'REGISTERED')] }), {
      'management.changeOwner': new AdminError('internal_error', 'management_request_owner_must_be_client with statusCode 400'),
    })
    page()
    fireEvent.click(await screen.findByRole('button', { name: 'Make DEMO/COM/8008 the owner of this server' }))
    fireEvent.click(within(await screen.findByRole('dialog')).getByRole('button', { name: 'Send owner change request' }))
    const dialog = within(await screen.findByRole('dialog'))
    const alert = await dialog.findByRole('alert')
    expect(alert.textContent).toContain('management_request_owner_must_be_client with statusCode 400')
    expect(alert.textContent).toContain('does not list this member as a client of this security server. Register it as a client first')
  })

  it('shows the central server\'s refusal in words and leaves the row as it was', async () => {
    fakeServer(world(), { 'management.registerClient': new AdminError('InvalidRequest', 'Member DEMO:GOV:7001 has no subsystem billing', 'client') })
    page()
    fireEvent.click(await screen.findByRole('button', { name: 'Register DEMO/GOV/7001/billing' }))
    expect((await screen.findByRole('alert')).textContent).toContain('Member DEMO:GOV:7001 has no subsystem billing')
    expect(screen.getByRole('button', { name: 'Register DEMO/GOV/7001/billing' })).toBeTruthy()
    expect(screen.queryByRole('note')).toBeNull()
  })

  it('says where to look when the request never reached a management service (a lab that does not serve them)', async () => {
    fakeServer(world(), { 'management.registerClient': new AdminError('server.clientproxy.unknown_member', 'Could not find addresses for service provider SUBSYSTEM:DEMO/ORG/LAB/MANAGEMENT') })
    page()
    fireEvent.click(await screen.findByRole('button', { name: 'Register DEMO/GOV/7001/billing' }))
    expect((await screen.findByRole('alert')).textContent).toContain('Could not find addresses for service provider')
    expect(screen.getByRole('note').textContent).toContain('open the Lab page, tab “Management requests”, and choose “Serve the management services on this server” first')
  })

  it('offers only deletion for a disabled client the instance no longer lists on this server', async () => {
    fakeServer(world({ clients: [client(OWNER, 'SAVED', true), { ...client(BILLING, 'DISABLED'), listedOnThisServer: false }, { ...client(PORTAL, 'DISABLED'), listedOnThisServer: true }] }))
    page()
    expect(await screen.findByRole('button', { name: 'Delete DEMO/GOV/7001/billing' })).toBeTruthy()
    expect(screen.queryByRole('button', { name: 'Enable DEMO/GOV/7001/billing' })).toBeNull()
    expect(screen.queryByRole('button', { name: 'Unregister DEMO/GOV/7001/billing' })).toBeNull()
    expect(screen.getByText('Removed from this server by the instance: it can be deleted here.')).toBeTruthy()
    expect(screen.getByRole('button', { name: 'Enable DEMO/GOV/7001/portal' })).toBeTruthy()
    expect(screen.queryByRole('button', { name: 'Delete DEMO/GOV/7001/portal' })).toBeNull()
  })

  it('lists what goes before deleting a client and shows the server\'s refusal in the dialog', async () => {
    const { call } = fakeServer(world({ services: [weather], matrix: [right(PORTAL, 'SUBSYSTEM')], groups: [partners] }), {
      'clients.delete': new AdminError('action_not_possible', 'Client is REGISTERED: unregister it before deleting it', 'state'),
    })
    page()
    fireEvent.click(await screen.findByRole('button', { name: 'Delete DEMO/GOV/7001/billing' }))
    const dialog = await screen.findByRole('dialog')
    expect(within(dialog).getByText('Its service goes with it, with its endpoints: weather.')).toBeTruthy()
    expect(within(dialog).getByText('This caller loses access to them: Demo Agency · DEMO/GOV/7001/portal.')).toBeTruthy()
    expect(within(dialog).getByText('Its local group is deleted: partners.')).toBeTruthy()
    fireEvent.click(within(dialog).getByRole('button', { name: 'Delete the client' }))
    expect(await within(dialog).findByText('Client is REGISTERED: unregister it before deleting it')).toBeTruthy()
    expect(call).toHaveBeenCalledWith('clients', 'delete', { client: BILLING })
  })

  it('sets the connection type from the dialog and refuses a file that is not a certificate at the upload', async () => {
    const { call } = fakeServer(
      world({ certificates: [{ sha256: 'ab'.repeat(32), subject: 'CN=orders-app', issuer: 'CN=CA', notBefore: '2025-01-01T00:00:00Z', notAfter: '2030-01-01T00:00:00Z', addedAt: '' }] }),
      { 'clients.addIsCertificate': new AdminError('incorrect_certificate', 'The file is not a PEM or DER X.509 certificate', 'content') },
    )
    page()
    fireEvent.click(await screen.findByRole('button', { name: 'Connection and certificates of DEMO/GOV/7001/portal' }))
    const dialog = await screen.findByRole('dialog')
    expect(await within(dialog).findByText('CN=orders-app')).toBeTruthy()
    fireEvent.click(within(dialog).getByRole('radio', { name: /HTTPS with client certificate/ }))
    await waitFor(() => expect(call).toHaveBeenCalledWith('clients', 'setIsAuthentication', { client: PORTAL, mode: 'SSLAUTH' }))
    expect(within(dialog).getByRole('button', { name: 'Delete certificate CN=orders-app' })).toBeTruthy()
    const upload = document.querySelector('input[type=file]') as HTMLInputElement
    fireEvent.change(upload, { target: { files: [new File(['-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n'], 'app.pem')] } })
    expect(await within(dialog).findByText('The file is not a PEM or DER certificate.')).toBeTruthy()
    expect(call).toHaveBeenCalledWith('clients', 'addIsCertificate', { client: PORTAL, content: expect.stringContaining('BEGIN CERTIFICATE'), encoding: 'utf8' })
  })
})

describe('services, access rights and local groups', () => {
  it('names who loses access before deleting a service, and keeps the generated endpoint', async () => {
    const { call } = fakeServer(world({ services: [weather], matrix: [right(PORTAL, 'SUBSYSTEM'), right('LOCALGROUP:partners', 'LOCALGROUP', { method: 'GET', path: '/forecast/*' }, [PORTAL])] }))
    page()
    fireEvent.click(await screen.findByRole('tab', { name: /^Services/ }))
    const card = await screen.findByRole('region', { name: 'Service weather' })
    const endpoints = within(card).getByRole('table', { name: 'Endpoints of weather' })
    expect(within(endpoints).getByText('Made with the service; cannot be changed')).toBeTruthy()
    expect(within(endpoints).getAllByRole('button', { name: /^Delete endpoint/ })).toHaveLength(1)
    fireEvent.click(within(card).getByRole('button', { name: 'Delete endpoint GET /forecast/*' }))
    const endpointDialog = await screen.findByRole('dialog')
    expect(within(endpointDialog).getByText('This caller loses access to it: Local group partners.')).toBeTruthy()
    fireEvent.click(within(endpointDialog).getByRole('button', { name: 'Delete the endpoint' }))
    await waitFor(() => expect(call).toHaveBeenCalledWith('services', 'deleteEndpoint', { service: WEATHER, endpoint: { method: 'GET', path: '/forecast/*' } }))
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull())

    fireEvent.click(within(card).getByRole('button', { name: 'Delete service weather' }))
    const dialog = await screen.findByRole('dialog')
    expect(within(dialog).getByText('Service weather and its 2 endpoints are deleted.')).toBeTruthy()
    expect(within(dialog).getByText('These 2 callers lose access: Demo Agency · DEMO/GOV/7001/portal; Local group partners.')).toBeTruthy()
    fireEvent.click(within(dialog).getByRole('button', { name: 'Delete the service' }))
    await waitFor(() => expect(call).toHaveBeenCalledWith('services', 'delete', { service: WEATHER }))
    expect(await screen.findByText('No services yet.')).toBeTruthy()
  })

  it('grants to a local group of the provider on one endpoint, and to a global group from the picker', async () => {
    const { call } = fakeServer(world({ services: [weather], groups: [partners] }))
    page()
    fireEvent.click(await screen.findByRole('tab', { name: /^Access rights/ }))
    const form = await screen.findByRole('form', { name: 'Grant access' })
    expect((within(form).getByRole('button', { name: 'Grant access' }) as HTMLButtonElement).disabled).toBe(true)
    fireEvent.click(within(form).getByRole('combobox', { name: 'Endpoint' }))
    fireEvent.click(await findOption('GET /forecast/*'))
    fireEvent.click(within(form).getByRole('radio', { name: 'Local group' }))
    fireEvent.click(within(form).getByRole('combobox', { name: 'Local group of the provider' }))
    fireEvent.click(await findOption('partners · Partner agencies'))
    fireEvent.click(within(form).getByRole('button', { name: 'Grant access' }))
    await waitFor(() => expect(call).toHaveBeenCalledWith('accessRights', 'grant', { service: WEATHER, subject: 'LOCALGROUP:partners', endpoint: { method: 'GET', path: '/forecast/*' } }))

    fireEvent.click(within(form).getByRole('radio', { name: 'Global group' }))
    fireEvent.click(within(form).getByRole('combobox', { name: 'Global group' }))
    fireEvent.click(await findOption('owners · Server owners (DEMO)'))
    fireEvent.click(within(form).getByRole('button', { name: 'Grant access' }))
    await waitFor(() => expect(call).toHaveBeenCalledWith('accessRights', 'grant', expect.objectContaining({ subject: 'GLOBALGROUP:DEMO/owners' })))
  })

  it('asks before revoking and names the group members who lose access', async () => {
    const { call } = fakeServer(world({ services: [weather], groups: [partners], matrix: [right('LOCALGROUP:partners', 'LOCALGROUP', { method: 'GET', path: '/forecast/*' }, [PORTAL])] }))
    page()
    fireEvent.click(await screen.findByRole('tab', { name: /^Access rights/ }))
    fireEvent.click(await screen.findByRole('button', { name: 'Revoke access of Local group partners to weather' }))
    const dialog = await screen.findByRole('dialog')
    expect(within(dialog).getByText('Local group partners loses access to weather (GET /forecast/*).')).toBeTruthy()
    expect(within(dialog).getByText('Its member loses this access too: DEMO/GOV/7001/portal.')).toBeTruthy()
    expect(call).not.toHaveBeenCalledWith('accessRights', 'revoke', expect.anything())
    fireEvent.click(within(dialog).getByRole('button', { name: 'Revoke' }))
    await waitFor(() => expect(call).toHaveBeenCalledWith('accessRights', 'revoke', { service: WEATHER, subject: 'LOCALGROUP:partners', endpoint: { method: 'GET', path: '/forecast/*' } }))
    expect(await screen.findByText('Nobody may call any service yet: grant access above.')).toBeTruthy()
  })

  it('deletes a local group after naming the access rights that go with it', async () => {
    const { call } = fakeServer(world({ services: [weather], groups: [partners], matrix: [right('LOCALGROUP:partners', 'LOCALGROUP', { method: 'GET', path: '/forecast/*' }, [PORTAL])] }))
    page()
    fireEvent.click(await screen.findByRole('tab', { name: /^Local groups/ }))
    fireEvent.click(await screen.findByRole('button', { name: 'Delete group partners' }))
    const dialog = await screen.findByRole('dialog')
    expect(within(dialog).getByText('The access right naming it is removed too (service weather): its members DEMO/GOV/7001/portal lose that access.')).toBeTruthy()
    fireEvent.click(within(dialog).getByRole('button', { name: 'Delete the group' }))
    await waitFor(() => expect(call).toHaveBeenCalledWith('localGroups', 'delete', { client: BILLING, groupCode: 'partners' }))
    expect(await screen.findByText('No local groups yet.')).toBeTruthy()
  })
})

// @vitest-environment happy-dom
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react'
import { MantineProvider } from '@mantine/core'
import type {
  AccessMatrixRow, ClientDto, ServiceDescriptionChangeDto, ServiceDescriptionDto, ServiceDto,
} from '@shared/admin-api/admin-api'
import { AdminError, setAdminClient, type AdminClient } from '../../src-renderer/lib/admin-client'
import { ServicesPage } from '../../src-renderer/features/services/ServicesPage'
import { initialServices, serviceName, serviceNameOfId, useServicesStore } from '../../src-renderer/features/services/services-store'

/**
 * Service descriptions on the Services tab with a fake admin client: adding a WSDL (and its refusal at the URL field),
 * the description card opening onto its versioned services, Refresh showing what is added and removed and who loses
 * access before anything is applied, Disable with a notice, Delete naming the services; an OpenAPI description whose
 * warnings must be accepted.
 */
const PROVIDER = 'SUBSYSTEM:DEMO/GOV/7001/billing'
const WSDL_URL = 'http://127.0.0.1:9/random.wsdl'
const V1 = 'SERVICE:DEMO/GOV/7001/billing/getRandom;v=v1'

const client: ClientDto = {
  id: PROVIDER, path: 'DEMO/GOV/7001/billing', kind: 'SUBSYSTEM', state: 'REGISTERED', isAuthentication: 'NOSSL', owner: false, name: 'Demo Agency',
  listedOnThisServer: true, createdAt: '',
}
const soapService = (code: string, version: string | null, title: string | null = null): ServiceDto => ({
  id: `SERVICE:DEMO/GOV/7001/billing/${code}${version === null ? '' : `;v=${version}`}`, provider: PROVIDER, serviceCode: code, serviceVersion: version, title,
  descriptionId: 7, descriptionType: 'WSDL', url: 'http://127.0.0.1:9/soap', timeoutSeconds: 60, sslVerify: true, disabled: true, disabledNotice: 'Out of order',
  endpoints: [{ method: '*', path: '**', generated: true }],
})
const wsdl = (services: ServiceDto[], disabled = true, notice: string | null = 'Out of order'): ServiceDescriptionDto => ({
  id: 7, client: PROVIDER, type: 'WSDL', url: WSDL_URL, uploaded: false, disabled, disabledNotice: notice, refreshedAt: '2026-12-06T10:00:00.000Z',
  services: services.map((s) => ({ ...s, disabled, disabledNotice: notice })),
})
const right: AccessMatrixRow = {
  service: V1, serviceCode: 'getRandom', provider: PROVIDER, disabled: true, endpoint: { method: '*', path: '**' }, subject: 'SUBSYSTEM:DEMO/COM/5/app',
  subjectKind: 'SUBSYSTEM', subjectLabel: 'Partner · DEMO/COM/5/app', members: [],
}

interface World {
  descriptions: ServiceDescriptionDto[]
  matrix: AccessMatrixRow[]
}

function fakeServer(world: World, answers: Record<string, (input: Record<string, unknown>) => unknown> = {}) {
  const call = vi.fn(async (domain: string, method: string, input?: unknown) => {
    const arg = (input ?? {}) as Record<string, unknown>
    const answer = answers[`${domain}.${method}`]
    if (answer !== undefined) return answer(arg)
    switch (`${domain}.${method}`) {
      case 'clients.list': return [client]
      case 'services.list': return world.descriptions.flatMap((d) => d.services)
      case 'serviceDescriptions.list': return world.descriptions
      case 'accessRights.matrix': return world.matrix
      case 'globalConf.members': return []
      case 'globalConf.globalGroups': return []
      case 'management.requests': return []
      case 'management.serviceProvider': return { providerId: null }
      case 'localGroups.list': return []
      default: throw new Error(`unexpected ${domain}.${method}`)
    }
  })
  const fail = async (): Promise<never> => {
    throw new AdminError('unsupported', 'not in this test')
  }
  const admin: AdminClient = { transport: 'browser', session: fail, login: fail, setup: fail, logout: fail, call: call as AdminClient['call'] }
  setAdminClient(admin)
  return call
}

async function servicesTab(): Promise<void> {
  render(<MantineProvider><ServicesPage /></MantineProvider>)
  fireEvent.click(await screen.findByRole('tab', { name: /^Services/ }))
}

beforeAll(() => {
  if (!('fonts' in document)) Object.defineProperty(document, 'fonts', { configurable: true, value: { addEventListener: () => undefined, removeEventListener: () => undefined } })
})

afterEach(() => {
  cleanup()
  setAdminClient(undefined)
  useServicesStore.setState(initialServices)
})

describe('service names', () => {
  it('names a versioned service as X-Road does, from the DTO or the encoded id', () => {
    expect(serviceName({ serviceCode: 'getRandom', serviceVersion: 'v1' })).toBe('getRandom.v1')
    expect(serviceName({ serviceCode: 'pets', serviceVersion: null })).toBe('pets')
    expect(serviceNameOfId(V1)).toBe('getRandom.v1')
    expect(serviceNameOfId('SERVICE:DEMO/GOV/7001/billing/pets')).toBe('pets')
  })
})

describe('WSDL descriptions', () => {
  it('adds a WSDL by URL, says it starts disabled, and opens onto its versioned services', async () => {
    const world: World = { descriptions: [], matrix: [] }
    const added = wsdl([soapService('getRandom', 'v1', 'Random number'), soapService('helloService', 'v2')])
    const call = fakeServer(world, {
      'serviceDescriptions.addWsdl': () => {
        world.descriptions = [added]
        return added
      },
    })
    await servicesTab()
    fireEvent.click(await screen.findByText('WSDL'))
    const form = await screen.findByRole('form', { name: 'Add a WSDL' })
    fireEvent.change(within(form).getByRole('textbox', { name: /WSDL URL/ }), { target: { value: ` ${WSDL_URL} ` } })
    fireEvent.click(within(form).getByRole('button', { name: 'Add WSDL' }))
    await waitFor(() => expect(call).toHaveBeenCalledWith('serviceDescriptions', 'addWsdl', { client: PROVIDER, url: WSDL_URL }))
    expect((await within(form).findByRole('status')).textContent).toBe('WSDL added with 2 services. They are disabled (“Out of order”) until you enable them.')

    const card = await screen.findByRole('region', { name: `WSDL description ${WSDL_URL}` })
    expect(within(card).getByText('Notice to callers: Out of order')).toBeTruthy()
    expect(within(card).queryByRole('region', { name: 'Service getRandom.v1' })).toBeNull()
    fireEvent.click(within(card).getByRole('button', { name: 'Show its 2 services' }))
    const service = await within(card).findByRole('region', { name: 'Service getRandom.v1' })
    expect(within(service).getByText('Random number')).toBeTruthy()
    // Enabled, disabled and deleted with its WSDL; its URL, timeout and TLS verification are its own.
    expect(within(service).queryByRole('button', { name: /Delete service|Disable service|Enable service/ })).toBeNull()
    expect(within(service).getByRole('button', { name: 'Edit service getRandom.v1' })).toBeTruthy()
    expect(within(service).queryByRole('form', { name: /Add an endpoint/ })).toBeNull()
  })

  it('shows a refusal at the URL field in the reader’s words, with the server’s reason', async () => {
    fakeServer({ descriptions: [], matrix: [] }, {
      'serviceDescriptions.addWsdl': () => {
        throw new AdminError('invalid_wsdl', 'The WSDL declares a DTD or entities, which are refused (XXE)', 'url')
      },
    })
    await servicesTab()
    fireEvent.click(await screen.findByText('WSDL'))
    const form = await screen.findByRole('form', { name: 'Add a WSDL' })
    fireEvent.change(within(form).getByRole('textbox', { name: /WSDL URL/ }), { target: { value: WSDL_URL } })
    fireEvent.click(within(form).getByRole('button', { name: 'Add WSDL' }))
    expect(await within(form).findByText('This is not a usable WSDL: The WSDL declares a DTD or entities, which are refused (XXE)')).toBeTruthy()
  })

  it('refreshes after showing what is added and removed and who loses access; applies only when confirmed', async () => {
    const before = wsdl([soapService('getRandom', 'v1'), soapService('helloService', 'v2')], false, null)
    const after = wsdl([soapService('getRandom', 'v2'), soapService('helloService', 'v2')], false, null)
    const world: World = { descriptions: [before], matrix: [right] }
    const preview: ServiceDescriptionChangeDto = {
      applied: false, description: before,
      warnings: [{ code: 'adding_services', metadata: ['getRandom.v2'] }, { code: 'deleting_services', metadata: ['getRandom.v1'] }],
      accessRightsRemoved: [{ service: V1, endpoint: { method: '*', path: '**' }, subject: right.subject, subjectKind: 'SUBSYSTEM', subjectLabel: right.subjectLabel, grantedAt: '' }],
    }
    const call = fakeServer(world, {
      'serviceDescriptions.refresh': (input) => {
        if (input.ignoreWarnings !== true) return preview
        world.descriptions = [after]
        world.matrix = []
        return { ...preview, applied: true, description: after }
      },
    })
    await servicesTab()
    const card = await screen.findByRole('region', { name: `WSDL description ${WSDL_URL}` })
    fireEvent.click(within(card).getByRole('button', { name: `Refresh ${WSDL_URL}` }))
    const dialog = await screen.findByRole('dialog', { name: `Refresh ${WSDL_URL}?` })
    expect(within(dialog).getByText('1 service is added:')).toBeTruthy()
    expect(within(dialog).getByText('1 service is removed:')).toBeTruthy()
    expect(within(dialog).getByText('getRandom.v1')).toBeTruthy()
    expect(within(dialog).getByText('This access right goes with what is removed: Partner · DEMO/COM/5/app (getRandom.v1).')).toBeTruthy()
    expect(call).toHaveBeenCalledWith('serviceDescriptions', 'refresh', { id: 7, ignoreWarnings: false })
    expect(call).not.toHaveBeenCalledWith('serviceDescriptions', 'refresh', { id: 7, ignoreWarnings: true })
    fireEvent.click(within(dialog).getByRole('button', { name: 'Apply the changes' }))
    await waitFor(() => expect(call).toHaveBeenCalledWith('serviceDescriptions', 'refresh', { id: 7, ignoreWarnings: true }))
    expect((await within(card).findByRole('status')).textContent).toBe('Refreshed: 2 changes applied.')
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull())
  })

  it('disables with a notice and deletes naming the services and who loses access', async () => {
    const enabled = wsdl([soapService('getRandom', 'v1'), soapService('helloService', 'v2')], false, null)
    const world: World = { descriptions: [enabled], matrix: [right] }
    const call = fakeServer(world, {
      'serviceDescriptions.setEnabled': (input) => {
        world.descriptions = [wsdl(enabled.services, true, String(input.notice))]
        return world.descriptions[0]
      },
      'serviceDescriptions.delete': () => {
        world.descriptions = []
        world.matrix = []
        return []
      },
    })
    await servicesTab()
    const card = await screen.findByRole('region', { name: `WSDL description ${WSDL_URL}` })
    fireEvent.click(within(card).getByRole('button', { name: `Disable the services of ${WSDL_URL}` }))
    const dialog = await screen.findByRole('dialog', { name: `Disable the services of ${WSDL_URL}` })
    expect(within(dialog).getByText('Its 2 services answer callers with the service_disabled error and the notice below.')).toBeTruthy()
    fireEvent.change(within(dialog).getByRole('textbox', { name: /Notice to callers/ }), { target: { value: 'Back at 14:00' } })
    fireEvent.click(within(dialog).getByRole('button', { name: 'Disable' }))
    await waitFor(() => expect(call).toHaveBeenCalledWith('serviceDescriptions', 'setEnabled', { id: 7, enabled: false, notice: 'Back at 14:00' }))
    expect(await within(card).findByText('Notice to callers: Back at 14:00')).toBeTruthy()

    fireEvent.click(within(card).getByRole('button', { name: `Delete ${WSDL_URL}` }))
    const confirm = await screen.findByRole('dialog', { name: 'Delete this WSDL description?' })
    expect(within(confirm).getByText(`${WSDL_URL} is deleted with its 2 services (getRandom.v1, helloService.v2) and their endpoints.`)).toBeTruthy()
    expect(within(confirm).getByText('This caller loses access: Partner · DEMO/COM/5/app.')).toBeTruthy()
    fireEvent.click(within(confirm).getByRole('button', { name: 'Delete the description' }))
    await waitFor(() => expect(call).toHaveBeenCalledWith('serviceDescriptions', 'delete', { id: 7 }))
    expect(await screen.findByText('No services yet.')).toBeTruthy()
  })
})

describe('OpenAPI 3 descriptions', () => {
  it('shows the validation warnings and adds only when the person accepts them', async () => {
    const world: World = { descriptions: [], matrix: [] }
    const warnings = [{ code: 'openapi_validation_warnings' as const, metadata: ['attribute info is missing'] }]
    const call = fakeServer(world, {
      'serviceDescriptions.addOpenApi': (input) => (input.ignoreWarnings === true
        ? { applied: true, warnings, accessRightsRemoved: [], description: { ...wsdl([]), type: 'OPENAPI3', url: 'http://127.0.0.1:9/openapi.json', services: [] } }
        : { applied: false, warnings, accessRightsRemoved: [], description: null }),
    })
    await servicesTab()
    fireEvent.click(await screen.findByText('OpenAPI 3'))
    const form = await screen.findByRole('form', { name: 'Add an OpenAPI 3 description' })
    fireEvent.change(within(form).getByRole('textbox', { name: 'Service code' }), { target: { value: 'pets' } })
    fireEvent.change(within(form).getByRole('textbox', { name: /OpenAPI 3 description URL/ }), { target: { value: 'http://127.0.0.1:9/openapi.json' } })
    fireEvent.click(within(form).getByRole('button', { name: 'Add OpenAPI 3 description' }))
    const alert = await within(form).findByRole('alert')
    expect(within(alert).getByText('Validation warning:')).toBeTruthy()
    expect(within(alert).getByText('attribute info is missing')).toBeTruthy()
    fireEvent.click(within(alert).getByRole('button', { name: 'Add anyway' }))
    await waitFor(() => expect(call).toHaveBeenCalledWith('serviceDescriptions', 'addOpenApi', {
      client: PROVIDER, serviceCode: 'pets', url: 'http://127.0.0.1:9/openapi.json', ignoreWarnings: true,
    }))
    expect((await within(form).findByRole('status')).textContent).toMatch(/^OpenAPI 3 description added with 0 endpoints/)
  })
})

// @vitest-environment happy-dom
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react'
import { MantineProvider } from '@mantine/core'
import type { GlobalServerDto } from '@shared/admin-api/admin-api'
import type { ManagementRequestDto, ManagementServiceName } from '@shared/admin-api/management-api'
import { AdminError, setAdminClient, type AdminClient } from '../../src-renderer/lib/admin-client'
import { CentralServerCard } from '../../src-renderer/features/settings/CentralServerCard'

/** Settings' "This server at the central server": address change and maintenance mode as management requests. */
const SERVER = 'SERVER:DEMO/GOV/7001/ss1'

function fakeServer(refuse: Record<string, AdminError> = {}) {
  const server: GlobalServerDto = { id: SERVER, owner: 'MEMBER:DEMO/GOV/7001', serverCode: 'ss1', address: '10.0.0.1', inMaintenanceMode: false, clients: [] }
  const open: ManagementRequestDto[] = []
  const sent = (service: ManagementServiceName, detail: string | null) => {
    open.push({ id: open.length + 1, service, subject: 'server', detail, messageId: 'm', requestId: 70 + open.length, sentAt: '', sentBy: null, status: 'SUBMITTED', settledAt: null })
    return { requestId: 69 + open.length }
  }
  const call = vi.fn(async (domain: string, method: string, input?: unknown) => {
    const refusal = refuse[`${domain}.${method}`]
    if (refusal !== undefined) throw refusal
    const arg = (input ?? {}) as Record<string, string>
    switch (`${domain}.${method}`) {
      case 'initialization.status': return { initialized: true, owner: null, serverCode: 'ss1', serverId: SERVER, anchor: null, softwareTokenInitialized: true }
      case 'globalConf.servers': return [server]
      case 'management.requests': return open
      case 'management.changeAddress': return sent('addressChange', String(arg.address))
      case 'management.enableMaintenanceMode': return sent('maintenanceModeEnable', arg.message ?? null)
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

beforeAll(() => {
  if (!('fonts' in document)) Object.defineProperty(document, 'fonts', { configurable: true, value: { addEventListener: () => undefined, removeEventListener: () => undefined } })
})

afterEach(() => {
  cleanup()
  setAdminClient(undefined)
})

describe('this server at the central server', () => {
  it('sends an address change and maintenance mode on, showing each request id until global configuration confirms', async () => {
    const call = fakeServer()
    render(<MantineProvider><CentralServerCard /></MantineProvider>)
    expect(await screen.findByText('Address: 10.0.0.1')).toBeTruthy()
    const form = screen.getByRole('form', { name: 'Change the address' })
    fireEvent.change(within(form).getByRole('textbox', { name: /New address/ }), { target: { value: ' ss1.example.org ' } })
    fireEvent.click(within(form).getByRole('button', { name: 'Change address' }))
    expect((await screen.findByRole('status')).textContent).toContain('Request #70 sent to the central server')
    expect(call).toHaveBeenCalledWith('management', 'changeAddress', { address: 'ss1.example.org' })
    expect(await screen.findByText('Address change to ss1.example.org in progress — request #70, waiting for global configuration')).toBeTruthy()
    fireEvent.change(screen.getByRole('textbox', { name: /Message for clients/ }), { target: { value: 'Back at 18:00' } })
    fireEvent.click(screen.getByRole('button', { name: 'Turn maintenance mode on' }))
    expect(await screen.findByText('Maintenance mode on in progress — request #71, waiting for global configuration')).toBeTruthy()
    expect(call).toHaveBeenCalledWith('management', 'enableMaintenanceMode', { message: 'Back at 18:00' })
  })

  it('shows the central server\'s refusal at the address field', async () => {
    fakeServer({ 'management.changeAddress': new AdminError('InvalidRequest', 'Address ss1 is not a valid host name', 'address') })
    render(<MantineProvider><CentralServerCard /></MantineProvider>)
    const form = await screen.findByRole('form', { name: 'Change the address' })
    await screen.findByText('Address: 10.0.0.1')
    fireEvent.change(within(form).getByRole('textbox', { name: /New address/ }), { target: { value: 'ss1' } })
    fireEvent.click(within(form).getByRole('button', { name: 'Change address' }))
    expect(await within(form).findByText('Address ss1 is not a valid host name')).toBeTruthy()
    await waitFor(() => expect(screen.queryByRole('alert')).toBeNull())
  })
})

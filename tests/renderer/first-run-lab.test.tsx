// @vitest-environment happy-dom
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react'
import { MantineProvider } from '@mantine/core'
import { LAB_STEP_IDS, type InitializationStatus, type LabOperationDto, type LabStatus, type LabStepDto, type LabStepState, type TokenDto } from '@shared/admin-api/admin-api'
import { AdminError, setAdminClient, type AdminClient } from '../../src-renderer/lib/admin-client'
import { FirstRunPage } from '../../src-renderer/features/first-run/FirstRunPage'
import { initialFirstRun, useFirstRunStore } from '../../src-renderer/features/first-run/first-run-store'
import { initialLabWizard, labFormProblems, useLabWizardStore } from '../../src-renderer/features/first-run/lab-store'
import { KeysPage } from '../../src-renderer/features/keys/KeysPage'
import { setLanguage } from '../../src-renderer/i18n'
import { newPinProblem, useKeysStore } from '../../src-renderer/features/keys/keys-store'

/** The first-run wizard's "create a lab" path and the token screen's PIN change and PKCS#11 dialogs, with a fake admin client. */
function fakeClient(call: (domain: string, method: string, ...args: unknown[]) => Promise<unknown>): AdminClient {
  const fail = async (): Promise<never> => {
    throw new AdminError('unsupported', 'not in this test')
  }
  return { transport: 'browser', session: fail, login: fail, setup: fail, logout: fail, call: call as AdminClient['call'] }
}

const fresh: InitializationStatus = { initialized: false, owner: null, serverCode: null, serverId: null, anchor: null, softwareTokenInitialized: false }

function operation(state: LabOperationDto['state'], doneUpTo: number, anchor: LabOperationDto['anchor'] = null): LabOperationDto {
  return {
    state, startedAt: '2025-01-01T00:00:00Z', anchor, error: null,
    steps: LAB_STEP_IDS.map((id, i) => ({
      id, title: `Step ${id}`, state: (i < doneUpTo ? 'done' : i === doneUpTo ? 'running' : 'pending') as LabStepState, detail: i < doneUpTo ? `did ${id}` : null, outcome: null, params: {},
    })),
  }
}

const services = { running: true, ocspUrl: 'http://127.0.0.1:1', tsaUrl: 'http://127.0.0.1:2', configurationUrl: 'http://127.0.0.1:3/internalconf', problem: null }

beforeAll(() => {
  // happy-dom has no FontFaceSet; Mantine's autosize textareas (anchor XML, certificate PEM) listen on it.
  if (!('fonts' in document)) Object.defineProperty(document, 'fonts', { configurable: true, value: { addEventListener: () => undefined, removeEventListener: () => undefined } })
})

afterEach(() => {
  cleanup()
  setAdminClient(undefined)
  useFirstRunStore.setState(initialFirstRun)
  useLabWizardStore.setState(initialLabWizard)
  useKeysStore.setState({ tokens: [], keys: [], certificates: [], authorities: [], pkcs11Modules: [], loading: false, working: null, error: null })
})

describe('first-run wizard: create a lab', () => {
  it('explains the lab, refuses an incomplete form, creates, shows progress, and joins after the hash is noted', async () => {
    const calls: Array<[string, string, unknown]> = []
    let statusOp = operation('running', 3)
    const call = vi.fn(async (domain: string, method: string, arg?: unknown) => {
      calls.push([domain, method, arg])
      if (domain === 'initialization') return fresh
      if (method === 'create') return operation('running', 0)
      if (method === 'status') return { exists: true, instance: 'DEMO', services, operation: statusOp } satisfies LabStatus
      if (method === 'confirm') return operation('running', 8, { instance: 'DEMO', hash: 'AB:CD:EF' })
      throw new Error(`unexpected ${domain}.${method}`)
    })
    setAdminClient(fakeClient(call))
    render(<MantineProvider><FirstRunPage /></MantineProvider>)
    expect(await screen.findByRole('heading', { name: 'Join an X-Road instance' })).toBeTruthy()
    fireEvent.click(screen.getByText('Create a lab on this machine'))
    expect(await screen.findByRole('heading', { name: 'Create a lab on this machine' })).toBeTruthy()
    expect(screen.getByText(/This creates a small trust domain on this computer/)).toBeTruthy()

    fireEvent.click(screen.getByRole('button', { name: 'Create the lab' }))
    expect(await screen.findByText('Give the member code')).toBeTruthy()
    expect(screen.getByText('Give the organisation name')).toBeTruthy()
    expect(calls.some(([, m]) => m === 'create')).toBe(false)

    fireEvent.change(screen.getByLabelText(/^Instance name/), { target: { value: 'DEMO' } })
    fireEvent.change(screen.getByLabelText(/^Member code/), { target: { value: '7001' } })
    fireEvent.change(screen.getByLabelText(/^Member name/), { target: { value: 'Demo Agency' } })
    fireEvent.change(screen.getByLabelText(/^Token PIN/), { target: { value: 'Secret-1' } })
    fireEvent.change(screen.getByLabelText(/^Repeat token PIN/), { target: { value: 'Secret-2' } })
    fireEvent.click(screen.getByRole('button', { name: 'Create the lab' }))
    expect(await screen.findByText('The PINs differ')).toBeTruthy()
    expect(calls.some(([, m]) => m === 'create')).toBe(false)
    fireEvent.change(screen.getByLabelText(/^Repeat token PIN/), { target: { value: 'Secret-1' } })
    fireEvent.click(screen.getByRole('button', { name: 'Create the lab' }))
    await waitFor(() => expect(calls.find(([, m]) => m === 'create')?.[2]).toEqual({
      instance: 'DEMO', memberClass: 'GOV', memberCode: '7001', memberName: 'Demo Agency', subsystemCode: 'main', serverCode: 'SS1', softwareTokenPin: 'Secret-1',
    }))

    // Progress comes from polling lab.status while the operation runs.
    const steps = await screen.findByTestId('lab-steps')
    await waitFor(() => expect(within(steps).getAllByText('Done')).toHaveLength(3), { timeout: 3000 })
    expect(within(steps).getByText('did member')).toBeTruthy()
    statusOp = operation('awaiting-confirmation', 7, { instance: 'DEMO', hash: 'AB:CD:EF' })
    expect((await screen.findByTestId('lab-anchor-hash', undefined, { timeout: 3000 })).textContent).toBe('AB:CD:EF')
    const join = screen.getByRole('button', { name: 'Join the lab' })
    expect((join as HTMLButtonElement).disabled).toBe(true)
    fireEvent.click(screen.getByLabelText('I have noted the fingerprint of the lab anchor'))
    fireEvent.click(screen.getByRole('button', { name: 'Join the lab' }))
    await waitFor(() => expect(calls.find(([, m]) => m === 'confirm')?.[2]).toEqual({ confirmedHash: 'AB:CD:EF' }))
    statusOp = { ...operation('done', 9, { instance: 'DEMO', hash: 'AB:CD:EF' }) }
    expect(await screen.findByRole('heading', { name: 'The lab is ready' }, { timeout: 3000 })).toBeTruthy()
    expect(screen.getByText('http://127.0.0.1:1')).toBeTruthy()
  })

  it('shows a failed step with what to do, and starts over', async () => {
    const failed: LabOperationDto = { ...operation('failed', 4), error: { code: 'token_pin_policy_failure', message: 'The PIN must have at least 4 characters.' } }
    failed.steps[3] = { id: 'token', title: 'Open the software token', state: 'failed', detail: 'The PIN must have at least 4 characters.', outcome: 'failed', params: { code: 'token_pin_policy_failure' } }
    useLabWizardStore.setState({ operation: failed })
    setAdminClient(fakeClient(async (domain) => (domain === 'initialization' ? fresh : undefined)))
    render(<MantineProvider><FirstRunPage /></MantineProvider>)
    fireEvent.click(screen.getByText('Create a lab on this machine'))
    expect(await screen.findByRole('heading', { name: 'Creating the lab stopped' })).toBeTruthy()
    expect(screen.getAllByText(/The PIN must have at least 4 characters/).length).toBeGreaterThan(0)
    fireEvent.click(screen.getByRole('button', { name: 'Start over' }))
    expect(await screen.findByRole('button', { name: 'Create the lab' })).toBeTruthy()
  })

  it('translates each step from its id, outcome and parameters; the server’s English only for what it does not know', async () => {
    await setLanguage('pt-BR')
    try {
      const op = operation('running', 7, null)
      op.steps[6] = { ...op.steps[6] as LabStepDto, outcome: 'done', detail: 'English register text', params: { server: 'DEMO/GOV/7001/ss1', address: '127.0.0.1:5500', hash: 'abc=', subsystem: 'DEMO/GOV/7001/portal' } }
      op.steps[3] = { ...op.steps[3] as LabStepDto, outcome: 'created', detail: 'English token text' }
      op.steps[2] = { ...op.steps[2] as LabStepDto, outcome: 'from-a-newer-server', detail: 'Fallback member text' }
      useLabWizardStore.setState({ operation: op })
      setAdminClient(fakeClient(async (domain) => (domain === 'initialization' ? fresh : { exists: true, instance: 'DEMO', services, operation: op })))
      render(<MantineProvider><FirstRunPage /></MantineProvider>)
      fireEvent.click(screen.getByText('Criar um laboratório nesta máquina'))
      const steps = await screen.findByTestId('lab-steps')
      expect(within(steps).getByText('7. Registrar este servidor')).toBeTruthy()
      expect(within(steps).getByText('O servidor de segurança DEMO/GOV/7001/ss1 está registrado em 127.0.0.1:5500 com o certificado de autenticação (SHA-256 abc=) e atende DEMO/GOV/7001/portal.')).toBeTruthy()
      expect(within(steps).getByText('O token de software foi criado com o seu PIN e está com login feito.')).toBeTruthy()
      expect(within(steps).getByText('Fallback member text')).toBeTruthy()
      expect(within(steps).getAllByText('Concluído')).toHaveLength(7)
    } finally {
      await setLanguage('en')
    }
  })

  it('checks identifiers like the server does', () => {
    expect(labFormProblems({ ...initialLabWizard.form, memberCode: '12/3', memberName: 'X' }).memberCode).toMatch(/may not contain/)
    expect(labFormProblems({ ...initialLabWizard.form, memberCode: '123', memberName: 'X' })).toEqual({})
  })
})

describe('tokens: change PIN and add a PKCS#11 token', () => {
  const softToken: TokenDto = {
    id: '0', kind: 'software', label: '', serialNumber: '', state: 'logged-in', available: true, loggedIn: true, pinCountLow: false, pinFinalTry: false,
    pinLocked: false, manufacturer: null, model: null, keyCount: 2,
  }

  it('applies the software token PIN rules before sending', () => {
    const policy = { minLength: 4, minCharacterClasses: 1 }
    expect(newPinProblem('software', 'abc', 'abc', policy)).toMatch(/at least 4/)
    expect(newPinProblem('software', 'abcd', 'abce', policy)).toMatch(/differ/)
    expect(newPinProblem('software', 'abcdé', 'abcdé', policy)).toMatch(/ASCII/)
    expect(newPinProblem('software', 'abcd', 'abcd', { minLength: 4, minCharacterClasses: 3 })).toMatch(/Mix at least 3/)
    expect(newPinProblem('pkcs11', '12', '12', policy)).toBeNull()
  })

  it('changes the PIN with masked fields and the policy shown', async () => {
    const call = vi.fn(async (domain: string, method: string) => {
      if (domain === 'tokens' && method === 'list') return [softToken]
      if (method === 'changePin') return undefined
      return []
    })
    setAdminClient(fakeClient(call))
    render(<MantineProvider><KeysPage /></MantineProvider>)
    fireEvent.click(await screen.findByRole('button', { name: 'Change the PIN of token 0' }))
    expect((await screen.findByTestId('pin-policy')).textContent).toContain('at least 4 printable ASCII characters')
    for (const label of [/^Current PIN/, /^New PIN/, /^Repeat new PIN/]) expect((screen.getByLabelText(label) as HTMLInputElement).type).toBe('password')
    fireEvent.change(screen.getByLabelText(/^Current PIN/), { target: { value: 'old-pin' } })
    fireEvent.change(screen.getByLabelText(/^New PIN/), { target: { value: 'new-pin-1' } })
    fireEvent.change(screen.getByLabelText(/^Repeat new PIN/), { target: { value: 'new-pin-2' } })
    fireEvent.click(screen.getByRole('button', { name: 'Change PIN' }))
    expect(await screen.findByText('The new PINs differ')).toBeTruthy()
    expect(call).not.toHaveBeenCalledWith('tokens', 'changePin', expect.anything())
    fireEvent.change(screen.getByLabelText(/^Repeat new PIN/), { target: { value: 'new-pin-1' } })
    fireEvent.click(screen.getByRole('button', { name: 'Change PIN' }))
    await waitFor(() => expect(call).toHaveBeenCalledWith('tokens', 'changePin', { tokenId: '0', oldPin: 'old-pin', newPin: 'new-pin-1' }))
  })

  it('offers the installed PKCS#11 modules or a typed path, with the token label', async () => {
    const added: TokenDto = { ...softToken, id: 'pkcs11-1', kind: 'pkcs11', label: 'hsm', state: 'logged-out', loggedIn: false }
    const call = vi.fn(async (domain: string, method: string) => {
      if (method === 'hsmModules') return [{ id: 'softhsm2', name: 'SoftHSM 2', path: '/usr/lib/softhsm/libsofthsm2.so' }]
      if (method === 'addHsm') return added
      if (domain === 'tokens' && method === 'list') return [softToken]
      return []
    })
    setAdminClient(fakeClient(call))
    render(<MantineProvider><KeysPage /></MantineProvider>)
    fireEvent.click(await screen.findByRole('button', { name: 'Add a PKCS#11 token…' }))
    const dialog = await screen.findByRole('form', { name: 'Add a PKCS#11 token' })
    await waitFor(() => expect((within(dialog).getByLabelText(/^Module/) as HTMLInputElement).value).toContain('/usr/lib/softhsm/libsofthsm2.so'))
    fireEvent.change(within(dialog).getByLabelText(/^Token label/), { target: { value: ' hsm ' } })
    fireEvent.click(within(dialog).getByRole('button', { name: 'Add token' }))
    await waitFor(() => expect(call).toHaveBeenCalledWith('tokens', 'addHsm', { modulePath: '/usr/lib/softhsm/libsofthsm2.so', tokenLabel: 'hsm' }))
  })
})

// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from 'vitest'
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react'
import { MantineProvider } from '@mantine/core'
import type {
  CeremonyConfirmationInput, CeremonyEntryInfo, CeremonyParticipantInfo, CeremonyProgress, CeremonyReason, CeremonyTranscriptView,
} from '@shared/admin-api/admin-api'
import { AdminError, setAdminClient, type AdminClient } from '../../src-renderer/lib/admin-client'
import {
  confirmationProblem, initialCeremony, participantsProblem, stepInfo, useCeremonyStore, wizardStep,
} from '../../src-renderer/features/ceremony/ceremony-store'
import { CeremonyPage } from '../../src-renderer/features/ceremony/CeremonyPage'

/**
 * The ceremony wizard: which step comes next, the dual-control form checks, the store against a fake ceremony server
 * that refuses (and records) a step without two people, and the page showing the refusal, the masked passphrase
 * fields and the transcript timeline with its verdict.
 */
const ID = '1b2c3d4e-0000-4000-8000-000000000001'
const PEOPLE: CeremonyParticipantInfo[] = [
  { id: 'ada-admin', name: 'Ada Admin', role: 'administrator' },
  { id: 'carl-custodian', name: 'Carl Custodian', role: 'custodian' },
  { id: 'cleo-custodian', name: 'Cleo Custodian', role: 'custodian' },
  { id: 'wes-witness', name: 'Wes Witness', role: 'witness' },
]
const NOTHING: CeremonyProgress = { offlineChecked: false, token: null, loggedIn: false, key: null, csr: null, certificate: null, sealed: false }
const TOKEN = { label: 'ceremony-token', serialNumber: 'abc', modulePath: '/usr/lib/softhsm/libsofthsm2.so' }
const KEY = { label: 'sign-1', algorithm: 'ec-p256', usage: 'sign' as const, publicKeySha256: 'ab'.repeat(32) }

function entry(seq: number, step: string, outcome: CeremonyEntryInfo['outcome'] = 'done', details: Record<string, unknown> = {}, reason: CeremonyReason | null = null): CeremonyEntryInfo {
  return { seq, at: '2026-01-01T10:00:00.000Z', step, title: `Step ${step}`, outcome, actor: 'ada-admin', confirmedBy: [], details, reason, artifacts: [], hash: `h${seq}` }
}

/** The server's refusal of a key step confirmed by fewer than two people: its English text, code and parameters. */
function twoPeopleMissing(confirmed: number): CeremonyReason {
  return {
    text: `This step needs the confirmation of 2 different people (custodian or administrator); ${confirmed} confirmed`,
    code: 'confirmations-missing',
    params: { people: 2, confirmed, roles: 'custodian,administrator' },
  }
}

function viewOf(progress: Partial<CeremonyProgress>, entries: CeremonyEntryInfo[] = [], participants = PEOPLE): CeremonyTranscriptView {
  const all = { ...NOTHING, ...progress }
  return {
    ceremony: { id: ID, title: 'Signing key', kind: 'key', startedAt: '2026-01-01T09:00:00.000Z', participants, steps: entries.length, refusals: entries.filter((e) => e.outcome === 'refused').length, progress: all },
    entries,
    seal: all.sealed ? {
      algorithm: 'ECDSA-SHA256', keyLocation: 'PKCS#11 token ceremony-token (serial abc), key k9', publicKeyFingerprint: 'cd'.repeat(32), sealedAt: '2026-01-01T11:00:00.000Z',
      keyOn: { kind: 'token', token: 'ceremony-token', serialNumber: 'abc', keyId: 'k9' },
    } : null,
    verification: all.sealed
      ? { valid: true, problems: [], findings: [], sealed: true, sealFingerprint: 'cd'.repeat(32) }
      : { valid: false, problems: ['the transcript is not sealed'], findings: [{ code: 'not-sealed', params: {} }], sealed: false, sealFingerprint: null },
    file: { fileName: `transcript-${ID}.json`, mimeType: 'application/json', content: '{}', encoding: 'utf8' },
  }
}

/** A small stand-in for the server: records each step, refuses key steps without two distinct custodians. */
function fakeServer(initial = viewOf({}, [], [])) {
  let view = initial
  const record = (step: string, outcome: CeremonyEntryInfo['outcome'] = 'done', reason: CeremonyReason | null = null): void => {
    view = { ...view, entries: [...view.entries, entry(view.entries.length + 1, step, outcome, reason === null ? {} : { reason: reason.text }, reason)] }
  }
  const progress = (patch: Partial<CeremonyProgress>): void => {
    view = { ...view, ceremony: { ...view.ceremony, progress: { ...view.ceremony.progress, ...patch } } }
  }
  const dual = (step: string, confirmations: CeremonyConfirmationInput[]): void => {
    const ids = new Set(confirmations.map((c) => c.participant))
    if (ids.size < 2) {
      const reason = twoPeopleMissing(ids.size)
      record(step, 'refused', reason)
      throw new AdminError('server.ceremony_step_refused', reason.text, 'confirmations-missing', reason.params)
    }
  }
  const call = vi.fn(async (domain: string, method: string, ...args: unknown[]): Promise<unknown> => {
    const input = args[0] as Record<string, unknown> | undefined
    expect(domain).toBe('ceremony')
    switch (method) {
      case 'list': return [view.ceremony]
      case 'create': return view.ceremony
      case 'transcript': return view
      case 'addParticipant': {
        const p = { id: String(input?.name).toLowerCase().replace(/ /g, '-'), name: String(input?.name), role: input?.role } as CeremonyParticipantInfo
        view = { ...view, ceremony: { ...view.ceremony, participants: [...view.ceremony.participants, p] } }
        return p
      }
      case 'checkOffline':
        record('check-offline', 'warning')
        progress({ offlineChecked: true })
        return { offline: false, interfacesUp: ['eth0 10.0.0.5'] }
      case 'identifyToken':
        record('identify-token')
        progress({ token: TOKEN })
        return { label: 'ceremony-token', serialNumber: 'abc', manufacturer: 'SoftHSM project', model: 'SoftHSM v2', hardwareVersion: '2.6', firmwareVersion: '2.6', mechanisms: ['CKM_ECDSA'] }
      case 'login':
        if (input?.pin !== '1234') {
          record('login', 'refused', { text: 'The PIN is not correct', code: 'pin_incorrect', params: {} })
          throw new AdminError('signer.pin_incorrect', 'The PIN is not correct')
        }
        record('login')
        progress({ loggedIn: true })
        return view.ceremony
      case 'generateKey':
        dual('generate-key', input?.confirmations as CeremonyConfirmationInput[])
        record('generate-key')
        progress({ key: KEY })
        return { keyId: 'k1', label: 'sign-1', algorithm: 'ec-p256', publicKeySha256: KEY.publicKeySha256, attributes: {} }
      default:
        throw new AdminError('not_found', `unexpected ${method}`)
    }
  })
  return { call, view: () => view }
}

function fakeClient(call: (domain: string, method: string, ...args: unknown[]) => Promise<unknown>): AdminClient {
  const fail = async (): Promise<never> => {
    throw new AdminError('unsupported', 'not in this test')
  }
  return { transport: 'browser', session: fail, login: fail, setup: fail, logout: fail, call: call as AdminClient['call'] }
}

afterEach(() => {
  cleanup()
  setAdminClient(undefined)
  useCeremonyStore.setState(initialCeremony)
})

describe('ceremony wizard order', () => {
  it('resumes at the step the ceremony has reached, asking for the PIN again when the token session is gone', () => {
    expect(wizardStep(null)).toBe('participants')
    expect(wizardStep(viewOf({}))).toBe('participants')
    const started = [entry(1, 'check-offline', 'refused')]
    expect(wizardStep(viewOf({}, started))).toBe('offline')
    expect(wizardStep(viewOf({ offlineChecked: true }, started))).toBe('token')
    expect(wizardStep(viewOf({ offlineChecked: true, token: TOKEN }, started))).toBe('login')
    expect(wizardStep(viewOf({ offlineChecked: true, token: TOKEN, loggedIn: true }, started))).toBe('key')
    expect(wizardStep(viewOf({ offlineChecked: true, token: TOKEN, loggedIn: true, key: KEY }, started))).toBe('csr')
    expect(wizardStep(viewOf({ offlineChecked: true, token: TOKEN, loggedIn: false, key: KEY }, started))).toBe('login')
    const csr = { fileName: 'sign-1.csr.pem', sha256: 'ef'.repeat(32), hasQr: true }
    expect(wizardStep(viewOf({ offlineChecked: true, token: TOKEN, loggedIn: true, key: KEY, csr }, started))).toBe('certificate')
    expect(wizardStep(viewOf({ offlineChecked: true, token: TOKEN, loggedIn: true, key: KEY, csr }, started), true)).toBe('seal')
    expect(wizardStep(viewOf({ offlineChecked: true, token: TOKEN, loggedIn: false, key: KEY, csr }, started), true)).toBe('login')
    expect(wizardStep(viewOf({ sealed: true }, started))).toBe('done')
    expect(stepInfo('key').dualControl && stepInfo('csr').dualControl && stepInfo('seal').dualControl).toBe(true)
    expect(stepInfo('login').dualControl).toBe(false)
    expect(stepInfo('login').records).toMatch(/not stored, logged/)
  })

  it('asks for an administrator and two people who may confirm before the first step', () => {
    expect(participantsProblem([])).toMatch(/ceremony administrator/)
    expect(participantsProblem([PEOPLE[0]!, PEOPLE[3]!])).toMatch(/at least two people/)
    expect(participantsProblem([PEOPLE[0]!, PEOPLE[1]!])).toBeNull()
  })

  it('checks a dual-control form: two different people, both allowed to confirm, both with a passphrase', () => {
    const carl = { participant: 'carl-custodian', passphrase: 'p1' }
    expect(confirmationProblem([carl, { participant: '', passphrase: '' }], PEOPLE)).toMatch(/Choose two people/)
    expect(confirmationProblem([carl, carl], PEOPLE)).toMatch(/Two different people/)
    expect(confirmationProblem([carl, { participant: 'wes-witness', passphrase: 'p' }], PEOPLE)).toMatch(/Wes Witness is a witness and may not confirm/)
    expect(confirmationProblem([carl, { participant: 'cleo-custodian', passphrase: '' }], PEOPLE)).toMatch(/Cleo Custodian must enter/)
    expect(confirmationProblem([carl, { participant: 'ada-admin', passphrase: 'p2' }], PEOPLE)).toBeNull()
  })
})

describe('ceremony store', () => {
  it('walks participants, offline check, token and login, keeps a refused key step with the transcript reloaded', async () => {
    const server = fakeServer()
    setAdminClient(fakeClient(server.call))
    const store = useCeremonyStore.getState()
    await store.create('Signing key')
    expect(server.call).toHaveBeenCalledWith('ceremony', 'create', { title: 'Signing key', kind: 'key' })
    expect(useCeremonyStore.getState().view?.ceremony.id).toBe(ID)
    for (const p of PEOPLE) expect(await useCeremonyStore.getState().addParticipant({ name: p.name, role: p.role, passphrase: 'long passphrase' })).toBe(true)
    expect(useCeremonyStore.getState().view?.ceremony.participants).toHaveLength(4)
    await useCeremonyStore.getState().checkOffline()
    expect(useCeremonyStore.getState().offline?.interfacesUp).toEqual(['eth0 10.0.0.5'])
    expect(wizardStep(useCeremonyStore.getState().view)).toBe('token')
    await useCeremonyStore.getState().identifyToken({ modulePath: TOKEN.modulePath, tokenLabel: 'ceremony-token' })
    expect(useCeremonyStore.getState().token?.model).toBe('SoftHSM v2')

    expect(await useCeremonyStore.getState().login('9999')).toBe(false)
    expect((useCeremonyStore.getState().refusal as AdminError).code).toBe('signer.pin_incorrect')
    expect(await useCeremonyStore.getState().login('1234')).toBe(true)
    expect(useCeremonyStore.getState().refusal).toBeNull()
    expect(wizardStep(useCeremonyStore.getState().view)).toBe('key')

    const one = [{ participant: 'carl-custodian', passphrase: 'long passphrase' }]
    expect(await useCeremonyStore.getState().generateKey({ label: 'sign-1', algorithm: 'ec-p256' }, one)).toBe(false)
    const state = useCeremonyStore.getState()
    expect((state.refusal as AdminError).code).toBe('server.ceremony_step_refused')
    expect(state.view?.entries.at(-1)).toMatchObject({ step: 'generate-key', outcome: 'refused' })
    expect(state.working).toBeNull()
    expect(wizardStep(state.view)).toBe('key')

    const two = [...one, { participant: 'cleo-custodian', passphrase: 'long passphrase' }]
    expect(await useCeremonyStore.getState().generateKey({ label: 'sign-1', algorithm: 'ec-p256' }, two)).toBe(true)
    expect(server.call).toHaveBeenLastCalledWith('ceremony', 'transcript', { id: ID })
    expect(server.call).toHaveBeenCalledWith('ceremony', 'generateKey', { id: ID, label: 'sign-1', algorithm: 'ec-p256', confirmations: two })
    expect(wizardStep(useCeremonyStore.getState().view)).toBe('csr')
  })
})

describe('ceremony page', () => {
  it('shows who must be present, masked passphrase fields, the recorded refusal and the timeline with its verdict', async () => {
    const refused = entry(4, 'generate-key', 'refused', { reason: twoPeopleMissing(1).text }, twoPeopleMissing(1))
    const view = viewOf({ offlineChecked: true, token: TOKEN, loggedIn: true }, [entry(1, 'check-offline'), entry(2, 'identify-token'), entry(3, 'login'), refused])
    const server = fakeServer(view)
    setAdminClient(fakeClient(server.call))
    useCeremonyStore.setState({ view, refusal: new AdminError('server.ceremony_step_refused', twoPeopleMissing(1).text, 'confirmations-missing', twoPeopleMissing(1).params) })
    render(<MantineProvider><CeremonyPage /></MantineProvider>)

    expect(screen.getByRole('heading', { name: 'Step 5 of 8: Generate the key pair' })).toBeTruthy()
    expect(screen.getByText('Two people confirm')).toBeTruthy()
    expect(screen.getByText(/Two key custodians \(or a custodian and the administrator\)/)).toBeTruthy()
    const alert = screen.getByRole('alert')
    expect(within(alert).getByText('Refused')).toBeTruthy()
    expect(within(alert).getByText(/recorded in the transcript as step 4/)).toBeTruthy()
    expect((screen.getByLabelText("First person's passphrase") as HTMLInputElement).type).toBe('password')
    expect(screen.getByTestId('transcript-verdict').textContent).toBe('Not verified: not sealed yet')
    expect(screen.getAllByText(/2 different people/).length).toBeGreaterThanOrEqual(2)

    const fill = (first: string, second: string): void => {
      fireEvent.change(screen.getByLabelText('First person'), { target: { value: first } })
      fireEvent.change(screen.getByLabelText("First person's passphrase"), { target: { value: 'carl passphrase' } })
      fireEvent.change(screen.getByLabelText('Second person'), { target: { value: second } })
      fireEvent.change(screen.getByLabelText("Second person's passphrase"), { target: { value: 'cleo passphrase' } })
    }
    // The same person twice: the form says so, the server refuses, and the refusal is the new last entry.
    fill('carl-custodian', 'carl-custodian')
    expect(screen.getByText(/Two different people must confirm/)).toBeTruthy()
    fireEvent.click(screen.getByRole('button', { name: 'Generate key pair' }))
    await waitFor(() => expect(within(screen.getByRole('alert')).getByText(/recorded in the transcript as step 5/)).toBeTruthy())
    expect((screen.getByLabelText("First person's passphrase") as HTMLInputElement).value).toBe('')
    expect(screen.getAllByText('refused')).toHaveLength(2)

    fill('carl-custodian', 'cleo-custodian')
    fireEvent.click(screen.getByRole('button', { name: 'Generate key pair' }))
    await screen.findByRole('heading', { name: 'Step 6 of 8: Create the certificate request' })
    expect(server.call).toHaveBeenCalledWith('ceremony', 'generateKey', expect.objectContaining({
      id: ID, confirmations: [{ participant: 'carl-custodian', passphrase: 'carl passphrase' }, { participant: 'cleo-custodian', passphrase: 'cleo passphrase' }],
    }))
    expect(screen.queryByRole('alert')).toBeNull()
  })

  it('shows a sealed ceremony as verified with the seal fingerprint and the report download', () => {
    const view = viewOf({ sealed: true }, [entry(1, 'check-offline'), entry(2, 'prepare-seal')])
    setAdminClient(fakeClient(fakeServer(view).call))
    useCeremonyStore.setState({ view })
    render(<MantineProvider><CeremonyPage /></MantineProvider>)
    expect(screen.getByTestId('transcript-verdict').textContent).toBe('Verified')
    expect(screen.getByTestId('seal-fingerprint').textContent).toContain('cdcd cdcd')
    expect(screen.getByRole('button', { name: 'Download report (HTML)' })).toBeTruthy()
    expect(screen.getByText('key k9 on token ceremony-token (serial abc)')).toBeTruthy()
  })
})

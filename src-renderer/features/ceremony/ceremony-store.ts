import { create } from 'zustand'
import type {
  CeremonyConfirmationInput, CeremonyCsrDownload, CeremonyKeyAlgorithm, CeremonyParticipantInfo, CeremonyRoleName, CeremonySummary,
  CeremonyTokenInfo, CeremonyTranscriptView,
} from '@shared/admin-api/admin-api'
import { translate } from '../../i18n'
import { adminClient } from '../../lib/admin-client'
import { saveFile } from '../../lib/save-file'

/**
 * The ceremony wizard: the ceremonies on this server, the open one with its transcript, and each step in order.
 * Which step comes next is derived from what the transcript and the ceremony state say, so the wizard resumes where
 * a ceremony stopped. A refused step (missing second person, wrong passphrase, wrong PIN) is kept as `refusal`
 * and the transcript is reloaded: the refusal is itself a recorded entry.
 */
export const WIZARD_STEPS = ['participants', 'offline', 'token', 'login', 'key', 'csr', 'certificate', 'seal', 'done'] as const
export type WizardStep = (typeof WIZARD_STEPS)[number]

/** Steps that create or use the key: two distinct people confirm with their passphrases. */
export const DUAL_CONTROL_STEPS: ReadonlySet<WizardStep> = new Set(['key', 'csr', 'seal'])

export interface StepInfo {
  /** Short name in the step trail. */
  label: string
  title: string
  /** Who must be in the room. */
  present: string
  /** What the transcript records. */
  records: string
  /** Two distinct people confirm with their passphrases. */
  dualControl: boolean
}

/** A step's words in the language shown. */
export function stepInfo(step: WizardStep): StepInfo {
  const text = (part: 'label' | 'title' | 'present' | 'records'): string => translate(`ceremony:steps.${step}.${part}`)
  return { label: text('label'), title: text('title'), present: text('present'), records: text('records'), dualControl: DUAL_CONTROL_STEPS.has(step) }
}

/** A role's name, as a heading ("Key custodian") or inside a sentence ("key custodian"). */
export function roleName(role: CeremonyRoleName, inline = false): string {
  return translate(`ceremony:${inline ? 'rolesInline' : 'roles'}.${role}`)
}

export const ROLES: readonly CeremonyRoleName[] = ['administrator', 'custodian', 'witness']

/** Roles whose passphrase counts for dual control (src-main/ceremony KEY_DUAL_CONTROL). */
export const CONFIRMING_ROLES: readonly CeremonyRoleName[] = ['custodian', 'administrator']

/** The next step, from what the ceremony has done. `skipCertificate`: seal now, import the certificate in a later ceremony. */
export function wizardStep(view: CeremonyTranscriptView | null, skipCertificate = false): WizardStep {
  if (view === null) return 'participants'
  const p = view.ceremony.progress
  if (p.sealed) return 'done'
  if (view.entries.length === 0) return 'participants'
  if (!p.offlineChecked) return 'offline'
  if (p.token === null) return 'token'
  if (p.key === null) return p.loggedIn ? 'key' : 'login'
  if (p.csr === null) return p.loggedIn ? 'csr' : 'login'
  if (p.certificate === null && !skipCertificate) return 'certificate'
  return p.loggedIn ? 'seal' : 'login'
}

/** Why the participants cannot start yet, or null. */
export function participantsProblem(participants: readonly CeremonyParticipantInfo[]): string | null {
  if (!participants.some((p) => p.role === 'administrator')) return translate('ceremony:problems.needAdministrator')
  if (participants.filter((p) => CONFIRMING_ROLES.includes(p.role)).length < 2) return translate('ceremony:problems.needConfirmers')
  return null
}

/** Checks a dual-control form before it is sent; the server checks again and records a refusal. */
export function confirmationProblem(confirmations: readonly CeremonyConfirmationInput[], participants: readonly CeremonyParticipantInfo[]): string | null {
  const chosen = confirmations.filter((c) => c.participant !== '')
  if (chosen.length < 2) return translate('ceremony:problems.chooseTwo')
  if (new Set(chosen.map((c) => c.participant)).size < chosen.length) return translate('ceremony:problems.sameTwice')
  for (const c of chosen) {
    const person = participants.find((p) => p.id === c.participant)
    if (person === undefined) return translate('ceremony:problems.notParticipant')
    if (!CONFIRMING_ROLES.includes(person.role)) return translate('ceremony:problems.mayNotConfirm', { name: person.name, role: roleName(person.role, true) })
    if (c.passphrase === '') return translate('ceremony:problems.needPassphrase', { name: person.name })
  }
  return null
}

export type WorkingStep = 'starting' | 'registering' | 'offline' | 'token' | 'login' | 'key' | 'csr' | 'certificate' | 'seal'
export interface Working {
  step: WorkingStep
  /** The participant being registered. */
  name?: string
}

export interface CeremonyState {
  ceremonies: CeremonySummary[]
  loading: boolean
  error: unknown
  view: CeremonyTranscriptView | null
  /** What is running now (for the status line: `ceremony:working.<step>`). */
  working: Working | null
  /** The last refused or failed step; it is recorded in the transcript when the ceremony got that far. */
  refusal: unknown
  token: CeremonyTokenInfo | null
  offline: { offline: boolean; interfacesUp: string[] } | null
  csr: CeremonyCsrDownload | null
  skipCertificate: boolean
  load(): Promise<void>
  create(title: string): Promise<void>
  open(id: string): Promise<void>
  close(): void
  addParticipant(input: { name: string; role: CeremonyRoleName; passphrase: string }): Promise<boolean>
  checkOffline(): Promise<void>
  identifyToken(input: { modulePath: string; tokenLabel: string }): Promise<void>
  login(pin: string): Promise<boolean>
  generateKey(input: { label: string; algorithm: CeremonyKeyAlgorithm }, confirmations: CeremonyConfirmationInput[]): Promise<boolean>
  createCsr(input: { member: string; format: 'pem' | 'der' }, confirmations: CeremonyConfirmationInput[]): Promise<boolean>
  saveCsr(): void
  importCertificate(input: { certificatePem: string; caCertificatePem: string }): Promise<boolean>
  setSkipCertificate(skip: boolean): void
  seal(confirmations: CeremonyConfirmationInput[]): Promise<boolean>
  downloadReport(): Promise<void>
  downloadTranscript(): void
  dismissRefusal(): void
}

export const initialCeremony = {
  ceremonies: [], loading: false, error: null, view: null, working: null, refusal: null, token: null, offline: null, csr: null, skipCertificate: false,
}

export const useCeremonyStore = create<CeremonyState>((set, get) => {
  const current = (): string => {
    const id = get().view?.ceremony.id
    if (id === undefined) throw new Error(translate('ceremony:problems.openFirst'))
    return id
  }
  const reload = async (): Promise<void> => {
    const id = get().view?.ceremony.id
    if (id === undefined) return
    try {
      set({ view: await adminClient().call('ceremony', 'transcript', { id }) })
    } catch (error) {
      set({ error })
    }
  }
  /** Runs one step: the status line while it runs, the refusal when it fails, and the transcript reloaded after. */
  const run = async <T>(working: Working, work: () => Promise<T>, after?: (value: T) => void): Promise<boolean> => {
    set({ working, refusal: null, error: null })
    try {
      const value = await work()
      after?.(value)
      return true
    } catch (error) {
      set({ refusal: error })
      return false
    } finally {
      await reload()
      set({ working: null })
    }
  }
  return {
    ...initialCeremony,
    async load() {
      set({ loading: true, error: null })
      try {
        set({ ceremonies: await adminClient().call('ceremony', 'list'), loading: false })
      } catch (error) {
        set({ error, loading: false })
      }
    },
    async create(title) {
      set({ working: { step: 'starting' }, error: null })
      try {
        const created = await adminClient().call('ceremony', 'create', { title, kind: 'key' })
        set({ working: null })
        await get().open(created.id)
      } catch (error) {
        set({ error, working: null })
      }
    },
    async open(id) {
      set({ error: null, refusal: null, token: null, offline: null, csr: null, skipCertificate: false })
      try {
        set({ view: await adminClient().call('ceremony', 'transcript', { id }) })
      } catch (error) {
        set({ error })
      }
    },
    close() {
      set({ view: null, refusal: null, token: null, offline: null, csr: null, skipCertificate: false })
      void get().load()
    },
    addParticipant: (input) => run({ step: 'registering', name: input.name }, () => adminClient().call('ceremony', 'addParticipant', { id: current(), ...input })),
    async checkOffline() {
      await run({ step: 'offline' }, () => adminClient().call('ceremony', 'checkOffline', { id: current() }), (offline) => set({ offline }))
    },
    async identifyToken(input) {
      await run({ step: 'token' }, () => adminClient().call('ceremony', 'identifyToken', { id: current(), ...input }), (token) => set({ token }))
    },
    login: (pin) => run({ step: 'login' }, () => adminClient().call('ceremony', 'login', { id: current(), pin })),
    generateKey: (input, confirmations) =>
      run({ step: 'key' }, () => adminClient().call('ceremony', 'generateKey', { id: current(), ...input, confirmations })),
    createCsr: (input, confirmations) =>
      run({ step: 'csr' }, () => adminClient().call('ceremony', 'createCsr', { id: current(), ...input, confirmations }), (csr) => set({ csr })),
    saveCsr() {
      const csr = get().csr
      if (csr === null) return
      saveFile(csr.fileName, csr.mimeType, csr.content, csr.encoding)
      if (csr.qrPng !== null) saveFile(csr.qrPng.fileName, 'image/png', csr.qrPng.content, 'base64')
    },
    importCertificate: (input) =>
      run({ step: 'certificate' }, () => adminClient().call('ceremony', 'importCertificate', { id: current(), ...input })),
    setSkipCertificate: (skip) => set({ skipCertificate: skip }),
    seal: (confirmations) => run({ step: 'seal' }, () => adminClient().call('ceremony', 'seal', { id: current(), confirmations })),
    async downloadReport() {
      try {
        const report = await adminClient().call('ceremony', 'report', { id: current() })
        saveFile(report.fileName, report.mimeType, report.content, report.encoding)
      } catch (error) {
        set({ error })
      }
    },
    downloadTranscript() {
      const file = get().view?.file
      if (file !== undefined) saveFile(file.fileName, file.mimeType, file.content, file.encoding)
    },
    dismissRefusal: () => set({ refusal: null }),
  }
})

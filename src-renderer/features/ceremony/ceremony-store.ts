import { create } from 'zustand'
import type {
  CeremonyConfirmationInput, CeremonyCsrDownload, CeremonyKeyAlgorithm, CeremonyParticipantInfo, CeremonyRoleName, CeremonySummary,
  CeremonyTokenInfo, CeremonyTranscriptView,
} from '@shared/admin-api/admin-api'
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

export interface StepInfo {
  title: string
  /** Who must be in the room. */
  present: string
  /** What the transcript records. */
  records: string
  /** Two distinct people confirm with their passphrases. */
  dualControl: boolean
}

export const STEP_INFO: Record<WizardStep, StepInfo> = {
  participants: {
    title: 'Register the participants',
    present: 'Everyone taking part: the ceremony administrator, at least two key custodians, and a witness.',
    records: 'Names and roles are fixed in the transcript before the first step. Each person chooses a passphrase only they know; it is kept as a one-way hash and never shown again.',
    dualControl: false,
  },
  offline: {
    title: 'Check the machine is offline',
    present: 'The ceremony administrator, watched by the witness.',
    records: 'Whether any network interface other than loopback is up (a warning if so), and the machine’s name, system and architecture.',
    dualControl: false,
  },
  token: {
    title: 'Identify the token',
    present: 'The ceremony administrator and the custodians holding the token.',
    records: 'The PKCS#11 module and its SHA-256, and the token’s label, serial number, model, firmware and mechanisms.',
    dualControl: false,
  },
  login: {
    title: 'Log in to the token',
    present: 'The custodian who knows the token PIN.',
    records: 'That a login happened, and its outcome. The PIN goes to the token only: it is not stored, logged or written to the transcript.',
    dualControl: false,
  },
  key: {
    title: 'Generate the key pair',
    present: 'Two key custodians (or a custodian and the administrator), each entering their own passphrase.',
    records: 'Who confirmed, the key’s attributes read back from the token (it must be non-extractable), and the SHA-256 of the public key.',
    dualControl: true,
  },
  csr: {
    title: 'Create the certificate request',
    present: 'Two key custodians again: signing the request uses the key.',
    records: 'The request’s subject and the SHA-256 of the PEM file, the DER form and the QR code image. Save the file to the removable media for the CA.',
    dualControl: true,
  },
  certificate: {
    title: 'Import the issued certificate',
    present: 'The ceremony administrator, with the certificate and the CA certificate from the removable media.',
    records: 'That the certificate carries this ceremony’s public key and chains to the CA, with the SHA-256 of every file read.',
    dualControl: false,
  },
  seal: {
    title: 'Seal the transcript',
    present: 'Two key custodians: the seal key is generated on the token.',
    records: 'A signature over the last entry’s hash. Print the report: everyone signs it next to the seal key fingerprint.',
    dualControl: true,
  },
  done: {
    title: 'Ceremony complete',
    present: 'Everyone, to sign the printed report.',
    records: 'Nothing more: the transcript is sealed. Keep the report and the transcript file together.',
    dualControl: false,
  },
}

export const ROLE_WORDS: Record<CeremonyRoleName, string> = {
  administrator: 'Ceremony administrator',
  custodian: 'Key custodian',
  witness: 'Witness',
}

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
  if (!participants.some((p) => p.role === 'administrator')) return 'Register the ceremony administrator: they lead every step.'
  if (participants.filter((p) => CONFIRMING_ROLES.includes(p.role)).length < 2) {
    return 'Register at least two people who can confirm key steps (key custodians, or a custodian and the administrator).'
  }
  return null
}

/** Checks a dual-control form before it is sent; the server checks again and records a refusal. */
export function confirmationProblem(confirmations: readonly CeremonyConfirmationInput[], participants: readonly CeremonyParticipantInfo[]): string | null {
  const chosen = confirmations.filter((c) => c.participant !== '')
  if (chosen.length < 2) return 'Choose two people to confirm this step.'
  if (new Set(chosen.map((c) => c.participant)).size < chosen.length) return 'Two different people must confirm: choose someone else for the second confirmation.'
  for (const c of chosen) {
    const person = participants.find((p) => p.id === c.participant)
    if (person === undefined) return 'Choose participants of this ceremony.'
    if (!CONFIRMING_ROLES.includes(person.role)) return `${person.name} is a ${ROLE_WORDS[person.role].toLowerCase()} and may not confirm key steps.`
    if (c.passphrase === '') return `${person.name} must enter their passphrase.`
  }
  return null
}

export interface CeremonyState {
  ceremonies: CeremonySummary[]
  loading: boolean
  error: unknown
  view: CeremonyTranscriptView | null
  /** What is running now, in words (for the status line). */
  working: string | null
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
    if (id === undefined) throw new Error('Open a ceremony first')
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
  const run = async <T>(working: string, work: () => Promise<T>, after?: (value: T) => void): Promise<boolean> => {
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
      set({ working: 'Starting the ceremony…', error: null })
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
    addParticipant: (input) => run(`Registering ${input.name}…`, () => adminClient().call('ceremony', 'addParticipant', { id: current(), ...input })),
    async checkOffline() {
      await run('Checking the network interfaces…', () => adminClient().call('ceremony', 'checkOffline', { id: current() }), (offline) => set({ offline }))
    },
    async identifyToken(input) {
      await run('Loading the PKCS#11 module and reading the token…', () => adminClient().call('ceremony', 'identifyToken', { id: current(), ...input }), (token) => set({ token }))
    },
    login: (pin) => run('Logging in to the token…', () => adminClient().call('ceremony', 'login', { id: current(), pin })),
    generateKey: (input, confirmations) =>
      run('Generating the key pair on the token…', () => adminClient().call('ceremony', 'generateKey', { id: current(), ...input, confirmations })),
    createCsr: (input, confirmations) =>
      run('Creating the certificate request…', () => adminClient().call('ceremony', 'createCsr', { id: current(), ...input, confirmations }), (csr) => set({ csr })),
    saveCsr() {
      const csr = get().csr
      if (csr === null) return
      saveFile(csr.fileName, csr.mimeType, csr.content, csr.encoding)
      if (csr.qrPng !== null) saveFile(csr.qrPng.fileName, 'image/png', csr.qrPng.content, 'base64')
    },
    importCertificate: (input) =>
      run('Checking the certificate against the key and the CA…', () => adminClient().call('ceremony', 'importCertificate', { id: current(), ...input })),
    setSkipCertificate: (skip) => set({ skipCertificate: skip }),
    seal: (confirmations) => run('Sealing the transcript…', () => adminClient().call('ceremony', 'seal', { id: current(), confirmations })),
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

import { create } from 'zustand'
import type { CreateLabInput, LabOperationDto, LabStatus } from '@shared/admin-api/admin-api'
import { translate } from '../../i18n'
import { adminClient } from '../../lib/admin-client'

/**
 * "Create a lab on this machine": the form, then the server's step-by-step progress (polled from `lab.status`), the
 * anchor hash to confirm, and the join. The PIN lives only in the form component and the one `create` call.
 */
export interface LabForm {
  instance: string
  memberClass: string
  memberCode: string
  memberName: string
  subsystemCode: string
  serverCode: string
}

interface LabWizardState {
  form: LabForm
  operation: LabOperationDto | null
  status: LabStatus | null
  hashNoted: boolean
  busy: boolean
  error: unknown
  setForm(patch: Partial<LabForm>): void
  create(pin: string): Promise<boolean>
  /** One status poll; the page calls it while the operation runs. */
  refresh(): Promise<void>
  noteHash(noted: boolean): void
  confirm(): Promise<boolean>
  startOver(): void
  clearError(): void
}

/** The member classes a new lab has (labels: `firstRun:lab.classes.<code>`). */
export const MEMBER_CLASSES = ['GOV', 'COM', 'ORG'] as const

const IDENTIFIER = /^[^/\\:;%\s]+$/

/** Plain-words problems of the form, per field, in the language shown; an empty object when it can be sent. */
export function labFormProblems(form: LabForm): Partial<Record<keyof LabForm, string>> {
  const problems: Partial<Record<keyof LabForm, string>> = {}
  for (const field of ['instance', 'memberClass', 'memberCode', 'subsystemCode', 'serverCode'] as const) {
    const value = form[field].trim()
    if (value === '') problems[field] = translate(`firstRun:lab.problems.missing.${field}`)
    else if (!IDENTIFIER.test(value)) problems[field] = translate(`firstRun:lab.problems.characters.${field}`)
  }
  if (form.memberName.trim() === '') problems.memberName = translate('firstRun:lab.problems.missing.memberName')
  return problems
}

export const initialLabWizard = {
  form: { instance: 'LAB', memberClass: 'GOV', memberCode: '', memberName: '', subsystemCode: 'main', serverCode: 'SS1' },
  operation: null, status: null, hashNoted: false, busy: false, error: null,
}

export const useLabWizardStore = create<LabWizardState>((set, get) => ({
  ...initialLabWizard,
  setForm: (patch) => set({ form: { ...get().form, ...patch } }),
  async create(pin) {
    const { form } = get()
    const input: CreateLabInput = {
      instance: form.instance.trim(), memberClass: form.memberClass.trim(), memberCode: form.memberCode.trim(), memberName: form.memberName.trim(),
      subsystemCode: form.subsystemCode.trim(), serverCode: form.serverCode.trim(), softwareTokenPin: pin,
    }
    set({ busy: true, error: null, hashNoted: false })
    try {
      const operation = await adminClient().call('lab', 'create', input)
      set({ operation, busy: false })
      return true
    } catch (error) {
      set({ error, busy: false })
      return false
    }
  },
  async refresh() {
    try {
      const status = await adminClient().call('lab', 'status')
      set({ status, ...(status.operation === null ? {} : { operation: status.operation }) })
    } catch (error) {
      set({ error })
    }
  },
  noteHash: (hashNoted) => set({ hashNoted }),
  async confirm() {
    const hash = get().operation?.anchor?.hash
    if (hash === undefined) return false
    set({ busy: true, error: null })
    try {
      const operation = await adminClient().call('lab', 'confirm', { confirmedHash: hash })
      set({ operation, busy: false })
      return true
    } catch (error) {
      set({ error, busy: false })
      return false
    }
  },
  startOver: () => set({ operation: null, hashNoted: false, error: null }),
  clearError: () => set({ error: null }),
}))

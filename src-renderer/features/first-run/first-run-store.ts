import { create } from 'zustand'
import type { AnchorPreview, InitializationStatus } from '@shared/admin-api/admin-api'
import { translate } from '../../i18n'
import { adminClient } from '../../lib/admin-client'

/**
 * The first-run wizard: anchor → hash confirmation → owner and server code → software token PIN → done.
 * The anchor is stored only by the final `initialize`, with the hash the operator confirmed.
 */
export const FIRST_RUN_STEPS = ['anchor', 'confirm', 'identity', 'token', 'done'] as const
export type FirstRunStep = (typeof FIRST_RUN_STEPS)[number]

interface FirstRunState {
  status: InitializationStatus | null
  step: FirstRunStep
  anchorXml: string
  preview: AnchorPreview | null
  hashConfirmed: boolean
  owner: string
  serverCode: string
  busy: boolean
  error: unknown
  load(): Promise<void>
  setAnchorXml(xml: string): void
  checkAnchor(): Promise<boolean>
  confirmHash(confirmed: boolean): void
  setIdentity(owner: string, serverCode: string): void
  goTo(step: FirstRunStep): void
  finish(pin: string): Promise<boolean>
  clearError(): void
}

/** Owner member form: `INSTANCE/CLASS/CODE` of the anchor's instance; the problem in the language shown. */
export function ownerProblem(owner: string, instance: string | undefined): string | null {
  const parts = owner.trim().split('/')
  if (parts.length !== 3 || parts.some((p) => p.trim() === '')) return translate('firstRun:join.owner.ownerFormat')
  if (instance !== undefined && parts[0] !== instance) return translate('firstRun:join.owner.ownerInstance', { instance })
  return null
}

/** Server code form: present, without the characters identifiers may not hold; the problem in the language shown. */
export function serverCodeProblem(serverCode: string): string | null {
  if (serverCode.trim() === '') return translate('firstRun:join.owner.serverCodeMissing')
  return /[/\\:;%]/.test(serverCode) ? translate('firstRun:join.owner.serverCodeCharacters') : null
}

export const initialFirstRun = {
  status: null, step: 'anchor' as FirstRunStep, anchorXml: '', preview: null, hashConfirmed: false, owner: '', serverCode: '', busy: false, error: null,
}

export const useFirstRunStore = create<FirstRunState>((set, get) => ({
  ...initialFirstRun,
  async load() {
    try {
      const status = await adminClient().call('initialization', 'status')
      set({ status, ...(status.initialized ? { step: 'done' as const } : {}) })
    } catch (error) {
      set({ error })
    }
  },
  setAnchorXml: (anchorXml) => set({ anchorXml, preview: null, hashConfirmed: false }),
  async checkAnchor() {
    set({ busy: true, error: null })
    try {
      const preview = await adminClient().call('initialization', 'importAnchor', get().anchorXml)
      set({ preview, busy: false, step: 'confirm', owner: get().owner || `${preview.instance}/` })
      return true
    } catch (error) {
      set({ error, busy: false })
      return false
    }
  },
  confirmHash: (confirmed) => set({ hashConfirmed: confirmed }),
  setIdentity: (owner, serverCode) => set({ owner, serverCode }),
  goTo: (step) => set({ step, error: null }),
  async finish(pin) {
    const { anchorXml, preview, owner, serverCode, status } = get()
    if (preview === null) return false
    set({ busy: true, error: null })
    try {
      const next = await adminClient().call('initialization', 'initialize', {
        anchorXml, confirmedHash: preview.hash, owner: owner.trim(), serverCode: serverCode.trim(),
        ...(status?.softwareTokenInitialized ? {} : { softwareTokenPin: pin }),
      })
      set({ status: next, busy: false, step: 'done' })
      return true
    } catch (error) {
      set({ error, busy: false })
      return false
    }
  },
  clearError: () => set({ error: null }),
}))

import { create } from 'zustand'
import type { SettingDto } from '@shared/admin-api/admin-api'
import { adminClient } from '../../lib/admin-client'

/** System parameters with their defaults; each change is validated by the server and again here for quick feedback. */
interface SettingsState {
  settings: SettingDto[]
  loading: boolean
  error: unknown
  load(): Promise<void>
  save(name: string, value: string): Promise<boolean>
  reset(name: string): Promise<void>
  clearError(): void
}

/** The problem with a draft value, in words, or null when it may be saved. */
export function settingProblem(setting: SettingDto, value: string): string | null {
  const text = value.trim()
  if (setting.kind === 'boolean') return text === 'true' || text === 'false' ? null : 'Choose on or off'
  if (!/^-?\d+$/.test(text)) return 'Enter a whole number'
  const n = Number(text)
  if (setting.min !== null && n < setting.min) return `At least ${setting.min}`
  if (setting.max !== null && n > setting.max) return `At most ${setting.max}`
  return null
}

export const useSettingsStore = create<SettingsState>((set, get) => {
  const replace = (updated: SettingDto): void => set({ settings: get().settings.map((s) => (s.name === updated.name ? updated : s)) })
  return {
    settings: [], loading: false, error: null,
    async load() {
      set({ loading: true })
      try {
        set({ settings: await adminClient().call('settings', 'list'), loading: false, error: null })
      } catch (error) {
        set({ error, loading: false })
      }
    },
    async save(name, value) {
      set({ loading: true, error: null })
      try {
        replace(await adminClient().call('settings', 'set', { name, value }))
        set({ loading: false })
        return true
      } catch (error) {
        set({ error, loading: false })
        return false
      }
    },
    async reset(name) {
      set({ loading: true, error: null })
      try {
        replace(await adminClient().call('settings', 'reset', { name }))
        set({ loading: false })
      } catch (error) {
        set({ error, loading: false })
      }
    },
    clearError: () => set({ error: null }),
  }
})

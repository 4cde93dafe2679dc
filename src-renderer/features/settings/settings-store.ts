import { create } from 'zustand'
import type { BootstrapSettingsDto, BootstrapValues, SettingDto, SystemStatus } from '@shared/admin-api/admin-api'
import { adminClient } from '../../lib/admin-client'

/**
 * System parameters (applied at once) and the bootstrap file's listener settings (applied at a restart); each change
 * is validated by the server and again here for quick feedback.
 */
interface SettingsState {
  settings: SettingDto[]
  bootstrap: BootstrapSettingsDto | null
  restart: SystemStatus['restart'] | null
  loading: boolean
  error: unknown
  load(): Promise<void>
  save(name: string, value: string): Promise<boolean>
  reset(name: string): Promise<void>
  saveBootstrap(values: Partial<BootstrapValues>): Promise<boolean>
  clearError(): void
}

export type SettingProblem = { key: 'onOff' | 'whole' | 'schedule' | 'version' } | { key: 'min'; min: number } | { key: 'max'; max: number }

/** The problem with a draft value, or null when it may be saved. */
export function settingProblem(setting: SettingDto, value: string): SettingProblem | null {
  const text = value.trim()
  if (setting.kind === 'boolean') return text === 'true' || text === 'false' ? null : { key: 'onOff' }
  // The server reads the expression itself; here only its shape: six or seven fields.
  if (setting.kind === 'version') return text === '' || /^\d{1,4}\.\d{1,4}\.\d{1,4}$/.test(text) ? null : { key: 'version' }
  if (setting.kind === 'schedule') return [6, 7].includes(text.split(/\s+/).filter(Boolean).length) ? null : { key: 'schedule' }
  if (!/^-?\d+$/.test(text)) return { key: 'whole' }
  const n = Number(text)
  if (setting.min !== null && n < setting.min) return { key: 'min', min: setting.min }
  if (setting.max !== null && n > setting.max) return { key: 'max', max: setting.max }
  return null
}

export const useSettingsStore = create<SettingsState>((set, get) => {
  const replace = (updated: SettingDto): void => set({ settings: get().settings.map((s) => (s.name === updated.name ? updated : s)) })
  const attempt = async (work: () => Promise<void>): Promise<boolean> => {
    set({ loading: true, error: null })
    try {
      await work()
      set({ loading: false })
      return true
    } catch (error) {
      set({ error, loading: false })
      return false
    }
  }
  const refreshRestart = async (): Promise<void> => {
    set({ restart: (await adminClient().call('system', 'status')).restart })
  }
  return {
    settings: [], bootstrap: null, restart: null, loading: false, error: null,
    async load() {
      await attempt(async () => {
        const client = adminClient()
        const [settings, bootstrap] = await Promise.all([client.call('settings', 'list'), client.call('settings', 'bootstrap').catch(() => null)])
        set({ settings, bootstrap })
        await refreshRestart()
      })
    },
    save: (name, value) => attempt(async () => replace(await adminClient().call('settings', 'set', { name, value }))),
    async reset(name) {
      await attempt(async () => replace(await adminClient().call('settings', 'reset', { name })))
    },
    saveBootstrap: (values) => attempt(async () => {
      set({ bootstrap: await adminClient().call('settings', 'setBootstrap', values) })
      await refreshRestart()
    }),
    clearError: () => set({ error: null }),
  }
})

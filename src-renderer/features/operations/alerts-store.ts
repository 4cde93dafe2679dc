import { create } from 'zustand'
import type { AlertDelivery, AlertDto, AlertSettings, AlertSettingsInput } from '@shared/admin-api/admin-api'
import type { ServerEvents } from '@shared/server-events'
import { translate } from '../../i18n'
import { adminClient } from '../../lib/admin-client'
import { alertAction, alertTitle } from './alert-texts'

/**
 * The alerts of this server: the active ones (the bell), those resolved lately, acknowledgement, and where alerts are
 * delivered besides the GUI. Kept current by the server's `alert` events; the list is read again when the bell opens
 * (an event stream that dropped for a moment may have missed one).
 */
export interface AlertsState {
  active: AlertDto[]
  resolved: AlertDto[]
  loaded: boolean
  loading: boolean
  error: unknown
  acknowledging: string | null
  settings: AlertSettings | null
  settingsError: unknown
  saving: boolean
  saved: boolean
  testing: boolean
  tested: AlertDelivery[] | null
  load(): Promise<void>
  acknowledge(id: string): Promise<void>
  /** Applies one `alert` event; a raised alert is also shown as a desktop notification where the app has them. */
  apply(event: ServerEvents['alert']): void
  loadSettings(): Promise<void>
  saveSettings(input: AlertSettingsInput): Promise<boolean>
  testDelivery(): Promise<void>
}

export const initialAlerts = {
  active: [], resolved: [], loaded: false, loading: false, error: null, acknowledging: null, settings: null, settingsError: null,
  saving: false, saved: false, testing: false, tested: null,
}

const SEVERITY_ORDER: Record<AlertDto['severity'], number> = { critical: 0, warning: 1, info: 2 }

/** Most severe first, then newest. */
export function sortAlerts(alerts: readonly AlertDto[]): AlertDto[] {
  return [...alerts].sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] || b.raisedAt.localeCompare(a.raisedAt))
}

/** Alerts no one has acknowledged yet: what the bell counts. */
export function unacknowledged(alerts: readonly AlertDto[]): AlertDto[] {
  return alerts.filter((a) => a.acknowledgedAt === null)
}

function notifyDesktop(alert: AlertDto): void {
  const bridge = typeof window === 'undefined' ? undefined : window.admin
  if (bridge === undefined) return
  void bridge.notify({ title: alertTitle(alert), body: alertAction(alert).slice(0, 1000) }).catch(() => undefined)
}

export const useAlertsStore = create<AlertsState>((set, get) => ({
  ...initialAlerts,
  async load() {
    set({ loading: true })
    try {
      const all = await adminClient().call('alerts', 'list', { includeCleared: true })
      set({
        active: sortAlerts(all.filter((a) => a.clearedAt === null)), resolved: all.filter((a) => a.clearedAt !== null),
        loaded: true, loading: false, error: null,
      })
    } catch (error) {
      set({ error, loading: false })
    }
  },
  async acknowledge(id) {
    set({ acknowledging: id })
    try {
      const alert = await adminClient().call('alerts', 'acknowledge', { id })
      set({ active: sortAlerts(get().active.map((a) => (a.id === id ? alert : a))), acknowledging: null, error: null })
    } catch (error) {
      set({ error, acknowledging: null })
    }
  },
  apply({ change, alert }) {
    const others = get().active.filter((a) => a.id !== alert.id)
    if (change === 'cleared') {
      set({ active: others, resolved: [alert, ...get().resolved.filter((a) => a.raisedAt !== alert.raisedAt || a.id !== alert.id)] })
      return
    }
    set({ active: sortAlerts([...others, alert]) })
    if (change === 'raised') notifyDesktop(alert)
  },
  async loadSettings() {
    try {
      set({ settings: await adminClient().call('alerts', 'settings'), settingsError: null })
    } catch (error) {
      set({ settingsError: error })
    }
  },
  async saveSettings(input) {
    set({ saving: true, saved: false })
    try {
      set({ settings: await adminClient().call('alerts', 'setSettings', input), saving: false, saved: true, settingsError: null })
      return true
    } catch (error) {
      set({ settingsError: error, saving: false })
      return false
    }
  },
  async testDelivery() {
    set({ testing: true, tested: null })
    try {
      const tested = await adminClient().call('alerts', 'testDelivery')
      set({ tested, testing: false, settingsError: null })
      await get().loadSettings()
    } catch (error) {
      set({ settingsError: error, testing: false })
    }
  },
}))

/** The text of a delivery outcome. */
export function deliveryText(d: AlertDelivery, time: string): string {
  const channel = translate(`operations:alerts.settings.${d.channel}`)
  const result = d.ok ? translate('operations:alerts.settings.ok') : translate('operations:alerts.settings.failed', { error: d.error ?? '' })
  return translate('operations:alerts.settings.delivery', { channel, result, time })
}

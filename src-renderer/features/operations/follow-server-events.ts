import { useEffect } from 'react'
import { subscribeServerEvents } from '../../lib/admin-client'
import { useDashboardStore } from '../dashboard/dashboard-store'
import { useAlertsStore } from './alerts-store'

/**
 * The GUI follows the server's events (IPC or Server-Sent Events): alerts as they are raised, cleared or acknowledged,
 * and the dashboard's status when the server says it changed — a readiness check, a listener, a change another
 * administrator made — at most once per `DASHBOARD_COALESCE_MS`, and only once the dashboard has loaded it.
 */
const DASHBOARD_COALESCE_MS = 300

export function followServerEvents(): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined
  const refreshDashboard = (): void => {
    if (timer !== undefined || useDashboardStore.getState().status === null) return
    timer = setTimeout(() => {
      timer = undefined
      void useDashboardStore.getState().refresh()
    }, DASHBOARD_COALESCE_MS)
  }
  const unsubscribe = subscribeServerEvents((event) => {
    if (event.name === 'alert') useAlertsStore.getState().apply(event.payload)
    else refreshDashboard()
    if (event.name === 'configuration-changed' && event.payload.event === 'alerts.setSettings' && useAlertsStore.getState().settings !== null) {
      void useAlertsStore.getState().loadSettings()
    }
  })
  void useAlertsStore.getState().load()
  return () => {
    if (timer !== undefined) clearTimeout(timer)
    unsubscribe()
  }
}

export function useFollowServerEvents(): void {
  useEffect(() => followServerEvents(), [])
}

import { create } from 'zustand'
import type { SessionInfo } from '@shared/admin-api/session'
import { adminClient } from '../../lib/admin-client'

/** Who is signed in (or whether first-run setup is due), and the sign-in/out actions. */
interface SessionState {
  session: SessionInfo | null
  loading: boolean
  busy: boolean
  error: unknown
  load(): Promise<void>
  login(username: string, password: string): Promise<boolean>
  setup(username: string, password: string): Promise<boolean>
  logout(): Promise<void>
  clearError(): void
}

export const useSessionStore = create<SessionState>((set) => {
  const submit = async (work: () => Promise<SessionInfo>): Promise<boolean> => {
    set({ busy: true, error: null })
    try {
      set({ session: await work(), busy: false })
      return true
    } catch (error) {
      set({ error, busy: false })
      return false
    }
  }
  return {
    session: null,
    loading: true,
    busy: false,
    error: null,
    async load() {
      set({ loading: true, error: null })
      try {
        set({ session: await adminClient().session(), loading: false })
      } catch (error) {
        set({ error, loading: false })
      }
    },
    login: (username, password) => submit(() => adminClient().login(username, password)),
    setup: (username, password) => submit(() => adminClient().setup(username, password)),
    async logout() {
      try {
        await adminClient().logout()
      } finally {
        set({ session: await adminClient().session().catch(() => null) })
      }
    },
    clearError: () => set({ error: null }),
  }
})

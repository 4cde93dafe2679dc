import { create } from 'zustand'
import type { SessionInfo } from '@shared/admin-api/session'
import { adminClient, onUnauthorized } from '../../lib/admin-client'

/**
 * Who is signed in (or whether first-run setup is due), and the sign-in/out actions. When a call is refused as
 * `unauthorized` while signed in, the session is asked again: if the server says it ended (idle or maximum time,
 * signed out elsewhere, the account changed), the GUI returns to the login page with a notice instead of showing the
 * refusal on every card.
 */
interface SessionState {
  session: SessionInfo | null
  loading: boolean
  busy: boolean
  error: unknown
  /** The session ended while the GUI was in use; the login page says so until the next sign-in. */
  expired: boolean
  load(): Promise<void>
  login(username: string, password: string): Promise<boolean>
  setup(username: string, password: string): Promise<boolean>
  logout(): Promise<void>
  clearError(): void
  /** Re-reads the session after a refused call; returns to the login page when it ended. */
  checkExpired(): Promise<void>
}

export const useSessionStore = create<SessionState>((set, get) => {
  const submit = async (work: () => Promise<SessionInfo>): Promise<boolean> => {
    set({ busy: true, error: null })
    try {
      set({ session: await work(), busy: false, expired: false })
      return true
    } catch (error) {
      set({ error, busy: false })
      return false
    }
  }
  let checking: Promise<void> | undefined
  return {
    session: null,
    loading: true,
    busy: false,
    error: null,
    expired: false,
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
      // The signed-in shell goes first (its timers and event stream stop), so nothing asks the server with a session
      // that is being ended; the sign-in form comes back only once the server has ended it.
      set({ session: null, loading: true })
      try {
        await adminClient().logout()
      } finally {
        set({ session: await adminClient().session().catch(() => null), expired: false, loading: false })
      }
    },
    clearError: () => set({ error: null }),
    checkExpired() {
      if (get().session?.authenticated !== true || get().session?.transport === 'desktop') return Promise.resolve()
      // Every card of a page may be refused at once: one question to the server for all of them.
      checking ??= adminClient()
        .session()
        .then((info) => {
          if (!info.authenticated && get().session?.authenticated === true) set({ session: info, expired: true, error: null })
        })
        .catch(() => undefined)
        .finally(() => {
          checking = undefined
        })
      return checking
    },
  }
})

onUnauthorized(() => {
  void useSessionStore.getState().checkExpired()
})

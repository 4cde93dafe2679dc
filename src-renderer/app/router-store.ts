import { create } from 'zustand'

/** A small hash router: `#/dashboard`, `#/keys`, `#/audit`… Hash routes work on app:// and https alike. */
export const ROUTES = ['dashboard', 'setup', 'keys', 'services', 'global-conf', 'message-log', 'operations', 'diagnostics', 'settings', 'audit', 'users', 'ceremony', 'lab'] as const
export type Route = (typeof ROUTES)[number]

export function routeFromHash(hash: string): Route {
  const name = hash.replace(/^#\/?/, '').split('/')[0] ?? ''
  return (ROUTES as readonly string[]).includes(name) ? (name as Route) : 'dashboard'
}

interface RouterState {
  route: Route
  navigate(route: Route): void
}

export const useRouterStore = create<RouterState>((set) => ({
  route: typeof window === 'undefined' ? 'dashboard' : routeFromHash(window.location.hash),
  navigate(route) {
    if (typeof window !== 'undefined' && window.location.hash !== `#/${route}`) window.location.hash = `#/${route}`
    set({ route })
  },
}))

if (typeof window !== 'undefined') {
  window.addEventListener('hashchange', () => useRouterStore.setState({ route: routeFromHash(window.location.hash) }))
}

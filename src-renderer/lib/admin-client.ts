import type { AdminApi } from '@shared/admin-api/admin-api'
import type { DesktopAdminBridge } from '@shared/admin-api/desktop-bridge'
import type { IpcResult } from '@shared/admin-api/ipc-result'
import { CSRF_HEADER, type SessionInfo } from '@shared/admin-api/session'

/**
 * The renderer's one way to the admin API, over either transport: `window.admin` (Electron preload) or `fetch`
 * to the headless HTTPS API. Unwraps IpcResult and throws AdminError(code) on failure.
 */
export class AdminError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly detail?: string,
  ) {
    super(message)
    this.name = 'AdminError'
  }
}

type Fn<D extends keyof AdminApi, M extends keyof AdminApi[D]> = AdminApi[D][M] extends (...args: infer A) => Promise<infer R> ? { args: A; result: R } : never

export interface AdminClient {
  readonly transport: 'desktop' | 'browser'
  session(): Promise<SessionInfo>
  login(username: string, password: string): Promise<SessionInfo>
  setup(username: string, password: string): Promise<SessionInfo>
  logout(): Promise<void>
  call<D extends keyof AdminApi, M extends keyof AdminApi[D] & string>(domain: D, method: M, ...args: Fn<D, M>['args']): Promise<Fn<D, M>['result']>
}

function unwrap<T>(result: IpcResult<T>): T {
  if (result.ok) return result.value
  throw new AdminError(result.error.code, result.error.message, result.error.detail)
}

export function desktopClient(bridge: DesktopAdminBridge): AdminClient {
  const unsupported = async (): Promise<never> => {
    throw new AdminError('unsupported', 'The desktop app signs you in as the computer user')
  }
  return {
    transport: 'desktop',
    session: async () => unwrap(await bridge.session()),
    login: unsupported,
    setup: unsupported,
    logout: unsupported,
    async call(domain, method, ...args) {
      const group = bridge[domain] as unknown as Record<string, (...a: unknown[]) => Promise<IpcResult<unknown>>>
      const fn = group?.[method]
      if (typeof fn !== 'function') throw new AdminError('not_found', `Unknown admin method ${domain}.${method}`)
      return unwrap(await fn(...args)) as never
    },
  }
}

export function httpClient(fetchFn: typeof fetch = (...a) => fetch(...a), base = ''): AdminClient {
  let csrfToken: string | null = null
  async function request<T>(path: string, init: { method: 'GET' | 'POST'; body?: unknown }): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' }
    if (init.method === 'POST') headers['content-type'] = 'application/json'
    if (csrfToken !== null) headers[CSRF_HEADER] = csrfToken
    let response: Response
    try {
      response = await fetchFn(`${base}${path}`, {
        method: init.method,
        headers,
        credentials: 'same-origin',
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
      })
    } catch (cause) {
      throw new AdminError('network_error', `The security server cannot be reached (${(cause as Error).message})`)
    }
    let parsed: unknown
    try {
      parsed = await response.json()
    } catch {
      throw new AdminError('http_error', `The security server answered HTTP ${response.status} without a result`)
    }
    return parsed as T
  }
  const remember = (info: SessionInfo): SessionInfo => {
    csrfToken = info.csrfToken
    return info
  }
  return {
    transport: 'browser',
    session: async () => remember(await request<SessionInfo>('/api/session', { method: 'GET' })),
    login: async (username, password) => remember(unwrap(await request<IpcResult<SessionInfo>>('/api/session/login', { method: 'POST', body: { username, password } }))),
    setup: async (username, password) => remember(unwrap(await request<IpcResult<SessionInfo>>('/api/session/setup', { method: 'POST', body: { username, password } }))),
    async logout() {
      unwrap(await request<IpcResult<null>>('/api/session/logout', { method: 'POST', body: [] }))
      csrfToken = null
    },
    async call(domain, method, ...args) {
      return unwrap(await request<IpcResult<unknown>>(`/api/${domain}/${method}`, { method: 'POST', body: args })) as never
    },
  }
}

let client: AdminClient | undefined

/** The client for this window: desktop when the preload is there, HTTPS otherwise. */
export function adminClient(): AdminClient {
  client ??= typeof window !== 'undefined' && window.admin ? desktopClient(window.admin) : httpClient()
  return client
}

/** For tests: replace the client. */
export function setAdminClient(next: AdminClient | undefined): void {
  client = next
}

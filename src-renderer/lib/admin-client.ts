import type { AdminApi } from '@shared/admin-api/admin-api'
import type { DesktopAdminBridge } from '@shared/admin-api/desktop-bridge'
import type { IpcResult } from '@shared/admin-api/ipc-result'
import { CSRF_HEADER, type SessionInfo } from '@shared/admin-api/session'
import { SERVER_EVENT_NAMES, type ServerEvent } from '@shared/server-events'
import { translate } from '../i18n'

/**
 * The renderer's one way to the admin API, over either transport: `window.admin` (Electron preload) or `fetch`
 * to the headless HTTPS API. Unwraps IpcResult and throws AdminError(code) on failure. A call refused as
 * `unauthorized` is reported to `onUnauthorized` listeners (the session store then checks whether the session ended).
 */
export class AdminError extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** The form field at fault, or the reason's code. */
    readonly detail?: string,
    /** The facts of a reason named in `detail`, for wording it in the reader's language. */
    readonly params?: Readonly<Record<string, string | number>>,
  ) {
    super(message)
    this.name = 'AdminError'
  }
}

type Fn<D extends keyof AdminApi, M extends keyof AdminApi[D]> = AdminApi[D][M] extends (...args: infer A) => Promise<infer R> ? { args: A; result: R } : never

/** A file the server sent as itself (not as JSON). */
export interface DownloadedFile {
  fileName: string
  blob: Blob
}

export interface AdminClient {
  readonly transport: 'desktop' | 'browser'
  session(): Promise<SessionInfo>
  login(username: string, password: string): Promise<SessionInfo>
  setup(username: string, password: string): Promise<SessionInfo>
  logout(): Promise<void>
  call<D extends keyof AdminApi, M extends keyof AdminApi[D] & string>(domain: D, method: M, ...args: Fn<D, M>['args']): Promise<Fn<D, M>['result']>
  /**
   * `messageLog.exportZip` streamed as the ZIP itself (HTTPS only); where absent, `call` returns it as base64.
   * @throws AdminError as `call` does
   */
  downloadEvidenceZip?(input: { queryIds: string[] }): Promise<DownloadedFile>
  /**
   * The server's events as they happen (IPC in the desktop app, Server-Sent Events over HTTPS): stores refresh on them
   * instead of polling. Returns the unsubscribe. A connection that drops is re-opened by the transport. Absent where a
   * transport has none (a client made for a test).
   */
  subscribe?(listener: (event: ServerEvent) => void): () => void
}

function unwrap<T>(result: IpcResult<T>): T {
  if (result.ok) return result.value
  throw new AdminError(result.error.code, result.error.message, result.error.detail, result.error.params)
}

export function desktopClient(bridge: DesktopAdminBridge): AdminClient {
  const unsupported = async (): Promise<never> => {
    throw new AdminError('unsupported', translate('errors:client.desktopSignIn'))
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
      if (typeof fn !== 'function') throw new AdminError('not_found', translate('errors:client.unknownMethod', { method: `${domain}.${method}` }))
      return unwrap(await fn(...args)) as never
    },
    subscribe: (listener) => bridge.subscribe(listener),
  }
}

/** The browser's EventSource constructor, or undefined where there is none (tests without one). */
type EventSourceFactory = (url: string) => Pick<EventSource, 'addEventListener' | 'close'>

/**
 * One `EventSource` on `/api/events` shared by every subscriber, opened with the first and closed with the last (the
 * browser sends the session cookie; it reconnects by itself after a drop, as the stream's `retry` says).
 */
export function sseSubscriptions(open: EventSourceFactory | undefined, url: string): NonNullable<AdminClient['subscribe']> {
  const listeners = new Set<(event: ServerEvent) => void>()
  let source: ReturnType<EventSourceFactory> | undefined
  return (listener) => {
    listeners.add(listener)
    if (source === undefined && open !== undefined) {
      const opened = open(url)
      source = opened
      for (const name of SERVER_EVENT_NAMES) {
        opened.addEventListener(name, (message) => {
          let payload: unknown
          try {
            payload = JSON.parse((message as MessageEvent<string>).data)
          } catch {
            return
          }
          for (const each of [...listeners]) each({ name, payload } as ServerEvent)
        })
      }
    }
    return () => {
      listeners.delete(listener)
      if (listeners.size === 0) {
        source?.close()
        source = undefined
      }
    }
  }
}

export function httpClient(
  fetchFn: typeof fetch = (...a) => fetch(...a), base = '',
  openEvents: EventSourceFactory | undefined = typeof EventSource === 'undefined' ? undefined : (url) => new EventSource(url, { withCredentials: true }),
): AdminClient {
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
      throw new AdminError('network_error', translate('errors:client.unreachable', { reason: (cause as Error).message }))
    }
    let parsed: unknown
    try {
      parsed = await response.json()
    } catch {
      throw new AdminError('http_error', translate('errors:client.noResult', { status: response.status }))
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
    subscribe: sseSubscriptions(openEvents, `${base}/api/events`),
    async downloadEvidenceZip(input) {
      const headers: Record<string, string> = { accept: 'application/zip', 'content-type': 'application/json' }
      if (csrfToken !== null) headers[CSRF_HEADER] = csrfToken
      let response: Response
      try {
        response = await fetchFn(`${base}/api/messageLog/exportZip`, { method: 'POST', headers, credentials: 'same-origin', body: JSON.stringify([input]) })
      } catch (cause) {
        throw new AdminError('network_error', translate('errors:client.unreachable', { reason: (cause as Error).message }))
      }
      if (!(response.headers.get('content-type') ?? '').startsWith('application/zip')) {
        const parsed = (await response.json().catch(() => undefined)) as IpcResult<unknown> | undefined
        if (parsed !== undefined && !parsed.ok) unwrap(parsed)
        throw new AdminError('http_error', translate('errors:client.noZip', { status: response.status }))
      }
      const disposition = /filename="([^"]+)"/.exec(response.headers.get('content-disposition') ?? '')
      return { fileName: disposition?.[1] ?? 'evidence.zip', blob: await response.blob() }
    },
  }
}

const unauthorizedListeners = new Set<() => void>()

/** Called whenever an admin call is refused as `unauthorized` (a session that ended, or a refused credential). */
export function onUnauthorized(listener: () => void): () => void {
  unauthorizedListeners.add(listener)
  return () => unauthorizedListeners.delete(listener)
}

function reportUnauthorized(error: unknown): never {
  if (error instanceof AdminError && (error.code.split('.').at(-1) ?? error.code) === 'unauthorized') {
    for (const listener of unauthorizedListeners) listener()
  }
  throw error
}

/** The client with its calls watched for `unauthorized` (sign-in and setup answer that for a wrong password: not watched). */
function watched(raw: AdminClient): AdminClient {
  const download = raw.downloadEvidenceZip
  return {
    transport: raw.transport,
    session: () => raw.session(),
    login: (username, password) => raw.login(username, password),
    setup: (username, password) => raw.setup(username, password),
    logout: () => raw.logout(),
    call: ((domain: never, method: never, ...args: never[]) => raw.call(domain, method, ...args).catch(reportUnauthorized)) as AdminClient['call'],
    ...(raw.subscribe === undefined ? {} : { subscribe: raw.subscribe.bind(raw) }),
    ...(download === undefined ? {} : { downloadEvidenceZip: (input: { queryIds: string[] }) => download.call(raw, input).catch(reportUnauthorized) }),
  }
}

let client: AdminClient | undefined

/** The client for this window: desktop when the preload is there, HTTPS otherwise. */
export function adminClient(): AdminClient {
  client ??= watched(typeof window !== 'undefined' && window.admin ? desktopClient(window.admin) : httpClient())
  return client
}

/** Follows the server's events where the transport has them; returns the unsubscribe. */
export function subscribeServerEvents(listener: (event: ServerEvent) => void): () => void {
  return adminClient().subscribe?.(listener) ?? (() => undefined)
}

/** For tests: replace the client. */
export function setAdminClient(next: AdminClient | undefined): void {
  client = next === undefined ? undefined : watched(next)
}

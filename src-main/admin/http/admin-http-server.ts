import { createHash } from 'node:crypto'
import { realpathSync } from 'node:fs'
import { createServer, type Server } from 'node:https'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { readFile, stat } from 'node:fs/promises'
import { extname, join, normalize, resolve, sep } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { ADMIN_ROLES, type AdminRole } from '@shared/admin-api/admin-roles'
import type { IpcResult } from '@shared/admin-api/ipc-result'
import { API_KEY_SCHEME, CSRF_HEADER, SESSION_COOKIE_PREFIX, type SessionInfo } from '@shared/admin-api/session'
import { clientError, parseJson, toSecurityServerError, type Logger } from '../../platform'
import type { AdminRuntime } from '../admin-runtime'
import type { AdminCaller } from '../caller-context'
import { adminOpenApi } from './openapi'
import { openStreams, streamServerEvents, type ServerEventSource } from './event-stream'

/**
 * The admin GUI and API for browsers (headless mode), over HTTPS on the internal interface: static files of the
 * renderer build, `/api/session/*` (login, logout, first-run setup), `/api/openapi.json`, and
 * `POST /api/{domain}/{method}` with a JSON array of arguments, answered with an IpcResult.
 * Protections (reliability-and-security.md §2.4): Host-header allow-list (DNS rebinding), session cookie
 * HttpOnly+Secure+SameSite=Strict with a CSRF token header, API keys (`X-Road-ApiKey token=`), login rate limit,
 * JSON-only bodies, strict CSP and security headers. The session cookie's name is this server's own (see
 * `sessionCookieName`), so several servers on one machine keep separate sessions in one browser; each session has
 * its own CSRF token.
 */
export interface AdminHttpOptions {
  runtime: AdminRuntime
  tls: { key: string; cert: string }
  rendererDir: string | undefined
  logger: Logger
  version: string
  /** Host names (without port) the Host header may carry besides localhost, 127.0.0.1 and [::1]. */
  extraHosts?: readonly string[]
  maxBodyBytes?: number
  /** `GET /metrics`: one scrape in the format `Accept` asks for; absent: no metrics here. */
  metrics?: (accept: string | undefined) => Promise<{ contentType: string; body: string }>
  /** `GET /api/events`: the server's events as Server-Sent Events; absent: no stream here. */
  events?: ServerEventSource
  /** Seconds between the event stream's keep-alive comments (default 15). */
  eventHeartbeatSeconds?: number
}

/** Content types of the built GUI's files (served here and by the desktop app's own protocol). */
export const GUI_CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
}

export const ADMIN_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

const SECURITY_HEADERS = {
  'content-security-policy': ADMIN_CSP,
  'strict-transport-security': 'max-age=31536000',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'cache-control': 'no-store',
}

/** Roles of the first account created by the first-run setup: X-Road's five; key custody is granted explicitly. */
export const FIRST_ADMIN_ROLES: AdminRole[] = ADMIN_ROLES.filter((r) => r !== 'key-custodian')

const STATUS: Record<string, number> = {
  unauthorized: 401,
  forbidden: 403,
  csrf_failed: 403,
  not_found: 404,
  invalid_http_method: 405,
  conflict: 409,
  body_too_large: 413,
  invalid_content_type: 415,
  rate_limited: 429,
  internal_error: 500,
  database_error: 500,
}

/**
 * `__Host-gatehouse-<16 hex of SHA-256 of the data directory's real path>`: stable across restarts and admin port
 * changes of one server, different for any two servers running at once (no two share a data directory). The port
 * alone would not do: a server started on another port would orphan its sessions, which outlive restarts.
 */
export function sessionCookieName(dataDir: string): string {
  let path = resolve(dataDir)
  try {
    path = realpathSync(path)
  } catch {
    // A data directory that does not exist yet keys by its resolved path.
  }
  return `${SESSION_COOKIE_PREFIX}${createHash('sha256').update(path, 'utf8').digest('hex').slice(0, 16)}`
}

export function statusFor(code: string): number {
  const leaf = code.split('.').at(-1) ?? code
  return STATUS[leaf] ?? 400
}

interface HandlerContext extends AdminHttpOptions {
  cookieName: string
  streams: ReturnType<typeof openStreams>
}

/** Open event streams per listener at most: each holds a connection and a subscription. */
const MAX_EVENT_STREAMS = 32

export function createAdminHttpServer(options: AdminHttpOptions): Server {
  const context: HandlerContext = { ...options, cookieName: sessionCookieName(options.runtime.dataDir), streams: openStreams() }
  const server = createServer({ key: options.tls.key, cert: options.tls.cert, minVersion: 'TLSv1.2' }, (req, res) => {
    handle(req, res, context).catch((error: unknown) => {
      const coded = toSecurityServerError(error)
      if (coded.clientFault) options.logger.info({ code: coded.code, path: pathOf(req) }, 'admin request refused')
      else options.logger.error({ err: coded, path: pathOf(req) }, 'admin request failed')
      if (res.headersSent) {
        res.destroy()
        return
      }
      const message = coded.clientFault ? coded.message : 'Internal error'
      const headers: Record<string, string> = coded.code === 'rate_limited' && coded.detail ? { 'retry-after': coded.detail } : {}
      sendJson(res, statusFor(coded.code), { ok: false, error: { code: coded.faultCode, message } }, headers)
    })
  })
  // Event streams never go idle: end them when the listener closes, so it closes without waiting out its grace period.
  const close = server.close.bind(server)
  server.close = ((callback?: (error?: Error) => void) => {
    context.streams.endAll()
    return close(callback)
  }) as typeof server.close
  return server
}

function pathOf(req: IncomingMessage): string {
  return (req.url ?? '/').split('?')[0] ?? '/'
}

async function handle(req: IncomingMessage, res: ServerResponse, options: HandlerContext): Promise<void> {
  checkHost(req, options.extraHosts ?? [])
  const path = pathOf(req)
  if (path === '/metrics' && options.metrics !== undefined) return serveMetrics(req, res, options, options.metrics)
  if (!path.startsWith('/api/')) {
    if (req.method !== 'GET' && req.method !== 'HEAD') throw clientError('invalid_http_method', 'Method not allowed')
    return serveStatic(path, res, options.rendererDir)
  }
  const { runtime } = options
  if (path === '/api/openapi.json') {
    requireMethod(req, 'GET')
    return sendJson(res, 200, adminOpenApi(options.version, options.cookieName))
  }
  if (path === '/api/session') {
    requireMethod(req, 'GET')
    const session = sessionOf(req, options)
    return sendJson(res, 200, sessionInfo(req, options, session?.caller, session?.csrfToken))
  }
  if (path === '/api/events' && options.events !== undefined) return serveEvents(req, res, options, options.events)
  requireMethod(req, 'POST')
  checkOrigin(req)
  if (path === '/api/session/login' || path === '/api/session/setup') return loginOrSetup(req, res, options, path.endsWith('/setup'))
  const apiKeyCaller = apiKeyCallerOf(req, runtime)
  const session = apiKeyCaller === undefined ? sessionOf(req, options) : undefined
  if (apiKeyCaller === undefined && session === undefined) throw clientError('unauthorized', 'Sign in or give an API key')
  if (session !== undefined) checkCsrf(req, session.csrfToken)
  const caller = (apiKeyCaller ?? session?.caller) as AdminCaller
  if (path === '/api/session/logout') {
    if (session !== undefined) runtime.accounts.logout(cookieOf(req, options.cookieName) as string)
    runtime.audit({ actor: caller.actor, event: 'session.logout', outcome: 'success', errorCode: null })
    return sendJson(res, 200, { ok: true, value: null }, { 'set-cookie': `${options.cookieName}=; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=0` })
  }
  const match = /^\/api\/([a-z][a-zA-Z]{0,40})\/([a-z][a-zA-Z]{0,40})$/.exec(path)
  if (!match) throw clientError('not_found', `No admin API route ${path}`)
  const args = await readJson(req, options.maxBodyBytes ?? 1024 * 1024, [])
  if (!Array.isArray(args)) throw clientError('bad_request', 'The body must be a JSON array of arguments')
  if (path === '/api/messageLog/exportZip' && wantsZip(req)) return streamEvidenceZip(res, runtime, caller, args[0])
  const result: IpcResult<unknown> = await runtime.service.call(caller, match[1] as string, match[2] as string, args)
  return sendJson(res, result.ok ? 200 : statusFor(result.error.code), result)
}

/** The caller of a read-only GET (metrics, events): an API key or a session, any role; refused otherwise. */
function readerOf(req: IncomingMessage, options: HandlerContext): { caller: AdminCaller; stillAuthorized: () => boolean } {
  const header = req.headers.authorization
  const apiKey = apiKeyCallerOf(req, options.runtime)
  if (apiKey !== undefined) {
    return {
      caller: apiKey,
      stillAuthorized: () => {
        try {
          return apiKeyCallerFrom(header, options.runtime) !== undefined
        } catch {
          return false
        }
      },
    }
  }
  const session = sessionOf(req, options)
  const token = cookieOf(req, options.cookieName)
  if (session === undefined || token === undefined) throw clientError('unauthorized', 'Sign in or give an API key')
  return { caller: session.caller, stillAuthorized: () => options.runtime.accounts.sessionValid(token) }
}

/** OpenMetrics / Prometheus text for a scraper with an API key (or a signed-in browser), any role. */
async function serveMetrics(req: IncomingMessage, res: ServerResponse, options: HandlerContext, scrape: NonNullable<AdminHttpOptions['metrics']>): Promise<void> {
  requireMethod(req, 'GET')
  readerOf(req, options)
  const { contentType, body } = await scrape(req.headers.accept)
  res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': contentType, 'content-length': Buffer.byteLength(body) })
  res.end(body)
}

async function serveEvents(req: IncomingMessage, res: ServerResponse, options: HandlerContext, source: ServerEventSource): Promise<void> {
  requireMethod(req, 'GET')
  const { stillAuthorized } = readerOf(req, options)
  if (options.streams.size >= MAX_EVENT_STREAMS) throw clientError('rate_limited', 'Too many open event streams')
  streamServerEvents(req, res, source, options.streams, SECURITY_HEADERS, {
    stillAuthorized, ...(options.eventHeartbeatSeconds === undefined ? {} : { heartbeatMs: options.eventHeartbeatSeconds * 1000 }),
  })
}

function requireMethod(req: IncomingMessage, method: string): void {
  if (req.method !== method) throw clientError('invalid_http_method', `Use ${method}`)
}

/** DNS-rebinding protection: the Host header must name this server (reliability-and-security.md §2.4). */
function checkHost(req: IncomingMessage, extraHosts: readonly string[]): void {
  const host = (req.headers.host ?? '').toLowerCase()
  const port = req.socket.localPort
  const names = ['localhost', '127.0.0.1', '[::1]', ...extraHosts.map((h) => h.toLowerCase())]
  const allowed = names.some((name) => host === `${name}:${port}` || (port === 443 && host === name))
  if (!allowed) throw clientError('forbidden', 'This Host header is not allowed for the admin interface', { detail: 'host' })
}

/** A browser sends Origin on cross-site POSTs; refuse any that is not this server. */
function checkOrigin(req: IncomingMessage): void {
  const origin = req.headers.origin
  if (origin === undefined) return
  if (origin !== `https://${req.headers.host ?? ''}`) throw clientError('csrf_failed', 'Cross-origin requests are not allowed')
}

/** Double-submit check: the CSRF header must equal the session's token (X-Road: X-XSRF-TOKEN, §2.4). */
function checkCsrf(req: IncomingMessage, expected: string): void {
  const header = req.headers[CSRF_HEADER]
  if (typeof header !== 'string' || !constantTimeEqual(header, expected)) {
    throw clientError('csrf_failed', `Missing or wrong ${CSRF_HEADER} header`)
  }
}

function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i)
  return diff === 0
}

function cookieOf(req: IncomingMessage, cookieName: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [name, ...rest] = part.trim().split('=')
    if (name === cookieName) return rest.join('=')
  }
  return undefined
}

function sessionOf(req: IncomingMessage, options: HandlerContext) {
  const token = cookieOf(req, options.cookieName)
  return token ? options.runtime.accounts.authenticateSession(token) : undefined
}

function wantsZip(req: IncomingMessage): boolean {
  return (req.headers.accept ?? '').split(',').some((type) => type.split(';')[0]?.trim().toLowerCase() === 'application/zip')
}

/**
 * `messageLog.exportZip` with `Accept: application/zip`: the ZIP is streamed as it is written (no size cap, no
 * base64), with the method's roles and audit entries (`AdminRuntime.downloads`). Refusals before the first byte are
 * answered as JSON like any call; a failure while streaming cuts the response (the ZIP is then incomplete and its
 * reader says so).
 */
async function streamEvidenceZip(res: ServerResponse, runtime: AdminRuntime, caller: AdminCaller, input: unknown): Promise<void> {
  const download = runtime.downloads.evidenceZip(caller, input)
  res.writeHead(200, {
    ...SECURITY_HEADERS,
    'content-type': 'application/zip',
    'content-disposition': `attachment; filename="${download.fileName.replace(/[^A-Za-z0-9._-]/g, '_')}"`,
  })
  await pipeline(download.stream, res)
}

/** `Authorization: X-Road-ApiKey token=<key>` (UG-SS §19.1); a wrong key is refused, not ignored. */
function apiKeyCallerOf(req: IncomingMessage, runtime: AdminRuntime): AdminCaller | undefined {
  return apiKeyCallerFrom(req.headers.authorization, runtime)
}

function apiKeyCallerFrom(header: string | undefined, runtime: AdminRuntime): AdminCaller | undefined {
  if (header === undefined) return undefined
  const match = new RegExp(`^${API_KEY_SCHEME}\\s+token=([A-Za-z0-9_-]{1,200})$`, 'i').exec(header.trim())
  const caller = match ? runtime.accounts.authenticateApiKey(match[1] as string) : undefined
  if (caller === undefined) throw clientError('unauthorized', 'The API key is not valid')
  return caller
}

function sessionInfo(req: IncomingMessage, options: HandlerContext, caller: AdminCaller | undefined, csrfToken: string | undefined): SessionInfo {
  const { runtime } = options
  return {
    authenticated: caller !== undefined,
    username: caller?.actor ?? null,
    roles: caller ? [...caller.roles] : [],
    csrfToken: csrfToken ?? null,
    setupRequired: runtime.accounts.setupRequired(),
    transport: 'browser',
    // The Host header passed `checkHost`, so it names this server as the browser reached it.
    server: { serverId: runtime.serverId(), address: req.headers.host ?? '', version: options.version },
  }
}

function isLoopback(address: string | undefined): boolean {
  return address !== undefined && (address === '::1' || /^(::ffff:)?127\./.test(address))
}

async function loginOrSetup(req: IncomingMessage, res: ServerResponse, options: HandlerContext, setup: boolean): Promise<void> {
  const { runtime } = options
  const body = (await readJson(req, 16 * 1024, {})) as { username?: unknown; password?: unknown } | null
  const username = typeof body?.username === 'string' ? body.username.slice(0, 64) : ''
  const event = setup ? 'session.setup' : 'session.login'
  try {
    if (setup) {
      // First-run setup: only while no account exists and only from this machine.
      if (!isLoopback(req.socket.remoteAddress)) throw clientError('forbidden', 'The first administrator can be created only from this machine')
      if (!runtime.accounts.setupRequired()) throw clientError('conflict', 'An administrator already exists; sign in instead')
      await runtime.accounts.createUser({ username: body?.username, password: body?.password, roles: FIRST_ADMIN_ROLES })
    }
    const remote = req.socket.remoteAddress ?? 'unknown'
    const { token, csrfToken, user } = await runtime.accounts.login(body?.username, body?.password, remote)
    runtime.audit({ actor: user.username, event, outcome: 'success', errorCode: null, data: { address: remote } })
    const info = sessionInfo(req, options, { actor: user.username, roles: user.roles, userId: user.id }, csrfToken)
    return sendJson(res, 200, { ok: true, value: info }, { 'set-cookie': `${options.cookieName}=${token}; Path=/; HttpOnly; Secure; SameSite=Strict` })
  } catch (error) {
    const coded = toSecurityServerError(error)
    runtime.audit({ actor: username || '(none)', event, outcome: 'failure', errorCode: coded.faultCode, data: { address: req.socket.remoteAddress ?? 'unknown' } })
    throw coded
  }
}

async function readJson(req: IncomingMessage, limit: number, empty: unknown): Promise<unknown> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase()
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > limit) throw clientError('body_too_large', 'Request body too large')
    chunks.push(chunk as Buffer)
  }
  if (size === 0) return empty
  // JSON only: a cross-site form cannot send application/json without a CORS preflight.
  if (type !== 'application/json') throw clientError('invalid_content_type', 'Send the body as application/json')
  return parseJson(Buffer.concat(chunks).toString('utf8'), { maxLength: limit, maxDepth: 32 })
}

async function serveStatic(pathname: string, res: ServerResponse, root: string | undefined): Promise<void> {
  if (root === undefined) {
    res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS })
    res.end('The admin GUI is not built. Run `npm run build`.')
    return
  }
  let relative: string
  try {
    relative = normalize(decodeURIComponent(pathname)).replace(/^([/\\])+/, '')
  } catch {
    relative = ''
  }
  let file = join(root, relative)
  if (!file.startsWith(root + sep) && file !== root) file = join(root, 'index.html')
  const info = await stat(file).catch(() => undefined)
  if (info === undefined || info.isDirectory()) file = join(root, 'index.html')
  const content = await readFile(file).catch(() => undefined)
  if (content === undefined) {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS })
    res.end('Not found')
    return
  }
  res.writeHead(200, { 'content-type': GUI_CONTENT_TYPES[extname(file)] ?? 'application/octet-stream', ...SECURITY_HEADERS })
  res.end(content)
}

function sendJson(res: ServerResponse, status: number, value: unknown, extra: Record<string, string> = {}): void {
  const body = JSON.stringify(value)
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), ...SECURITY_HEADERS, ...extra })
  res.end(body)
}

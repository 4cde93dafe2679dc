import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { readFile, stat } from 'node:fs/promises'
import { extname, join, normalize, sep } from 'node:path'
import type { AdminApi } from '@shared/admin-api/admin-api'
import { dispatchAdminCall } from '../dispatch'
import type { Logger } from '../../platform'

/**
 * The admin GUI and API for browsers (headless mode): static files of the renderer build and
 * `POST /api/{domain}/{method}` with a JSON array of arguments, answered with an IpcResult.
 */
export interface AdminHttpOptions {
  admin: AdminApi
  rendererDir: string | undefined
  logger: Logger
  maxBodyBytes?: number
}

const CONTENT_TYPES: Record<string, string> = {
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
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
}

export function createAdminHttpServer(options: AdminHttpOptions): Server {
  return createServer((req, res) => {
    handle(req, res, options).catch((error: unknown) => {
      options.logger.error({ err: error }, 'admin request failed')
      if (!res.headersSent) sendJson(res, 500, { ok: false, error: { code: 'internal_error', message: 'Internal error' } })
      else res.destroy()
    })
  })
}

async function handle(req: IncomingMessage, res: ServerResponse, options: AdminHttpOptions): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost')
  const api = /^\/api\/([a-z][a-zA-Z]*)\/([a-z][a-zA-Z]*)$/.exec(url.pathname)
  if (api) {
    if (req.method !== 'POST') return sendJson(res, 405, { ok: false, error: { code: 'invalid_http_method', message: 'Use POST' } })
    const body = await readBody(req, options.maxBodyBytes ?? 1024 * 1024)
    if (body === undefined) return sendJson(res, 413, { ok: false, error: { code: 'body_too_large', message: 'Request body too large' } })
    let args: unknown
    try {
      args = body.length === 0 ? [] : JSON.parse(body.toString('utf8'))
    } catch {
      return sendJson(res, 400, { ok: false, error: { code: 'bad_request', message: 'Body must be a JSON array of arguments' } })
    }
    if (!Array.isArray(args)) return sendJson(res, 400, { ok: false, error: { code: 'bad_request', message: 'Body must be a JSON array of arguments' } })
    const result = await dispatchAdminCall(options.admin, api[1] as string, api[2] as string, args)
    return sendJson(res, result.ok ? 200 : statusFor(result.error.code), result)
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, { ok: false, error: { code: 'invalid_http_method', message: 'Method not allowed' } })
  await serveStatic(url.pathname, res, options.rendererDir)
}

function statusFor(code: string): number {
  if (code.endsWith('not_found')) return 404
  if (code === 'unauthorized') return 401
  if (code === 'forbidden') return 403
  if (code === 'internal_error' || code.endsWith('database_error')) return 500
  return 400
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
  res.writeHead(200, { 'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream', ...SECURITY_HEADERS })
  res.end(content)
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value)
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), ...SECURITY_HEADERS })
  res.end(body)
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > limit) return undefined
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks)
}

import { readFileSync } from 'node:fs'
import { request } from 'node:https'
import { join } from 'node:path'

/**
 * A minimal client of a security server's admin API over HTTPS (the same routes the GUI uses): first-run setup of an
 * administrator from loopback, then checked calls `/api/{group}/{method}` with the session cookie and CSRF header.
 * The server's own admin certificate (DATA_DIR/tls/admin.crt) is the only trusted one.
 */
export interface AdminClient {
  call<T>(group: string, method: string, args: unknown[]): Promise<T>
  /** A signed-in GET (e.g. `/metrics`), answered with its status, content type and text. */
  get(path: string, headers?: Record<string, string>): Promise<{ status: number; contentType: string; text: string }>
}

interface Reply {
  status: number
  body: unknown
  cookie?: string
  contentType: string
  text: string
}

function post(port: number, ca: Buffer, path: string, body: unknown, headers: Record<string, string> = {}, method: 'POST' | 'GET' = 'POST'): Promise<Reply> {
  const payload = method === 'GET' ? Buffer.alloc(0) : Buffer.from(JSON.stringify(body))
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1', port, path, method, ca, servername: 'localhost',
        // The admin certificate names localhost / 127.0.0.1; checking it against the pinned file is the point.
        checkServerIdentity: () => undefined,
        headers: { 'content-type': 'application/json', 'content-length': payload.length, host: `127.0.0.1:${port}`, ...headers },
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8')
          let parsed: unknown = text
          try {
            parsed = JSON.parse(text)
          } catch {
            // not JSON: keep the text for the error message
          }
          const setCookie = res.headers['set-cookie']?.[0]?.split(';')[0]
          resolve({ status: res.statusCode ?? 0, body: parsed, cookie: setCookie, contentType: res.headers['content-type'] ?? '', text })
        })
        res.on('error', reject)
      },
    )
    req.setTimeout(10_000, () => req.destroy(new Error(`admin API ${path} timed out`)))
    req.on('error', reject)
    req.end(payload)
  })
}

/** Creates the first administrator (only possible while none exists, from loopback) and signs in. */
export function setupAdmin(dataDir: string, port: number, username = 'demo-admin', password = 'Demo-Admin-Password-1'): Promise<AdminClient> {
  return signIn(dataDir, port, '/api/session/setup', username, password)
}

/** Signs in as an existing administrator (e.g. on a server restored from a backup, whose accounts came with it). */
export function loginAdmin(dataDir: string, port: number, username = 'demo-admin', password = 'Demo-Admin-Password-1'): Promise<AdminClient> {
  return signIn(dataDir, port, '/api/session/login', username, password)
}

async function signIn(dataDir: string, port: number, route: string, username: string, password: string): Promise<AdminClient> {
  const ca = readFileSync(join(dataDir, 'tls', 'admin.crt'))
  const signed = await post(port, ca, route, { username, password })
  const value = (signed.body as { ok?: boolean; value?: { csrfToken?: string } }).value
  if (signed.status !== 200 || signed.cookie === undefined || value?.csrfToken == null) {
    throw new Error(`admin ${route} failed (${signed.status}): ${JSON.stringify(signed.body)}`)
  }
  const auth = { cookie: signed.cookie, 'x-csrf-token': value.csrfToken }
  return {
    async call<T>(group: string, method: string, args: unknown[]): Promise<T> {
      const reply = await post(port, ca, `/api/${group}/${method}`, args, auth)
      const result = reply.body as { ok?: boolean; value?: T; error?: { code: string; message: string } }
      if (result.ok !== true) throw new Error(`admin ${group}.${method} failed (${reply.status}): ${result.error?.code ?? ''} ${result.error?.message ?? JSON.stringify(reply.body)}`)
      return result.value as T
    },
    async get(path, headers = {}) {
      const reply = await post(port, ca, path, undefined, { cookie: signed.cookie as string, ...headers }, 'GET')
      return { status: reply.status, contentType: reply.contentType, text: reply.text }
    },
  }
}

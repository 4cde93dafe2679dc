import { request as httpsRequest } from 'node:https'
import type { SecurityServer } from '../../src-main/server'

/** Requests to a server's admin HTTPS listener on 127.0.0.1 (its certificate is self-signed). */
export interface HttpsReply {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

export async function adminPortOf(server: SecurityServer): Promise<number> {
  const admin = (await server.admin.system.status()).listeners.find((l) => l.name === 'admin')
  if (admin === undefined) throw new Error('the admin listener is not open')
  return Number(new URL(admin.url).port)
}

export function adminRequest(port: number, method: string, path: string, headers: Record<string, string> = {}, body?: unknown): Promise<HttpsReply> {
  const text = body === undefined ? undefined : JSON.stringify(body)
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1', port, method, path, rejectUnauthorized: false,
        headers: { host: `127.0.0.1:${port}`, ...(text === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }))
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    req.end(text)
  })
}

/** An API key with these roles, made through the admin API as an administrator would. */
export async function apiKeyFor(server: SecurityServer, roles: Array<'observer' | 'system-administrator' | 'security-officer'>): Promise<{ header: string; id: number }> {
  const key = await server.admin.apiKeys.create({ label: `test-${roles.join('-')}`, roles })
  return { header: `X-Road-ApiKey token=${key.key}`, id: key.id }
}

import { readFile } from 'node:fs/promises'
import { extname, join, normalize, resolve, sep } from 'node:path'
import { GUI_CONTENT_TYPES } from '../admin'
import { APP_HOST, DESKTOP_CSP } from './window-security'

/**
 * The `app://gatehouse/` protocol serving the built renderer (checklist #18: no file://). Paths are decoded,
 * normalised and must stay inside the renderer folder; anything else is 404.
 */

export async function serveAppRequest(rendererDir: string, url: string): Promise<Response> {
  const root = resolve(rendererDir)
  let file: string
  try {
    const parsed = new URL(url)
    if (parsed.host !== APP_HOST) return notFound()
    const relative = normalize(decodeURIComponent(parsed.pathname)).replace(/^([/\\])+/, '')
    file = join(root, relative === '' ? 'index.html' : relative)
  } catch {
    return notFound()
  }
  if (!file.startsWith(root + sep)) return notFound()
  const content = await readFile(file).catch(() => undefined)
  if (content === undefined) return notFound()
  return new Response(new Uint8Array(content), {
    status: 200,
    headers: { 'content-type': GUI_CONTENT_TYPES[extname(file)] ?? 'application/octet-stream', 'content-security-policy': DESKTOP_CSP, 'x-content-type-options': 'nosniff' },
  })
}

function notFound(): Response {
  return new Response('Not found', { status: 404, headers: { 'content-type': 'text/plain; charset=utf-8' } })
}

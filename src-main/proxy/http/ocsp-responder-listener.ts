import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { logFailure, silentLogger, type Logger } from '../../platform'
import { encodeMultipart, newBoundary } from '../transport/multipart'
import { applyServerLimits, checkingIntervalMs, closeServer, DEFAULT_LISTENER_LIMITS, listen, type ListenerLimits, type RunningListener } from './http-support'

/**
 * The OCSP-response endpoint other security servers query for our certificates (port 5577; xroad-protocols.md §4.2,
 * `CertHashBasedOcspResponder`): `GET /?cert={sha1hex}&…` ⇒ `multipart/related; type="application/ocsp-response"`
 * with one part per known certificate; `HEAD` is a heartbeat.
 */
export interface OcspResponderListenerOptions {
  host?: string
  /** 5577 by default; 0 picks a free port. */
  port?: number
  /** The cached OCSP response (DER) for our certificate with this SHA-1 (lowercase hex), if any. */
  ocspResponseFor(certSha1Hex: string): Promise<Uint8Array | undefined>
  limits?: Partial<ListenerLimits>
  logger?: Logger
}

export const DEFAULT_OCSP_RESPONDER_PORT = 5577
const MAX_CERTS_PER_REQUEST = 16

export async function startOcspResponderListener(options: OcspResponderListenerOptions): Promise<RunningListener> {
  const limits: ListenerLimits = { ...DEFAULT_LISTENER_LIMITS, maxBodyBytes: 0, ...options.limits }
  const logger = options.logger ?? silentLogger()
  const server = createServer({ connectionsCheckingInterval: checkingIntervalMs(limits), maxHeaderSize: 16 * 1024 }, (req, res) => {
    handle(req, res).catch((error: unknown) => {
      logFailure(logger, error, {}, 'OCSP response request failed')
      if (!res.headersSent) plain(res, 500, 'Internal error')
    })
  })
  applyServerLimits(server, limits, 'connection')

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method === 'HEAD') return void res.writeHead(200, { 'Content-Length': 0 }).end()
    if (req.method !== 'GET') return plain(res, 405, 'Only GET and HEAD are supported')
    const query = new URL(req.url ?? '/', 'http://localhost').searchParams
    const hashes = query.getAll('cert').map((h) => h.toLowerCase())
    if (hashes.length === 0 || hashes.length > MAX_CERTS_PER_REQUEST || hashes.some((h) => !/^[0-9a-f]{40}$/.test(h))) {
      return plain(res, 400, `Expected 1..${MAX_CERTS_PER_REQUEST} cert parameters, each a SHA-1 hex hash`)
    }
    const found: Uint8Array[] = []
    for (const hash of hashes) {
      const response = await options.ocspResponseFor(hash)
      // Certificates we hold no response for are left out; none at all ⇒ 404.
      if (response !== undefined) found.push(response)
    }
    if (found.length === 0) return plain(res, 404, 'No OCSP responses for the requested certificates')
    const boundary = newBoundary('jetty')
    const body = encodeMultipart(boundary, found.map((der) => ({ contentType: 'application/ocsp-response', body: der })))
    res.writeHead(200, {
      'Content-Type': `multipart/related; type="application/ocsp-response"; charset=UTF-8; boundary=${boundary}`,
      'Content-Length': body.length,
    })
    res.end(body)
  }

  const bound = await listen(server, options.host ?? '0.0.0.0', options.port ?? DEFAULT_OCSP_RESPONDER_PORT)
  return { ...bound, close: () => closeServer(server) }
}

function plain(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=UTF-8', 'Content-Length': Buffer.byteLength(text) })
  res.end(text)
}

import { Agent as HttpAgent, createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http'
import { Agent as HttpsAgent, createServer as createHttpsServer, request as httpsRequest } from 'node:https'
import { readFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'

/**
 * One hop of the benchmark's physical floor: the same two hops as a Gatehouse pair (HTTP in at the consumer,
 * mutual TLS 1.2 with X-Road's cipher suite between the hops, HTTP out at the provider) and no security work.
 *   entry:  HTTP on 127.0.0.1 → HTTPS (client certificate) to the exit hop
 *   exit:   HTTPS with a required client certificate → HTTP to the service
 * Prints {"port":N} when listening; exits on SIGTERM.
 */
const [mode, target, certDir] = process.argv.slice(2) as ['entry' | 'exit', string, string]
const tls = {
  cert: readFileSync(`${certDir}/${mode}.crt`),
  key: readFileSync(`${certDir}/${mode}.key`),
  ca: readFileSync(`${certDir}/ca.crt`),
  minVersion: 'TLSv1.2' as const,
  maxVersion: 'TLSv1.2' as const,
  ciphers: 'ECDHE-RSA-AES256-SHA384',
}

const HOP_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding', 'host', 'content-length'])

function forward(req: IncomingMessage, res: ServerResponse, send: typeof httpRequest, agent: HttpAgent | HttpsAgent): void {
  const headers: Record<string, string | string[]> = {}
  for (const [name, value] of Object.entries(req.headers)) if (value !== undefined && !HOP_HEADERS.has(name)) headers[name] = value
  const chunks: Buffer[] = []
  req.on('data', (c: Buffer) => chunks.push(c))
  req.on('end', () => {
    const body = Buffer.concat(chunks)
    headers['content-length'] = String(body.length)
    const out = send(new URL(req.url ?? '/', target), { method: req.method, headers, agent }, (upstream) => {
      const back: Buffer[] = []
      upstream.on('data', (c: Buffer) => back.push(c))
      upstream.on('end', () => {
        const payload = Buffer.concat(back)
        const responseHeaders: Record<string, string | string[]> = {}
        for (const [name, value] of Object.entries(upstream.headers)) if (value !== undefined && !HOP_HEADERS.has(name)) responseHeaders[name] = value
        responseHeaders['content-length'] = String(payload.length)
        res.writeHead(upstream.statusCode ?? 502, responseHeaders)
        res.end(payload)
      })
    })
    out.on('error', () => {
      res.writeHead(502)
      res.end()
    })
    out.end(body)
  })
}

const serviceAgent = new HttpAgent({ keepAlive: true, maxSockets: 64 })
const peerAgent = new HttpsAgent({ keepAlive: true, maxSockets: 64, ...tls, checkServerIdentity: () => undefined })
const server =
  mode === 'entry'
    ? createServer((req, res) => forward(req, res, httpsRequest, peerAgent))
    : createHttpsServer({ ...tls, requestCert: true, rejectUnauthorized: true }, (req, res) => forward(req, res, httpRequest, serviceAgent))
server.keepAliveTimeout = 30_000
server.listen(0, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`))
process.on('SIGTERM', () => {
  server.close()
  server.closeAllConnections()
  process.exit(0)
})

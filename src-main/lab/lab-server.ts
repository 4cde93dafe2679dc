import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { join, normalize, sep } from 'node:path'
import type { KeyObject } from 'node:crypto'
import { clientError, logFailure, silentLogger, systemClock, type Clock, type Logger } from '../platform'
import { CONFIGURATION_VERSION, DEFAULT_LAB_PORTS, openLab, type LabAuthority } from './lab-authority'
import { answerOcspRequest, errorResponse } from './ocsp-responder'
import { certificateToPem } from './lab-pki'
import { answerTimeStampRequest } from './tsa-responder'
import { answerManagementRequest, managementFaultXml } from './management-service'
import { MANAGEMENT_REQUEST_MAX_BYTES } from '../management'
import { OCSPResponseStatus } from '@peculiar/asn1-ocsp'

/**
 * `lab serve`: the lab's OCSP responder (RFC 6960 Annex A: GET and POST over HTTP), its RFC 3161 TSA (HTTP POST,
 * RFC 3161 §3.4), its configuration source (the CS's static layout, xroad-protocols.md §5.2) and its management
 * service (pr-mserv): authCertReg over HTTPS at `authCertRegServiceAddress` (the TLS certificate is published as
 * `authCertRegServiceCert`), the other requests at `POST /managementservice/manage` on the configuration port — the
 * service URL the management security server calls for `managementRequestServiceProviderId`, as X-Road's management
 * security server calls the central server's management service. All on 127.0.0.1.
 */
export interface LabServerOptions {
  host?: string
  /** 0 picks a free port; default: the lab's stored ports. */
  ports?: { ocsp?: number; tsa?: number; conf?: number; management?: number }
  confExpireSeconds?: number
  regenerateIntervalMs?: number
  ocspValiditySeconds?: number
  clock?: Clock
  logger?: Logger
}

export interface LabServerUrls {
  ocsp: string
  tsa: string
  internalconf: string
  externalconf: string
  /** `authCertRegServiceAddress` (HTTPS). */
  authCertReg: string
  /** The management services' URL behind the management security server. */
  managementService: string
}

type LabService = 'ocsp' | 'tsa' | 'conf' | 'management'

export interface RunningLabServer {
  urls: LabServerUrls
  anchor: string
  anchorExternal: string
  regenerate(): void
  /** Stops one of the three services, the others keep serving (an outage for diagnostics and tests to observe). */
  stopService(service: LabService): Promise<void>
  /** Starts a stopped service again on the same port (the end of the outage); a running one is left as it is. */
  startService(service: LabService): Promise<void>
  close(): Promise<void>
}

const MAX_REQUEST_BYTES = 64 * 1024
/** pr-mserv §2.3: authCertReg is posted under this path of `authCertRegServiceAddress`. */
const AUTH_CERT_REG_PATH = '/managementservice/'
const MANAGEMENT_SERVICE_PATH = '/managementservice/manage'

export async function startLabServer(labDir: string, options: LabServerOptions = {}): Promise<RunningLabServer> {
  const host = options.host ?? '127.0.0.1'
  const clock = options.clock ?? systemClock
  const logger = options.logger ?? silentLogger()
  const lab = openLab(labDir, { clock })
  const servers: Server[] = []
  let timer: NodeJS.Timeout | undefined
  try {
    const stored = lab.settings()
    const storedPort = (url: string, fallback: number): number => Number(/:(\d+)$/.exec(url)?.[1] ?? fallback)
    const ports = {
      ocsp: options.ports?.ocsp ?? storedPort(stored.ocspUrl, DEFAULT_LAB_PORTS.ocsp),
      tsa: options.ports?.tsa ?? storedPort(stored.tsaUrl, DEFAULT_LAB_PORTS.tsa),
      conf: options.ports?.conf ?? storedPort(stored.confAddress, DEFAULT_LAB_PORTS.conf),
      // Not in the anchor (private parameters name it), so a free port the first time, the same one afterwards.
      management: options.ports?.management ?? (stored.authCertRegUrl === null ? 0 : Number(new URL(stored.authCertRegUrl).port)),
    }
    const ocspCert = lab.certificateDer('ocsp')
    const ocspKey = lab.privateKey('ocsp')
    const caCert = lab.certificateDer('ca')
    const tsaCert = lab.certificateDer('tsa')
    const tsaKey = lab.privateKey('tsa')
    const ocsp = await listen(host, ports.ocsp, handler(logger, 'ocsp', async (req, res) => {
      const der = await ocspRequestBytes(req)
      const body =
        der === undefined
          ? errorResponse(OCSPResponseStatus.malformedRequest)
          : answerOcspRequest(der, {
              caCert,
              responderCert: ocspCert,
              responderKey: ocspKey,
              status: (serial) => lab.certificateStatus(serial),
              now: clock.now(),
              validitySeconds: options.ocspValiditySeconds ?? 3600,
            })
      send(res, 200, 'application/ocsp-response', body)
    }))
    servers.push(ocsp)
    const tsa = await listen(host, ports.tsa, handler(logger, 'tsa', async (req, res) => {
      // RFC 3161 §3.4: POST with Content-Type application/timestamp-query, answered with application/timestamp-reply.
      if (req.method !== 'POST') return send(res, 405, 'text/plain', 'POST application/timestamp-query\n')
      if (!/^application\/timestamp-query\b/i.test(req.headers['content-type'] ?? '')) return send(res, 415, 'text/plain', 'Content-Type must be application/timestamp-query\n')
      const body = await readBody(req)
      if (body === undefined) return send(res, 413, 'text/plain', 'Request too large\n')
      send(res, 200, 'application/timestamp-reply', answerTimeStampRequest(body, { tsaCert, tsaKey, now: clock.now() }))
    }))
    servers.push(tsa)
    const conf = await listen(host, ports.conf, handler(logger, 'conf', async (req, res) => {
      const path = new URL(req.url ?? '/', 'http://lab').pathname
      if (path === MANAGEMENT_SERVICE_PATH) return serveManagementRequest(lab, 'service', req, res)
      return serveConfiguration(lab, req, res)
    }))
    servers.push(conf)
    const tls = await lab.managementTlsCredentials()
    const management = await listen(host, ports.management, handler(logger, 'management', async (req, res) => {
      if (!new URL(req.url ?? '/', 'https://lab').pathname.startsWith(AUTH_CERT_REG_PATH)) return send(res, 404, 'text/plain', 'Not found\n')
      return serveManagementRequest(lab, 'authCertReg', req, res)
    }), { cert: certificateToPem(tls.cert), key: tls.key })
    servers.push(management)

    const port = (s: Server): number => (s.address() as AddressInfo).port
    const bound = { ocsp: port(ocsp), tsa: port(tsa), conf: port(conf), management: port(management) }
    const confAddress = `${host}:${port(conf)}`
    lab.setServiceAddresses({ confAddress, ocspUrl: `http://${host}:${port(ocsp)}`, tsaUrl: `http://${host}:${port(tsa)}` })
    const authCertRegUrl = `https://${host}:${port(management)}${AUTH_CERT_REG_PATH}`
    const managementServiceUrl = `http://${confAddress}${MANAGEMENT_SERVICE_PATH}`
    lab.setManagementAddresses({ authCertRegUrl, managementServiceUrl })
    if (options.confExpireSeconds !== undefined) lab.setConfExpireSeconds(options.confExpireSeconds)
    const regenerate = (): void => {
      lab.regenerateConfiguration()
    }
    regenerate()
    // xroad-protocols.md §5.3: the CS regenerates every 60 s so the directory never reaches its expiry while served.
    timer = setInterval(() => {
      try {
        regenerate()
      } catch (error) {
        logFailure(logger, error, { component: 'lab' }, 'configuration regeneration failed')
      }
    }, options.regenerateIntervalMs ?? 60_000)
    timer.unref()
    const urls: LabServerUrls = {
      ocsp: `http://${host}:${port(ocsp)}`,
      tsa: `http://${host}:${port(tsa)}`,
      internalconf: `http://${confAddress}/internalconf`,
      externalconf: `http://${confAddress}/externalconf`,
      authCertReg: authCertRegUrl,
      managementService: managementServiceUrl,
    }
    let closed = false
    return {
      urls,
      anchor: lab.paths.anchor,
      anchorExternal: lab.paths.anchorExternal,
      regenerate,
      async stopService(service) {
        await closeServer({ ocsp, tsa, conf, management }[service])
      },
      async startService(service) {
        if (closed) throw new Error('The lab server is closed')
        const server = { ocsp, tsa, conf, management }[service]
        if (server.listening) return
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject)
          server.listen(bound[service], host, () => {
            server.off('error', reject)
            resolve()
          })
        })
      },
      async close() {
        if (closed) return
        closed = true
        clearInterval(timer)
        await Promise.all(servers.map(closeServer))
        lab.close()
      },
    }
  } catch (error) {
    clearInterval(timer)
    await Promise.all(servers.map(closeServer))
    lab.close()
    throw error
  }
}

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>

function handler(logger: Logger, name: string, work: Handler): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    work(req, res).catch((error: unknown) => {
      logFailure(logger, error, { component: `lab.${name}`, url: req.url }, 'lab request failed')
      if (!res.headersSent) send(res, 500, 'text/plain', 'Internal error\n')
      else res.destroy()
    })
  }
}

function listen(
  host: string, port: number, onRequest: (req: IncomingMessage, res: ServerResponse) => void, tls?: { cert: string; key: KeyObject },
): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = tls === undefined ? createServer(onRequest) : createHttpsServer({ cert: tls.cert, key: tls.key.export({ format: 'pem', type: 'pkcs8' }) }, onRequest)
    server.keepAliveTimeout = 5_000
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve(server)
    })
  })
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve()
    server.close(() => resolve())
    server.closeAllConnections()
  })
}

function send(res: ServerResponse, status: number, type: string, body: Uint8Array | string): void {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body)
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': bytes.length, 'Cache-Control': 'no-store' })
  res.end(bytes)
}

/** A management request (pr-mserv): POST only; the answer is the request id or X-Road's SOAP fault (HTTP 500). */
async function serveManagementRequest(lab: LabAuthority, channel: 'authCertReg' | 'service', req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'POST') return send(res, 405, 'text/plain', 'POST only\n')
  const body = await readBody(req, MANAGEMENT_REQUEST_MAX_BYTES)
  if (body === undefined) {
    const tooLarge = clientError('invalid_request', `Management request is larger than ${MANAGEMENT_REQUEST_MAX_BYTES} bytes`)
    return send(res, 500, 'text/xml; charset=UTF-8', managementFaultXml(tooLarge))
  }
  const answer = answerManagementRequest(lab, req.headers['content-type'] ?? '', Buffer.from(body), channel)
  send(res, answer.status, answer.contentType, answer.body)
}

function readBody(req: IncomingMessage, limit = MAX_REQUEST_BYTES): Promise<Uint8Array | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    let tooLarge = false
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > limit) tooLarge = true
      else chunks.push(chunk)
    })
    req.on('end', () => resolve(tooLarge ? undefined : new Uint8Array(Buffer.concat(chunks))))
    req.on('error', reject)
  })
}

/** RFC 6960 Annex A.1: POST application/ocsp-request, or GET {url}/{url-encoding of base-64 of the DER request}. */
async function ocspRequestBytes(req: IncomingMessage): Promise<Uint8Array | undefined> {
  if (req.method === 'POST') {
    if (!/^application\/ocsp-request\b/i.test(req.headers['content-type'] ?? '')) return undefined
    return readBody(req)
  }
  if (req.method === 'GET') {
    const path = (req.url ?? '/').replace(/^\/+/, '').split('?')[0] ?? ''
    if (path === '') return undefined
    try {
      const b64 = decodeURIComponent(path)
      if (!/^[A-Za-z0-9+/=]+$/.test(b64)) return undefined
      return new Uint8Array(Buffer.from(b64, 'base64'))
    } catch {
      return undefined
    }
  }
  return undefined
}

/**
 * The configuration source as the CS's nginx serves it (xroad-protocols.md §5.2): `/(internal|external)conf` maps to
 * `/V{version}/…` with version from the query (default 2, which a V6-only lab does not have), parts are static files.
 */
async function serveConfiguration(lab: LabAuthority, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'GET only\n')
  const url = new URL(req.url ?? '/', 'http://lab')
  const root = lab.paths.publicRoot
  let file: string | undefined
  const directory = /^\/(internal|external)conf$/.exec(url.pathname)
  if (directory) {
    const version = url.searchParams.get('version') ?? '2'
    if (version !== String(CONFIGURATION_VERSION)) return send(res, 404, 'text/plain', `No configuration version ${version}\n`)
    file = join(root, `V${version}`, `${directory[1]}conf`)
  } else if (/^\/V\d+\/\d+\/[A-Za-z0-9._-]+$/.test(url.pathname)) {
    const candidate = normalize(join(root, url.pathname))
    if (candidate.startsWith(root + sep)) file = candidate
  }
  if (file === undefined || !existsSync(file) || !statSync(file).isFile()) return send(res, 404, 'text/plain', 'Not found\n')
  const body = readFileSync(file)
  const type = file.endsWith('.xml') ? 'text/xml; charset=UTF-8' : 'application/octet-stream'
  if (req.method === 'HEAD') {
    res.writeHead(200, { 'Content-Type': type, 'Content-Length': body.length })
    res.end()
    return
  }
  send(res, 200, type, body)
}

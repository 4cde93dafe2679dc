import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https'
import type { TLSSocket } from 'node:tls'
import { clientError, logFailure, silentLogger, toSecurityServerError, type Logger } from '../../platform'
import { clientProxyError, handleClientProxyRequest, type ClientProxyDeps, type ClientProxyRequest } from '../client-proxy'
import { transportLimit } from '../body/body-limits'
import { acceptValues, restErrorResponse, soapFaultResponse } from '../proxy-fault'
import { handleSoapClientRequest } from '../soap/soap-client-proxy'
import { LIST_CLIENTS_PATH, listClientsResponse, requestedInstance, type ListedClient } from '../metaservices/list-clients'
import {
  answerConnect, applyServerLimits, checkingIntervalMs, closeServer, DEFAULT_LISTENER_LIMITS, headerList, incomingBody, LINGER_MS, lingerIdleMs,
  listen, settleUnread, writeResponse, type ListenerLimits, type RunningListener,
} from './http-support'
import { clientTlsOptions, DEFAULT_CLIENT_TLS_PROFILE, sha256Hex, type ClientTlsProfile } from './tls-profile'

/**
 * The client proxy's listeners for information systems: HTTP and HTTPS (the IS certificate, when sent, is handed to
 * the pipeline for the per-client NOSSL/SSLNOAUTH/SSLAUTH check, ug-ss §9.4), the REST `/r1/…` route (PR-REST §4.1), SOAP
 * on every other path (PR-MESS; X-Road's `ClientMessageHandler`),
 * `GET /listClients` (PR-META §2, `metaservices/list-clients.ts`), the evidence downloads `GET /asic` and `GET /verificationconf`
 * (xroad-protocols.md §6.3), bounded bodies and timeouts; errors are X-Road's REST error (§2.5).
 */
export interface EvidenceDownload {
  contentType: string
  /** Offered as the attachment's file name. */
  fileName: string
  body: Buffer
}

/** Who asks, as the client proxy saw the connection (for the IS authentication of ug-ss §9.4). */
export interface EvidenceCaller {
  /** Present over HTTPS, with the SHA-256 hex of the IS's TLS certificate when it sent one. */
  tls?: { clientCertificateSha256?: string }
}

/** The evidence downloads of §6.3, served only here, on the internal side. */
export interface EvidenceDownloads {
  /**
   * `GET /asic?…`: the query string as given; the ASiC-E container(s), or X-Road's error — `ssl_authentication_failed`
   * or `unauthorized` when the caller is not the client the parameters name, connected as its connection type asks.
   */
  asic(params: URLSearchParams, caller: EvidenceCaller): Promise<EvidenceDownload>
  /** `GET /verificationconf`: the ZIP of `verificationconf/{INSTANCE}/shared-params.xml` (+ `.metadata`). */
  verificationConf(): Promise<EvidenceDownload>
}

export interface ClientProxyListenerOptions {
  host?: string
  /** How long close() lets requests in flight finish before cutting them (the server's shutdown grace; 1 s default). */
  graceMs?: number
  /** HTTP port (8080 by default; null: no HTTP listener; 0: a free port). */
  httpPort?: number | null
  /** HTTPS port (8443 by default; null: none). Needs `tls`. */
  httpsPort?: number | null
  /** The internal TLS key and certificate shown to information systems (PEM). */
  tls?: { keyPem: string; certPem: string }
  /** Protocols towards information systems (TLS 1.2 with X-Road's cipher suites by default). */
  tlsProfile?: ClientTlsProfile
  deps: ClientProxyDeps
  /**
   * Members and subsystems of an instance for `GET /listClients` (from global configuration): the own instance when
   * `instance` is undefined, a federated one by its identifier. Absent: not served.
   */
  listClients?: (instance: string | undefined) => ListedClient[]
  /** `/asic` and `/verificationconf`; absent: not served. */
  evidence?: EvidenceDownloads
  limits?: Partial<ListenerLimits>
  logger?: Logger
}

export interface RunningClientProxy {
  http?: RunningListener
  https?: RunningListener
  /** Applies another TLS profile to the HTTPS listener for the connections that follow (no restart). */
  setTlsProfile(profile: ClientTlsProfile): void
  close(): Promise<void>
}

export async function startClientProxyListener(options: ClientProxyListenerOptions): Promise<RunningClientProxy> {
  const limits: ListenerLimits = { ...DEFAULT_LISTENER_LIMITS, ...options.limits }
  const logger = options.logger ?? silentLogger()
  const host = options.host ?? '127.0.0.1'
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res, options, limits).catch((error: unknown) => {
      logFailure(logger, error, { url: req.url?.slice(0, 200) }, 'client proxy request failed')
      const coded = clientProxyError(error)
      void writeResponse(res, isSoapTarget(pathOf(req.url ?? '/')) ? soapFaultResponse(coded) : restErrorResponse(coded, acceptValues(headerList(req))))
    })
  }
  const running: RunningClientProxy = { setTlsProfile: () => undefined, close: async () => {} }
  const servers: Array<HttpServer | HttpsServer> = []
  const connectRefused = () => restErrorResponse(clientError('invalid_http_method', 'CONNECT is not supported: the client proxy does not tunnel'), undefined)
  if (options.httpPort !== null) {
    const server = createHttpServer({ connectionsCheckingInterval: checkingIntervalMs(limits) }, handler)
    applyServerLimits(server, limits, 'connection')
    answerConnect(server, connectRefused)
    servers.push(server)
    running.http = { ...(await listen(server, host, options.httpPort ?? 8080)), close: () => closeServer(server, options.graceMs) }
  }
  if (options.httpsPort !== null && options.tls !== undefined) {
    const { keyPem, certPem } = options.tls
    const server = createHttpsServer(
      {
        ...clientTlsOptions(options.tlsProfile ?? DEFAULT_CLIENT_TLS_PROFILE), key: keyPem, cert: certPem,
        // ug-ss §9.4: IS certificates are usually self-signed; they are compared by hash per client, not by a CA.
        requestCert: true, rejectUnauthorized: false, connectionsCheckingInterval: checkingIntervalMs(limits),
      },
      handler,
    )
    applyServerLimits(server, limits, 'secureConnection')
    answerConnect(server, connectRefused)
    servers.push(server)
    running.https = { ...(await listen(server, host, options.httpsPort ?? 8443)), close: () => closeServer(server, options.graceMs) }
    running.setTlsProfile = (profile) => server.setSecureContext({ ...clientTlsOptions(profile), key: keyPem, cert: certPem })
  }
  running.close = async () => {
    await Promise.all(servers.map((s) => closeServer(s, options.graceMs)))
  }
  return running
}

async function handle(req: IncomingMessage, res: ServerResponse, options: ClientProxyListenerOptions, limits: ListenerLimits): Promise<void> {
  const headers = headerList(req)
  const url = req.url ?? '/'
  const accept = acceptValues(headers)
  const fail = async (error: unknown): Promise<void> => {
    const ended = await settleUnread(req, LINGER_MS, lingerIdleMs(limits))
    return writeResponse(res, restErrorResponse(toSecurityServerError(error), accept), !ended)
  }
  const path = pathOf(url)
  const ambiguity = ambiguousPath(path)
  if (ambiguity !== undefined) {
    const ended = await settleUnread(req, LINGER_MS, lingerIdleMs(limits))
    return writeResponse(res, { status: 400, headers: [['Content-Type', 'text/plain;charset=utf-8']], body: Buffer.from(`Bad Request: ${ambiguity}`, 'utf8') }, !ended)
  }
  // X-Road's MetadataHandler takes only a GET; another method goes on to the SOAP handler like any other path.
  if (path === LIST_CLIENTS_PATH && options.listClients !== undefined && req.method === 'GET') {
    const query = new URLSearchParams(url.includes('?') ? url.slice(url.indexOf('?') + 1) : '')
    const accepted = headers.filter(([name]) => name.toLowerCase() === 'accept').map(([, value]) => value)
    return writeResponse(res, listClientsResponse(options.listClients(requestedInstance(query)), accepted))
  }
  const tls = isTls(req)
  if ((path === '/asic' || path === '/verificationconf') && options.evidence !== undefined) {
    if (req.method !== 'GET') return fail(clientError('invalid_http_method', `${path} is GET only`))
    const query = new URLSearchParams(url.includes('?') ? url.slice(url.indexOf('?') + 1) : '')
    let download: EvidenceDownload
    try {
      download = path === '/asic' ? await options.evidence.asic(query, tls === undefined ? {} : { tls }) : await options.evidence.verificationConf()
    } catch (error) {
      return writeResponse(res, evidenceErrorResponse(error, accept))
    }
    return writeResponse(res, {
      status: 200,
      headers: [
        ['Content-Type', download.contentType],
        ['Content-Disposition', `attachment; filename="${download.fileName.replace(/["\\\r\n]/g, '_')}"`],
      ],
      body: download.body,
    })
  }
  const soap = isSoapTarget(path)
  if (!soap && !/^\/r\d+\//.test(path)) return fail(clientProxyError(clientError('invalid_request', 'Unknown request target; REST requests go to /r1/…')))
  // B7: a declared length over the limit is refused unread; the pipeline reads the rest once the request is checked
  // (issue 14 §3: the message log's limit and the memory budget before the first byte).
  const body = incomingBody(req, res, limits.maxBodyBytes, limits.requestTimeoutMs)
  if (body.declaredLength !== undefined && body.declaredLength > limits.maxBodyBytes) {
    const refusal = transportLimit(limits.maxBodyBytes).error(body.declaredLength)
    if (!soap) return fail(clientProxyError(refusal))
    const ended = await settleUnread(req, LINGER_MS, lingerIdleMs(limits))
    return writeResponse(res, { ...soapFaultResponse(toSecurityServerError(refusal).withPrefix('client')) }, !ended)
  }
  const raw: ClientProxyRequest = { method: req.method ?? 'GET', url, headers, body }
  if (tls !== undefined) raw.tls = tls
  const response = soap ? await handleSoapClientRequest(raw, options.deps) : await handleClientProxyRequest(raw, options.deps)
  // A request refused before its body was read: the rest is dropped first, for a moment (`settleUnread`).
  await writeResponse(res, response, !(await settleUnread(req, LINGER_MS, lingerIdleMs(limits))))
}

function pathOf(url: string): string {
  const query = url.indexOf('?')
  return query < 0 ? url : url.slice(0, query)
}

/**
 * X-Road's client proxy: REST under /r1/, SOAP (`ClientMessageHandler`) for every other request; a first segment that
 * looks like another protocol version (/r2/, /rx/) stays with REST so that it gets REST's refusal.
 */
function isSoapTarget(path: string): boolean {
  return !/^\/r[0-9a-z]*\//i.test(path)
}

/**
 * What Jetty refuses before any handler of X-Road's client proxy sees the request (`ClientProxy` allows only
 * `UriCompliance.Violation.AMBIGUOUS_PATH_SEPARATOR` beyond the default): an encoded dot segment (`%2e%2e`), an empty
 * segment (`//`), an encoded percent (`%25xx`), a backslash, an encoded NUL or other control character, a malformed
 * percent-encoding or UTF-16 `%u` escape, and dot segments that climb above the root. The answer is a plain 400. An
 * encoded separator (`%2F`), `;`, `/./` and `/a/../b` pass as they are, raw, to the provider, whose access check
 * decides (`access-control/rest-path.ts`).
 */
export function ambiguousPath(path: string): string | undefined {
  if (path.includes('\\')) return 'suspicious path character (backslash)'
  if (/%(?![0-9a-f]{2})/i.test(path)) return 'malformed percent-encoding in the path'
  if (/%25/.test(path)) return 'ambiguous URI path encoding (%25)'
  if (/%(0[0-9a-f]|1[0-9a-f]|7f)/i.test(path)) return 'suspicious path character (encoded control character)'
  if (/%5c/i.test(path)) return 'suspicious path character (encoded backslash)'
  if (path.includes('//')) return 'ambiguous URI empty segment'
  let depth = 0
  const segments = path.split('/')
  for (let i = 1; i < segments.length; i++) {
    const segment = segments[i] as string
    // Only an escape can be an encoded dot (issue 15 §5: most segments have none, and need no copy).
    const decoded = segment.includes('%') ? segment.replace(/%2e/gi, '.') : segment
    if ((decoded === '.' || decoded === '..') && decoded !== segment) return 'ambiguous URI path segment (encoded dot segment)'
    if (segment === '..') {
      depth -= 1
      if (depth < 0) return 'bad URI (dot segments above the root)'
    } else if (segment !== '.') {
      depth += 1
    }
  }
  return undefined
}

/**
 * X-Road `AsicContainerClientRequestProcessor`: a fault of the caller is answered with its HTTP status — 401 when the
 * IS is not authenticated as the client (`verifyClientAuthentication`), 404 when nothing was logged (`not_found`),
 * 400 for its other mistakes (`bad_request`) — and only a fault of ours with 500 (`server.clientproxy.*`). The body
 * is X-Road's REST error.
 */
function evidenceErrorResponse(error: unknown, accept: string | undefined) {
  const coded = toSecurityServerError(error)
  if (!coded.clientFault) return restErrorResponse(coded.withPrefix('server.clientproxy'), accept)
  const status = coded.code === 'ssl_authentication_failed' || coded.code === 'unauthorized' ? 401 : coded.code === 'not_found' ? 404 : 400
  return { ...restErrorResponse(coded, accept), status }
}

/** Over HTTPS: the SHA-256 of the IS's TLS client certificate when it sent one (ug-ss §9.4); undefined over HTTP. */
function isTls(req: IncomingMessage): { clientCertificateSha256?: string } | undefined {
  const socket = req.socket as TLSSocket
  if (socket.encrypted !== true) return undefined
  const peer = socket.getPeerCertificate()
  return peer.raw !== undefined && peer.raw.length > 0 ? { clientCertificateSha256: sha256Hex(peer.raw) } : {}
}

import { createServer, type Server } from 'node:https'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { TLSSocket } from 'node:tls'
import { clientError, logFailure, SecurityServerError, silentLogger, toSecurityServerError, type Logger } from '../../platform'
import { transportLimit } from '../body/body-limits'
import { soapFaultResponse } from '../proxy-fault'
import { handleServerProxyRequest, type ServerProxyDeps } from '../server-proxy'
import {
  answerConnect, applyServerLimits, checkingIntervalMs, closeServer, DEFAULT_LISTENER_LIMITS, headerList, incomingBody, LINGER_MS, lingerIdleMs,
  listen, settleUnread, writeResponse, type ListenerLimits, type RunningListener,
} from './http-support'
import { peerCertificateChain, sha256Hex, XROAD_TLS_OPTIONS, type AuthTlsCredentials } from './tls-profile'

/**
 * The server proxy's listener (port 5500): HTTPS with X-Road's TLS profile and mutual authentication
 * (xroad-protocols.md §4.1), POST only, bounded and deadline-limited bodies, answers from `handleServerProxyRequest`.
 * Transport-level faults are plain `text/xml` SOAP faults with HTTP 200 (§4.3).
 */
export interface ServerProxyListenerOptions {
  host?: string
  /** How long close() lets requests in flight finish before cutting them (the server's shutdown grace; 1 s default). */
  graceMs?: number
  /** 5500 by default; 0 picks a free port. */
  port?: number
  /** Our auth key and chain; absent while the server has no usable authentication certificate (`setCredentials`). */
  tls?: AuthTlsCredentials
  /**
   * The certificate shown while there is no auth key (the internal TLS certificate), so that a caller still gets an
   * X-Road fault that says why instead of a failed handshake. X-Road itself fails the handshake there
   * (docs/xroad-differences.md).
   */
  fallbackTls?: { keyPem: string; certPem: string }
  /** Approved CA certificates (PEM), listed as acceptable issuers in the CertificateRequest (`AuthTrustManager`). */
  approvedCaPem?: string[]
  /**
   * X-Road's `checkClientTrusted`: the SHA-256 (hex) of the peer's leaf certificate must be an `authCertHash` in
   * global configuration. Checked on every request, as Node cannot run custom trust inside the handshake.
   */
  isTrustedAuthCert(leafSha256Hex: string): boolean
  deps: ServerProxyDeps
  limits?: Partial<ListenerLimits>
  logger?: Logger
}

export const DEFAULT_SERVER_PROXY_PORT = 5500

export interface RunningServerProxy extends RunningListener {
  server: Server
  /**
   * Hot-swaps the TLS credentials and the acceptable issuers for new connections (`setSecureContext`); connections
   * already open keep theirs until they close. Without credentials every request is answered with `unavailable`.
   */
  setCredentials(tls: AuthTlsCredentials | undefined, approvedCaPem: string[], unavailable?: SecurityServerError): void
}

export async function startServerProxyListener(options: ServerProxyListenerOptions): Promise<RunningServerProxy> {
  const limits: ListenerLimits = { ...DEFAULT_LISTENER_LIMITS, ...options.limits }
  const logger = options.logger ?? silentLogger()
  let credentials = options.tls
  let unavailable = clientError('ssl_authentication_failed', 'This security server has no active authentication certificate')
  const contextOptions = (tls: AuthTlsCredentials | undefined, approvedCaPem: string[] | undefined) => {
    const pair = tls !== undefined ? { key: tls.keyPem, cert: tls.certChainPem } : options.fallbackTls !== undefined ? { key: options.fallbackTls.keyPem, cert: options.fallbackTls.certPem } : undefined
    if (pair === undefined) throw new SecurityServerError('internal_error', 'The server proxy needs an authentication certificate or a fallback certificate')
    return { ...XROAD_TLS_OPTIONS, ...pair, ...(approvedCaPem === undefined || approvedCaPem.length === 0 ? {} : { ca: approvedCaPem }) }
  }
  const server = createServer(
    {
      ...contextOptions(options.tls, options.approvedCaPem),
      requestCert: true,
      // §4.1: trust is X-Road's own (auth-cert hash in global conf), decided per request below, not by a CA store.
      rejectUnauthorized: false,
      connectionsCheckingInterval: checkingIntervalMs(limits),
    },
    (req, res) => {
      handle(req, res).catch((error: unknown) => {
        logFailure(logger, error, { url: req.url }, 'server proxy request failed')
        void writeResponse(res, soapFaultResponse(toSecurityServerError(error).withPrefix('server.serverproxy')), true)
      })
    },
  )
  applyServerLimits(server, limits, 'secureConnection')
  answerConnect(server, () => soapFaultResponse(clientError('invalid_http_method', 'Must use POST between security servers').withPrefix('server.serverproxy')))

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (credentials === undefined) return refuse(req, res, unavailable)
    const socket = req.socket as TLSSocket
    const chain = peerCertificateChain(socket)
    const leaf = chain[0]
    // §4.1 AuthTrustManager.checkClientTrusted: no certificate or an unregistered one ⇒ refused.
    if (leaf === undefined) return refuse(req, res, clientError('ssl_authentication_failed', 'The client did not present an authentication certificate'))
    if (!options.isTrustedAuthCert(sha256Hex(leaf))) {
      return refuse(req, res, clientError('ssl_authentication_failed', 'The client authentication certificate is not registered in global configuration'))
    }
    if (req.method !== 'POST') return refuse(req, res, clientError('invalid_http_method', 'Must use POST between security servers'))
    // B7: a declared length over the limit is refused unread; the rest is read by the pipeline as it arrives (issue 14 §3).
    const body = incomingBody(req, res, limits.maxBodyBytes, limits.requestTimeoutMs)
    if (body.declaredLength !== undefined && body.declaredLength > limits.maxBodyBytes) return refuse(req, res, transportLimit(limits.maxBodyBytes).error(body.declaredLength))
    const response = await handleServerProxyRequest(
      { method: req.method, headers: headerList(req), body, peerCertificateChain: chain },
      { ...options.deps, limits: options.deps.limits ?? { ...defaultMultipart(limits.maxBodyBytes) } },
    )
    // A message refused before its end was read: the rest is dropped first, for a moment (`settleUnread`).
    await writeResponse(res, response, !(await settleUnread(req, LINGER_MS, lingerIdleMs(limits))))
  }

  function refuse(req: IncomingMessage, res: ServerResponse, error: unknown): Promise<void> {
    const coded = toSecurityServerError(error)
    logger.info({ code: coded.code }, `server proxy refused a request: ${coded.message}`)
    return settleUnread(req, LINGER_MS, lingerIdleMs(limits)).then((ended) => writeResponse(res, soapFaultResponse(coded.withPrefix('server.serverproxy')), !ended))
  }

  const host = options.host ?? '0.0.0.0'
  const bound = await listen(server, host, options.port ?? DEFAULT_SERVER_PROXY_PORT)
  return {
    ...bound,
    server,
    close: () => closeServer(server, options.graceMs),
    setCredentials(tls, approvedCaPem, reason) {
      server.setSecureContext(contextOptions(tls, approvedCaPem))
      credentials = tls
      if (reason !== undefined) unavailable = reason
    },
  }
}

function defaultMultipart(maxBytes: number) {
  return { maxBytes, maxParts: 64, maxHeaderBytes: 16 * 1024 }
}

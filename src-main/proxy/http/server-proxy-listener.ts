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
import { peerCertificateChain, XROAD_TLS_OPTIONS, type AuthTlsCredentials } from './tls-profile'

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
   * X-Road's `AuthTrustManager.checkClientTrusted`: the peer's leaf certificate (DER) must be an authentication
   * certificate of some security server in global configuration. Asked at every handshake (and again per request, for
   * connections opened before a configuration change), so it must consult the configuration in force.
   */
  isTrustedAuthCert(leaf: Uint8Array): boolean
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
  // Handed with each request, beside the dependencies (read per request: no copy of them per message).
  const multipartLimits = defaultMultipart(limits.maxBodyBytes)
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
  // AuthTrustManager.checkClientTrusted fails the handshake for a client without a certificate or with one that is not
  // a security server's auth certificate. Node gives no verify hook inside the handshake; its 'secureConnection' comes
  // synchronously from the handshake-done callback, before our Finished is flushed (TLS 1.2), so destroying the socket
  // here is how Node's own `rejectUnauthorized` refuses a client: the peer's handshake fails and no request is read.
  // Without an auth key the fallback certificate answers every request with the reason instead (docs/xroad-differences.md).
  server.prependListener('secureConnection', (socket: TLSSocket) => {
    if (credentials === undefined) return
    const leaf = peerCertificateChain(socket)[0]
    let trusted = false
    try {
      trusted = leaf !== undefined && options.isTrustedAuthCert(leaf)
    } catch (error) {
      logFailure(logger, error, {}, 'checking a client TLS certificate failed')
    }
    if (trusted) return
    logger.info({ remote: socket.remoteAddress }, leaf === undefined
      ? 'server proxy refused a TLS handshake: the client presented no certificate'
      : 'server proxy refused a TLS handshake: the client certificate is not an authentication certificate in global configuration')
    socket.destroy()
  })
  applyServerLimits(server, limits, 'secureConnection')
  answerConnect(server, () => soapFaultResponse(clientError('invalid_http_method', 'Must use POST between security servers').withPrefix('server.serverproxy')))

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (credentials === undefined) return refuse(req, res, unavailable)
    const socket = req.socket as TLSSocket
    const chain = peerCertificateChain(socket)
    const leaf = chain[0]
    // §4.1 AuthTrustManager.checkClientTrusted: no certificate or an unregistered one ⇒ refused.
    if (leaf === undefined) return refuse(req, res, clientError('ssl_authentication_failed', 'The client did not present an authentication certificate'))
    if (!options.isTrustedAuthCert(leaf)) {
      return refuse(req, res, clientError('ssl_authentication_failed', 'The client authentication certificate is not registered in global configuration'))
    }
    if (req.method !== 'POST') return refuse(req, res, clientError('invalid_http_method', 'Must use POST between security servers'))
    // B7: a declared length over the limit is refused unread; the rest is read by the pipeline as it arrives (issue 14 §3).
    const body = incomingBody(req, res, limits.maxBodyBytes, limits.requestTimeoutMs)
    if (body.declaredLength !== undefined && body.declaredLength > limits.maxBodyBytes) return refuse(req, res, transportLimit(limits.maxBodyBytes).error(body.declaredLength))
    const response = await handleServerProxyRequest(
      { method: req.method, headers: headerList(req), body, peerCertificateChain: chain, connection: socket, limits: multipartLimits },
      options.deps,
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

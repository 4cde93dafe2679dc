import { request as httpRequest, type IncomingMessage, type ClientRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import type { TLSSocket } from 'node:tls'
import { SecurityServerError } from '../platform'
import type { EncodedManagementRequest } from './management-messages'

/**
 * The one HTTP POST of a management request (X-Road's `ManagementRequestClient` + `HttpSender`): no retry
 * (`DefaultHttpRequestRetryHandler(0, false)`), a connect and a read timeout, the answer read up to a bound.
 * For `authCertReg` the central server's TLS certificate must be exactly the one global configuration gives
 * (`authCertRegServiceCert`; pr-mserv §2.3 "the client MUST verify that the server uses the TLS certificate that is
 * given in the global configuration"; no host name check, as X-Road's `NoopHostnameVerifier`); the body is written
 * only after that check. Toward the own client proxy (localhost) the server is trusted, as X-Road's
 * `createProxyHttpClientWithInternalKey` does.
 */
export interface ManagementPostOptions {
  /** DER of the only TLS certificate the server may present; undefined trusts any (own client proxy). */
  readonly expectedServerCert?: Uint8Array
  readonly timeoutMs: number
  /** Largest answer read (X-Road's central server answers with one small SOAP message). */
  readonly maxResponseBytes?: number
}

export interface ManagementHttpResponse {
  readonly status: number
  readonly contentType: string
  readonly body: Buffer
}

export function postManagementRequest(url: string, encoded: EncodedManagementRequest, options: ManagementPostOptions): Promise<ManagementHttpResponse> {
  let target: URL
  try {
    target = new URL(url)
  } catch {
    return Promise.reject(new SecurityServerError('network_error', `Invalid management service address: ${url.slice(0, 80)}`))
  }
  const secure = target.protocol === 'https:'
  if (!secure && target.protocol !== 'http:') {
    return Promise.reject(new SecurityServerError('network_error', `Unsupported management service address: ${url.slice(0, 80)}`))
  }
  if (options.expectedServerCert !== undefined && !secure) {
    return Promise.reject(new SecurityServerError('ssl_authentication_failed', `The central server's address ${url.slice(0, 80)} is not HTTPS`))
  }
  const maxBytes = options.maxResponseBytes ?? 1024 * 1024
  return new Promise<ManagementHttpResponse>((resolve, reject) => {
    let settled = false
    const fail = (error: SecurityServerError): void => {
      if (settled) return
      settled = true
      req.destroy()
      reject(error)
    }
    const headers = { 'content-type': encoded.contentType, 'content-length': String(encoded.body.byteLength) }
    const req: ClientRequest = secure
      ? httpsRequest(target, { method: 'POST', headers, agent: false, rejectUnauthorized: false, timeout: options.timeoutMs })
      : httpRequest(target, { method: 'POST', headers, agent: false, timeout: options.timeoutMs })
    req.on('timeout', () => fail(new SecurityServerError('network_error', `No answer from ${target.host} within ${Math.round(options.timeoutMs / 1000)} s`)))
    req.on('error', (cause) => fail(new SecurityServerError('network_error', `Cannot reach ${target.host}: ${cause.message}`, { cause })))
    req.on('response', (res: IncomingMessage) => {
      const chunks: Buffer[] = []
      let size = 0
      res.on('data', (chunk: Buffer) => {
        size += chunk.byteLength
        if (size > maxBytes) {
          fail(new SecurityServerError('http_error', `The answer from ${target.host} is larger than ${maxBytes} bytes`))
          return
        }
        chunks.push(chunk)
      })
      res.on('error', (cause) => fail(new SecurityServerError('network_error', `Reading the answer from ${target.host} failed: ${cause.message}`, { cause })))
      res.on('end', () => {
        if (settled) return
        settled = true
        resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), body: Buffer.concat(chunks) })
      })
    })
    if (!secure || options.expectedServerCert === undefined) {
      req.end(encoded.body)
      return
    }
    const expected = Buffer.from(options.expectedServerCert)
    req.on('socket', (socket) => {
      (socket as TLSSocket).once('secureConnect', () => {
        const presented = (socket as TLSSocket).getPeerCertificate()
        if (presented === null || presented.raw === undefined) {
          fail(new SecurityServerError('ssl_authentication_failed', 'Central server did not send TLS certificate'))
          return
        }
        if (!expected.equals(presented.raw)) {
          fail(new SecurityServerError('ssl_authentication_failed', 'Central server TLS certificate does not match in global conf'))
          return
        }
        req.end(encoded.body)
      })
    })
  })
}

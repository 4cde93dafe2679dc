import { request } from 'node:http'
import { clientError, SecurityServerError } from '../../platform'
import { boundaryOf, mediaTypeOf, parseMultipart } from '../transport/multipart'
import { sha1Hex, sha256Hex } from './tls-profile'

/**
 * The consumer side of the port-5577 fetch (xroad-protocols.md §4.2, `CertHashBasedOcspResponderClient`): the
 * provider's OCSP responses for the certificates of its auth chain, when our cache lacks them.
 */
export interface PeerOcspFetchOptions {
  /** 5577 by default. */
  port?: number
  timeoutMs?: number
  maxBytes?: number
}

/** GET `http://{host}:5577/?cert={sha1}&…&cert_hash={sha256}&…` with `Accept: multipart/related`; DER responses in part order. */
export function fetchPeerOcspResponses(host: string, certsDer: Uint8Array[], options: PeerOcspFetchOptions = {}): Promise<Uint8Array[]> {
  const params = new URLSearchParams()
  for (const der of certsDer) params.append('cert', sha1Hex(der))
  for (const der of certsDer) params.append('cert_hash', sha256Hex(der))
  const timeoutMs = options.timeoutMs ?? 10_000
  const maxBytes = options.maxBytes ?? 1024 * 1024
  return new Promise((resolve, reject) => {
    const req = request({ host, port: options.port ?? 5577, method: 'GET', path: `/?${params.toString()}`, headers: { Accept: 'multipart/related' } })
    const timer = setTimeout(() => req.destroy(networkError(`No OCSP responses from ${host} within ${timeoutMs} ms`)), timeoutMs)
    req.once('error', (error) => {
      clearTimeout(timer)
      reject(error instanceof SecurityServerError ? error : networkError(`Fetching OCSP responses from ${host} failed: ${error.message}`))
    })
    req.once('response', (res) => {
      const chunks: Buffer[] = []
      let size = 0
      res.on('data', (chunk: Buffer) => {
        size += chunk.length
        if (size > maxBytes) req.destroy(clientError('body_too_large', `OCSP answer from ${host} exceeds ${maxBytes} bytes`))
        else chunks.push(chunk)
      })
      res.once('end', () => {
        clearTimeout(timer)
        try {
          if (res.statusCode !== 200) throw networkError(`OCSP responder at ${host} answered HTTP ${res.statusCode ?? 0}`)
          const contentType = res.headers['content-type'] ?? ''
          const boundary = boundaryOf(contentType)
          if (mediaTypeOf(contentType) !== 'multipart/related' || boundary === undefined) {
            throw clientError('invalid_content_type', `Expected multipart/related OCSP responses, got ${contentType.slice(0, 100)}`)
          }
          const parts = parseMultipart(Buffer.concat(chunks, size), boundary, { maxBytes, maxParts: certsDer.length, maxHeaderBytes: 4096 })
          resolve(
            parts.map((p) => {
              if (mediaTypeOf(p.contentType) !== 'application/ocsp-response') {
                throw clientError('invalid_content_type', `Unexpected part ${p.contentType.slice(0, 100)} in OCSP answer`)
              }
              return new Uint8Array(p.body)
            }),
          )
        } catch (error) {
          reject(error)
        }
      })
    })
    req.end()
  })
}

function networkError(message: string): SecurityServerError {
  return new SecurityServerError('network_error', message)
}

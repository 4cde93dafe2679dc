import { request as httpRequest, type IncomingMessage } from 'node:http'
import { request as httpsRequest } from 'node:https'
import type { ErrorCode } from '@shared/error-codes'
import { clientError, SecurityServerError } from '../platform'

/**
 * Downloads a service description (WSDL or OpenAPI) from the URL the administrator gave, as X-Road's admin service
 * does (`WsdlParser.TrustAllSslCertsWsdlLocator`, `OpenApiParser.readOpenAPIDescription`): http and https only
 * (`file:` and every other scheme refused), at most `maxBytes` read — counted while reading, the connection closed
 * the moment the limit is passed — and the whole exchange bounded by `timeoutMs`. Like X-Road, the server's TLS
 * certificate is not verified (a description is often served by the information system itself under a self-signed
 * certificate); unlike X-Road no client certificate is presented (docs/xroad-differences.md). Redirects are not
 * followed.
 */
export interface DescriptionDownloadOptions {
  maxBytes: number
  timeoutMs: number
  /** The code a failed download is reported with: `wsdl_download_failed` or `openapi_parsing_error` (X-Road's). */
  failureCode: ErrorCode
  /** Prefix of the failure message, e.g. "Error reading OpenAPI description". */
  what: string
  /**
   * Verify the server's TLS certificate against the system's CAs. Off for the administrator's downloads (as X-Road's
   * admin service); the metaservices `getWsdl` and `getOpenAPI` follow the service's "Verify TLS certificate"
   * setting (PR-META §4, PR-MREST §5).
   */
  verifyTls?: boolean
}

/** A downloaded description with the Content-Type its server gave (X-Road's `getOpenAPI` tells JSON from YAML by it). */
export interface DownloadedDescription {
  body: Buffer
  contentType?: string
}

export const DEFAULT_DESCRIPTION_TIMEOUT_MS = 30_000

/** Parses and checks a description URL: absolute http(s) with a host (`malformed_url` otherwise). */
export function descriptionUrl(url: string): URL {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw clientError('malformed_url', `Malformed URL: ${url.slice(0, 100)}`, { detail: 'url' })
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw clientError('malformed_url', `Only http and https URLs are read, not ${parsed.protocol}`, { detail: 'url' })
  }
  if (parsed.hostname === '' || url.length > 2048 || parsed.username !== '' || parsed.password !== '') {
    throw clientError('malformed_url', `Malformed URL: ${url.slice(0, 100)}`, { detail: 'url' })
  }
  return parsed
}

export async function downloadDescription(url: string, options: DescriptionDownloadOptions): Promise<Buffer> {
  return (await fetchDescription(url, options)).body
}

export async function fetchDescription(url: string, options: DescriptionDownloadOptions): Promise<DownloadedDescription> {
  const parsed = descriptionUrl(url)
  const fail = (reason: string, cause?: unknown): SecurityServerError =>
    new SecurityServerError(options.failureCode, `${options.what}: ${reason}`, { cause, clientFault: true, detail: 'url' })
  return await new Promise<DownloadedDescription>((resolve, reject) => {
    const requester = parsed.protocol === 'https:' ? httpsRequest : httpRequest
    const req = requester(parsed, {
      method: 'GET',
      headers: { accept: '*/*' },
      ...(parsed.protocol === 'https:' ? { rejectUnauthorized: options.verifyTls === true } : {}),
    }, (res: IncomingMessage) => {
      if (res.statusCode !== 200) {
        res.resume()
        req.destroy(fail(`${url.slice(0, 200)} answered HTTP ${res.statusCode ?? 0}`))
        return
      }
      const declared = Number(res.headers['content-length'])
      if (Number.isFinite(declared) && declared > options.maxBytes) {
        req.destroy(fail(`Size exceeds ${options.maxBytes} bytes.`))
        return
      }
      const chunks: Buffer[] = []
      let size = 0
      res.on('data', (chunk: Buffer) => {
        size += chunk.length
        if (size > options.maxBytes) {
          req.destroy(fail(`Size exceeds ${options.maxBytes} bytes.`))
          return
        }
        chunks.push(chunk)
      })
      res.on('end', () => {
        clearTimeout(timer)
        const contentType = res.headers['content-type']
        resolve({ body: Buffer.concat(chunks), ...(contentType === undefined ? {} : { contentType }) })
      })
      res.on('error', (cause) => req.destroy(cause))
    })
    const timer = setTimeout(() => req.destroy(fail(`no complete answer from ${parsed.host} within ${options.timeoutMs} ms`)), options.timeoutMs)
    req.on('error', (cause: Error) => {
      clearTimeout(timer)
      reject(cause instanceof SecurityServerError ? cause : fail(cause.message, cause))
    })
    req.end()
  })
}

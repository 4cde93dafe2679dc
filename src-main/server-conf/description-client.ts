import type { ErrorCode } from '@shared/error-codes'
import { clientError, RequestFailure, requestBounded, SecurityServerError, type BoundedAnswer } from '../platform'

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
  let answer: BoundedAnswer
  try {
    answer = await requestBounded(parsed, {
      method: 'GET', headers: { accept: '*/*' }, timeoutMs: options.timeoutMs, maxBytes: options.maxBytes, verifyTls: options.verifyTls === true,
      readBody: (status) => status === 200,
    })
  } catch (cause) {
    const kind = cause instanceof RequestFailure ? cause.kind : 'unreachable'
    if (kind === 'too_large') throw fail(`Size exceeds ${options.maxBytes} bytes.`, cause)
    if (kind === 'timeout') throw fail(`no complete answer from ${parsed.host} within ${options.timeoutMs} ms`, cause)
    throw fail((cause as Error).message, cause)
  }
  if (answer.status !== 200) throw fail(`${url.slice(0, 200)} answered HTTP ${answer.status}`)
  return { body: answer.body, ...(answer.contentType === undefined ? {} : { contentType: answer.contentType }) }
}

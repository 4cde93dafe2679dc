import { createHash } from 'node:crypto'
import * as asn1js from 'asn1js'
import * as pkijs from 'pkijs'
import { RequestFailure, SecurityServerError, clientError, requestBounded, type BoundedAnswer } from '../platform'

/**
 * Outbound OCSP for own certificates (xroad-protocols.md §4.8; RFC 6960 §4.1, Annex A.1): a request with one
 * SHA-1 CertID and no nonce, POSTed as `application/ocsp-request` to each responder URL in turn with a bounded
 * timeout and response size. The caller verifies what comes back before trusting it.
 */

const SHA1_OID = '1.3.14.3.2.26'
const AIA_OID = '1.3.6.1.5.5.7.1.1'
const AD_OCSP_OID = '1.3.6.1.5.5.7.48.1'
const MAX_RESPONSE_BYTES = 1024 * 1024

export interface OcspClientOptions {
  /** Per-responder timeout for connecting and reading the whole answer. */
  readonly timeoutMs?: number
}

function parsePkijsCertificate(der: Uint8Array, what: string): pkijs.Certificate {
  try {
    return pkijs.Certificate.fromBER(new Uint8Array(der))
  } catch (cause) {
    throw clientError('incorrect_certificate', `Cannot parse the ${what}`, { cause })
  }
}

const sha1 = (data: Uint8Array): Uint8Array => new Uint8Array(createHash('sha1').update(data).digest())

/** DER of an OCSPRequest for `certDer` issued by `issuerDer`: SHA-1 CertID (X-Road), no requestExtensions (no nonce). */
export function buildOcspRequest(certDer: Uint8Array, issuerDer: Uint8Array): Buffer {
  const cert = parsePkijsCertificate(certDer, 'certificate')
  const issuer = parsePkijsCertificate(issuerDer, 'issuer certificate')
  // RFC 6960 §4.1.1: issuerNameHash over the DER of the issuer name in the certificate, issuerKeyHash over the
  // issuer's subjectPublicKey BIT STRING value (without tag, length and unused-bits byte).
  const issuerName = new Uint8Array(cert.issuer.toSchema().toBER(false))
  const reqCert = new pkijs.CertID({
    hashAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: SHA1_OID, algorithmParams: new asn1js.Null() }),
    issuerNameHash: new asn1js.OctetString({ valueHex: sha1(issuerName) }),
    issuerKeyHash: new asn1js.OctetString({ valueHex: sha1(new Uint8Array(issuer.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView)) }),
    serialNumber: new asn1js.Integer({ valueHex: new Uint8Array(cert.serialNumber.valueBlock.valueHexView) }),
  })
  const ocspRequest = new pkijs.OCSPRequest()
  ocspRequest.tbsRequest.requestList = [new pkijs.Request({ reqCert })]
  return Buffer.from(ocspRequest.toSchema(true).toBER(false))
}

/** OCSP responder URLs from the certificate's Authority Information Access extension (RFC 5280 §4.2.2.1). */
export function ocspUrlsFromAia(certDer: Uint8Array): string[] {
  const cert = parsePkijsCertificate(certDer, 'certificate')
  const aia = cert.extensions?.find((e) => e.extnID === AIA_OID)?.parsedValue as pkijs.InfoAccess | undefined
  if (aia === undefined) return []
  return aia.accessDescriptions
    .filter((d) => d.accessMethod === AD_OCSP_OID && d.accessLocation.type === 6)
    .map((d) => String(d.accessLocation.value))
}

export class OcspClient {
  private readonly timeoutMs: number

  constructor(options: OcspClientOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 10_000
  }

  /**
   * Asks the responders in order and returns the first HTTP 200 `application/ocsp-response` body with the URL that
   * gave it; throws the last failure when none answered.
   */
  async fetch(urls: readonly string[], requestDer: Uint8Array): Promise<{ url: string; responseDer: Buffer }> {
    if (urls.length === 0) throw new SecurityServerError('network_error', 'No OCSP responder URL is known for the certificate\'s CA')
    const failures: string[] = []
    let last: unknown
    for (const url of urls) {
      try {
        return { url, responseDer: await this.post(url, requestDer) }
      } catch (error) {
        last = error
        failures.push(`${url}: ${(error as Error).message}`)
      }
    }
    if (last instanceof SecurityServerError && urls.length === 1) throw last
    throw new SecurityServerError('network_error', `No OCSP responder answered (${failures.join('; ')})`, { cause: last })
  }

  private async post(url: string, body: Uint8Array): Promise<Buffer> {
    let answer: BoundedAnswer
    try {
      answer = await requestBounded(url, {
        method: 'POST', headers: { 'Content-Type': 'application/ocsp-request', Accept: 'application/ocsp-response' }, body, timeoutMs: this.timeoutMs, maxBytes: MAX_RESPONSE_BYTES,
      })
    } catch (error) {
      throw ocspPostError(url, error, this.timeoutMs)
    }
    if (answer.status !== 200) throw new SecurityServerError('http_error', `OCSP responder answered HTTP ${answer.status || '?'}`)
    if (answer.mediaType !== 'application/ocsp-response') {
      throw new SecurityServerError('http_error', `OCSP responder answered with content type ${answer.mediaType || '(none)'}`)
    }
    return answer.body
  }
}

/** A failed POST to a responder in the OCSP client's codes (`timeout` for the deadline, `network_error` otherwise). */
function ocspPostError(url: string, error: unknown, timeoutMs: number): SecurityServerError {
  if (!(error instanceof RequestFailure)) return new SecurityServerError('network_error', `OCSP responder unreachable: ${(error as Error).message}`, { cause: error })
  switch (error.kind) {
    case 'bad_url': return new SecurityServerError('network_error', `Invalid OCSP responder URL ${url.slice(0, 200)}: ${error.message}`, { cause: error })
    case 'timeout': return new SecurityServerError('timeout', `OCSP responder did not answer within ${timeoutMs} ms`, { cause: error })
    case 'too_large': return new SecurityServerError('network_error', 'OCSP response is larger than 1 MiB', { cause: error })
    case 'cut_short': return new SecurityServerError('network_error', 'OCSP response was cut short', { cause: error })
    case 'unreachable': return new SecurityServerError('network_error', `OCSP responder unreachable: ${error.message}`, { cause: error })
  }
}

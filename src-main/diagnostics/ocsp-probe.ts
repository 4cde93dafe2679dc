import type { ProbeResult } from '@shared/admin-api/admin-api'
import * as pkijs from 'pkijs'
import { toSecurityServerError } from '../platform'
import { buildOcspRequest } from '../signer'
import { parseOcspResponse, verifyOcspResponse } from '../signature'
import type { VerificationTrust } from '../signature'
import { StepClock, timedHttp } from './probe-network'
import { networkFailure, probeResult } from './probe-result'

/**
 * One OCSP responder of an approved CA (xroad-protocols.md §4.8), asked about one of this server's own certificates
 * that CA issued: the request the signer sends (SHA-1 CertID, no nonce, as X-Road), POSTed on a fresh connection, and
 * the answer verified with X-Road's `OcspVerifier` rules (responder authorised, signature, freshness), nothing stored.
 */
export interface ProbedResponder {
  url: string
  /** The CA's subject, for the reader. */
  ca: string
  issuerDer: Uint8Array
  /** An own certificate the CA issued, and its subject; absent when it issued none of ours. */
  certificate?: { der: Uint8Array; subject: string }
}

export async function probeOcspResponder(responder: ProbedResponder, trust: VerificationTrust, now: () => Date): Promise<ProbeResult> {
  const clock = new StepClock()
  const base = { url: responder.url, ca: responder.ca }
  if (responder.certificate === undefined) return probeResult('ocsp', responder.url, responder.url, 'ocsp-no-certificate', base, clock)
  const { der, subject } = responder.certificate
  const params = { ...base, certificate: subject }
  let answer
  try {
    answer = await timedHttp(responder.url, clock, {
      method: 'POST', headers: { 'Content-Type': 'application/ocsp-request', Accept: 'application/ocsp-response' }, body: buildOcspRequest(der, responder.issuerDer),
    })
  } catch (error) {
    const failure = networkFailure('ocsp', error)
    return probeResult('ocsp', responder.url, responder.url, failure.code, { ...params, ...failure.params }, clock)
  }
  const type = (answer.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase()
  if (answer.status !== 200 || type !== 'application/ocsp-response') {
    return probeResult('ocsp', responder.url, responder.url, 'ocsp-http-error', { ...params, status: answer.status }, clock)
  }
  try {
    await clock.time('verify', () => verifyOcspResponse(answer.body, der, responder.issuerDer, trust, now()))
    return probeResult('ocsp', responder.url, responder.url, 'ocsp-good', { ...params, status: 'good' }, clock)
  } catch (error) {
    // The verifier refuses a response that is not `good` only after every other check passed (cert_validation).
    if (toSecurityServerError(error).code === 'cert_validation') {
      return probeResult('ocsp', responder.url, responder.url, 'ocsp-not-good', { ...params, status: certStatus(answer.body) }, clock)
    }
    return probeResult('ocsp', responder.url, responder.url, 'ocsp-invalid', { ...params, reason: (error as Error).message }, clock)
  }
}

/** RFC 6960 §4.2.1 CertStatus: [0] good, [1] revoked, [2] unknown. */
function certStatus(responseDer: Uint8Array): 'good' | 'revoked' | 'unknown' {
  const single = parseOcspResponse(responseDer).basic.tbsResponseData.responses[0] as pkijs.SingleResponse
  const tag = (single.certStatus as { idBlock?: { tagNumber?: number } }).idBlock?.tagNumber
  return tag === 1 ? 'revoked' : tag === 0 ? 'good' : 'unknown'
}

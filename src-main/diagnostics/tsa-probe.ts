import { createHash, randomBytes } from 'node:crypto'
import type { ProbeResult } from '@shared/admin-api/admin-api'
import { buildTimestampRequest, validateTimestampResponse } from '../message-log'
import { StepClock, timedHttp } from './probe-network'
import { networkFailure, probeResult } from './probe-result'

/**
 * One approved TSA (xroad-protocols.md §6.2), asked for a real time-stamp: an RFC 3161 request over random data with
 * a nonce (RFC 3161 §2.4.1, which the message log does not send), the answer verified as the message log verifies
 * one — granted, the imprint and the nonce echoed, signed by the TSA certificate global configuration approves.
 */
export interface ProbedTsa {
  name: string
  url: string
  cert: Uint8Array
  /** Whether time-stamping uses it (the administrator's selection, or every approved TSA). */
  inUse: boolean
}

export async function probeTsa(tsa: ProbedTsa): Promise<ProbeResult> {
  const clock = new StepClock()
  const base = { name: tsa.name, url: tsa.url, inUse: tsa.inUse }
  const data = randomBytes(32)
  const nonce = randomBytes(8)
  // A positive INTEGER with no leading zero byte, so that its DER encoding is these bytes exactly.
  nonce[0] = ((nonce[0] as number) & 0x7f) | 0x01
  const request = buildTimestampRequest(createHash('sha512').update(data).digest(), nonce)
  let answer
  try {
    answer = await timedHttp(tsa.url, clock, {
      method: 'POST', headers: { 'Content-Type': 'application/timestamp-query', Accept: 'application/timestamp-reply' }, body: request,
    })
  } catch (error) {
    const failure = networkFailure('tsa', error)
    return probeResult('tsa', tsa.name, tsa.url, failure.code, { ...base, ...failure.params }, clock)
  }
  if (answer.status !== 200) return probeResult('tsa', tsa.name, tsa.url, 'tsa-http-error', { ...base, status: answer.status }, clock)
  try {
    const { genTime } = await clock.time('verify', () => validateTimestampResponse(answer.body, data, [tsa.cert], nonce))
    return probeResult('tsa', tsa.name, tsa.url, 'tsa-ok', { ...base, genTime: genTime.toISOString() }, clock)
  } catch (error) {
    return probeResult('tsa', tsa.name, tsa.url, 'tsa-invalid', { ...base, reason: (error as Error).message }, clock)
  }
}

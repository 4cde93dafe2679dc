import { createHash, X509Certificate } from 'node:crypto'
import type { ListenerStatus, ProbeResult } from '@shared/admin-api/admin-api'
import { parseJson } from '../platform'
import { XROAD_TLS_OPTIONS } from '../proxy'
import { StepClock, timedHttp, timedTlsHandshake, type HttpAnswer } from './probe-network'
import { networkFailure, probeResult } from './probe-result'

/**
 * This server's own listeners, reached as their callers reach them: the client proxy answers `listClients`
 * (PR-MREST §3.1) over HTTP and HTTPS, the server proxy completes a TLS handshake with X-Road's profile and shows the
 * certificate other security servers see (xroad-protocols.md §4.1), the OCSP-response endpoint answers for our
 * authentication certificate (§4.2), the health check answers, the admin interface answers over HTTPS.
 */
export interface ListenerProbeContext {
  /** Whether the server has joined an instance (its proxy listeners wait for that). */
  initialized: boolean
  /** Our authentication certificate the server proxy should present (DER), if one is in use. */
  authCertDer?: Uint8Array
  /** Our authentication key and chain, shown as the client certificate to our server proxy (as a peer shows its own). */
  authTls?: { keyPem: string; certChainPem: string }
}

export async function probeListener(listener: ListenerStatus, context: ListenerProbeContext): Promise<ProbeResult> {
  const clock = new StepClock()
  const base = { listener: listener.name, address: listener.address }
  if (!listener.listening || listener.url === null) {
    const light = !context.initialized && listener.name !== 'admin' ? 'gray' : 'red'
    return probeResult('listener', listener.name, listener.address, 'listener-closed', { ...base, problem: listener.problem ?? 'not open' }, clock, light)
  }
  const url = reachable(listener.url)
  const address = `${url.hostname}:${url.port}`
  const done = (code: Parameters<typeof probeResult>[3], params: ProbeResult['params'], light?: ProbeResult['light']): ProbeResult =>
    probeResult('listener', listener.name, address, code, { ...base, address, ...params }, clock, light)
  try {
    switch (listener.name) {
      case 'serverProxy': {
        const client = context.authTls === undefined ? {} : { key: context.authTls.keyPem, cert: context.authTls.certChainPem }
        const handshake = await timedTlsHandshake(url.hostname, Number(url.port), clock, { ...XROAD_TLS_OPTIONS, ...client })
        const leaf = handshake.chain[0]
        if (leaf === undefined) return done('listener-unexpected-answer', { reason: 'no certificate presented' })
        const cert = new X509Certificate(leaf)
        const subject = cert.subject.replace(/\n/g, ', ')
        const fingerprint = createHash('sha256').update(leaf).digest('hex')
        const ours = context.authCertDer !== undefined && Buffer.from(context.authCertDer).equals(Buffer.from(leaf))
        return done(ours ? 'listener-auth-cert' : 'listener-fallback-cert', { subject, fingerprint, protocol: handshake.protocol ?? '', cipher: handshake.cipher })
      }
      case 'clientProxyHttp':
      case 'clientProxyHttps': {
        const answer = await timedHttp(new URL('/listClients', url).toString(), clock, { headers: { Accept: 'application/json' }, tls: { rejectUnauthorized: false } })
        return verifyAnswer(clock, answer, done, (a) => {
          const members = (parseJson(a.body.toString('utf8'), { maxDepth: 8 }, 'bad_request', 'The listClients answer') as { member?: unknown[] } | null)?.member
          if (!Array.isArray(members)) throw new Error('listClients answered without a member list')
          return { members: members.length }
        })
      }
      case 'ocspResponder': {
        const sha1 = context.authCertDer === undefined ? undefined : createHash('sha1').update(context.authCertDer).digest('hex')
        // §4.2: `GET /?cert={sha1}` for our auth certificate; without one, the HEAD heartbeat.
        const answer = sha1 === undefined
          ? await timedHttp(url.toString(), clock, { method: 'HEAD' })
          : await timedHttp(new URL(`/?cert=${sha1}`, url).toString(), clock)
        return verifyAnswer(clock, answer, done, (a) => {
          if (sha1 !== undefined && !String(a.headers['content-type'] ?? '').startsWith('multipart/related')) {
            throw new Error('no OCSP response for the authentication certificate')
          }
          return {}
        })
      }
      case 'healthCheck': {
        const answer = await timedHttp(url.toString(), clock)
        return done('listener-ok', { status: answer.status, message: answer.body.toString('utf8').trim() })
      }
      case 'admin': {
        const answer = await timedHttp(url.toString(), clock, { tls: { rejectUnauthorized: false } })
        return done('listener-ok', { status: answer.status })
      }
    }
  } catch (error) {
    const failure = networkFailure('listener', error)
    return done(failure.code, failure.params)
  }
}

/** 200 and a well-formed answer, or the reason it is not. */
function verifyAnswer(
  clock: StepClock, answer: HttpAnswer, done: (code: 'listener-ok' | 'listener-unexpected-answer', params: ProbeResult['params']) => ProbeResult,
  check: (answer: HttpAnswer) => ProbeResult['params'],
): ProbeResult {
  if (answer.status !== 200) return done('listener-unexpected-answer', { status: answer.status, reason: `HTTP ${answer.status}` })
  clock.skip()
  try {
    const facts = check(answer)
    clock.end('verify')
    return done('listener-ok', { status: answer.status, ...facts })
  } catch (error) {
    clock.end('verify', false)
    return done('listener-unexpected-answer', { status: answer.status, reason: (error as Error).message })
  }
}

/** A listener bound to every interface is reached on the loopback of the same family. */
function reachable(listenerUrl: string): URL {
  const url = new URL(listenerUrl)
  if (url.hostname === '0.0.0.0') url.hostname = '127.0.0.1'
  if (url.hostname === '[::]') url.hostname = '[::1]'
  return url
}

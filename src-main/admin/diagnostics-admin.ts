import { z } from 'zod'
import type { DiagnosticCheck, Diagnostics, DiagnosticsApi, GlobalConfApi, StatusLight } from '@shared/admin-api/admin-api'
import type { Clock } from '../platform'
import { validate } from './admin-validation'
import type { DomainsOf } from './domain-support'
import { formatSeconds } from './global-conf-admin'
import { tokenState } from './keys-admin'
import { timestampingStatus } from './message-log-admin'

/**
 * Diagnostics (X-Road UG-SS §14, done in plain words): global configuration freshness, token states,
 * certificate expiry countdowns with OCSP status, time-stamping (backlog, time left before traffic stops) and message rates from operational monitoring.
 */
const DAY_MS = 86_400_000
/** Days before expiry when a certificate turns yellow (renew now) and red (traffic stops soon). */
export const CERT_WARN_DAYS = 30
export const CERT_ALARM_DAYS = 7

export function certificateLight(state: string, daysLeft: number, ocsp: string): StatusLight {
  if (state === 'revoked' || state === 'expired' || ocsp === 'revoked') return 'red'
  if (state !== 'active') return 'gray'
  if (daysLeft < CERT_ALARM_DAYS) return 'red'
  if (daysLeft < CERT_WARN_DAYS || ocsp !== 'good') return 'yellow'
  return 'green'
}

/** Bucket width for a window: about 30 points. */
export function bucketFor(windowMinutes: number): number {
  return Math.max(60, Math.ceil((windowMinutes * 60) / 30 / 60) * 60)
}

export function createDiagnosticsAdmin(domains: DomainsOf, globalConf: GlobalConfApi, clock: Clock): DiagnosticsApi {
  return {
    async run(input) {
      const value = validate(z.object({ windowMinutes: z.number().int().min(1).max(1440).optional() }).strict(), input ?? {}, 'diagnostics')
      const { signer, opMonitor } = domains()
      const now = clock.now()
      const checks: DiagnosticCheck[] = []
      const conf = await globalConf.status()
      checks.push({ key: 'global-conf', label: 'Global configuration', light: conf.light, explanation: conf.explanation })

      const tokens = (await signer.listTokens()).map((t) => ({ id: t.id, label: t.label || (t.kind === 'software' ? 'Software token' : t.id), state: tokenState(t) }))
      const tokenLight: StatusLight = tokens.length === 0 ? 'gray' : tokens.some((t) => t.state === 'locked' || t.state === 'not-available') ? 'red' : tokens.every((t) => t.state === 'logged-in') ? 'green' : 'yellow'
      checks.push({
        key: 'tokens', label: 'Tokens', light: tokenLight,
        explanation: tokens.length === 0
          ? 'No token is configured. Create the software token in the first-run wizard or add a hardware token.'
          : tokenLight === 'green'
            ? 'Every token is logged in, so this server can sign messages.'
            : tokenLight === 'red'
              ? 'A token is locked or cannot be reached. Messages signed with its keys fail until it is back; check the device and its PIN.'
              : 'A token is logged out: log in with its PIN on the Keys and certificates page so messages can be signed.',
      })

      const keys = signer.listKeys()
      const certificates = signer.listCertificates().map((c) => {
        const daysLeft = Math.floor((new Date(c.notAfter).getTime() - now.getTime()) / DAY_MS)
        const ocsp = signer.ocspStatus(c.id).status
        const usage = keys.find((k) => k.id === c.keyId)?.usage ?? null
        return { id: c.id, subject: c.subject, usage, state: c.state, daysLeft, ocsp, light: certificateLight(c.state, daysLeft, ocsp) }
      })
      const active = certificates.filter((c) => c.state === 'active')
      const worst = active.reduce<StatusLight>((acc, c) => (c.light === 'red' || acc === 'red' ? 'red' : c.light === 'yellow' || acc === 'yellow' ? 'yellow' : 'green'), 'green')
      const soonest = active.reduce<number | undefined>((min, c) => (min === undefined || c.daysLeft < min ? c.daysLeft : min), undefined)
      checks.push({
        key: 'certificates', label: 'Certificates', light: active.length === 0 ? 'gray' : worst,
        explanation: active.length === 0
          ? 'No certificate is active yet. Generate a key and a CSR, have the CA sign it, then import and activate the certificate.'
          : worst === 'green'
            ? `All active certificates are valid with good OCSP status; the first expires in ${soonest} days.`
            : `An active certificate needs attention: the first expires in ${soonest} days, or its OCSP status is not good. Renew it or check the OCSP responder.`,
      })

      const stamping = timestampingStatus(domains().messageLog, now)
      checks.push({ key: 'timestamping', label: 'Time-stamping', light: stamping.light, explanation: stamping.explanation })

      const windowMinutes = value.windowMinutes ?? 60
      const bucketSeconds = bucketFor(windowMinutes)
      const sinceS = Math.floor(now.getTime() / 1000) - windowMinutes * 60
      const buckets = opMonitor.traffic(sinceS, bucketSeconds)
      const points = buckets.map((b) => ({ at: new Date(b.start * 1000).toISOString(), succeeded: b.succeeded, failed: b.failed }))
      const succeeded = points.reduce((n, p) => n + p.succeeded, 0)
      const failed = points.reduce((n, p) => n + p.failed, 0)
      const failureShare = succeeded + failed === 0 ? 0 : failed / (succeeded + failed)
      checks.push({
        key: 'traffic', label: 'Message exchange', light: succeeded + failed === 0 ? 'gray' : failureShare > 0.2 ? 'red' : failureShare > 0.02 ? 'yellow' : 'green',
        explanation: succeeded + failed === 0
          ? `No messages in the last ${formatSeconds(windowMinutes * 60)}.`
          : `${succeeded} message${succeeded === 1 ? '' : 's'} succeeded and ${failed} failed in the last ${formatSeconds(windowMinutes * 60)}${failed > 0 ? '; see the operational monitoring data for the failures' : ''}.`,
      })
      const result: Diagnostics = { checkedAt: now.toISOString(), checks, tokens, certificates, traffic: { bucketSeconds, points, succeeded, failed } }
      return result
    },
  }
}

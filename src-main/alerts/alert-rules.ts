import type { ReadinessCheck, StatusLight } from '@shared/admin-api/admin-api'
import { CERTIFICATE_ALERT_DAYS, type AlertCode, type AlertSeverity } from '@shared/admin-api/operations-api'

/**
 * Which alerts the server's state calls for now: a pure function of a snapshot the composition root takes on every
 * reconcile. Each alert has a stable id per condition (a new certificate threshold, a severity escalation or another
 * readiness code is a new alert, so it is announced again), a code and parameters the GUI words with what to do, and
 * an English message for webhooks, syslog and logs.
 */
export interface AlertSnapshot {
  now: Date
  initialized: boolean
  certificates: ReadonlyArray<{
    id: string
    subject: string
    usage: 'auth' | 'sign' | null
    /** Stored state (`saved`, `registered`, `active`, `disabled`…); in use: `registered` or `active`. */
    state: string
    tokenId: string | null
    notAfter: string
    ocsp: { status: string; lastError?: string }
  }>
  tokens: ReadonlyArray<{ id: string; label: string; loggedIn: boolean; available: boolean }>
  /** The server serves clients or has had traffic lately: a logged-out token stops expected traffic. */
  trafficExpected: boolean
  timestamping?: { light: StatusLight; acceptingMessages: boolean; trafficStopsAt: string | null; secondsLeft: number | null; lastError: string | null }
  globalConf?: { light: StatusLight; expired: boolean; expiresAt: string | null; lastError: string | null }
  disk?: { daysUntilFull: number | null; freeBytes: number }
  readiness: readonly ReadinessCheck[]
  diskDaysThreshold: number
}

export interface AlertCandidate {
  id: string
  code: AlertCode
  severity: AlertSeverity
  params: Record<string, string | number>
  message: string
  /** Raised only once the condition has lasted this long (a token being logged in at start, OCSP not fetched yet). */
  delayMs: number
}

const DAY_MS = 86_400_000
const IN_USE = new Set(['registered', 'active'])
/** Readiness codes a more specific alert already reports (the token alert, the OCSP alert). */
const TOKEN_READINESS_CODES = new Set(['auth-token-logged-out', 'auth-token-unavailable', 'sign-token-logged-out'])
const OCSP_READINESS_CODES = new Set(['auth-ocsp-not-good', 'sign-ocsp-not-good'])

function usageWord(usage: 'auth' | 'sign' | null): string {
  return usage === 'auth' ? 'authentication' : usage === 'sign' ? 'signing' : 'own'
}

function certificateAlerts(s: AlertSnapshot): AlertCandidate[] {
  const out: AlertCandidate[] = []
  for (const c of s.certificates) {
    if (!IN_USE.has(c.state)) continue
    const msLeft = Date.parse(c.notAfter) - s.now.getTime()
    const daysLeft = Math.floor(msLeft / DAY_MS)
    const params = { certificate: c.id, subject: c.subject, usage: c.usage ?? '', notAfter: c.notAfter }
    if (msLeft <= 0) {
      out.push({
        id: `certificate-expired:${c.id}`, code: 'certificate-expired', severity: 'critical', params, delayMs: 0,
        message: `The ${usageWord(c.usage)} certificate ${c.subject} expired at ${c.notAfter}: renew it now (new key, CSR, import, activate).`,
      })
      continue
    }
    // The smallest threshold reached: 60, 30, 7 or 1 days (CERTIFICATE_ALERT_DAYS).
    const threshold = [...CERTIFICATE_ALERT_DAYS].sort((a, b) => a - b).find((t) => daysLeft < t)
    if (threshold === undefined) continue
    const severity: AlertSeverity = threshold <= 7 ? 'critical' : threshold <= 30 ? 'warning' : 'info'
    out.push({
      id: `certificate-expiring:${c.id}:${threshold}`, code: 'certificate-expiring', severity, delayMs: 0,
      params: { ...params, daysLeft, threshold },
      message: `The ${usageWord(c.usage)} certificate ${c.subject} expires in ${daysLeft} day(s) (${c.notAfter}): generate a new key and CSR, have the CA sign it, import and activate the new certificate.`,
    })
  }
  return out
}

function ocspAlerts(s: AlertSnapshot): AlertCandidate[] {
  if (!s.initialized) return []
  return s.certificates.flatMap((c) => {
    if (!IN_USE.has(c.state) || Date.parse(c.notAfter) <= s.now.getTime() || c.ocsp.status === 'good') return []
    // `none` right after an import or a start: the first fetch is under way.
    const delayMs = c.ocsp.status === 'none' ? 120_000 : 0
    return [{
      id: `ocsp-stale:${c.id}`, code: 'ocsp-stale' as const, severity: c.ocsp.status === 'revoked' ? 'critical' as const : 'warning' as const, delayMs,
      params: { certificate: c.id, subject: c.subject, usage: c.usage ?? '', status: c.ocsp.status, error: c.ocsp.lastError ?? '' },
      message: `The ${usageWord(c.usage)} certificate ${c.subject} has no fresh good OCSP response (status ${c.ocsp.status}${c.ocsp.lastError ? `: ${c.ocsp.lastError}` : ''}): check the OCSP responder named in global configuration and the network path to it.`,
    }]
  })
}

function tokenAlerts(s: AlertSnapshot): AlertCandidate[] {
  if (!s.initialized || !s.trafficExpected) return []
  const inUse = new Set(s.certificates.filter((c) => IN_USE.has(c.state) && c.tokenId !== null).map((c) => c.tokenId as string))
  return s.tokens.flatMap((t) => {
    if (!inUse.has(t.id) || t.loggedIn) return []
    return [{
      id: `token-logged-out:${t.id}`, code: 'token-logged-out' as const, severity: 'critical' as const, delayMs: 30_000,
      params: { token: t.label, tokenId: t.id, available: t.available ? 1 : 0 },
      message: t.available
        ? `Token ${t.label} holds keys in use and is logged out while traffic is expected: log in with its PIN (Keys and certificates).`
        : `Token ${t.label} holds keys in use and cannot be reached while traffic is expected: reconnect the device, then log in.`,
    }]
  })
}

function timestampingAlerts(s: AlertSnapshot): AlertCandidate[] {
  const t = s.timestamping
  if (!s.initialized || t === undefined || !t.acceptingMessages || t.light !== 'yellow') return []
  const severity: AlertSeverity = t.secondsLeft !== null && t.secondsLeft < 3600 ? 'critical' : 'warning'
  return [{
    id: `timestamping-failing:${severity}`, code: 'timestamping-failing', severity, delayMs: 0,
    params: { error: t.lastError ?? '', trafficStopsAt: t.trafficStopsAt ?? '' },
    message: `Time-stamping is failing (${t.lastError ?? 'no answer'}); ${t.trafficStopsAt === null ? 'traffic does not stop (the failure period is off)' : `traffic stops at ${t.trafficStopsAt}`} unless a time-stamping service answers: check the time-stamping services in global configuration and the network path to them.`,
  }]
}

function globalConfAlerts(s: AlertSnapshot): AlertCandidate[] {
  const g = s.globalConf
  if (!s.initialized || g === undefined || g.expired || g.light !== 'yellow' || g.expiresAt === null) return []
  return [{
    id: 'global-conf-expiring', code: 'global-conf-expiring', severity: 'warning', delayMs: 0,
    params: { expiresAt: g.expiresAt, error: g.lastError ?? '' },
    message: `Global configuration expires at ${g.expiresAt}${g.lastError ? ` and the last download failed (${g.lastError})` : ''}: messages are refused once it expires; check the configuration source and the network path to it.`,
  }]
}

function diskAlerts(s: AlertSnapshot): AlertCandidate[] {
  const days = s.disk?.daysUntilFull
  if (s.disk === undefined || days === null || days === undefined || days >= s.diskDaysThreshold) return []
  const severity: AlertSeverity = days < Math.min(3, s.diskDaysThreshold) ? 'critical' : 'warning'
  return [{
    id: `disk-filling:${severity}`, code: 'disk-filling', severity, delayMs: 0,
    params: { days: Math.floor(days), freeBytes: s.disk.freeBytes, threshold: s.diskDaysThreshold },
    message: `At the recent rate the disk holding the message log fills in ${Math.floor(days)} day(s) (${s.disk.freeBytes} bytes free): free space, move archives off the machine or shorten the message-log retention.`,
  }]
}

function readinessAlerts(s: AlertSnapshot, skip: ReadonlySet<string>): AlertCandidate[] {
  return s.readiness.flatMap((check) => {
    if (check.light !== 'red' || skip.has(check.code)) return []
    return [{
      id: `readiness-red:${check.key}:${check.code}`, code: 'readiness-red' as const, severity: 'critical' as const, delayMs: 10_000,
      params: { area: check.key, check: check.code, ...check.params },
      message: `Messages cannot flow (${check.key}): ${check.message}`,
    }]
  })
}

export function evaluateAlerts(s: AlertSnapshot): AlertCandidate[] {
  const tokens = tokenAlerts(s)
  const ocsp = ocspAlerts(s)
  const skip = new Set<string>([...(tokens.length > 0 ? TOKEN_READINESS_CODES : []), ...(ocsp.length > 0 ? OCSP_READINESS_CODES : [])])
  return [
    ...readinessAlerts(s, skip), ...tokens, ...timestampingAlerts(s), ...globalConfAlerts(s), ...ocsp, ...certificateAlerts(s), ...diskAlerts(s),
  ]
}

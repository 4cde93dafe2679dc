import type {
  EvidenceContinuity, EvidenceProblemDto, EvidenceVerdict, MessageLogForecast, TimestampingStatus,
} from '@shared/admin-api/admin-api'
import { formatNumber, type useT } from '../../i18n'
import { formatTime } from '../../lib/format-time'

/**
 * The message-log screen's sentences in the language shown, composed from the server's structured fields (the
 * server's English `explanation` stays the fallback for what the GUI does not know). `t` is `useT('messageLog')`.
 */
export type MessageLogT = ReturnType<typeof useT>

const HOUR = 3600

/** 90 → "90 seconds", 7200 → "2 hours", as the server's `formatSeconds` rounds. */
export function duration(t: MessageLogT, seconds: number): string {
  const s = Math.max(0, Math.round(seconds))
  if (s < 120) return t('messageLog:duration.seconds', { count: s })
  if (s < 2 * HOUR) return t('messageLog:duration.minutes', { count: Math.round(s / 60) })
  if (s < 48 * HOUR) return t('messageLog:duration.hours', { count: Math.round(s / HOUR) })
  return t('messageLog:duration.days', { count: Math.round(s / (24 * HOUR)) })
}

function waiting(t: MessageLogT, s: TimestampingStatus): string {
  return s.backlogCapped ? t('messageLog:timestamping.waitingMore', { count: s.backlog }) : t('messageLog:timestamping.waiting', { count: s.backlog })
}

/** The time-stamping card's sentence, by the same cases the server explains (reliability-and-security.md §1.2). */
export function timestampingText(t: MessageLogT, s: TimestampingStatus): string {
  const last = s.lastSuccessAt === null ? null : formatTime(s.lastSuccessAt)
  if (!s.acceptingMessages) {
    return t('messageLog:timestamping.refusing', {
      period: duration(t, s.failurePeriodSeconds), waiting: capitalized(waiting(t, s)), error: s.lastError ?? t('messageLog:timestamping.noError'),
    })
  }
  if (s.light === 'yellow' && s.lastError !== null) {
    return [
      t('messageLog:timestamping.failing', { error: s.lastError, waiting: waiting(t, s) }),
      s.secondsLeft === null ? '' : t('messageLog:timestamping.stopsIn', { left: duration(t, s.secondsLeft) }),
      last === null ? t('messageLog:timestamping.neverSucceeded') : t('messageLog:timestamping.lastSucceeded', { time: last }),
    ].filter((part) => part !== '').join(' ')
  }
  if (s.light === 'gray') return t('messageLog:timestamping.nothingYet')
  if (s.light === 'green') {
    const lead = last === null ? t('messageLog:timestamping.noneTaken') : t('messageLog:timestamping.lastAt', { time: last })
    if (s.backlog === 0) return t('messageLog:timestamping.allStamped', { last: lead })
    const text = t('messageLog:timestamping.someWaiting', { last: lead, waiting: waiting(t, s) })
    return s.secondsLeft === null ? text : `${text} ${t('messageLog:timestamping.wouldStop', { left: duration(t, s.secondsLeft) })}`
  }
  return s.explanation
}

function bytes(n: number): string {
  if (n >= 1024 ** 3) return `${formatNumber(n / 1024 ** 3, { maximumFractionDigits: 1 })} GiB`
  if (n >= 1024 ** 2) return `${formatNumber(n / 1024 ** 2, { maximumFractionDigits: 1 })} MiB`
  return `${formatNumber(Math.round(n / 1024))} KiB`
}

/** The disk forecast's sentence. */
export function forecastText(t: MessageLogT, f: MessageLogForecast): string {
  const free = bytes(f.freeBytes)
  if (f.daysUntilFull === null) return t('messageLog:forecast.quiet', { days: f.windowDays, free })
  const perDay = formatNumber(f.recordsPerDay, { maximumFractionDigits: f.recordsPerDay >= 10 ? 0 : 1 })
  const rate = f.daysUntilFull >= 3650
    ? t('messageLog:forecast.rateLong', { perDay, bytes: bytes(f.bytesPerDay), free, left: t('messageLog:duration.tenYears') })
    : t('messageLog:forecast.rate', { perDay, bytes: bytes(f.bytesPerDay), free, left: duration(t, f.daysUntilFull * 86_400) })
  return f.light === 'green' ? rate : `${rate} ${t('messageLog:forecast.act')}`
}

const REASONS = [
  'asic_timestamp_not_found', 'signature_not_valid', 'invalid_signature_value', 'malformed_signature', 'cert_validation',
  'incorrect_certificate', 'timestamp_validation', 'invalid_hash_chain_ref', 'tsp_certificate_not_found',
  'no_timestamping_provider_found', 'timestamp_signer_verification_failed',
] as const

/** A verification verdict in words (the server's checks, `message-log-admin.ts` `verdictOf`). */
export function verdictText(t: MessageLogT, v: EvidenceVerdict): string {
  if (v.verdict === 'valid' && v.signer !== null && v.timestamp !== null && v.ocsp !== null) {
    return t('messageLog:verdict.validText', { signer: v.signer, responder: v.ocsp.responder, tsa: v.timestamp.tsa, time: formatTime(v.timestamp.genTime) })
  }
  if (v.verdict === 'not-verified') return v.code === 'not_initialized' ? t('messageLog:verdict.noConf') : t('messageLog:verdict.notStamped')
  if (v.verdict === 'invalid') {
    const leaf = (v.code ?? '').split('.').at(-1) ?? ''
    const reason = REASONS.find((r) => r === leaf)
    return reason === undefined ? t('messageLog:verdict.invalidText') : t('messageLog:verdict.invalidBecause', { reason: t(`messageLog:verdict.reasons.${reason}`) })
  }
  return v.explanation
}

function capitalized(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1)
}

const seqRange = (first: number | null, last: number | null): string => (first === null ? '' : first === last || last === null ? String(first) : `${first}–${last}`)

/** One evidence problem in words (its kind and chain positions; the server's English `detail` is for support). */
export function evidenceProblemText(t: MessageLogT, p: EvidenceProblemDto): string {
  const range = seqRange(p.firstSeq, p.lastSeq)
  switch (p.kind) {
    case 'missing':
      return t('messageLog:evidence.problem.missing', { count: (p.lastSeq ?? 0) - (p.firstSeq ?? 0) + 1, range })
    case 'altered':
      return t('messageLog:evidence.problem.altered', { range })
    case 'link':
      return p.firstSeq === null ? t('messageLog:evidence.problem.linkUnplaced') : t('messageLog:evidence.problem.link', { range })
    case 'unreadable':
      return t('messageLog:evidence.problem.unreadable')
    case 'ack-file':
      return t('messageLog:evidence.problem.ack-file')
  }
}

/** The evidence card's sentence: intact, refusing traffic, a problem while traffic flows, or problems acknowledged. */
export function evidenceText(t: MessageLogT, e: EvidenceContinuity): string {
  if (e.state === 'problem') return e.refusing ? t('messageLog:evidence.refusing') : t('messageLog:evidence.flowing')
  if (e.state === 'acknowledged') return t('messageLog:evidence.acknowledged')
  if (e.records === 0 || e.firstSeq === null) return t('messageLog:evidence.empty')
  return t('messageLog:evidence.ok', { count: e.records, first: e.firstSeq, last: e.lastSeq ?? e.firstSeq, lastAck: e.lastAcknowledgedSeq ?? e.lastSeq ?? e.firstSeq })
}

import type { DiagnosticCheck } from '@shared/admin-api/admin-api'
import { formatDateTime, hasTranslation, translate } from '../../i18n'

/**
 * The diagnostics checks in the language shown, from each check's code and parameters (src-main/admin/diagnostics-admin.ts);
 * the server's English `explanation` stays the fallback for a code this screen does not know.
 */
const HOUR = 3600
const t = (key: string, options: Record<string, unknown> = {}): string => translate(`diagnostics:${key}`, options)

/** 90 → "90 seconds", 3600 → "1 hour", 5400 → "90 minutes": the server's rounding (global-conf-admin `formatSeconds`), in words. */
export function durationText(seconds: number): string {
  const s = Math.max(0, Math.round(seconds))
  if (s < 120) return t('duration.seconds', { count: s })
  if (s < 2 * HOUR && s % HOUR !== 0) return t('duration.minutes', { count: Math.round(s / 60) })
  if (s < 48 * HOUR) return t('duration.hours', { count: Math.round(s / HOUR) })
  return t('duration.days', { count: Math.round(s / (24 * HOUR)) })
}

const num = (value: unknown): number => (typeof value === 'number' ? value : 0)
const str = (value: unknown): string => (typeof value === 'string' ? value : '')

function waitingText(p: DiagnosticCheck['params']): string {
  return t(p.backlogCapped === true ? 'stamping.waitingMore' : 'stamping.waiting', { count: num(p.backlog) })
}

function stampingText(check: DiagnosticCheck): string {
  const p = check.params
  const last = typeof p.lastSuccessAt === 'string' ? formatDateTime(p.lastSuccessAt, { dateStyle: 'medium', timeStyle: 'medium' }) : null
  const left = typeof p.secondsLeft === 'number' ? durationText(p.secondsLeft) : null
  const error = str(p.error) === '' ? t('stamping.noError') : str(p.error)
  switch (check.code) {
    case 'timestamping-stopped':
      return t('codes.timestamping-stopped', { period: durationText(num(p.periodSeconds)), waiting: waitingText(p), error })
    case 'timestamping-failing':
      return [
        t('codes.timestamping-failing', { error, waiting: waitingText(p) }),
        left === null ? '' : t('stamping.stopsIn', { left }),
        last === null ? t('stamping.neverSucceeded') : t('stamping.lastSucceeded', { time: last }),
      ].filter((part) => part !== '').join(' ')
    case 'timestamping-idle':
      return t('codes.timestamping-idle')
    default:
      return [
        last === null ? t('stamping.noneTaken') : t('stamping.lastSucceeded', { time: last }),
        num(p.backlog) === 0 ? t('stamping.allStamped') : `${waitingText(p)} ${t('stamping.nextRun')}`,
        left === null ? '' : t('stamping.wouldStop', { left }),
      ].filter((part) => part !== '').join(' ')
  }
}

/** What a check found, in words: durations and times readable, plurals by the count that matters. */
export function checkText(check: DiagnosticCheck): string {
  if (check.key === 'timestamping' && check.code.startsWith('timestamping-')) return stampingText(check)
  const p = check.params
  const options: Record<string, unknown> = { ...p }
  let code: string = check.code
  switch (check.code) {
    case 'global-conf-not-downloaded':
      if (str(p.error) !== '') code = 'global-conf-not-downloaded-error'
      break
    case 'global-conf-download-failed':
    case 'global-conf-expires-soon':
      options.duration = durationText(num(p.expiresInSeconds))
      break
    case 'global-conf-up-to-date':
      if (typeof p.ageSeconds === 'number') options.duration = durationText(p.ageSeconds)
      else code = 'global-conf-up-to-date-recently'
      break
    case 'certificates-ok':
    case 'certificates-attention':
      options.count = num(p.daysLeft)
      break
    case 'traffic-none':
    case 'traffic-ok':
    case 'traffic-failures':
      options.window = durationText(num(p.windowSeconds))
      break
    default:
      break
  }
  const key = `diagnostics:codes.${code}`
  return hasTranslation(key) || hasTranslation(`${key}_other`) ? translate(key, options) : check.explanation
}

/** The check's name in the language shown. */
export function checkName(check: DiagnosticCheck): string {
  const key = `diagnostics:checks.names.${check.key}`
  return hasTranslation(key) ? translate(key) : check.label
}

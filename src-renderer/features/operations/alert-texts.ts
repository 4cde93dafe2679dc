import type { AlertDto, ReadinessCheck } from '@shared/admin-api/admin-api'
import { formatDateTime, formatNumber, hasTranslation, translate } from '../../i18n'
import type { Route } from '../../app/router-store'
import { FIX_ROUTE, readinessText } from '../dashboard/ReadinessCard'

/**
 * An alert in the reader's language: its title and what to do, from its code and parameters (the server's English
 * `message` only when the catalogue has no words for it), and the page where it is fixed.
 */
function usageWord(usage: unknown): string {
  return translate(`operations:alerts.usage.${usage === 'auth' || usage === 'sign' ? usage : 'other'}`)
}

function date(value: unknown): string {
  return typeof value === 'string' && value !== '' ? formatDateTime(value) : ''
}

/** A duration in the largest whole unit that fits (minutes under two hours, hours under two days). */
export function timeLeft(seconds: number): string {
  if (seconds < 120) return translate('operations:interval.seconds', { count: Math.max(0, Math.round(seconds)) })
  if (seconds < 7200) return translate('operations:interval.minutes', { count: Math.round(seconds / 60) })
  if (seconds < 172_800) return translate('operations:interval.hours', { count: Math.round(seconds / 3600) })
  return translate('operations:interval.days', { count: Math.round(seconds / 86_400) })
}

export function formatBytes(bytes: number): string {
  const units = ['byte', 'kilobyte', 'megabyte', 'gigabyte', 'terabyte'] as const
  let value = bytes
  let unit = 0
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000
    unit += 1
  }
  return formatNumber(value, { style: 'unit', unit: units[unit], unitDisplay: 'short', maximumFractionDigits: value < 10 ? 1 : 0 })
}

/** The readiness check an alert `readiness-red` carries. */
export function checkOf(alert: AlertDto): ReadinessCheck {
  const { area, check, ...params } = alert.params
  return { key: String(area) as ReadinessCheck['key'], code: String(check) as ReadinessCheck['code'], light: 'red', params, message: alert.message }
}

function areaName(area: string): string {
  const key = `dashboard:areas.${area}`
  return hasTranslation(key) ? translate(key) : translate('operations:alerts.areaUnknown')
}

export function alertTitle(alert: AlertDto): string {
  const p = alert.params
  switch (alert.code) {
    case 'certificate-expiring':
      return translate('operations:alerts.codes.certificate-expiring.title', { count: Number(p.daysLeft ?? 0) })
    case 'disk-filling':
      return translate('operations:alerts.codes.disk-filling.title', { count: Number(p.days ?? 0) })
    case 'readiness-red':
      return translate('operations:alerts.codes.readiness-red.title', { area: areaName(String(p.area ?? '')) })
    default: {
      const key = `operations:alerts.codes.${alert.code}.title`
      return hasTranslation(key) ? translate(key) : alert.message
    }
  }
}

export function alertAction(alert: AlertDto, now: Date = new Date()): string {
  const p = alert.params
  const certificate = { usage: usageWord(p.usage), subject: String(p.subject ?? ''), notAfter: date(p.notAfter) }
  switch (alert.code) {
    case 'certificate-expiring':
    case 'certificate-expired':
      return translate(`operations:alerts.codes.${alert.code}.action`, certificate)
    case 'ocsp-stale':
      return translate('operations:alerts.codes.ocsp-stale.action', { ...certificate, status: String(p.status ?? '') })
    case 'timestamping-failing': {
      const stops = typeof p.trafficStopsAt === 'string' && p.trafficStopsAt !== '' ? p.trafficStopsAt : null
      if (stops === null) return translate('operations:alerts.codes.timestamping-failing.actionNoStop', { error: String(p.error ?? '') })
      return translate('operations:alerts.codes.timestamping-failing.action', {
        error: String(p.error ?? ''), trafficStopsAt: date(stops), timeLeft: timeLeft((Date.parse(stops) - now.getTime()) / 1000),
      })
    }
    case 'global-conf-expiring':
      return translate('operations:alerts.codes.global-conf-expiring.action', { expiresAt: date(p.expiresAt), error: String(p.error ?? '') })
    case 'token-logged-out':
      return translate(`operations:alerts.codes.token-logged-out.${p.available === 0 ? 'actionUnavailable' : 'action'}`, { token: String(p.token ?? '') })
    case 'disk-filling':
      return translate('operations:alerts.codes.disk-filling.action', { days: Number(p.days ?? 0), free: formatBytes(Number(p.freeBytes ?? 0)), threshold: Number(p.threshold ?? 0) })
    case 'readiness-red':
      return readinessText(checkOf(alert))
    default:
      return alert.message
  }
}

/** Where the alert's problem is fixed. */
export function alertRoute(alert: AlertDto): Route {
  switch (alert.code) {
    case 'certificate-expiring':
    case 'certificate-expired':
    case 'ocsp-stale':
    case 'token-logged-out':
      return 'keys'
    case 'timestamping-failing':
    case 'global-conf-expiring':
      return 'global-conf'
    case 'disk-filling':
      return 'message-log'
    case 'readiness-red': {
      const area = String(alert.params.area ?? '')
      return area in FIX_ROUTE ? FIX_ROUTE[area as ReadinessCheck['key']] : 'dashboard'
    }
    default:
      return 'dashboard'
  }
}

import type { ProbeResult, ProbeStep } from '@shared/admin-api/admin-api'
import { formatDateTime, formatNumber, hasTranslation, translate } from '../../i18n'

/**
 * The probes' findings in the language shown, from each result's code and parameters
 * (src-main/diagnostics/probe-result.ts); the server's English `explanation` stays the fallback for a code this screen
 * does not know. Messages of other components (a TLS library's, a verifier's) are quoted as they are.
 */
const t = (key: string, options: Record<string, unknown> = {}): string => translate(`diagnostics:${key}`, options)
const str = (value: unknown): string => (typeof value === 'string' ? value : '')
const num = (value: unknown): number => (typeof value === 'number' ? value : 0)
const time = (value: unknown): string => (typeof value === 'string' && value !== '' ? formatDateTime(value, { dateStyle: 'medium', timeStyle: 'medium' }) : '')

/** "connection refused", "name not found"… in words, else the component's own message. */
function networkText(params: ProbeResult['params']): string {
  const key = `network.${str(params.network)}`
  return params.network !== undefined && params.network !== 'other' && hasTranslation(`diagnostics:${key}`) ? t(key) : str(params.error)
}

export function probeText(result: ProbeResult): string {
  const p = result.params
  const options: Record<string, unknown> = { ...p, problem: networkText(p) }
  let code: string = result.code
  switch (result.code) {
    case 'tsa-ok':
      options.time = time(p.genTime)
      break
    case 'ocsp-not-good':
      options.status = hasTranslation(`diagnostics:certificates.ocspStates.${str(p.status)}`) ? t(`certificates.ocspStates.${str(p.status)}`) : str(p.status)
      break
    case 'conf-ok':
      options.count = num(p.parts)
      options.expires = time(p.expiresAt)
      break
    case 'conf-expired':
      options.expires = time(p.expiresAt)
      break
    case 'listener-ok':
      if (typeof p.members === 'number') {
        code = 'listener-ok-members'
        options.count = p.members
      }
      break
    case 'listener-closed':
      // The runtime's own words for why a listener is not open (port taken, not joined yet).
      options.problem = str(p.problem)
      break
    case 'peer-ok':
      options.count = num(p.services)
      break
    default:
      break
  }
  const key = `diagnostics:probeCodes.${code}`
  return hasTranslation(key) || hasTranslation(`${key}_other`) ? translate(key, options) : result.explanation
}

/** What was probed, in words: a listener by its name, a TSA by its name, the rest by address. */
export function probeTarget(result: ProbeResult): string {
  if (result.kind === 'listener' && result.target !== '') {
    const key = `diagnostics:probes.listeners.${result.target}`
    return hasTranslation(key) ? translate(key) : result.target
  }
  if (result.kind === 'ocsp' && typeof result.params.ca === 'string') return result.params.ca
  return result.target
}

/** The address shown under the target, when it says more than the target's name. */
export function probeAddress(result: ProbeResult): string {
  return result.address === probeTarget(result) ? '' : result.address
}

export function stepName(step: ProbeStep): string {
  return t(`steps.${step.name}`)
}

/** 0.4 → "0.4 ms", 1234.5 → "1,235 ms": tenths below 10 ms, whole milliseconds above, in the language shown. */
export function msText(ms: number): string {
  const digits = ms < 10 ? 1 : 0
  return t('probes.ms', { ms: formatNumber(ms, { minimumFractionDigits: digits, maximumFractionDigits: digits }) })
}

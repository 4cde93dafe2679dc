import type { CeremonyEntryInfo, CeremonyReason, CeremonyRoleName, CeremonyTranscriptView } from '@shared/admin-api/admin-api'
import { currentLanguage, formatDateTime, hasTranslation, translate } from '../../i18n'
import { AdminError } from '../../lib/admin-client'
import { roleName, type Working } from './ceremony-store'

/**
 * The server's ceremony texts in the language shown: refusal reasons and warnings (codes from
 * src-main/ceremony/refusals.ts, or the failing component's error code), recorded step titles (by step name) and
 * transcript verification problems. The recorded English text stays the fallback for what this screen does not know.
 */
const ROLE_NAMES = new Set<string>(['administrator', 'custodian', 'witness'])

/** "Carl and Cleo", joined the way the language joins names. */
export function namesList(names: readonly string[]): string {
  return new Intl.ListFormat(currentLanguage(), { type: 'conjunction' }).format(names)
}

/** "key custodian or ceremony administrator", joined the way the language joins alternatives. */
function roleList(roles: string): string {
  const words = roles.split(',').filter((r) => ROLE_NAMES.has(r)).map((r) => roleName(r as CeremonyRoleName, true))
  return new Intl.ListFormat(currentLanguage(), { type: 'disjunction' }).format(words)
}

/** The catalogue key and interpolation values of a reason, or null when the screen has no words for it. */
function reasonKey(code: string, params: Record<string, string | number>): { key: string; values: Record<string, unknown> } | null {
  const values: Record<string, unknown> = { ...params }
  let name = code
  if (typeof params.role === 'string' && ROLE_NAMES.has(params.role)) values.role = roleName(params.role as CeremonyRoleName, true)
  if (typeof params.roles === 'string') values.roles = roleList(params.roles)
  if (code === 'confirmations-missing') values.count = params.confirmed
  if (code === 'certificate-unreadable' && typeof params.ca === 'number' && params.ca > 0) name = 'certificate-unreadable-ca'
  if (code === 'pem-missing') name = `pem-missing-${String(params.field)}`
  if (code === 'member-format') name = `member-format-${String(params.usage)}`
  for (const [param, value] of Object.entries(params)) {
    if (param.endsWith('At') && typeof value === 'string') values[param.slice(0, -2)] = formatDateTime(value)
  }
  const key = `ceremony:reasons.${name}`
  return hasTranslation(key) || hasTranslation(`${key}_other`) ? { key, values } : null
}

/** Why a step was refused or warned, in words. */
export function reasonText(reason: CeremonyReason): string {
  if (reason.code === null) return reason.text
  const found = reasonKey(reason.code, reason.params)
  return found === null ? reason.text : translate(found.key, found.values)
}

/** A refused call's reason in words: the code in `detail` with its `params`, else the server's English message. */
export function refusalText(error: unknown): string {
  if (!(error instanceof AdminError)) return error instanceof Error ? error.message : String(error)
  const leaf = error.code.split('.').at(-1) ?? error.code
  const code = error.detail ?? leaf
  return reasonText({ text: error.message, code, params: { ...(error.params ?? {}) } })
}

/** A recorded step's title, named by its step (the recorded English title otherwise). */
export function entryTitle(entry: CeremonyEntryInfo): string {
  let name = entry.step
  if (entry.step === 'check-offline' && entry.outcome === 'warning') name = 'check-offline-warning'
  if ((entry.step === 'generate-key' || entry.step === 'sign-csrs') && (entry.details.usage === 'sign' || entry.details.usage === 'auth')) {
    name = `${entry.step}-${entry.details.usage}`
  }
  const key = `ceremony:entries.${name}`
  return hasTranslation(key) ? translate(key) : entry.title
}

/** A verification problem in words. */
export function findingText(finding: { code: string; params: Record<string, string | number> }, english: string): string {
  const key = `ceremony:findings.${finding.code}`
  return hasTranslation(key) ? translate(key, { ...finding.params }) : english
}

/** Where the seal key is, in words (the recorded English location when the transcript does not say). */
export function sealKeyText(seal: NonNullable<CeremonyTranscriptView['seal']>): string {
  if (seal.keyOn === null) return seal.keyLocation
  if (seal.keyOn.kind === 'software') return translate('ceremony:done.softwareKey')
  return translate('ceremony:done.tokenKey', { keyId: seal.keyOn.keyId, token: seal.keyOn.token, serial: seal.keyOn.serialNumber })
}

/** The status line while a step runs. */
export function workingText(working: Working): string {
  return translate(`ceremony:working.${working.step}`, { name: working.name ?? '' })
}

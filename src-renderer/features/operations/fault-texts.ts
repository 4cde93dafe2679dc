import { hasTranslation, translate } from '../../i18n'

/**
 * The plain-language meaning of an X-Road fault code (`server.serverproxy.service_failed.http_error`): the first code
 * after the origin that the catalogue explains, with a more specific one after it added (`http_error` under
 * `service_failed`). Codes compare without case or underscores, as X-Road ≤ 7.7 spelled them in CamelCase.
 */
const ORIGINS = new Set(['server', 'client', 'serverproxy', 'clientproxy', 'signer'])

function known(segment: string): string | undefined {
  const direct = `operations:meaning.${segment}`
  if (hasTranslation(direct)) return segment
  // `AccessDenied` (≤ 7.7) → `access_denied` (7.8).
  const snake = segment.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase()
  return hasTranslation(`operations:meaning.${snake}`) ? snake : undefined
}

export function faultMeaning(faultCode: string | null): string {
  if (faultCode === null || faultCode === '') return translate('operations:meaning.none')
  const codes = faultCode.split('.').filter((s) => !ORIGINS.has(s.toLowerCase())).map(known).filter((s): s is string => s !== undefined)
  const [first, ...rest] = [...new Set(codes)]
  if (first === undefined) return translate('operations:meaning.unknown')
  const more = rest.at(-1)
  return more === undefined ? translate(`operations:meaning.${first}`) : `${translate(`operations:meaning.${first}`)} ${translate(`operations:meaning.${more}`)}`
}

import { hasTranslation, translate } from '../i18n'
import { AdminError } from './admin-client'

/**
 * Plain-language explanations of error codes (catalogue `errors`): what happened and what to do. The server's own
 * message is the title; the code is shown for support.
 */
export function describeError(error: unknown): { title: string; text: string; code: string } {
  const explain = (code: string): string => {
    const leaf = code.split('.').at(-1) ?? code
    const key = `errors:codes.${leaf}`
    return translate(hasTranslation(key) ? key : 'errors:fallback')
  }
  if (error instanceof AdminError) return { title: error.message, text: explain(relayedCode(error) ?? error.code), code: error.code }
  const message = error instanceof Error ? error.message : String(error)
  return { title: message, text: explain('internal_error'), code: 'internal_error' }
}

/**
 * X-Road's management service relays a refusal of the central server's request store as `internal_error` with the
 * message "<code> with statusCode <status>" (ManagementRequestSoapExecutor); the code in it explains the refusal.
 */
function relayedCode(error: AdminError): string | undefined {
  if (!error.code.endsWith('internal_error')) return undefined
  const code = /^([a-z][a-z0-9_]*) with statusCode \d{3}$/.exec(error.message)?.[1]
  return code !== undefined && hasTranslation(`errors:codes.${code}`) ? code : undefined
}

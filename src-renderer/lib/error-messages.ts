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
  if (error instanceof AdminError) return { title: error.message, text: explain(error.code), code: error.code }
  const message = error instanceof Error ? error.message : String(error)
  return { title: message, text: explain('internal_error'), code: 'internal_error' }
}

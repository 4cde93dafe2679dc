import { AdminError } from './admin-client'

/**
 * The server names a refusal by its code and, in `detail`, the field or the reason (`lastSystemAdministrator`,
 * `activeCertificate`…); its English message is only a fallback. A screen that knows the refusal says it in the
 * reader's language: `messageFor(leafCode, detail)` returns the translated text, or undefined to keep the server's.
 * The result is the same error with that message, so ErrorNotice and field errors show it unchanged.
 */
export function localizeError(error: unknown, messageFor: (code: string, detail: string | undefined) => string | undefined): unknown {
  if (!(error instanceof AdminError)) return error
  const leaf = error.code.split('.').at(-1) ?? error.code
  const text = messageFor(leaf, error.detail)
  return text === undefined ? error : new AdminError(error.code, text, error.detail)
}

import { AdminError } from './admin-client'

/** Plain-language explanations of error codes: what happened and what to do. The code is shown for support. */
const MESSAGES: Record<string, string> = {
  unauthorized: 'You are not signed in, or the user name or password is wrong. Check them and sign in again.',
  forbidden: 'Your account is not allowed to do this. Ask a system administrator for the needed role.',
  csrf_failed: 'The page lost its security token. Reload the page and try again.',
  rate_limited: 'Too many failed sign-in attempts. Wait a moment, then try again.',
  validation_failed: 'Some of the values are not valid. Correct the highlighted field and try again.',
  conflict: 'This clashes with what already exists. Reload to see the current state.',
  not_found: 'The item no longer exists. Reload to see the current state.',
  network_error: 'The security server cannot be reached. Check that it is running.',
  http_error: 'The security server gave an unexpected answer. Try again; if it persists, check its log.',
  database_error: 'The security server could not read or write its database. Check free disk space and the server log.',
  internal_error: 'Something went wrong inside the security server. Check the server log for details.',
  body_too_large: 'The data sent is too large.',
  invalid_content_type: 'The request was not sent as JSON.',
  unsupported: 'This is not available here.',
}

export function describeError(error: unknown): { title: string; text: string; code: string } {
  if (error instanceof AdminError) {
    const leaf = error.code.split('.').at(-1) ?? error.code
    return { title: error.message, text: MESSAGES[leaf] ?? 'The operation failed. Note the code below if you contact support.', code: error.code }
  }
  const message = error instanceof Error ? error.message : String(error)
  return { title: message, text: MESSAGES.internal_error as string, code: 'internal_error' }
}

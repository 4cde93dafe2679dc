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
  pin_incorrect: 'The PIN is not correct. Check it and try again; after too many wrong PINs the token locks.',
  token_locked: 'The token is locked after too many wrong PINs. A security officer must unlock or reset it.',
  token_pin_policy_failure: 'The new PIN does not meet the PIN rules shown next to the field.',
  pin_policy_violation: 'The passphrase or PIN is too short or too simple. Choose a longer one.',
  token_not_available: 'The token cannot be reached (removed or not responding). Reconnect it; Gatehouse logs in again by itself.',
  token_not_active: 'The token is not logged in. Log in with its PIN first.',
  login_failed: 'Logging in to the token failed. Check that the device is connected and try again.',
  cannot_sign: 'No usable signing key: the certificate may be disabled, expired, revoked, or without a fresh OCSP status.',
  key_not_found: 'The key no longer exists on the token. Reload to see the current state.',
  cert_exists: 'This certificate is already imported.',
  cert_import_failed: 'The certificate could not be imported: it does not match a key on the tokens or is not in a supported format.',
  incorrect_certificate: 'The certificate does not fit: wrong member, wrong usage, or not issued by an approved CA.',
  cert_validation: 'The certificate could not be validated (revoked, unknown to the CA, or no fresh OCSP response).',
  global_conf_outdated: 'The global configuration has expired. Check the connection to the configuration source on the Global configuration page.',
  malformed_anchor: 'The file is not a valid configuration anchor. Ask your X-Road operator for the anchor file again.',
  already_initialized: 'This security server is already initialized.',
  not_initialized: 'This security server has not joined an instance yet. Complete the first-run steps.',
  timestamping_failed: 'Time-stamping has failed for too long, so no new messages are accepted. Check the time-stamping service.',
  access_denied: 'The client is not allowed to call this service. Grant an access right on the service first.',
  ceremony_step_refused: 'The step was refused and the refusal is recorded in the transcript. Read the reason and have the required people confirm.',
  transcript_invalid: 'The transcript does not verify: it was changed after it was recorded, or it is not a ceremony transcript.',
}

export function describeError(error: unknown): { title: string; text: string; code: string } {
  if (error instanceof AdminError) {
    const leaf = error.code.split('.').at(-1) ?? error.code
    return { title: error.message, text: MESSAGES[leaf] ?? 'The operation failed. Note the code below if you contact support.', code: error.code }
  }
  const message = error instanceof Error ? error.message : String(error)
  return { title: message, text: MESSAGES.internal_error as string, code: 'internal_error' }
}

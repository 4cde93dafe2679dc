import * as pkcs11js from 'pkcs11js'
import type { ErrorCode } from '@shared/error-codes'
import { SecurityServerError, clientError } from '../../platform'

/**
 * The one table from PKCS#11 return values to Gatehouse error codes (code-style-models.md convention 7: match
 * `Pkcs11Error.code`, never the message text). `sessionLost` marks the values after which the token is treated as
 * removed: every handle is dropped and the slot re-enumerated (reliability-and-security.md §4.1).
 */
interface CkrMapping {
  readonly code: ErrorCode
  readonly clientFault?: boolean
  readonly sessionLost?: boolean
}

const CKR_TABLE: ReadonlyMap<number, CkrMapping> = new Map<number, CkrMapping>([
  [pkcs11js.CKR_PIN_INCORRECT, { code: 'pin_incorrect', clientFault: true }],
  [pkcs11js.CKR_PIN_INVALID, { code: 'token_pin_policy_failure', clientFault: true }],
  [pkcs11js.CKR_PIN_LEN_RANGE, { code: 'token_pin_policy_failure', clientFault: true }],
  [pkcs11js.CKR_PIN_LOCKED, { code: 'token_locked', clientFault: true }],
  [pkcs11js.CKR_PIN_EXPIRED, { code: 'login_failed', clientFault: true }],
  [pkcs11js.CKR_USER_PIN_NOT_INITIALIZED, { code: 'token_not_initialized' }],
  [pkcs11js.CKR_USER_NOT_LOGGED_IN, { code: 'token_not_active', clientFault: true }],
  [pkcs11js.CKR_USER_TYPE_INVALID, { code: 'login_failed' }],
  [pkcs11js.CKR_USER_ANOTHER_ALREADY_LOGGED_IN, { code: 'login_failed' }],
  [pkcs11js.CKR_TOKEN_NOT_PRESENT, { code: 'token_not_available', sessionLost: true }],
  [pkcs11js.CKR_DEVICE_REMOVED, { code: 'token_not_available', sessionLost: true }],
  [pkcs11js.CKR_DEVICE_ERROR, { code: 'token_not_available', sessionLost: true }],
  [pkcs11js.CKR_SESSION_HANDLE_INVALID, { code: 'token_not_available', sessionLost: true }],
  [pkcs11js.CKR_SESSION_CLOSED, { code: 'token_not_available', sessionLost: true }],
  [pkcs11js.CKR_TOKEN_NOT_RECOGNIZED, { code: 'token_not_available', sessionLost: true }],
  [pkcs11js.CKR_SLOT_ID_INVALID, { code: 'token_not_available', sessionLost: true }],
  [pkcs11js.CKR_TOKEN_WRITE_PROTECTED, { code: 'token_readonly' }],
  [pkcs11js.CKR_MECHANISM_INVALID, { code: 'unsupported_sign_algorithm', clientFault: true }],
  [pkcs11js.CKR_MECHANISM_PARAM_INVALID, { code: 'unsupported_sign_algorithm', clientFault: true }],
  [pkcs11js.CKR_KEY_TYPE_INCONSISTENT, { code: 'unsupported_sign_algorithm', clientFault: true }],
  [pkcs11js.CKR_KEY_FUNCTION_NOT_PERMITTED, { code: 'cannot_sign' }],
  [pkcs11js.CKR_KEY_HANDLE_INVALID, { code: 'key_not_found', clientFault: true }],
  [pkcs11js.CKR_OBJECT_HANDLE_INVALID, { code: 'key_not_found', clientFault: true }],
  [pkcs11js.CKR_DATA_LEN_RANGE, { code: 'invalid_request', clientFault: true }],
  [pkcs11js.CKR_TEMPLATE_INCONSISTENT, { code: 'failed_to_generate_private_key' }],
  [pkcs11js.CKR_ATTRIBUTE_VALUE_INVALID, { code: 'failed_to_generate_private_key' }],
  [pkcs11js.CKR_DEVICE_MEMORY, { code: 'hsm_non_operational' }],
  [pkcs11js.CKR_GENERAL_ERROR, { code: 'hsm_non_operational' }],
  [pkcs11js.CKR_FUNCTION_FAILED, { code: 'hsm_non_operational' }],
  [pkcs11js.CKR_CRYPTOKI_NOT_INITIALIZED, { code: 'hsm_non_operational' }],
])

export function isPkcs11Error(error: unknown, ...codes: number[]): error is pkcs11js.Pkcs11Error {
  return error instanceof pkcs11js.Pkcs11Error && (codes.length === 0 || codes.includes(error.code))
}

/** True when the error means the device or the session is gone (the token becomes unavailable). */
export function isSessionLost(error: unknown): boolean {
  return error instanceof pkcs11js.Pkcs11Error && CKR_TABLE.get(error.code)?.sessionLost === true
}

/** Translates anything a PKCS#11 call threw into a SecurityServerError. */
export function fromPkcs11Error(error: unknown, what: string, fallback: ErrorCode = 'internal_error'): SecurityServerError {
  if (error instanceof SecurityServerError) return error
  if (error instanceof pkcs11js.Pkcs11Error) {
    const mapping = CKR_TABLE.get(error.code)
    const ckr = `CKR 0x${error.code.toString(16).padStart(8, '0')}`
    const message = `${what}: ${error.message} (${ckr})`
    if (mapping === undefined) return new SecurityServerError(fallback, message, { cause: error })
    return mapping.clientFault
      ? clientError(mapping.code, message, { cause: error })
      : new SecurityServerError(mapping.code, message, { cause: error })
  }
  return new SecurityServerError(fallback, `${what}: ${error instanceof Error ? error.message : String(error)}`, { cause: error })
}

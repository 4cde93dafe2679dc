import type { ErrorCode } from '@shared/error-codes'
import { SecurityServerError } from '../platform'

/**
 * Why a ceremony step was refused, or recorded as a warning, as a code with parameters. A refused entry records the
 * code and parameters next to the English `reason`, and the error carries them as its `detail` and `params`, so a
 * screen can say it in the reader's language; the English text stays the transcript's and the CLI's wording.
 */
export type CeremonyReasonCode =
  // dual control (participants.ts)
  | 'not-participant' | 'role-may-not-confirm' | 'passphrase-incorrect' | 'confirmed-twice' | 'confirmations-missing'
  // participants (ceremony-session.ts, ceremony-admin.ts)
  | 'passphrase-too-short' | 'participants-fixed' | 'participant-exists' | 'administrator-missing'
  // the order of the steps (key-ceremony.ts, transcript.ts)
  | 'token-not-identified' | 'token-already-identified' | 'login-first' | 'seal-login-first' | 'key-already-generated' | 'key-missing'
  | 'nothing-to-seal' | 'already-sealed'
  // what the token and the files say (key-ceremony.ts)
  | 'key-attributes-wrong' | 'certificate-unreadable' | 'certificate-wrong-key' | 'ca-certificate-missing' | 'certificate-not-valid-now'
  | 'certificate-issuer-missing' | 'issuer-not-ca' | 'ca-not-valid-now' | 'chain-incomplete' | 'pem-missing'
  // the seal key that could not be on the token (a warning: a software key seals)
  | 'seal-no-token' | 'seal-token-logged-out' | 'seal-no-ec'
  // the input of the admin API (ceremony-admin.ts)
  | 'module-path-relative' | 'module-missing' | 'module-not-library' | 'module-outside-system' | 'member-format'

export type CeremonyReasonParams = Record<string, string | number>

export class CeremonyRefusal extends SecurityServerError {
  constructor(
    code: ErrorCode,
    readonly reason: CeremonyReasonCode,
    params: CeremonyReasonParams,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(code, message, { ...options, detail: reason, params, clientFault: true })
  }
}

/** A refusal with its reason code; `ceremony_step_refused` unless the fault has a code of its own. */
export function refusal(reason: CeremonyReasonCode, params: CeremonyReasonParams, message: string, code: ErrorCode = 'ceremony_step_refused'): CeremonyRefusal {
  return new CeremonyRefusal(code, reason, params, message)
}

/** What a refused entry records about why: the English text and, where known, its code and parameters. */
export function reasonDetails(error: unknown): { reason: string; reasonCode?: string; reasonParams?: CeremonyReasonParams } {
  const reason = error instanceof Error ? error.message : String(error)
  if (error instanceof CeremonyRefusal) return { reason, reasonCode: error.reason, reasonParams: { ...error.params } }
  if (error instanceof SecurityServerError) return { reason, reasonCode: error.code }
  return { reason }
}

/**
 * The ceremony admin group (issue 8): a key ceremony run from the GUI, one folder per ceremony under
 * `DATA_DIR/ceremonies/<id>`. Steps that create or use a key need two distinct people's passphrases (dual control,
 * CA/B Forum BR §6.1.1.1); a refused step is recorded in the hash-chained transcript and then reported as an error.
 * The token PIN goes to the device only: never stored, logged or audited.
 */

export type CeremonyRoleName = 'administrator' | 'custodian' | 'witness'
export type CeremonyKind = 'key' | 'ca'
export type CeremonyKeyAlgorithm = 'ec-p256' | 'rsa-2048' | 'rsa-3072' | 'rsa-4096'

export interface CeremonyParticipantInfo {
  id: string
  name: string
  role: CeremonyRoleName
}

/** What the ceremony has done so far, from its state file and transcript. */
export interface CeremonyProgress {
  offlineChecked: boolean
  token: { label: string; serialNumber: string; modulePath: string } | null
  /** True while this server holds a logged-in session to the ceremony's token (lost on restart). */
  loggedIn: boolean
  key: { label: string; algorithm: string; usage: 'sign' | 'auth'; publicKeySha256: string } | null
  csr: { fileName: string; sha256: string; hasQr: boolean } | null
  certificate: { subject: string; issuer: string; serialNumber: string; sha256: string } | null
  sealed: boolean
}

export interface CeremonySummary {
  id: string
  title: string
  kind: CeremonyKind
  startedAt: string
  participants: CeremonyParticipantInfo[]
  steps: number
  refusals: number
  progress: CeremonyProgress
}

export interface CeremonyConfirmationInput {
  /** Participant id (from `addParticipant`). */
  participant: string
  passphrase: string
}

/** Every step names its ceremony; `actor` (participant id) defaults to the ceremony administrator. */
export interface CeremonyStepTarget {
  id: string
  actor?: string
}

export interface CeremonyArtifactInfo {
  name: string
  sha256: string
  size: number
}

/**
 * Why a step was refused or recorded as a warning: the recorded English text, and its code and parameters for a
 * screen in another language (null code: recorded before codes were, or a fault without one). A code is either a
 * ceremony reason (`passphrase-incorrect`, `confirmations-missing`…, see src-main/ceremony/refusals.ts) or the error
 * code of the failing component (`pin_incorrect`, `token_not_available`…). A refused call's error carries the same
 * ceremony reason code as its `detail`.
 */
export interface CeremonyReason {
  text: string
  code: string | null
  params: Record<string, string | number>
}

export interface CeremonyEntryInfo {
  seq: number
  at: string
  step: string
  /** The recorded English title; screens name the step by `step` (and `details.usage` for a key). */
  title: string
  outcome: 'done' | 'refused' | 'warning'
  actor: string
  confirmedBy: Array<{ participant: string; role: CeremonyRoleName; at: string }>
  details: Record<string, unknown>
  reason: CeremonyReason | null
  artifacts: CeremonyArtifactInfo[]
  hash: string
}

export interface CeremonyTranscriptView {
  ceremony: CeremonySummary
  entries: CeremonyEntryInfo[]
  /**
   * `keyLocation` as recorded (English); `keyOn` the same for a screen in another language: a software key on this
   * machine, or a key on the ceremony token (null when the transcript does not say).
   */
  seal: {
    algorithm: string; keyLocation: string; publicKeyFingerprint: string; sealedAt: string
    keyOn: { kind: 'software' } | { kind: 'token'; token: string; serialNumber: string; keyId: string } | null
  } | null
  /** `problems` in English, `findings` the same as codes with parameters (`not-sealed`, `entry-altered`…). */
  verification: {
    valid: boolean; problems: string[]; findings: Array<{ code: string; params: Record<string, string | number> }>; sealed: boolean; sealFingerprint: string | null
  }
  /** The transcript file itself (JSON), for the auditor's copy. */
  file: { fileName: string; mimeType: 'application/json'; content: string; encoding: 'utf8' }
}

export interface CeremonyTokenInfo {
  label: string
  serialNumber: string
  manufacturer: string
  model: string
  hardwareVersion: string
  firmwareVersion: string
  mechanisms: string[]
}

export interface CeremonyCsrDownload {
  fileName: string
  mimeType: string
  /** PEM text (`utf8`) or DER bytes (`base64`), as asked. */
  content: string
  encoding: 'utf8' | 'base64'
  sha256: string
  /** QR code of the PEM text (PNG, base64) when the CSR is small enough; null otherwise. */
  qrPng: { fileName: string; content: string; sha256: string } | null
}

export interface CeremonyApi {
  /** Ceremonies in this data directory, newest first. */
  list(): Promise<CeremonySummary[]>
  /** Starts a key ceremony in a new folder. @throws validation_failed (title; CA ceremonies run from the CLI) */
  create(input: { title: string; kind: CeremonyKind }): Promise<CeremonySummary>
  /** Registers a participant before the first step. @throws validation_failed, pin_policy_violation, conflict, ceremony_step_refused */
  addParticipant(input: { id: string; name: string; role: CeremonyRoleName; passphrase: string }): Promise<CeremonyParticipantInfo>
  /** Records whether the machine is offline (interfaces up are a recorded warning). */
  checkOffline(input: CeremonyStepTarget): Promise<{ offline: boolean; interfacesUp: string[] }>
  /** Loads the PKCS#11 module (from a system library folder) and records the token. @throws validation_failed, token_not_available, ceremony_step_refused */
  identifyToken(input: CeremonyStepTarget & { modulePath: string; tokenLabel: string }): Promise<CeremonyTokenInfo>
  /** Logs in to the ceremony token; the PIN is neither stored nor logged. @throws pin_incorrect, ceremony_step_refused */
  login(input: CeremonyStepTarget & { pin: string }): Promise<CeremonySummary>
  /** Dual control: generates the key pair on the token and records its attributes. @throws ceremony_step_refused, token_not_active */
  generateKey(input: CeremonyStepTarget & {
    label: string; algorithm: CeremonyKeyAlgorithm; usage?: 'sign' | 'auth'; confirmations: CeremonyConfirmationInput[]
  }): Promise<{ keyId: string; label: string; algorithm: string; publicKeySha256: string; attributes: Record<string, boolean> }>
  /**
   * Dual control: creates the CSR for `member` (`INSTANCE:CLASS:CODE`; with `:SERVER` for an auth key) and returns
   * it for a download to removable media. @throws ceremony_step_refused, validation_failed
   */
  createCsr(input: CeremonyStepTarget & {
    member: string; format: 'pem' | 'der'; certificateProfile?: string; confirmations: CeremonyConfirmationInput[]
  }): Promise<CeremonyCsrDownload>
  /** Imports the issued certificate after checking its key and chain (PEM text). @throws incorrect_certificate, cert_validation, ceremony_step_refused */
  importCertificate(input: CeremonyStepTarget & { certificatePem: string; caCertificatePem: string }): Promise<{
    subject: string; issuer: string; serialNumber: string; sha256: string; chain: Array<{ subject: string; sha256: string }>
  }>
  /** Dual control: seals the transcript with a key generated on the token (a software key when not possible, recorded). */
  seal(input: CeremonyStepTarget & { confirmations: CeremonyConfirmationInput[] }): Promise<CeremonyTranscriptView>
  /**
   * Entries, seal and the verification verdict of a ceremony; without an id, of the newest one (null when this
   * server has held none), so the wizard resumes where it stopped. @throws not_found
   */
  transcript(input?: { id?: string }): Promise<CeremonyTranscriptView | null>
  /** The printable HTML report with signature lines (audit-logged). @throws not_found */
  report(input: { id: string }): Promise<{ fileName: string; mimeType: 'text/html'; content: string; encoding: 'utf8' }>
}

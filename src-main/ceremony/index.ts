/**
 * Ceremony: guided, recorded, verifiable key and CA ceremonies for air-gapped machines — named roles, dual
 * control for every step that creates or uses a key, and a hash-chained transcript sealed with a signature.
 */
export { CeremonySession, type SealSigner, type StepInput } from './ceremony-session'
export { KEY_DUAL_CONTROL, MIN_PASSPHRASE_LENGTH, type DualControlRule, type PresentedConfirmation } from './participants'
export {
  TRANSCRIPT_FORMAT, artifactOf, canonicalJson, parseTranscript, sha256Hex, verifyTranscript,
  type Artifact, type CeremonyRole, type Participant, type Transcript, type TranscriptEntry, type TranscriptFinding, type TranscriptSeal, type TranscriptVerification,
} from './transcript'
export { CeremonyRefusal, reasonDetails, refusal, type CeremonyReasonCode, type CeremonyReasonParams } from './refusals'
export { renderTranscriptReport } from './report'
export { checkOffline, describeMachine, type OfflineCheck } from './environment'
export { softwareSealSigner } from './software-seal'
export {
  KeyCeremony, CEREMONY_STATE_FILE, QR_MAX_BYTES, REQUIRED_KEY_ATTRIBUTES, tokenSealSigner, verifyCertificate,
  type KeyCeremonyState, type CeremonyKeyState, type CsrExport, type CertificateImport,
} from './key-ceremony'
export { CaCeremony, CERTIFICATE_STATUS_FILE, tokenCaKey, type SignedCsr } from './ca-ceremony'

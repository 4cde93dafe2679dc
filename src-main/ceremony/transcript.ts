import { createHash, createPublicKey, verify as verifySignature } from 'node:crypto'
import { parseJson, SecurityServerError } from '../platform'
import { refusal } from './refusals'

/**
 * The ceremony transcript: every step, actor, time, device detail and artifact fingerprint, hash-chained entry by
 * entry (each entry's hash covers its content and the previous entry's hash) and sealed at the end with a signature
 * over the last hash. An auditor verifies it later on another machine with nothing but the file: the chain shows
 * no entry was edited, removed or reordered, the seal shows who closed it (the sealing key's fingerprint is printed
 * on the paper report the participants sign). Practice: CA/B Forum BR §6.1.1.1, NIST SP 800-57 Pt 2.
 */
export const TRANSCRIPT_FORMAT = 'gatehouse-ceremony-transcript/1'

export type CeremonyRole = 'administrator' | 'custodian' | 'witness'

export interface Participant {
  id: string
  name: string
  role: CeremonyRole
}

export interface Artifact {
  name: string
  sha256: string
  size: number
}

export interface Confirmation {
  participant: string
  role: CeremonyRole
  at: string
}

export interface TranscriptEntry {
  seq: number
  at: string
  step: string
  title: string
  outcome: 'done' | 'refused' | 'warning'
  actor: string
  confirmedBy: Confirmation[]
  details: Record<string, unknown>
  artifacts: Artifact[]
  prevHash: string
  hash: string
}

export interface TranscriptSeal {
  algorithm: 'ECDSA-SHA256' | 'RSA-SHA256'
  /** SubjectPublicKeyInfo of the sealing key, base64 DER. */
  publicKey: string
  /** SHA-256 of that SubjectPublicKeyInfo, hex: printed on the report for the participants to sign. */
  publicKeyFingerprint: string
  keyLocation: string
  signedHash: string
  /** Signature over the UTF-8 bytes of `signedHash` (DER for ECDSA). */
  signature: string
  sealedAt: string
}

export interface Transcript {
  format: typeof TRANSCRIPT_FORMAT
  ceremony: { id: string; title: string; kind: 'key' | 'ca'; startedAt: string }
  participants: Participant[]
  entries: TranscriptEntry[]
  seal?: TranscriptSeal
}

/** The genesis value chained into the first entry: binds the entries to this ceremony's header and participants. */
export function genesisHash(transcript: Pick<Transcript, 'format' | 'ceremony' | 'participants'>): string {
  return sha256Hex(canonicalJson({ format: transcript.format, ceremony: transcript.ceremony, participants: transcript.participants }))
}

/** JSON with object keys sorted at every level, so a hash does not depend on key order. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value)
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  const record = value as Record<string, unknown>
  return `{${Object.keys(record)
    .filter((k) => record[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(record[k])}`)
    .join(',')}}`
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex')
}

export function artifactOf(name: string, bytes: Uint8Array): Artifact {
  return { name, sha256: sha256Hex(bytes), size: bytes.byteLength }
}

export function entryHash(entry: Omit<TranscriptEntry, 'hash'>): string {
  return sha256Hex(canonicalJson(entry))
}

/** Appends an entry, computing its chain hash. */
export function appendEntry(transcript: Transcript, entry: Omit<TranscriptEntry, 'seq' | 'prevHash' | 'hash'>): TranscriptEntry {
  if (transcript.seal !== undefined) {
    throw refusal('already-sealed', {}, 'The transcript is sealed; no further steps can be recorded')
  }
  const last = transcript.entries.at(-1)
  const body = { ...entry, seq: (last?.seq ?? 0) + 1, prevHash: last?.hash ?? genesisHash(transcript) }
  const full = { ...body, hash: entryHash(body) }
  transcript.entries.push(full)
  return full
}

/** A verification problem as a code with parameters (for a screen in the reader's language); `problems` says it in English. */
export interface TranscriptFinding {
  code:
    | 'unknown-format' | 'sequence-broken' | 'chain-broken' | 'entry-altered' | 'not-sealed' | 'seal-not-last' | 'seal-fingerprint-mismatch'
    | 'seal-signature-invalid' | 'seal-key-differs' | 'seal-unreadable' | 'confirmer-unknown'
  params: Record<string, string | number>
}

export interface TranscriptVerification {
  valid: boolean
  problems: string[]
  /** The same problems, in the same order, as codes. */
  findings: TranscriptFinding[]
  entries: number
  sealed: boolean
  sealFingerprint?: string
  artifacts: Array<Artifact & { step: string; seq: number }>
}

/**
 * Checks the chain entry by entry, the sequence numbers and the seal, and reports every problem it finds. A forger
 * could rebuild every hash and re-seal with a key of their own; `expectedSealFingerprint` (from the paper report the
 * participants signed) closes that gap.
 */
export function verifyTranscript(transcript: Transcript, options: { expectedSealFingerprint?: string } = {}): TranscriptVerification {
  const problems: string[] = []
  const findings: TranscriptFinding[] = []
  const problem = (code: TranscriptFinding['code'], params: TranscriptFinding['params'], text: string): void => {
    findings.push({ code, params })
    problems.push(text)
  }
  if (transcript.format !== TRANSCRIPT_FORMAT) problem('unknown-format', { format: String(transcript.format) }, `unknown transcript format '${String(transcript.format)}'`)
  let prev = genesisHash(transcript)
  transcript.entries.forEach((entry, index) => {
    const where = { seq: entry.seq, step: entry.step }
    if (entry.seq !== index + 1) {
      problem('sequence-broken', { position: index + 1, seq: entry.seq }, `entry at position ${index + 1} has sequence number ${entry.seq} (removed or reordered steps)`)
    }
    if (entry.prevHash !== prev) problem('chain-broken', where, `entry ${entry.seq} (${entry.step}) does not follow the entry before it`)
    const { hash, ...body } = entry
    if (entryHash(body) !== hash) problem('entry-altered', where, `entry ${entry.seq} (${entry.step}) was altered after it was recorded`)
    prev = hash
  })
  const seal = transcript.seal
  if (seal === undefined) {
    problem('not-sealed', {}, 'the transcript is not sealed')
  } else {
    if (seal.signedHash !== prev) problem('seal-not-last', {}, 'the seal does not cover the last entry (entries added or removed after sealing)')
    try {
      const key = createPublicKey({ key: Buffer.from(seal.publicKey, 'base64'), format: 'der', type: 'spki' })
      if (sha256Hex(Buffer.from(seal.publicKey, 'base64')) !== seal.publicKeyFingerprint) {
        problem('seal-fingerprint-mismatch', {}, 'the seal key fingerprint does not match the seal key')
      }
      const ok = verifySignature('sha256', Buffer.from(seal.signedHash, 'utf8'), key, Buffer.from(seal.signature, 'base64'))
      if (!ok) problem('seal-signature-invalid', {}, 'the seal signature is not valid')
      const expected = options.expectedSealFingerprint?.replace(/[\s:]/g, '').toLowerCase()
      if (expected !== undefined && expected !== seal.publicKeyFingerprint) {
        problem('seal-key-differs', {}, 'the transcript was sealed with a different key than the one on the signed report')
      }
    } catch (error) {
      problem('seal-unreadable', { error: (error as Error).message }, `the seal cannot be checked: ${(error as Error).message}`)
    }
  }
  const participants = new Set(transcript.participants.map((p) => p.id))
  for (const entry of transcript.entries) {
    for (const c of entry.confirmedBy) {
      if (!participants.has(c.participant)) {
        problem('confirmer-unknown', { seq: entry.seq, participant: c.participant }, `entry ${entry.seq} is confirmed by '${c.participant}', who is not a participant`)
      }
    }
  }
  return {
    valid: problems.length === 0,
    problems,
    findings,
    entries: transcript.entries.length,
    sealed: seal !== undefined,
    sealFingerprint: seal?.publicKeyFingerprint,
    artifacts: transcript.entries.flatMap((e) => e.artifacts.map((a) => ({ ...a, step: e.step, seq: e.seq }))),
  }
}

/** Reads a transcript from JSON text, refusing anything that is not shaped like one. */
export function parseTranscript(text: string): Transcript {
  // Entries › details › values nest about six levels; sixteen leave room, and canonicalJson recurses over no more.
  const value = parseJson(text, { maxDepth: 16 }, 'transcript_invalid', 'The transcript')
  const t = value as Partial<Transcript>
  if (typeof t !== 'object' || t === null || !Array.isArray(t.entries) || !Array.isArray(t.participants) || typeof t.ceremony !== 'object') {
    throw new SecurityServerError('transcript_invalid', 'The file is not a ceremony transcript', { clientFault: true })
  }
  return t as Transcript
}

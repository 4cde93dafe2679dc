import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { randomUUID } from 'node:crypto'
import { SecurityServerError, systemClock, writeFileAtomic, type Clock } from '../platform'
import { reasonDetails, refusal } from './refusals'
import { checkConfirmations, makeCredential, type DualControlRule, type ParticipantCredential, type PresentedConfirmation } from './participants'
import {
  TRANSCRIPT_FORMAT, appendEntry, parseTranscript, sha256Hex,
  type Artifact, type CeremonyRole, type Participant, type Transcript, type TranscriptEntry, type TranscriptSeal,
} from './transcript'

/** Signs the seal: a key on the ceremony token where possible, else a software key (recorded as such). */
export interface SealSigner {
  algorithm: TranscriptSeal['algorithm']
  publicKeySpki: Uint8Array
  keyLocation: string
  sign(data: Uint8Array): Promise<Uint8Array>
}

export interface StepInput {
  step: string
  title: string
  actor: string
  details?: Record<string, unknown>
  artifacts?: Artifact[]
  outcome?: TranscriptEntry['outcome']
  /** Presented confirmations, checked against `rule` (dual control) before the step is recorded. */
  confirmations?: PresentedConfirmation[]
  rule?: DualControlRule
}

/**
 * A ceremony in progress, kept in its own folder: `transcript.json` (rewritten atomically after every step, so a
 * crash never leaves half an entry) and `credentials.json` (participants' passphrase hashes, mode 0600).
 */
export class CeremonySession {
  private constructor(
    readonly dir: string,
    readonly transcript: Transcript,
    private readonly credentials: ParticipantCredential[],
    private readonly clock: Clock,
  ) {}

  static create(dir: string, options: { title: string; kind: 'key' | 'ca'; clock?: Clock }): CeremonySession {
    if (existsSync(join(dir, 'transcript.json'))) {
      throw new SecurityServerError('already_initialized', `A ceremony already exists in ${dir}`, { clientFault: true })
    }
    mkdirSync(dir, { recursive: true, mode: 0o700 })
    const clock = options.clock ?? systemClock
    const transcript: Transcript = {
      format: TRANSCRIPT_FORMAT,
      ceremony: { id: randomUUID(), title: options.title, kind: options.kind, startedAt: clock.now().toISOString() },
      participants: [],
      entries: [],
    }
    const session = new CeremonySession(dir, transcript, [], clock)
    session.save()
    return session
  }

  static open(dir: string, clock: Clock = systemClock): CeremonySession {
    const file = join(dir, 'transcript.json')
    if (!existsSync(file)) throw new SecurityServerError('not_found', `No ceremony in ${dir}`, { clientFault: true })
    const transcript = parseTranscript(readFileSync(file, 'utf8'))
    const credentialsFile = join(dir, 'credentials.json')
    const credentials = existsSync(credentialsFile) ? (JSON.parse(readFileSync(credentialsFile, 'utf8')) as ParticipantCredential[]) : []
    return new CeremonySession(dir, transcript, credentials, clock)
  }

  get transcriptPath(): string {
    return join(this.dir, 'transcript.json')
  }

  /** Participants are fixed before the first step: they are part of what the first entry's hash covers. */
  addParticipant(input: { name: string; role: CeremonyRole; passphrase: string }): Participant {
    if (this.transcript.entries.length > 0) {
      throw refusal('participants-fixed', {}, 'Participants must be registered before the first step')
    }
    const id = input.name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || `participant-${this.transcript.participants.length + 1}`
    if (this.transcript.participants.some((p) => p.id === id)) {
      throw refusal('participant-exists', { name: input.name }, `A participant named ${input.name} is already registered`, 'conflict')
    }
    const participant = { id, name: input.name, role: input.role }
    this.credentials.push(makeCredential(id, input.passphrase))
    this.transcript.participants.push(participant)
    this.save()
    return participant
  }

  /**
   * Records one step. With a dual-control rule, the confirmations are checked first; a refusal is itself recorded
   * (a documented deviation) and then thrown, so the step does not proceed.
   */
  record(input: StepInput): TranscriptEntry {
    const at = this.clock.now()
    let confirmedBy: TranscriptEntry['confirmedBy'] = []
    if (input.rule !== undefined) {
      try {
        confirmedBy = checkConfirmations(this.transcript.participants, this.credentials, input.confirmations ?? [], input.rule, at)
      } catch (error) {
        this.append({ ...input, outcome: 'refused', details: { ...input.details, ...reasonDetails(error) }, artifacts: [] }, at, [])
        throw error
      }
    }
    return this.append(input, at, confirmedBy)
  }

  /**
   * Dual control before the work, not after it: the confirmations are checked first (a refusal is recorded and
   * thrown, so nothing happens on the device), then `work` runs, then the step is recorded with the confirmations
   * and what the work reports. A failed work is recorded as refused, with the reason, and rethrown.
   */
  async controlled<T>(
    input: Omit<StepInput, 'confirmations' | 'rule' | 'outcome'> & { confirmations: PresentedConfirmation[]; rule: DualControlRule },
    work: () => Promise<{ result: T; details?: Record<string, unknown>; artifacts?: Artifact[]; outcome?: TranscriptEntry['outcome'] }>,
  ): Promise<{ result: T; entry: TranscriptEntry }> {
    const at = this.clock.now()
    let confirmedBy: TranscriptEntry['confirmedBy']
    try {
      confirmedBy = checkConfirmations(this.transcript.participants, this.credentials, input.confirmations, input.rule, at)
    } catch (error) {
      this.append({ ...input, outcome: 'refused', details: { ...input.details, ...reasonDetails(error) }, artifacts: [] }, at, [])
      throw error
    }
    let done: Awaited<ReturnType<typeof work>>
    try {
      done = await work()
    } catch (error) {
      this.append({ ...input, outcome: 'refused', details: { ...input.details, ...reasonDetails(error) }, artifacts: [] }, this.clock.now(), confirmedBy)
      throw error
    }
    const entry = this.append(
      { ...input, outcome: done.outcome ?? 'done', details: { ...input.details, ...done.details }, artifacts: [...(input.artifacts ?? []), ...(done.artifacts ?? [])] },
      this.clock.now(),
      confirmedBy,
    )
    return { result: done.result, entry }
  }

  /** A participant by id, or a refusal naming the unknown actor. */
  participant(id: string): Participant {
    const found = this.transcript.participants.find((p) => p.id === id)
    if (found === undefined) throw refusal('not-participant', { participant: id }, `'${id}' is not a participant of this ceremony`)
    return found
  }

  private append(input: StepInput, at: Date, confirmedBy: TranscriptEntry['confirmedBy']): TranscriptEntry {
    if (!this.transcript.participants.some((p) => p.id === input.actor)) {
      throw refusal('not-participant', { participant: input.actor }, `'${input.actor}' is not a participant of this ceremony`)
    }
    const entry = appendEntry(this.transcript, {
      at: at.toISOString(),
      step: input.step,
      title: input.title,
      outcome: input.outcome ?? 'done',
      actor: input.actor,
      confirmedBy,
      details: input.details ?? {},
      artifacts: input.artifacts ?? [],
    })
    this.save()
    return entry
  }

  /** Closes the transcript with a signature over its last hash. */
  async seal(signer: SealSigner): Promise<TranscriptSeal> {
    const last = this.transcript.entries.at(-1)
    if (last === undefined) throw refusal('nothing-to-seal', {}, 'Nothing to seal: no step was recorded')
    if (this.transcript.seal !== undefined) throw refusal('already-sealed', {}, 'The transcript is already sealed')
    const signature = await signer.sign(Buffer.from(last.hash, 'utf8'))
    const seal: TranscriptSeal = {
      algorithm: signer.algorithm,
      publicKey: Buffer.from(signer.publicKeySpki).toString('base64'),
      publicKeyFingerprint: sha256Hex(signer.publicKeySpki),
      keyLocation: signer.keyLocation,
      signedHash: last.hash,
      signature: Buffer.from(signature).toString('base64'),
      sealedAt: this.clock.now().toISOString(),
    }
    this.transcript.seal = seal
    this.save()
    return seal
  }

  private save(): void {
    writeFileAtomic(join(this.dir, 'credentials.json'), JSON.stringify(this.credentials, null, 2), 0o600)
    writeFileAtomic(this.transcriptPath, `${JSON.stringify(this.transcript, null, 2)}\n`, 0o644)
  }
}

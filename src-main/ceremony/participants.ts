import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto'
import { refusal } from './refusals'
import type { CeremonyRole, Confirmation, Participant } from './transcript'

/**
 * Participants and dual control. Each person has their own passphrase (kept as a scrypt hash in the ceremony's
 * working folder, never in the transcript); a step that creates or uses a key needs the confirmation of two
 * distinct people (NIST SP 800-57 Pt 1 Rev 5: dual control and split knowledge; CA/B Forum BR §6.1.1.1:
 * "multiple person control").
 */
export interface ParticipantCredential {
  participant: string
  salt: string
  hash: string
}

export const MIN_PASSPHRASE_LENGTH = 8
const SCRYPT = { N: 16384, r: 8, p: 1 } as const

export function makeCredential(participant: string, passphrase: string): ParticipantCredential {
  if (passphrase.length < MIN_PASSPHRASE_LENGTH) {
    throw refusal('passphrase-too-short', { min: MIN_PASSPHRASE_LENGTH }, `A passphrase needs at least ${MIN_PASSPHRASE_LENGTH} characters`, 'pin_policy_violation')
  }
  const salt = randomBytes(16)
  return { participant, salt: salt.toString('base64'), hash: scryptSync(passphrase, salt, 32, SCRYPT).toString('base64') }
}

function passphraseMatches(credential: ParticipantCredential, passphrase: string): boolean {
  const expected = Buffer.from(credential.hash, 'base64')
  const actual = scryptSync(passphrase, Buffer.from(credential.salt, 'base64'), expected.length, SCRYPT)
  return timingSafeEqual(expected, actual)
}

export interface PresentedConfirmation {
  participant: string
  passphrase: string
}

export interface DualControlRule {
  /** Distinct people needed (2 for dual control). */
  people: number
  /** Roles that may confirm; by default custodians and the administrator. */
  roles: CeremonyRole[]
}

export const KEY_DUAL_CONTROL: DualControlRule = { people: 2, roles: ['custodian', 'administrator'] }

/** Checks the presented confirmations against the rule; refuses with the reason a person can act on. */
export function checkConfirmations(
  participants: readonly Participant[],
  credentials: readonly ParticipantCredential[],
  presented: readonly PresentedConfirmation[],
  rule: DualControlRule,
  at: Date,
): Confirmation[] {
  const confirmed: Confirmation[] = []
  for (const p of presented) {
    const person = participants.find((x) => x.id === p.participant)
    if (person === undefined) throw refusal('not-participant', { participant: p.participant }, `'${p.participant}' is not a participant of this ceremony`)
    if (!rule.roles.includes(person.role)) {
      throw refusal('role-may-not-confirm', { person: person.name, role: person.role, roles: rule.roles.join(',') },
        `${person.name} (${person.role}) may not confirm this step; it needs ${rule.roles.join(' or ')}`)
    }
    const credential = credentials.find((c) => c.participant === person.id)
    if (credential === undefined || !passphraseMatches(credential, p.passphrase)) {
      throw refusal('passphrase-incorrect', { person: person.name }, `The passphrase of ${person.name} is not correct`)
    }
    if (confirmed.some((c) => c.participant === person.id)) {
      throw refusal('confirmed-twice', { person: person.name }, `${person.name} confirmed twice; a second, different person must confirm`)
    }
    confirmed.push({ participant: person.id, role: person.role, at: at.toISOString() })
  }
  if (confirmed.length < rule.people) {
    throw refusal('confirmations-missing', { people: rule.people, confirmed: confirmed.length, roles: rule.roles.join(',') },
      `This step needs the confirmation of ${rule.people} different people (${rule.roles.join(' or ')}); ${confirmed.length} confirmed`)
  }
  return confirmed
}

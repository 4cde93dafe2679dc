import { describe, expect, it } from 'vitest'
import { readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  CeremonySession, KEY_DUAL_CONTROL, artifactOf, parseTranscript, renderTranscriptReport, softwareSealSigner, verifyTranscript,
  checkOffline, type Transcript,
} from '../../src-main/ceremony'
import { ManualClock, SecurityServerError } from '../../src-main/platform'
import { runGatehouse } from '../support/cli'
import { runGatehouseInProcess } from '../support/cli-in-process'
import { useTempDirs } from '../support/temp-dir'

const tempDir = useTempDirs()

async function sealedCeremony(dir: string) {
  const clock = new ManualClock('2026-11-22T09:00:00Z')
  const session = CeremonySession.create(dir, { title: 'Signing key for LAB/GOV/1234', kind: 'key', clock })
  session.addParticipant({ name: 'Ada Admin', role: 'administrator', passphrase: 'admin passphrase' })
  session.addParticipant({ name: 'Carl Custodian', role: 'custodian', passphrase: 'carl passphrase' })
  session.addParticipant({ name: 'Cleo Custodian', role: 'custodian', passphrase: 'cleo passphrase' })
  session.addParticipant({ name: 'Wes Witness', role: 'witness', passphrase: 'wes passphrase' })
  session.record({ step: 'check-offline', title: 'Check the machine is offline', actor: 'ada-admin', details: { offline: true } })
  clock.advance(60_000)
  session.record({
    step: 'generate-key', title: 'Generate the signing key on the token', actor: 'ada-admin',
    details: { label: 'sign-1', extractable: false }, rule: KEY_DUAL_CONTROL,
    confirmations: [{ participant: 'carl-custodian', passphrase: 'carl passphrase' }, { participant: 'cleo-custodian', passphrase: 'cleo passphrase' }],
  })
  clock.advance(60_000)
  session.record({ step: 'export-csr', title: 'Export the CSR', actor: 'ada-admin', artifacts: [artifactOf('sign-1.csr', Buffer.from('csr bytes'))] })
  await session.seal(softwareSealSigner())
  return session
}

function tampered(transcript: Transcript, change: (t: Transcript) => void): Transcript {
  const copy = JSON.parse(JSON.stringify(transcript)) as Transcript
  change(copy)
  return copy
}

describe('ceremony transcript', () => {
  it('verifies a sealed ceremony and lists its artifacts', async () => {
    const session = await sealedCeremony(tempDir())
    const result = verifyTranscript(parseTranscript(readFileSync(session.transcriptPath, 'utf8')))
    expect(result).toMatchObject({ valid: true, problems: [], entries: 3, sealed: true })
    expect(result.artifacts).toEqual([{ name: 'sign-1.csr', sha256: expect.stringMatching(/^[0-9a-f]{64}$/), size: 9, step: 'export-csr', seq: 3 }])
    expect(session.transcript.entries[1]?.confirmedBy.map((c) => c.participant)).toEqual(['carl-custodian', 'cleo-custodian'])
  })

  it('detects an edited step', async () => {
    const { transcript } = await sealedCeremony(tempDir())
    const result = verifyTranscript(tampered(transcript, (t) => ((t.entries[1] as { details: object }).details = { label: 'other', extractable: true })))
    expect(result.valid).toBe(false)
    expect(result.problems).toContain('entry 2 (generate-key) was altered after it was recorded')
    // The same problems as codes, one for one, for a screen in another language.
    expect(result.findings).toHaveLength(result.problems.length)
    expect(result.findings).toContainEqual({ code: 'entry-altered', params: { seq: 2, step: 'generate-key' } })
  })

  it('detects a removed step', async () => {
    const { transcript } = await sealedCeremony(tempDir())
    expect(verifyTranscript(tampered(transcript, (t) => t.entries.splice(1, 1))).problems).toEqual(
      expect.arrayContaining([expect.stringContaining('removed or reordered'), 'entry 3 (export-csr) does not follow the entry before it']),
    )
  })

  it('detects reordered steps', async () => {
    const { transcript } = await sealedCeremony(tempDir())
    const result = verifyTranscript(tampered(transcript, (t) => t.entries.reverse()))
    expect(result.valid).toBe(false)
    expect(result.problems.some((p) => p.includes('does not follow'))).toBe(true)
  })

  it('detects a changed participant list and a forged seal', async () => {
    const { transcript } = await sealedCeremony(tempDir())
    expect(verifyTranscript(tampered(transcript, (t) => (t.participants[3]!.role = 'custodian'))).problems).toContain(
      'entry 1 (check-offline) does not follow the entry before it',
    )
    const forged = tampered(transcript, (t) => {
      t.seal!.signature = Buffer.from(softwareSealSigner().privateKeyPem).toString('base64')
    })
    expect(verifyTranscript(forged).problems).toEqual(expect.arrayContaining([expect.stringMatching(/seal (signature is not valid|cannot be checked)/)]))
  })

  it('refuses a key step without a second person, and records the refusal', async () => {
    const session = CeremonySession.create(tempDir(), { title: 't', kind: 'key' })
    session.addParticipant({ name: 'Ada', role: 'administrator', passphrase: 'admin passphrase' })
    session.addParticipant({ name: 'Carl', role: 'custodian', passphrase: 'carl passphrase' })
    session.addParticipant({ name: 'Wes', role: 'witness', passphrase: 'wes passphrase' })
    const attempt = (confirmations: Array<{ participant: string; passphrase: string }>) => () =>
      session.record({ step: 'generate-key', title: 'Generate', actor: 'ada', rule: KEY_DUAL_CONTROL, confirmations })
    expect(attempt([{ participant: 'carl', passphrase: 'carl passphrase' }])).toThrow(/needs the confirmation of 2 different people/)
    expect(attempt([{ participant: 'carl', passphrase: 'carl passphrase' }, { participant: 'carl', passphrase: 'carl passphrase' }])).toThrow(/confirmed twice/)
    expect(attempt([{ participant: 'carl', passphrase: 'carl passphrase' }, { participant: 'wes', passphrase: 'wes passphrase' }])).toThrow(/may not confirm/)
    expect(attempt([{ participant: 'carl', passphrase: 'carl passphrase' }, { participant: 'ada', passphrase: 'wrong one!' }])).toThrow(SecurityServerError)
    expect(session.transcript.entries.map((e) => e.outcome)).toEqual(['refused', 'refused', 'refused', 'refused'])
    expect(session.transcript.entries[0]?.details.reason).toMatch(/2 different people/)
    expect(session.transcript.entries.map((e) => e.details.reasonCode)).toEqual(['confirmations-missing', 'confirmed-twice', 'role-may-not-confirm', 'passphrase-incorrect'])
    expect(session.transcript.entries[3]?.details.reasonParams).toEqual({ person: 'Ada' })
    expect(JSON.stringify(session.transcript)).not.toContain('carl passphrase')
    expect(statSync(join(session.dir, 'credentials.json')).mode & 0o777).toBe(0o600)
  })

  it('refuses new participants once steps exist and steps after sealing', async () => {
    const session = await sealedCeremony(tempDir())
    expect(() => session.addParticipant({ name: 'Late', role: 'witness', passphrase: 'late passphrase' })).toThrow(/before the first step/)
    expect(() => session.record({ step: 'x', title: 'x', actor: 'ada-admin' })).toThrow(/sealed/)
  })

  it('survives reopening from its folder', async () => {
    const dir = tempDir()
    await sealedCeremony(dir)
    expect(verifyTranscript(CeremonySession.open(dir).transcript).valid).toBe(true)
  })

  it('renders a printable report with the seal fingerprint and a signature line per participant', async () => {
    const { transcript } = await sealedCeremony(tempDir())
    const html = renderTranscriptReport(transcript, verifyTranscript(transcript))
    expect(html).toContain('Verified: the chain of entries is intact')
    expect(html.match(/signature and date/g)).toHaveLength(4)
    expect(html).toContain(transcript.seal!.publicKeyFingerprint.slice(0, 4))
  })

  it('reports interfaces that are up', () => {
    const check = checkOffline({ lo: [{ address: '127.0.0.1', internal: true } as never], eth0: [{ address: '10.0.0.5', internal: false } as never] })
    expect(check).toEqual({ offline: false, interfacesUp: ['eth0 10.0.0.5'] })
    expect(checkOffline({ lo: [{ address: '127.0.0.1', internal: true } as never] }).offline).toBe(true)
  })
})

// The first verify runs as a real `gatehouse` process; the others in this process through the CLI's own runCli.
describe('gatehouse ceremony verify', () => {
  it('checks the seal key against the fingerprint on the signed paper report', async () => {
    const session = await sealedCeremony(tempDir())
    const fingerprint = session.transcript.seal!.publicKeyFingerprint
    expect(runGatehouse(['ceremony', 'verify', session.transcriptPath, '--seal-fingerprint', fingerprint.replace(/(.{4})/g, '$1 ')]).status).toBe(0)
    const other = await runGatehouseInProcess(['ceremony', 'verify', session.transcriptPath, '--seal-fingerprint', 'ab'.repeat(32), '--json'])
    expect(other.status).toBe(1)
    expect(JSON.parse(other.stdout).problems).toContain('the transcript was sealed with a different key than the one on the signed report')
  })

  it('prints {"valid":true} and exits 0, and exits 1 for a tampered transcript', async () => {
    const dir = tempDir()
    const session = await sealedCeremony(dir)
    const ok = await runGatehouseInProcess(['ceremony', 'verify', session.transcriptPath, '--json'])
    expect(ok.status).toBe(0)
    expect(JSON.parse(ok.stdout)).toMatchObject({ valid: true, entries: 3 })
    const bad = join(dir, 'bad.json')
    writeFileSync(bad, JSON.stringify(tampered(session.transcript, (t) => (t.entries[0]!.at = '2020-01-01T00:00:00Z'))))
    const result = await runGatehouseInProcess(['ceremony', 'verify', bad, '--json'])
    expect(result.status).toBe(1)
    expect(JSON.parse(result.stdout).valid).toBe(false)
  })
})

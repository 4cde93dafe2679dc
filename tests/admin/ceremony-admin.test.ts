import 'reflect-metadata'
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { memberId } from '@shared/domain/identifiers'
import type { AdminRole } from '@shared/admin-api/admin-roles'
import type { IpcResult } from '@shared/admin-api/ipc-result'
import type {
  AuditLogEntry, CeremonyCsrDownload, CeremonyParticipantInfo, CeremonySummary, CeremonyTokenInfo, CeremonyTranscriptView,
} from '@shared/admin-api/admin-api'
import { createSecurityServer, parseServerConfig, type SecurityServer } from '../../src-main/server'
import { createLogger } from '../../src-main/platform'
import { initLab, openLab } from '../../src-main/lab'
import { parseTranscript, verifyTranscript } from '../../src-main/ceremony'
import { createSoftHsmToken, type SoftHsmToken } from '../support/softhsm'
import { SOFTHSM, describeWith } from '../support/requirements'

/**
 * The ceremony admin group against a real SoftHSM2 token, through `admin.call` (the checked entry both transports
 * use): roles, a whole key ceremony (offline check, token, login, key, CSR with QR code, lab-issued certificate,
 * seal on the token), dual-control refusals recorded in the transcript, and the PIN kept out of every file, log
 * line and audit entry.
 */
const PIN = '739182-ceremony'
const custodian = { actor: 'kim', roles: ['key-custodian'] as AdminRole[] }
const officer = { actor: 'sam', roles: ['security-officer'] as AdminRole[] }
const CARL = { participant: 'carl-custodian', passphrase: 'carl passphrase' }
const CLEO = { participant: 'cleo-custodian', passphrase: 'cleo passphrase' }
const WES = { participant: 'wes-witness', passphrase: 'wes passphrase' }

describeWith([SOFTHSM], 'ceremony admin on a SoftHSM2 token', () => {
  let dir: string
  let server: SecurityServer
  let token: SoftHsmToken
  let id: string
  const logLines: string[] = []

  async function call<T>(caller: { actor: string; roles: AdminRole[] }, method: string, input?: unknown): Promise<T> {
    const result = (await server.admin.call(caller, 'ceremony', method, input === undefined ? [] : [input])) as IpcResult<T>
    if (!result.ok) throw Object.assign(new Error(`ceremony.${method}: ${result.error.code} ${result.error.message}`), { code: result.error.code })
    return result.value
  }

  /** A refused call: its code, English message and `detail` (the refusal's reason code, for the GUI to word). */
  async function failure(
    caller: { actor: string; roles: AdminRole[] }, method: string, input?: unknown,
  ): Promise<{ code: string; message: string; detail?: string; params?: Record<string, string | number> }> {
    const result = await server.admin.call(caller, 'ceremony', method, input === undefined ? [] : [input])
    expect(result.ok, `ceremony.${method} should fail`).toBe(false)
    return result.ok ? { code: '', message: '' } : { code: result.error.code, message: result.error.message, detail: result.error.detail, params: result.error.params }
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-ceremony-admin-'))
    token = createSoftHsmToken({ label: 'ceremony-token', pin: PIN })
    const config = parseServerConfig({ internal: { adminPort: null, clientProxyHttpPort: null, clientProxyHttpsPort: null }, external: { serverProxyPort: null, ocspResponderPort: null }, shutdownGraceMs: 100 }, 'test')
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        logLines.push(chunk.toString('utf8'))
        done()
      },
    })
    server = createSecurityServer({ dataDir: join(dir, 'data'), config, logger: createLogger({ level: 'debug', destination: sink }) })
    await server.start()
  }, 30_000)

  afterAll(async () => {
    await server?.stop()
    token?.cleanup()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('belongs to key custodians and security officers only', async () => {
    expect((await failure({ actor: 'o', roles: ['observer'] }, 'list')).code).toMatch(/forbidden$/)
    expect((await failure({ actor: 'r', roles: ['registration-officer'] }, 'create', { title: 'x', kind: 'key' })).code).toMatch(/forbidden$/)
    expect(await call<CeremonySummary[]>(officer, 'list')).toEqual([])
    expect(await call<CeremonyTranscriptView | null>(officer, 'transcript')).toBeNull()
    expect((await failure(custodian, 'create', { title: 'Offline CA', kind: 'ca' })).code).toMatch(/validation_failed$/)
    expect((await failure(custodian, 'create', { title: '   ', kind: 'key' })).code).toMatch(/validation_failed$/)
    expect((await failure(custodian, 'transcript', { id: '00000000-0000-4000-8000-000000000000' })).code).toMatch(/not_found$/)
    expect((await failure(custodian, 'transcript', { id: '../../etc' })).code).toMatch(/validation_failed$/)
  })

  it('starts a ceremony in its own folder and registers the participants before the first step', async () => {
    const created = await call<CeremonySummary>(custodian, 'create', { title: 'Signing key for LAB/GOV/1234', kind: 'key' })
    id = created.id
    expect(existsSync(join(dir, 'data', 'ceremonies', id, 'transcript.json'))).toBe(true)
    expect(readdirSync(join(dir, 'data', 'ceremonies'))).toEqual([id])
    // No administrator yet: the steps have nobody to lead them.
    expect(await failure(custodian, 'checkOffline', { id })).toMatchObject({ message: expect.stringMatching(/ceremony administrator/), detail: 'administrator-missing' })
    const people: Array<[string, string, string]> = [
      ['Ada Admin', 'administrator', 'admin passphrase'], ['Carl Custodian', 'custodian', 'carl passphrase'],
      ['Cleo Custodian', 'custodian', 'cleo passphrase'], ['Wes Witness', 'witness', 'wes passphrase'],
    ]
    for (const [name, role, passphrase] of people) {
      await call<CeremonyParticipantInfo>(custodian, 'addParticipant', { id, name, role, passphrase })
    }
    expect(await failure(custodian, 'addParticipant', { id, name: 'Short Pass', role: 'witness', passphrase: 'short' }))
      .toMatchObject({ code: expect.stringMatching(/pin_policy_violation$/), detail: 'passphrase-too-short' })
    expect(await failure(custodian, 'addParticipant', { id, name: 'Carl Custodian', role: 'custodian', passphrase: 'another passphrase' }))
      .toMatchObject({ code: expect.stringMatching(/conflict$/), detail: 'participant-exists' })
    const [listed] = await call<CeremonySummary[]>(officer, 'list')
    expect(listed?.participants.map((p) => p.id)).toEqual(['ada-admin', 'carl-custodian', 'cleo-custodian', 'wes-witness'])
    expect((await call<CeremonyTranscriptView>(officer, 'transcript', {}))?.ceremony.id).toBe(id)
    expect(readFileSync(join(dir, 'data', 'ceremonies', id, 'transcript.json'), 'utf8')).not.toContain('passphrase')
  })

  it('checks the machine, identifies the token from a system folder only, and logs in without keeping the PIN', async () => {
    const offline = await call<{ offline: boolean; interfacesUp: string[] }>(custodian, 'checkOffline', { id })
    expect(offline.offline).toBe(offline.interfacesUp.length === 0)
    const fake = join(dir, 'libfake.so')
    writeFileSync(fake, 'not a library')
    expect(await failure(custodian, 'identifyToken', { id, modulePath: fake, tokenLabel: 'ceremony-token' }))
      .toMatchObject({ message: expect.stringMatching(/system library folders/), detail: 'module-outside-system' })
    expect(await failure(custodian, 'identifyToken', { id, modulePath: 'libsofthsm2.so', tokenLabel: 'ceremony-token' }))
      .toMatchObject({ message: expect.stringMatching(/full path/), detail: 'module-path-relative' })
    const details = await call<CeremonyTokenInfo>(custodian, 'identifyToken', { id, modulePath: token.module, tokenLabel: 'ceremony-token' })
    expect(details).toMatchObject({ label: 'ceremony-token', manufacturer: expect.stringMatching(/SoftHSM/) })
    expect(details.mechanisms).toEqual(expect.arrayContaining(['CKM_EC_KEY_PAIR_GEN', 'CKM_ECDSA']))

    expect((await failure(custodian, 'login', { id, pin: '000000' })).code).toMatch(/pin_incorrect$/)
    const summary = await call<CeremonySummary>(custodian, 'login', { id, pin: PIN })
    expect(summary.progress).toMatchObject({ offlineChecked: true, loggedIn: true, token: { label: 'ceremony-token' }, key: null })
  })

  it('refuses key generation without two distinct custodians, records each refusal, and creates no key', async () => {
    const refusedOne = await failure(custodian, 'generateKey', { id, label: 'sign-1', algorithm: 'ec-p256', confirmations: [CARL] })
    expect(refusedOne.code).toMatch(/ceremony_step_refused$/)
    expect(refusedOne.message).toMatch(/2 different people/)
    expect(refusedOne.detail).toBe('confirmations-missing')
    expect(await failure(custodian, 'generateKey', { id, label: 'sign-1', algorithm: 'ec-p256', confirmations: [CARL, WES] }))
      .toMatchObject({ message: expect.stringMatching(/may not confirm/), detail: 'role-may-not-confirm' })
    expect(await failure(custodian, 'generateKey', { id, label: 'sign-1', algorithm: 'ec-p256', confirmations: [CARL, { ...CLEO, passphrase: 'wrong passphrase' }] }))
      .toMatchObject({ message: expect.stringMatching(/passphrase of Cleo Custodian is not correct/), detail: 'passphrase-incorrect', params: { person: 'Cleo Custodian' } })
    expect(await failure(custodian, 'generateKey', { id, label: 'sign-1', algorithm: 'ec-p256', confirmations: [CARL, CARL] }))
      .toMatchObject({ message: expect.stringMatching(/confirmed twice/), detail: 'confirmed-twice' })
    expect((await failure(custodian, 'generateKey', { id, label: '../escape', algorithm: 'ec-p256', confirmations: [CARL, CLEO] })).code).toMatch(/validation_failed$/)

    const view = await call<CeremonyTranscriptView>(custodian, 'transcript', { id })
    expect(view.ceremony.progress.key).toBeNull()
    expect(view.entries.filter((e) => e.step === 'generate-key').map((e) => e.outcome)).toEqual(['refused', 'refused', 'refused', 'refused'])
    expect(view.entries.find((e) => e.step === 'generate-key')?.details.reason).toMatch(/2 different people/)
    // Each refusal is recorded with its reason as a code and parameters beside the English text.
    expect(view.entries.filter((e) => e.step === 'generate-key').map((e) => e.reason)).toEqual([
      { text: expect.stringMatching(/2 different people/), code: 'confirmations-missing', params: { people: 2, confirmed: 1, roles: 'custodian,administrator' } },
      { text: expect.stringMatching(/may not confirm/), code: 'role-may-not-confirm', params: { person: 'Wes Witness', role: 'witness', roles: 'custodian,administrator' } },
      { text: expect.stringMatching(/not correct/), code: 'passphrase-incorrect', params: { person: 'Cleo Custodian' } },
      { text: expect.stringMatching(/confirmed twice/), code: 'confirmed-twice', params: { person: 'Carl Custodian' } },
    ])
    expect(view.entries.find((e) => e.step === 'login' && e.outcome === 'refused')?.reason).toMatchObject({ code: 'pin_incorrect', params: {} })
    expect(view.entries.find((e) => e.step === 'login' && e.outcome === 'done')?.reason).toBeNull()
    expect(view.ceremony.refusals).toBeGreaterThanOrEqual(5)
    // Not sealed yet, so the verdict is "not verified" with that reason, but the chain itself is intact.
    expect(view.verification).toMatchObject({ valid: false, problems: ['the transcript is not sealed'], findings: [{ code: 'not-sealed', params: {} }], sealed: false })
  })

  it('generates the key, exports the CSR with its QR code, imports the lab-issued certificate and seals on the token', async () => {
    const key = await call<{ keyId: string; publicKeySha256: string; attributes: Record<string, boolean> }>(custodian, 'generateKey', {
      id, label: 'sign-1', algorithm: 'ec-p256', confirmations: [CARL, CLEO],
    })
    expect(key.attributes).toMatchObject({ CKA_EXTRACTABLE: false, CKA_NEVER_EXTRACTABLE: true, CKA_SENSITIVE: true, CKA_TOKEN: true })
    expect(key.publicKeySha256).toMatch(/^[0-9a-f]{64}$/)

    expect(await failure(officer, 'createCsr', { id, member: 'LAB/GOV', format: 'pem', confirmations: [CARL, CLEO] }))
      .toMatchObject({ code: expect.stringMatching(/validation_failed$/), detail: 'member-format' })
    const csr = await call<CeremonyCsrDownload>(officer, 'createCsr', { id, member: 'LAB:GOV:1234', format: 'pem', confirmations: [CLEO, CARL] })
    expect(csr).toMatchObject({ fileName: 'sign-1.csr.pem', encoding: 'utf8', mimeType: 'application/pkcs10' })
    expect(csr.content).toContain('-----BEGIN CERTIFICATE REQUEST-----')
    expect(Buffer.from(csr.qrPng?.content ?? '', 'base64').subarray(1, 4).toString()).toBe('PNG')

    const labDir = join(dir, 'lab')
    await initLab(labDir, { instance: 'LAB' })
    const lab = openLab(labDir)
    lab.addMember(memberId('LAB', 'GOV', '1234'), 'Government 1234')
    const issued = await lab.issueCertificate(Buffer.from(csr.content), 'sign')
    lab.close()
    const caPem = readFileSync(join(labDir, 'ca.pem'), 'utf8')
    await initLab(join(dir, 'other-lab'), { instance: 'LAB' })
    const otherCa = readFileSync(join(dir, 'other-lab', 'ca.pem'), 'utf8')

    expect(await failure(custodian, 'importCertificate', { id, certificatePem: issued.pem, caCertificatePem: otherCa }))
      .toMatchObject({ message: expect.stringMatching(/No given CA certificate issued/), detail: 'certificate-issuer-missing' })
    expect(await failure(custodian, 'importCertificate', { id, certificatePem: 'garbage', caCertificatePem: caPem }))
      .toMatchObject({ code: expect.stringMatching(/validation_failed$/), detail: 'pem-missing' })
    const imported = await call<{ subject: string; chain: unknown[] }>(custodian, 'importCertificate', { id, certificatePem: issued.pem, caCertificatePem: caPem })
    expect(imported.subject).toContain('1234')
    expect(imported.chain).toHaveLength(1)

    expect((await failure(custodian, 'seal', { id, confirmations: [CARL] })).code).toMatch(/ceremony_step_refused$/)
    const sealed = await call<CeremonyTranscriptView>(custodian, 'seal', { id, confirmations: [CARL, CLEO] })
    expect(sealed.verification).toEqual({ valid: true, problems: [], findings: [], sealed: true, sealFingerprint: sealed.seal?.publicKeyFingerprint })
    expect(sealed.entries.find((e) => e.step === 'import-certificate' && e.outcome === 'refused')?.reason)
      .toMatchObject({ code: 'certificate-issuer-missing', params: { subject: expect.stringContaining('1234') } })
    expect(sealed.seal?.keyLocation).toMatch(/^PKCS#11 token ceremony-token/)
    expect(sealed.seal?.keyOn).toEqual({ kind: 'token', token: 'ceremony-token', serialNumber: expect.any(String), keyId: expect.any(String) })
    expect(sealed.seal?.keyLocation).toContain(sealed.seal?.keyOn?.kind === 'token' ? sealed.seal.keyOn.keyId : 'no key id')
    expect(sealed.ceremony.progress).toMatchObject({ sealed: true, loggedIn: false, csr: { fileName: 'sign-1.csr.pem', hasQr: true }, certificate: { serialNumber: expect.any(String) } })
    const steps = sealed.entries.map((e) => `${e.step}:${e.outcome}`)
    expect(steps).toEqual(expect.arrayContaining(['identify-token:done', 'login:refused', 'login:done', 'generate-key:done', 'create-csr:done', 'import-certificate:refused', 'import-certificate:done', 'prepare-seal:refused', 'prepare-seal:done']))
    expect(sealed.entries.find((e) => e.step === 'generate-key' && e.outcome === 'done')?.confirmedBy.map((c) => c.participant)).toEqual(['carl-custodian', 'cleo-custodian'])

    // The transcript file the GUI downloads verifies on its own, as an auditor would on another machine.
    expect(verifyTranscript(parseTranscript(sealed.file.content))).toMatchObject({ valid: true, sealed: true })
    expect(await failure(custodian, 'checkOffline', { id })).toMatchObject({ message: expect.stringMatching(/sealed/), detail: 'already-sealed' })
  })

  it('produces the printable report, and keeps the PIN and passphrases out of files, logs and the audit trail', async () => {
    const report = await call<{ fileName: string; content: string }>(officer, 'report', { id })
    expect(report.fileName).toMatch(/^ceremony-report-signing-key-for-lab-gov-1234-[0-9a-f]{8}\.html$/)
    expect(report.content).toContain('Verified: the chain of entries is intact')
    expect(report.content).toContain('Cleo Custodian, custodian — signature and date')

    const folder = join(dir, 'data', 'ceremonies', id)
    const texts = [
      ...readdirSync(folder).filter((f) => f.endsWith('.json')).map((f) => readFileSync(join(folder, f), 'utf8')),
      report.content, logLines.join('\n'),
    ]
    const audit = (await server.admin.call({ actor: 'root', roles: ['security-officer'] }, 'audit', 'search', [{ event: 'ceremony.' }])) as IpcResult<AuditLogEntry[]>
    expect(audit.ok).toBe(true)
    const entries = audit.ok ? audit.value : []
    expect(entries.filter((e) => e.event === 'ceremony.login').map((e) => e.outcome).sort()).toEqual(['failure', 'success'])
    expect(entries.some((e) => e.event === 'ceremony.report' && e.actor === 'sam' && e.outcome === 'success')).toBe(true)
    texts.push(JSON.stringify(entries))
    for (const text of texts) {
      expect(text).not.toContain(PIN)
      expect(text).not.toContain('carl passphrase')
    }
  })
})

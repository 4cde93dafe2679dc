import { createHash, createPublicKey, verify, X509Certificate } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execFileSync } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { memberId, securityServerId } from '@shared/domain/identifiers'
import { ManualClock, closeDatabase, openDatabase, schemaVersions, type WritableDb } from '../../src-main/platform'
import { createSigner, signerMigrations, type Signer } from '../../src-main/signer'
import { createTestCa } from './test-ca'

describe('signer migrations', () => {
  it('create the key configuration tables on a fresh database, with cascading key deletion', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-signer-db-'))
    const db = openDatabase(join(dir, 'serverconf.sqlite'))
    const signer = createSigner({ db, dataDir: dir })
    expect(schemaVersions(db)).toContainEqual({ component: 'signer', version: signerMigrations.migrations.length })
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'signer_%' ORDER BY name").all() as Array<{ name: string }>).map((r) => r.name)
    expect(tables).toEqual([
      'signer_certificate_chains', 'signer_certificates', 'signer_csrs', 'signer_keys', 'signer_ocsp_failures', 'signer_ocsp_responses', 'signer_tokens',
    ])
    expect(() => db.prepare("INSERT INTO signer_tokens (id, kind, created_at) VALUES ('x', 'pkcs11', 'now')").run()).toThrow(/CHECK/)
    void signer.close()
    closeDatabase(db)
    rmSync(dir, { recursive: true, force: true })
  })
})

describe('signer facade on the software token', () => {
  let dir: string
  let db: WritableDb
  let signer: Signer
  const clock = new ManualClock()
  const member = memberId('EE', 'GOV', '1234')

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-signer-'))
    db = openDatabase(join(dir, 'serverconf.sqlite'))
    signer = createSigner({ db, dataDir: dir, clock })
    await signer.initSoftwareToken('Token-Pin-1')
  })
  afterAll(async () => {
    await signer.close()
    closeDatabase(db)
    rmSync(dir, { recursive: true, force: true })
  })

  async function issue(keyId: string, subjectOf: Parameters<Signer['generateCsr']>[0]['subjectOf']): Promise<Buffer> {
    const csr = await signer.generateCsr({ keyId, subjectOf, certificateProfile: 'EjbcaCertificateProfileInfoProvider', format: 'pem' })
    const csrFile = join(dir, `${keyId}.csr`)
    writeFileSync(csrFile, csr.encoded)
    execFileSync('openssl', ['req', '-verify', '-noout', '-in', csrFile], { stdio: 'pipe' })
    const ca = createTestCa(dir)
    const certFile = join(dir, `${keyId}.pem`)
    ca.issue(csrFile, certFile)
    clock.set(Date.now() + 2000)
    await signer.importCertificate(execFileSync('openssl', ['x509', '-in', certFile, '-outform', 'DER']), {
      memberId: member, approvedCaCertificates: [Buffer.from(ca.certPem)],
    })
    return execFileSync('openssl', ['x509', '-in', certFile, '-outform', 'DER'])
  }

  it('refuses signing before a certificate is active, then gives a signing context that signs verifiably', async () => {
    await signer.login('0', 'Token-Pin-1')
    const key = await signer.generateKey({ tokenId: '0', usage: 'sign', algorithm: 'ec-p256', label: 'sign' })
    await expect(signer.getSigningContext(member)).rejects.toMatchObject({ code: 'cannot_sign' })
    const certDer = await issue(key.id, member)
    const [cert] = signer.listCertificates()
    expect(cert).toMatchObject({ keyId: key.id, state: 'saved', memberId: member })
    signer.activateCertificate(cert!.id)
    const context = await signer.getSigningContext(member)
    expect(context.certChain[0]!.equals(certDer)).toBe(true)
    // X-Road signs messages with SHA512withECDSA for an EC key (message-sign-digest-name SHA-512).
    expect(context.algorithm).toBe('ecdsa-sha512')
    const message = Buffer.from('<SignedInfo/>')
    const signature = await context.sign(createHash('sha512').update(message).digest())
    const publicKey = new X509Certificate(certDer).publicKey
    expect(verify('sha512', message, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature)).toBe(true)
    signer.disableCertificate(cert!.id)
    await expect(signer.getSigningContext(member)).rejects.toMatchObject({ code: 'cannot_sign' })
  })

  it('refuses a certificate without a matching key and a member subject for an auth CSR; imports an auth certificate', async () => {
    const other = execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'o.key'), '-subj', '/CN=x', '-days', '1'])
    await expect(signer.importCertificate(other)).rejects.toMatchObject({ code: 'key_not_found' })
    const auth = await signer.generateKey({ tokenId: '0', usage: 'auth', algorithm: 'rsa-2048', label: 'auth' })
    await expect(signer.generateCsr({ keyId: auth.id, subjectOf: member, certificateProfile: 'EjbcaCertificateProfileInfoProvider' }))
      .rejects.toMatchObject({ code: 'validation_failed' })
    await issue(auth.id, securityServerId(member, 'ss1'))
  })

  it('gives the auth key and certificate for TLS once active', async () => {
    const authCert = signer.listCertificates().find((c) => signer.listKeys().find((k) => k.id === c.keyId)?.usage === 'auth')
    await expect(signer.getAuthKey()).rejects.toMatchObject({ code: 'key_not_found' })
    signer.activateCertificate(authCert!.id)
    const auth = await signer.getAuthKey()
    expect(createPublicKey(auth.privateKey).export({ type: 'spki', format: 'der' }).equals(new X509Certificate(auth.certDer).publicKey.export({ type: 'spki', format: 'der' }))).toBe(true)
  })

  it('refuses deleting a key or a certificate while a certificate is active or registered, and deletes a disabled certificate', async () => {
    const active = signer.listCertificates().find((c) => c.state === 'active')!
    await expect(signer.deleteKey(active.keyId)).rejects.toMatchObject({ code: 'conflict', detail: 'activeCertificate' })
    expect(() => signer.deleteCertificate(active.id)).toThrow(/disable it first/)
    signer.setCertificateState(active.id, 'registered')
    await expect(signer.deleteKey(active.keyId)).rejects.toMatchObject({ code: 'conflict', detail: 'activeCertificate' })
    signer.setCertificateState(active.id, 'active')
    expect(signer.listKeys().map((k) => k.id)).toContain(active.keyId)
    const disabled = signer.listCertificates().find((c) => c.state === 'disabled')!
    signer.deleteCertificate(disabled.id)
    expect(signer.listCertificates().map((c) => c.id)).not.toContain(disabled.id)
    expect(signer.listKeys().map((k) => k.id)).toContain(disabled.keyId)
    expect(() => signer.deleteCertificate(disabled.id)).toThrow(/not in the key configuration/)
    expect(signer.listCsrs().map((c) => c.keyId)).toContain(disabled.keyId)
    const csr = signer.listCsrs().find((c) => c.keyId === disabled.keyId)!
    signer.deleteCsr(csr.id)
    expect(signer.listCsrs().map((c) => c.id)).not.toContain(csr.id)
    expect(() => signer.deleteCsr(csr.id)).toThrow(expect.objectContaining({ code: 'csr_not_found' }))
  })

  it('shows a certificate past notAfter as expired, and deletes a key with its certificates and CSRs', async () => {
    clock.advance(40 * 24 * 3600 * 1000)
    expect(signer.listCertificates().every((c) => c.state === 'expired')).toBe(true)
    for (const key of signer.listKeys()) await signer.deleteKey(key.id)
    expect(signer.listCertificates()).toEqual([])
    expect((db.prepare('SELECT COUNT(*) AS n FROM signer_csrs').get() as { n: number }).n).toBe(0)
  })
})

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { memberId } from '@shared/domain/identifiers'
import { ManualClock, closeDatabase, openDatabase, type WritableDb } from '../../src-main/platform'
import { initLab, openLab, startLabServer, type RunningLabServer } from '../../src-main/lab'
import { createSigner, SOFTWARE_TOKEN_ID, type CertificateInfo, type OcspSource, type Signer } from '../../src-main/signer'

/**
 * Issue 15 §2, nothing looked up twice: the signing context and the usable OCSP responses come from memory message
 * after message, and every change still takes effect at the next message — a token logout or login, a disabled or
 * activated certificate, an OCSP refresh, new OCSP sources (a new global configuration) and plain time (freshness).
 */
describe('signing context reuse and its invalidation', () => {
  const member = memberId('LAB', 'GOV', '1234')
  const clock = new ManualClock('2026-06-01T10:00:00Z')
  const PIN = 'Reuse-Test-Pin-1'
  let dir: string
  let db: WritableDb
  let signer: Signer
  let server: RunningLabServer
  let cert: CertificateInfo
  let sourcesVersion = 1
  const trust = { freshnessSeconds: 600 }
  /** Table reads (SELECTs other than the change probe) on the key configuration's database since `reset`. */
  const selects = { count: 0, reset(): void { this.count = 0 } }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-context-reuse-'))
    const labDir = join(dir, 'lab')
    await initLab(labDir, { keyAlgorithm: 'ec-p256', clock })
    const lab = openLab(labDir, { clock })
    lab.addMember(member, 'Agency')
    const caDer = lab.certificateDer('ca')
    const responderDer = lab.certificateDer('ocsp')
    server = await startLabServer(labDir, { ports: { ocsp: 0, tsa: 0, conf: 0 }, clock })
    db = openDatabase(join(dir, 'serverconf.sqlite'))
    const prepare = db.prepare.bind(db)
    db.prepare = ((sql: string) => {
      if (/^\s*SELECT/i.test(sql) && !sql.includes('pragma_data_version')) selects.count++
      return prepare(sql)
    }) as typeof db.prepare
    signer = createSigner({
      db, dataDir: dir, clock,
      ocsp: {
        sources: (): OcspSource => ({ issuerDer: caDer, urls: [server.urls.ocsp], responderCertsDer: [responderDer], freshnessSeconds: trust.freshnessSeconds }),
        sourcesVersion: () => sourcesVersion,
        autoRefresh: false,
      },
    })
    await signer.initSoftwareToken(PIN)
    await signer.login(SOFTWARE_TOKEN_ID, PIN)
    const key = await signer.generateKey({ tokenId: SOFTWARE_TOKEN_ID, usage: 'sign', algorithm: 'ec-p256', label: 'sign' })
    const csr = await signer.generateCsr({ keyId: key.id, subjectOf: member, certificateProfile: 'EjbcaCertificateProfileInfoProvider', format: 'pem' })
    const issued = await lab.issueCertificate(csr.encoded.toString('utf8'), 'sign')
    lab.close()
    cert = await signer.importCertificate(issued.der, { memberId: member, approvedCaCertificates: [caDer] })
    signer.activateCertificate(cert.id)
    const [status] = await signer.refreshOcsp([cert.id])
    expect(status?.status).toBe('good')
  }, 30_000)

  afterAll(async () => {
    await signer?.close()
    if (db !== undefined) closeDatabase(db)
    await server?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('hands out the same context and OCSP responses without reading the key configuration again', async () => {
    const first = await signer.getSigningContext(member)
    const responses = signer.ocspResponses(cert.certDer)
    expect(responses).toHaveLength(1)
    selects.reset()
    for (let i = 0; i < 50; i++) {
      expect(await signer.getSigningContext(member)).toBe(first)
      expect(signer.ocspResponses(cert.certDer)).toBe(responses)
    }
    expect(selects.count).toBe(0)
    // Signing through the context still works (the key stays unlocked in the session).
    const signed = await signer.signMessage(member, [{ name: '/message.xml', bytes: Buffer.from('<m/>') }])
    expect(Buffer.from(signed.signatureXml).toString('utf8')).toContain('SignatureValue')
  })

  it('a token logout stops signing at the next message; a login restores it', async () => {
    await signer.logout(SOFTWARE_TOKEN_ID)
    await expect(signer.getSigningContext(member)).rejects.toMatchObject({ code: 'cannot_sign' })
    await signer.login(SOFTWARE_TOKEN_ID, PIN)
    await expect(signer.getSigningContext(member)).resolves.toMatchObject({ keyId: cert.keyId })
  })

  it('a disabled certificate stops signing at the next message; activating it restores it', async () => {
    const before = await signer.getSigningContext(member)
    signer.disableCertificate(cert.id)
    await expect(signer.getSigningContext(member)).rejects.toMatchObject({ code: 'cannot_sign' })
    signer.activateCertificate(cert.id)
    const after = await signer.getSigningContext(member)
    expect(after).not.toBe(before)
  })

  it('an OCSP response that ages past its freshness stops signing without any change in the database', async () => {
    const before = await signer.getSigningContext(member)
    clock.advance(trust.freshnessSeconds * 1000 + 1000)
    await expect(signer.getSigningContext(member)).rejects.toMatchObject({ code: 'cannot_sign' })
    expect(signer.ocspResponses(cert.certDer)).toEqual([])
    // An OCSP refresh (a write to the key configuration) brings it back at once.
    const [status] = await signer.refreshOcsp([cert.id])
    expect(status?.status).toBe('good')
    const after = await signer.getSigningContext(member)
    expect(after).not.toBe(before)
    expect(signer.ocspResponses(cert.certDer)).toHaveLength(1)
  })

  it('new OCSP sources (a new global configuration) are applied at the next message', async () => {
    await signer.getSigningContext(member)
    clock.advance(120_000)
    // Under the new configuration the stored response is too old: the very next signature is refused.
    trust.freshnessSeconds = 60
    sourcesVersion++
    await expect(signer.getSigningContext(member)).rejects.toMatchObject({ code: 'cannot_sign' })
    expect(signer.ocspResponses(cert.certDer)).toEqual([])
    trust.freshnessSeconds = 600
    sourcesVersion++
    await expect(signer.getSigningContext(member)).resolves.toMatchObject({ keyId: cert.keyId })
  })

  it('an OCSP refresh that finds the certificate revoked stops signing at the next message', async () => {
    await signer.getSigningContext(member)
    const lab = openLab(join(dir, 'lab'), { clock })
    lab.revoke(cert.certDer)
    lab.close()
    const [status] = await signer.refreshOcsp([cert.id])
    expect(status?.status).toBe('revoked')
    await expect(signer.getSigningContext(member)).rejects.toMatchObject({ code: 'cannot_sign' })
  })
})

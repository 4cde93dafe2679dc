import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { memberId } from '@shared/domain/identifiers'
import { closeDatabase, openDatabase, type WritableDb } from '../../src-main/platform'
import { initLab, openLab, startLabServer, type RunningLabServer } from '../../src-main/lab'
import { parseOcspResponse } from '../../src-main/signature'
import { buildOcspRequest, createSigner, type CertificateInfo, type OcspSource, type Signer } from '../../src-main/signer'
import { createSoftHsmToken, type SoftHsmToken } from '../support/softhsm'
import { SOFTHSM, describeWith } from '../support/requirements'

/**
 * OCSP status of own certificates against the real lab responder (issue 4 item 5, xroad-protocols.md §4.8):
 * a SoftHSM2 key, a CSR signed on the token, a lab-issued certificate, good → outage → stale → recovery → revoked.
 */

async function until<T>(probe: () => T, done: (value: T) => boolean, timeoutMs = 8000): Promise<T> {
  const end = Date.now() + timeoutMs
  for (;;) {
    const value = probe()
    if (done(value) || Date.now() > end) return value
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

describeWith([SOFTHSM], 'signer OCSP status with the lab responder and SoftHSM2', () => {
  const member = memberId('LAB', 'GOV', '1234')
  let dir: string
  let labDir: string
  let hsm: SoftHsmToken
  let db: WritableDb
  let signer: Signer
  let server: RunningLabServer | undefined
  let cert: CertificateInfo
  let caDer: Uint8Array
  const conf = { url: '', freshnessSeconds: 3600, fetchIntervalSeconds: 1 }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-signer-ocsp-'))
    labDir = join(dir, 'lab')
    await initLab(labDir, { keyAlgorithm: 'ec-p256' })
    const lab = openLab(labDir)
    lab.addMember(member, 'Agency')
    caDer = lab.certificateDer('ca')
    const responderDer = lab.certificateDer('ocsp')
    server = await startLabServer(labDir, { ports: { ocsp: 0, tsa: 0, conf: 0 }, confExpireSeconds: 300 })
    conf.url = server.urls.ocsp
    hsm = createSoftHsmToken({ label: 'ocsp-test' })
    db = openDatabase(join(dir, 'serverconf.sqlite'))
    signer = createSigner({
      db, dataDir: dir,
      ocsp: {
        sources: (): OcspSource => ({
          issuerDer: caDer, urls: [conf.url], responderCertsDer: [responderDer], freshnessSeconds: conf.freshnessSeconds, fetchIntervalSeconds: conf.fetchIntervalSeconds,
        }),
        retryDelaySeconds: 0.3,
      },
    })
    const token = await signer.addPkcs11Token(hsm.module, { label: hsm.label })
    await signer.login(token.id, hsm.pin)
    const key = await signer.generateKey({ tokenId: token.id, usage: 'sign', algorithm: 'ec-p256', label: 'lab-sign' })
    const csr = await signer.generateCsr({ keyId: key.id, subjectOf: member, certificateProfile: 'EjbcaCertificateProfileInfoProvider', format: 'pem' })
    const issued = await lab.issueCertificate(csr.encoded.toString('utf8'), 'sign')
    lab.close()
    cert = await signer.importCertificate(issued.der, { memberId: member, approvedCaCertificates: [caDer] })
  }, 30_000)

  afterAll(async () => {
    await signer?.close()
    if (db !== undefined) closeDatabase(db)
    await server?.close()
    hsm?.cleanup()
    rmSync(dir, { recursive: true, force: true })
  })

  it('builds a request with one SHA-1 CertID and no nonce', () => {
    const der = buildOcspRequest(cert.certDer, caDer)
    const text = der.toString('hex')
    expect(text).toContain('06052b0e03021a') // OID 1.3.14.3.2.26 (SHA-1)
    expect(text).not.toContain('2b0601050507300102') // id-pkix-ocsp-nonce 1.3.6.1.5.5.7.48.1.2
  })

  it('refuses to sign before OCSP, then fetches a verified good response on activation and signs with it', async () => {
    expect(signer.ocspStatus(cert.id).status).toBe('none')
    signer.activateCertificate(cert.id)
    const status = await until(() => signer.ocspStatus(cert.id), (s) => s.status === 'good')
    expect(status).toMatchObject({ status: 'good', responseStatus: 'good' })
    expect(status.lastError).toBeUndefined()
    expect(new Date(status.thisUpdate!).getTime()).toBeLessThanOrEqual(Date.now() + 1000)
    expect(new Date(status.nextUpdate!).getTime()).toBeGreaterThan(Date.now())
    expect(Date.parse(status.producedAt!)).toBeGreaterThan(Date.now() - 60_000)
    expect(Date.parse(status.producedAt!)).toBeLessThanOrEqual(Date.now() + 1000)
    const [response] = signer.ocspResponses(cert.certDer)
    expect(response).toBeDefined()
    const { basic } = parseOcspResponse(response!)
    expect(basic.tbsResponseData.responses[0]!.certID.hashAlgorithm.algorithmId).toBe('1.3.14.3.2.26')
    const context = await signer.getSigningContext(member)
    expect(context.ocspResponses).toHaveLength(1)
    expect(context.ocspResponses[0]!.equals(response!)).toBe(true)
    // The chain is the leaf alone: the lab CA is a top CA and never goes into the signature.
    expect(context.certChain).toHaveLength(1)
  })

  it('goes stale after the freshness window while the responder is down, records the error, and recovers by itself', async () => {
    conf.freshnessSeconds = 2
    const before = signer.ocspStatus(cert.id).thisUpdate
    const closedAt = Date.now()
    await server!.close()
    server = undefined
    const stale = await until(() => signer.ocspStatus(cert.id), (s) => s.status === 'stale')
    expect(stale.status).toBe('stale')
    expect(stale.lastError).toMatch(/OCSP responder|ECONNREFUSED|unreachable/)
    expect(Date.parse(stale.lastErrorAt!)).toBeGreaterThanOrEqual(closedAt)
    expect(Date.parse(stale.lastErrorAt!)).toBeLessThanOrEqual(Date.now())
    expect(signer.ocspResponses(cert.certDer)).toEqual([])
    await expect(signer.getSigningContext(member)).rejects.toMatchObject({ code: 'cannot_sign' })
    server = await startLabServer(labDir, { ports: { ocsp: 0, tsa: 0, conf: 0 }, confExpireSeconds: 300 })
    conf.url = server.urls.ocsp
    const recovered = await until(() => signer.ocspStatus(cert.id), (s) => s.status === 'good')
    expect(recovered.status).toBe('good')
    expect(recovered.lastError).toBeUndefined()
    expect(recovered.thisUpdate).not.toBe(before)
    await expect(signer.getSigningContext(member)).resolves.toMatchObject({ keyId: cert.keyId })
    conf.freshnessSeconds = 3600
  }, 20_000)

  it('a shorter fetch interval in new sources (a new global configuration) applies from the last refresh, not after the old interval', async () => {
    conf.fetchIntervalSeconds = 1200
    // The 1-s schedule runs once more and then plans the next refresh 1200 s later.
    await new Promise((resolve) => setTimeout(resolve, 1500))
    const planned = signer.ocspStatus(cert.id).fetchedAt
    await new Promise((resolve) => setTimeout(resolve, 1500))
    expect(signer.ocspStatus(cert.id).fetchedAt).toBe(planned)
    conf.fetchIntervalSeconds = 1
    signer.ocspSourcesChanged()
    const refreshed = await until(() => signer.ocspStatus(cert.id), (s) => s.fetchedAt !== planned, 3000)
    expect(refreshed.fetchedAt).not.toBe(planned)
    expect(refreshed.status).toBe('good')
  }, 15_000)

  it('reports revoked after the lab revokes the certificate, and the certificate state follows', async () => {
    const lab = openLab(labDir)
    const revokedAt = Date.now()
    lab.revoke(cert.certDer)
    lab.close()
    const [status] = await signer.refreshOcsp([cert.id])
    expect(status).toMatchObject({ status: 'revoked', responseStatus: 'revoked' })
    // GeneralizedTime in the OCSP response has whole seconds.
    expect(Date.parse(status!.revocationTime!)).toBeGreaterThanOrEqual(Math.floor(revokedAt / 1000) * 1000)
    expect(Date.parse(status!.revocationTime!)).toBeLessThanOrEqual(Date.now())
    expect(signer.listCertificates().find((c) => c.id === cert.id)?.state).toBe('revoked')
    await expect(signer.getSigningContext(member)).rejects.toMatchObject({ code: 'cannot_sign' })
  })
})

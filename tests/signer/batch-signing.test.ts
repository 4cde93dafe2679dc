import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { memberId, subsystemId } from '@shared/domain/identifiers'
import { closeDatabase, openDatabase, type WritableDb } from '../../src-main/platform'
import { initLab, openLab, startLabServer, type RunningLabServer } from '../../src-main/lab'
import { SIG_HASH_CHAIN_URI, verificationTrust, verifyHashChain, verifySignature, type VerificationTrust } from '../../src-main/signature'
import { createSigner, type Signer } from '../../src-main/signer'
import { createFaultInjector, type FaultInjector } from '../../src-main/signer/pkcs11/fault-injector'
import { createSoftHsmToken, type SoftHsmToken } from '../support/softhsm'
import { SOFTHSM, describeWith } from '../support/requirements'

/**
 * Batch signing (issue 4 item 6, xroad-protocols.md §4.5): a SoftHSM2 key slowed to 10 signatures/s by the fault
 * injector, 200 concurrent messages, each with a hash chain that verifies on its own and a signature that verifies
 * with the lab's trust (certificate path and OCSP).
 */
describeWith([SOFTHSM], 'batch signing on a slow PKCS#11 token', () => {
  const member = memberId('LAB', 'GOV', '1234')
  const client = subsystemId('LAB', 'GOV', '1234', 'app')
  let dir: string
  let hsm: SoftHsmToken
  let db: WritableDb
  let signer: Signer
  let server: RunningLabServer
  let injector: FaultInjector | undefined
  let trust: VerificationTrust

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-signer-batch-'))
    const labDir = join(dir, 'lab')
    await initLab(labDir, { keyAlgorithm: 'ec-p256' })
    const lab = openLab(labDir)
    lab.addMember(member, 'Agency')
    const caDer = lab.certificateDer('ca')
    const responderDer = lab.certificateDer('ocsp')
    server = await startLabServer(labDir, { ports: { ocsp: 0, tsa: 0, conf: 0 }, confExpireSeconds: 300 })
    trust = verificationTrust({
      instance: 'LAB',
      approvedCas: [{ topCert: caDer, ocspResponderCerts: [responderDer], certificateProfileInfo: 'ee.ria.xroad.common.certificateprofile.impl.EjbcaCertificateProfileInfoProvider' }],
    })
    hsm = createSoftHsmToken({ label: 'batch-test' })
    db = openDatabase(join(dir, 'serverconf.sqlite'))
    signer = createSigner({
      db, dataDir: dir,
      pkcs11: { wrapLibrary: (library) => (injector = createFaultInjector(library)).library },
      ocsp: { sources: () => ({ issuerDer: caDer, urls: [server.urls.ocsp], responderCertsDer: [responderDer] }), autoRefresh: false },
      batch: { maxBatchSize: 128 },
    })
    const token = await signer.addPkcs11Token(hsm.module, { label: hsm.label })
    await signer.login(token.id, hsm.pin)
    const key = await signer.generateKey({ tokenId: token.id, usage: 'sign', algorithm: 'ec-p256', label: 'batch-sign' })
    const csr = await signer.generateCsr({ keyId: key.id, subjectOf: member, certificateProfile: 'EjbcaCertificateProfileInfoProvider', format: 'pem' })
    const issued = await lab.issueCertificate(csr.encoded.toString('utf8'), 'sign')
    lab.close()
    const cert = await signer.importCertificate(issued.der, { memberId: member, approvedCaCertificates: [caDer] })
    signer.activateCertificate(cert.id)
    const [status] = await signer.refreshOcsp([cert.id])
    expect(status?.status).toBe('good')
  }, 30_000)

  afterAll(async () => {
    await signer?.close()
    if (db !== undefined) closeDatabase(db)
    await server?.close()
    hsm?.cleanup()
    rmSync(dir, { recursive: true, force: true })
  })

  const message = (i: number): Buffer => Buffer.from(`<env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/"><env:Body><n>${i}</n></env:Body></env:Envelope>`)

  it('signs a body part given by the SHA-512 taken as it streamed exactly as by its bytes (issue 14 §3)', async () => {
    const body = Buffer.alloc(3 * 1024 * 1024, 0x5a)
    const head = message(-2)
    const byBytes = await signer.signMessage(client, [{ name: '/message.xml', bytes: head }, { name: '/attachment1', bytes: body }])
    const digest = createHash('sha512').update(body).digest()
    const byDigest = await signer.signMessage(client, [{ name: '/message.xml', bytes: head }, { name: '/attachment1', digest, digestAlgorithm: 'SHA-512' }])
    expect(byDigest.hashChainResult?.equals(byBytes.hashChainResult!)).toBe(true)
    expect(byDigest.hashChain?.equals(byBytes.hashChain!)).toBe(true)
    // A verifier given the body's bytes (as an X-Road peer computes them) accepts it.
    verifySignature(byDigest.signatureXml, {
      parts: { '/message.xml': head, '/attachment1': body },
      hashChainResult: byDigest.hashChainResult!, hashChain: byDigest.hashChain!, expectedSigner: client, trust, atTime: new Date(),
    })
    await expect(signer.signMessage(client, [{ name: '/message.xml', bytes: head }, { name: '/attachment1', digest, digestAlgorithm: 'SHA-256' }]))
      .rejects.toMatchObject({ code: 'cannot_create_signature' })
  })

  it('signs a lone message directly, without a hash chain', async () => {
    const signed = await signer.signMessage(client, [{ name: '/message.xml', bytes: message(-1) }])
    expect(signed.hashChain).toBeUndefined()
    const result = verifySignature(signed.signatureXml, {
      parts: { '/message.xml': message(-1) }, expectedSigner: client, trust, atTime: new Date(),
    })
    expect(result.signer).toMatchObject({ memberCode: '1234' })
  })

  it('coalesces 200 concurrent messages on a 10 signatures/s token; every hash chain and signature verifies', async () => {
    injector!.setSignDelay(100)
    const before = injector!.calls.get('C_SignAsync') ?? 0
    const statsBefore = signer.batchStats()
    const started = performance.now()
    const count = 200
    const results = await Promise.all(Array.from({ length: count }, (_, i) => signer.signMessage(client, i % 10 === 0
      ? [{ name: '/message.xml', bytes: message(i) }, { name: '/attachment1', bytes: Buffer.from(`attachment ${i}`) }]
      : [{ name: '/message.xml', bytes: message(i) }])))
    const seconds = (performance.now() - started) / 1000
    const tokenSignatures = (injector!.calls.get('C_SignAsync') ?? 0) - before
    const stats = signer.batchStats()
    console.log(`batch signing: ${count} messages in ${seconds.toFixed(2)} s = ${(count / seconds).toFixed(0)} messages/s with ${tokenSignatures} token signatures (largest batch ${stats.largestBatch})`)
    expect(tokenSignatures).toBeLessThanOrEqual(Math.ceil(count / 128) + 2)
    expect(stats.signatures - statsBefore.signatures).toBe(tokenSignatures)
    expect(stats.messages - statsBefore.messages).toBe(count)
    results.forEach((signed, i) => {
      expect(signed.hashChain).toBeDefined()
      const inputs: Record<string, { data: Uint8Array }> = { '/message.xml': { data: message(i) } }
      if (i % 10 === 0) inputs['/attachment1'] = { data: Buffer.from(`attachment ${i}`) }
      verifyHashChain(signed.hashChainResult!, { resolve: (uri) => (uri === SIG_HASH_CHAIN_URI ? signed.hashChain : undefined), inputs })
      // Another message's data does not verify against this chain.
      expect(() => verifyHashChain(signed.hashChainResult!, {
        resolve: (uri) => (uri === SIG_HASH_CHAIN_URI ? signed.hashChain : undefined), inputs: { ...inputs, '/message.xml': { data: message(i + 1) } },
      })).toThrow()
    })
    for (const i of [0, 1, 99, 199]) {
      const signed = results[i]!
      const parts: Record<string, Uint8Array> = { '/message.xml': message(i) }
      if (i % 10 === 0) parts['/attachment1'] = Buffer.from(`attachment ${i}`)
      const verified = verifySignature(signed.signatureXml, {
        parts, hashChainResult: signed.hashChainResult, hashChain: signed.hashChain, expectedSigner: client, trust, atTime: new Date(),
      })
      expect(verified.signingOcsp.status).toBe('good')
    }
    injector!.setSignDelay(0)
  }, 20_000)
})

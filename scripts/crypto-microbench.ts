import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { memberId, subsystemId } from '@shared/domain/identifiers'
import { closeDatabase, openDatabase } from '../src-main/platform'
import { initLab, openLab, startLabServer } from '../src-main/lab'
import { SignatureVerificationCache, verificationTrust, verifySignature, type VerifySignatureOptions } from '../src-main/signature'
import { SOFTWARE_TOKEN_ID, createSigner, type KeyAlgorithm, type SignedMessage } from '../src-main/signer'

/**
 * `npx tsx --tsconfig tsconfig.json scripts/crypto-microbench.ts [--messages 512] [--batch 16] [--json]`: CPU per
 * message of the crypto steps of issue 15 §4, for an RSA-2048 and an EC P-256 signing key on the software token of
 * a lab (real certificates and OCSP): signing one message per turn of the event loop (a direct signature each) against
 * `--batch` messages in one turn (one token signature over a hash chain), and verifying those messages one by one in
 * full against through the verification cache (one full verification per batch). CPU is the process's user+system
 * time over the loop, divided by the messages; wall time is printed too. Not a test: numbers depend on the machine.
 */

const MEMBER = memberId('LAB', 'GOV', '1234')
const CLIENT = subsystemId('LAB', 'GOV', '1234', 'app')
const EJBCA = 'ee.ria.xroad.common.certificateprofile.impl.EjbcaCertificateProfileInfoProvider'

interface Measure {
  readonly cpuUsPerMessage: number
  readonly wallUsPerMessage: number
}

async function measure(messages: number, run: () => Promise<void> | void): Promise<Measure> {
  const cpu = process.cpuUsage()
  const started = process.hrtime.bigint()
  await run()
  const used = process.cpuUsage(cpu)
  const wallUs = Number(process.hrtime.bigint() - started) / 1000
  return { cpuUsPerMessage: Math.round((used.user + used.system) / messages), wallUsPerMessage: Math.round(wallUs / messages) }
}

const message = (i: number): Buffer =>
  Buffer.from(`<env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/"><env:Body><n>${i}</n></env:Body></env:Envelope>`)

async function benchKey(algorithm: KeyAlgorithm, messages: number, batch: number): Promise<Record<string, Measure>> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-crypto-bench-'))
  const labDir = join(dir, 'lab')
  await initLab(labDir, { keyAlgorithm: 'ec-p256' })
  const lab = openLab(labDir)
  lab.addMember(MEMBER, 'Agency')
  const caDer = lab.certificateDer('ca')
  const responderDer = lab.certificateDer('ocsp')
  const server = await startLabServer(labDir, { ports: { ocsp: 0, tsa: 0, conf: 0 }, confExpireSeconds: 300 })
  const db = openDatabase(join(dir, 'serverconf.sqlite'))
  const signer = createSigner({
    db, dataDir: dir,
    ocsp: { sources: () => ({ issuerDer: caDer, urls: [server.urls.ocsp], responderCertsDer: [responderDer] }), autoRefresh: false },
  })
  try {
    await signer.initSoftwareToken('Bench-Token-Pin-1')
    await signer.login(SOFTWARE_TOKEN_ID, 'Bench-Token-Pin-1')
    const key = await signer.generateKey({ tokenId: SOFTWARE_TOKEN_ID, usage: 'sign', algorithm, label: 'bench' })
    const csr = await signer.generateCsr({ keyId: key.id, subjectOf: MEMBER, certificateProfile: 'EjbcaCertificateProfileInfoProvider', format: 'pem' })
    const issued = await lab.issueCertificate(csr.encoded.toString('utf8'), 'sign')
    const cert = await signer.importCertificate(issued.der, { memberId: MEMBER, approvedCaCertificates: [caDer] })
    signer.activateCertificate(cert.id)
    await signer.refreshOcsp([cert.id])
    const trust = verificationTrust({
      instance: 'LAB', approvedCas: [{ topCert: caDer, ocspResponderCerts: [responderDer], certificateProfileInfo: EJBCA }],
    })
    // Warm up the signing context, parsers and caches.
    for (let i = 0; i < 8; i++) await signer.signMessage(CLIENT, [{ name: '/message.xml', bytes: message(i) }])

    const lone: SignedMessage[] = []
    const batched: SignedMessage[] = []
    const results: Record<string, Measure> = {}
    results.signOnePerTurn = await measure(messages, async () => {
      for (let i = 0; i < messages; i++) lone.push(await signer.signMessage(CLIENT, [{ name: '/message.xml', bytes: message(i) }]))
    })
    results[`signBatchOf${batch}`] = await measure(messages, async () => {
      for (let i = 0; i < messages; i += batch) {
        batched.push(...await Promise.all(Array.from({ length: batch }, (_, j) => signer.signMessage(CLIENT, [{ name: '/message.xml', bytes: message(i + j) }]))))
      }
    })
    const options = (signed: SignedMessage, i: number): VerifySignatureOptions => ({
      parts: { '/message.xml': message(i) }, expectedSigner: CLIENT, trust, atTime: new Date(),
      ...(signed.hashChain === undefined ? {} : { hashChainResult: signed.hashChainResult!, hashChain: signed.hashChain }),
    })
    results.verifyDirect = await measure(messages, () => {
      lone.forEach((signed, i) => verifySignature(signed.signatureXml, options(signed, i)))
    })
    results[`verifyBatchOf${batch}Uncached`] = await measure(messages, () => {
      batched.forEach((signed, i) => verifySignature(signed.signatureXml, options(signed, i)))
    })
    const cache = new SignatureVerificationCache()
    results[`verifyBatchOf${batch}Cached`] = await measure(messages, () => {
      batched.forEach((signed, i) => cache.verify(signed.signatureXml, options(signed, i)))
    })
    return results
  } finally {
    lab.close()
    await signer.close()
    closeDatabase(db)
    await server.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { messages: { type: 'string', default: '512' }, batch: { type: 'string', default: '16' }, json: { type: 'boolean', default: false } } })
  const messages = Number(values.messages)
  const batch = Number(values.batch)
  const report: Record<string, Record<string, Measure>> = {}
  for (const algorithm of ['rsa-2048', 'ec-p256'] as const) report[algorithm] = await benchKey(algorithm, messages, batch)
  if (values.json) {
    console.log(JSON.stringify({ messages, batch, cpu_us_per_message: Object.fromEntries(Object.entries(report).map(([k, r]) => [k, Object.fromEntries(Object.entries(r).map(([s, m]) => [s, m.cpuUsPerMessage]))])) }))
    return
  }
  for (const [algorithm, results] of Object.entries(report)) {
    console.log(algorithm)
    for (const [step, m] of Object.entries(results)) console.log(`  ${step.padEnd(24)} ${String(m.cpuUsPerMessage).padStart(6)} µs CPU/message  ${String(m.wallUsPerMessage).padStart(6)} µs wall/message`)
  }
}

main().catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})

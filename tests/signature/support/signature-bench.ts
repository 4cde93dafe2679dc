/**
 * Micro-benchmark (not a test): CPU time per signature build and verify, this worktree's signature domain against
 * another checkout's (the "before"), interleaved in one process so both see the same machine.
 *
 *   npx tsx tests/signature/support/signature-bench.ts [/path/to/other/checkout] [rounds]
 *
 * Prints one JSON line: microseconds of process CPU (user + system) per operation for each side.
 */
import { sign as cryptoSign } from 'node:crypto'
import { resolve } from 'node:path'
import { memberId } from '@shared/domain/identifiers'
import * as after from '../../../src-main/signature'
import { makeCertificate, makeOcspResponse, makeTrustSetup, type TestCert } from './test-pki'

type SignatureDomain = typeof after

const EJBCA = 'ee.ria.xroad.common.certificateprofile.impl.EjbcaCertificateProfileInfoProvider'

function cpuMicros(): number {
  const u = process.cpuUsage()
  return u.user + u.system
}

async function main(): Promise<void> {
  const otherRoot = resolve(process.argv[2] ?? '/work/main')
  const rounds = Number(process.argv[3] ?? 400)
  const before = (await import(resolve(otherRoot, 'src-main/signature/index.ts'))) as SignatureDomain
  const pki = await makeTrustSetup()
  const member = memberId('DEV', 'COM', '1234')
  const trust = after.verificationTrust({
    instance: 'DEV',
    approvedCas: [{ name: 'CA', topCert: pki.ca.der, ocspResponderCerts: [pki.ocsp.der], certificateProfileInfo: EJBCA }],
    approvedTsas: [],
  })
  const message = Buffer.from(`<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Body>${'x'.repeat(1000)}</SOAP-ENV:Body></SOAP-ENV:Envelope>`)
  const results: Record<string, Record<string, number>> = {}

  for (const kind of ['EC', 'RSA'] as const) {
    const signer: TestCert = await makeCertificate({ subject: 'C=DEV, O=COM, CN=1234', issuer: pki.ca, keyUsage: ['nonRepudiation'], kind })
    const ocsp = await makeOcspResponse({ cert: signer, issuer: pki.ca, responder: pki.ocsp, thisUpdate: new Date(Date.now() - 60_000) })
    const sign = (req: after.SignRequest): Buffer => cryptoSign(`sha${req.algorithm.slice(-3)}`, req.dataToSign, kind === 'EC' ? { key: signer.keyObject, dsaEncoding: 'ieee-p1363' } : signer.keyObject)
    const noSign = (req: after.SignRequest): Buffer => Buffer.alloc(kind === 'EC' ? 64 : 256, req.digest[0])
    const options = { parts: [{ uri: '/message.xml', data: message }], signingCert: signer.der, ocspResponses: [ocsp] }
    const xml = await after.buildSignature({ ...options, sign })
    const chains = after.buildHashChains(Array.from({ length: 8 }, (_, i) => ({ parts: [{ uri: '/message.xml', digest: after.digest('SHA-512', `m${i}`) }] })))
    const batchXml = await after.buildSignature({ signingCert: signer.der, ocspResponses: [ocsp], hashChainResult: chains.resultXml, sign })

    const ops = (d: SignatureDomain): Record<string, () => unknown> => ({
      // The document alone: a signer that returns a fixed value, so the key's cost is left out.
      build_document: () => d.buildSignature({ ...options, sign: noSign }),
      build_signed: () => d.buildSignature({ ...options, sign }),
      parse: () => d.parseSignature(xml),
      verify: () => d.verifySignature(xml, { parts: { '/message.xml': message }, expectedSigner: member, trust, atTime: new Date() }),
      verify_batch: () => d.verifySignature(batchXml, {
        parts: { '/message.xml': { digest: after.digest('SHA-512', 'm0') } }, hashChainResult: chains.resultXml, hashChain: chains.chains[0]!,
        expectedSigner: member, trust, atTime: new Date(),
      }),
    })
    const sides: Array<[string, Record<string, () => unknown>]> = [['before', ops(before)], ['after', ops(after)]]
    for (const name of Object.keys(sides[0]![1])) {
      const totals: Record<string, number> = { before: 0, after: 0 }
      // Warm-up, then alternate sides in blocks so both see the same load.
      for (const [, o] of sides) for (let i = 0; i < 200; i++) await o[name]!()
      for (let block = 0; block < 4; block++) {
        for (const [side, o] of sides) {
          const start = cpuMicros()
          for (let i = 0; i < rounds / 4; i++) await o[name]!()
          totals[side]! += cpuMicros() - start
        }
      }
      results[`${kind}.${name}`] = { before_us: Math.round(totals.before! / rounds), after_us: Math.round(totals.after! / rounds) }
    }
  }
  console.log(JSON.stringify(results))
}

void main()

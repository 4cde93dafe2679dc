import { createHash, randomBytes, sign as cryptoSign } from 'node:crypto'
import { beforeAll, describe, expect, it, vi } from 'vitest'
import { memberId } from '@shared/domain/identifiers'
import {
  buildHashChains, buildSignature, concatDigests, verificationTrust, verifyHashChain, verifySignature,
  type HashChainVerification, type SignRequest, type VerificationTrust,
} from '../../src-main/signature'
import { makeCertificate, makeOcspResponse, makeTrustSetup, type TestCert } from '../signature/support/test-pki'
import { compareWithBenign, expectRefusal } from './support/bounded-time'

/**
 * Hash chains from outside (`signature/hash-chain.ts`; the provider verifies requests, the consumer responses, the
 * message log uploaded ASiC containers with the same code): every shape is refused or verified in time comparable to a
 * benign chain of the same size. Bound: O(C + k·D), each step digested once.
 */
// The bound under test is the ratio to the benign input; a loaded machine may only make the whole run slower.
vi.setConfig({ testTimeout: 180_000 })

const SHA512 = 'http://www.w3.org/2001/04/xmlenc#sha512'
const HC_NS = 'http://cyber.ee/hashchain'
const DS_NS = 'http://www.w3.org/2000/09/xmldsig#'
const sha512 = (d: Uint8Array | string): Buffer => createHash('sha512').update(d).digest()
const b64 = (d: Uint8Array): string => Buffer.from(d).toString('base64')

const stepRef = (uri: string): string => `<h:StepRef URI="${uri}"/>`
const hashValue = (d: Uint8Array): string => `<h:HashValue><DigestValue>${b64(d)}</DigestValue></h:HashValue>`
const dataRef = (uri: string, d: Uint8Array, transforms = ''): string =>
  `<h:DataRef URI="${uri}">${transforms}<DigestValue>${b64(d)}</DigestValue></h:DataRef>`

function chainXml(steps: string[][]): string {
  return `<h:HashChain xmlns="${DS_NS}" xmlns:h="${HC_NS}"><h:DefaultDigestMethod Algorithm="${SHA512}"/>` +
    steps.map((values, i) => `<h:HashStep id="S${i}">${values.join('')}</h:HashStep>`).join('') + '</h:HashChain>'
}

function resultXml(uri: string, top: Uint8Array): string {
  return `<h:HashChainResult xmlns="${DS_NS}" xmlns:h="${HC_NS}" URI="${uri}"><DigestMethod Algorithm="${SHA512}"/>` +
    `<DigestValue>${b64(top)}</DigestValue></h:HashChainResult>`
}

const single = (d: Uint8Array) => ({ digest: d, methodUri: SHA512 })
const MESSAGE = Buffer.from('GET\r\n/r1/DEV/GOV/1234/PROVIDER/orders\r\nx-road-client:DEV/COM/4422/CLIENT\r\n')

/**
 * A chain of `depth` steps where each step references the next one twice (a DAG: 2^depth paths) and the last step the
 * message; with `correct` the result digest is right, so only a verifier that memoises finishes.
 */
function sharedReferenceChain(depth: number, correct = true): { chain: string; result: string } {
  const steps: string[][] = []
  let below = concatDigests([single(sha512(MESSAGE))])
  for (let i = depth - 1; i >= 0; i--) {
    steps[i] = i === depth - 1 ? [dataRef('/message.xml', sha512(MESSAGE))] : [stepRef(`#S${i + 1}`), stepRef(`#S${i + 1}`)]
    if (i < depth - 1) below = concatDigests([single(sha512(below)), single(sha512(below))])
  }
  const top = correct ? sha512(below) : randomBytes(64)
  return { chain: chainXml(steps), result: resultXml('/c.xml#S0', top) }
}

/** The benign counterpart: the same number of steps, each referenced once, with a sibling HashValue instead. */
function linearChain(depth: number): { chain: string; result: string } {
  const steps: string[][] = []
  const sibling = randomBytes(64)
  let below = concatDigests([single(sha512(MESSAGE))])
  for (let i = depth - 1; i >= 0; i--) {
    steps[i] = i === depth - 1 ? [dataRef('/message.xml', sha512(MESSAGE))] : [stepRef(`#S${i + 1}`), hashValue(sibling)]
    if (i < depth - 1) below = concatDigests([single(sha512(below)), single(sibling)])
  }
  return { chain: chainXml(steps), result: resultXml('/c.xml#S0', sha512(below)) }
}

/**
 * A benign chain document of about `bytes` bytes: the result references S0 (the message); the other steps hold
 * HashValues nobody references, so the verifier reads the whole document and digests one step.
 */
function paddedChain(bytes: number): { chain: string; result: string } {
  const steps: string[][] = [[dataRef('/message.xml', sha512(MESSAGE))]]
  const value = hashValue(randomBytes(64))
  const perStep = 500
  for (let size = 0; size < bytes; size += perStep * value.length) steps.push(Array.from({ length: perStep }, () => value))
  return { chain: chainXml(steps), result: resultXml('/c.xml#S0', sha512(concatDigests([single(sha512(MESSAGE))]))) }
}

const BIG = { maxDocumentBytes: 4 * 1024 * 1024 }

function verify(
  result: string, files: Record<string, string | Buffer>, inputs: HashChainVerification['inputs'] = { '/message.xml': { data: MESSAGE } },
  limits: HashChainVerification['limits'] = BIG,
) {
  return verifyHashChain(result, { inputs, limits, resolve: (uri) => (files[uri] === undefined ? undefined : Buffer.from(files[uri]!)) })
}

function benignOfSize(bytes: number): () => unknown {
  const padded = paddedChain(bytes)
  return () => verify(padded.result, { '/c.xml': padded.chain })
}

describe('hash chains: shared references, cycles, depth and size against a benign chain of the same size', () => {
  it('verifies the depth-21 shared-reference chain of the issue (2^21 paths) as fast as a linear chain', async () => {
    const dag = sharedReferenceChain(21)
    const line = linearChain(21)
    const { adversarial } = await compareWithBenign('hash chain: depth-21 shared references',
      () => verify(dag.result, { '/c.xml': dag.chain }), () => verify(line.result, { '/c.xml': line.chain }))
    expect(adversarial.error).toBeUndefined()
  })

  it('refuses a shared-reference chain at the depth limit with a wrong result, and one whose message is missing', async () => {
    const line = linearChain(64)
    const benign = () => verify(line.result, { '/c.xml': line.chain })
    const wrong = sharedReferenceChain(64, false)
    const bad = await compareWithBenign('hash chain: depth-64 shared references, wrong result', () => verify(wrong.result, { '/c.xml': wrong.chain }), benign)
    expectRefusal(bad.adversarial, 'invalid_hash_chain')
    const right = sharedReferenceChain(64)
    const missing = await compareWithBenign('hash chain: depth-64 shared references, message missing',
      () => verify(right.result, { '/c.xml': right.chain }, {}), benign)
    expectRefusal(missing.adversarial, 'invalid_reference')
  })

  it('refuses a chain nested deeper than the limit, and a cycle', async () => {
    const deep = linearChain(3000)
    const tooDeep = await compareWithBenign('hash chain: 3000 steps deep', () => verify(deep.result, { '/c.xml': deep.chain }), benignOfSize(deep.chain.length))
    expectRefusal(tooDeep.adversarial, 'malformed_hash_chain')
    expect((tooDeep.adversarial.error as Error).message).toMatch(/deeper than 64/)

    const cycle = chainXml([[stepRef('#S1')], [stepRef('#S2')], [stepRef('#S0')]])
    expect(() => verify(resultXml('/c.xml#S0', randomBytes(64)), { '/c.xml': cycle })).toThrow(/Cycle/)
  })

  it('refuses more steps, more values in a step, more chain files and larger documents than the limits, while reading', async () => {
    const steps = chainXml(Array.from({ length: 6000 }, () => [hashValue(randomBytes(64))]))
    const manySteps = await compareWithBenign('hash chain: 6000 steps', () => verify(resultXml('/c.xml#S0', randomBytes(64)), { '/c.xml': steps }), benignOfSize(steps.length))
    expectRefusal(manySteps.adversarial, 'malformed_hash_chain')
    expect((manySteps.adversarial.error as Error).message).toMatch(/more than 4096 steps/)

    const wide = chainXml([Array.from({ length: 5000 }, () => hashValue(randomBytes(64)))])
    const wideStep = await compareWithBenign('hash chain: 5000 values in one step', () => verify(resultXml('/c.xml#S0', randomBytes(64)), { '/c.xml': wide }), benignOfSize(wide.length))
    expectRefusal(wideStep.adversarial, 'malformed_hash_chain')
    expect((wideStep.adversarial.error as Error).message).toMatch(/more than 1024 values/)

    const files: Record<string, string> = {}
    for (let i = 0; i < 20; i++) files[`/c${i}.xml`] = chainXml([[stepRef(`/c${i + 1}.xml#S0`), hashValue(randomBytes(64))]])
    const total = Object.values(files).reduce((n, f) => n + f.length, 0)
    const manyFiles = await compareWithBenign('hash chain: 20 chain files', () => verify(resultXml('/c0.xml#S0', randomBytes(64)), files), benignOfSize(total))
    expectRefusal(manyFiles.adversarial, 'malformed_hash_chain')
    expect((manyFiles.adversarial.error as Error).message).toMatch(/more than 8 chain files/)

    const huge = chainXml([[hashValue(randomBytes(64))]]).replace('</h:HashChain>', `<!--${'x'.repeat(2 * 1024 * 1024)}--></h:HashChain>`)
    const tooLarge = await compareWithBenign('hash chain: 2 MB document, limit 1 MB',
      () => verify(resultXml('/c.xml#S0', randomBytes(64)), { '/c.xml': huge }, undefined, {}), benignOfSize(1024 * 1024 - 64 * 1024))
    expectRefusal(tooLarge.adversarial, 'malformed_hash_chain')
    expect((tooLarge.adversarial.error as Error).message).toMatch(/larger than 1048576 bytes/)
  })

  it('digests data referenced many times once, and the same data in at most two ways', async () => {
    const body = randomBytes(4 * 1024 * 1024)
    const bodyDigest = sha512(body)
    const inputs = { '/attachment1': { data: body } }
    const refs = Array.from({ length: 1000 }, () => dataRef('/attachment1', bodyDigest))
    const fanOut = chainXml([refs])
    const fanOutTop = sha512(concatDigests(refs.map(() => single(bodyDigest))))
    // The benign chain references the part once and is padded to the same size with steps nobody references.
    const filler = hashValue(randomBytes(64))
    const once = chainXml([[dataRef('/attachment1', bodyDigest)], ...Array.from({ length: 2 }, () => Array.from({ length: 500 }, () => filler))])
    const onceTop = sha512(concatDigests([single(bodyDigest)]))
    expect(Math.abs(once.length - fanOut.length) / fanOut.length).toBeLessThan(0.5)
    const { adversarial } = await compareWithBenign('hash chain: 1000 references to a 4 MB part',
      () => verify(resultXml('/c.xml#S0', fanOutTop), { '/c.xml': fanOut }, inputs), () => verify(resultXml('/c.xml#S0', onceTop), { '/c.xml': once }, inputs))
    expect(adversarial.error).toBeUndefined()

    const c14n = ['http://www.w3.org/TR/2001/REC-xml-c14n-20010315', 'http://www.w3.org/2001/10/xml-exc-c14n#']
    const variants: string[] = []
    for (let n = 1; n <= 4; n++) {
      for (let mask = 0; mask < 1 << n; mask++) {
        variants.push(`<Transforms>${Array.from({ length: n }, (_, i) => `<Transform Algorithm="${c14n[(mask >> i) & 1]}"/>`).join('')}</Transforms>`)
      }
    }
    const xmlBody = Buffer.from(`<a>${'<b>x</b>'.repeat(20_000)}</a>`)
    const xmlInputs = { '/attachment1': { data: xmlBody } }
    const transformed = chainXml([variants.map((t) => dataRef('/attachment1', sha512(xmlBody), t))])
    const oneVariant = chainXml([[dataRef('/attachment1', sha512(xmlBody), variants[0])], variants.slice(1).map(() => filler)])
    const oneTop = sha512(concatDigests([single(sha512(xmlBody))]))
    const bounded = await compareWithBenign('hash chain: 30 transform variants of one part',
      () => verify(resultXml('/c.xml#S0', randomBytes(64)), { '/c.xml': transformed }, xmlInputs),
      () => verify(resultXml('/c.xml#S0', oneTop), { '/c.xml': oneVariant }, xmlInputs))
    expectRefusal(bounded.adversarial, 'malformed_hash_chain')
    expect((bounded.adversarial.error as Error).message).toMatch(/in more than 2 ways/)
  })
})

describe('hash chains in signatures: the provider path, signed with a certificate of the sender\'s own making', () => {
  let signer: TestCert
  let ocsp: Buffer
  let trust: VerificationTrust
  const member = memberId('DEV', 'COM', '4422')

  beforeAll(async () => {
    const pki = await makeTrustSetup()
    signer = await makeCertificate({ subject: 'C=DEV, O=COM, CN=4422', issuer: pki.ca, keyUsage: ['nonRepudiation'] })
    ocsp = await makeOcspResponse({ cert: signer, issuer: pki.ca, responder: pki.ocsp })
    trust = verificationTrust({
      instance: 'DEV',
      approvedCas: [{
        name: 'Test CA', topCert: pki.ca.der, ocspResponderCerts: [pki.ocsp.der],
        certificateProfileInfo: 'ee.ria.xroad.common.certificateprofile.impl.EjbcaCertificateProfileInfoProvider',
      }],
      approvedTsas: [],
    })
  })

  const soft = (req: SignRequest): Buffer => cryptoSign(`sha${req.algorithm.slice(-3)}`, req.dataToSign, signer.keyObject)

  it('verifies a signed request whose hash chain is the depth-21 shared-reference DAG in time comparable to a 4096-message batch', async () => {
    const dag = sharedReferenceChain(21)
    const dagResult = dag.result.replace('/c.xml#S0', '/sig-hashchain.xml#S0')
    const dagSignature = await buildSignature({ hashChainResult: dagResult, signingCert: signer.der, ocspResponses: [ocsp], sign: soft })
    const batch = buildHashChains(Array.from({ length: 4096 }, (_, i) => ({ parts: [{ uri: '/message.xml', digest: i === 0 ? sha512(MESSAGE) : sha512(String(i)) }] })))
    const batchSignature = await buildSignature({ hashChainResult: batch.resultXml, signingCert: signer.der, ocspResponses: [ocsp], sign: soft })
    const base = { expectedSigner: member, trust, atTime: new Date(), parts: { '/message.xml': MESSAGE } }
    const { adversarial } = await compareWithBenign('signature: depth-21 shared-reference hash chain',
      () => verifySignature(dagSignature, { ...base, hashChainResult: dagResult, hashChain: dag.chain }),
      () => verifySignature(batchSignature, { ...base, hashChainResult: batch.resultXml, hashChain: batch.chains[0] }))
    expect(adversarial.error).toBeUndefined()
  })
})

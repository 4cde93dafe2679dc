import { createHash } from 'node:crypto'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { seededRandom } from '../../scripts/lib/seeded-random'
import {
  buildHashChains, buildSignature, DIGEST_URIS, type DigestAlgorithm, type HashChainInput, type SignatureAlgorithm,
} from '../../src-main/signature'
import { BatchSigner, type MessagePartToSign, type SigningContext } from '../../src-main/signer'

/**
 * The documents a signer writes stay byte for byte what they were before their builders were made cheaper (issue 15):
 * hash chains against the array-based renderer they replaced (kept below as the reference), signature documents and
 * whole batches against SHA-256 digests of what the earlier code wrote for the same input. Fixed certificates (an EC
 * signing certificate whose issuer name needs escaping and holds non-ASCII text, and its CA as an intermediate), a
 * fixed signing time and a token that returns fixed bytes make the documents deterministic.
 */

const SIGNING_CERT = Buffer.from('MIIBRjCB7gIEB1vNFTAKBggqhkjOPQQDAjA+MQswCQYDVQQGEwJFRTEbMBkGA1UECgwSQSZCIDx4PiAicSIgzqltZWdhMRIwEAYDVQQDDAlMYXlvdXQgQ0EwIBcNMjYxMjA3MDQ1MjM0WhgPMjEyNjExMTMwNDUyMzRaMB0xDDAKBgNVBAoMA0NPTTENMAsGA1UEAwwEMTIzNDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABHnEHVIC9oDxjGRWNyYwE01vGG8mJHF0Rw3MUtsegwOujfOO1/HJuqLo9b0cEZPVaffBkDcITDhqKLd+9uP1OdkwCgYIKoZIzj0EAwIDRwAwRAIgQqJvaItzVdk1ZKxuA+IJ6yK9u8qhnOyvBN3VcWJB1IECIFkQIkSX0qPnEFdPbs7HZ0CvNg+2nSe8na2SaaF+cl/Q', 'base64')
const CA_CERT = Buffer.from('MIIB0zCCAXmgAwIBAgIUJRGIoBwjtF0h653pS9rSK8uYEFEwCgYIKoZIzj0EAwIwPjELMAkGA1UEBhMCRUUxGzAZBgNVBAoMEkEmQiA8eD4gInEiIM6pbWVnYTESMBAGA1UEAwwJTGF5b3V0IENBMCAXDTI2MTIwNzA0NTIzM1oYDzIxMjYxMTEzMDQ1MjMzWjA+MQswCQYDVQQGEwJFRTEbMBkGA1UECgwSQSZCIDx4PiAicSIgzqltZWdhMRIwEAYDVQQDDAlMYXlvdXQgQ0EwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAASiHocvUz4YYb7LL2mOK3C6zye9plHDFx0hki25BomLIWIS9PFLAIZSzHQSMzzMObZWcSoUNg2TvO/RMh0SzciEo1MwUTAdBgNVHQ4EFgQUs/giFRdeVlmqcEpH0ZX9n15wSfkwHwYDVR0jBBgwFoAUs/giFRdeVlmqcEpH0ZX9n15wSfkwDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNIADBFAiEAnA2DJNN25Nv6+z8COggqnil6UMz/U7WNF0oOSzjSB40CIA/mddQE6O4pTWveuaS6KKB9umolhVf6iwxh9Lp6npJH', 'base64')
const OCSP = [Buffer.alloc(700, 0x5a), Buffer.from('short OCSP')]
const SIGNING_TIME = new Date('2026-12-07T05:00:00.123Z')

const sha256 = (data: Uint8Array | string): string => createHash('sha256').update(data).digest('hex')

function pseudoDigest(rnd: () => number, length: number): Buffer {
  return Buffer.from(Array.from({ length }, () => Math.floor(rnd() * 256)))
}

// ---- the reference: the hash-chain layout as the array-based builder wrote it ------------------------------------

type StepItem = { kind: 'HashValue'; digest: Uint8Array } | { kind: 'StepRef'; uri: string } | { kind: 'DataRef'; uri: string; digest: Uint8Array }

const XML_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
const DS = 'http://www.w3.org/2000/09/xmldsig#'
const HC = 'http://cyber.ee/hashchain'
const b64 = (d: Uint8Array): string => Buffer.from(d).toString('base64')

function referenceStep(algorithm: DigestAlgorithm, digests: Uint8Array[]): Buffer {
  // DER SEQUENCE OF SingleDigest (short lengths suffice here: digests and the method URIs are under 128 bytes).
  const method = Buffer.from(DIGEST_URIS[algorithm], 'utf8')
  const singles = digests.map((d) => {
    const body = Buffer.concat([Buffer.from([0x04, d.length]), d, Buffer.from([0x0c, method.length]), method, Buffer.from([0x30, 0])])
    return Buffer.concat([Buffer.from([0x30, body.length]), body])
  })
  const content = Buffer.concat(singles)
  const header = content.length < 0x80 ? Buffer.from([0x30, content.length]) : Buffer.from([0x30, 0x81, content.length])
  const hash = { 'SHA-1': 'sha1', 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' }[algorithm]
  return createHash(hash).update(Buffer.concat([header, content])).digest()
}

function referenceChain(algorithm: DigestAlgorithm, steps: StepItem[][]): string {
  const out = [XML_DECL, `<ns2:HashChain xmlns="${DS}" xmlns:ns2="${HC}">\n`, `    <ns2:DefaultDigestMethod Algorithm="${DIGEST_URIS[algorithm]}"/>\n`]
  steps.forEach((items, index) => {
    out.push(`    <ns2:HashStep id="STEP${index}">\n`)
    for (const item of items) {
      if (item.kind === 'StepRef') out.push(`        <ns2:StepRef URI="${item.uri}"/>\n`)
      else if (item.kind === 'HashValue') out.push(`        <ns2:HashValue>\n            <DigestValue>${b64(item.digest)}</DigestValue>\n        </ns2:HashValue>\n`)
      else out.push(`        <ns2:DataRef URI="${item.uri}">\n            <DigestValue>${b64(item.digest)}</DigestValue>\n        </ns2:DataRef>\n`)
    }
    out.push('    </ns2:HashStep>\n')
  })
  out.push('</ns2:HashChain>\n')
  return out.join('')
}

function referenceChains(inputs: HashChainInput[], algorithm: DigestAlgorithm, file: string): { resultXml: string; chains: string[]; top: Buffer } {
  const leaves = inputs.map((input) => input.parts.length === 1 ? Buffer.from(input.parts[0]!.digest) : referenceStep(algorithm, input.parts.map((p) => p.digest)))
  const height = Math.ceil(Math.log2(leaves.length))
  const internal = (1 << height) - 1
  const tree: Array<Buffer | undefined> = new Array(internal + (1 << height)).fill(undefined)
  leaves.forEach((leaf, i) => (tree[internal + i] = leaf))
  for (let i = internal - 1; i >= 0; i--) {
    const left = tree[2 * i + 1]
    const right = tree[2 * i + 2]
    tree[i] = left !== undefined && right !== undefined ? referenceStep(algorithm, [left, right]) : left
  }
  const top = inputs.length === 1 && inputs[0]!.parts.length === 1 ? referenceStep(algorithm, [leaves[0]!]) : inputs.length === 1 ? leaves[0]! : tree[0]!
  const chains = inputs.map((input, index) => {
    const leafRef = (next: number): StepItem => input.parts.length === 1
      ? { kind: 'DataRef', uri: input.parts[0]!.uri, digest: input.parts[0]!.digest }
      : { kind: 'StepRef', uri: `#STEP${next}` }
    const path: Array<{ sibling: Buffer; ownIsLeft: boolean }> = []
    for (let node = internal + index; node > 0;) {
      const parent = Math.floor((node - 1) / 2)
      const isLeft = node === 2 * parent + 1
      const sibling = tree[isLeft ? node + 1 : node - 1]
      if (sibling !== undefined) path.unshift({ sibling, ownIsLeft: isLeft })
      node = parent
    }
    const steps: StepItem[][] = path.map((level, depth) => {
      const own: StepItem = depth === path.length - 1 ? leafRef(depth + 1) : { kind: 'StepRef', uri: `#STEP${depth + 1}` }
      const other: StepItem = { kind: 'HashValue', digest: level.sibling }
      return level.ownIsLeft ? [own, other] : [other, own]
    })
    if (input.parts.length > 1 || steps.length === 0) steps.push(input.parts.map((p) => ({ kind: 'DataRef', uri: p.uri, digest: p.digest })))
    return referenceChain(algorithm, steps)
  })
  const resultXml = `${XML_DECL}<ns2:HashChainResult URI="${file}#STEP0" xmlns="${DS}" xmlns:ns2="${HC}">\n` +
    `    <DigestMethod Algorithm="${DIGEST_URIS[algorithm]}"/>\n    <DigestValue>${b64(top)}</DigestValue>\n</ns2:HashChainResult>\n`
  return { resultXml, chains, top }
}

describe('hash-chain layout', () => {
  it('writes every batch of 1–40, 63–65 and 100 inputs of 1–3 parts as the array-based builder did', () => {
    const rnd = seededRandom(15)
    const lengths: Record<DigestAlgorithm, number> = { 'SHA-1': 20, 'SHA-256': 32, 'SHA-384': 48, 'SHA-512': 64 }
    const counts = [...Array.from({ length: 40 }, (_, i) => i + 1), 63, 64, 65, 100]
    let compared = 0
    for (const algorithm of ['SHA-512', 'SHA-256', 'SHA-1'] as DigestAlgorithm[]) {
      for (const count of counts) {
        // Part counts mixed within the batch; digests as Buffers and as plain Uint8Arrays (views into a larger buffer).
        const inputs: HashChainInput[] = Array.from({ length: count }, (_, i) => ({
          parts: Array.from({ length: 1 + Math.floor(rnd() * 3) }, (_, p) => {
            const digest = pseudoDigest(rnd, lengths[algorithm])
            const view = new Uint8Array(Buffer.concat([Buffer.alloc(3), digest]).buffer, 3, digest.length)
            return { uri: p === 0 ? '/message.xml' : `/attachment${p}`, digest: (i + p) % 2 === 0 ? digest : view }
          }),
        }))
        const built = buildHashChains(inputs, algorithm, '/sig-hashchain.xml')
        const expected = referenceChains(inputs, algorithm, '/sig-hashchain.xml')
        expect(built.resultXml).toBe(expected.resultXml)
        expect(built.chains).toEqual(expected.chains)
        expect(built.topDigest.equals(expected.top)).toBe(true)
        compared += count
      }
    }
    expect(compared).toBeGreaterThan(3 * 900)
  })

  it('leaves the input digests untouched', () => {
    const digests = [Buffer.alloc(64, 1), Buffer.alloc(64, 2), Buffer.alloc(64, 3)]
    const copies = digests.map((d) => Buffer.from(d))
    buildHashChains([{ parts: [{ uri: '/message.xml', digest: digests[0]! }] }, { parts: [{ uri: '/message.xml', digest: digests[1]! }, { uri: '/attachment1', digest: digests[2]! }] }])
    expect(digests).toEqual(copies)
  })
})

// ---- signature documents and batches against the earlier code's output ----------------------------------------

/** SHA-256 of what the earlier builders wrote, per case below. */
const GOLDEN: Record<string, string> = {}

const fixedSign = (algorithm: SignatureAlgorithm): Buffer => Buffer.from(createHash('sha512').update(algorithm).digest())

describe('signature document layout', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('writes direct and hash-chain-result signatures as before, with and without intermediates and OCSP responses', async () => {
    const actual: Record<string, string> = {}
    const message = Buffer.from('<env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/"><env:Body>é</env:Body></env:Envelope>')
    const chainResult = buildHashChains([{ parts: [{ uri: '/message.xml', digest: createHash('sha512').update('m').digest() }] }]).resultXml
    for (const digestAlgorithm of ['SHA-512', 'SHA-256'] as DigestAlgorithm[]) {
      for (const signatureAlgorithm of ['ECDSA-SHA512', 'RSA-SHA256'] as SignatureAlgorithm[]) {
        for (const [certs, intermediates, ocspResponses] of [['leaf', [], []], ['ca', [CA_CERT], [OCSP[0]!]], ['ca-2ocsp', [CA_CERT], OCSP]] as const) {
          for (const kind of ['direct', 'batch']) {
            const xml = await buildSignature({
              signingCert: SIGNING_CERT, intermediates: [...intermediates], ocspResponses: [...ocspResponses], digestAlgorithm, signatureAlgorithm,
              signingTime: SIGNING_TIME, sign: (request) => fixedSign(request.algorithm),
              ...(kind === 'direct' ? { parts: [{ uri: '/message.xml', data: message }] } : { hashChainResult: chainResult }),
            })
            actual[`${digestAlgorithm} ${signatureAlgorithm} ${certs} ${kind}`] = sha256(xml)
          }
        }
      }
    }
    expect(actual).toEqual(Object.fromEntries(Object.entries(GOLDEN).filter(([k]) => !k.startsWith('batch'))))
  })

  it('gives every message of batches of 1–17 and 32 messages of 1–3 parts the documents it had before', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(SIGNING_TIME)
    const context: SigningContext = {
      certChain: [SIGNING_CERT, CA_CERT], keyId: 'layout-key', algorithm: 'ecdsa-sha512', ocspResponses: OCSP,
      sign: async (_digest, data) => Buffer.from(createHash('sha512').update(data!).digest()),
    }
    const signer = new BatchSigner()
    const rnd = seededRandom(4)
    const actual: Record<string, string> = {}
    for (const size of [...Array.from({ length: 17 }, (_, i) => i + 1), 32]) {
      for (const parts of [1, 2, 3]) {
        const messages = Array.from({ length: size }, (): MessagePartToSign[] => Array.from({ length: parts }, (_, p) => {
          const bytes = pseudoDigest(rnd, 40 + Math.floor(rnd() * 200))
          const name = p === 0 ? '/message.xml' : `/attachment${p}`
          // Bodies hashed while they streamed in come as digests.
          return p === 2 ? { name, digest: createHash('sha512').update(bytes).digest(), digestAlgorithm: 'SHA-512' } : { name, bytes }
        }))
        const signed = await Promise.all(messages.map((m) => signer.sign(context, m)))
        const hash = createHash('sha256')
        for (const s of signed) {
          hash.update(s.signatureXml).update('|').update(s.hashChainResult ?? '-').update('|').update(s.hashChain ?? '-').update('\n')
        }
        actual[`batch ${size}x${parts}`] = hash.digest('hex')
      }
    }
    expect(signer.stats.signatures).toBe(18 * 3)
    expect(actual).toEqual(Object.fromEntries(Object.entries(GOLDEN).filter(([k]) => k.startsWith('batch'))))
  })
})

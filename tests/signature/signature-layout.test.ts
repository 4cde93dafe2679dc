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
  // DER SEQUENCE OF SingleDigest { OCTET STRING, UTF8String, SEQUENCE {} } (X.690 §8.1.3 lengths).
  const tlv = (tag: number, body: Buffer): Buffer => {
    const length = body.length < 0x80 ? [body.length] : body.length < 0x100 ? [0x81, body.length] : [0x82, body.length >> 8, body.length & 0xff]
    return Buffer.concat([Buffer.from([tag, ...length]), body])
  }
  const method = Buffer.from(DIGEST_URIS[algorithm], 'utf8')
  const content = Buffer.concat(digests.map((d) => tlv(0x30, Buffer.concat([tlv(0x04, Buffer.from(d)), tlv(0x0c, method), Buffer.from([0x30, 0])]))))
  const hash = { 'SHA-1': 'sha1', 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' }[algorithm]
  return createHash(hash).update(tlv(0x30, content)).digest()
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
const GOLDEN: Record<string, string> = {
  'SHA-512 ECDSA-SHA512 leaf direct': '83d55626001d1afe746011711c9f623eadc8c9b0c410e0f4b7f54df47898ab8b',
  'SHA-512 ECDSA-SHA512 leaf batch': 'b1e100079dba2c9b6cd350d774efd3ef421d4ddb7457c5dc43fb7d2abbf9bfd6',
  'SHA-512 ECDSA-SHA512 ca direct': '0704d3c4e2d9898467cac4fffecae5b98c79424bbaefe10fc2892a5674e02a87',
  'SHA-512 ECDSA-SHA512 ca batch': '5ee6cadc9f3f0e0cf46c40f43ef1c113ee5f98e9ce31da69fc9459831809c0ab',
  'SHA-512 ECDSA-SHA512 ca-2ocsp direct': '95ae8b0191c3306ed0016ecf9fd21fcbd39ca50d62cee23a8d577c11d86d85e5',
  'SHA-512 ECDSA-SHA512 ca-2ocsp batch': '541999041f407d98fbc22e6c77911f6beb98a2a63155440fca13736f3d6d5709',
  'SHA-512 RSA-SHA256 leaf direct': '5df40d19b56a3608e04380317cdaa83943dcf9a0e3f8d97b95214a6c5916296b',
  'SHA-512 RSA-SHA256 leaf batch': '1e1f8bdbe9f31a99ca45de2018c74c6ac7907bf3379dcd3a542fe18f88ae2100',
  'SHA-512 RSA-SHA256 ca direct': '2dda69da9fd928e3025f9eb9d526bbe1cdf89319f4b7fe800d3a725bdbb30ec3',
  'SHA-512 RSA-SHA256 ca batch': 'c2eb43c646cc36e62c70ba2f44350c88961b282d656ab6bb12bf24a07b8112d3',
  'SHA-512 RSA-SHA256 ca-2ocsp direct': '4a84d6207569a90b2b6258379b3bb6f5a33d28c4267bbf40864be9dc08e3c4c9',
  'SHA-512 RSA-SHA256 ca-2ocsp batch': '1383dc1958ccc95375d05e27c3cbf1bb7219a26456a685021e02e327205b301b',
  'SHA-256 ECDSA-SHA512 leaf direct': '8c11ee718f22de12183501f86c8fee818b60163de0e615588624b0336ce67066',
  'SHA-256 ECDSA-SHA512 leaf batch': '71a0457d2a15af01f764eaebc46c2efb226f7d009b2c1f7d54ad742ef15c41e2',
  'SHA-256 ECDSA-SHA512 ca direct': '5df2e4029003a2094eff35d49ab4b57101fcb40c9a2ed353229279945bd75d73',
  'SHA-256 ECDSA-SHA512 ca batch': 'baf131d2cb6cd513d3dbf322ad240779f5c5755a24509181dd000bc3320230c9',
  'SHA-256 ECDSA-SHA512 ca-2ocsp direct': '885a0a4975f79d57e51723985024ba6d32839298e7af4aab453cc0363acb0749',
  'SHA-256 ECDSA-SHA512 ca-2ocsp batch': '8a6d5defe5b9c83be1391bf6d3999be7d39ea8f50613f6d3d6b29e6c861d63af',
  'SHA-256 RSA-SHA256 leaf direct': '072e859b552a35e8101a8a1018dd731dc0d5c27af2b837c4966bc121b3c63b3c',
  'SHA-256 RSA-SHA256 leaf batch': '929ece8724d76c2bd10798735590d3d06157abe5988244051cd97ebb4360e3ce',
  'SHA-256 RSA-SHA256 ca direct': 'c364ba0fd2dc66acd47f3a5a2ccc34fd63240f37f13531818612959bdab8d017',
  'SHA-256 RSA-SHA256 ca batch': '704ae62a9b6a4b2bc035e7b8cef69312a8592d365e45d61a40d54fd6b68ffabf',
  'SHA-256 RSA-SHA256 ca-2ocsp direct': 'd254605fe2a26fbb367a265add8569dfb1fb735b9db74382d0645270e2ed78ee',
  'SHA-256 RSA-SHA256 ca-2ocsp batch': '9da753996c41ced96ba72bd6b7dc5fd6c8f0210055b0277923f8a7aee6c99463',
  'batch 1x1': '0169d71d8831a840309ef89c5a663be71ed150fdc8ea44eeb957fa42251b6de2',
  'batch 1x2': '8846d22ca88ef897ab9bdc701f692e409c3ceb0e21e01a429794db7d87ef85ec',
  'batch 1x3': 'a82f75b05cf7a5a1e314a30a903b9d3eb7e815d16159404d8e5460d7c7559f6c',
  'batch 2x1': 'c7f732a8f9e6f51004626ea8190ad1029d0ef03934af7b9d0edc7e3c067b56a1',
  'batch 2x2': '02653808c7a3780d6072af55a43ca10e17c337c1355a7e9b837f1a292548be5d',
  'batch 2x3': 'b440c6f1f0ef693f8df17bdf035b370b5d7d6773dce6f6fa0c70bc2ea3bb445e',
  'batch 3x1': 'f2c4992ddc2766f57af7cfc20d906f6c1238f9b8af39bd681c7a7728758b8036',
  'batch 3x2': 'f9758a9484c62262711b1b7b08909fc81993401a071e6f3fc471f8341b49a706',
  'batch 3x3': '95c409586eddfc7a63a8ae8f910a411dd91ea3afc4099a143df4ff90061b75b8',
  'batch 4x1': '427466e77083adf66ee3a1f9c9d5c3ccee5bda3f9e9c40b8d15be21e2bed2091',
  'batch 4x2': '4dca8d4c40f1c876ae151292a46af372dbfbb847fd17c05c37060eac2e159f0b',
  'batch 4x3': '5698fc2396f50740276af65283ee75b28d77f20a3bec15aafda579e72e2f26b1',
  'batch 5x1': 'dcc692d840d5064072dd96a9536bd1dc48396d8bc8fc09675ee5c4b49e8aa0fb',
  'batch 5x2': 'd37ff80eac981e06b03d9ccd93d6db28db7e8df485a809f556787300f17c6734',
  'batch 5x3': '804a8dd6cb0e8ebd38034159bb5d57e256fa5f8d1d82a8bbce76936c8e9383fe',
  'batch 6x1': '944a15894c0ba89c11f063f5b9d057997177d2e030ddd5f3c89bf1cf1e766ed2',
  'batch 6x2': '54a1a0983a397e868f97107f046cb9a43ad7eb909fd6267af8c3e814ee8e45a6',
  'batch 6x3': '6aa374d1a8e06a9a29726ea270d1238aa651372be997dfabaf84d66d404ddf67',
  'batch 7x1': '8ed50e1d7fd41b51dccc77026834d186e9dbcbbd662a44e97e6e818fad4a5b4d',
  'batch 7x2': '56f765e95b6dc0d81c6f588bf140ffc4470f0059ef7852b910fd91a9a2c83f64',
  'batch 7x3': 'c71d439a0f1432d7f006e9b2f7c1812c9ce863dad63667115c2118a182889ad7',
  'batch 8x1': 'e8d9e335f0fbb133b2a6f1f94663be8b53d0ad0ceed89306680dc15b89b3debd',
  'batch 8x2': 'c8ffd674874f4660dab50b34098e2a1f1635eb5a04c4976a24c76c02528381ea',
  'batch 8x3': 'e2d22a4b05dde12a0087b794a367d4c5569c55aabb60e1415613b558d40bd375',
  'batch 9x1': '7b09bf0508f4d1697a6580aab9ed6f760c587ede7dac4ccb61cd83fddbc112a7',
  'batch 9x2': 'e78c7751159170dcb55acfda23c037cfc967855eb7bf1c89c4f7268e7df596e8',
  'batch 9x3': 'fa3d6ed10a23b571d8703c7a3d3e2696dca17db44b444f8a488c56f939a2becc',
  'batch 10x1': 'ee774c56204804042dd136b8fd3e8521b0393dccde141b5e89fdd1516d031703',
  'batch 10x2': 'd2b29b30eec1c57ff8015d43b13f2a02000670d878d32fa6b00fb6d5b51b6556',
  'batch 10x3': 'eaeb2a00951fa5a161407ac770af0218c297feaf74dc8c8e0014aa7e227451c8',
  'batch 11x1': '5e3cb80e54a965bc195f8d57cc5c13ddbddbab80d3c91c7973d685d59ef0ecec',
  'batch 11x2': 'f1a9f2b9d3ee0f47b60afee536a6bfd7cce75470b76901b76da4953f0b50d408',
  'batch 11x3': '7b17471b707b657265bae6e714b2e7fd9e370d154f8d27b50751d7b9f5f8430f',
  'batch 12x1': '38ddc8a971a60b464881102e5ab8a5b4cd0f7cf9eab9e5326ab44ba8f02ad9cf',
  'batch 12x2': '92b4530aeaca74f20fa4cab66c964641fd0e747ebbca4d8d17d323cce7b416fa',
  'batch 12x3': 'b4cf7f33e0957fee2b640bd26478eba3a2bd7563be9eba7265b507e904a4eceb',
  'batch 13x1': '44ee8c57aa7cdf988189f3d65093f011cb117153ccb11916a831bd3e46661039',
  'batch 13x2': 'a703248db2df89b58305a5c0e2371a0e05808c1ee966100fa7425493d5d8f99d',
  'batch 13x3': 'da101523eeadd019d437e3f0f7a3eda62673126ba2974212f9e67d4768ae8ffe',
  'batch 14x1': 'a69fd2f70e8bbf313134967ca21f3b5636d5f886f5209a2e8390e0d9c247bea3',
  'batch 14x2': 'e3d57935aca5f122628a637c992af64beac3101b164bd62f27984eae190913d2',
  'batch 14x3': '5882880179a9d3fd26a1437b90123d717e7ecb0057fd70ef3336841795395d2e',
  'batch 15x1': '586511e44d61f5a287c7542d3d3e60bce2ce1dc768374c7dfdd8d8123ec99c66',
  'batch 15x2': '3d84cdb21e31583cabc392e95404519d1d419ee54bfea649c2bab634a5fc1e2f',
  'batch 15x3': 'c789a73ae54616ab1f4128f42356bea3e266448db3424a1cb106b22c78c51ab7',
  'batch 16x1': 'c46fabdb859cfbd3dd125a149e6306a7ce7fb726655b730fd3db74c38fe68eb9',
  'batch 16x2': 'b590cc3b83b189ea65ebc8d40a6a4b3b1aec632f4d54f6b59272936c38106230',
  'batch 16x3': 'e4d15f71eca563d02d1181d0c6de9cb1a5985f299c687d8cbd0136e7792d34be',
  'batch 17x1': '038ca1a554c5687ac0a6128da86351093378ef2aa77d3bda1e8ea5f44891c0d0',
  'batch 17x2': '41443e18cc55fed96fa7fa44f28eb93c6e5e6bd9c4245a506c7bb732b116da21',
  'batch 17x3': '5e815a8dabcbebcab35bfdf2b2ce5d530d62f5957312bc7ba30cbd178a1598bb',
  'batch 32x1': 'ea8b32cfda44770275dc88d7d0f74cafd4323e10151509dda233f5d5f36a7356',
  'batch 32x2': '2959cced5fe4b958751c44e19df259d1bb6efcd8eda05b77f83a6f56eda7d868',
  'batch 32x3': '29b10a6e57ca969197ad75dd254d6e8252b75cc09a9cc9c64ee7e71894bd7665',
}

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

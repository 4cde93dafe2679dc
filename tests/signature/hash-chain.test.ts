import { createHash, randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import * as asn1js from 'asn1js'
import { buildHashChains, concatDigests, partDigest, readAsicContainer, verifyHashChain, type HashChainInput } from '../../src-main/signature'
import { describeFixtures } from '../support/describe-fixtures'
import { readFixture } from '../support/fixtures'

const dir = 'hashchain/common-message'
const sha512 = (d: Uint8Array | string): Buffer => createHash('sha512').update(d).digest()

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (error) {
    return (error as { code?: string }).code
  }
  return 'no error'
}

describeFixtures('hash chain conformance (hashchain/common-message)', () => {
  it('hc-verifier1: simple chain verifies with the message resolved', () => {
    const store: Record<string, Buffer> = {
      '/hashchain.xml': readFixture(dir, 'hc-verifier1-hashchain.xml'),
      '/message.xml': readFixture(dir, 'hc-verifier1-message.xml'),
    }
    const result = verifyHashChain(readFixture(dir, 'hc-verifier1-hashchainresult.xml'), { resolve: (u) => store[u], inputs: { '/message.xml': null } })
    expect(result.unresolved).toEqual([])
    // A different message breaks the DataRef digest.
    expect(codeOf(() => verifyHashChain(readFixture(dir, 'hc-verifier1-hashchainresult.xml'), {
      resolve: (u) => (u === '/message.xml' ? Buffer.from('tw0') : store[u]), inputs: { '/message.xml': null },
    }))).toBe('invalid_hash_chain_ref')
    // An input the chain never references.
    expect(codeOf(() => verifyHashChain(readFixture(dir, 'hc-verifier1-hashchainresult.xml'), {
      resolve: (u) => store[u], inputs: { '/message.xml': null, '/attachment1': { data: Buffer.from('x') } },
    }))).toBe('hashchain_unused_inputs')
  })

  it('hc-verifier2: attachments given as precomputed digests', () => {
    const chain = readFixture(dir, 'hc-verifier2-hashchain.xml')
    const input = (b: number) => ({ digest: Buffer.from([b]), algorithm: 'SHA-256' as const })
    const inputs = { '/message.xml': input(0x0b), '/attachment1': input(0x0c), '/attachment2': input(0x0d), '/attachment3': input(0x0e) }
    verifyHashChain(readFixture(dir, 'hc-verifier2-hashchainresult.xml'), { resolve: (u) => (u === '/hashchain.xml' ? chain : undefined), inputs })
    expect(codeOf(() => verifyHashChain(readFixture(dir, 'hc-verifier2-hashchainresult.xml'), {
      resolve: (u) => (u === '/hashchain.xml' ? chain : undefined), inputs: { ...inputs, '/attachment2': input(0x0f) },
    }))).toBe('invalid_hash_chain')
  })

  it('hc-verifier3: DataRef with a C14N transform; without it the digest does not match', () => {
    const message = readFixture(dir, 'hc-verifier3-message.xml')
    const ok = readFixture(dir, 'hc-verifier3-hashchain.xml')
    verifyHashChain(readFixture(dir, 'hc-verifier3-hashchainresult.xml'), { resolve: (u) => (u === '/hashchain.xml' ? ok : message), inputs: { '/message.xml': null } })
    const bad = readFixture(dir, 'hc-verifier3-hashchain-invalid.xml')
    expect(codeOf(() => verifyHashChain(readFixture(dir, 'hc-verifier3-hashchainresult.xml'), {
      resolve: (u) => (u === '/hashchain.xml' ? bad : message), inputs: { '/message.xml': null },
    }))).toBe('invalid_hash_chain_ref')
  })

  it('hc-verifier4: a chain continued in a second file', () => {
    const store: Record<string, Buffer> = {
      '/hashchain.xml': readFixture(dir, 'hc-verifier4-hashchain1.xml'),
      '/hashchain2.xml': readFixture(dir, 'hc-verifier4-hashchain2.xml'),
      '/message.xml': readFixture(dir, 'hc-verifier4-message.xml'),
    }
    verifyHashChain(readFixture(dir, 'hc-verifier4-hashchainresult.xml'), { resolve: (u) => store[u], inputs: { '/message.xml': null } })
    expect(codeOf(() => verifyHashChain(readFixture(dir, 'hc-verifier4-hashchainresult.xml'), {
      resolve: (u) => (u === '/hashchain2.xml' ? undefined : store[u]), inputs: { '/message.xml': null },
    }))).toBe('invalid_reference')
  })

  it('hc-verifier5: a schema-invalid chain is rejected as malformed', () => {
    const chain = readFixture(dir, 'hc-verifier5-hashchain-invalid-schema.xml')
    expect(codeOf(() => verifyHashChain(readFixture(dir, 'hc-verifier1-hashchainresult.xml'), {
      resolve: (u) => (u === '/hashchain.xml' ? chain : Buffer.from('two')), inputs: { '/message.xml': null },
    }))).toBe('malformed_hash_chain')
  })

  it('reproduces X-Road\'s batch time-stamp hash chain (valid-batch-ts.asice) byte for byte', async () => {
    const asic = await readAsicContainer(readFixture('asic/asic-verifier-cli/valid-batch-ts.asice'))
    const chain = asic.tsHashChain!.toString('utf8')
    const [own, sibling] = [...chain.matchAll(/<DigestValue>([^<]+)<\/DigestValue>/g)].map((m) => Buffer.from(m[1]!, 'base64'))
    const built = buildHashChains([
      { parts: [{ uri: '/META-INF/signatures.xml', digest: own! }] },
      { parts: [{ uri: '/META-INF/signatures.xml', digest: sibling! }] },
    ], 'SHA-512', '/ts-hashchain.xml')
    expect(built.chains[0]).toBe(chain)
    expect(built.resultXml).toBe(asic.tsHashChainResult!.toString('utf8'))
  })
})

describe('hash chain builder', () => {
  it('builds the single-message multipart form (one step of DataRefs)', () => {
    const parts = [{ uri: '/message.xml', digest: sha512('m') }, { uri: '/attachment1', digest: sha512('a') }]
    const built = buildHashChains([{ parts }])
    expect(built.chains).toHaveLength(1)
    expect(built.resultXml).toBe('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' +
      '<ns2:HashChainResult URI="/sig-hashchain.xml#STEP0" xmlns="http://www.w3.org/2000/09/xmldsig#" xmlns:ns2="http://cyber.ee/hashchain">\n' +
      '    <DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha512"/>\n' +
      `    <DigestValue>${built.topDigest.toString('base64')}</DigestValue>\n</ns2:HashChainResult>\n`)
    expect(built.chains[0]).toContain('<ns2:HashStep id="STEP0">\n        <ns2:DataRef URI="/message.xml">')
    verifyHashChain(built.resultXml, {
      resolve: (u) => (u === '/sig-hashchain.xml' ? Buffer.from(built.chains[0]!) : undefined),
      inputs: { '/message.xml': { data: Buffer.from('m') }, '/attachment1': { data: Buffer.from('a') } },
    })
  })

  it('places DataRef and HashValue by direction like X-Road (two records)', () => {
    const a = sha512('sig-a')
    const b = sha512('sig-b')
    const built = buildHashChains([{ parts: [{ uri: '/META-INF/signatures.xml', digest: a }] }, { parts: [{ uri: '/META-INF/signatures.xml', digest: b }] }], 'SHA-512', '/ts-hashchain.xml')
    expect(built.chains[0]).toBe('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' +
      '<ns2:HashChain xmlns="http://www.w3.org/2000/09/xmldsig#" xmlns:ns2="http://cyber.ee/hashchain">\n' +
      '    <ns2:DefaultDigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha512"/>\n' +
      '    <ns2:HashStep id="STEP0">\n' +
      `        <ns2:DataRef URI="/META-INF/signatures.xml">\n            <DigestValue>${a.toString('base64')}</DigestValue>\n        </ns2:DataRef>\n` +
      `        <ns2:HashValue>\n            <DigestValue>${b.toString('base64')}</DigestValue>\n        </ns2:HashValue>\n` +
      '    </ns2:HashStep>\n</ns2:HashChain>\n')
    expect(built.chains[1]!.indexOf('HashValue')).toBeLessThan(built.chains[1]!.indexOf('DataRef'))
  })

  it('round-trips 1..33 inputs of one or several parts, and each chain rejects another record', () => {
    for (let n = 1; n <= 33; n++) {
      const inputs: HashChainInput[] = []
      const data: Array<Record<string, Buffer>> = []
      for (let i = 0; i < n; i++) {
        const parts = i % 3 === 1 ? ['/message.xml', '/attachment1', '/attachment2'] : ['/message.xml']
        const record = Object.fromEntries(parts.map((uri) => [uri, randomBytes(16)]))
        data.push(record)
        inputs.push({ parts: parts.map((uri) => ({ uri, digest: sha512(record[uri]!) })) })
      }
      const built = buildHashChains(inputs)
      built.chains.forEach((chain, i) => {
        const inputsFor = Object.fromEntries(Object.entries(data[i]!).map(([uri, bytes]) => [uri, { data: bytes }]))
        verifyHashChain(built.resultXml, { resolve: (u) => (u === '/sig-hashchain.xml' ? Buffer.from(chain) : undefined), inputs: inputsFor })
        const other = data[(i + 1) % n]!
        if (n > 1) {
          expect(codeOf(() => verifyHashChain(built.resultXml, {
            resolve: (u) => (u === '/sig-hashchain.xml' ? Buffer.from(chain) : undefined),
            inputs: { '/message.xml': { data: other['/message.xml']! } },
          }))).toBe('invalid_hash_chain_ref')
        }
      })
    }
  })

  it('detects a tampered HashValue as an invalid chain result', () => {
    const built = buildHashChains([{ parts: [{ uri: '/message.xml', digest: sha512('x') }] }, { parts: [{ uri: '/message.xml', digest: sha512('y') }] }])
    const tampered = built.chains[0]!.replace(sha512('y').toString('base64'), sha512('z').toString('base64'))
    expect(codeOf(() => verifyHashChain(built.resultXml, {
      resolve: (u) => (u === '/sig-hashchain.xml' ? Buffer.from(tampered) : undefined), inputs: { '/message.xml': { data: Buffer.from('x') } },
    }))).toBe('invalid_hash_chain')
  })
})

describe('step digest list (DigestList.concatDigests)', () => {
  /** The same DER built by asn1js, an independent encoder. */
  const reference = (items: Array<{ digest: Uint8Array; methodUri: string }>): Buffer => Buffer.from(new asn1js.Sequence({
    value: items.map((item) => new asn1js.Sequence({
      value: [new asn1js.OctetString({ valueHex: item.digest }), new asn1js.Utf8String({ value: item.methodUri }), new asn1js.Sequence({ value: [] })],
    })),
  }).toBER(false))

  it('lays out the DER of SEQUENCE OF SingleDigest byte for byte, short and long lengths alike', () => {
    const sha512 = 'http://www.w3.org/2001/04/xmlenc#sha512'
    const cases: Array<Array<{ digest: Uint8Array; methodUri: string }>> = [
      [],
      [{ digest: Buffer.alloc(0), methodUri: '' }],
      [{ digest: randomBytes(64), methodUri: sha512 }, { digest: randomBytes(64), methodUri: sha512 }],
      [{ digest: randomBytes(127), methodUri: 'urn:é' }, { digest: randomBytes(128), methodUri: 'x'.repeat(255) }],
      [{ digest: randomBytes(300), methodUri: 'y'.repeat(70_000) }],
      Array.from({ length: 40 }, (_, i) => ({ digest: randomBytes(i * 7), methodUri: sha512 })),
    ]
    for (const items of cases) expect(concatDigests(items).equals(reference(items))).toBe(true)
  })
})

describe('message part digests', () => {
  it('are the SHA-512 of the bytes, taken once per part and recomputed for other bytes', () => {
    const part = Buffer.from('<message>1</message>')
    const first = partDigest('SHA-512', part)
    expect(first.equals(createHash('sha512').update(part).digest())).toBe(true)
    expect(partDigest('SHA-512', part)).toBe(first)
    const other = Buffer.from('<message>2</message>')
    expect(partDigest('SHA-512', other).equals(createHash('sha512').update(other).digest())).toBe(true)
    expect(partDigest('SHA-256', part).equals(createHash('sha256').update(part).digest())).toBe(true)
  })
})

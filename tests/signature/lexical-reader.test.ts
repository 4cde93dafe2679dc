import { sign as cryptoSign } from 'node:crypto'
import { beforeAll, describe, expect, it } from 'vitest'
import { seededRandom } from '../../scripts/lib/seeded-random'
import { SecurityServerError } from '../../src-main/platform'
import { buildHashChains, buildSignature, digest, parseHashChain, parseHashChainResult, type SignRequest } from '../../src-main/signature'
import { parseSignature, parseSignatureDom, type ParsedSignature } from '../../src-main/signature/signature-document'
import { C14N_URIS } from '../../src-main/signature/xml-support'
import { makeCertificate } from './support/test-pki'

/**
 * The lexical reader refuses everything outside the layout's XML subset with the verifier's codes, cleanly (a coded
 * SecurityServerError, never another exception) and in time linear in the input (multi-megabyte inputs here would
 * time the test out if any step were quadratic). Fuzzed signatures: whatever the lexical reader accepts, the DOM path
 * accepts and reads the same way.
 */

function codeOf(fn: () => unknown): string {
  try {
    fn()
  } catch (error) {
    if (!(error instanceof SecurityServerError)) throw error
    return error.code
  }
  return 'accepted'
}

describe('lexical signature reader: adversarial input', () => {
  let xml = ''

  beforeAll(async () => {
    const ca = await makeCertificate({ subject: 'O=Gatehouse Test, CN=Gatehouse Test CA', ca: true, keyUsage: ['keyCertSign'], kind: 'EC' })
    const signer = await makeCertificate({ subject: 'C=DEV, O=COM, CN=1234', issuer: ca, keyUsage: ['nonRepudiation'], kind: 'EC' })
    xml = await buildSignature({
      parts: [{ uri: '/message.xml', data: Buffer.from('<m/>') }], signingCert: signer.der, ocspResponses: [Buffer.from('ocsp')],
      intermediates: [ca.der],
      sign: (req: SignRequest) => cryptoSign('sha512', req.dataToSign, { key: signer.keyObject, dsaEncoding: 'ieee-p1363' }),
    })
  })

  const inSignedInfo = (insert: string): string => xml.replace('<ds:SignedInfo>', `<ds:SignedInfo>${insert}`)

  it('accepts what it builds', () => {
    expect(codeOf(() => parseSignature(xml))).toBe('accepted')
  })

  it('refuses comments, processing instructions and CDATA anywhere, and DTDs and unknown entities', () => {
    expect(codeOf(() => parseSignature(inSignedInfo('<!-- c -->')))).toBe('malformed_signature')
    expect(codeOf(() => parseSignature(`${xml}<!-- trailing -->`))).toBe('malformed_signature')
    expect(codeOf(() => parseSignature(inSignedInfo('<?pi data?>')))).toBe('malformed_signature')
    expect(codeOf(() => parseSignature(xml.replace('<ds:SignatureValue Id="signature-value">', '<ds:SignatureValue Id="signature-value"><![CDATA[AAAA]]>')))).toBe('malformed_signature')
    const laughs = '<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    expect(codeOf(() => parseSignature(xml.replace('?>', `?>${laughs}`)))).toBe('invalid_xml')
    expect(codeOf(() => parseSignature(inSignedInfo('&b;')))).toBe('invalid_xml')
    expect(codeOf(() => parseSignature(inSignedInfo('&#0;')))).toBe('invalid_xml')
    // The ASiC reader may fall back to the DOM for comments, never for DTDs.
    expect(codeOf(() => parseSignature(inSignedInfo('<!-- c -->'), { genericXml: true }))).toBe('accepted')
    expect(codeOf(() => parseSignature(xml.replace('?>', `?>${laughs}`), { genericXml: true }))).toBe('invalid_xml')
  })

  it('refuses xml:* attributes, unbound prefixes and namespace undeclarations', () => {
    expect(codeOf(() => parseSignature(xml.replace('<ds:SignedInfo>', '<ds:SignedInfo xml:space="preserve">')))).toBe('malformed_signature')
    expect(codeOf(() => parseSignature(inSignedInfo('<zz:x/>')))).toBe('malformed_signature')
    expect(codeOf(() => parseSignature(xml.replace('<ds:SignedInfo>', '<ds:SignedInfo xmlns:xades="">')))).toBe('malformed_signature')
  })

  it('refuses duplicated elements and Ids (no second meaning for a signed part)', () => {
    const info = /<ds:SignedInfo>[\s\S]*?<\/ds:SignedInfo>/.exec(xml)![0]
    expect(codeOf(() => parseSignature(xml.replace(info, `${info}${info}`)))).toBe('malformed_signature')
    const props = /<xades:SignedProperties[\s\S]*?<\/xades:SignedProperties>/.exec(xml)![0]
    // Signature wrapping: a second element carrying the signed Id.
    expect(codeOf(() => parseSignature(xml.replace('<ds:KeyInfo>', `<ds:KeyInfo>${props}`)))).toBe('malformed_signature')
    expect(codeOf(() => parseSignature(xml.replace('<xades:SigningTime>', '<xades:SigningTime>2020-01-01T00:00:00Z</xades:SigningTime><xades:SigningTime>')))).toBe('malformed_signature')
    const cert = /<ds:X509Certificate>[\s\S]*?<\/ds:X509Certificate>/.exec(xml)![0]
    expect(codeOf(() => parseSignature(xml.replace(cert, `${cert}${cert}`)))).toBe('malformed_signature')
  })

  it('refuses deep nesting, too many nodes, huge attributes and huge documents, in linear time', () => {
    expect(codeOf(() => parseSignature(inSignedInfo('<ds:x>'.repeat(200_000))))).toBe('invalid_xml')
    expect(codeOf(() => parseSignature(inSignedInfo('<ds:x/>'.repeat(30_000))))).toBe('invalid_xml')
    expect(codeOf(() => parseSignature(xml.replace('<ds:SignedInfo>', `<ds:SignedInfo a="${'x'.repeat(2 * 1024 * 1024)}">`)))).toBe('invalid_xml')
    expect(codeOf(() => parseSignature(inSignedInfo(' '.repeat(5 * 1024 * 1024))))).toBe('invalid_xml')
    expect(codeOf(() => parseSignature(inSignedInfo(`<ds:x ${Array.from({ length: 100 }, (_, i) => `a${i}="1"`).join(' ')}/>`)))).toBe('invalid_xml')
    // Near a megabyte of references where the schema allows no text: read in one pass, then refused.
    expect(codeOf(() => parseSignature(inSignedInfo('&amp;&#x41;'.repeat(90_000))))).toBe('malformed_signature')
    expect(codeOf(() => parseSignature(inSignedInfo(`<ds:x>${'&amp;&#x41;'.repeat(90_000)}</ds:x>`)))).toBe('malformed_signature')
  })

  it('fuzzed signatures: refused with a code, or read exactly as the DOM path reads them', () => {
    const rnd = seededRandom(Number(process.env.FUZZ_SEED ?? 1234))
    const pieces = ['<', '>', '&', '"', "'", '/', '=', ' ', '\n', '\t', '\r', 'ds:', 'xmlns:ds="urn:x"', '<!--', '<?x?>', '&amp;', '&#13;', 'Id="signed-properties"', 'é', '']
    const outcomes = new Map<string, number>()
    for (let i = 0; i < Number(process.env.FUZZ_ROUNDS ?? 600); i++) {
      let mutated = xml
      for (let k = 1 + Math.floor(rnd() * 3); k > 0; k--) {
        const at = Math.floor(rnd() * mutated.length)
        const cut = Math.floor(rnd() * 3)
        mutated = mutated.slice(0, at) + pieces[Math.floor(rnd() * pieces.length)]! + mutated.slice(at + cut)
      }
      let lexical: ParsedSignature | undefined
      const code = codeOf(() => {
        lexical = parseSignature(mutated)
      })
      outcomes.set(code, (outcomes.get(code) ?? 0) + 1)
      if (lexical === undefined) {
        expect(['invalid_xml', 'malformed_signature']).toContain(code)
        continue
      }
      const dom = parseSignatureDom(mutated)
      const read = lexical
      expect(read.references).toEqual(dom.references)
      expect(read.signatureValue).toEqual(dom.signatureValue)
      const same = (f: (p: ParsedSignature) => unknown): void => {
        let a: unknown
        let b: unknown
        expect(codeOf(() => (a = f(read)))).toBe(codeOf(() => (b = f(dom))))
        expect(a).toEqual(b)
      }
      same((p) => p.canonicalSignedInfo().toString('utf8'))
      same((p) => p.canonicalById('signed-properties', C14N_URIS.inclusive))
    }
    expect(outcomes.get('accepted')).toBeGreaterThan(30)
    expect(outcomes.get('invalid_xml')).toBeGreaterThan(30)
  })
})

describe('lexical hash-chain reader: adversarial input', () => {
  const chains = buildHashChains([{ parts: [{ uri: '/message.xml', digest: digest('SHA-512', 'm') }] }, { parts: [{ uri: '/message.xml', digest: digest('SHA-512', 'n') }] }])
  const chain = chains.chains[0]!

  it('reads what it builds and refuses comments, PIs, DTDs, deep nesting and unexpected text with malformed_hash_chain', () => {
    expect(parseHashChain(chain).steps.size).toBe(1)
    expect(parseHashChainResult(chains.resultXml).uri).toBe('/sig-hashchain.xml#STEP0')
    for (const bad of [
      chain.replace('<ns2:HashStep id="STEP0">', '<ns2:HashStep id="STEP0"><!-- x -->'),
      chain.replace('<ns2:HashStep id="STEP0">', '<ns2:HashStep id="STEP0"><?pi x?>'),
      chain.replace('?>', '?><!DOCTYPE x [<!ENTITY e "e">]>'),
      chain.replace('<ns2:HashStep id="STEP0">', `<ns2:HashStep id="STEP0">${'<ns2:x>'.repeat(100_000)}`),
      chain.replace('<ns2:HashStep id="STEP0">', '<ns2:HashStep id="STEP0">text'),
      chain.replace('<ns2:HashStep id="STEP0">', '<ns2:HashStep id="STEP0" xml:lang="en">'),
    ]) {
      expect(codeOf(() => parseHashChain(bad))).toBe('malformed_hash_chain')
    }
  })
})

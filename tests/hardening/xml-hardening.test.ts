import { describe, expect, it, vi } from 'vitest'
import { DEFAULT_XML_LIMITS, parseXml } from '../../src-main/platform'
import { verifyAsicContainer, writeAsicContainer } from '../../src-main/signature'
import { compareWithBenign, expectRefusal } from './support/bounded-time'

/**
 * XML from outside (`platform/xml.ts`): adversarial shapes are refused with `invalid_xml` and a bounded message, in
 * time comparable to a benign document of the same size; shapes within the limits are parsed in time comparable to
 * it too. Bound: O(n) scan, then the DOM of at most maxNodes nodes.
 */
// The bound under test is the ratio to the benign input; a loaded machine may only make the whole run slower.
vi.setConfig({ testTimeout: 180_000 })

const SIZE = 600 * 1024

/** A global-configuration-like document of about `bytes` bytes. */
function benignXml(bytes: number): string {
  const item = '  <member id="m1"><memberClass>GOV</memberClass><memberCode>12345</memberCode><name>Agency &amp; Co</name></member>\n'
  return `<?xml version="1.0" encoding="UTF-8"?>\n<conf xmlns="urn:gatehouse:test">\n${item.repeat(Math.ceil(bytes / item.length))}</conf>\n`
}

const benign = benignXml(SIZE)
const parseBenign = () => parseXml(benign)

describe('XML: correct on the shapes a regex gets wrong', () => {
  it('reads "/>" inside an attribute value, CDATA, comments and processing instructions', () => {
    const doc = parseXml('<?xml version="1.0"?><!-- <x> --><a x="/>" y=\'">\'><?pi a > b?><![CDATA[<b></a>]]><!-- </a> --><c/></a>')
    const a = doc.documentElement!
    expect(a.getAttribute('x')).toBe('/>')
    expect(a.getAttribute('y')).toBe('">')
    expect(a.textContent).toBe('<b></a>')
    expect(a.getElementsByTagName('c').length).toBe(1)
  })

  it('counts depth through elements whose attribute values contain "/>" (the regex bypass)', () => {
    const deep = '<a x="/>">'.repeat(DEFAULT_XML_LIMITS.maxDepth + 1) + '</a>'.repeat(DEFAULT_XML_LIMITS.maxDepth + 1)
    expect(() => parseXml(deep)).toThrow(/deeper than 64/)
    const ok = '<a x="/>">'.repeat(DEFAULT_XML_LIMITS.maxDepth) + '</a>'.repeat(DEFAULT_XML_LIMITS.maxDepth)
    expect(parseXml(ok).documentElement?.getAttribute('x')).toBe('/>')
  })

  it.each([
    ['a DTD', '<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>', /DTD/],
    ['an undeclared entity', '<a>&e;</a>', /entity reference/],
    ['two roots', '<a/><b/>', /more than one root/],
    ['a mismatched end tag', '<a><b></a></b>', /does not match/],
    ['"<" in an attribute value', '<a x="<"/>', /'<' in the value/],
    ['"--" in a comment', '<a><!-- a -- b --></a>', /'--'/],
    ['"]]>" in text', '<a>]]></a>', /']]>'/],
    ['a duplicate attribute', '<a x="1" x="2"/>', /appears twice/],
    ['a control character', '<a>\u0001</a>', /not allowed/],
    ['text outside the root', '<a/>text', /outside the root/],
    ['an XML declaration not at the start', ' <?xml version="1.0"?><a/>', /XML declaration/],
  ])('refuses %s', (_name, xml, message) => {
    expect(() => parseXml(xml)).toThrow(message)
  })
})

describe('XML: adversarial shapes against a benign document of the same size', () => {
  const refused: Array<[string, () => string, RegExp]> = [
    ['600 KB of unclosed "<" (the provider stall of the issue)', () => '<a>' + '<'.repeat(SIZE), /expected an element name/],
    ['200 000 unclosed elements', () => '<a>'.repeat(200_000), /deeper than 64/],
    ['deep nesting, closed', () => '<a>'.repeat(100_000) + '</a>'.repeat(100_000), /deeper than 64/],
    ['an unclosed element at every depth below the limit, then garbage', () => '<a>'.repeat(60) + '<b '.repeat(SIZE / 3), /expected/],
    ['one element with 100 000 attributes', () => '<a ' + Array.from({ length: 60_000 }, (_, i) => `a${i}="1"`).join(' ') + '/>', /more than 256 attributes/],
    ['a 600 KB element name', () => `<${'a'.repeat(SIZE)}/>`, /longer than 1024/],
    ['600 KB of "&" without ";"', () => '<a>' + '&'.repeat(SIZE) + '</a>', /complete reference/],
    ['an unterminated attribute value', () => '<a x="' + 'v'.repeat(SIZE), /not terminated/],
    ['an unclosed comment', () => '<a><!--' + '-x'.repeat(SIZE / 2), /comment/],
    ['an unclosed CDATA section', () => '<a><![CDATA[' + ']]'.repeat(SIZE / 2), /CDATA section is not closed/],
    ['an unclosed processing instruction', () => '<a><?pi ' + '?'.repeat(SIZE), /not closed/],
    ['a DTD after 600 KB of white space', () => ' '.repeat(SIZE) + '<!DOCTYPE a><a/>', /DTD/],
    ['150 000 end tags without start tags', () => '<a/>' + '</a>'.repeat(150_000), /without a start tag|outside/],
    ['150 000 mismatched end tags', () => '<a><b>' + '</c>'.repeat(150_000), /does not match/],
    ['many roots', () => '<a/>'.repeat(150_000), /more than one root/],
    ['text outside the root', () => '<a/>' + 'x'.repeat(SIZE), /outside the root/],
  ]

  it.each(refused)('refuses %s in time comparable to the benign document', async (name, make, message) => {
    const input = make()
    expect(input.length).toBeGreaterThan(100_000)
    const { adversarial } = await compareWithBenign(name, () => parseXml(input), parseBenign)
    expectRefusal(adversarial, 'invalid_xml', 400)
    expect((adversarial.error as Error).message).toMatch(message)
  })

  const accepted: Array<[string, () => string]> = [
    ['elements at the depth limit, repeated', () => '<r>' + ('<item>'.repeat(63) + 'x' + '</item>'.repeat(63)).repeat(Math.floor(SIZE / 820)) + '</r>'],
    ['256 attributes on every element', () => '<r>' + ('<a ' + Array.from({ length: 256 }, (_, i) => `a${i}="v"`).join(' ') + '/>').repeat(Math.floor(SIZE / 1900)) + '</r>'],
    ['256 namespace declarations on every level', () => '<r>' + ('<a ' + Array.from({ length: 256 }, (_, i) => `xmlns:p${i}="urn:gatehouse:${i}"`).join(' ') + '>').repeat(40) + 'x' + '</a>'.repeat(40) + '</r>'],
    ['entity references in text', () => '<a>' + '&amp;&lt;&#x41;&#65;'.repeat(Math.floor(SIZE / 20)) + '</a>'],
    ['comments, CDATA sections and processing instructions', () => '<a>' + '<!-- c --><![CDATA[<x>]]><?p d?>'.repeat(Math.floor(SIZE / 36)) + '</a>'],
    ['one long text node', () => '<a>' + 't'.repeat(SIZE) + '</a>'],
  ]

  it.each(accepted)('parses %s in time comparable to the benign document', async (name, make) => {
    const input = make()
    expect(input.length).toBeGreaterThan(SIZE * 0.4)
    const { adversarial } = await compareWithBenign(name, () => parseXml(input), parseBenign)
    expect(adversarial.error).toBeUndefined()
  })

  it('refuses more nodes than the limit while reading', async () => {
    const many = '<r>' + '<a/>'.repeat(SIZE / 4) + '</r>'
    const { adversarial } = await compareWithBenign('nodes over maxNodes', () => parseXml(many, { maxNodes: 10_000 }), parseBenign)
    expectRefusal(adversarial, 'invalid_xml', 400)
    expect((adversarial.error as Error).message).toMatch(/more than 10000 nodes/)
  })

  it('refuses a 1.4 KB ASiC container whose signatures.xml is 600 KB of "<" (the messageLog.verify stall of the issue)', async () => {
    // X-Road's order (AsicContainer, AsicContainerVerifier): the signature document is the first XML read, before
    // message.xml, with the same bounded parser.
    const signatureXml = '<' + '<'.repeat(SIZE)
    const bomb = await writeAsicContainer({ message: '<m/>', signatureXml })
    expect(bomb.length).toBeLessThan(4096)
    const plain = await writeAsicContainer({ message: '<m/>', signatureXml: benign })
    const noTrust = () => {
      throw new Error('the container must be refused before any trust is needed')
    }
    const { adversarial } = await compareWithBenign('ASiC signatures.xml of unclosed "<"', () => verifyAsicContainer(bomb, noTrust), async () => {
      // The benign container reads and parses the same amount of XML, then fails as a signature: measured up to there.
      await verifyAsicContainer(plain, noTrust).catch(() => undefined)
    })
    expectRefusal(adversarial, 'invalid_xml', 400)
  })
})

import { describe, expect, it } from 'vitest'
import { canonicalizeLexical, LexicalSubsetError, readLexical } from '../../src-main/signature/xml-lexical'
import { C14N_URIS } from '../../src-main/signature/xml-support'

/**
 * The lexical reader's tokens one by one: names (ASCII NCNames with one optional prefix, read by a char-code scanner),
 * end tags (compared in place with their start tag), attributes, references (predefined entities and character
 * references of Chars, read by a char-code scanner) and the limits on them. Each case's outcome — the canonical forms
 * and Ids of what was read, or the error code and message — is the one the regex-based reader gave.
 */

const LIMITS = { maxBytes: 1 << 20, maxDepth: 8, maxNodes: 2000, maxAttributes: 4, maxNameLength: 80 }

function outcome(xml: string): string {
  try {
    const doc = readLexical(xml, LIMITS, 'malformed_signature')
    return `ok ${canonicalizeLexical(doc.root, C14N_URIS.inclusive)} | ${canonicalizeLexical(doc.root, C14N_URIS.exclusive, ['#default'])} | ` +
      `ids ${[...doc.ids.keys()].join(',')} | dup ${doc.duplicateIds.join(',')}`
  } catch (error) {
    return `${(error as { code?: string }).code}${error instanceof LexicalSubsetError ? ' (subset)' : ''}: ${(error as Error).message}`
  }
}

const CASES: Array<[string, string]> = [
  ['<a:b:c xmlns:a="u"/>', 'invalid_xml: Expected white space, \'>\' or \'/>\' in start tag \'a:b\' (at offset 4)'],
  ['<a:/>', 'invalid_xml: Expected white space, \'>\' or \'/>\' in start tag \'a\' (at offset 2)'],
  ['<a: b="1"/>', 'invalid_xml: Expected white space, \'>\' or \'/>\' in start tag \'a\' (at offset 2)'],
  ['<1a/>', 'invalid_xml: Expected an element name (at offset 1)'],
  ['<\u00e9/>', 'malformed_signature (subset): Expected an element name (at offset 1)'],
  ['<a b\u00e9="1"/>', 'invalid_xml: Expected \'=\' after attribute \'b\' (at offset 4)'],
  ['<a b:c:d="1" xmlns:b="u"/>', 'invalid_xml: Expected \'=\' after attribute \'b:c\' (at offset 6)'],
  ['<_a-b.c:_d-9 xmlns:_a-b.c="u"/>', 'ok <_a-b.c:_d-9 xmlns:_a-b.c="u"></_a-b.c:_d-9> | <_a-b.c:_d-9 xmlns:_a-b.c="u"></_a-b.c:_d-9> | ids  | dup '],
  ['<a></a >', 'ok <a></a> | <a></a> | ids  | dup '],
  ['<a></b>', 'invalid_xml: End tag \'b\' does not match its start tag (at offset 3)'],
  ['<a></a:b>', 'invalid_xml: End tag \'a:b\' does not match its start tag (at offset 3)'],
  ['<a:b xmlns:a="u"></a:b>', 'ok <a:b xmlns:a="u"></a:b> | <a:b xmlns:a="u"></a:b> | ids  | dup '],
  ['<a:b xmlns:a="u"></a:bc>', 'invalid_xml: End tag \'a:bc\' does not match its start tag (at offset 17)'],
  ['<a></a', 'invalid_xml: End tag \'a\' is not closed (at offset 3)'],
  ['</a>', 'invalid_xml: End tag \'a\' does not match its start tag (at offset 0)'],
  ['<a></>', 'invalid_xml: Expected an end tag name (at offset 5)'],
  ['<a b="1" b="2"/>', 'invalid_xml: Attribute \'b\' appears twice (at offset 9)'],
  ['<nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn/>', 'invalid_xml: Name longer than 80 characters (at offset 1)'],
  ['<a></nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn>', 'invalid_xml: Name longer than 80 characters (at offset 5)'],
  ['<a nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn="1"/>', 'invalid_xml: Name longer than 80 characters (at offset 3)'],
  ['<a b="1" c="2" d="3" e="4" f="5"/>', 'invalid_xml: Element \'a\' has more than 4 attributes (at offset 0)'],
  ['<a>&lt;&gt;&amp;&quot;&apos;</a>', 'ok <a>&lt;&gt;&amp;"\'</a> | <a>&lt;&gt;&amp;"\'</a> | ids  | dup '],
  ['<a>&#65;&#x41;&#x4a;&#x4A;</a>', 'ok <a>AAJJ</a> | <a>AAJJ</a> | ids  | dup '],
  ['<a>&#X41;</a>', 'invalid_xml: \'&\' does not start a predefined entity or character reference (at offset 3)'],
  ['<a>&#12345678;</a>', 'invalid_xml: \'&\' does not start a predefined entity or character reference (at offset 3)'],
  ['<a>&#1234567;</a>', 'invalid_xml: Invalid character reference (at offset 3)'],
  ['<a>&#0000065;</a>', 'ok <a>A</a> | <a>A</a> | ids  | dup '],
  ['<a>&#x110000;</a>', 'invalid_xml: Invalid character reference (at offset 3)'],
  ['<a>&#x10FFFF;</a>', 'ok <a>\u{10ffff}</a> | <a>\u{10ffff}</a> | ids  | dup '],
  ['<a>&#x0010FFFF;</a>', 'invalid_xml: \'&\' does not start a predefined entity or character reference (at offset 3)'],
  ['<a>&#xD800;</a>', 'invalid_xml: Invalid character reference (at offset 3)'],
  ['<a>&#xFFFE;</a>', 'invalid_xml: Invalid character reference (at offset 3)'],
  ['<a>&#;</a>', 'invalid_xml: \'&\' does not start a predefined entity or character reference (at offset 3)'],
  ['<a>&#x;</a>', 'invalid_xml: \'&\' does not start a predefined entity or character reference (at offset 3)'],
  ['<a>&lt</a>', 'invalid_xml: \'&\' does not start a predefined entity or character reference (at offset 3)'],
  ['<a>&foo;</a>', 'invalid_xml: \'&\' does not start a predefined entity or character reference (at offset 3)'],
  ['<a>&amp</a>', 'invalid_xml: \'&\' does not start a predefined entity or character reference (at offset 3)'],
  ['<a>x &amp y</a>', 'invalid_xml: \'&\' does not start a predefined entity or character reference (at offset 5)'],
  ['<a b="&#9;&#xa;x&amp;&#13;"/>', 'ok <a b="&#x9;&#xA;x&amp;&#xD;"></a> | <a b="&#x9;&#xA;x&amp;&#xD;"></a> | ids  | dup '],
  ['<a b="&#1234567;"/>', 'invalid_xml: Invalid character reference (at offset 6)'],
  ['<a b="&lt"/>', 'invalid_xml: \'&\' does not start a predefined entity or character reference (at offset 6)'],
  ['<a b="&#x41"/>', 'invalid_xml: \'&\' does not start a predefined entity or character reference (at offset 6)'],
  ['<a b=\'&quot;"\'/>', 'ok <a b="&quot;&quot;"></a> | <a b="&quot;&quot;"></a> | ids  | dup '],
  ['<a b="\r\n\tx"/>', 'ok <a b="  x"></a> | <a b="  x"></a> | ids  | dup '],
  ['<a>x&#13;\ny&amp;#13;&#13;&lt;&#xD;</a>', 'ok <a>x&#xD;\ny&amp;#13;&#xD;&lt;&#xD;</a> | <a>x&#xD;\ny&amp;#13;&#xD;&lt;&#xD;</a> | ids  | dup '],
  ['<a>&#13;&#13;</a>', 'ok <a>&#xD;&#xD;</a> | <a>&#xD;&#xD;</a> | ids  | dup '],
  ['<a>\r\nx\ry</a>', 'ok <a>\nx\ny</a> | <a>\nx\ny</a> | ids  | dup '],
  ['<r xmlns="d" xmlns:p="u"><p:x p:a="1" a="2" Id="i"/><y Id="i"/></r>', 'ok <r xmlns="d" xmlns:p="u"><p:x Id="i" a="2" p:a="1"></p:x><y Id="i"></y></r> | <r xmlns="d"><p:x xmlns:p="u" Id="i" a="2" p:a="1"></p:x><y Id="i"></y></r> | ids i | dup i'],
  ['<r><x xmlns:q="v" q:z="1" b="2" a="3"/></r>', 'ok <r><x xmlns:q="v" a="3" b="2" q:z="1"></x></r> | <r><x xmlns:q="v" a="3" b="2" q:z="1"></x></r> | ids  | dup '],
  ['<a xmlns:xml="x"/>', 'malformed_signature (subset): Namespace declaration \'xmlns:xml\' is not allowed'],
  ['<a xml:lang="en"/>', 'malformed_signature (subset): Attribute \'xml:lang\' is not allowed'],
  ['<a xmlns:p=""/>', 'malformed_signature (subset): Namespace declaration \'xmlns:p\' is not allowed'],
  ['<a xmlns="u v"/>', 'malformed_signature (subset): Namespace declaration \'xmlns\' is not allowed'],
  ['<p:a/>', 'malformed_signature: Unbound namespace prefix \'p\''],
  ['<a p:b="1"/>', 'malformed_signature: Unbound namespace prefix \'p\''],
  [' <a/> ', 'ok <a></a> | <a></a> | ids  | dup '],
  ['x<a/>', 'invalid_xml: Content outside the root element (at offset 0)'],
  ['<a/>x', 'invalid_xml: Content outside the root element (at offset 4)'],
  ['<a/><b/>', 'invalid_xml: More than one root element (at offset 4)'],
  ['<a b="1"c="2"/>', 'invalid_xml: Expected white space, \'>\' or \'/>\' in start tag \'a\' (at offset 8)'],
  ['<a b = "1" / >', 'invalid_xml: Expected an attribute name (at offset 11)'],
  ['<a b = "1" />', 'ok <a b="1"></a> | <a b="1"></a> | ids  | dup '],
  ['<a b="1', 'invalid_xml: Value of attribute \'b\' is not terminated (at offset 5)'],
  ['<a b=1/>', 'invalid_xml: Value of attribute \'b\' is not quoted (at offset 5)'],
  ['<a b', 'invalid_xml: Expected \'=\' after attribute \'b\' (at offset 4)'],
  ['<a b="<"/>', 'invalid_xml: \'<\' in the value of attribute \'b\' (at offset 5)'],
  ['<a>]]></a>', 'malformed_signature (subset): \']]>\' is not allowed in this document'],
  ['<a>\u0001</a>', 'invalid_xml: Character U+0001 is not allowed in XML (at offset 3)'],
  ['<a>\ufffe</a>', 'invalid_xml: Character U+FFFE is not allowed in XML (at offset 3)'],
  ['<r>\n  <x>\n  </x>\n</r>', 'ok <r>\n  <x>\n  </x>\n</r> | <r>\n  <x>\n  </x>\n</r> | ids  | dup '],
  ['<a>b<c/>d<e>f</e>g</a>', 'ok <a>b<c></c>d<e>f</e>g</a> | <a>b<c></c>d<e>f</e>g</a> | ids  | dup '],
]

describe('lexical reader tokens', () => {
  it('reads or refuses each token exactly as specified', () => {
    for (const [xml, expected] of CASES) expect(outcome(xml), JSON.stringify(xml)).toBe(expected)
  })

  it('reads documents of more distinct and longer names than the reader keeps interned', () => {
    // Canonical already: what is read is written back unchanged.
    const many = `<r>${Array.from({ length: 700 }, (_, i) => `<e${i} a${i}="${i}">${i}</e${i}>`).join('')}</r>`
    expect(outcome(many)).toBe(`ok ${many} | ${many} | ids  | dup `)
    const prefix = 'p'.repeat(70)
    const long = `<r xmlns:${prefix}="u"><${prefix}:${'l'.repeat(9)} ${prefix}:b="1"></${prefix}:${'l'.repeat(9)}></r>`
    expect(outcome(long)).toBe(`ok ${long} | <r></r> | ids  | dup `.replace('<r></r>', `<r><${prefix}:${'l'.repeat(9)} xmlns:${prefix}="u" ${prefix}:b="1"></${prefix}:${'l'.repeat(9)}></r>`))
    for (let i = 0; i < 3; i++) expect(outcome(many)).toBe(`ok ${many} | ${many} | ids  | dup `)
  })
})

import { describe, expect, it } from 'vitest'
import { parseXml, SecurityServerError } from '../../src-main/platform'

function codeOf(fn: () => unknown): string {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(SecurityServerError)
    return (error as SecurityServerError).code
  }
  throw new Error('expected a SecurityServerError')
}

describe('hardened XML parsing', () => {
  it('parses namespaces and strips a UTF-8 BOM', () => {
    const doc = parseXml(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('<a xmlns="urn:x"><b>1</b></a>')]))
    expect(doc.documentElement?.namespaceURI).toBe('urn:x')
  })

  it('rejects a billion-laughs document before expanding anything', () => {
    const laughs = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><lolz>&lol2;</lolz>`
    expect(codeOf(() => parseXml(laughs))).toBe('invalid_xml')
  })

  it('rejects external entities (XXE)', () => {
    const xxe = `<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>`
    expect(() => parseXml(xxe)).toThrow(/DTD/)
  })

  it('bounds size and depth', () => {
    expect(() => parseXml('<a>' + 'x'.repeat(2000) + '</a>', { maxBytes: 1000 })).toThrow(/larger than 1000/)
    const deep = '<a>'.repeat(100) + '</a>'.repeat(100)
    expect(() => parseXml(deep, { maxDepth: 64 })).toThrow(/deeper than 64/)
    expect(parseXml('<a>'.repeat(10) + '</a>'.repeat(10)).documentElement?.localName).toBe('a')
  })

  it('rejects malformed documents', () => {
    expect(codeOf(() => parseXml('<a><b></a>'))).toBe('invalid_xml')
    expect(codeOf(() => parseXml(''))).toBe('invalid_xml')
  })
})

import { describe, expect, it } from 'vitest'
import { readdirSync } from 'node:fs'
import {
  IdentifierError, checkReceivedPart, clientId, decodeIdentifier, describeIdentifier, encodeIdentifier, encodePathSegment, formatIdPath,
  globalGroupId, identifierEquals, identifierFromXml, identifierToXml, localGroupId, memberEquals, memberId, parseClientIdPath,
  parseSecurityServerIdPath, parseServiceIdPath, securityServerId, serviceId, subsystemId, validateIdentifierPart,
  type XRoadId, type XRoadObjectType,
} from '@shared/domain/identifiers'
import { identifierFields, parseXml } from '../../src-main/platform'
import { fixturePath, readFixture } from '../support/fixtures'
import { describeFixtures } from '../support/describe-fixtures'

function problemOf(fn: () => unknown): string {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(IdentifierError)
    return (error as IdentifierError).problem
  }
  throw new Error('expected an IdentifierError')
}

describe('identifier validation', () => {
  it.each([
    ['', 'empty'],
    ['a\nb', 'control_character'],
    ['a\u0000b', 'control_character'],
    ['a\u0085b', 'control_character'],
    [' ab', 'surrounding_whitespace'],
    ['x'.repeat(256), 'too_long'],
  ])('rejects member code %j as %s', (code, problem) => {
    expect(problemOf(() => memberId('EE', 'GOV', code))).toBe(problem)
    expect(problemOf(() => validateIdentifierPart('memberCode', code))).toBe(problem)
  })

  // The characters X-Road's MessageProcessorBase.checkIdentifier flags (IdentifierValidatorTest) but only warns about.
  it.each(['a/b', 'a\\b', 'a:b', 'a;b', 'a%b', 'a\u200Bb', 'a\uFEFFb'])(
    'accepts the received member code %j, and refuses it only for identifiers Gatehouse creates',
    (code) => {
      expect(memberId('EE', 'GOV', code).memberCode).toBe(code)
      expect(checkReceivedPart('memberCode', code)).toBe(code)
      expect(problemOf(() => validateIdentifierPart('memberCode', code))).toBe('forbidden_character')
    },
  )

  it('reads every identifier of X-Road\'s IdentifierValidatorTest; only the tab (a control character) is refused', () => {
    expect(serviceId(memberId('TEST', 'CLASS', 'CO DE'), 'SERVICE').memberCode).toBe('CO DE')
    expect(problemOf(() => memberId('TEST', 'CLASS', 'CO\tDE'))).toBe('control_character')
    expect(securityServerId(memberId('TEST', 'CLASS', 'MEMBER'), 'SER:VER').serverCode).toBe('SER:VER')
    expect(serviceId(subsystemId('TE/ST', 'CLASS', 'MEMBER', 'SYSTEM'), 'SERVICE').xRoadInstance).toBe('TE/ST')
    expect(serviceId(subsystemId('TEST', 'CLA;SS', 'MEMBER', 'SYSTEM'), 'SERVICE').memberClass).toBe('CLA;SS')
    expect(serviceId(subsystemId('TEST', 'CLASS', 'MEM\\BER', 'SYSTEM'), 'SERVICE').memberCode).toBe('MEM\\BER')
    expect(serviceId(subsystemId('TEST', 'CLASS', 'MEMBER', 'SYS%TEM'), 'SERVICE').subsystemCode).toBe('SYS%TEM')
    expect(serviceId(subsystemId('TEST', 'CLASS', 'MEMBER', 'SYSTEM'), 'SERVICE\u200b').serviceCode).toBe('SERVICE\u200b')
  })

  it('names the offending field', () => {
    try {
      subsystemId('EE', 'GOV', '123', '')
    } catch (error) {
      expect((error as IdentifierError).field).toBe('subsystemCode')
      expect((error as IdentifierError).message).toContain('subsystemCode')
    }
    expect.assertions(2)
  })

  it("accepts the spec's allowed characters and a 255-character value", () => {
    expect(memberId('EE-test', 'PRIVATE-ENTERPRISE', "A(1)+,-.=?'z").memberCode).toBe("A(1)+,-.=?'z")
    expect(memberId('EE', 'GOV', 'x'.repeat(255)).memberCode).toHaveLength(255)
  })

  it('compares members ignoring subsystems (memberEquals)', () => {
    expect(memberEquals(subsystemId('EE', 'GOV', '1', 'A'), memberId('EE', 'GOV', '1'))).toBe(true)
    expect(memberEquals(memberId('EE', 'GOV', '1'), memberId('EE', 'COM', '1'))).toBe(false)
  })
})

describe('REST path and header form (PR-REST §4.2–4.3)', () => {
  it('parses X-Road-Client with and without a subsystem', () => {
    expect(parseClientIdPath('DEV/COM/4422/TestClient')).toEqual(subsystemId('DEV', 'COM', '4422', 'TestClient'))
    expect(parseClientIdPath('DEV/COM/4422')).toEqual(memberId('DEV', 'COM', '4422'))
  })

  it('percent-decodes each segment separately', () => {
    expect(parseClientIdPath('EE/GOV/ACME%20Corp/sub%C3%A4')).toEqual(subsystemId('EE', 'GOV', 'ACME Corp', 'subä'))
  })

  it('rejects a wrong number of parts, a malformed escape and an empty part', () => {
    expect(problemOf(() => parseClientIdPath('DEV/COM'))).toBe('wrong_part_count')
    expect(problemOf(() => parseClientIdPath('DEV/COM/1/2/3'))).toBe('wrong_part_count')
    expect(problemOf(() => parseClientIdPath('DEV/COM/%E0%A4%A'))).toBe('bad_percent_encoding')
    expect(problemOf(() => parseClientIdPath('DEV//1'))).toBe('empty')
    expect(problemOf(() => parseClientIdPath('DEV/COM/a%09b'))).toBe('control_character')
  })

  it('reads an encoded separator as part of the value (X-Road RestProxyTest.shouldAcceptPercentEncodedIdentifiers)', () => {
    expect(parseClientIdPath('EE/BUSINESS/consumer/sub%2Fsystem')).toEqual(subsystemId('EE', 'BUSINESS', 'consumer', 'sub/system'))
    expect(parseServiceIdPath('EE/BUSINESS/producer/s%2Fub/%C3%B6%C3%A4%C3%A5')).toEqual(
      serviceId(subsystemId('EE', 'BUSINESS', 'producer', 's/ub'), 'öäå'),
    )
    expect(parseClientIdPath('DEV%2FCOM/1/2').xRoadInstance).toBe('DEV/COM')
    // Written back in the same form: the separator stays encoded.
    expect(formatIdPath(subsystemId('EE', 'BUSINESS', 'producer', 's/ub'))).toBe('EE/BUSINESS/producer/s%2Fub')
  })

  it('parses service and security server headers', () => {
    expect(parseServiceIdPath('DEV/COM/1234/TestService/mock1')).toEqual(
      serviceId(subsystemId('DEV', 'COM', '1234', 'TestService'), 'mock1'),
    )
    expect(parseSecurityServerIdPath('DEV/COM/1234/SS0')).toEqual(securityServerId(memberId('DEV', 'COM', '1234'), 'SS0'))
    expect(problemOf(() => parseSecurityServerIdPath('DEV/COM/1234'))).toBe('wrong_part_count')
  })

  it("encodes like Guava's urlPathSegmentEscaper", () => {
    expect(encodePathSegment("a b/c?d#e%f'()+,;=:@$&")).toBe("a%20b%2Fc%3Fd%23e%25f'()+,;=:@$&")
    expect(encodePathSegment('ä')).toBe('%C3%A4')
    expect(formatIdPath(subsystemId('DEV', 'COM', '4422', 'Test Client'))).toBe('DEV/COM/4422/Test%20Client')
  })
})

describe('canonical encoded form', () => {
  const samples: XRoadId[] = [
    memberId('EE', 'GOV', '123'),
    subsystemId('EE', 'GOV', '123', 'sub system'),
    serviceId(memberId('EE', 'GOV', '123'), 'getState'),
    serviceId(subsystemId('EE', 'GOV', '123', 'sub'), 'getState', 'v1'),
    serviceId(memberId('EE', 'GOV', '123'), 'getState', 'v2'),
    securityServerId(memberId('EE', 'GOV', '123'), 'ss1'),
    globalGroupId('EE', 'security-server-owners'),
    localGroupId('friends'),
    // Received identifiers may hold the characters X-Road only warns about, the version marker included.
    serviceId(subsystemId('EE', 'G/V', 'a%b;v=c', 's:u\\b'), 'get;v=x', 'v;1'),
    serviceId(memberId('EE', 'GOV', 'x;v=y'), 'svc'),
    localGroupId('a/b;c'),
  ]
  it.each(samples.map((s) => [describeIdentifier(s), s]))('round-trips %s', (_name, id) => {
    expect(decodeIdentifier(encodeIdentifier(id))).toEqual(id)
  })
  it('compares identifiers field by field exactly as their encoded forms compare (generated pairs)', () => {
    // A seeded generator: parts from a small alphabet (so pairs often collide) including characters that are escaped.
    let seed = 15
    const next = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648
      return seed % n
    }
    const part = (): string => Array.from({ length: next(3) }, () => 'aB;/% ä:@'.charAt(next(9))).join('')
    const maybe = (): string | undefined => (next(3) === 0 ? undefined : part())
    // Built as plain objects: received identifiers reach the comparison unvalidated (empty parts, whitespace, '/').
    const generate = (): XRoadId => {
      const [xRoadInstance, memberClass, memberCode] = [part(), part(), part()]
      switch (next(6)) {
        case 0: return { objectType: 'MEMBER', xRoadInstance, memberClass, memberCode }
        case 1: return { objectType: 'SUBSYSTEM', xRoadInstance, memberClass, memberCode, subsystemCode: part() }
        case 2: {
          const subsystemCode = maybe()
          const serviceVersion = maybe()
          return {
            objectType: 'SERVICE', xRoadInstance, memberClass, memberCode, serviceCode: part(),
            ...(subsystemCode === undefined ? {} : { subsystemCode }), ...(serviceVersion === undefined ? {} : { serviceVersion }),
          }
        }
        case 3: return { objectType: 'SERVER', xRoadInstance, memberClass, memberCode, serverCode: part() }
        case 4: return { objectType: 'GLOBALGROUP', xRoadInstance, groupCode: part() }
        default: return { objectType: 'LOCALGROUP', groupCode: part() }
      }
    }
    let equal = 0
    for (let i = 0; i < 20_000; i++) {
      const a = generate()
      const b = next(4) === 0 ? { ...a } : generate()
      const same = encodeIdentifier(a) === encodeIdentifier(b)
      if (same) equal++
      expect(identifierEquals(a, b), `${encodeIdentifier(a)} vs ${encodeIdentifier(b)}`).toBe(same)
    }
    expect(equal).toBeGreaterThan(1000)
  })

  it('encodes parts with nothing to escape as they are, and the rest as encodeURIComponent with the safe set restored', () => {
    for (const value of ['GOV', 'a-b_c.d!e~f*g\'h(i)j', '$&+,;=:@', '', 'a b', 'ä', 'a/b', 'a%b', 'a;b', '\u{1F600}']) {
      const slow = encodeURIComponent(value).replace(/%(24|26|2B|2C|3B|3D|3A|40)/g, (escape) => decodeURIComponent(escape))
      expect(encodePathSegment(value)).toBe(slow)
      expect(encodeIdentifier({ objectType: 'LOCALGROUP', groupCode: value })).toBe(`LOCALGROUP:${slow.replace(/;/g, '%3B')}`)
    }
  })

  it('rejects unknown object types', () => {
    expect(problemOf(() => decodeIdentifier('PERSON:EE/1'))).toBe('wrong_object_type')
  })
})

describe('SOAP XML form', () => {
  it('serializes in identifiers.xsd element order and parses back', () => {
    const id = serviceId(subsystemId('EE', 'BUSINESS', 'JODA', 'sub'), 'getState', 'v1')
    const xml = identifierToXml(id, 'xroad:service')
    expect(xml).toBe(
      '<xroad:service id:objectType="SERVICE"><id:xRoadInstance>EE</id:xRoadInstance><id:memberClass>BUSINESS</id:memberClass>' +
        '<id:memberCode>JODA</id:memberCode><id:subsystemCode>sub</id:subsystemCode><id:serviceCode>getState</id:serviceCode>' +
        '<id:serviceVersion>v1</id:serviceVersion></xroad:service>',
    )
    const doc = parseXml(
      `<r xmlns:xroad="http://x-road.eu/xsd/xroad.xsd" xmlns:id="http://x-road.eu/xsd/identifiers">${xml}</r>`,
    )
    const el = doc.documentElement!.firstChild as never
    expect(identifierFromXml(identifierFields(el), ['SERVICE'])).toEqual(id)
  })

  it('escapes markup characters in values', () => {
    expect(identifierToXml(clientId('EE', 'GOV', 'a&b<c'), 'x')).toContain('<id:memberCode>a&amp;b&lt;c</id:memberCode>')
  })
})

/** What X-Road's JAXB round-trip tests expect of each vector in messages/identifiers. */
const IDENTIFIER_VECTORS: Record<string, { accepted: XRoadObjectType[]; valid: boolean }> = {
  'clientid.xml': { accepted: ['MEMBER', 'SUBSYSTEM'], valid: true },
  'clientid-subsystem.xml': { accepted: ['MEMBER', 'SUBSYSTEM'], valid: true },
  'serviceid.xml': { accepted: ['SERVICE'], valid: true },
  'serviceid-version.xml': { accepted: ['SERVICE'], valid: true },
  'securityserverid.xml': { accepted: ['SERVER'], valid: true },
  'globalgroupid.xml': { accepted: ['GLOBALGROUP'], valid: true },
  'localgroupid.xml': { accepted: ['LOCALGROUP'], valid: true },
  'invalid-clientid-member.xml': { accepted: ['MEMBER', 'SUBSYSTEM'], valid: false },
  'invalid-clientid-subsystem.xml': { accepted: ['MEMBER', 'SUBSYSTEM'], valid: false },
}

describeFixtures('conformance: messages/identifiers (X-Road JAXB vectors)', () => {
  it('covers every vector in the fixture folder', () => {
    expect(readdirSync(fixturePath('messages', 'identifiers')).sort()).toEqual(Object.keys(IDENTIFIER_VECTORS).sort())
  })

  it.each(Object.entries(IDENTIFIER_VECTORS))('%s', (file, { accepted, valid }) => {
    const root = parseXml(readFixture('messages', 'identifiers', file)).documentElement!
    const parse = () => identifierFromXml(identifierFields(root), accepted)
    if (!valid) {
      expect(parse).toThrow(IdentifierError)
      return
    }
    const id = parse()
    const xml = identifierToXml(id, 'xroad:x')
    const again = parseXml(`<r xmlns:xroad="http://x-road.eu/xsd/xroad.xsd" xmlns:id="http://x-road.eu/xsd/identifiers">${xml}</r>`)
    expect(identifierFromXml(identifierFields(again.documentElement!.firstChild as never), accepted)).toEqual(id)
    expect(decodeIdentifier(encodeIdentifier(id))).toEqual(id)
  })

  it('reads the values X-Road expects', () => {
    const root = parseXml(readFixture('messages', 'identifiers', 'serviceid-version.xml')).documentElement!
    expect(identifierFromXml(identifierFields(root), ['SERVICE'])).toEqual(
      serviceId(memberId('EE', 'BUSINESS', 'JODA'), 'getState', 'v1'),
    )
  })

  it('rejects an object type the context does not accept', () => {
    const root = parseXml(readFixture('messages', 'identifiers', 'serviceid.xml')).documentElement!
    expect(problemOf(() => identifierFromXml(identifierFields(root), ['MEMBER', 'SUBSYSTEM']))).toBe('wrong_object_type')
  })
})

describe('XML identifier edge cases', () => {
  const wrap = (body: string) =>
    parseXml(`<c xmlns:id="http://x-road.eu/xsd/identifiers" ${body}</c>`).documentElement!
  it('rejects a missing objectType, duplicates and foreign elements', () => {
    expect(problemOf(() => identifierFromXml(identifierFields(wrap('><id:groupCode>g</id:groupCode>')), ['LOCALGROUP']))).toBe(
      'wrong_object_type',
    )
    expect(
      problemOf(() =>
        identifierFromXml(identifierFields(wrap('id:objectType="LOCALGROUP"><id:groupCode>g</id:groupCode><id:groupCode>h</id:groupCode>')), ['LOCALGROUP']),
      ),
    ).toBe('duplicate_field')
    expect(
      problemOf(() => identifierFromXml(identifierFields(wrap('id:objectType="LOCALGROUP"><groupCode>g</groupCode>')), ['LOCALGROUP'])),
    ).toBe('unexpected_field')
    expect(
      problemOf(() => identifierFromXml(identifierFields(wrap('id:objectType="PERSON"><id:groupCode>g</id:groupCode>')), ['LOCALGROUP'])),
    ).toBe('wrong_object_type')
  })
})

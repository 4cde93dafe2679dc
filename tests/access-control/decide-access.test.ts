import { describe, expect, it } from 'vitest'
import { globalGroupId, localGroupId, memberId, serviceId, subsystemId, type ClientId } from '@shared/domain/identifiers'
import { decideAccess, endpointPathMatches, normalizeServicePath, type GroupMembership, type ServiceAccessRights } from '../../src-main/access-control'

const provider = subsystemId('INST', 'GOV', '123', 'SUB')
const svc = serviceId(provider, 'svc')
const alice = subsystemId('INST', 'COM', '111', 'APP')
const bob = subsystemId('INST', 'COM', '222', 'APP')
const carol = subsystemId('INST', 'COM', '333', 'APP')
const dave = memberId('INST', 'COM', '444')
const aliceMember = memberId('INST', 'COM', '111')

const rights: ServiceAccessRights = {
  serviceId: svc,
  disabled: false,
  endpoints: [
    { method: 'GET', path: '/api/*', subjects: [alice] },
    { method: '*', path: '/open/**', subjects: [localGroupId('partners')] },
    { method: 'POST', path: '/orders', subjects: [globalGroupId('INST', 'trusted')] },
    { method: '*', path: '**', subjects: [dave] },
  ],
}
const groups: GroupMembership = {
  localGroupMembers: (code) => (code === 'partners' ? [bob] : []),
  isGlobalGroupMember: (client, group) => group.groupCode === 'trusted' && client.memberCode === '333',
}

const ask = (client: ClientId, method: string, path: string, r: ServiceAccessRights | undefined = rights) =>
  decideAccess({ client, service: svc, method, path }, r, groups)

describe('decideAccess', () => {
  it.each([
    ['exact subsystem on GET /api/*', alice, 'GET', '/api/items', true],
    ['method is case-insensitive', alice, 'get', '/api/items', true],
    ['wrong method', alice, 'POST', '/api/items', false],
    ['single * does not cross segments', alice, 'GET', '/api/a/b', false],
    ['the member is not its subsystem', aliceMember, 'GET', '/api/items', false],
    ['local group member, ** spans segments', bob, 'DELETE', '/open/a/b/c', true],
    ['local group member outside its endpoint', bob, 'GET', '/api/items', false],
    ['global group member', carol, 'POST', '/orders', true],
    ['global group member, other method', carol, 'GET', '/orders', false],
    ['base endpoint * ** allows everything', dave, 'PATCH', '/x/y', true],
    ['base endpoint allows the root path', dave, 'GET', '', true],
    ['percent-encoded plain characters decode once', alice, 'GET', '/api/it%65ms', true],
  ])('%s', (_name, client, method, path, allowed) => {
    expect(ask(client, method, path).allowed).toBe(allowed)
  })

  it('denials carry the X-Road code, in X-Road order: unknown service, access, disabled', () => {
    expect(decideAccess({ client: alice, service: svc, method: 'GET', path: '/api/x' }, undefined, groups)).toMatchObject({ allowed: false, code: 'unknown_service' })
    expect(
      decideAccess({ client: alice, service: serviceId(provider, 'other'), method: 'GET', path: '/api/x' }, rights, groups),
    ).toMatchObject({ code: 'unknown_service' })
    const disabled = { ...rights, disabled: true, disabledNotice: 'Back on Monday' }
    expect(ask(bob, 'GET', '/api/x', disabled)).toMatchObject({ code: 'access_denied' })
    expect(ask(alice, 'GET', '/api/x', disabled)).toMatchObject({ code: 'service_disabled', message: expect.stringContaining('Back on Monday') })
  })

  // Ambiguous forms X-Road's own client proxy refuses (Jetty) and whose decoding could make the checked path differ
  // from the service's reading: refused here (docs/xroad-differences.md "REST service paths"). ACL: GET /api/*.
  it.each([
    '/%2e%2e/secret',
    '/api/%2e%2e/secret',
    '/api/test/%2e%2e/%2e%2e/secret',
    '/api/%252e%252e/secret',
    '/api/.%2e/secret',
    '/api/%5c..%5csecret',
    '/api/%00/../secret',
    '/api//items',
    '/api/%2Fitems',
    '/api\\items',
    '/api/%zz',
    '/api/%E0%A4%A',
    '/api/%C3',
  ])('refuses the ambiguous path %s with invalid_request', (path) => {
    const decision = ask(alice, 'GET', path)
    expect(decision).toMatchObject({ allowed: false, code: 'invalid_request' })
  })

  // X-Road ServerConfImpl.checkAccessRights (7.7.1): decode (UriUtils), normalise, deny any `..` left with access_denied.
  it.each([
    ['/api/../secret', 'access_denied'],
    ['/api/..%2fsecret', 'access_denied'],
    ['/api;x=/../secret', 'access_denied'],
    ['/api/../../secret', 'access_denied'],
    ['/api/..;/secret', 'access_denied'],
    ['/api/a..b', 'access_denied'],
  ])('denies %s after normalising (%s), as X-Road', (path, code) => {
    expect(ask(alice, 'GET', path)).toMatchObject({ allowed: false, code })
  })

  it.each([
    ['/api/./items', '/api/items'],
    ['/api/x/../items', '/api/items'],
    ['/api/%3bx', '/api/;x'],
    ['/api/a;b', '/api/a;b'],
    ['/api/x%2dy', '/api/x%2Dy'],
    ['/other%2F..%2Fapi/x', '/api/x'],
  ])('allows %s, checked as %s (dot segments resolved, %%2D kept as UriUtils keeps it)', (path, normalizedPath) => {
    expect(ask(alice, 'GET', path)).toMatchObject({ allowed: true, normalizedPath })
  })

  it('never allows the single-segment pattern to match two segments', () => {
    expect(ask(alice, 'GET', '/api/a/b')).toMatchObject({ allowed: false, code: 'access_denied' })
  })
})

describe('normalizeServicePath and endpointPathMatches', () => {
  it.each([
    ['', ''],
    ['/', '/'],
    ['/api/items/', '/api/items/'],
    ['/a%20b/%C3%B5', '/a b/õ'],
    // Without escapes the path is its own decoding (the fast path), a lone surrogate half aside, as with escapes.
    ['/ä/x-y', '/ä/x-y'],
    ['/a\uD800', '/a\uFFFD'],
    ['/a\uD800%20', '/a\uFFFD '],
  ])('normalizes %j to %j', (raw, normalized) => {
    expect(normalizeServicePath(raw)).toEqual({ ok: true, path: normalized })
  })

  it.each([
    ['/api/*', '/api/x', true],
    ['/api/*', '/api/', true],
    ['/api/*', '/api', false],
    ['/api/v*/list', '/api/v2/list', true],
    ['/api/**', '/api/a/b/c', true],
    ['/a.b', '/aXb', false],
    ['/a(b)', '/a(b)', true],
    ['**', '/anything', true],
  ])('pattern %s vs %s → %s', (pattern, path, expected) => {
    expect(endpointPathMatches(pattern, path)).toBe(expected)
  })

  // X-Road's PathGlobTest, case for case (glob, path, expected).
  it.each([
    ['**', '', true],
    ['***', 'match/anything/*', true],
    ['**', '/a/b/c', true],
    ['/*/', '/a/', true],
    ['/*/', '/a/b/', false],
    ['', '', true],
    ['', ' ', false],
    ['.^$+{[]|()', '.^$+{[]|()', true],
    ['**/bar/**', 'a/b/c/bar/e/f', true],
    ['**/bar/**', 'a/b/c/foo/e/f', false],
    ['**\\*', '/what/ever*', true],
    ['**\\*', '/what/ever!', false],
    ['simple', 'simple', true],
    ['simple', 'prefix.simple.suffix', false],
    ['**/*/**', 'something/bar/something/else', true],
    ['**/*/**', '/bar/', true],
    ['**/*/**', '//', true],
    ['**/*/**', 'something/else', false],
    ['\\A', '\\A', true],
    ['\\*', '*', true],
    ['\\*', '\\*', false],
    ['\\\\', '\\', true],
    ['aa\\', 'aa\\', true],
  ])('X-Road PathGlob: %j matches %j → %s', (pattern, path, expected) => {
    expect(endpointPathMatches(pattern, path)).toBe(expected)
  })

  it('keeps ? literal where X-Road would make the character before it optional', () => {
    expect(endpointPathMatches('/items?', '/items?')).toBe(true)
    expect(endpointPathMatches('/items?', '/item')).toBe(false)
  })
})

describe('the empty service path (X-Road RestRequest: /r1/…/SERVICE has the path "")', () => {
  const rootOnly: ServiceAccessRights = {
    ...rights,
    endpoints: [
      { method: 'GET', path: '/', subjects: [alice] },
      { method: 'GET', path: '/*', subjects: [bob] },
    ],
  }

  it('is not the root path: an endpoint "/" or "/*" does not allow it', () => {
    expect(ask(alice, 'GET', '', rootOnly)).toMatchObject({ allowed: false, code: 'access_denied' })
    expect(ask(bob, 'GET', '', rootOnly)).toMatchObject({ allowed: false, code: 'access_denied' })
    expect(ask(alice, 'GET', '/', rootOnly)).toMatchObject({ allowed: true, normalizedPath: '/' })
  })

  it('is allowed by the base endpoint ** and stays empty', () => {
    expect(ask(dave, 'GET', '')).toEqual({ allowed: true, normalizedPath: '' })
  })
})

/**
 * Normalising a REST service path once, before matching (the bypass X-Road fixed in 7.7.1): every segment is
 * percent-decoded exactly once, and anything whose meaning could differ between us and the service — dot
 * segments, encoded separators, double encoding, matrix parameters, backslashes, NUL and control characters,
 * empty segments — makes the path ambiguous and is refused (reliability-and-security.md "B10").
 */
export type PathNormalization = { ok: true; path: string } | { ok: false; reason: string }

export function normalizeServicePath(rawPath: string): PathNormalization {
  // X-Road's `RestRequest`: `/r1/…/SERVICE` without a further path has the service path "" (not "/"), which only
  // patterns matching the empty string (`**`, `""`) allow (`ServerConfImpl.checkAccessRights`, `BaseEndpoint.matches`).
  if (rawPath === '') return { ok: true, path: '' }
  if (!rawPath.startsWith('/')) return { ok: false, reason: 'the service path must start with /' }
  if (rawPath.includes('\\')) return { ok: false, reason: 'the service path contains a backslash' }
  if (rawPath.includes(';')) return { ok: false, reason: 'the service path contains a matrix parameter (;)' }
  if (/[?#]/.test(rawPath)) return { ok: false, reason: 'the service path contains a query or fragment delimiter' }
  const segments = rawPath.slice(1).split('/')
  const decoded: string[] = []
  for (const [index, segment] of segments.entries()) {
    const isLast = index === segments.length - 1
    if (segment === '' && !isLast) return { ok: false, reason: 'the service path contains an empty segment (//)' }
    let value: string
    try {
      value = decodeURIComponent(segment)
    } catch {
      return { ok: false, reason: 'the service path has a malformed percent-encoding' }
    }
    if (value.includes('%')) return { ok: false, reason: 'the service path is percent-encoded more than once' }
    if (value.includes('/') || value.includes('\\')) return { ok: false, reason: 'the service path contains an encoded separator' }
    if (value.includes(';')) return { ok: false, reason: 'the service path contains an encoded matrix parameter' }
    if (value === '.' || value === '..') return { ok: false, reason: 'the service path contains a dot segment' }
    if (hasControlCharacter(value)) return { ok: false, reason: 'the service path contains a control character' }
    decoded.push(value)
  }
  return { ok: true, path: `/${decoded.join('/')}` }
}

function hasControlCharacter(value: string): boolean {
  for (const ch of value) {
    const cp = ch.codePointAt(0) ?? 0
    if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) return true
  }
  return false
}

/**
 * X-Road's endpoint path pattern (`PathGlob`, `BaseEndpoint.matches`): `**` (or more stars) matches anything
 * including `/`, `*` anything except `/`, `\*` a literal star and `\\` a literal backslash; a backslash before
 * anything else is itself literal; everything else matches literally. Matched against the normalised (decoded) path.
 * X-Road leaves `?` unescaped in the regular expression it builds (so `/items?` also matches `/item`); here `?` is
 * literal like every other character (docs/xroad-differences.md "Access-right path patterns").
 */
export function endpointPathMatches(pattern: string, normalizedPath: string): boolean {
  return pattern === '**' || compilePattern(pattern).test(normalizedPath)
}

const compiled = new Map<string, RegExp>()

function compilePattern(pattern: string): RegExp {
  let regex = compiled.get(pattern)
  if (regex === undefined) {
    regex = new RegExp(`^${globToRegexSource(pattern)}$`, 's')
    if (compiled.size > 10_000) compiled.clear()
    compiled.set(pattern, regex)
  }
  return regex
}

/** The regular expression source of one glob, read left to right as X-Road's `PathGlob.toPattern` does. */
function globToRegexSource(glob: string): string {
  let out = ''
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i] as string
    const next = glob[i + 1]
    if (ch === '\\') {
      if (next === '*' || next === '\\') {
        out += escapeRegex(next)
        i++
      } else {
        out += '\\\\'
      }
    } else if (ch === '*') {
      if (next === '*') {
        out += '.*'
        while (glob[i + 1] === '*') i++
      } else {
        out += '[^/]*'
      }
    } else {
      out += escapeRegex(ch)
    }
  }
  return out
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
}

/**
 * Normalising a REST service path once, before matching, as X-Road's `ServerConfImpl.checkAccessRights` does
 * (`UriUtils.decodeAndNormalize`, the 7.7.1 fix): the path is percent-decoded once as UTF-8 — `%2D` kept as the escape,
 * as `UriUtils.uriPathPercentDecode` keeps it — then its dot segments are resolved (`URI.normalize`: `/./` dropped,
 * `/a/../b` → `/b`, a `..` above the root kept). A path that still holds `..` anywhere is denied by the caller
 * (`access_denied`); the service gets the raw path either way. `;` and an encoded separator (`%2F`, decoded to `/`)
 * pass as in X-Road.
 *
 * Refused as ambiguous (`ok: false`), where X-Road's decoding would let the checked path and the service's reading
 * of it differ: encoded dot segments (`%2e%2e`), double encoding (`%25`), empty segments (`//`, also once decoded),
 * backslashes (raw or `%5C`), NUL and control characters, malformed percent-encoding or UTF-8, and a literal `?`/`#`.
 * X-Road's own client proxy refuses all of these before sending (Jetty's URI compliance), so no X-Road consumer sends
 * them; X-Road's provider would re-parse a decoded `%3F`/`%23` as a query or fragment and check only the path before
 * it, where here they are literal characters (docs/xroad-differences.md "REST service paths").
 */
export type PathNormalization = { ok: true; path: string } | { ok: false; reason: string }

export function normalizeServicePath(rawPath: string): PathNormalization {
  // X-Road's `RestRequest`: `/r1/…/SERVICE` without a further path has the service path "" (not "/"), which only
  // patterns matching the empty string (`**`, `""`) allow (`ServerConfImpl.checkAccessRights`, `BaseEndpoint.matches`).
  if (rawPath === '') return { ok: true, path: '' }
  if (!rawPath.startsWith('/')) return { ok: false, reason: 'the service path must start with /' }
  if (rawPath.includes('\\')) return { ok: false, reason: 'the service path contains a backslash' }
  if (/[?#]/.test(rawPath)) return { ok: false, reason: 'the service path contains a query or fragment delimiter' }
  if (/%(?![0-9a-f]{2})/i.test(rawPath)) return { ok: false, reason: 'the service path has a malformed percent-encoding' }
  if (/%25/.test(rawPath)) return { ok: false, reason: 'the service path is percent-encoded more than once' }
  if (/%5c/i.test(rawPath)) return { ok: false, reason: 'the service path contains an encoded backslash' }
  for (const segment of rawPath.slice(1).split('/')) {
    const dots = segment.replace(/%2e/gi, '.')
    if ((dots === '.' || dots === '..') && dots !== segment) return { ok: false, reason: 'the service path contains an encoded dot segment' }
  }
  const decoded = percentDecode(rawPath)
  if (decoded === undefined) return { ok: false, reason: 'the service path has a malformed percent-encoding' }
  if (hasControlCharacter(decoded)) return { ok: false, reason: 'the service path contains a control character' }
  const segments = decoded.slice(1).split('/')
  if (segments.slice(0, -1).includes('')) return { ok: false, reason: 'the service path contains an empty segment (//)' }
  return { ok: true, path: removeDotSegments(segments) }
}

/** Whether a normalised path still climbs or names `..` (X-Road `ServerConfImpl`: "Path traversal detected"). */
export function hasTraversal(normalizedPath: string): boolean {
  return normalizedPath.includes('..')
}

const UTF8 = new TextDecoder('utf-8', { fatal: true })
const SURROGATE = /[\uD800-\uDFFF]/

/** `UriUtils.uriPathPercentDecode(path, true)`: `%XY` → the octet, except `%2D`, kept as `%2D`; UTF-8. */
function percentDecode(path: string): string | undefined {
  // Nothing to decode (the usual path, issue 15): each character's UTF-8 decodes back to itself, except a surrogate
  // half, which the loop below turns into U+FFFD.
  if (!path.includes('%') && !SURROGATE.test(path)) return path
  const bytes: number[] = []
  for (let i = 0; i < path.length; i++) {
    const ch = path[i] as string
    if (ch === '%') {
      const hex = path.slice(i + 1, i + 3)
      if (hex.toUpperCase() === '2D') bytes.push(0x25, 0x32, 0x44)
      else bytes.push(parseInt(hex, 16))
      i += 2
    } else {
      bytes.push(...Buffer.from(ch, 'utf8'))
    }
  }
  try {
    return UTF8.decode(Uint8Array.from(bytes))
  } catch {
    return undefined
  }
}

/** `java.net.URI.normalize` on a path's segments: `.` dropped, `..` removes the segment before it, or stays at the root. */
function removeDotSegments(segments: string[]): string {
  const out: string[] = []
  for (const [index, segment] of segments.entries()) {
    const last = index === segments.length - 1
    if (segment === '.') {
      if (last) out.push('')
    } else if (segment === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') {
        out.pop()
        if (last) out.push('')
      } else {
        out.push('..')
      }
    } else {
      out.push(segment)
    }
  }
  return `/${out.join('/')}`
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

import { isMap, isScalar, isSeq, parseDocument } from 'yaml'
import { parseJson, SecurityServerError } from '../platform'
import { MAX_OPENAPI_BYTES, yamlNestingDepth } from './openapi-parser'

/**
 * The OpenAPI description as the `getOpenAPI` metaservice hands it out (PR-MREST §5; X-Road's `Openapi3Anonymiser`):
 * each `servers[].url` without `{variables}` is replaced by its path (`http://petstore.swagger.io/v1/cats` → `/v1/cats`),
 * so the address of the information system behind the provider stays hidden; a url with variables, a null or
 * non-string url stay as they are. An `openapi` field must be a string starting with `3.`; otherwise `internal_error`
 * "Incompatible openapi version", as X-Road answers.
 *
 * X-Road re-serialises the whole document with Jackson (JSON compact, YAML with `---` and quoted strings); here JSON
 * is written back compact too, and YAML is edited in place (comments, order and quoting of everything else kept) —
 * the same content, not the same characters (docs/xroad-differences.md "Metaservices"). Bounded as the description
 * is when the administrator adds it (size, nesting, aliases).
 */
const MAX_DEPTH = 64
const MAX_YAML_ALIASES = 1000

export type OpenApiFormat = 'json' | 'yaml'

export function anonymiseOpenApi(text: string, format: OpenApiFormat): string {
  const source = text.replace(/^\uFEFF/, '')
  if (source.length > MAX_OPENAPI_BYTES) throw failed(`The OpenAPI description is longer than ${MAX_OPENAPI_BYTES} characters`)
  if (format === 'json') {
    const doc = parseJson(source, { maxLength: MAX_OPENAPI_BYTES, maxDepth: MAX_DEPTH }, 'internal_error', 'The OpenAPI description')
    if (doc !== null && typeof doc === 'object' && !Array.isArray(doc)) {
      const record = doc as Record<string, unknown>
      checkVersion(record.openapi)
      if (Array.isArray(record.servers)) {
        for (const server of record.servers) {
          if (server === null || typeof server !== 'object' || Array.isArray(server)) continue
          const entry = server as Record<string, unknown>
          if (typeof entry.url === 'string' && !hasVariables(entry.url)) entry.url = pathOf(entry.url)
        }
      }
    }
    return JSON.stringify(doc)
  }
  if (yamlNestingDepth(source, MAX_DEPTH) > MAX_DEPTH) throw failed(`The OpenAPI description nests deeper than ${MAX_DEPTH} levels`)
  const doc = parseDocument(source, { schema: 'core', uniqueKeys: true, prettyErrors: false, customTags: [] })
  const problem = doc.errors[0]
  if (problem !== undefined) throw failed(problem.message.split('\n')[0]?.slice(0, 200) ?? 'invalid YAML')
  try {
    doc.toJS({ maxAliasCount: MAX_YAML_ALIASES })
  } catch (error) {
    throw failed((error as Error).message.slice(0, 200))
  }
  if (isMap(doc.contents)) {
    const version = doc.contents.get('openapi', true)
    if (version !== undefined) checkVersion(isScalar(version) ? version.value : version)
    const servers = doc.contents.get('servers', true)
    if (isSeq(servers)) {
      for (const server of servers.items) {
        if (!isMap(server)) continue
        const url = server.get('url', true)
        if (isScalar(url) && typeof url.value === 'string' && !hasVariables(url.value)) url.value = pathOf(url.value)
      }
    }
  }
  return doc.toString()
}

function checkVersion(version: unknown): void {
  if (version === undefined || version === null) return
  if (typeof version !== 'string' || !version.startsWith('3.')) {
    throw failed(`Incompatible openapi version. Openapi version 3 or greater expected. Given openapi document is of version ${JSON.stringify(version)}`)
  }
}

/** `Openapi3Anonymiser.urlContainsVariables`. */
function hasVariables(url: string): boolean {
  return url.includes('{') && url.includes('}')
}

/** `new URI(url).getPath()`: the path of an absolute or relative URI reference; '' when it has none. */
function pathOf(url: string): string {
  const match = /^(?:[A-Za-z][A-Za-z0-9+.-]*:)?(?:\/\/[^/?#]*)?([^?#]*)/.exec(url)
  if (match === null || /\s/.test(url)) throw failed(`Can't parse url string: ${url.slice(0, 200)}`)
  return match[1] ?? ''
}

function failed(message: string): SecurityServerError {
  return new SecurityServerError('internal_error', message)
}

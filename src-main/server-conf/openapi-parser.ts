import { parseJson, SecurityServerError } from '../platform'

/**
 * Reads an OpenAPI 3 description as X-Road's admin service does (`OpenApiParser.parse`): the version must be 3.0.x or
 * 3.1.0 (`unsupported_openapi_version` otherwise, Swagger/OpenAPI 2.0 included); the service's base URL is the first
 * `servers` entry resolved against the description's URL; every operation under `paths` becomes an endpoint whose
 * path has each `{parameter}` replaced by `*` (X-Road's `\{[^/]*}` → `*`). Missing `info` or `paths` are warnings
 * the administrator must accept (`openapi_validation_warnings`), as swagger-parser's messages are in X-Road.
 *
 * Only the JSON form is read here (`parseJson` from platform: length and depth checked in one pass before parsing);
 * a YAML description is refused with a message saying so. Complexity: O(n) in the document for the scan and parse,
 * then O(p·m + Σ|path|) over p paths and the m = 8 methods.
 */
export interface OpenApiEndpoint {
  method: string
  path: string
}

export interface ParsedOpenApi {
  /** The service URL; undefined when the description names none and it was not read from a URL. */
  baseUrl: string | undefined
  endpoints: OpenApiEndpoint[]
  warnings: string[]
}

/** X-Road's OpenApiParser.MAX_DESCRIPTION_SIZE. */
export const MAX_OPENAPI_BYTES = 10 * 1024 * 1024
/** Most endpoints one description may yield. */
export const MAX_OPENAPI_ENDPOINTS = 2000
const MAX_OPENAPI_DEPTH = 64
/** `PathItem` operations, in the order swagger-parser's `readOperationsMap` lists them. */
const OPERATION_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const

function parsingError(message: string): SecurityServerError {
  return new SecurityServerError('openapi_parsing_error', message, { clientFault: true })
}

/** @param source the URL the description was read from, or undefined for an uploaded file (its name only for messages). */
export function parseOpenApi(text: string, source: { url?: string; name: string }): ParsedOpenApi {
  const trimmed = text.replace(/^\uFEFF/, '').trimStart()
  if (!trimmed.startsWith('{')) {
    throw parsingError(`Unable to parse OpenAPI description from ${source.name}: only the JSON form is read (a YAML description is not supported yet)`)
  }
  let doc: unknown
  try {
    doc = parseJson(trimmed, { maxLength: MAX_OPENAPI_BYTES, maxDepth: MAX_OPENAPI_DEPTH }, 'openapi_parsing_error', 'The OpenAPI description')
  } catch (error) {
    if (error instanceof SecurityServerError) throw parsingError(`Unable to parse OpenAPI description from ${source.name}: ${error.message}`)
    throw error
  }
  if (!isObject(doc)) throw parsingError(`Unable to parse OpenAPI description from ${source.name}`)
  const version = doc.openapi
  if (typeof version !== 'string') {
    if (typeof doc.swagger === 'string') throw unsupported(doc.swagger)
    throw parsingError(`Unable to parse OpenAPI description from ${source.name}`)
  }
  if (!version.startsWith('3.0') && version !== '3.1.0') throw unsupported(version)

  const warnings: string[] = []
  if (!isObject(doc.info)) warnings.push('attribute info is missing')
  const endpoints: OpenApiEndpoint[] = []
  if (doc.paths === undefined) warnings.push('attribute paths is missing')
  else if (!isObject(doc.paths)) throw parsingError('attribute paths is not an object')
  else {
    for (const [path, item] of Object.entries(doc.paths)) {
      if (!path.startsWith('/')) {
        warnings.push(`paths. ${JSON.stringify(path.slice(0, 60))} does not start with /`)
        continue
      }
      if (!isObject(item)) continue
      for (const method of OPERATION_METHODS) {
        if (item[method] === undefined) continue
        endpoints.push({ method: method.toUpperCase(), path: wildcardParameters(path) })
        if (endpoints.length > MAX_OPENAPI_ENDPOINTS) throw parsingError(`The OpenAPI description has more than ${MAX_OPENAPI_ENDPOINTS} operations`)
      }
    }
  }
  return { baseUrl: baseUrlOf(doc.servers, source.url), endpoints, warnings }
}

function unsupported(version: string): SecurityServerError {
  return new SecurityServerError('unsupported_openapi_version', `OpenAPI version ${version.slice(0, 20)} not supported`, { clientFault: true })
}

/**
 * The first server's URL with its variables' defaults substituted (OpenAPI 3 §4.8.6: every variable has a default),
 * resolved against the description's URL. X-Road resolves an empty URL as Java's `URI.resolve("")` does: the
 * description URL's directory.
 */
function baseUrlOf(servers: unknown, descriptionUrl: string | undefined): string | undefined {
  const first = Array.isArray(servers) ? (servers[0] as unknown) : undefined
  let url = isObject(first) && typeof first.url === 'string' ? first.url : ''
  if (url.includes('{')) {
    const variables = isObject(first) && isObject(first.variables) ? first.variables : {}
    url = url.replace(/\{([^{}/]{1,64})\}/g, (whole, name: string) => {
      const variable = variables[name]
      if (!isObject(variable) || typeof variable.default !== 'string') throw parsingError(`Server variable ${JSON.stringify(name)} has no default`)
      return variable.default
    })
  }
  try {
    if (descriptionUrl === undefined) return url === '' ? undefined : new URL(url).toString()
    return new URL(url === '' ? '.' : url, descriptionUrl).toString()
  } catch {
    throw parsingError(`The server URL ${JSON.stringify(url.slice(0, 100))} is not a URL`)
  }
}

/** X-Road's `path.replaceAll("\\{[^/]*}", "*")`, without a regular expression: greedy up to the last `}` before the next `/`. */
export function wildcardParameters(path: string): string {
  let out = ''
  let i = 0
  while (i < path.length) {
    const open = path.indexOf('{', i)
    if (open < 0) {
      out += path.slice(i)
      break
    }
    const slash = path.indexOf('/', open)
    const segmentEnd = slash < 0 ? path.length : slash
    const close = path.lastIndexOf('}', segmentEnd - 1)
    if (close < open) {
      out += path.slice(i, open + 1)
      i = open + 1
      continue
    }
    out += `${path.slice(i, open)}*`
    i = close + 1
  }
  return out
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

import { parseDocument } from 'yaml'
import { parseJson, SecurityServerError } from '../platform'

/**
 * Reads an OpenAPI 3 description as X-Road's admin service does (`OpenApiParser.parse`): the version must be 3.0.x or
 * 3.1.0 (`unsupported_openapi_version` otherwise, Swagger/OpenAPI 2.0 included); the service's base URL is the first
 * `servers` entry resolved against the description's URL; every operation under `paths` becomes an endpoint whose
 * path has each `{parameter}` replaced by `*` (X-Road's `\{[^/]*}` → `*`). Missing `info` or `paths` are warnings
 * the administrator must accept (`openapi_validation_warnings`), as swagger-parser's messages are in X-Road.
 *
 * JSON is read with `parseJson` from platform (length and depth checked in one pass before parsing); YAML (what X-Road
 * reads with swagger-parser too) with the `yaml` library after the same length limit and a one-pass nesting bound
 * (`yamlNestingDepth`: flow brackets and indentation), aliases capped (`maxAliasCount`, so an alias bomb is refused
 * instead of expanded), duplicate keys refused, YAML 1.2 core schema (no custom tags). Complexity: O(n) in the
 * document for the scan and parse, then O(p·m + Σ|path|) over p paths and the m = 8 methods.
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
  let doc: unknown
  try {
    doc = trimmed.startsWith('{')
      ? parseJson(trimmed, { maxLength: MAX_OPENAPI_BYTES, maxDepth: MAX_OPENAPI_DEPTH }, 'openapi_parsing_error', 'The OpenAPI description')
      : parseYaml(trimmed)
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

/** Most aliases a YAML description may use (each one expands to what it names). */
const MAX_YAML_ALIASES = 100

function parseYaml(text: string): unknown {
  if (text.length > MAX_OPENAPI_BYTES) throw parsingError(`The OpenAPI description is longer than ${MAX_OPENAPI_BYTES} characters`)
  if (yamlNestingDepth(text, MAX_OPENAPI_DEPTH) > MAX_OPENAPI_DEPTH) throw parsingError(`The OpenAPI description nests deeper than ${MAX_OPENAPI_DEPTH} levels`)
  const document = parseDocument(text, { schema: 'core', uniqueKeys: true, prettyErrors: false, customTags: [] })
  const problem = document.errors[0]
  if (problem !== undefined) throw parsingError(problem.message.split('\n')[0]?.slice(0, 200) ?? 'invalid YAML')
  try {
    return document.toJS({ maxAliasCount: MAX_YAML_ALIASES })
  } catch (error) {
    throw parsingError((error as Error).message.slice(0, 200))
  }
}

/**
 * An upper bound of a YAML text's nesting, in one pass, stopping as soon as it exceeds `limit`: open flow brackets
 * (`[`, `{`) plus the number of increasing indentation steps of block lines, kept as a stack. A quote opens only at a
 * token's start and ends with its line, and `#` is a comment only after white space, so a bracket is skipped only where
 * YAML too reads it as text: the bound may count deeper than the document is (brackets in multi-line strings, block
 * scalars' indentation), never shallower.
 */
export function yamlNestingDepth(text: string, limit: number): number {
  const indents: number[] = []
  let flow = 0
  let deepest = 0
  let lineStart = true
  let indent = 0
  let quote = ''
  let previous = '\n'
  for (let i = 0; i < text.length; previous = text[i] as string, i++) {
    const c = text[i] as string
    if (c === '\n') {
      lineStart = true
      indent = 0
      quote = ''
      continue
    }
    if (lineStart) {
      if (c === ' ' || c === '-') {
        indent++
        continue
      }
      lineStart = false
      if (c !== '#' && flow === 0) {
        while (indents.length > 0 && (indents.at(-1) as number) >= indent) indents.pop()
        indents.push(indent)
      }
    }
    const tokenStart = previous === ' ' || previous === '\t' || previous === '\n' || previous === '-' || previous === ':' || previous === ',' || previous === '[' || previous === '{'
    if (quote !== '') {
      if (c === quote) quote = ''
      continue
    }
    if ((c === '"' || c === "'") && tokenStart) quote = c
    else if (c === '#' && (previous === ' ' || previous === '\t' || previous === '\n')) {
      const end = text.indexOf('\n', i)
      i = (end < 0 ? text.length : end) - 1
    } else if (c === '[' || c === '{') flow++
    else if ((c === ']' || c === '}') && flow > 0) flow--
    deepest = Math.max(deepest, flow + indents.length)
    if (deepest > limit) return deepest
  }
  return deepest
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

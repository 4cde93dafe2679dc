import { readFileSync } from 'node:fs'

/**
 * X-Road ships the operational-monitoring payload schemas as YAML (JSON Schema draft 4 vocabulary). The project has no
 * YAML or JSON-Schema library, so tests read them with these two small readers:
 * - `readYamlSubset`: block mappings, block sequences of scalars, plain and single-quoted scalars — what those files
 *   use. Anything else (flow collections, block scalars, anchors, tabs) is refused, so a schema file outside the subset
 *   fails loudly instead of being misread.
 * - `schemaErrors`: the keywords those schemas use (title, description, type, properties, items, required, enum,
 *   minimum, maxLength, format ipv4); an unknown keyword is an error, so no constraint is silently skipped.
 */
type Yaml = string | number | boolean | null | Yaml[] | { [key: string]: Yaml }

interface Line {
  indent: number
  text: string
  number: number
}

function scalar(raw: string, where: number): Yaml {
  const text = raw.trim()
  if (text.startsWith("'")) {
    if (!text.endsWith("'") || text.length < 2) throw new Error(`line ${where}: unterminated quoted scalar`)
    return text.slice(1, -1).replace(/''/g, "'")
  }
  if (/^[[{&*!|>"%@`]/.test(text)) throw new Error(`line ${where}: YAML construct outside the supported subset: ${text.slice(0, 20)}`)
  if (/^-?\d+$/.test(text)) return Number(text)
  if (text === 'true' || text === 'false') return text === 'true'
  if (text === 'null' || text === '~' || text === '') return null
  return text
}

function block(lines: readonly Line[], start: number, indent: number): { value: Yaml; next: number } {
  const first = lines[start]
  if (first === undefined || first.indent < indent) return { value: null, next: start }
  if (first.text.startsWith('- ')) {
    const list: Yaml[] = []
    let i = start
    while (i < lines.length && lines[i]!.indent === first.indent && lines[i]!.text.startsWith('- ')) {
      list.push(scalar(lines[i]!.text.slice(2), lines[i]!.number))
      i++
    }
    return { value: list, next: i }
  }
  const map: { [key: string]: Yaml } = {}
  let i = start
  while (i < lines.length && lines[i]!.indent === first.indent) {
    const line = lines[i]!
    const colon = line.text.indexOf(':')
    if (colon <= 0) throw new Error(`line ${line.number}: expected 'key: value'`)
    const key = line.text.slice(0, colon).trim()
    const rest = line.text.slice(colon + 1)
    i++
    if (rest.trim() === '') {
      const nested = block(lines, i, first.indent + 1)
      map[key] = nested.value
      i = nested.next
    } else {
      map[key] = scalar(rest, line.number)
    }
  }
  if (i < lines.length && lines[i]!.indent > first.indent) throw new Error(`line ${lines[i]!.number}: unexpected indentation`)
  return { value: map, next: i }
}

export function readYamlSubset(path: string): Yaml {
  const lines: Line[] = []
  readFileSync(path, 'utf8').split('\n').forEach((raw, n) => {
    if (raw.includes('\t')) throw new Error(`line ${n + 1}: tabs are outside the supported subset`)
    if (raw.trim() === '' || raw.trim().startsWith('#')) return
    lines.push({ indent: raw.length - raw.trimStart().length, text: raw.trim(), number: n + 1 })
  })
  const { value, next } = block(lines, 0, 0)
  if (next !== lines.length) throw new Error(`line ${lines[next]!.number}: not read`)
  return value
}

const KNOWN = new Set(['title', 'description', 'type', 'properties', 'items', 'required', 'enum', 'minimum', 'maxLength', 'format'])

function typeOf(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number'
  return typeof value
}

/** The ways `value` breaks `schema`, as `path: reason` lines; empty when it conforms. */
export function schemaErrors(schema: Yaml, value: unknown, path = '$'): string[] {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) return [`${path}: schema is not an object`]
  const errors: string[] = []
  for (const keyword of Object.keys(schema)) if (!KNOWN.has(keyword)) errors.push(`${path}: unsupported schema keyword '${keyword}'`)
  const type = schema.type
  const actual = typeOf(value)
  if (typeof type === 'string' && !(actual === type || (type === 'number' && actual === 'integer'))) {
    return [...errors, `${path}: expected ${type}, got ${actual}`]
  }
  if (Array.isArray(schema.enum) && !schema.enum.includes(value as Yaml)) errors.push(`${path}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`)
  // JSON Schema applies `minimum` to numbers and `maxLength` to strings only; the payload schema puts
  // `minimum: 0` on a string (serviceType), which therefore constrains nothing.
  if (typeof schema.minimum === 'number' && typeof value === 'number' && value < schema.minimum) errors.push(`${path}: ${value} < ${schema.minimum}`)
  if (typeof schema.maxLength === 'number' && typeof value === 'string' && [...value].length > schema.maxLength) {
    errors.push(`${path}: longer than ${schema.maxLength}`)
  }
  if (schema.format === 'ipv4' && typeof value === 'string' && !/^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/.test(value)) {
    errors.push(`${path}: not an IPv4 address`)
  } else if (schema.format !== undefined && schema.format !== 'ipv4') errors.push(`${path}: unsupported format ${String(schema.format)}`)
  if (actual === 'object') {
    const object = value as Record<string, unknown>
    if (Array.isArray(schema.required)) {
      for (const name of schema.required) if (typeof name === 'string' && !(name in object)) errors.push(`${path}: '${name}' is required`)
    }
    const properties = schema.properties
    if (typeof properties === 'object' && properties !== null && !Array.isArray(properties)) {
      for (const [name, child] of Object.entries(object)) {
        const sub = properties[name]
        if (sub !== undefined) errors.push(...schemaErrors(sub, child, `${path}.${name}`))
      }
    }
  }
  if (actual === 'array' && schema.items !== undefined) {
    (value as unknown[]).forEach((item, i) => errors.push(...schemaErrors(schema.items!, item, `${path}[${i}]`)))
  }
  return errors
}

/** The property names a schema's `items.properties` declares (to check a payload uses only the record's fields). */
export function declaredItemProperties(schema: Yaml, arrayProperty: string): string[] {
  const s = schema as { properties?: Record<string, { items?: { properties?: Record<string, unknown> } }> }
  return Object.keys(s.properties?.[arrayProperty]?.items?.properties ?? {})
}

import { readFileSync } from 'node:fs'
import { parse } from 'yaml'

/**
 * X-Road ships the operational-monitoring payload schemas as YAML in the JSON Schema vocabulary. The project has no
 * JSON-Schema library, so tests check payloads with `schemaErrors`, which knows the keywords those schemas use (title,
 * description, type, properties, items, required, enum, minimum, maxLength, format ipv4); an unknown keyword is an
 * error, so no constraint is silently skipped.
 */
type Yaml = string | number | boolean | null | Yaml[] | { [key: string]: Yaml }

/** A YAML schema file read with the project's `yaml` package (YAML 1.2 core schema). */
export function readYamlSchema(path: string): Yaml {
  return parse(readFileSync(path, 'utf8')) as Yaml
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

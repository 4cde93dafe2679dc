import { X509Certificate } from 'node:crypto'
import { describeIdentifier, type XRoadId } from '@shared/domain/identifiers'
import type { GlobalConfSnapshot } from './conf-model'

/**
 * A JSON-ready view of the read model for the CLI and the admin API: identifiers in X-Road's
 * `TYPE:INSTANCE/CLASS/CODE` form, certificates as base64 DER with their subject, dates as ISO-8601.
 */
export function snapshotToJson(snapshot: GlobalConfSnapshot): unknown {
  return convert(snapshot)
}

function isIdentifier(value: object): value is XRoadId {
  return 'objectType' in value && typeof (value as { objectType: unknown }).objectType === 'string'
}

function certificateView(der: Uint8Array): unknown {
  let subject: string | undefined
  try {
    subject = new X509Certificate(der).subject.replace(/\n/g, ', ')
  } catch {
    subject = undefined
  }
  return { ...(subject ? { subject } : {}), der: Buffer.from(der).toString('base64') }
}

function convert(value: unknown): unknown {
  if (value instanceof Uint8Array) return certificateView(value)
  if (value instanceof Date) return value.toISOString()
  if (value instanceof Map) return Object.fromEntries([...value.entries()].map(([k, v]) => [String(k), convert(v)]))
  if (Array.isArray(value)) return value.map(convert)
  if (value !== null && typeof value === 'object') {
    if (isIdentifier(value)) return describeIdentifier(value)
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, convert(v)]))
  }
  return value
}

import { z } from 'zod'
import type { SettingDto, SettingsApi } from '@shared/admin-api/admin-api'
import { clientError, inTransaction, type Clock, type WritableDb } from '../platform'
import { deleteSystemParameter, readSystemParameters, writeSystemParameter } from '../server-conf'
import { validate } from './admin-validation'

/**
 * System parameters an administrator may change from the GUI: a small catalogue with X-Road's names and
 * defaults (UG-SYSPAR), each validated before it is stored in `system_parameters`.
 */
interface SettingSpec {
  name: string
  label: string
  description: string
  kind: 'integer' | 'boolean'
  unit: string | null
  min?: number
  max?: number
  defaultValue: string
}

export const SETTINGS_CATALOGUE: readonly SettingSpec[] = [
  {
    name: 'message-log.keep-records-for', label: 'Keep message-log records for', kind: 'integer', unit: 'days', min: 0, max: 3650, defaultValue: '30',
    description: 'Archived message-log records are removed from the database after this many days (UG-SYSPAR keep-records-for).',
  },
  {
    name: 'message-log.archive-interval', label: 'Archive every', kind: 'integer', unit: 'seconds', min: 60, max: 7 * 86_400, defaultValue: String(24 * 3600),
    description: 'How often time-stamped records are written into signed archive files.',
  },
  {
    name: 'message-log.message-body-logging', label: 'Log message bodies', kind: 'boolean', unit: null, defaultValue: 'true',
    description: 'When off, only metadata and signatures are kept: evidence of the exchange without its content.',
  },
  {
    name: 'message-log.acceptable-timestamp-failure-period', label: 'Time-stamping failure period', kind: 'integer', unit: 'seconds', min: 0, max: 7 * 86_400, defaultValue: '14400',
    description: 'How long messages may still flow while the time-stamping authority cannot be reached; 0 never stops traffic.',
  },
  {
    name: 'signer.ocsp-fetch-interval', label: 'OCSP fetch interval', kind: 'integer', unit: 'seconds', min: 60, max: 86_400, defaultValue: '1200',
    description: 'How often the OCSP status of own certificates is refreshed (global configuration may override it).',
  },
  {
    name: 'op-monitor.keep-records-for-days', label: 'Keep monitoring data for', kind: 'integer', unit: 'days', min: 1, max: 365, defaultValue: '7',
    description: 'Operational monitoring records older than this are deleted.',
  },
]

function checkValue(spec: SettingSpec, raw: string): string {
  const text = raw.trim()
  if (spec.kind === 'boolean') {
    if (text !== 'true' && text !== 'false') throw clientError('validation_failed', `${spec.label} is true or false`, { detail: 'value' })
    return text
  }
  if (!/^-?\d+$/.test(text)) throw clientError('validation_failed', `${spec.label} must be a whole number`, { detail: 'value' })
  const n = Number(text)
  if ((spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max)) {
    throw clientError('validation_failed', `${spec.label} must be between ${spec.min} and ${spec.max}${spec.unit ? ` ${spec.unit}` : ''}`, { detail: 'value' })
  }
  return String(n)
}

export function createSettingsAdmin(deps: { db: () => WritableDb; clock: Clock }): SettingsApi {
  const specOf = (name: string): SettingSpec => {
    const spec = SETTINGS_CATALOGUE.find((s) => s.name === name)
    if (spec === undefined) throw clientError('not_found', `Unknown setting ${name}`, { detail: 'name' })
    return spec
  }
  const toDto = (spec: SettingSpec, stored: Map<string, string>): SettingDto => {
    const value = stored.get(spec.name)
    return {
      name: spec.name, label: spec.label, description: spec.description, kind: spec.kind, unit: spec.unit, min: spec.min ?? null, max: spec.max ?? null,
      defaultValue: spec.defaultValue, value: value ?? spec.defaultValue, isDefault: value === undefined,
    }
  }
  const name = z.string().min(1).max(200)
  return {
    async list() {
      const stored = readSystemParameters(deps.db())
      return SETTINGS_CATALOGUE.map((s) => toDto(s, stored))
    },
    async set(input) {
      const value = validate(z.object({ name, value: z.string().max(100) }).strict(), input, 'setting')
      const spec = specOf(value.name)
      const checked = checkValue(spec, value.value)
      inTransaction(deps.db(), () => writeSystemParameter(deps.db(), spec.name, checked, deps.clock.now()))
      return toDto(spec, readSystemParameters(deps.db()))
    },
    async reset(input) {
      const value = validate(z.object({ name }).strict(), input, 'setting')
      const spec = specOf(value.name)
      inTransaction(deps.db(), () => deleteSystemParameter(deps.db(), spec.name))
      return toDto(spec, readSystemParameters(deps.db()))
    },
  }
}

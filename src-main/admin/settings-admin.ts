import { z } from 'zod'
import type { BootstrapSettingsDto, BootstrapValues, SettingDto, SettingsApi } from '@shared/admin-api/admin-api'
import { clientError, inTransaction, type Clock, type SqlWriter } from '../platform'
import { deleteSystemParameter, readSystemParameters, writeSystemParameter } from '../server-conf'
import { CronError, DEFAULT_CLEAN_INTERVAL, parseCleanInterval } from '../op-monitoring'
import { validate } from './admin-validation'

/**
 * System parameters an administrator may change from the GUI: a small catalogue with X-Road's names and
 * defaults (UG-SYSPAR), each validated before it is stored in `system_parameters`.
 */
interface SettingSpec {
  name: string
  label: string
  description: string
  /** `schedule`: a Quartz cron expression (op-monitoring's `parseCleanInterval`); `version`: `major.minor.patch` or empty. */
  kind: 'integer' | 'boolean' | 'schedule' | 'version'
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
    name: 'message-log.evidence-loss-fail-closed', label: 'Stop traffic when logged evidence is lost', kind: 'boolean', unit: null, defaultValue: 'true',
    description: 'When the message log finds acknowledged records missing or altered, new messages are refused until an administrator acknowledges it on the Message log page. Off: traffic continues and the loss is only reported.',
  },
  {
    name: 'configuration-client.update-interval', label: 'Download global configuration every', kind: 'integer', unit: 'seconds', min: 1, max: 86_400, defaultValue: '60',
    description: 'How often global configuration is downloaded from the configuration source; after failures the wait grows to at most five times this.',
  },
  {
    name: 'signer.ocsp-fetch-interval', label: 'OCSP fetch interval', kind: 'integer', unit: 'seconds', min: 60, max: 86_400, defaultValue: '1200',
    description: 'How often the OCSP status of own certificates is refreshed (global configuration may override it).',
  },
  {
    name: 'op-monitor.keep-records-for-days', label: 'Keep monitoring data for', kind: 'integer', unit: 'days', min: 1, max: 365, defaultValue: '7',
    description: 'Operational monitoring records older than this are deleted.',
  },
  {
    name: 'op-monitor.clean-interval', label: 'Delete old monitoring data at', kind: 'schedule', unit: null, defaultValue: DEFAULT_CLEAN_INTERVAL,
    description: 'When records older than the kept days are deleted, as a Quartz cron expression (seconds minutes hours day month weekday [year]); by default at 00:00 and 12:00.',
  },
  {
    name: 'op-monitor.max-records-in-payload', label: 'Most records per operational data answer', kind: 'integer', unit: null, min: 1, max: 1_000_000, defaultValue: '10000',
    description: 'A getSecurityServerOperationalData answer holds at most this many records (and the rest of the last second); the answer then says from when to continue.',
  },
  {
    name: 'op-monitor.records-available-timestamp-offset-seconds', label: 'Hold back the newest operational data for', kind: 'integer', unit: 'seconds', min: 0, max: 86_400, defaultValue: '60',
    description: 'Records of the last seconds are not served yet, so an answer never misses records still being written.',
  },
  {
    name: 'op-monitor.health-statistics-period-seconds', label: 'Health statistics period', kind: 'integer', unit: 'seconds', min: 1, max: 7 * 86_400, defaultValue: '600',
    description: 'getSecurityServerHealthData counts requests and computes their durations and sizes over this last period.',
  },
  {
    name: 'env-monitor.limit-remote-data-set', label: 'Limit metrics for the monitoring client', kind: 'boolean', unit: null, defaultValue: 'false',
    description: 'When on, only the owner gets every metric from getSecurityServerMetrics; the central monitoring client gets only the operating system and certificates.',
  },
  {
    name: 'audit-log.keep-entries-for', label: 'Keep audit-log entries for', kind: 'integer', unit: 'days', min: 0, max: 36_500, defaultValue: '0',
    description: 'Older audit-log entries are deleted; the hash of the last one deleted becomes the start of the chain, so the rest still verifies. 0 keeps every entry.',
  },
  {
    // UG-SYSPAR [proxy] server-min-supported-client-version (X-Road's ClientProxyVersionVerifier; unset by default).
    name: 'proxy.server-min-supported-client-version', label: 'Oldest accepted client security server version', kind: 'version', unit: null, defaultValue: '',
    description: 'Requests from a security server that reports an older version (x-proxy-version), or none, are refused with client_proxy_version_not_supported. Empty accepts every version.',
  },
  {
    name: 'proxy.client-tls-allow-tls13', label: 'Offer TLS 1.3 to information systems', kind: 'boolean', unit: null, defaultValue: 'false',
    description: "Off: the client proxy's HTTPS port speaks TLS 1.2 only, with X-Road's cipher suites. On: TLS 1.3 as well. Applies to new connections at once.",
  },
  {
    name: 'backup.interval-hours', label: 'Back up every', kind: 'integer', unit: 'hours', min: 0, max: 720, defaultValue: '24',
    description: 'Scheduled encrypted backups, once a passphrase for them is set under Backup and restore; 0 switches them off.',
  },
  {
    name: 'backup.keep-scheduled', label: 'Scheduled backups kept', kind: 'integer', unit: null, min: 1, max: 1000, defaultValue: '7',
    description: 'The oldest scheduled backups are deleted beyond this many; backups made by hand are kept until deleted.',
  },
]

const VERSION = /^\d{1,4}\.\d{1,4}\.\d{1,4}$/

function checkValue(spec: SettingSpec, raw: string): string {
  const text = raw.trim()
  if (spec.kind === 'boolean') {
    if (text !== 'true' && text !== 'false') throw clientError('validation_failed', `${spec.label} is true or false`, { detail: 'value' })
    return text
  }
  if (spec.kind === 'version') {
    if (text !== '' && !VERSION.test(text)) throw clientError('validation_failed', `${spec.label} is a version such as 7.1.3, or empty`, { detail: 'value' })
    return text
  }
  if (spec.kind === 'schedule') {
    try {
      return parseCleanInterval(text).expression
    } catch (error) {
      if (!(error instanceof CronError)) throw error
      throw clientError('validation_failed', `${spec.label}: ${error.message}`, { detail: 'value' })
    }
  }
  if (!/^-?\d+$/.test(text)) throw clientError('validation_failed', `${spec.label} must be a whole number`, { detail: 'value' })
  const n = Number(text)
  if ((spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max)) {
    throw clientError('validation_failed', `${spec.label} must be between ${spec.min} and ${spec.max}${spec.unit ? ` ${spec.unit}` : ''}`, { detail: 'value' })
  }
  return String(n)
}

/** The bootstrap file as the composition root knows it (the admin domain does not know the server's config type). */
export interface BootstrapFile {
  path: string
  /** What the file holds (defaults where it is silent). @throws invalid_config */
  read(): BootstrapValues
  /** What the running server uses. */
  running(): BootstrapValues
  /** Merges `values` into the file and writes it atomically. @throws invalid_config */
  write(values: Partial<BootstrapValues>): void
}

const port = z.number().int().min(0).max(65535).nullable()
const host = z.string().trim().min(1, 'give an address').max(255).regex(/^[A-Za-z0-9.:[\]-]+$/, 'an IP address or host name')
const bootstrapSchema = z.object({
  internalHost: host, clientProxyHttpPort: port, clientProxyHttpsPort: port,
  // The admin interface cannot be switched off from the admin interface.
  adminPort: z.number().int().min(0).max(65535),
  externalHost: host, serverProxyPort: port, ocspResponderPort: port,
  healthCheckHost: host, healthCheckPort: port,
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
}).partial().strict()

const PORT_FIELDS = ['clientProxyHttpPort', 'clientProxyHttpsPort', 'adminPort', 'serverProxyPort', 'ocspResponderPort', 'healthCheckPort'] as const

function bootstrapDto(file: BootstrapFile): BootstrapSettingsDto {
  const values = file.read()
  const running = file.running()
  const pendingRestart = (Object.keys(values) as Array<keyof BootstrapValues>).filter((k) => k !== 'logLevel' && values[k] !== running[k])
  return { file: file.path, values, running, pendingRestart }
}

export function createSettingsAdmin(deps: { db: () => SqlWriter; clock: Clock; bootstrap?: BootstrapFile }): SettingsApi {
  const bootstrapFile = (): BootstrapFile => {
    if (deps.bootstrap === undefined) throw clientError('unsupported', 'This server was started without a bootstrap file to edit')
    return deps.bootstrap
  }
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
    async bootstrap() {
      return bootstrapDto(bootstrapFile())
    },
    async setBootstrap(input) {
      const file = bootstrapFile()
      const changes = validate(bootstrapSchema, input, 'listener settings')
      const next = { ...file.read(), ...changes }
      // Two listeners cannot share a port on one host; 0 (any free port) and null (off) never clash.
      const hostOf = (field: (typeof PORT_FIELDS)[number]): string =>
        field === 'healthCheckPort' ? next.healthCheckHost : field === 'serverProxyPort' || field === 'ocspResponderPort' ? next.externalHost : next.internalHost
      for (const [i, a] of PORT_FIELDS.entries()) {
        for (const b of PORT_FIELDS.slice(i + 1)) {
          const pa = next[a]
          if (pa !== null && pa !== 0 && pa === next[b] && (hostOf(a) === hostOf(b) || hostOf(a) === '0.0.0.0' || hostOf(b) === '0.0.0.0')) {
            throw clientError('validation_failed', `Port ${pa} is given to two listeners (${a} and ${b})`, { detail: b in changes ? b : a })
          }
        }
      }
      file.write(changes)
      return bootstrapDto(file)
    },
  }
}

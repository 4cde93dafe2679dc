import type { Logger } from '../platform'
import type { MessageLogSettingsInput } from '../message-log'
import { parseCleanInterval, type OpMonitorSettings } from '../op-monitoring'

/**
 * The system parameters an administrator stores in server configuration (`system_parameters`, the admin
 * `settings` group; UG-SYSPAR names) translated into the settings of the domains they govern. They are read when
 * the core is built, so a change takes effect at the next start of the security server.
 */
export interface AppliedSystemParameters {
  /**
   * Message-log settings from stored parameters only (keep-records-for, body logging, failure period, archive
   * interval, fail-closed on evidence loss).
   */
  messageLog: Partial<MessageLogSettingsInput>
  /**
   * Operational-monitoring settings from stored parameters only: retention, the operational data answer's limits and
   * the health statistics period.
   */
  opMonitor: Partial<OpMonitorSettings>
  /** `configuration-client.update-interval`: seconds between global configuration downloads (default 60). */
  confUpdateIntervalSeconds?: number
  /** `op-monitor.clean-interval`: the Quartz cron expression of the retention purge, when the administrator set it. */
  opMonitorCleanInterval?: string
  /** `env-monitor.limit-remote-data-set`: others than the owner get only the OS and certificates from the metrics service. */
  envMonitorLimitRemoteDataSet: boolean
  /** `signer.ocsp-fetch-interval` when the administrator set it; global configuration's FETCHINTERVAL otherwise. */
  ocspFetchIntervalSeconds?: number
  /** `audit-log.keep-entries-for`: days of audit-log entries kept; 0 keeps all (the default). */
  auditLogKeepDays: number
  /**
   * `proxy.server-min-supported-client-version`: the oldest `x-proxy-version` the server proxy accepts; none when unset
   * or empty (X-Road's default).
   */
  minSupportedClientVersion?: string
  /** `backup.interval-hours` and `backup.keep-scheduled`: scheduled backups (once a schedule passphrase is set). */
  backup: { intervalHours: number; keepScheduled: number }
  /** `proxy.client-tls-allow-tls13`: the client proxy's HTTPS port offers TLS 1.3 too (X-Road `proxy.client-tls-protocols`). */
  clientTlsAllowTls13: boolean
}

export const DEFAULT_BACKUP_SCHEDULE = { intervalHours: 24, keepScheduled: 7 }

type Value = number | boolean | string
type Parser = (text: string) => Value | undefined

const integer = (min: number, max: number): Parser => (text) => {
  if (!/^-?\d+$/.test(text.trim())) return undefined
  const n = Number(text.trim())
  return n >= min && n <= max ? n : undefined
}
const boolean: Parser = (text) => (text.trim() === 'true' ? true : text.trim() === 'false' ? false : undefined)
const version: Parser = (text) => (text.trim() === '' || /^\d{1,4}\.\d{1,4}\.\d{1,4}$/.test(text.trim()) ? text.trim() : undefined)
const cron: Parser = (text) => {
  try {
    return parseCleanInterval(text.trim()).expression
  } catch {
    return undefined
  }
}

/** Parameter name → how to read it and where it goes (the ranges are those of the admin settings catalogue). */
const PARAMETERS: Record<string, { parse: Parser; apply: (target: AppliedSystemParameters, value: Value) => void }> = {
  'message-log.keep-records-for': { parse: integer(0, 3650), apply: (t, v) => { t.messageLog.keepRecordsForDays = v as number } },
  'message-log.archive-interval': { parse: integer(60, 7 * 86_400), apply: (t, v) => { t.messageLog.archiveIntervalSeconds = v as number } },
  'message-log.message-body-logging': { parse: boolean, apply: (t, v) => { t.messageLog.messageBodyLogging = v as boolean } },
  'message-log.acceptable-timestamp-failure-period': {
    parse: integer(0, 7 * 86_400), apply: (t, v) => { t.messageLog.acceptableTimestampFailurePeriodSeconds = v as number },
  },
  // Gatehouse: evidence continuity (message-log/evidence-check.ts); X-Road has no such check.
  'message-log.evidence-loss-fail-closed': { parse: boolean, apply: (t, v) => { t.messageLog.evidenceLossFailClosed = v as boolean } },
  // UG-SYSPAR configuration-client update-interval (default 60 s).
  'configuration-client.update-interval': { parse: integer(1, 86_400), apply: (t, v) => { t.confUpdateIntervalSeconds = v as number } },
  'signer.ocsp-fetch-interval': { parse: integer(60, 86_400), apply: (t, v) => { t.ocspFetchIntervalSeconds = v as number } },
  'op-monitor.keep-records-for-days': { parse: integer(1, 365), apply: (t, v) => { t.opMonitor.keepRecordsForDays = v as number } },
  'op-monitor.clean-interval': { parse: cron, apply: (t, v) => { t.opMonitorCleanInterval = v as string } },
  'op-monitor.max-records-in-payload': { parse: integer(1, 1_000_000), apply: (t, v) => { t.opMonitor.maxRecordsInPayload = v as number } },
  'op-monitor.records-available-timestamp-offset-seconds': {
    parse: integer(0, 86_400), apply: (t, v) => { t.opMonitor.recordsAvailableTimestampOffsetSeconds = v as number },
  },
  'op-monitor.health-statistics-period-seconds': {
    parse: integer(1, 7 * 86_400), apply: (t, v) => { t.opMonitor.healthStatisticsPeriodSeconds = v as number },
  },
  'env-monitor.limit-remote-data-set': { parse: boolean, apply: (t, v) => { t.envMonitorLimitRemoteDataSet = v as boolean } },
  'audit-log.keep-entries-for': { parse: integer(0, 36_500), apply: (t, v) => { t.auditLogKeepDays = v as number } },
  'proxy.server-min-supported-client-version': {
    parse: version, apply: (t, v) => { if (v !== '') t.minSupportedClientVersion = v as string },
  },
  'backup.interval-hours': { parse: integer(0, 720), apply: (t, v) => { t.backup.intervalHours = v as number } },
  'backup.keep-scheduled': { parse: integer(1, 1000), apply: (t, v) => { t.backup.keepScheduled = v as number } },
  // X-Road `proxy.client-tls-protocols` (default TLSv1.2): here a switch for adding TLS 1.3.
  'proxy.client-tls-allow-tls13': { parse: boolean, apply: (t, v) => { t.clientTlsAllowTls13 = v as boolean } },
}

/** Reads the stored parameters; an unknown name or a value out of range is logged and left at its default. */
export function applySystemParameters(stored: ReadonlyMap<string, string>, logger: Logger): AppliedSystemParameters {
  const applied: AppliedSystemParameters = {
    messageLog: {}, opMonitor: {}, envMonitorLimitRemoteDataSet: false, auditLogKeepDays: 0, backup: { ...DEFAULT_BACKUP_SCHEDULE }, clientTlsAllowTls13: false,
  }
  for (const [name, text] of stored) {
    const spec = PARAMETERS[name]
    const value = spec?.parse(text)
    if (spec === undefined || value === undefined) {
      logger.warn({ parameter: name }, 'ignoring a stored system parameter that is unknown or out of range')
      continue
    }
    spec.apply(applied, value)
  }
  return applied
}

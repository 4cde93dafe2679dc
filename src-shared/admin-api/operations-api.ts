/**
 * Operational monitoring for the operator (the `operations` group): traffic per service and client, failures by
 * X-Road error code, latency percentiles over a time range, read from this server's operational-monitoring records
 * (PR-OPMON fields); and the `alerts` group: what needs attention before traffic stops (certificate expiry, OCSP,
 * time-stamping, global configuration, tokens, disk, readiness), with acknowledgement and outbound delivery (webhook,
 * syslog). Identifiers travel as X-Road's encoded strings with their path form beside them.
 */

/** Which side of the exchanges: as the consumer's server (`client`), as the provider's (`producer`), or both. */
export type OperationsSide = 'all' | 'client' | 'producer'

export interface OperationsQuery {
  /** ISO-8601, inclusive. */
  from: string
  /** ISO-8601, exclusive. */
  to: string
  side?: OperationsSide
}

/** Latency of exchanges at this server (response out − request in), in milliseconds; null when there were none. */
export interface LatencyPercentiles {
  count: number
  p50Ms: number | null
  p90Ms: number | null
  p95Ms: number | null
  p99Ms: number | null
  maxMs: number | null
}

export interface OperationsTrafficPoint {
  /** Bucket start, ISO-8601: a whole multiple of `bucketSeconds` (the first bucket may begin before the range). */
  start: string
  succeeded: number
  failed: number
  p50Ms: number | null
  p95Ms: number | null
  p99Ms: number | null
}

/** One service's or one client's exchanges in the range. */
export interface PartyTraffic {
  /** Encoded identifier (`SERVICE:…`, `SUBSYSTEM:…`), or '' for exchanges that failed before it was known. */
  id: string
  /** Path form (`LAB/GOV/2002/provider/pets`), or ''. */
  path: string
  succeeded: number
  failed: number
  latency: LatencyPercentiles
}

/** Failed exchanges with one X-Road fault code. */
export interface FaultCount {
  /** X-Road's fault code, e.g. `server.serverproxy.service_failed.http_error`, or '' when none was recorded. */
  faultCode: string
  count: number
  firstAt: string
  lastAt: string
  /** Path forms of the services these failures were for (at most 5). */
  services: string[]
}

export interface OperationsSummary {
  from: string
  to: string
  side: OperationsSide
  /** Width of the traffic buckets. */
  bucketSeconds: number
  totals: { succeeded: number; failed: number }
  latency: LatencyPercentiles
  traffic: OperationsTrafficPoint[]
  /** Busiest first, at most 50 each. */
  services: PartyTraffic[]
  clients: PartyTraffic[]
  /** Most frequent first. */
  faults: FaultCount[]
  /** `op-monitor.keep-records-for-days`: how far back records exist. */
  retentionDays: number
  /** The oldest record kept, ISO-8601, or null when there is none. */
  oldestRecordAt: string | null
}

export interface FailureQuery extends OperationsQuery {
  /** Exact fault code ('' for failures without one). */
  faultCode?: string
  /** Encoded or path form. */
  service?: string
  client?: string
  /** 1..500, default 100. */
  limit?: number
}

/** One failed exchange, newest first; `messageId` (the query id) opens its message-log records. */
export interface FailedExchange {
  at: string
  side: 'client' | 'producer'
  client: string | null
  clientPath: string | null
  service: string | null
  servicePath: string | null
  messageId: string | null
  faultCode: string | null
  faultString: string | null
  statusCode: number | null
  durationMs: number
}

export interface OperationsApi {
  /** Totals, traffic over time, per service and client, failures by code, latency. @throws validation_failed */
  summary(query: OperationsQuery): Promise<OperationsSummary>
  /** Failed exchanges of the range, newest first, optionally of one fault code, service or client. @throws validation_failed */
  failures(query: FailureQuery): Promise<FailedExchange[]>
}

// ---- alerts ------------------------------------------------------------------------------------------------

/**
 * What an alert is about; the GUI words each code with its parameters and says what to do. `readiness-red` carries the
 * readiness check (`area`, `check` and the check's own parameters), so any readiness area — present or added later —
 * raises an alert when it turns red.
 */
export const ALERT_CODES = [
  'certificate-expiring', 'certificate-expired', 'ocsp-stale', 'timestamping-failing', 'global-conf-expiring',
  'token-logged-out', 'disk-filling', 'readiness-red',
] as const
export type AlertCode = (typeof ALERT_CODES)[number]

export type AlertSeverity = 'critical' | 'warning' | 'info'

/** Days before a certificate's expiry at which an alert is raised (each threshold raises its own). */
export const CERTIFICATE_ALERT_DAYS = [60, 30, 7, 1] as const

export interface AlertDto {
  /** Stable for one condition, e.g. `certificate-expiring:<cert id>:30`, `readiness-red:signing:sign-ocsp-not-good`. */
  id: string
  code: AlertCode
  severity: AlertSeverity
  params: Record<string, string | number>
  /** English text for logs, webhooks and syslog; the GUI words the code itself. */
  message: string
  raisedAt: string
  /** When the condition ended; null while it lasts. */
  clearedAt: string | null
  acknowledgedAt: string | null
  acknowledgedBy: string | null
}

export type AlertChannelName = 'webhook' | 'syslog'

/** The outcome of the last delivery to a channel. */
export interface AlertDelivery {
  channel: AlertChannelName
  at: string
  ok: boolean
  /** Why it failed, in words (connection refused, HTTP 500…). */
  error: string | null
}

export interface AlertSettings {
  /** POSTs each raised and cleared alert as JSON; with a secret, signed `X-Gatehouse-Signature: sha256=<HMAC>`. */
  webhook: { enabled: boolean; url: string; secretSet: boolean }
  /** RFC 5424 messages over UDP or TCP (RFC 6587 octet counting). */
  syslog: { enabled: boolean; host: string; port: number; protocol: 'udp' | 'tcp'; facility: number }
  /** The disk-forecast alert fires when the message-log volume fills in fewer days than this. */
  diskDaysThreshold: number
  lastDeliveries: AlertDelivery[]
}

export interface AlertSettingsInput {
  /** `secret`: a new secret, '' to remove it, absent to keep it. */
  webhook?: { enabled?: boolean; url?: string; secret?: string }
  syslog?: { enabled?: boolean; host?: string; port?: number; protocol?: 'udp' | 'tcp'; facility?: number }
  diskDaysThreshold?: number
}

export interface AlertsApi {
  /** Active alerts first (newest first), then those cleared in the last 7 days when asked. */
  list(input?: { includeCleared?: boolean }): Promise<AlertDto[]>
  /** Marks an alert seen by the caller; it stays listed until its condition ends. @throws not_found */
  acknowledge(input: { id: string }): Promise<AlertDto>
  settings(): Promise<AlertSettings>
  /** @throws validation_failed (detail names the field: `webhook.url`, `syslog.host`…) */
  setSettings(input: AlertSettingsInput): Promise<AlertSettings>
  /** Sends a test alert to every enabled channel now and says how each went. */
  testDelivery(): Promise<AlertDelivery[]>
}

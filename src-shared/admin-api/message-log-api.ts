/**
 * The message-log admin group: search of logged messages (metadata), record details (the body only for the
 * security officer and the system administrator, every view audit-logged), ASiC-E evidence export and verification
 * (xroad-protocols.md §6.3–6.4), time-stamping status with the fail-closed deadline (reliability-and-security.md §1.2),
 * the disk-use forecast and archiving on demand. Identifiers travel as X-Road's encoded strings.
 */
import type { StatusLight } from './security-server-api'

export type MessageDirection = 'request' | 'response'
/** `unstamped`: waiting for a time-stamp; `timestamped`: stamped, still in the database; `archived`: in an archive file. */
export type MessageRecordStatus = 'unstamped' | 'timestamped' | 'archived'

export interface MessageLogSearch {
  /** ISO-8601 bounds: from inclusive, to exclusive. */
  from?: string
  to?: string
  /** Client (encoded `SUBSYSTEM:…` or path `INSTANCE/CLASS/CODE/SUBSYSTEM`). */
  client?: string
  /** Service (encoded `SERVICE:…` or path `INSTANCE/CLASS/CODE/SUBSYSTEM/SERVICE`). */
  service?: string
  queryId?: string
  direction?: MessageDirection
  status?: MessageRecordStatus
  /** 1..1000, default 200. */
  limit?: number
}

export interface MessageRecordSummary {
  id: number
  queryId: string
  xRequestId: string | null
  client: string
  clientPath: string
  service: string
  servicePath: string
  direction: MessageDirection
  loggedAt: string
  status: MessageRecordStatus
  bodyLogged: boolean
}

/** Why a body is or is not in a record answer. */
export type BodyAccess = 'shown' | 'not-requested' | 'not-permitted' | 'not-logged'

export interface MessageRecordBody {
  /** The SOAP envelope or the REST header part. */
  message: { encoding: 'utf8' | 'base64'; content: string }
  /** SOAP attachments or the REST body. */
  attachments: Array<{ position: number; encoding: 'utf8' | 'base64'; content: string | null }>
}

export interface MessageRecordDetails extends MessageRecordSummary {
  signatureHash: string
  messageBytes: number
  attachments: Array<{ position: number; size: number; sha512: string }>
  timestamp: { at: string; tsaUrl: string; batch: boolean } | null
  archiveFile: string | null
  archivedAt: string | null
  /** Roles that may see bodies: security officer and system administrator. */
  bodyAccess: BodyAccess
  body: MessageRecordBody | null
}

export interface EvidenceFile {
  fileName: string
  mimeType: string
  /** The ASiC-E container in base64. */
  content: string
  encoding: 'base64'
  recordId: number
  direction: MessageDirection
  timestamped: boolean
}

export interface EvidenceExport {
  queryId: string
  files: EvidenceFile[]
}

/** `valid`: every check passed; `invalid`: a check failed (see `code`); `not-verified`: it could not be checked yet. */
export type EvidenceVerdictValue = 'valid' | 'invalid' | 'not-verified'

export interface EvidenceVerdict {
  fileName: string
  recordId: number | null
  direction: MessageDirection | null
  verdict: EvidenceVerdictValue
  /** X-Road's error code when invalid or not verified (for support), e.g. `signature_not_valid`. */
  code: string | null
  /** The verdict in plain words. */
  explanation: string
  signer: string | null
  signerCertificate: { subject: string; issuer: string; serialNumber: string } | null
  timestamp: { genTime: string; tsa: string; batch: boolean } | null
  ocsp: { responder: string; producedAt: string } | null
}

export interface EvidenceVerification {
  checkedAt: string
  queryId: string | null
  containers: EvidenceVerdict[]
}

export interface TimestampingStatus {
  /** False once time-stamping failed longer than the acceptable period: the server refuses messages. */
  acceptingMessages: boolean
  /** Records waiting for a time-stamp (`backlogCapped`: at least this many). */
  backlog: number
  backlogCapped: boolean
  oldestUnstampedAt: string | null
  lastSuccessAt: string | null
  failingSince: string | null
  lastError: string | null
  /** `acceptable-timestamp-failure-period`; 0 means traffic never stops for time-stamping. */
  failurePeriodSeconds: number
  /** When traffic stops if time-stamping keeps failing (null when nothing waits or fail-closed is off). */
  trafficStopsAt: string | null
  secondsLeft: number | null
  light: StatusLight
  explanation: string
}

export interface MessageLogForecast {
  windowDays: number
  recordsPerDay: number
  averageRecordBytes: number
  bytesPerDay: number
  freeBytes: number
  totalBytes: number
  daysUntilFull: number | null
  keepRecordsForDays: number
  archiving: boolean
  light: StatusLight
  explanation: string
}

/** Page sizes of the message-log screen. */
export const MESSAGE_LOG_PAGE_SIZES = [25, 50, 100] as const
export type MessageLogPageSize = (typeof MESSAGE_LOG_PAGE_SIZES)[number]

/**
 * Which page of exchanges: the newest (default) or the oldest, or the page just older or newer than a cursor that an
 * earlier page gave (`MessageExchangePage.older` / `.newer`).
 */
export type MessageExchangePageStart = { from: 'newest' | 'oldest' } | { olderThan: string } | { newerThan: string }

/** The search filters (each applies to the records of an exchange) and the page to read. */
export interface MessageExchangeQuery extends Omit<MessageLogSearch, 'limit'> {
  /** 25 (default), 50 or 100 exchanges. */
  pageSize?: MessageLogPageSize
  page?: MessageExchangePageStart
}

/**
 * How an exchange ended, from this server's operational-monitoring record of it (X-Road's `succeeded` and
 * `faultCode`). `unknown` when there is none: still running, or already purged (operational data is kept for
 * `op-monitor.keep-records-for-days`, usually less than the message log).
 */
export interface ExchangeOutcome {
  result: 'success' | 'failure' | 'unknown'
  /** X-Road's error code of a failed exchange, e.g. `server.serverproxy.service_failed.http_error`. */
  faultCode: string | null
  faultString: string | null
  /** The service's HTTP status, when the exchange reached it. */
  statusCode: number | null
  /** This server's side(s) of the exchange: `client` (the consumer's server), `producer` (the provider's). */
  sides: Array<'client' | 'producer'>
}

/** One exchange: the records logged under one query id (usually its request and its response). */
export interface MessageExchange {
  queryId: string
  client: string
  clientPath: string
  service: string
  servicePath: string
  firstLoggedAt: string
  lastLoggedAt: string
  /** In logged order; at most 20 (`moreRecords` when the query id holds more). */
  records: MessageRecordSummary[]
  moreRecords: boolean
  outcome: ExchangeOutcome
}

export interface MessageExchangePage {
  /** Newest first. */
  exchanges: MessageExchange[]
  pageSize: MessageLogPageSize
  /** Cursor of the page of newer exchanges (`{ newerThan }`), null on the newest page. */
  newer: string | null
  /** Cursor of the page of older exchanges (`{ olderThan }`), null on the oldest page. */
  older: string | null
}

/** The most exchanges one evidence ZIP may hold. */
export const MAX_EVIDENCE_ZIP_EXCHANGES = 100

/** One ZIP of ASiC-E containers with `manifest.json` listing them. */
export interface EvidenceZipFile {
  fileName: string
  mimeType: 'application/zip'
  /** The ZIP in base64. */
  content: string
  encoding: 'base64'
  queryIds: string[]
  containers: number
  /** Query ids with no logged record. */
  notFound: string[]
}

/**
 * Kinds of evidence problem: `missing` acknowledged records are gone (a lost WAL, a deleted record, a truncated or
 * replaced database); `altered` a record or its body no longer matches its chain hash; `link` the chain does not
 * join (a record substituted); `unreadable` the database cannot be read; `ack-file` the acknowledgement file is gone
 * or unreadable.
 */
export type EvidenceProblemKind = 'missing' | 'altered' | 'link' | 'unreadable' | 'ack-file'

export interface EvidenceProblemDto {
  kind: EvidenceProblemKind
  /** The chain positions concerned (null when the problem has none, e.g. an unreadable file). */
  firstSeq: number | null
  lastSeq: number | null
  /** English text for support; the GUI words the problem from its kind and positions. */
  detail: string
  acknowledged: boolean
}

/** An evidence problem found and, once acknowledged, who acknowledged it and why (kept forever). */
export interface EvidenceIncidentDto {
  kind: EvidenceProblemKind
  firstSeq: number | null
  lastSeq: number | null
  detail: string
  detectedAt: string
  acknowledgedAt: string | null
  acknowledgedBy: string | null
  reason: string | null
}

/**
 * Evidence continuity of the message log: every record carries its place in a hash chain, and the last acknowledged
 * place is kept outside the database; both are checked at every start, every minute for new records, and on demand.
 */
export interface EvidenceContinuity {
  /** `ok`: nothing missing or altered; `problem`: a problem not yet acknowledged; `acknowledged`: problems, all acknowledged. */
  state: 'ok' | 'problem' | 'acknowledged'
  light: StatusLight
  checkedAt: string
  /** `start`: structure and acknowledgement file; `incremental`: and the new records; `full`: every record recomputed. */
  scope: 'start' | 'incremental' | 'full'
  checking: boolean
  lastFullCheckAt: string | null
  records: number
  verifiedRecords: number
  firstSeq: number | null
  lastSeq: number | null
  lastAcknowledgedSeq: number | null
  ackFile: 'ok' | 'missing' | 'unreadable' | 'not-used'
  /** Acknowledged records that are missing, counted over the problems listed. */
  missingRecords: number
  problems: EvidenceProblemDto[]
  problemsTruncated: boolean
  /** `message-log.evidence-loss-fail-closed`. */
  failClosed: boolean
  /** New messages are refused (`logging_failed`) until an administrator acknowledges the problems. */
  refusing: boolean
  /** The latest incidents, newest first. */
  incidents: EvidenceIncidentDto[]
}

export interface ArchiveRunSummary {
  archives: Array<{ fileName: string; records: number }>
  purged: number
  transferFailures: Array<{ path: string; error: string }>
}

export interface MessageLogApi {
  /** Metadata only, oldest first. @throws validation_failed */
  search(query?: MessageLogSearch): Promise<MessageRecordSummary[]>
  /** One page of exchanges, newest first, with each exchange's records and outcome. @throws validation_failed */
  exchanges(query?: MessageExchangeQuery): Promise<MessageExchangePage>
  /** One record; the body only with `includeBody` for permitted roles (audit-logged). @throws not_found, validation_failed */
  record(input: { id: number; includeBody?: boolean }): Promise<MessageRecordDetails>
  /** The ASiC-E container(s) of a query id as files to save. @throws not_found */
  export(input: { queryId: string; direction?: MessageDirection }): Promise<EvidenceExport>
  /**
   * One ZIP with the ASiC-E containers of every record of these query ids (1..100) and a manifest; audit-logged. Over
   * HTTPS, `Accept: application/zip` streams the ZIP itself instead of this JSON. @throws not_found, validation_failed
   */
  exportZip(input: { queryIds: string[] }): Promise<EvidenceZipFile>
  /** Verifies the containers of a query id, or one uploaded container (base64), against global configuration. @throws not_found, validation_failed */
  verify(input: { queryId: string } | { container: string; fileName?: string }): Promise<EvidenceVerification>
  status(): Promise<TimestampingStatus>
  /** Disk use at the recent rate and the days until the volume of the message log fills. */
  forecast(input?: { windowDays?: number }): Promise<MessageLogForecast>
  /** Archives stamped records now (also runs on its interval). @throws not_initialized (archiving not configured) */
  archiveNow(): Promise<ArchiveRunSummary>
  /** Time-stamps waiting records now. */
  timestampNow(): Promise<TimestampingStatus>
  /** The evidence-continuity check, brought up to date first (the records logged since the last check are checked). */
  evidence(): Promise<EvidenceContinuity>
  /** Checks the evidence now: every record (default) or only those since the last check (`incremental`). */
  checkEvidence(input?: { scope?: 'full' | 'incremental' }): Promise<EvidenceContinuity>
  /**
   * Acknowledges every open evidence problem with a reason (audit-logged with the problems); traffic refused for
   * them flows again. @throws validation_failed (detail `reason`), conflict (nothing to acknowledge)
   */
  acknowledgeGap(input: { reason: string }): Promise<EvidenceContinuity>
}

/** Roles that may see logged message bodies (and export evidence, which holds them). */
export const MESSAGE_BODY_ROLES = ['security-officer', 'system-administrator'] as const

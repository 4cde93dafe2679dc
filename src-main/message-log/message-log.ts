import { isUtf8 } from 'node:buffer'
import { XMLSerializer } from '@xmldom/xmldom'
import { encodeIdentifier, serviceProvider, type ClientId, type ServiceId } from '@shared/domain/identifiers'
import {
  childElements, clientError, hashOf, inTransaction, logFailure, messagePartSha512, parseXml, SecurityServerError,
  type Clock, type Logger, type WritableDb,
} from '../platform'
import {
  acknowledgeEvidenceIncidents, chainHead, countUnstampedRecords, listEvidenceIncidents, noteAckFileEstablished,
  oldestUnstampedTime, readEvidenceChainState, readTimestampingState, recordEvidenceIncident, searchRecordMetadata,
  type EvidenceIncident, type ExchangeFilter, type ExchangePageStart, type NewMessageRecord, type RecordMetadataRow, type RecordSearch, type RecordText, type SpooledContent,
} from './message-record-repository'
import type { ChainPosition } from './evidence-chain'
import { openAckFile, readAckFile, type AckFileRead, type AckFileWriter } from './ack-file'
import { checkEvidence, checkEvidenceAtStart, type EvidenceCheckResult, type EvidenceProblem, type EvidenceReport } from './evidence-check'
import { pageExchanges, type ExchangePage } from './exchange-pages'
import { writeEvidenceZip, type EvidenceZip, type EvidenceZipOptions } from './evidence-zip'
import { resolveMessageLogSettings, type MessageLogSettings, type MessageLogSettingsInput } from './message-log-settings'
import { createTimestamper, type StampOutcome, type TimestampHashChainBuilder, type Timestamper } from './timestamper'
import type { SelectedTsa } from './tsa-client'
import { archiveRecords, type ArchiveRunResult } from './archive-writer'
import type { EvidenceContainerWriter } from './record-evidence'
import { asicContainerWriter } from './asic-evidence'
import { createRecordWriter, type RecordWriter, type RecordWriteResult } from './record-writer'
import { exportEvidence, type EvidenceContainerVerifier, type ExportedContainer, type ExportOptions } from './evidence-export'
import { diskUseForecast, type DiskUseForecast } from './disk-forecast'

/**
 * Logging of every signed request and response before the exchange proceeds (xroad-protocols.md §6.1;
 * reliability-and-security.md §1.1), with group commit: `record()` resolves only after the transaction holding the
 * record committed (synchronous=FULL), and records arriving within a few milliseconds — or while the previous batch
 * commits — share that transaction. Commits run in a writer thread (`record-writer.ts`): the event loop never waits
 * on fsync.
 *
 * Evidence continuity: the group commit gives each record the next place in the evidence chain (`evidence-chain.ts`)
 * where it commits it (the writer links each batch after the head, `record-writer.ts`), and the writer writes the new
 * head to the acknowledgement file (`ack-file.ts`) after the commit, off the message's path, at most one batch behind
 * the records answered (above `commit`). The chain
 * and the acknowledgement file are checked at construction (structure and file, before the first message), in full
 * after `start()` and on demand, and incrementally every minute (`evidence-check.ts`). Unacknowledged problems refuse new messages with `logging_failed`
 * while `evidenceLossFailClosed` is on, until an administrator acknowledges them (`acknowledgeEvidenceLoss`).
 */

const SOAP_ENV_NS = 'http://schemas.xmlsoap.org/soap/envelope/'
/** The incremental evidence check runs this often (the full one at start and on demand). */
const EVIDENCE_CHECK_INTERVAL_MS = 60_000

const problemKey = (p: Pick<EvidenceProblem, 'kind' | 'firstSeq' | 'lastSeq'>): string => `${p.kind}:${p.firstSeq ?? ''}:${p.lastSeq ?? ''}`

export type RecordId = number

/**
 * A message to log. `Text` is how its signature's documents are given: as strings (the default), or as the UTF-8
 * bytes signed or received — the proxy hands them over as they are, and they are hashed and stored without being
 * made a string on the event loop (`logText`).
 */
export interface MessageToLog<Text extends string | Uint8Array = string> {
  queryId: string
  xRequestId?: string | null
  client: ClientId
  service: ServiceId
  /**
   * `encodeIdentifier(client)` and `encodeIdentifier(service)` when the caller has them already (the proxy names an
   * exchange's identifiers once, `encodedId`): the record's columns, not encoded again for each of its two records.
   */
  encodedClient?: string
  encodedService?: string
  response: boolean
  /** SOAP envelope or REST header part. */
  message: Uint8Array
  /** SOAP attachments or the REST body: bytes, or a body known by its digest whose bytes are loaded only to be stored. */
  attachments: ReadonlyArray<Uint8Array | AttachmentSource>
  signatureXml: Text
  /** Batch signatures: the signature hash-chain result and this message's hash chain (xroad-protocols.md §4.5). */
  hashChainResult?: Text | null
  hashChain?: Text | null
  /** Raw SignatureValue bytes; read from `signatureXml` when absent. */
  signatureValue?: Uint8Array
}

/**
 * An attachment the proxy streamed (issue 14 §3): its size and the SHA-512 taken as it arrived, and its bytes on
 * demand — loaded only when the log stores bodies for the exchange, and released once the record is committed.
 */
export interface AttachmentSource {
  readonly size: number
  readonly sha512: Uint8Array
  /** Its bytes, or its spool file (`SpooledContent`: stored a piece at a time, never in memory whole). */
  load(): Promise<{ bytes: Uint8Array | SpooledContent; release(): void }>
}

export interface MessageLogStatus {
  /** Whether time-stamping lets messages in (the evidence check is `evidence()`). */
  acceptingMessages: boolean
  /**
   * Since when the fail-closed clock counts (null while it does not run): the recorded failure start or one interval
   * after the oldest waiting record, only once a stamping attempt since this log was opened has failed.
   */
  failureClockSince: string | null
  unstampedRecords: boolean
  oldestUnstampedAt: string | null
  lastTimestampAt: string | null
  timestampingFailingSince: string | null
  lastTimestampError: string | null
}

export interface MessageLogOptions {
  db: WritableDb
  clock: Clock
  logger: Logger
  settings?: MessageLogSettingsInput
  /** Approved TSAs in the administrator's order (global configuration `approvedTSA` selected in server conf). */
  tsas?: () => readonly SelectedTsa[]
  /** Batch time-stamp hash chains (the signature domain's `buildHashChains`). */
  hashChains?: TimestampHashChainBuilder
  /** ASiC-E container of a record, for archives and export (default: `asicContainerWriter`). */
  containerWriter?: EvidenceContainerWriter
  /** Container verifier for export reports (the signature domain's `verifyAsicContainer`). */
  containerVerifier?: EvidenceContainerVerifier
  /**
   * The acknowledgement file (`DATA_DIR/messagelog.ack`, `ack-file.ts`); without it only the chain inside the database
   * is checked, and a loss of the newest records cannot be told from records never written (tools and tests).
   */
  ackFile?: string
  /** Told of every committed group commit: how many records its transaction held (tests count transactions with it). */
  onCommit?: (records: number) => void
}

/** The evidence check's last report, and what it means for traffic. */
export interface EvidenceStatus {
  report: EvidenceReport
  /** A check is running now. */
  checking: boolean
  /** The last full walk over every record finished (null: none since this log was opened). */
  lastFullCheckAtMs: number | null
  failClosed: boolean
  /** New messages are refused until an administrator acknowledges the problems. */
  refusing: boolean
  /** The last place in the chain this log has given (records after `report.lastSeq` were logged since the check). */
  headSeq: number
}

export interface MessageLog {
  readonly settings: MessageLogSettings
  readonly timestamper: Timestamper
  /**
   * Logs one message, its signature's documents given as strings or as UTF-8 bytes; resolves with its record id once
   * committed. Rejects with `logging_failed` / `timestamping_failed`.
   */
  record(message: MessageToLog<string | Uint8Array>): Promise<RecordId>
  /**
   * The largest body stored for an exchange between these parties, or undefined when their bodies are not stored
   * (body logging off for them): the proxy applies it before a body is read.
   */
  bodyLimit(client: ClientId, service: ServiceId): number | undefined
  /**
   * Throws X-Road's `timestamping_failed` once time-stamping has failed longer than the acceptable period, and
   * `logging_failed` while unacknowledged evidence problems refuse traffic (fail-closed).
   */
  assertAcceptingMessages(): void
  /** The last evidence check. */
  evidence(): EvidenceStatus
  /** Checks the evidence now: `full` walks every record, `incremental` those after the last verified one. */
  checkEvidence(scope?: 'full' | 'incremental'): Promise<EvidenceStatus>
  /** Acknowledges every open evidence problem (who and why are kept); returns how many were acknowledged. */
  acknowledgeEvidenceLoss(by: string, reason: string): number
  /** Evidence problems found so far, newest first, with their acknowledgement. */
  evidenceIncidents(limit: number): EvidenceIncident[]
  status(): MessageLogStatus
  /** Metadata of logged messages by time range, client, service and query id (for the GUI; no bodies). */
  search(criteria: RecordSearch): RecordMetadataRow[]
  /** One page of exchanges (records grouped by query id), newest first, moved by cursor (`exchange-pages.ts`). */
  pageExchanges(filter: ExchangeFilter, start: ExchangePageStart, pageSize: number): ExchangePage
  /** Records waiting for a time-stamp, counted up to `cap`. */
  countUnstamped(cap: number): number
  /** One ZIP holding the ASiC-E containers of these query ids and a manifest, written as it is read. */
  evidenceZip(queryIds: readonly string[], options: EvidenceZipOptions): EvidenceZip
  /** Stamps the waiting records now (also run every `timeStampingIntervalSeconds` after `start()`). */
  timestampNow(): Promise<StampOutcome>
  /** Archives the stamped records, runs the transfer hook and purges (also run every `archiveIntervalSeconds`). */
  archiveNow(): Promise<ArchiveRunResult>
  /** The ASiC-E container(s) of a query id with a verification report each. */
  exportEvidence(queryId: string, options?: ExportOptions): Promise<ExportedContainer[]>
  /** Records/day × size and days until the volume holding `path` fills. */
  diskUseForecast(path: string, windowDays?: number): DiskUseForecast
  /**
   * Replaces the settings at once with `input` resolved against X-Road's defaults; the periodic time-stamping and
   * archiving are re-armed when their intervals changed. @throws invalid_config
   */
  updateSettings(input: MessageLogSettingsInput): void
  start(): void
  /** Stops the periodic work and commits what is waiting. */
  stop(): Promise<void>
}

interface Pending {
  record: NewMessageRecord
  resolve: (id: RecordId) => void
  reject: (error: unknown) => void
}

/** @param signatureXml the document, or its UTF-8 bytes (valid UTF-8: see `logText`). */
export function signatureHash(signatureXml: string | Uint8Array): string {
  // xroad-protocols.md §6.1: signaturehash = base64(SHA-512(signature XML UTF-8)).
  return hashOf('sha512', signatureXml, 'base64')
}

/**
 * A text of a message as its record keeps it: a string, or bytes that are valid UTF-8 as they are (hashed and handed
 * to the writer thread without a string in between). Bytes that are not valid UTF-8 are decoded here, each ill-formed
 * sequence becoming U+FFFD, as SQLite would store them from the string: the record's digest and `signature_hash` are
 * then taken over the stored text's bytes, never over bytes the database does not hold. The signer's documents are
 * always valid UTF-8 (encoded from strings); a peer's signature document that verifies can still hold ill-formed
 * bytes where nothing is signed or checked (e.g. in the `Id` attribute of `ds:SignatureValue`): the lexical reader
 * decodes them to U+FFFD and lets them through.
 */
function logText(value: string | Uint8Array): RecordText {
  if (typeof value === 'string' || isUtf8(value)) return value
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8')
}

const optionalLogText = (value: string | Uint8Array | null | undefined): RecordText | null => (value === undefined || value === null ? null : logText(value))

export function createMessageLog(options: MessageLogOptions): MessageLog {
  const { db, clock, logger } = options
  const settings = resolveMessageLogSettings(options.settings)
  const timestamper = createTimestamper({
    db, clock, logger, tsas: options.tsas ?? (() => []), timeoutMs: settings.tsaTimeoutMs,
    recordsLimit: settings.timestampRecordsLimit, hashChains: options.hashChains,
    // The stamps' updates commit where the records do (the writer thread), off the event loop.
    storeStamp: (stamp) => writer.stamp(stamp),
  })
  // The evidence chain's head, the acknowledgement file and the check at construction (every start of a server).
  const ackRead: AckFileRead | undefined = options.ackFile === undefined ? undefined : readAckFile(options.ackFile)
  let evidenceCheck: EvidenceCheckResult = checkEvidenceAtStart({ db, nowMs: clock.now().getTime(), ack: ackRead })
  let evidenceReport = evidenceCheck.report
  let lastFullCheckAtMs: number | null = null
  const dbHead = safely(() => chainHead(db) ?? readEvidenceChainState(db).base)
  // After a loss of the newest records the chain goes on after the last acknowledged one, so numbers are never reused.
  let head: ChainPosition = ackRead?.status === 'ok' && ackRead.state.last.seq > (dbHead?.seq ?? 0)
    ? ackRead.state.last
    : dbHead ?? { seq: 0, hash: Buffer.alloc(32) }
  const ackWriter: AckFileWriter | undefined = options.ackFile === undefined ? undefined : openAcknowledgements(options.ackFile, ackRead)
  if (ackWriter !== undefined && ackRead?.status === 'ok' && head.seq > ackRead.state.last.seq) {
    // Records committed just before a crash whose acknowledgement write had not reached the disk: vouched for now
    // (one synchronised write at the start, before the writer thread takes the file over).
    ackWriter.acknowledge(head).catch((error: unknown) => logFailure(logger, loggingFailed(error), { seq: head.seq }, 'message-log acknowledgement file write failed'))
  }
  const loggedProblems = new Set<string>()
  noteProblems(evidenceReport)
  const pending: Pending[] = []
  const writer: RecordWriter = createRecordWriter(db, logger, {
    head: () => head,
    acknowledgements: ackWriter === undefined ? undefined : { file: ackWriter, failed: (failure) => ackWriteFailed(failure, failure.seq) },
  })
  let timer: NodeJS.Timeout | undefined
  let immediate: NodeJS.Immediate | undefined
  let interval: NodeJS.Timeout | undefined
  let archiveInterval: NodeJS.Timeout | undefined
  let evidenceInterval: NodeJS.Timeout | undefined
  let archiving: Promise<ArchiveRunResult> | undefined
  let stopped = false

  function bodyLoggingFor(message: { client: ClientId; service: ServiceId }): boolean {
    // Asked for every message: without per-subsystem exceptions (the default) no identifier is encoded.
    if (settings.bodyLoggingDisabledSubsystems.length === 0 && settings.bodyLoggingEnabledSubsystems.length === 0) return settings.messageBodyLogging
    const subsystems = [message.client, serviceProvider(message.service)]
      .filter((id) => id.objectType === 'SUBSYSTEM')
      .map((id) => encodeIdentifier(id))
    if (subsystems.some((s) => settings.bodyLoggingDisabledSubsystems.includes(s))) return false
    if (subsystems.some((s) => settings.bodyLoggingEnabledSubsystems.includes(s))) return true
    return settings.messageBodyLogging
  }

  function safely<T>(work: () => T): T | undefined {
    try {
      return work()
    } catch (error) {
      logFailure(logger, error, {}, 'message-log evidence chain state could not be read')
      return undefined
    }
  }

  function openAcknowledgements(path: string, read: AckFileRead | undefined): AckFileWriter {
    const base = read?.status === 'ok' && read.state.base.seq > (safely(() => readEvidenceChainState(db).base.seq) ?? 0)
      ? read.state.base
      : safely(() => readEvidenceChainState(db).base) ?? { seq: 0, hash: Buffer.alloc(32) }
    const writer = openAckFile(path, { last: head, base }, { replace: read?.status !== 'ok', generation: read?.status === 'ok' ? read.generation : 0 })
    if (read?.status !== 'ok') safely(() => inTransaction(db, () => noteAckFileEstablished(db, clock.now().getTime())))
    return writer
  }

  /**
   * Problems found outside a check: a commit refused by SQLite because the database file is damaged
   * (`SQLITE_CORRUPT`, `SQLITE_NOTADB`). The checks read the chain's index, which can still answer when the tables'
   * pages no longer join (e.g. page versions of different commits mixed), so such a problem is kept here and carried
   * into every later report until an administrator acknowledges it.
   */
  const runtimeProblems: EvidenceProblem[] = []

  function withRuntimeProblems(report: EvidenceReport): EvidenceReport {
    const extra = runtimeProblems.filter((r) => !report.problems.some((p) => problemKey(p) === problemKey(r)))
    return extra.length === 0 ? report : { ...report, problems: [...report.problems, ...extra] }
  }

  /** A commit failed because the database file is damaged: an evidence problem (alarm, fail-closed) once per place. */
  function noteDamagedDatabase(error: unknown): void {
    if (!isDamagedDatabase(error)) return
    // Placed at the chain's head: a later damage (after more records) is a new problem.
    const problem: EvidenceProblem = {
      kind: 'unreadable', firstSeq: null, lastSeq: head.seq, acknowledged: false,
      detail: `the message-log database is damaged (${(error as Error).message}): no record can be written to it; keep messagelog.sqlite and ` +
        'messagelog.ack for examination and restore the message log from a backup',
    }
    if (runtimeProblems.some((p) => problemKey(p) === problemKey(problem))) return
    runtimeProblems.push(problem)
    evidenceReport = withRuntimeProblems(evidenceReport)
    noteProblems(evidenceReport)
  }

  function refusing(): boolean {
    return settings.evidenceLossFailClosed && evidenceReport.problems.some((p) => !p.acknowledged)
  }

  /** Every new unacknowledged problem is an alarm in the log once, and an incident in the database until acknowledged. */
  function noteProblems(report: EvidenceReport): void {
    const open = report.problems.filter((p) => !p.acknowledged)
    if (open.length === 0) return
    const fresh = open.filter((p) => !loggedProblems.has(problemKey(p)))
    for (const p of fresh) loggedProblems.add(problemKey(p))
    if (fresh.length > 0) {
      logger.error(
        { problems: fresh.map((p) => ({ kind: p.kind, firstSeq: p.firstSeq, lastSeq: p.lastSeq })), failClosed: settings.evidenceLossFailClosed },
        `message-log evidence check: ${fresh.map((p) => p.detail).slice(0, 5).join('; ')}${fresh.length > 5 ? `; and ${fresh.length - 5} more` : ''}` +
          (settings.evidenceLossFailClosed ? '; new messages are refused until an administrator acknowledges it' : ''),
      )
    }
    safely(() => inTransaction(db, () => {
      const at = clock.now().getTime()
      for (const p of open) recordEvidenceIncident(db, p, at)
    }))
  }

  let checks: Promise<unknown> = Promise.resolve()
  let checking = 0

  function runEvidenceCheck(scope: 'full' | 'incremental'): Promise<EvidenceStatus> {
    checking++
    const run = checks.then(async () => {
      const result = await checkEvidence({
        db, nowMs: clock.now().getTime(), ack: options.ackFile === undefined ? undefined : readAckFile(options.ackFile), scope,
        verified: evidenceCheck.verifiedThrough, pause: () => new Promise<void>((resolve) => setImmediate(resolve)),
      })
      evidenceCheck = result
      evidenceReport = withRuntimeProblems(result.report)
      if (scope === 'full') lastFullCheckAtMs = result.report.checkedAtMs
      noteProblems(result.report)
    }).finally(() => {
      checking--
    })
    checks = run.catch(() => undefined)
    return run.then(evidence)
  }

  function evidence(): EvidenceStatus {
    return {
      report: evidenceReport, checking: checking > 0, lastFullCheckAtMs, failClosed: settings.evidenceLossFailClosed, refusing: refusing(), headSeq: head.seq,
    }
  }

  /**
   * reliability-and-security.md §1.1: a stored body over max-loggable-message-body-size is rejected, not truncated;
   * as X-Road's `LogManager`, only where the body is stored.
   */
  function checkLoggable(message: MessageToLog<string | Uint8Array>, bodyLogged: boolean): void {
    if (message.queryId.length === 0) throw clientError('logging_failed', 'A logged message needs a query id')
    const bodySize = bodyLogged ? message.attachments.reduce((n, a) => n + sizeOf(a), 0) : 0
    if (bodySize > settings.maxLoggableBodySize || message.message.byteLength > settings.maxLoggableBodySize) {
      throw clientError(
        'logging_failed',
        `Message body of ${Math.max(bodySize, message.message.byteLength)} bytes exceeds the loggable maximum of ${settings.maxLoggableBodySize} bytes`,
      )
    }
  }

  /** The stored bytes of each attachment (loading streamed ones), or null for each when bodies are not stored. */
  async function attachmentContents(message: MessageToLog<string | Uint8Array>, bodyLogged: boolean): Promise<Array<{ bytes: Uint8Array | SpooledContent | null; release(): void }>> {
    const loaded: Array<{ bytes: Uint8Array | SpooledContent | null; release(): void }> = []
    try {
      for (const a of message.attachments) {
        if (!bodyLogged) loaded.push({ bytes: null, release: nothingToRelease })
        else if (a instanceof Uint8Array) loaded.push({ bytes: a, release: nothingToRelease })
        else loaded.push(await a.load())
      }
      return loaded
    } catch (error) {
      for (const l of loaded) l.release()
      throw error
    }
  }

  function prepare(message: MessageToLog<string | Uint8Array>, bodyLogged: boolean, contents: ReadonlyArray<{ bytes: Uint8Array | SpooledContent | null }>): NewMessageRecord {
    const signatureXml = logText(message.signatureXml)
    const record: NewMessageRecord = {
      queryId: message.queryId,
      xRequestId: message.xRequestId ?? null,
      client: message.encodedClient ?? encodeIdentifier(message.client),
      service: message.encodedService ?? encodeIdentifier(message.service),
      response: message.response,
      message: bodyLogged ? message.message : withoutSoapBody(message.message),
      bodyLogged,
      signatureXml,
      // The batch signer gives the messages of a batch (about three at c16) one signature document: bytes are hashed
      // once, the SHA-512 remembered with them (a message's parts are not changed once built).
      signatureHash: typeof signatureXml === 'string' ? signatureHash(signatureXml) : messagePartSha512(signatureXml).toString('base64'),
      hashChainResult: optionalLogText(message.hashChainResult),
      hashChain: optionalLogText(message.hashChain),
      timeMs: clock.now().getTime(),
      attachments: message.attachments.map((a, i) => ({
        content: contents[i]?.bytes ?? null,
        size: sizeOf(a),
        // A body given whole was hashed for its signature already (the digest is remembered with its bytes).
        sha512: (a instanceof Uint8Array ? messagePartSha512(a) : Buffer.from(a.sha512)).toString('base64'),
      })),
    }
    return record
  }

  /**
   * One batch at a time goes to the writer (issue 15 §3): linked to the chain after the head and committed off the
   * event loop (the writer answers with the new head; a batch rolled back leaves it), and answered; records arriving
   * meanwhile wait and leave together as the next batch — one transaction per batch of whatever is waiting.
   *
   * The acknowledgement file follows the commits, written by the writer itself (`RecordAcknowledgements`): the writer
   * thread answers batch k's commit, then writes the slot holding k's last place and synchronises it, and only then
   * takes batch k+1 (issue 15: no trip through libuv's pool nor back to the event loop per commit; in place, without a
   * thread, the write follows the commit before the answer). Batch k is therefore answered once its commit is durable
   * and the write holding batch k−1's last place is on disk — by construction, since that write was made before k's
   * commit began. What holds:
   * - Never ahead of the database: a place is written only after the commit holding it returned (synchronous=FULL),
   *   so a crash at any moment leaves the file at or behind the durable head — no false `missing` alarm.
   * - Behind the answered records by one batch at most: every record answered before the newest answered batch is
   *   in the durable file. A crash (power cut, kill -9) after batch k's commit and before its write leaves the file
   *   at k−1 while the database holds k; the start writes the database's head to the file at once (the records are
   *   there to vouch for). A loss of those records at that same crash (storage that broke its fsync promise, a WAL
   *   deleted before the restart) is the one loss no longer told — one batch, committed within a sync time before
   *   the crash; every loss of earlier records, a restored backup, a truncated or replaced file are told as before.
   *   At c1 the write is long done when the next record of the exchange commits. A writer thread that stops
   *   unexpectedly hands the file back, and the next one writes the last answered place first.
   * - A failed write is an `ack-file` evidence problem (alarm, fail-closed) as soon as the writer tells it, and the
   *   batch committed after it is refused, not answered: the writer's answer for it carries the failure.
   * - A clean stop waits for the writes: the thread makes the write after the last commit before it takes the close.
   */
  let committing: Promise<void> | undefined
  /** Records of a batch that failed on one record's content, to be committed one by one before anything else. */
  const singles: Pending[] = []

  function dispatch(): void {
    if (committing !== undefined) return
    let batch: Pending[]
    if (singles.length > 0) {
      batch = singles.splice(0, 1)
    } else {
      batch = pending.splice(0, settings.groupCommitMaxRecords)
    }
    if (batch.length === 0) return
    committing = commit(batch).catch((error: unknown) => {
      const coded = loggingFailed(error)
      logFailure(logger, coded, { records: batch.length }, 'message logging failed')
      for (const p of batch) p.reject(coded)
    }).finally(() => {
      committing = undefined
      dispatch()
    })
  }

  async function commit(batch: Pending[]): Promise<void> {
    const before = head
    let result: RecordWriteResult
    try {
      result = await writer.write(batch.map((p) => p.record))
      head = result.head
      options.onCommit?.(batch.length)
    } catch (error) {
      // Nothing of the batch was written (the transaction rolled back); the chain goes on from where it was — or
      // from what the database holds, should a lost thread have committed before it could answer.
      const stored = safely(() => chainHead(db))
      head = stored !== undefined && stored.seq > before.seq ? stored : before
      if (batch.length > 1 && isRecordSpecific(error)) {
        // One bad record must not sink the others of its group: commit them one by one.
        singles.push(...batch)
        return
      }
      // Locked, full, I/O error, a damaged file…: the whole group failed.
      noteDamagedDatabase(error)
      const coded = loggingFailed(error)
      logFailure(logger, coded, { records: batch.length }, 'message logging failed')
      for (const p of batch) p.reject(coded)
      return
    }
    const { ids, ackFailure } = result
    if (ackFailure === undefined) {
      for (let i = 0; i < batch.length; i++) batch[i]!.resolve(ids[i] as RecordId)
      return
    }
    // The acknowledgement write before this batch failed (see above): the problem is raised, the batch not answered.
    ackWriteFailed(ackFailure, ackFailure.seq)
    const coded = new SecurityServerError('logging_failed', 'The message-log acknowledgement file could not be written; the records are logged but not acknowledged')
    logFailure(logger, coded, { records: batch.length }, 'message logging failed')
    for (const p of batch) p.reject(coded)
  }

  /**
   * The acknowledgement file could not take a place already answered: an evidence problem (alarm, fail-closed), since
   * a later loss of the records after the file's last place would go unnoticed.
   */
  function ackWriteFailed(error: unknown, seq: number): void {
    const problem: EvidenceProblem = {
      kind: 'ack-file', firstSeq: null, lastSeq: seq, acknowledged: false,
      detail: `the acknowledgement file could not be written (${(error as Error).message}; newest record ${seq}): a loss of the newest records could not be told`,
    }
    if (runtimeProblems.some((p) => problemKey(p) === problemKey(problem))) return
    logFailure(logger, loggingFailed(error), { seq }, 'message-log acknowledgement file write failed')
    runtimeProblems.push(problem)
    evidenceReport = withRuntimeProblems(evidenceReport)
    noteProblems(evidenceReport)
  }

  function flush(): void {
    if (timer !== undefined) clearTimeout(timer)
    timer = undefined
    if (immediate !== undefined) clearImmediate(immediate)
    immediate = undefined
    dispatch()
  }

  /** Commits everything waiting, and what arrives while it does, until nothing is left. */
  async function drain(): Promise<void> {
    flush()
    while (committing !== undefined) {
      await committing
      flush()
    }
  }

  /**
   * The fail-closed decision is asked several times per message; its inputs change when a stamp completes (which
   * clears this) or as time passes, which at the default 4-hour period makes half a second of reuse harmless.
   */
  let failingSinceMemo: { atMs: number; since: number | null } | undefined
  const FAILING_SINCE_REUSE_MS = 500

  /** Whether a time-stamping attempt finished since this log was opened (the fail-closed clock's condition). */
  let attemptedSinceOpen = false
  const openedAtMs = clock.now().getTime()

  function stamped<T>(work: Promise<T>): Promise<T> {
    return work.finally(() => {
      attemptedSinceOpen = true
      failingSinceMemo = undefined
    })
  }

  function failingSince(): number | null {
    const now = clock.now().getTime()
    if (failingSinceMemo !== undefined && now - failingSinceMemo.atMs >= 0 && now - failingSinceMemo.atMs < FAILING_SINCE_REUSE_MS) {
      return failingSinceMemo.since
    }
    const since = computeFailingSince()
    failingSinceMemo = { atMs: now, since }
    return since
  }

  function computeFailingSince(): number | null {
    // As X-Road's LogManager, the clock starts at the first failed attempt (`setTimestampFailed`) and stops at a
    // success; it runs only once an attempt since this log was opened failed, so the time the server was down does not
    // count against a TSA that answers (the first attempt is made at once by `start()`). An outage that continues
    // across a restart keeps its persisted start.
    if (!attemptedSinceOpen) return null
    const state = readTimestampingState(db)
    if (state.failingSinceMs === null) return null
    // Across restarts (where X-Road's in-memory clock would start again, so a server restarted often would never fail
    // closed): a record left unstamped from before this log was opened means stamping has been failing since one
    // interval after it was logged. Records logged since opening do not move the clock: a backlog that a slow but
    // answering TSA works through is not a failure.
    const oldest = oldestUnstampedTime(db)
    if (oldest === null) return null
    const derived = oldest + settings.timeStampingIntervalSeconds * 1000
    return derived < openedAtMs ? Math.min(state.failingSinceMs, derived) : state.failingSinceMs
  }

  function assertAcceptingMessages(): void {
    if (refusing()) {
      const open = evidenceReport.problems.filter((p) => !p.acknowledged)
      throw new SecurityServerError(
        'logging_failed',
        `The message log has lost or altered acknowledged evidence (${open.map((p) => p.detail).slice(0, 3).join('; ')}${open.length > 3 ? '; …' : ''}); no more messages are accepted until an administrator acknowledges it`,
        { detail: 'evidence_loss' },
      )
    }
    assertTimestamping()
  }

  function assertTimestamping(): void {
    const period = settings.acceptableTimestampFailurePeriodSeconds
    if (period === 0) return
    const since = failingSince()
    if (since === null) return
    // reliability-and-security.md §1.2 (LogManager.verifyCanLogMessage): refuse once now − failure start > period.
    if (clock.now().getTime() - since > period * 1000) {
      throw new SecurityServerError(
        'timestamping_failed',
        `Cannot time-stamp messages: time-stamping has failed since ${new Date(since).toISOString()}, longer than the acceptable ${period} s; no more messages are accepted`,
      )
    }
  }

  async function record(message: MessageToLog<string | Uint8Array>): Promise<RecordId> {
    if (stopped) throw new SecurityServerError('logging_failed', 'The message log is stopped')
    assertAcceptingMessages()
    const bodyLogged = bodyLoggingFor(message)
    checkLoggable(message, bodyLogged)
    // A SOAP message without attachments (the most common) has nothing to load and no reason to wait a turn.
    const contents = message.attachments.length === 0 ? [] : await attachmentContents(message, bodyLogged)
    let id: RecordId
    let signatureXml: RecordText
    try {
      const prepared = prepare(message, bodyLogged, contents)
      signatureXml = prepared.signatureXml
      id = await new Promise<RecordId>((resolve, reject) => {
        pending.push({ record: prepared, resolve, reject })
        if (pending.length >= settings.groupCommitMaxRecords) flush()
        else if (settings.groupCommitWindowMs === 0) immediate ??= setImmediate(flush)
        else timer ??= setTimeout(flush, settings.groupCommitWindowMs)
      })
    } finally {
      // Committed (or failed): the loaded bodies are in the database now, their memory goes back.
      for (const c of contents) c.release()
    }
    if (settings.timestampImmediately) {
      // UG-SS §11.1.4: with timestamp-immediately, a failed stamp fails the exchange.
      await stamped(timestamper.stampRecord(id, signatureXml, message.signatureValue))
    }
    return id
  }

  function status(): MessageLogStatus {
    const state = readTimestampingState(db)
    const oldest = oldestUnstampedTime(db)
    let accepting = true
    try {
      assertTimestamping()
    } catch {
      accepting = false
    }
    // Fresh, not the message path's half-second reuse: records logged since may start the derived clock.
    const since = computeFailingSince()
    return {
      acceptingMessages: accepting,
      failureClockSince: since === null ? null : new Date(since).toISOString(),
      unstampedRecords: oldest !== null,
      oldestUnstampedAt: oldest === null ? null : new Date(oldest).toISOString(),
      lastTimestampAt: state.lastSuccessMs === null ? null : new Date(state.lastSuccessMs).toISOString(),
      timestampingFailingSince: state.failingSinceMs === null ? null : new Date(state.failingSinceMs).toISOString(),
      lastTimestampError: state.lastError,
    }
  }

  /**
   * One stamping run; full batches are followed by the next at once so a backlog drains (§1.2 records limit). The
   * stamps' writes are then checkpointed by the writer thread (`RecordWriter.checkpoint`), off the event loop.
   */
  async function stampBacklog(): Promise<void> {
    try {
      for (let i = 0; i < 100 && !stopped; i++) {
        const outcome = await stamped(timestamper.stampPending())
        if (outcome.error !== undefined || outcome.stamped < settings.timestampRecordsLimit) return
      }
    } finally {
      void writer.checkpoint()
    }
  }

  const containerWriter = options.containerWriter ?? asicContainerWriter

  function archiveNow(): Promise<ArchiveRunResult> {
    archiving ??= Promise.resolve()
      .then(() => archiveRecords({ db, clock, logger, settings, containerWriter, onChainBaseMoved: ackWriter === undefined ? undefined : (base) => writer.setAckBase(base) }))
      .finally(() => {
        archiving = undefined
        void writer.checkpoint()
      })
    return archiving
  }

  return {
    settings,
    timestamper,
    archiveNow,
    exportEvidence: (queryId, exportOptions) => exportEvidence(db, queryId, containerWriter, options.containerVerifier, exportOptions),
    diskUseForecast: (path, windowDays) => diskUseForecast(db, path, clock, windowDays),
    search: (criteria) => searchRecordMetadata(db, criteria),
    pageExchanges: (filter, start, pageSize) => pageExchanges(db, filter, start, pageSize),
    countUnstamped: (cap) => countUnstampedRecords(db, cap),
    evidenceZip: (queryIds, zipOptions) => writeEvidenceZip(db, queryIds, containerWriter, zipOptions),
    record,
    bodyLimit: (client, service) => (bodyLoggingFor({ client, service }) ? settings.maxLoggableBodySize : undefined),
    assertAcceptingMessages,
    status,
    evidence,
    checkEvidence: (scope = 'full') => runEvidenceCheck(scope),
    acknowledgeEvidenceLoss(by, reason) {
      const at = clock.now().getTime()
      const openRuntime = runtimeProblems.filter((p) => !p.acknowledged)
      let count: number
      try {
        count = inTransaction(db, () => {
          for (const p of evidenceReport.problems.filter((x) => !x.acknowledged)) recordEvidenceIncident(db, p, at)
          return acknowledgeEvidenceIncidents(db, by, reason, at)
        })
      } catch (error) {
        // A damaged database cannot keep the acknowledgement (the audit log, in another database, does): the
        // problems found outside a check are acknowledged here all the same, the others stay open.
        if (!isDamagedDatabase(error) || openRuntime.length === 0) throw error
        for (const p of openRuntime) p.acknowledged = true
        evidenceReport = withRuntimeProblems({ ...evidenceReport, problems: evidenceReport.problems.filter((p) => !openRuntime.some((r) => problemKey(r) === problemKey(p))) })
        logger.warn({ by, acknowledged: openRuntime.length }, `message-log evidence problems acknowledged by ${by} (not recorded in the damaged database): ${reason}`)
        return openRuntime.length
      }
      for (const p of runtimeProblems) p.acknowledged = true
      evidenceReport = { ...evidenceReport, problems: evidenceReport.problems.map((p) => ({ ...p, acknowledged: true })) }
      logger.warn({ by, acknowledged: count }, `message-log evidence problems acknowledged by ${by}: ${reason}`)
      return count
    },
    evidenceIncidents: (limit) => listEvidenceIncidents(db, limit),
    timestampNow: () => stamped(timestamper.stampPending()).finally(() => void writer.checkpoint()),
    updateSettings(input) {
      const before = { stamping: settings.timeStampingIntervalSeconds, archiving: settings.archiveIntervalSeconds, dir: settings.archiveDir }
      const next = resolveMessageLogSettings(input)
      for (const key of Object.keys(settings) as Array<keyof MessageLogSettings>) if (!(key in next)) delete (settings as Partial<MessageLogSettings>)[key]
      Object.assign(settings, next)
      const rearm = before.stamping !== settings.timeStampingIntervalSeconds || before.archiving !== settings.archiveIntervalSeconds || before.dir !== settings.archiveDir
      if (rearm && interval !== undefined) {
        stopTimers()
        armTimers()
      }
    },
    start() {
      stopped = false
      writer.open()
      if (interval !== undefined) return
      armTimers()
      // X-Road's TimestamperJob runs its first batch a second after start; the backlog of the downtime goes at once.
      void stampBacklog()
      void runEvidenceCheck('full').catch((error: unknown) => logFailure(logger, error, {}, 'message-log evidence check failed'))
    },
    async stop() {
      stopTimers()
      stopped = true
      await drain()
      await timestamper.idle()
      await archiving?.catch(() => undefined)
      await checks
      await writer.close()
      await ackWriter?.close()
    },
  }

  function armTimers(): void {
    interval = setInterval(() => {
      void stampBacklog()
    }, settings.timeStampingIntervalSeconds * 1000)
    interval.unref()
    evidenceInterval = setInterval(() => {
      runEvidenceCheck('incremental').catch((error: unknown) => logFailure(logger, error, {}, 'message-log evidence check failed'))
    }, EVIDENCE_CHECK_INTERVAL_MS)
    evidenceInterval.unref()
    if (settings.archiveDir !== undefined) {
      archiveInterval = setInterval(() => {
        archiveNow().catch((error: unknown) => logFailure(logger, error, {}, 'message-log archiving failed'))
      }, settings.archiveIntervalSeconds * 1000)
      archiveInterval.unref()
    }
  }

  function stopTimers(): void {
    if (interval !== undefined) clearInterval(interval)
    interval = undefined
    if (evidenceInterval !== undefined) clearInterval(evidenceInterval)
    evidenceInterval = undefined
    if (archiveInterval !== undefined) clearInterval(archiveInterval)
    archiveInterval = undefined
  }
}

const nothingToRelease = (): void => undefined

function sizeOf(attachment: Uint8Array | AttachmentSource): number {
  return attachment instanceof Uint8Array ? attachment.byteLength : attachment.size
}

/** SQLite's answers for a database file whose pages no longer form a database (not a lock, a full disk or an I/O error). */
function isDamagedDatabase(error: unknown): boolean {
  const code = (error as { code?: unknown }).code
  return typeof code === 'string' && (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB')
}

/** Errors caused by one record's content (constraints), as opposed to the database being unavailable. */
function isRecordSpecific(error: unknown): boolean {
  const code = (error as { code?: unknown }).code
  return typeof code === 'string' && (code.startsWith('SQLITE_CONSTRAINT') || code === 'SQLITE_TOOBIG' || code === 'SQLITE_MISMATCH')
}

function loggingFailed(error: unknown): SecurityServerError {
  if (error instanceof SecurityServerError) return error
  const sqliteCode = (error as { code?: unknown }).code
  return new SecurityServerError('logging_failed', `Message could not be logged: ${(error as Error).message}`, {
    cause: error,
    detail: typeof sqliteCode === 'string' ? sqliteCode : undefined,
  })
}

/** Body logging off: only the SOAP header is kept (X-Road's `SoapMessageBodyManipulator`); REST header parts stay. */
function withoutSoapBody(message: Uint8Array): Uint8Array {
  // The namespace is ASCII: its bytes are in the message exactly when its text is (searched without a copy or a string).
  if (!Buffer.from(message.buffer, message.byteOffset, message.byteLength).includes(SOAP_ENV_NS)) return message
  const doc = parseXml(message)
  const root = doc.documentElement
  if (root === null || root.namespaceURI !== SOAP_ENV_NS || root.localName !== 'Envelope') return message
  const body = childElements(root, SOAP_ENV_NS, 'Body')[0]
  if (body === undefined) return message
  while (body.firstChild !== null) body.removeChild(body.firstChild)
  return Buffer.from(new XMLSerializer().serializeToString(doc as never), 'utf8')
}


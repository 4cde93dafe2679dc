import { dirname } from 'node:path'
import type { Readable } from 'node:stream'
import { z } from 'zod'
import { decodeIdentifier } from '@shared/domain/identifiers'
import {
  MAX_EVIDENCE_ZIP_EXCHANGES, MESSAGE_BODY_ROLES, MESSAGE_LOG_PAGE_SIZES,
  type BodyAccess, type EvidenceVerdict, type EvidenceVerification, type ExchangeOutcome, type MessageDirection, type MessageExchange,
  type MessageLogApi, type MessageLogForecast, type MessageLogPageSize, type MessageRecordBody, type MessageRecordStatus,
  type MessageRecordSummary, type StatusLight, type TimestampingStatus, type EvidenceContinuity,
} from '@shared/admin-api/admin-api'
import {
  findMessageRecord, findTimestampRecord, javaUrlEncode, listAttachments, listAttachmentSummaries,
  type EvidenceZip, type EvidenceZipManifest, type ExchangeFilter, type ExchangeOnPage, type ExchangePageStart, type MessageLog,
  type RecordMetadataRow, type RecordPosition,
} from '../message-log'
import type { ExchangeOutcomeRow } from '../op-monitoring'
import { ASIC_MIME_TYPE, asicTrustFromGlobalConf, describeSigner, verifyAsicContainer, type AsicTrust } from '../signature'
import { SecurityServerError, clientError, toSecurityServerError, type Clock } from '../platform'
import { validate } from './admin-validation'
import { currentCaller, type AdminCaller } from './caller-context'
import type { AuditRecord } from './dispatch'
import { encodeId, parseClientRef, parseServiceRef, pathOf, type DomainsOf } from './domain-support'
import { formatSeconds } from './global-conf-admin'

/**
 * Message-log admin (issue 7 "Message log"; X-Road has no message-log browser): metadata search, record details with
 * the body only for the security officer and the system administrator (every view and refusal audit-logged), ASiC-E
 * evidence export and verification like X-Road's asicverifier (xroad-protocols.md §6.3–6.4), the time-stamping
 * status with the fail-closed deadline (reliability-and-security.md §1.2), the disk forecast and archiving on demand.
 */
const SCAN_LIMIT = 20_000
/** Backlog counting stops here; the GUI then says "at least". */
const BACKLOG_CAP = 10_000
const MAX_CONTAINER_BASE64 = 70 * 1024 * 1024

const isoTime = z.iso.datetime({ offset: true })
/** The filters a search and a page of exchanges share. */
const filterFields = {
  from: isoTime.optional(),
  to: isoTime.optional(),
  client: z.string().max(1200).optional(),
  service: z.string().max(1200).optional(),
  queryId: z.string().min(1).max(1000).optional(),
  direction: z.enum(['request', 'response']).optional(),
  status: z.enum(['unstamped', 'timestamped', 'archived']).optional(),
}
const searchSchema = z.object({ ...filterFields, limit: z.number().int().min(1).max(1000).optional() }).strict()
const recordSchema = z.object({ id: z.number().int().positive(), includeBody: z.boolean().optional() }).strict()
const exportSchema = z.object({ queryId: z.string().min(1).max(1000), direction: z.enum(['request', 'response']).optional() }).strict()
const verifySchema = z.union([
  z.object({ queryId: z.string().min(1).max(1000) }).strict(),
  z.object({ container: z.string().min(1).max(MAX_CONTAINER_BASE64).regex(/^[A-Za-z0-9+/=\s]+$/, 'base64'), fileName: z.string().max(300).optional() }).strict(),
])
const forecastSchema = z.object({ windowDays: z.number().int().min(1).max(90).optional() }).strict()
const checkEvidenceSchema = z.object({ scope: z.enum(['full', 'incremental']).optional() }).strict()
const acknowledgeSchema = z.object({
  reason: z.string().trim().min(10, 'say what happened, in at least 10 characters').max(2000),
}).strict()
/** Incidents shown with the evidence status. */
const INCIDENTS_SHOWN = 20
/** A status read finds the last check older than this: the records since are checked first (incremental, cheap). */
const EVIDENCE_FRESH_MS = 60_000
const CURSOR = /^(\d{1,16})\.(\d{1,16})$/
const cursor = z.string().regex(CURSOR, 'a cursor from an earlier page')
const exchangesSchema = z
  .object({
    ...filterFields,
    pageSize: z.union(MESSAGE_LOG_PAGE_SIZES.map((n) => z.literal(n)) as [z.ZodLiteral<25>, z.ZodLiteral<50>, z.ZodLiteral<100>]).optional(),
    page: z
      .union([
        z.object({ from: z.enum(['newest', 'oldest']) }).strict(),
        z.object({ olderThan: cursor }).strict(),
        z.object({ newerThan: cursor }).strict(),
      ])
      .optional(),
  })
  .strict()
const exportZipSchema = z.object({ queryIds: z.array(z.string().min(1).max(1000)).min(1).max(MAX_EVIDENCE_ZIP_EXCHANGES) }).strict()
/** The evidence ZIP returned as JSON (IPC, API keys) is capped; over HTTPS it streams without a cap. */
const MAX_ZIP_JSON_BYTES = 64 * 1024 * 1024
/** Operational monitoring clips message ids to 255 characters (PR-OPMON); the join clips the query id alike. */
const OP_MONITORING_ID_LENGTH = 255

const encodeCursor = (p: RecordPosition): string => `${p.timeMs}.${p.id}`
function decodeCursor(text: string): RecordPosition {
  const match = CURSOR.exec(text)
  return { timeMs: Number(match?.[1]), id: Number(match?.[2]) }
}

export function recordStatus(row: { timestamped: boolean; archived: boolean }): MessageRecordStatus {
  return row.archived ? 'archived' : row.timestamped ? 'timestamped' : 'unstamped'
}

function pathOrSelf(encoded: string): string {
  try {
    return pathOf(decodeIdentifier(encoded))
  } catch {
    return encoded
  }
}

function summary(row: RecordMetadataRow): MessageRecordSummary {
  return {
    id: row.id, queryId: row.queryId, xRequestId: row.xRequestId, client: row.client, clientPath: pathOrSelf(row.client),
    service: row.service, servicePath: pathOrSelf(row.service), direction: row.response ? 'response' : 'request',
    loggedAt: new Date(row.timeMs).toISOString(), status: recordStatus(row), bodyLogged: row.bodyLogged,
  }
}

/**
 * How an exchange ended, joined from operational monitoring at read time. The outcome is not stored with the message
 * records: those are the legal evidence, committed before the exchange proceeds and never rewritten afterwards
 * (only time-stamp and archive links are added), while the outcome is known only at the end of the exchange and is
 * already recorded by operational monitoring (`succeeded`, `faultCode`) under the same message id. The message log
 * does not note which proxy logged a record, so the join is by message id, and the side comes from the
 * operational records: when this server was both the client's and the producer's server (a subsystem calling a
 * service on its own server), the client side speaks for the exchange — it saw every failure the producer saw.
 */
export function exchangeOutcome(rows: readonly ExchangeOutcomeRow[]): ExchangeOutcome {
  const client = rows.filter((r) => r.securityServerType === 'Client')
  const producer = rows.filter((r) => r.securityServerType === 'Producer')
  const sides: ExchangeOutcome['sides'] = [...(client.length > 0 ? ['client' as const] : []), ...(producer.length > 0 ? ['producer' as const] : [])]
  const chosen = client.at(-1) ?? producer.at(-1)
  if (chosen === undefined) return { result: 'unknown', faultCode: null, faultString: null, statusCode: null, sides }
  const failed = client.length > 0 ? client.filter((r) => !r.succeeded).at(-1) : producer.filter((r) => !r.succeeded).at(-1)
  const shown = failed ?? chosen
  return {
    result: failed === undefined ? 'success' : 'failure',
    faultCode: failed?.faultCode ?? null,
    faultString: failed?.faultString ?? null,
    statusCode: shown.statusCode ?? producer.at(-1)?.statusCode ?? null,
    sides,
  }
}

function exchangeOf(entry: ExchangeOnPage, outcomes: readonly ExchangeOutcomeRow[]): MessageExchange {
  const records = entry.records.map(summary)
  const first = records[0]
  const last = records.at(-1)
  const queryId = entry.anchor.queryId
  const key = queryId.slice(0, OP_MONITORING_ID_LENGTH)
  return {
    queryId,
    client: first?.client ?? '', clientPath: first?.clientPath ?? '', service: first?.service ?? '', servicePath: first?.servicePath ?? '',
    firstLoggedAt: first?.loggedAt ?? new Date(entry.anchor.timeMs).toISOString(),
    lastLoggedAt: last?.loggedAt ?? new Date(entry.anchor.timeMs).toISOString(),
    records,
    moreRecords: entry.moreRecords,
    outcome: exchangeOutcome(outcomes.filter((o) => o.messageId === key)),
  }
}

function zipFileName(queryIds: readonly string[], at: Date): string {
  if (queryIds.length === 1) return `evidence-${javaUrlEncode(queryIds[0] as string).slice(0, 120)}.zip`
  return `evidence-${at.toISOString().replace(/[-:T]/g, '').slice(0, 14)}-${queryIds.length}-exchanges.zip`
}

/** A streamed evidence ZIP for the HTTPS transport (`Accept: application/zip`). */
export interface EvidenceZipDownload {
  fileName: string
  stream: Readable
  /** Settles with the manifest once the whole ZIP was read. */
  manifest: Promise<EvidenceZipManifest>
}

const utf8 = new TextDecoder('utf-8', { fatal: true })
function textOrBase64(bytes: Uint8Array): { encoding: 'utf8' | 'base64'; content: string } {
  try {
    return { encoding: 'utf8', content: utf8.decode(bytes) }
  } catch {
    return { encoding: 'base64', content: Buffer.from(bytes).toString('base64') }
  }
}

/** `2026-01-02 10:11:12 UTC`: unambiguous in every locale. */
function utcText(iso: string): string {
  return `${new Date(iso).toISOString().slice(0, 19).replace('T', ' ')} UTC`
}

/** 0.29 → "0.3", 12.6 → "13". */
function roughly(n: number): string {
  return n >= 10 ? String(Math.round(n)) : String(Number(n.toFixed(1)))
}

export function mayReadBodies(roles: readonly string[]): boolean {
  return MESSAGE_BODY_ROLES.some((role) => roles.includes(role))
}

/** Time-stamping status with the fail-closed deadline, as `MessageLog.assertAcceptingMessages` computes it. */
export function timestampingStatus(messageLog: MessageLog, now: Date): TimestampingStatus {
  const s = messageLog.status()
  const { acceptableTimestampFailurePeriodSeconds: period } = messageLog.settings
  const oldestMs = s.oldestUnstampedAt === null ? null : Date.parse(s.oldestUnstampedAt)
  let backlog = oldestMs === null ? 0 : messageLog.countUnstamped(BACKLOG_CAP + 1)
  const backlogCapped = backlog > BACKLOG_CAP
  backlog = Math.min(backlog, BACKLOG_CAP)
  // reliability-and-security.md §1.2: the failure clock as the message log decides it — from the first failed attempt
  // (X-Road's LogManager), earlier only for records left unstamped from before a restart, and not running after a
  // restart until a stamping attempt has failed.
  const recorded = s.timestampingFailingSince === null ? null : Date.parse(s.timestampingFailingSince)
  const since = s.failureClockSince === null ? null : Date.parse(s.failureClockSince)
  const stopsAtMs = since === null || period === 0 ? null : since + period * 1000
  const secondsLeft = stopsAtMs === null ? null : Math.max(0, Math.round((stopsAtMs - now.getTime()) / 1000))
  const failing = s.lastTimestampError !== null && recorded !== null && oldestMs !== null
  const last = s.lastTimestampAt === null ? null : utcText(s.lastTimestampAt)
  const waiting = `${backlogCapped ? 'more than ' : ''}${backlog} message${backlog === 1 ? '' : 's'} ${backlog === 1 ? 'waits' : 'wait'} for a time-stamp`
  let light: StatusLight
  let explanation: string
  if (!s.acceptingMessages) {
    light = 'red'
    explanation = `Time-stamping has failed for longer than the allowed ${formatSeconds(period)}, so this server refuses new messages until a time-stamping service answers. ${waiting}. Last error: ${s.lastTimestampError ?? 'none recorded'}. Check the time-stamping service in global configuration and the network path to it.`
  } else if (failing) {
    light = 'yellow'
    explanation = `Time-stamping is failing (last error: ${s.lastTimestampError}); ${waiting}.${secondsLeft === null ? '' : ` If it keeps failing, traffic stops in ${formatSeconds(secondsLeft)}.`} ${last === null ? 'No time-stamp has succeeded yet.' : `The last time-stamp succeeded at ${last}.`}`
  } else if (s.lastTimestampAt === null && oldestMs === null) {
    light = 'gray'
    explanation = 'No message has been logged yet, so nothing has needed a time-stamp.'
  } else {
    light = 'green'
    explanation = `${last === null ? 'No time-stamp has been taken yet' : `The last time-stamp succeeded at ${last}`}; ${backlog === 0 ? 'every logged message is time-stamped' : `${waiting} (the next run stamps them)`}.${secondsLeft === null || backlog === 0 ? '' : ` Traffic would stop only if time-stamping failed for ${formatSeconds(secondsLeft)}.`}`
  }
  return {
    acceptingMessages: s.acceptingMessages, backlog, backlogCapped, oldestUnstampedAt: s.oldestUnstampedAt, lastSuccessAt: s.lastTimestampAt,
    failingSince: since !== null && (failing || !s.acceptingMessages) ? new Date(since).toISOString() : null, lastError: s.lastTimestampError,
    failurePeriodSeconds: period, trafficStopsAt: stopsAtMs === null ? null : new Date(stopsAtMs).toISOString(), secondsLeft, light, explanation,
  }
}

/** The evidence check's last report as the GUI shows it (reliability of the log: `message-log/evidence-check.ts`). */
export function evidenceContinuity(messageLog: MessageLog): EvidenceContinuity {
  const e = messageLog.evidence()
  const r = e.report
  const open = r.problems.filter((p) => !p.acknowledged)
  const state = open.length > 0 ? 'problem' : r.problems.length > 0 ? 'acknowledged' : 'ok'
  const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString())
  return {
    state,
    light: state === 'ok' || state === 'acknowledged' ? 'green' : e.refusing ? 'red' : 'yellow',
    checkedAt: new Date(r.checkedAtMs).toISOString(), scope: r.scope, checking: e.checking, lastFullCheckAt: iso(e.lastFullCheckAtMs),
    records: r.records, verifiedRecords: r.verifiedRecords, firstSeq: r.firstSeq, lastSeq: r.lastSeq, lastAcknowledgedSeq: r.lastAcknowledgedSeq,
    ackFile: r.ackFile,
    missingRecords: open.filter((p) => p.kind === 'missing').reduce((n, p) => n + ((p.lastSeq ?? 0) - (p.firstSeq ?? 0) + 1), 0),
    problems: r.problems.map((p) => ({ kind: p.kind, firstSeq: p.firstSeq, lastSeq: p.lastSeq, detail: p.detail, acknowledged: p.acknowledged })),
    problemsTruncated: r.problemsTruncated, failClosed: e.failClosed, refusing: e.refusing,
    incidents: messageLog.evidenceIncidents(INCIDENTS_SHOWN).map((i) => ({
      kind: i.kind, firstSeq: i.firstSeq, lastSeq: i.lastSeq, detail: i.detail, detectedAt: new Date(i.detectedAtMs).toISOString(),
      acknowledgedAt: iso(i.acknowledgedAtMs), acknowledgedBy: i.acknowledgedBy, reason: i.reason,
    })),
  }
}

const VERDICT_WORDS: Record<string, string> = {
  asic_timestamp_not_found: 'it has no time-stamp',
  signature_not_valid: 'the signature does not match the message',
  invalid_signature_value: 'the signature value is wrong',
  malformed_signature: 'the signature is malformed',
  cert_validation: 'the signer certificate is not valid or not trusted',
  incorrect_certificate: 'the signer certificate is not valid or not trusted',
  timestamp_validation: 'the time-stamp does not verify',
  invalid_hash_chain_ref: 'an attachment does not match its hash',
  tsp_certificate_not_found: 'the time-stamp is not from an approved time-stamping authority',
  no_timestamping_provider_found: 'no time-stamping authority is approved in the global configuration',
  timestamp_signer_verification_failed: 'the time-stamp\'s signature does not verify',
}

async function verdictOf(
  container: Uint8Array, fileName: string, record: { recordId: number; direction: MessageDirection; timestamped: boolean } | null,
  trust: AsicTrust | undefined,
): Promise<EvidenceVerdict> {
  const base = { fileName, recordId: record?.recordId ?? null, direction: record?.direction ?? null, signer: null, signerCertificate: null, timestamp: null, ocsp: null }
  if (trust === undefined) {
    return { ...base, verdict: 'not-verified', code: 'not_initialized', explanation: 'Cannot verify yet: this server has no global configuration to check the signer and the time-stamp against.' }
  }
  try {
    const r = await verifyAsicContainer(container, trust)
    const signer = describeSigner(r.signer)
    return {
      ...base, verdict: 'valid', code: null, signer, signerCertificate: r.signerCert, timestamp: r.timestamp, ocsp: r.ocsp,
      explanation: `Valid: the message was signed by ${signer}, the signature and every attachment match, the signing certificate was good by OCSP (${r.ocsp.responder}) and the time-stamp of ${r.timestamp.tsa} proves it existed at ${utcText(r.timestamp.genTime)}.`,
    }
  } catch (error) {
    const coded = toSecurityServerError(error)
    if (record !== null && !record.timestamped) {
      return { ...base, verdict: 'not-verified', code: coded.faultCode, explanation: 'Not verified yet: this message has not been time-stamped. Its evidence is complete after the next time-stamp; use "Time-stamp now" or wait for the next run.' }
    }
    const words = VERDICT_WORDS[coded.code.split('.').at(-1) ?? coded.code]
    return { ...base, verdict: 'invalid', code: coded.faultCode, explanation: `Not valid${words ? `: ${words}` : ''}. ${coded.message}. Do not rely on this evidence; give the code to support.` }
  }
}

export interface MessageLogAdminDeps {
  domains: DomainsOf
  clock: Clock
  audit: (record: AuditRecord) => void
}

/**
 * Starts an evidence ZIP of the given query ids for `caller` (validated; refused when none was logged here) and
 * writes the `messageLog.evidence` audit entry naming the records once the ZIP is complete.
 */
function startEvidenceZip(deps: MessageLogAdminDeps, caller: AdminCaller, input: unknown): { fileName: string; zip: EvidenceZip } {
  const { queryIds } = validate(exportZipSchema, input, 'evidence export')
  const { domains, clock, audit } = deps
  const now = clock.now()
  const serverId = domains().serverConf.identity()?.serverId
  const zip = domains().messageLog.evidenceZip(queryIds, {
    createdAt: now,
    manifestExtra: { server: serverId === undefined ? null : pathOf(serverId), exportedBy: caller.actor },
  })
  if (zip.records.length === 0) {
    zip.stream.destroy()
    throw clientError('not_found', queryIds.length === 1 ? `No logged message has query id '${queryIds[0]}'` : 'None of the selected query ids has a logged message', { detail: 'queryIds' })
  }
  const data = { queryIds: [...new Set(queryIds)], recordIds: zip.records.map((r) => r.id), notFound: zip.notFound }
  zip.manifest.then(
    () => audit({ actor: caller.actor, event: 'messageLog.evidence', outcome: 'success', errorCode: null, data }),
    (error: unknown) => audit({ actor: caller.actor, event: 'messageLog.evidence', outcome: 'failure', errorCode: toSecurityServerError(error).faultCode, data }),
  )
  return { fileName: zipFileName(data.queryIds, now), zip }
}

/**
 * The evidence ZIP as a stream for the HTTPS transport: the same roles as `messageLog.exportZip` (checked by the
 * caller of this function against the allow-list) and the same audit entries.
 */
export function openEvidenceZipDownload(deps: MessageLogAdminDeps, caller: AdminCaller, input: unknown): EvidenceZipDownload {
  const { fileName, zip } = startEvidenceZip(deps, caller, input)
  return { fileName, stream: zip.stream, manifest: zip.manifest }
}

export function createMessageLogAdmin(deps: MessageLogAdminDeps): MessageLogApi {
  const { domains, clock, audit } = deps
  const messageLogDb = () => {
    const db = domains().databases?.messageLog
    if (db === undefined) throw new SecurityServerError('unsupported', 'This admin runtime has no message-log database')
    return db
  }
  const trustOf = () => {
    const conf = domains().globalConf.current()
    if (conf === undefined) return undefined
    return asicTrustFromGlobalConf(conf.snapshot)
  }
  return {
    async search(query) {
      const q = validate(searchSchema, query ?? {}, 'message-log search')
      const client = q.client === undefined || q.client.trim() === '' ? undefined : encodeId(parseClientRef(q.client))
      const service = q.service === undefined || q.service.trim() === '' ? undefined : encodeId(parseServiceRef(q.service))
      const filtered = q.direction !== undefined || q.status !== undefined
      const limit = q.limit ?? 200
      const rows = domains().messageLog.search({
        fromMs: q.from === undefined ? undefined : Date.parse(q.from), toMs: q.to === undefined ? undefined : Date.parse(q.to),
        client, service, queryId: q.queryId, limit: filtered ? SCAN_LIMIT : limit,
      })
      return rows
        .map(summary)
        .filter((r) => (q.direction === undefined || r.direction === q.direction) && (q.status === undefined || r.status === q.status))
        .slice(0, limit)
    },

    async exchanges(query) {
      const q = validate(exchangesSchema, query ?? {}, 'message-log page')
      const filter: ExchangeFilter = {
        ...(q.from === undefined ? {} : { fromMs: Date.parse(q.from) }),
        ...(q.to === undefined ? {} : { toMs: Date.parse(q.to) }),
        ...(q.client === undefined || q.client.trim() === '' ? {} : { client: encodeId(parseClientRef(q.client)) }),
        ...(q.service === undefined || q.service.trim() === '' ? {} : { service: encodeId(parseServiceRef(q.service)) }),
        ...(q.queryId === undefined ? {} : { queryId: q.queryId }),
        ...(q.direction === undefined ? {} : { response: q.direction === 'response' }),
        ...(q.status === undefined ? {} : { status: q.status }),
      }
      const page = q.page ?? { from: 'newest' as const }
      const start: ExchangePageStart = 'from' in page ? page
        : 'olderThan' in page ? { olderThan: decodeCursor(page.olderThan) } : { newerThan: decodeCursor(page.newerThan) }
      const pageSize: MessageLogPageSize = q.pageSize ?? 25
      const { messageLog, opMonitor } = domains()
      const found = messageLog.pageExchanges(filter, start, pageSize)
      const outcomes = opMonitor.outcomes([...new Set(found.exchanges.map((e) => e.anchor.queryId.slice(0, OP_MONITORING_ID_LENGTH)))])
      return {
        exchanges: found.exchanges.map((e) => exchangeOf(e, outcomes)),
        pageSize,
        newer: found.newer === null ? null : encodeCursor(found.newer),
        older: found.older === null ? null : encodeCursor(found.older),
      }
    },

    async exportZip(input) {
      const { fileName, zip } = startEvidenceZip(deps, currentCaller(), input)
      const chunks: Buffer[] = []
      let size = 0
      for await (const chunk of zip.stream) {
        size += (chunk as Buffer).byteLength
        if (size > MAX_ZIP_JSON_BYTES) {
          zip.stream.destroy()
          throw clientError('body_too_large', `The evidence of these exchanges is larger than ${MAX_ZIP_JSON_BYTES / 1024 / 1024} MiB: export fewer exchanges at once`, { detail: 'queryIds' })
        }
        chunks.push(chunk as Buffer)
      }
      const manifest = await zip.manifest
      return {
        fileName, mimeType: 'application/zip', content: Buffer.concat(chunks).toString('base64'), encoding: 'base64',
        queryIds: manifest.queryIds, containers: manifest.records.length, notFound: manifest.notFound,
      }
    },

    async record(input) {
      const { id, includeBody } = validate(recordSchema, input, 'record')
      const db = messageLogDb()
      const stored = findMessageRecord(db, id)
      if (stored === undefined) throw clientError('not_found', `No logged message has record id ${id}`)
      // Sizes and digests only: a body is read when it is shown.
      const attachments = listAttachmentSummaries(db, id)
      const ts = stored.timestampRecordId === null ? undefined : findTimestampRecord(db, stored.timestampRecordId)
      const meta = summary({
        id: stored.id, queryId: stored.queryId, xRequestId: stored.xRequestId, client: stored.client, service: stored.service,
        response: stored.response, timeMs: stored.timeMs, timestamped: stored.timestampRecordId !== null, archived: stored.archivedAtMs !== null,
        bodyLogged: stored.bodyLogged,
      })
      let body: MessageRecordBody | null = null
      let bodyAccess: BodyAccess = 'not-requested'
      if (!stored.bodyLogged) bodyAccess = 'not-logged'
      else if (includeBody) {
        const caller = currentCaller()
        const data = { recordId: id, queryId: stored.queryId }
        if (!mayReadBodies(caller.roles)) {
          bodyAccess = 'not-permitted'
          audit({ actor: caller.actor, event: 'messageLog.record.body', outcome: 'failure', errorCode: 'forbidden', data })
        } else {
          body = {
            message: textOrBase64(stored.message),
            attachments: listAttachments(db, id).map((a) => ({ position: a.position, ...(a.content === null ? { encoding: 'base64' as const, content: null } : textOrBase64(a.content)) })),
          }
          bodyAccess = 'shown'
          audit({ actor: caller.actor, event: 'messageLog.record.body', outcome: 'success', errorCode: null, data })
        }
      }
      return {
        ...meta,
        signatureHash: stored.signatureHash,
        messageBytes: stored.message.byteLength,
        attachments: attachments.map((a) => ({ position: a.position, size: a.size, sha512: a.sha512 })),
        timestamp: ts === undefined ? null : { at: new Date(ts.timeMs).toISOString(), tsaUrl: ts.tsaUrl, batch: ts.hashChainResult !== null },
        archiveFile: stored.archiveFile,
        archivedAt: stored.archivedAtMs === null ? null : new Date(stored.archivedAtMs).toISOString(),
        bodyAccess,
        body,
      }
    },

    async export(input) {
      const { queryId, direction } = validate(exportSchema, input, 'export')
      const exported = await domains().messageLog.exportEvidence(queryId, { requestOnly: direction === 'request', responseOnly: direction === 'response' })
      const caller = currentCaller()
      audit({ actor: caller.actor, event: 'messageLog.evidence', outcome: 'success', errorCode: null, data: { queryId, recordIds: exported.map((e) => e.recordId) } })
      return {
        queryId,
        files: exported.map((e) => ({
          fileName: e.fileName, mimeType: ASIC_MIME_TYPE, content: Buffer.from(e.container).toString('base64'), encoding: 'base64' as const,
          recordId: e.recordId, direction: e.response ? 'response' as const : 'request' as const, timestamped: e.timestamped,
        })),
      }
    },

    async verify(input) {
      const value = validate(verifySchema, input, 'verify')
      const trust = trustOf()
      const checkedAt = clock.now().toISOString()
      if ('container' in value) {
        const bytes = Buffer.from(value.container, 'base64')
        const verdict = await verdictOf(bytes, value.fileName ?? 'uploaded.asice', null, trust)
        const result: EvidenceVerification = { checkedAt, queryId: null, containers: [verdict] }
        return result
      }
      const exported = await domains().messageLog.exportEvidence(value.queryId)
      const containers: EvidenceVerdict[] = []
      for (const e of exported) {
        containers.push(await verdictOf(e.container, e.fileName, { recordId: e.recordId, direction: e.response ? 'response' : 'request', timestamped: e.timestamped }, trust))
      }
      return { checkedAt, queryId: value.queryId, containers }
    },

    async status() {
      return timestampingStatus(domains().messageLog, clock.now())
    },

    async forecast(input) {
      const { windowDays } = validate(forecastSchema, input ?? {}, 'forecast')
      const { messageLog, layout } = domains()
      const volume = layout?.messageLogDb !== undefined ? dirname(layout.messageLogDb) : layout?.root
      if (volume === undefined) throw new SecurityServerError('unsupported', 'This admin runtime does not know where the message log is stored')
      const f = messageLog.diskUseForecast(volume, windowDays ?? 7)
      const days = f.daysUntilFull
      const light: StatusLight = days === null ? 'green' : days < 7 ? 'red' : days < 30 ? 'yellow' : 'green'
      const gib = (n: number): string => `${(n / 1024 ** 3).toFixed(1)} GiB`
      const perDay = f.bytesPerDay < 1024 * 1024 ? `${Math.round(f.bytesPerDay / 1024)} KiB` : `${(f.bytesPerDay / 1024 ** 2).toFixed(1)} MiB`
      const explanation = days === null
        ? `Nothing was logged in the last ${f.windowDays} days, so the ${gib(f.freeBytes)} free do not shrink.`
        : `About ${roughly(f.recordsPerDay)} messages a day use ${perDay} a day; the ${gib(f.freeBytes)} free last ${days >= 3650 ? 'more than ten years' : `about ${formatSeconds(days * 86_400)}`}.${light === 'green' ? '' : ' Archive and purge more often (shorter retention) or add disk space before it fills: a full disk stops all traffic.'}`
      const result: MessageLogForecast = {
        ...f, keepRecordsForDays: messageLog.settings.keepRecordsForDays, archiving: messageLog.settings.archiveDir !== undefined, light, explanation,
      }
      return result
    },

    async archiveNow() {
      const { messageLog } = domains()
      if (messageLog.settings.archiveDir === undefined) throw clientError('invalid_config', 'Archiving is not configured: set the archive directory (message-log archive path) first')
      const r = await messageLog.archiveNow()
      return { archives: r.archives.map((a) => ({ fileName: a.fileName, records: a.records })), purged: r.purged, transferFailures: r.transferFailures }
    },

    async timestampNow() {
      const { messageLog } = domains()
      await messageLog.timestampNow()
      return timestampingStatus(messageLog, clock.now())
    },

    async evidence() {
      const { messageLog } = domains()
      const last = messageLog.evidence()
      const loggedSince = last.headSeq > (last.report.lastSeq ?? last.report.baseSeq)
      if (!last.checking && (loggedSince || clock.now().getTime() - last.report.checkedAtMs > EVIDENCE_FRESH_MS)) await messageLog.checkEvidence('incremental')
      return evidenceContinuity(messageLog)
    },

    async checkEvidence(input) {
      const { scope } = validate(checkEvidenceSchema, input ?? {}, 'evidence check')
      const { messageLog } = domains()
      await messageLog.checkEvidence(scope ?? 'full')
      return evidenceContinuity(messageLog)
    },

    async acknowledgeGap(input) {
      const { reason } = validate(acknowledgeSchema, input, 'acknowledgement')
      const { messageLog } = domains()
      const open = messageLog.evidence().report.problems.filter((p) => !p.acknowledged)
      if (open.length === 0) throw clientError('conflict', 'There is no evidence problem to acknowledge')
      const caller = currentCaller()
      const count = messageLog.acknowledgeEvidenceLoss(caller.actor, reason)
      audit({
        actor: caller.actor, event: 'messageLog.evidenceLoss', outcome: 'success', errorCode: null,
        data: { reason, incidents: count, problems: open.map((p) => ({ kind: p.kind, firstSeq: p.firstSeq, lastSeq: p.lastSeq, detail: p.detail })) },
      })
      return evidenceContinuity(messageLog)
    },
  }
}

import type * as asn1js from 'asn1js'
import type * as pkijs from 'pkijs'
import {
  SecurityServerError, inTransaction, type Clock, type Logger, type SqlWriter,
} from '../platform'
import { DEFAULT_OCSP_FRESHNESS_SECONDS, parseOcspResponse, verifyOcspResponse, type VerificationTrust } from '../signature'
import {
  findCertificateRow, findOcspFailure, findOcspRow, listCertificateRows, updateCertificateStatus, upsertOcspFailure, upsertOcspRow,
  type CertificateRow, type OcspRow,
} from './key-conf-repository'
import { OcspClient, buildOcspRequest, ocspUrlsFromAia } from './ocsp-client'

/**
 * OCSP status of own certificates (xroad-protocols.md §4.8; reliability-and-security.md §1.3): responses fetched
 * from the approved CA's responders (then the certificate's AIA), verified before they are stored, persisted,
 * refreshed every `ocspFetchInterval` (sooner after a failure: `ocsp-retry-delay`) and on demand, and reported as
 * good / revoked / unknown / stale with their timestamps and the last fetch error.
 */

/** What the global configuration knows about the CA of one own certificate. */
export interface OcspSource {
  /** DER of the certificate's issuer (an approved CA or one of its intermediates). */
  readonly issuerDer: Uint8Array
  /** `approvedCA/…/ocsp/url` of the issuing CA, in order; the certificate's AIA URLs are tried after these. */
  readonly urls: readonly string[]
  /** `approvedCA/…/ocsp/cert`: responder certificates listed for the CA. */
  readonly responderCertsDer: readonly Uint8Array[]
  /** `globalSettings/ocspFreshnessSeconds` (default 3600). */
  readonly freshnessSeconds?: number
  /** `ocspFetchInterval` (default 1200 s). */
  readonly fetchIntervalSeconds?: number
  /** NEXTUPDATE optional part; nextUpdate is checked unless false. */
  readonly verifyNextUpdate?: boolean
}

/** Looks up the OCSP trust data for an own certificate; undefined when no approved CA issued it. */
export type OcspSources = (certDer: Buffer) => OcspSource | undefined

export type OcspStatusValue = 'good' | 'revoked' | 'unknown' | 'stale' | 'none'

export interface OcspStatus {
  readonly certId: string
  /** `stale` when the stored response is older than the freshness window or past nextUpdate; `none` before any. */
  readonly status: OcspStatusValue
  /** What the stored response says, even when it has gone stale. */
  readonly responseStatus?: 'good' | 'revoked' | 'unknown'
  readonly thisUpdate?: string
  readonly nextUpdate?: string
  readonly producedAt?: string
  readonly revocationTime?: string
  readonly fetchedAt?: string
  readonly lastError?: string
  readonly lastErrorAt?: string
}

export interface OcspStatusOptions {
  readonly db: SqlWriter
  readonly clock: Clock
  readonly logger: Logger
  readonly sources: OcspSources
  readonly client?: OcspClient
  /** Delay before the next attempt after a failed fetch (X-Road `ocsp-retry-delay`, 60 s). */
  readonly retryDelaySeconds?: number
  /** Accepted clock skew for a thisUpdate in the future (reliability-and-security.md F4c). */
  readonly maxFutureSkewSeconds?: number
}

export const DEFAULT_OCSP_FETCH_INTERVAL_SECONDS = 1200
const DEFAULT_RETRY_DELAY_SECONDS = 60
const REFRESHED_STATES = new Set(['saved', 'registered', 'active'])

function revocationTimeOf(single: pkijs.SingleResponse): Date | undefined {
  const block = single.certStatus as asn1js.Constructed
  const first = block.valueBlock?.value?.[0] as asn1js.GeneralizedTime | undefined
  return first !== undefined && typeof first.toDate === 'function' ? first.toDate() : undefined
}

function statusTag(single: pkijs.SingleResponse): 'good' | 'revoked' | 'unknown' {
  const tag = (single.certStatus as asn1js.BaseBlock).idBlock.tagNumber
  return tag === 0 ? 'good' : tag === 1 ? 'revoked' : 'unknown'
}

export class OcspStatusService {
  private readonly client: OcspClient
  private readonly inFlight = new Map<string, Promise<OcspStatus>>()
  private timer: NodeJS.Timeout | undefined
  private running = false
  /** When the last scheduled refresh began, and when the next one is due (ms since the epoch, real time). */
  private lastRunAtMs = 0
  private nextRunAtMs = Number.POSITIVE_INFINITY

  constructor(private readonly options: OcspStatusOptions) {
    this.client = options.client ?? new OcspClient()
  }

  private source(certDer: Buffer): OcspSource | undefined {
    try {
      return this.options.sources(certDer)
    } catch (error) {
      this.options.logger.error({ err: error }, 'OCSP source lookup failed')
      return undefined
    }
  }

  /** The status of one own certificate now, from the stored response. */
  status(certId: string): OcspStatus {
    const { db, clock } = this.options
    const failure = findOcspFailure(db, certId)
    const errorPart = failure === undefined ? {} : { lastError: failure.error, lastErrorAt: failure.failedAt }
    const row = findOcspRow(db, certId)
    if (row === undefined) return { certId, status: 'none', ...errorPart }
    const cert = findCertificateRow(db, certId)
    const source = cert === undefined ? undefined : this.source(Buffer.from(cert.certDer))
    return { certId, status: this.currentStatus(row, source, clock.now()), ...this.describe(row), ...errorPart }
  }

  private describe(row: OcspRow): Omit<OcspStatus, 'certId' | 'status'> {
    return {
      responseStatus: row.status, thisUpdate: row.thisUpdate, fetchedAt: row.fetchedAt,
      ...(row.nextUpdate === null ? {} : { nextUpdate: row.nextUpdate }),
      ...(row.producedAt === null ? {} : { producedAt: row.producedAt }),
      ...(row.revocationTime === null ? {} : { revocationTime: row.revocationTime }),
    }
  }

  private currentStatus(row: OcspRow, source: OcspSource | undefined, now: Date): OcspStatusValue {
    // A revocation is final whatever the age of the response that said so.
    if (row.status === 'revoked') return 'revoked'
    const freshness = source?.freshnessSeconds ?? DEFAULT_OCSP_FRESHNESS_SECONDS
    // OcspVerifier.isExpired: thisUpdate < atDate − ocspFreshnessSeconds (reliability-and-security.md §1.3).
    if (new Date(row.thisUpdate).getTime() < now.getTime() - freshness * 1000) return 'stale'
    if (source?.verifyNextUpdate !== false && row.nextUpdate !== null && new Date(row.nextUpdate) < now) return 'stale'
    return row.status
  }

  /**
   * Until when (ms since the epoch) the stored response keeps the status it has now from ageing alone: the end of its
   * freshness window and its nextUpdate (when checked); never for a revocation or without a response. The signer
   * reuses what it derived from the response until then (issue 15 §2).
   */
  unchangedUntil(certId: string): number {
    const row = findOcspRow(this.options.db, certId)
    if (row === undefined || row.status === 'revoked') return Number.POSITIVE_INFINITY
    const cert = findCertificateRow(this.options.db, certId)
    const source = cert === undefined ? undefined : this.source(Buffer.from(cert.certDer))
    const freshness = source?.freshnessSeconds ?? DEFAULT_OCSP_FRESHNESS_SECONDS
    const staleAt = new Date(row.thisUpdate).getTime() + freshness * 1000
    const nextUpdate = source?.verifyNextUpdate !== false && row.nextUpdate !== null ? new Date(row.nextUpdate).getTime() : Number.POSITIVE_INFINITY
    return Math.min(staleAt, nextUpdate)
  }

  /** The stored DER response while it is usable (not stale); what the proxy embeds and serves on port 5577. */
  responses(certId: string): Buffer[] {
    const row = findOcspRow(this.options.db, certId)
    if (row === undefined) return []
    const status = this.status(certId).status
    return status === 'stale' || status === 'none' ? [] : [Buffer.from(row.responseDer)]
  }

  /** Fetches, verifies and stores fresh responses (all own certificates that need one, or the given ones). */
  async refresh(certIds?: readonly string[]): Promise<OcspStatus[]> {
    const now = this.options.clock.now()
    const rows = certIds === undefined
      ? listCertificateRows(this.options.db).filter((c) => REFRESHED_STATES.has(c.status) && new Date(c.notAfter) >= now)
      : certIds.map((id) => findCertificateRow(this.options.db, id)).filter((r): r is CertificateRow => r !== undefined)
    return Promise.all(rows.map((row) => this.refreshOne(row)))
  }

  private refreshOne(row: CertificateRow): Promise<OcspStatus> {
    const existing = this.inFlight.get(row.id)
    if (existing !== undefined) return existing
    const job = this.fetchAndStore(row).finally(() => this.inFlight.delete(row.id))
    this.inFlight.set(row.id, job)
    return job
  }

  private async fetchAndStore(row: CertificateRow): Promise<OcspStatus> {
    const { db, clock, logger } = this.options
    const certDer = Buffer.from(row.certDer)
    try {
      const source = this.source(certDer)
      if (source === undefined) {
        throw new SecurityServerError('cert_validation', 'The certificate was not issued by an approved CA (no OCSP responders known)')
      }
      const urls = [...new Set([...source.urls, ...ocspUrlsFromAia(certDer)])]
      const { url, responseDer } = await this.client.fetch(urls, buildOcspRequest(certDer, source.issuerDer))
      const stored = this.verify(responseDer, row, source, clock.now())
      inTransaction(db, () => {
        // The certificate may have been deleted while the responder answered: nothing to store then.
        if (findCertificateRow(db, row.id) === undefined) return
        upsertOcspRow(db, stored)
        if (stored.status === 'revoked' && row.status !== 'revoked') updateCertificateStatus(db, row.id, 'revoked')
      })
      if (stored.status !== 'good') logger.error({ certId: row.id, status: stored.status, url }, 'OCSP responder reports own certificate as not good')
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error)
      inTransaction(db, () => {
        if (findCertificateRow(db, row.id) !== undefined) upsertOcspFailure(db, { certId: row.id, error: message, failedAt: clock.now().toISOString() })
      })
      logger.error({ certId: row.id, err: error }, 'OCSP fetch for own certificate failed')
    }
    return this.status(row.id)
  }

  /**
   * Verifies the response with X-Road's `OcspVerifier` rules (CertID, responder authorization, signature,
   * freshness, nextUpdate — xroad-protocols.md §4.8) through the signature domain. That verifier rejects a
   * non-good status with `cert_validation` only after every other check passed, so such a response is stored
   * with its status; any other failure rejects it.
   */
  private verify(responseDer: Buffer, row: CertificateRow, source: OcspSource, now: Date): OcspRow {
    const trust: VerificationTrust = {
      instance: 'own-certificates',
      approvedCas: [{ topCert: source.issuerDer, intermediates: [], ocspResponderCerts: [...source.responderCertsDer], certificateProfileInfo: '' }],
      approvedTsas: [],
      ocspFreshnessSeconds: source.freshnessSeconds ?? DEFAULT_OCSP_FRESHNESS_SECONDS,
      verifyNextUpdate: source.verifyNextUpdate !== false,
    }
    try {
      verifyOcspResponse(responseDer, row.certDer, source.issuerDer, trust, now)
    } catch (error) {
      if (!(error instanceof SecurityServerError && error.code === 'cert_validation')) throw error
    }
    const { basic } = parseOcspResponse(responseDer)
    const single = basic.tbsResponseData.responses[0]!
    const skew = (this.options.maxFutureSkewSeconds ?? 60) * 1000
    if (single.thisUpdate.getTime() > now.getTime() + skew) {
      throw new SecurityServerError('incorrect_validation_info', `OCSP response thisUpdate ${single.thisUpdate.toISOString()} is in the future`)
    }
    const status = statusTag(single)
    const revoked = status === 'revoked' ? revocationTimeOf(single) : undefined
    return {
      certId: row.id, responseDer, status, thisUpdate: single.thisUpdate.toISOString(),
      nextUpdate: single.nextUpdate === undefined ? null : single.nextUpdate.toISOString(),
      revocationTime: revoked === undefined ? null : revoked.toISOString(),
      fetchedAt: now.toISOString(), producedAt: basic.tbsResponseData.producedAt.toISOString(),
    }
  }

  /** Refreshes now and then every fetch interval (after a failure, after the retry delay) until `stop`. */
  start(): void {
    if (this.running) return
    this.running = true
    this.schedule(0)
  }

  stop(): void {
    this.running = false
    clearTimeout(this.timer)
    this.timer = undefined
  }

  /** Resolves when no refresh is under way (for an orderly close). */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.inFlight.values()])
  }

  /**
   * The sources changed (e.g. global configuration's FETCHINTERVAL): when the interval now in force makes a refresh
   * due earlier than the one scheduled, it is moved forward (to now if already overdue).
   */
  reschedule(): void {
    if (!this.running) return
    const interval = this.fetchIntervalSeconds()
    if (interval === undefined) return
    const due = this.lastRunAtMs + interval * 1000
    if (due < this.nextRunAtMs) this.schedule(Math.max(0, due - Date.now()))
  }

  /** The shortest fetch interval among the sources of the own certificates that are refreshed. */
  private fetchIntervalSeconds(): number | undefined {
    const now = this.options.clock.now()
    let interval: number | undefined
    for (const row of listCertificateRows(this.options.db)) {
      if (!REFRESHED_STATES.has(row.status) || new Date(row.notAfter) < now) continue
      const seconds = this.source(Buffer.from(row.certDer))?.fetchIntervalSeconds ?? DEFAULT_OCSP_FETCH_INTERVAL_SECONDS
      interval = Math.min(interval ?? seconds, seconds)
    }
    return interval
  }

  private schedule(delayMs: number): void {
    if (!this.running) return
    clearTimeout(this.timer)
    this.nextRunAtMs = Date.now() + delayMs
    this.timer = setTimeout(() => void this.tick(), delayMs)
    this.timer.unref()
  }

  private async tick(): Promise<void> {
    this.lastRunAtMs = Date.now()
    let next = Number.POSITIVE_INFINITY
    let failed = false
    try {
      const statuses = await this.refresh()
      for (const s of statuses) {
        const cert = findCertificateRow(this.options.db, s.certId)
        const source = cert === undefined ? undefined : this.source(Buffer.from(cert.certDer))
        next = Math.min(next, source?.fetchIntervalSeconds ?? DEFAULT_OCSP_FETCH_INTERVAL_SECONDS)
        if (s.lastError !== undefined) failed = true
      }
    } catch (error) {
      failed = true
      this.options.logger.error({ err: error }, 'OCSP refresh run failed')
    }
    // Nothing to watch yet: look again soon rather than a whole fetch interval after the first import.
    if (!Number.isFinite(next)) failed = true
    if (!Number.isFinite(next)) next = DEFAULT_OCSP_FETCH_INTERVAL_SECONDS
    if (failed) next = Math.min(next, this.options.retryDelaySeconds ?? DEFAULT_RETRY_DELAY_SECONDS)
    this.schedule(next * 1000)
  }
}

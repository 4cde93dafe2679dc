import type { GlobalConfStatus, MessageLogForecast, ReadinessCheck, TimestampingStatus } from '@shared/admin-api/admin-api'
import type { AlertSnapshot } from '../alerts'
import type { Logger } from '../platform'
import type { SecurityServerCore } from './security-server-core'
import type { TlsConnectionCounts } from './proxy-runtime'

/**
 * What the operator watches, read from the domains in one place for the `/metrics` scrape and the alert rules: readiness,
 * certificates with their OCSP status, tokens, time-stamping, global configuration freshness and the disk forecast.
 * The forecast (a statfs and a few indexed reads of the message log, `volumeSince`) is taken at most once a minute.
 */
export interface ServerFacts {
  now: Date
  initialized: boolean
  readiness: readonly ReadinessCheck[]
  certificates: Array<AlertSnapshot['certificates'][number] & { ocsp: { status: string; thisUpdate?: string; lastError?: string } }>
  tokens: Array<{ id: string; label: string; kind: 'software' | 'pkcs11'; loggedIn: boolean; available: boolean }>
  trafficExpected: boolean
  timestamping?: TimestampingStatus
  globalConf?: GlobalConfStatus
  disk?: { daysUntilFull: number | null; freeBytes: number; bytesPerDay: number }
  /** TLS connections made since the start, while the proxies run. */
  tlsConnections?: TlsConnectionCounts
}

export interface ServerFactsSource {
  read(): Promise<ServerFacts>
}

const FORECAST_MAX_AGE_MS = 60_000
const TRAFFIC_WINDOW_S = 86_400

/** The verdicts the admin groups already compute (message-log status and forecast, global-configuration freshness). */
export interface VerdictReaders {
  timestamping(): Promise<TimestampingStatus>
  forecast(): Promise<MessageLogForecast>
  globalConf(): Promise<GlobalConfStatus>
  readiness(): readonly ReadinessCheck[]
  tlsConnections(): TlsConnectionCounts | undefined
}

export function serverFactsSource(core: SecurityServerCore, verdicts: VerdictReaders, logger: Logger): ServerFactsSource {
  let forecast: { at: number; value: ServerFacts['disk'] } | undefined
  const optional = async <T>(what: string, read: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await read()
    } catch (error) {
      logger.debug({ err: error, what }, 'operations facts: not available')
      return undefined
    }
  }
  return {
    async read() {
      const now = core.clock.now()
      const { signer } = core
      const initialized = core.serverConf.identity() !== undefined
      const keys = new Map(signer.listKeys().map((k) => [k.id, k]))
      const certificates = signer.listCertificates().map((c) => {
        const key = keys.get(c.keyId)
        const ocsp = signer.ocspStatus(c.id)
        return {
          id: c.id, subject: c.subject, usage: key?.usage ?? null, state: c.storedState, tokenId: key?.tokenId ?? null, notAfter: c.notAfter,
          ocsp: {
            status: ocsp.status,
            ...(ocsp.thisUpdate === undefined ? {} : { thisUpdate: ocsp.thisUpdate }),
            ...(ocsp.lastError === undefined ? {} : { lastError: ocsp.lastError }),
          },
        }
      })
      const tokens = ((await optional('tokens', () => signer.listTokens())) ?? []).map((t) => ({
        id: t.id, label: t.label !== '' ? t.label : t.kind === 'software' ? 'Software token' : t.id, kind: t.kind, loggedIn: t.loggedIn, available: t.available,
      }))
      if (forecast === undefined || now.getTime() - forecast.at > FORECAST_MAX_AGE_MS) {
        const f = await optional('forecast', () => verdicts.forecast())
        forecast = { at: now.getTime(), value: f === undefined ? undefined : { daysUntilFull: f.daysUntilFull, freeBytes: f.freeBytes, bytesPerDay: f.bytesPerDay } }
      }
      const registeredClients = initialized ? core.serverConf.listClients().filter((c) => c.state === 'REGISTERED').length : 0
      const trafficExpected = registeredClients > 0 || core.opMonitor.anyExchangeSince(Math.floor(now.getTime() / 1000) - TRAFFIC_WINDOW_S)
      const timestamping = await optional('timestamping', () => verdicts.timestamping())
      const globalConf = await optional('global configuration', () => verdicts.globalConf())
      const tlsConnections = verdicts.tlsConnections()
      return {
        now, initialized, readiness: verdicts.readiness(), certificates, tokens, trafficExpected,
        ...(timestamping === undefined ? {} : { timestamping }),
        ...(globalConf === undefined ? {} : { globalConf }),
        ...(forecast.value === undefined ? {} : { disk: forecast.value }),
        ...(tlsConnections === undefined ? {} : { tlsConnections }),
      }
    },
  }
}

/** The alert rules' view of the facts. */
export function alertSnapshot(facts: ServerFacts, diskDaysThreshold: number): AlertSnapshot {
  const t = facts.timestamping
  const g = facts.globalConf
  return {
    now: facts.now, initialized: facts.initialized, certificates: facts.certificates, tokens: facts.tokens, trafficExpected: facts.trafficExpected,
    readiness: facts.readiness, diskDaysThreshold,
    ...(t === undefined ? {} : { timestamping: { light: t.light, acceptingMessages: t.acceptingMessages, trafficStopsAt: t.trafficStopsAt, secondsLeft: t.secondsLeft, lastError: t.lastError } }),
    ...(g === undefined ? {} : { globalConf: { light: g.light, expired: g.expired, expiresAt: g.expiresAt, lastError: g.lastError } }),
    ...(facts.disk === undefined ? {} : { disk: { daysUntilFull: facts.disk.daysUntilFull, freeBytes: facts.disk.freeBytes } }),
  }
}

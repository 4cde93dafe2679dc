import { z } from 'zod'
import type { AlertChannelName, AlertDelivery, AlertDto, AlertSettings } from '@shared/admin-api/operations-api'
import { clientError, inTransaction, type Clock, type Logger, type WritableDb } from '../platform'
import {
  acknowledgeAlert, clearAlert, deleteClearedAlertsBefore, findActiveAlert, insertAlert, listActiveAlerts, listClearedAlerts,
  readAlertSetting, updateActiveAlert, writeAlertSetting,
} from './alert-repository'
import type { AlertCandidate } from './alert-rules'
import { sendSyslog, type SyslogSeverity } from './syslog-client'
import { postWebhook, type WebhookOptions } from './webhook-client'

/**
 * Keeps the alerts of this server: raises what the rules call for (once the condition has lasted its delay), clears
 * what no longer holds, records acknowledgements, and tells every change to the event stream and to the outbound
 * channels (webhook, syslog) the administrator configured. State lives in serverconf.sqlite, so a restart neither
 * forgets an acknowledgement nor announces a lasting alert again.
 */
export type AlertChange = 'raised' | 'cleared' | 'acknowledged'

export interface AlertCenter {
  /** Brings the stored alerts in line with what the rules call for now. */
  update(candidates: readonly AlertCandidate[]): void
  list(includeCleared: boolean): AlertDto[]
  /** @throws not_found */
  acknowledge(id: string, actor: string): AlertDto
  settings(): AlertSettings
  /** @throws validation_failed */
  setSettings(input: unknown): AlertSettings
  /** The disk-forecast threshold in force (days). */
  diskDaysThreshold(): number
  /** Sends a test alert to every enabled channel and waits for the outcomes. */
  testDelivery(): Promise<AlertDelivery[]>
  /** Resolves when the deliveries started so far have finished (tests, shutdown). */
  idle(): Promise<void>
}

export interface AlertCenterDeps {
  db: () => WritableDb
  clock: Clock
  logger: Logger
  /** Told after every change (the event stream). */
  onChange?: (change: AlertChange, alert: AlertDto) => void
  /** This server's id for the receivers (`INSTANCE/CLASS/MEMBER/SERVER`), or null before it has one. */
  serverId?: () => string | null
  webhook?: WebhookOptions
}

interface StoredSettings {
  webhook: { enabled: boolean; url: string; secret: string }
  syslog: AlertSettings['syslog']
  diskDaysThreshold: number
}

export const DEFAULT_ALERT_SETTINGS: StoredSettings = {
  webhook: { enabled: false, url: '', secret: '' },
  syslog: { enabled: false, host: '127.0.0.1', port: 514, protocol: 'udp', facility: 16 },
  diskDaysThreshold: 14,
}

const SETTINGS_KEY = 'settings'
/** Cleared alerts are listed for a week and kept for 30 days. */
const CLEARED_LISTED_MS = 7 * 86_400_000
const CLEARED_KEPT_MS = 30 * 86_400_000

const webhookUrl = z.string().trim().max(2000).refine((v) => {
  if (v === '') return true
  try {
    const u = new URL(v)
    return (u.protocol === 'https:' || u.protocol === 'http:') && u.hostname !== ''
  } catch {
    return false
  }
}, 'an http:// or https:// address')
const settingsSchema = z.object({
  webhook: z.object({ enabled: z.boolean().optional(), url: webhookUrl.optional(), secret: z.string().max(200).optional() }).strict().optional(),
  syslog: z.object({
    enabled: z.boolean().optional(),
    host: z.string().trim().min(1, 'give a host').max(255).regex(/^[A-Za-z0-9.:[\]-]+$/, 'an IP address or host name').optional(),
    port: z.number().int().min(1).max(65535).optional(),
    protocol: z.enum(['udp', 'tcp']).optional(),
    facility: z.number().int().min(0).max(23).optional(),
  }).strict().optional(),
  diskDaysThreshold: z.number().int().min(1).max(365).optional(),
}).strict()

const SYSLOG_SEVERITY: Record<AlertDto['severity'], SyslogSeverity> = { critical: 2, warning: 4, info: 6 }

export function createAlertCenter(deps: AlertCenterDeps): AlertCenter {
  const { clock, logger } = deps
  /** Conditions seen but not yet raised (their delay runs), by id: when first seen. */
  const pending = new Map<string, number>()
  const deliveries = new Map<AlertChannelName, AlertDelivery>()
  const inFlight = new Set<Promise<unknown>>()
  let lastPurge = 0

  const readSettings = (): StoredSettings => {
    const raw = readAlertSetting(deps.db(), SETTINGS_KEY)
    if (raw === undefined) return structuredClone(DEFAULT_ALERT_SETTINGS)
    const stored = JSON.parse(raw) as Partial<StoredSettings>
    return {
      webhook: { ...DEFAULT_ALERT_SETTINGS.webhook, ...stored.webhook },
      syslog: { ...DEFAULT_ALERT_SETTINGS.syslog, ...stored.syslog },
      diskDaysThreshold: stored.diskDaysThreshold ?? DEFAULT_ALERT_SETTINGS.diskDaysThreshold,
    }
  }
  const toDto = (s: StoredSettings): AlertSettings => ({
    webhook: { enabled: s.webhook.enabled, url: s.webhook.url, secretSet: s.webhook.secret !== '' },
    syslog: { ...s.syslog },
    diskDaysThreshold: s.diskDaysThreshold,
    lastDeliveries: [...deliveries.values()],
  })

  const track = <T>(work: Promise<T>): Promise<T> => {
    inFlight.add(work)
    void work.finally(() => inFlight.delete(work)).catch(() => undefined)
    return work
  }

  const deliverTo = async (channel: AlertChannelName, send: () => Promise<void>): Promise<AlertDelivery> => {
    let result: AlertDelivery
    try {
      await send()
      result = { channel, at: clock.now().toISOString(), ok: true, error: null }
    } catch (error) {
      const text = error instanceof Error ? error.message : String(error)
      logger.warn({ channel, error: text }, 'alert delivery failed')
      result = { channel, at: clock.now().toISOString(), ok: false, error: text }
    }
    deliveries.set(channel, result)
    return result
  }

  /** Sends one change to every enabled channel; resolves with each channel's outcome. */
  const deliver = (event: AlertChange | 'test', alert: AlertDto): Promise<AlertDelivery[]> => {
    const settings = readSettings()
    const sends: Array<Promise<AlertDelivery>> = []
    if (settings.webhook.enabled && settings.webhook.url !== '') {
      const payload = { event, server: deps.serverId?.() ?? null, sentAt: clock.now().toISOString(), alert }
      const target = { url: settings.webhook.url, ...(settings.webhook.secret === '' ? {} : { secret: settings.webhook.secret }) }
      sends.push(deliverTo('webhook', () => postWebhook(target, event, payload, deps.webhook)))
    }
    if (settings.syslog.enabled) {
      const severity: SyslogSeverity = event === 'cleared' ? 5 : SYSLOG_SEVERITY[alert.severity]
      const text = event === 'cleared' ? `Resolved: ${alert.message}` : alert.message
      sends.push(deliverTo('syslog', () => sendSyslog(settings.syslog, {
        severity, msgId: alert.code, at: clock.now(), text,
        data: { id: alert.id, event, severity: alert.severity, ...(deps.serverId?.() ? { server: deps.serverId?.() as string } : {}) },
      })))
    }
    return track(Promise.all(sends))
  }

  const announce = (change: AlertChange, alert: AlertDto): void => {
    try {
      deps.onChange?.(change, alert)
    } catch (error) {
      logger.error({ err: error }, 'alert listener failed')
    }
    if (change !== 'acknowledged') void deliver(change, alert)
  }

  return {
    update(candidates) {
      const db = deps.db()
      const now = clock.now()
      const nowMs = now.getTime()
      const nowIso = now.toISOString()
      const wanted = new Map(candidates.map((c) => [c.id, c]))
      const active = new Map(listActiveAlerts(db).map((a) => [a.id, a]))
      const changes: Array<[AlertChange, AlertDto]> = []
      for (const id of pending.keys()) if (!wanted.has(id)) pending.delete(id)
      inTransaction(db, () => {
        for (const [id, alert] of active) {
          if (wanted.has(id)) continue
          clearAlert(db, id, nowIso)
          changes.push(['cleared', { ...alert, clearedAt: nowIso }])
        }
        for (const candidate of wanted.values()) {
          const existing = active.get(candidate.id)
          if (existing !== undefined) {
            if (JSON.stringify(existing.params) !== JSON.stringify(candidate.params) || existing.message !== candidate.message) {
              updateActiveAlert(db, candidate.id, candidate.params, candidate.message)
            }
            continue
          }
          const firstSeen = pending.get(candidate.id) ?? nowMs
          if (nowMs - firstSeen < candidate.delayMs) {
            pending.set(candidate.id, firstSeen)
            continue
          }
          pending.delete(candidate.id)
          const alert: AlertDto = {
            id: candidate.id, code: candidate.code, severity: candidate.severity, params: candidate.params, message: candidate.message,
            raisedAt: nowIso, clearedAt: null, acknowledgedAt: null, acknowledgedBy: null,
          }
          insertAlert(db, alert)
          changes.push(['raised', alert])
        }
        if (nowMs - lastPurge > 3600_000) {
          deleteClearedAlertsBefore(db, new Date(nowMs - CLEARED_KEPT_MS).toISOString())
          lastPurge = nowMs
        }
      })
      for (const [change, alert] of changes) {
        if (change === 'raised') logger.warn({ alert: alert.id, severity: alert.severity }, `alert: ${alert.message}`)
        else logger.info({ alert: alert.id }, 'alert cleared')
        announce(change, alert)
      }
    },
    list(includeCleared) {
      const db = deps.db()
      const active = listActiveAlerts(db)
      if (!includeCleared) return active
      return [...active, ...listClearedAlerts(db, new Date(clock.now().getTime() - CLEARED_LISTED_MS).toISOString(), 200)]
    },
    acknowledge(id, actor) {
      const db = deps.db()
      const at = clock.now().toISOString()
      const changed = inTransaction(db, () => acknowledgeAlert(db, id, at, actor))
      const alert = findActiveAlert(db, id)
      if (changed === 0 || alert === undefined) throw clientError('not_found', `No active alert ${id}`, { detail: 'id' })
      announce('acknowledged', alert)
      return alert
    },
    settings: () => toDto(readSettings()),
    setSettings(input) {
      const parsed = settingsSchema.safeParse(input)
      if (!parsed.success) {
        const issue = parsed.error.issues[0]
        const field = issue?.path.join('.') ?? ''
        throw clientError('validation_failed', `Invalid alert settings${field ? ` (${field})` : ''}: ${issue?.message ?? 'invalid'}`, { detail: field })
      }
      const current = readSettings()
      const change = parsed.data
      const next: StoredSettings = {
        webhook: {
          enabled: change.webhook?.enabled ?? current.webhook.enabled,
          url: change.webhook?.url ?? current.webhook.url,
          secret: change.webhook?.secret ?? current.webhook.secret,
        },
        syslog: { ...current.syslog, ...change.syslog },
        diskDaysThreshold: change.diskDaysThreshold ?? current.diskDaysThreshold,
      }
      if (next.webhook.enabled && next.webhook.url === '') throw clientError('validation_failed', 'Give the webhook address before turning it on', { detail: 'webhook.url' })
      const db = deps.db()
      inTransaction(db, () => writeAlertSetting(db, SETTINGS_KEY, JSON.stringify(next)))
      return toDto(next)
    },
    diskDaysThreshold: () => readSettings().diskDaysThreshold,
    async testDelivery() {
      const at = clock.now().toISOString()
      return deliver('test', {
        id: 'test', code: 'readiness-red', severity: 'info', params: {}, raisedAt: at, clearedAt: null, acknowledgedAt: null, acknowledgedBy: null,
        message: 'Test alert from Gatehouse: this channel receives alerts.',
      })
    },
    async idle() {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight])
    },
  }
}

import { create } from 'zustand'
import type {
  AnchorPreview, GlobalConfStatus, GlobalMemberDto, GlobalServerDto, InitializationStatus, TimestampingServicesDto,
} from '@shared/admin-api/admin-api'
import { translate } from '../../i18n'
import { adminClient } from '../../lib/admin-client'
import { localizeError } from '../../lib/localized-error'

/**
 * Global configuration: status, the anchor (download, re-import), time-stamping services, members and servers of the
 * instance. Changes throw the refusal in the reader's language, for the form that asked to show it.
 */
interface GlobalConfState {
  status: GlobalConfStatus | null
  members: GlobalMemberDto[]
  servers: GlobalServerDto[]
  tsas: TimestampingServicesDto | null
  /** The anchor in force as the initialization status reports it (generated and imported times). */
  anchor: InitializationStatus['anchor']
  loading: boolean
  error: unknown
  load(): Promise<void>
  refresh(): Promise<void>
  downloadAnchor(): Promise<{ fileName: string; content: string } | null>
  previewAnchor(anchorXml: string, serverInstance: string): Promise<AnchorPreview>
  replaceAnchor(anchorXml: string, confirmedHash: string, serverInstance: string): Promise<void>
  selectTsas(names: string[]): Promise<TimestampingServicesDto>
  clearError(): void
}

/** The global-configuration refusals in the reader's language; `server` is this server's instance, for the anchor checks. */
export function globalConfError(error: unknown, context: { anchorInstance?: string; serverInstance?: string } = {}): unknown {
  return localizeError(error, (code, detail) => {
    const t = (key: string, options: Record<string, unknown> = {}): string => translate(`globalConf:refusals.${key}`, options)
    if (code === 'malformed_anchor') return t('malformed')
    if (code === 'not_initialized') return t('notInitialized')
    if (detail === 'confirmedHash') return t('hash')
    if (detail === 'names') return t('names')
    if (detail === 'anchorXml' && code === 'validation_failed' && context.anchorInstance !== undefined && context.anchorInstance !== context.serverInstance) {
      return t('otherInstance', { anchor: context.anchorInstance, server: context.serverInstance ?? '' })
    }
    // Any other fault of a well-formed anchor of this instance comes from the trial download.
    if (detail === 'anchorXml' && code !== 'validation_failed') return t('notVerified', { reason: code })
    return undefined
  })
}

/** The instance an anchor XML names, read without parsing it fully (for the refusal message only). */
export function anchorInstanceOf(xml: string): string | undefined {
  return /<(?:\w+:)?instanceIdentifier>\s*([^<\s]+)\s*</.exec(xml)?.[1]
}

export const useGlobalConfStore = create<GlobalConfState>((set, get) => {
  const loadTsas = async (): Promise<void> => set({ tsas: await adminClient().call('globalConf', 'timestampingServices') })
  return {
    status: null, members: [], servers: [], tsas: null, anchor: null, loading: false, error: null,
    async load() {
      set({ loading: true })
      try {
        const client = adminClient()
        const [status, members, servers, tsas, init] = await Promise.all([
          client.call('globalConf', 'status'), client.call('globalConf', 'members'), client.call('globalConf', 'servers'),
          client.call('globalConf', 'timestampingServices'), client.call('initialization', 'status'),
        ])
        set({ status, members, servers, tsas, anchor: init.anchor, loading: false, error: null })
      } catch (error) {
        set({ error, loading: false })
      }
    },
    async refresh() {
      set({ loading: true, error: null })
      try {
        const client = adminClient()
        const status = await client.call('globalConf', 'refresh')
        // A fresh download may list new members and servers (a registration just approved): show them too.
        const [members, servers] = await Promise.all([client.call('globalConf', 'members'), client.call('globalConf', 'servers')])
        set({ status, members, servers, loading: false })
        await loadTsas()
      } catch (error) {
        set({ error, loading: false })
      }
    },
    async downloadAnchor() {
      try {
        const anchor = await adminClient().call('globalConf', 'anchor')
        return { fileName: anchor.fileName, content: anchor.content }
      } catch (error) {
        set({ error: globalConfError(error) })
        return null
      }
    },
    async previewAnchor(anchorXml, serverInstance) {
      try {
        return await adminClient().call('globalConf', 'previewAnchor', { anchorXml })
      } catch (error) {
        throw globalConfError(error, { anchorInstance: anchorInstanceOf(anchorXml), serverInstance })
      }
    },
    async replaceAnchor(anchorXml, confirmedHash, serverInstance) {
      try {
        set({ status: await adminClient().call('globalConf', 'replaceAnchor', { anchorXml, confirmedHash }) })
      } catch (error) {
        throw globalConfError(error, { anchorInstance: anchorInstanceOf(anchorXml), serverInstance })
      }
      await get().load()
    },
    async selectTsas(names) {
      try {
        const tsas = await adminClient().call('globalConf', 'selectTimestampingServices', { names })
        set({ tsas })
        return tsas
      } catch (error) {
        throw globalConfError(error)
      }
    },
    clearError: () => set({ error: null }),
  }
})

/** A duration in the reader's language (seconds below 2 min, then minutes, hours, days), as the server's status words it. */
export function durationText(seconds: number): string {
  const s = Math.max(0, Math.round(seconds))
  if (s < 120) return translate('globalConf:duration.seconds', { count: s })
  if (s < 7200) return translate('globalConf:duration.minutes', { count: Math.round(s / 60) })
  if (s < 172_800) return translate('globalConf:duration.hours', { count: Math.round(s / 3600) })
  return translate('globalConf:duration.days', { count: Math.round(s / 86_400) })
}

/** The status explanation in the reader's language, from the same facts the server judged (global-conf-admin `describeFreshness`). */
export function freshnessText(s: Pick<GlobalConfStatus, 'anchorImported' | 'available' | 'expired' | 'expiresInSeconds' | 'lastError' | 'ageSeconds'>): string {
  const t = (key: string, options: Record<string, unknown> = {}): string => translate(`globalConf:freshness.${key}`, options)
  if (!s.anchorImported) return t('noAnchor')
  if (!s.available) return t('notDownloaded')
  if (s.expired) return t('expired')
  if (s.lastError !== null) return t('lastFailed', { time: durationText(s.expiresInSeconds ?? 0) })
  if (s.expiresInSeconds !== null && s.expiresInSeconds < 180) return t('expiresSoon', { time: durationText(s.expiresInSeconds) })
  return s.ageSeconds === null ? t('upToDateRecently') : t('upToDate', { time: durationText(s.ageSeconds) })
}

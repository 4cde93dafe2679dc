import type { GlobalConfApi, GlobalConfStatus, StatusLight } from '@shared/admin-api/admin-api'
import { currentGenerationDir, parseConfigurationAnchor } from '../global-conf'
import { clientError, type Clock } from '../platform'
import { encodeId, errorText, generationTime, type DomainsOf } from './domain-support'

/**
 * Global configuration status (UG-SS §3, X-Road's "Diagnostics → Global configuration"): the anchor, the
 * configuration in force with its version, age and expiry, the last download error, members and servers.
 */
const HOUR = 3600
/** X-Road downloads every 60 s and configuration lives 600 s: under 3 minutes left means several downloads failed. */
const EXPIRY_WARNING_SECONDS = 180

export function describeFreshness(s: Pick<GlobalConfStatus, 'anchorImported' | 'available' | 'expired' | 'expiresInSeconds' | 'lastError' | 'ageSeconds'>): { light: StatusLight; explanation: string } {
  if (!s.anchorImported) return { light: 'gray', explanation: 'No configuration anchor is imported yet. Run the first-run wizard to join an X-Road instance.' }
  if (!s.available) {
    return {
      light: 'red',
      explanation: `The global configuration has not been downloaded yet${s.lastError ? ` (${s.lastError})` : ''}. Check that the central server address in the anchor is reachable from this server.`,
    }
  }
  if (s.expired) {
    return { light: 'red', explanation: 'The global configuration has expired: messages are refused until a fresh copy is downloaded. Check the network path to the central server.' }
  }
  if (s.lastError !== null) {
    return { light: 'yellow', explanation: `The last download failed (${s.lastError}); the previous copy is still valid. It expires in ${formatSeconds(s.expiresInSeconds ?? 0)}.` }
  }
  if (s.expiresInSeconds !== null && s.expiresInSeconds < EXPIRY_WARNING_SECONDS) {
    return { light: 'yellow', explanation: `The global configuration expires in ${formatSeconds(s.expiresInSeconds)}; a fresh download is due.` }
  }
  return { light: 'green', explanation: `Up to date: downloaded ${s.ageSeconds === null ? 'recently' : `${formatSeconds(s.ageSeconds)} ago`}.` }
}

export function formatSeconds(seconds: number): string {
  const s = Math.max(0, Math.round(seconds))
  if (s < 120) return `${s} s`
  if (s < 2 * HOUR) return `${Math.round(s / 60)} min`
  if (s < 48 * HOUR) return `${Math.round(s / HOUR)} h`
  return `${Math.round(s / (24 * HOUR))} days`
}

export function createGlobalConfAdmin(domains: DomainsOf, clock: Clock): GlobalConfApi {
  const status = async (): Promise<GlobalConfStatus> => {
    const { serverConf, globalConf, layout } = domains()
    const anchorFile = serverConf.anchorFile()
    const anchor = anchorFile === undefined ? undefined : parseConfigurationAnchor(anchorFile.content)
    const conf = globalConf.current()
    const now = clock.now().getTime()
    const downloaded = layout === undefined ? undefined : generationTime(currentGenerationDir(layout.globalConfDir))
    const shared = conf?.own.shared
    const base = {
      anchorImported: anchor !== undefined,
      anchorHash: anchor?.hash ?? null,
      sources: anchor?.sources.map((s) => s.downloadUrl) ?? [],
      available: conf !== undefined,
      instance: conf?.instanceIdentifier ?? anchor?.instanceIdentifier ?? null,
      version: shared?.version ?? null,
      downloadedAt: conf === undefined ? null : (downloaded?.toISOString() ?? null),
      ageSeconds: conf === undefined || downloaded === undefined ? null : Math.round((now - downloaded.getTime()) / 1000),
      expiresAt: conf?.expiresAt?.toISOString() ?? null,
      expiresInSeconds: conf?.expiresAt === undefined ? null : Math.round((conf.expiresAt.getTime() - now) / 1000),
      expired: conf !== undefined && conf.isExpired(clock.now()),
      lastError: errorText(globalConf.service?.()?.lastError()),
      memberCount: shared?.members.length ?? 0,
      serverCount: shared?.securityServers.length ?? 0,
      approvedCaCount: shared?.approvedCas.length ?? 0,
      tsaCount: shared?.approvedTsas.length ?? 0,
    }
    return { ...base, ...describeFreshness(base) }
  }
  return {
    status,
    async members() {
      const shared = domains().globalConf.current()?.own.shared
      return (shared?.members ?? []).map((m) => ({
        id: encodeId(m.id), name: m.name, memberClass: m.memberClass.code, subsystems: m.subsystems.map((s) => encodeId(s.id)),
      }))
    },
    async servers() {
      const shared = domains().globalConf.current()?.own.shared
      return (shared?.securityServers ?? []).map((s) => ({
        id: encodeId(s.id), owner: encodeId(s.owner), serverCode: s.serverCode, address: s.address ?? null, clients: s.clients.map(encodeId),
      }))
    },
    async globalGroups() {
      const conf = domains().globalConf.current()
      if (conf === undefined) return []
      const instances = [conf.instanceIdentifier, ...conf.getInstanceIdentifiers().filter((i) => i !== conf.instanceIdentifier)]
      return instances.flatMap((instance) =>
        (conf.getSharedParameters(instance)?.globalGroups ?? []).map((g) => ({
          id: encodeId(g.id), instance, groupCode: g.id.groupCode, description: g.description, members: g.members.map(encodeId),
        })),
      )
    },
    async refresh() {
      const service = domains().globalConf.service?.()
      if (service === undefined) throw clientError('not_initialized', 'No configuration anchor is imported, so there is nothing to download')
      await service.refresh()
      return status()
    },
  }
}

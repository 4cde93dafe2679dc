import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { z } from 'zod'
import type { AnchorPreview, GlobalConfApi, GlobalConfStatus, StatusLight, TimestampingServicesDto } from '@shared/admin-api/admin-api'
import { createGlobalConfService, currentGenerationDir, parseConfigurationAnchor, type ParsedAnchor } from '../global-conf'
import { SecurityServerError, clientError, toSecurityServerError, type Clock } from '../platform'
import { validate } from './admin-validation'
import { encodeId, errorText, generationTime, type DomainsOf } from './domain-support'

/**
 * Global configuration (UG-SS §3, §10; X-Road's "Diagnostics → Global configuration" and "System parameters"): the
 * anchor, the configuration in force with its version, age and expiry, the last download error, members and servers;
 * anchor download and re-import; the choice of time-stamping services.
 */
const MAX_ANCHOR_CHARS = 1024 * 1024
const anchorXmlSchema = z.string().min(1, 'paste or upload the anchor file').max(MAX_ANCHOR_CHARS, 'the anchor file is too large')
const normalizeHash = (hash: string): string => hash.replace(/[^0-9a-fA-F]/g, '').toUpperCase()
/** How long the trial download of a new anchor may take before the anchor is refused. */
const VERIFY_TIMEOUT_MS = 15_000
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

/** X-Road's download name: `configuration_anchor_UTC_2025-01-31_12_00_00.xml`. */
export function anchorFileName(generatedAt: Date | undefined, fallback: Date): string {
  const at = (generatedAt ?? fallback).toISOString().slice(0, 19).replace('T', '_').replace(/:/g, '_')
  return `configuration_anchor_UTC_${at}.xml`
}

export function createGlobalConfAdmin(domains: DomainsOf, clock: Clock): GlobalConfApi {
  /** Parses a new anchor and checks it is for this server's instance (X-Road `verifyAnchorInstance`). */
  const sameInstanceAnchor = (xml: unknown): { parsed: ParsedAnchor; xml: string } => {
    const text = validate(anchorXmlSchema, xml, 'anchorXml')
    const identity = domains().serverConf.identity()
    if (identity === undefined) throw clientError('not_initialized', 'The security server is not initialized: import the first anchor with the first-run wizard')
    const parsed = parseConfigurationAnchor(text)
    const own = identity.owner.xRoadInstance
    if (parsed.instanceIdentifier !== own) {
      throw clientError('validation_failed', `This anchor is for instance ${parsed.instanceIdentifier}; this server belongs to instance ${own}. Use the anchor of ${own}`, {
        detail: 'anchorXml',
      })
    }
    return { parsed, xml: text }
  }
  const preview = (parsed: ParsedAnchor): AnchorPreview => ({
    instance: parsed.instanceIdentifier,
    hash: parsed.hash,
    generatedAt: parsed.generatedAt?.toISOString() ?? null,
    sources: parsed.sources.map((s) => s.downloadUrl),
  })
  /** A trial download and verification with the new anchor in a scratch folder, before anything is stored (as X-Road's ConfigurationVerifier). */
  const verifyDownload = async (parsed: ParsedAnchor): Promise<void> => {
    const dir = await mkdtemp(join(tmpdir(), 'gatehouse-anchor-check-'))
    try {
      const trial = createGlobalConfService({ dir, anchor: parsed, clock, timeoutMs: VERIFY_TIMEOUT_MS })
      if ((await trial.refresh()) === undefined) {
        const cause = toSecurityServerError(trial.lastError() ?? new SecurityServerError('malformed_global_conf', 'no configuration was downloaded'), 'network_error')
        throw new SecurityServerError(cause.code, `Global configuration could not be downloaded and verified with this anchor: ${cause.message}`, {
          cause, detail: 'anchorXml', clientFault: true,
        })
      }
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  }
  const timestamping = (): TimestampingServicesDto => {
    const { globalConf, serverConf } = domains()
    const conf = globalConf.current()
    return {
      available: conf !== undefined,
      approved: (conf?.getTsas() ?? []).map((t) => ({ name: t.name, url: t.url })),
      selected: serverConf.timestampingServices(),
      inUse: domains().timestampingServices().map((t) => t.name ?? t.url),
    }
  }

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
        id: encodeId(s.id), owner: encodeId(s.owner), serverCode: s.serverCode, address: s.address ?? null, inMaintenanceMode: s.inMaintenanceMode, clients: s.clients.map(encodeId),
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
    async anchor() {
      const stored = domains().serverConf.anchorFile()
      if (stored === undefined) throw clientError('anchor_file_not_found', 'No configuration anchor is imported yet')
      const parsed = parseConfigurationAnchor(stored.content)
      return {
        instance: parsed.instanceIdentifier,
        hash: parsed.hash,
        generatedAt: parsed.generatedAt?.toISOString() ?? null,
        storedAt: stored.storedAt,
        fileName: anchorFileName(parsed.generatedAt, new Date(stored.storedAt)),
        content: Buffer.from(stored.content).toString('utf8'),
      }
    },
    async previewAnchor(input) {
      const value = validate(z.object({ anchorXml: z.unknown() }).strict(), input, 'anchor')
      return preview(sameInstanceAnchor(value.anchorXml).parsed)
    },
    async replaceAnchor(input) {
      const value = validate(z.object({ anchorXml: z.unknown(), confirmedHash: z.string().min(1, 'confirm the anchor hash').max(200) }).strict(), input, 'anchor')
      const { parsed, xml } = sameInstanceAnchor(value.anchorXml)
      // PR-GCONF §2.2: only the anchor whose hash the operator compared with the published one is stored.
      if (normalizeHash(value.confirmedHash) !== normalizeHash(parsed.hash)) {
        throw clientError('validation_failed', 'The confirmed hash is not the hash of this anchor; check the anchor file and confirm its hash again', { detail: 'confirmedHash' })
      }
      await verifyDownload(parsed)
      const { serverConf, globalConf } = domains()
      serverConf.replaceAnchor({ sourcePath: 'admin-upload', content: new Uint8Array(Buffer.from(xml, 'utf8')) })
      // The download service restarts from the new anchor; the proxy runtime follows the configuration it publishes.
      await globalConf.reloadAnchor()
      return status()
    },
    async timestampingServices() {
      return timestamping()
    },
    async selectTimestampingServices(input) {
      const value = validate(z.object({ names: z.array(z.string().trim().min(1).max(255)).max(50) }).strict(), input, 'time-stamping services')
      const approved = new Set((domains().globalConf.current()?.getTsas() ?? []).map((t) => t.name))
      const unknown = value.names.filter((n) => !approved.has(n))
      if (unknown.length > 0) {
        throw clientError('validation_failed', `Not an approved time-stamping service of this instance: ${unknown.join(', ')}`, { detail: 'names' })
      }
      // ug-ss §10.2; read by every time-stamping round, so the next one uses the new choice.
      domains().serverConf.selectTimestampingServices(value.names)
      return timestamping()
    },
  }
}

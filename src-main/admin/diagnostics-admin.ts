import { z } from 'zod'
import { formatIdPath, identifierEquals, type ClientId } from '@shared/domain/identifiers'
import {
  PROBE_KINDS,
  type DiagnosticCheck, type DiagnosticCode, type DiagnosticKey, type Diagnostics, type DiagnosticsApi, type GlobalConfApi, type GlobalConfStatus,
  type HealthCheckStatus, type PeerTestMethod, type ProbeKind, type ProbeReport, type ProbeResult, type SettingsApi, type StatusLight, type SystemApi,
  type TimestampingStatus,
} from '@shared/admin-api/admin-api'
import { scrubLogLine, writeBundleZip, type BundleEntry } from '../diagnostics'
import { clientError, recentLogs, type Clock } from '../platform'
import { validate } from './admin-validation'
import { parseClientRef, type DomainsOf } from './domain-support'
import { formatSeconds } from './global-conf-admin'
import { tokenState } from './keys-admin'
import { timestampingStatus } from './message-log-admin'

/**
 * Diagnostics (X-Road UG-SS §14, done in plain words): global configuration freshness, token states,
 * certificate expiry countdowns with OCSP status, time-stamping (backlog, time left before traffic stops) and message rates from operational monitoring.
 * Each check carries a code and its parameters for the GUI to word in the reader's language; `explanation` is English.
 */
const DAY_MS = 86_400_000
/** Days before expiry when a certificate turns yellow (renew now) and red (traffic stops soon). */
export const CERT_WARN_DAYS = 30
export const CERT_ALARM_DAYS = 7

export function certificateLight(state: string, daysLeft: number, ocsp: string): StatusLight {
  if (state === 'revoked' || state === 'expired' || ocsp === 'revoked') return 'red'
  if (state !== 'active') return 'gray'
  if (daysLeft < CERT_ALARM_DAYS) return 'red'
  if (daysLeft < CERT_WARN_DAYS || ocsp !== 'good') return 'yellow'
  return 'green'
}

/** Bucket width for a window: about 30 points. */
export function bucketFor(windowMinutes: number): number {
  return Math.max(60, Math.ceil((windowMinutes * 60) / 30 / 60) * 60)
}

type Params = DiagnosticCheck['params']

const LABELS: Record<DiagnosticKey, string> = {
  'global-conf': 'Global configuration', tokens: 'Tokens', certificates: 'Certificates', timestamping: 'Time-stamping', traffic: 'Message exchange',
}

function check(key: DiagnosticKey, light: StatusLight, code: DiagnosticCode, params: Params, explanation: string): DiagnosticCheck {
  return { key, label: LABELS[key], light, code, params, explanation }
}

/** The code of global-conf-admin `describeFreshness`'s verdict: the same cases in the same order. */
export function freshnessCode(s: Pick<GlobalConfStatus, 'anchorImported' | 'available' | 'expired' | 'lastError' | 'expiresInSeconds' | 'ageSeconds' | 'light'>): { code: DiagnosticCode; params: Params } {
  const error = s.lastError ?? ''
  if (!s.anchorImported) return { code: 'global-conf-no-anchor', params: {} }
  if (!s.available) return { code: 'global-conf-not-downloaded', params: { error } }
  if (s.expired) return { code: 'global-conf-expired', params: {} }
  if (s.lastError !== null) return { code: 'global-conf-download-failed', params: { error, expiresInSeconds: s.expiresInSeconds ?? 0 } }
  if (s.light === 'yellow') return { code: 'global-conf-expires-soon', params: { expiresInSeconds: s.expiresInSeconds ?? 0 } }
  return { code: 'global-conf-up-to-date', params: s.ageSeconds === null ? {} : { ageSeconds: s.ageSeconds } }
}

/** The code of message-log-admin `timestampingStatus`'s verdict, which its light tells apart. */
export function timestampingCode(s: TimestampingStatus): { code: DiagnosticCode; params: Params } {
  const waiting = { backlog: s.backlog, backlogCapped: s.backlogCapped }
  const left: Params = s.secondsLeft === null ? {} : { secondsLeft: s.secondsLeft }
  const last: Params = s.lastSuccessAt === null ? {} : { lastSuccessAt: s.lastSuccessAt }
  if (!s.acceptingMessages) return { code: 'timestamping-stopped', params: { ...waiting, periodSeconds: s.failurePeriodSeconds, error: s.lastError ?? '' } }
  if (s.light === 'yellow') return { code: 'timestamping-failing', params: { ...waiting, ...left, ...last, error: s.lastError ?? '' } }
  if (s.light === 'gray') return { code: 'timestamping-idle', params: {} }
  return { code: 'timestamping-ok', params: { ...waiting, ...(s.backlog === 0 ? {} : left), ...last } }
}

/** What the probes and the health check need from the running server (the composition root's runtime). */
export interface DiagnosticsHooks {
  probe(request: { kinds: readonly ProbeKind[]; peer?: { client: ClientId; provider: ClientId; method: PeerTestMethod } }): Promise<ProbeReport>
  health(): Promise<HealthCheckStatus>
  setMaintenanceMode(enabled: boolean): void
}

export interface DiagnosticsAdminDeps {
  domains: DomainsOf
  globalConf: GlobalConfApi
  clock: Clock
  /** The other groups the bundle reports (status, settings); absent in admin-only runtimes. */
  system?: SystemApi
  settings?: SettingsApi
  /** Absent when the admin runtime runs without a security server (admin-only tests): probes are then unsupported. */
  hooks?: DiagnosticsHooks
}

const METHODS: readonly PeerTestMethod[] = ['listMethods', 'allowedMethods']
const probeSchema = z.object({
  kinds: z.array(z.enum(PROBE_KINDS as [ProbeKind, ...ProbeKind[]])).max(PROBE_KINDS.length).optional(),
  peer: z.object({ client: z.string(), provider: z.string(), method: z.enum(METHODS as [PeerTestMethod, ...PeerTestMethod[]]) }).strict().optional(),
}).strict()

export function createDiagnosticsAdmin(deps: DiagnosticsAdminDeps): DiagnosticsApi {
  const { domains, globalConf, clock } = deps
  /** The last test call, kept for the bundle (a bundle runs every probe but the test call, which needs a chosen peer). */
  let lastPeer: ProbeResult | undefined
  const hooks = (): DiagnosticsHooks => {
    if (deps.hooks === undefined) throw clientError('unsupported', 'This admin runtime has no running security server to probe')
    return deps.hooks
  }
  const providers = (): Array<{ id: ClientId; name: string }> => {
    const conf = domains().globalConf.current()
    if (conf === undefined) return []
    return conf.own.shared.members.flatMap((m) => m.subsystems.map((sub) => ({ id: sub.id, name: m.name })))
      .filter((p) => conf.getSecurityServers(p.id).some((s) => s.address !== undefined))
  }

  const api: DiagnosticsApi = {
    async run(input) {
      const value = validate(z.object({ windowMinutes: z.number().int().min(1).max(1440).optional() }).strict(), input ?? {}, 'diagnostics')
      const { signer, opMonitor } = domains()
      const now = clock.now()
      const checks: DiagnosticCheck[] = []
      const conf = await globalConf.status()
      const freshness = freshnessCode(conf)
      checks.push(check('global-conf', conf.light, freshness.code, freshness.params, conf.explanation))

      const tokens = (await signer.listTokens()).map((t) => ({ id: t.id, label: t.label || (t.kind === 'software' ? 'Software token' : t.id), state: tokenState(t) }))
      const unreachable = tokens.filter((t) => t.state === 'locked' || t.state === 'not-available')
      const loggedOut = tokens.filter((t) => t.state !== 'logged-in')
      const names = (list: typeof tokens): string => list.map((t) => t.label).join(', ')
      if (tokens.length === 0) {
        checks.push(check('tokens', 'gray', 'tokens-none', {}, 'No token is configured. Create the software token in the first-run wizard or add a hardware token.'))
      } else if (unreachable.length > 0) {
        checks.push(check('tokens', 'red', 'tokens-unavailable', { tokens: names(unreachable), count: unreachable.length },
          'A token is locked or cannot be reached. Messages signed with its keys fail until it is back; check the device and its PIN.'))
      } else if (loggedOut.length > 0) {
        checks.push(check('tokens', 'yellow', 'tokens-logged-out', { tokens: names(loggedOut), count: loggedOut.length },
          'A token is logged out: log in with its PIN on the Keys and certificates page so messages can be signed.'))
      } else {
        checks.push(check('tokens', 'green', 'tokens-logged-in', { count: tokens.length }, 'Every token is logged in, so this server can sign messages.'))
      }

      const keys = signer.listKeys()
      const certificates = signer.listCertificates().map((c) => {
        const daysLeft = Math.floor((new Date(c.notAfter).getTime() - now.getTime()) / DAY_MS)
        const ocsp = signer.ocspStatus(c.id).status
        const usage = keys.find((k) => k.id === c.keyId)?.usage ?? null
        return { id: c.id, subject: c.subject, usage, state: c.state, daysLeft, ocsp, light: certificateLight(c.state, daysLeft, ocsp) }
      })
      const active = certificates.filter((c) => c.state === 'active')
      const worst = active.reduce<StatusLight>((acc, c) => (c.light === 'red' || acc === 'red' ? 'red' : c.light === 'yellow' || acc === 'yellow' ? 'yellow' : 'green'), 'green')
      const soonest = active.reduce((min, c) => Math.min(min, c.daysLeft), Number.POSITIVE_INFINITY)
      if (active.length === 0) {
        checks.push(check('certificates', 'gray', 'certificates-none', {},
          'No certificate is active yet. Generate a key and a CSR, have the CA sign it, then import and activate the certificate.'))
      } else if (worst === 'green') {
        checks.push(check('certificates', 'green', 'certificates-ok', { daysLeft: soonest, count: active.length },
          `All active certificates are valid with good OCSP status; the first expires in ${soonest} days.`))
      } else {
        checks.push(check('certificates', worst, 'certificates-attention', { daysLeft: soonest, count: active.length },
          `An active certificate needs attention: the first expires in ${soonest} days, or its OCSP status is not good. Renew it or check the OCSP responder.`))
      }

      const stamping = timestampingStatus(domains().messageLog, now)
      const stampingCode = timestampingCode(stamping)
      checks.push(check('timestamping', stamping.light, stampingCode.code, stampingCode.params, stamping.explanation))

      const windowMinutes = value.windowMinutes ?? 60
      const windowSeconds = windowMinutes * 60
      const bucketSeconds = bucketFor(windowMinutes)
      const sinceS = Math.floor(now.getTime() / 1000) - windowSeconds
      const buckets = opMonitor.traffic(sinceS, bucketSeconds)
      const points = buckets.map((b) => ({ at: new Date(b.start * 1000).toISOString(), succeeded: b.succeeded, failed: b.failed }))
      const succeeded = points.reduce((n, p) => n + p.succeeded, 0)
      const failed = points.reduce((n, p) => n + p.failed, 0)
      const failureShare = succeeded + failed === 0 ? 0 : failed / (succeeded + failed)
      if (succeeded + failed === 0) {
        checks.push(check('traffic', 'gray', 'traffic-none', { windowSeconds }, `No messages in the last ${formatSeconds(windowSeconds)}.`))
      } else {
        checks.push(check('traffic', failureShare > 0.2 ? 'red' : failureShare > 0.02 ? 'yellow' : 'green', failed > 0 ? 'traffic-failures' : 'traffic-ok',
          { succeeded, failed, count: succeeded + failed, windowSeconds },
          `${succeeded} message${succeeded === 1 ? '' : 's'} succeeded and ${failed} failed in the last ${formatSeconds(windowSeconds)}${failed > 0 ? '; see the operational monitoring data for the failures' : ''}.`))
      }
      const result: Diagnostics = { checkedAt: now.toISOString(), checks, tokens, certificates, traffic: { bucketSeconds, points, succeeded, failed } }
      return result
    },

    async probe(input) {
      const value = validate(probeSchema, input ?? {}, 'probe')
      let peer: { client: ClientId; provider: ClientId; method: PeerTestMethod } | undefined
      if (value.peer !== undefined) {
        const client = parseClientRef(value.peer.client, 'client')
        const provider = parseClientRef(value.peer.provider, 'provider')
        if (!domains().serverConf.listClients().some((c) => identifierEquals(c.id, client))) {
          throw clientError('validation_failed', `${formatIdPath(client)} is not a client of this security server`, { detail: 'client' })
        }
        peer = { client, provider, method: value.peer.method }
      }
      const kinds = value.kinds ?? (peer === undefined ? PROBE_KINDS.filter((k) => k !== 'peer') : PROBE_KINDS)
      if (kinds.includes('peer') && peer === undefined) throw clientError('validation_failed', 'Choose the client, the provider and the metaservice of the test call', { detail: 'provider' })
      const report = await hooks().probe({ kinds, ...(peer === undefined ? {} : { peer }) })
      lastPeer = report.probes.find((p) => p.kind === 'peer') ?? lastPeer
      return report
    },

    async probeTargets() {
      return {
        clients: domains().serverConf.listClients().map((c) => formatIdPath(c.id)),
        providers: providers().map((p) => ({ id: formatIdPath(p.id), name: p.name })),
        methods: [...METHODS],
      }
    },

    async health() {
      return hooks().health()
    },

    async setMaintenanceMode(input) {
      const { enabled } = validate(z.object({ enabled: z.boolean() }).strict(), input, 'maintenance mode')
      hooks().setMaintenanceMode(enabled)
      return hooks().health()
    },

    async bundle() {
      const now = clock.now()
      const json = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`
      const settled = async <T>(work: () => Promise<T>): Promise<T | { unavailable: string }> => {
        try {
          return await work()
        } catch (error) {
          return { unavailable: (error as Error).message }
        }
      }
      const probes = await settled(async () => {
        const report = await hooks().probe({ kinds: PROBE_KINDS.filter((k) => k !== 'peer') })
        return { ...report, probes: [...report.probes, ...(lastPeer === undefined ? [] : [lastPeer])] }
      })
      const identity = domains().serverConf.identity()
      const entries: BundleEntry[] = [
        { name: 'versions.json', content: json(versions(await settled(async () => (deps.system === undefined ? undefined : (await deps.system.status()).version)))) },
        { name: 'status.json', content: json(await settled(async () => (deps.system === undefined ? undefined : deps.system.status()))) },
        { name: 'diagnostics.json', content: json(await settled(() => api.run({}))) },
        { name: 'probes.json', content: json(probes) },
        { name: 'health.json', content: json(await settled(() => hooks().health())) },
        { name: 'settings.json', content: json(await settled(() => settingsSummary(deps, domains))) },
        { name: 'logs/recent.jsonl', content: recentLogs.lines().map(scrubLogLine).join('\n') + '\n' },
      ]
      const manifest = {
        generatedAt: now.toISOString(),
        server: identity === undefined ? null : formatIdPath(identity.serverId),
        entries: entries.map((e) => e.name),
        // reliability-and-security.md §2.2: what never leaves the server, here either.
        excluded: 'PINs, passwords, API keys, private keys, TLS keys and message bodies are never part of this bundle.',
      }
      const all = [{ name: 'manifest.json', content: json(manifest) }, ...entries]
      const folder = `gatehouse-diagnostics-${now.toISOString().replace(/[:.]/g, '-')}`
      const zip = await writeBundleZip(folder, all, now)
      return { fileName: `${folder}.zip`, mimeType: 'application/zip', content: zip.toString('base64'), encoding: 'base64', entries: all.map((e) => `${folder}/${e.name}`) }
    },
  }
  return api
}

function versions(gatehouse: unknown): Record<string, unknown> {
  return {
    gatehouse,
    node: process.versions.node,
    openssl: process.versions.openssl,
    sqlite: process.versions.sqlite ?? null,
    electron: process.versions.electron ?? null,
    platform: process.platform,
    arch: process.arch,
  }
}

/** Settings without secrets: system parameters, the bootstrap file's listeners, what this server is and uses. */
async function settingsSummary(deps: DiagnosticsAdminDeps, domains: DomainsOf): Promise<Record<string, unknown>> {
  const { serverConf, signer } = domains()
  const identity = serverConf.identity()
  const bootstrap = deps.settings === undefined ? null : await deps.settings.bootstrap().catch(() => null)
  return {
    systemParameters: deps.settings === undefined ? null : (await deps.settings.list()).map((s) => ({ name: s.name, value: s.value, isDefault: s.isDefault })),
    bootstrap: bootstrap === null ? null : { file: bootstrap.file, running: bootstrap.running, pendingRestart: bootstrap.pendingRestart },
    identity: identity === undefined ? null : { owner: formatIdPath(identity.owner), serverId: formatIdPath(identity.serverId) },
    globalConf: await deps.globalConf.status(),
    timestampingServices: await deps.globalConf.timestampingServices(),
    clients: serverConf.listClients().map((c) => ({ id: formatIdPath(c.id), state: c.state, isAuthentication: c.isAuthentication })),
    tokens: (await signer.listTokens()).map((t) => ({ id: t.id, kind: t.kind, label: t.label, state: tokenState(t) })),
    keys: signer.listKeys().map((k) => ({ id: k.id, tokenId: k.tokenId, usage: k.usage, label: k.label })),
    certificates: signer.listCertificates().map((c) => ({ id: c.id, keyId: c.keyId, subject: c.subject, state: c.state, notAfter: c.notAfter, ocsp: signer.ocspStatus(c.id).status })),
  }
}

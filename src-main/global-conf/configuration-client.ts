import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { posix } from 'node:path'
import { SecurityServerError, logFailure, silentLogger, systemClock, type Clock, type Logger } from '../platform'
import type { GlobalConfSnapshot, SharedParameters } from './conf-model'
import type { ParsedAnchor } from './anchor'
import { GlobalConf } from './global-conf'
import { INSTANCE_IDENTIFIER_FILE } from './configuration-directory'
import { parsePrivateParameters } from './private-parameters-parser'
import {
  checkPartHash, partHashMatches, verifySignedDirectory, type ContentPart, type VerifiedDirectory,
} from './signed-directory'
import { commitGeneration, readCurrentFile, readStoredConfiguration, type StoredFile } from './configuration-store'

/**
 * Downloads global configuration (PR-GCONF §2.6–2.7; xroad-protocols.md §5.2): probes `?version=6…3` then 2,
 * verifies the signed directory, fetches only parts whose hash changed, follows federation as allowed and
 * stores the result atomically. Keeps the last good configuration when anything fails.
 */

export type AllowedFederations = 'none' | 'all' | readonly string[]

/** Newest and oldest configuration versions this client understands (shared-parameters V2–V6). */
export const MAX_CONF_VERSION = 6
export const MIN_CONF_VERSION = 2
const MAX_DIRECTORY_BYTES = 1024 * 1024
const MAX_PART_BYTES = 50 * 1024 * 1024
const DEFAULT_TIMEOUT_MS = 30_000

interface HttpResult {
  status: number
  body: Buffer
}

/** One GET with a timeout and a size bound; redirects are not followed (the CS serves static files). */
export function httpGet(url: string, options: { timeoutMs?: number; maxBytes?: number } = {}): Promise<HttpResult> {
  const maxBytes = options.maxBytes ?? MAX_PART_BYTES
  return new Promise((resolvePromise, reject) => {
    let parsed: URL
    try {
      parsed = new URL(url)
    } catch (cause) {
      reject(new SecurityServerError('network_error', `Invalid configuration URL ${url}`, { cause }))
      return
    }
    const requester = parsed.protocol === 'https:' ? httpsRequest : parsed.protocol === 'http:' ? httpRequest : undefined
    if (requester === undefined) {
      reject(new SecurityServerError('network_error', `Unsupported protocol in configuration URL ${url}`))
      return
    }
    const req = requester(parsed, { method: 'GET', timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS }, (res) => {
      const chunks: Buffer[] = []
      let size = 0
      res.on('data', (chunk: Buffer) => {
        size += chunk.length
        if (size > maxBytes) {
          req.destroy(new SecurityServerError('network_error', `Response from ${url} is larger than ${maxBytes} bytes`))
          return
        }
        chunks.push(chunk)
      })
      res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }))
      res.on('error', reject)
    })
    req.on('timeout', () => req.destroy(new SecurityServerError('network_error', `Timed out fetching ${url}`)))
    req.on('error', (cause) => reject(cause instanceof SecurityServerError
      ? cause
      : new SecurityServerError('network_error', `Cannot fetch ${url}: ${cause.message}`, { cause })))
    req.end()
  })
}

export interface DownloadedDirectory {
  readonly url: string
  readonly version: number
  readonly body: Buffer
}

function withVersion(url: string, version: number): string {
  const u = new URL(url)
  u.searchParams.set('version', String(version))
  return u.toString()
}

/**
 * Fetches the directory from `downloadUrl`, probing versions newest first: 404 means "try the next older"
 * (xroad-protocols.md §5.2, X-Road's `LocationVersionResolver`). A `version` already in the URL is respected.
 */
export async function fetchDirectory(downloadUrl: string, timeoutMs?: number): Promise<DownloadedDirectory> {
  const explicit = new URL(downloadUrl).searchParams.get('version')
  const versions = explicit !== null ? [Number(explicit)] : [6, 5, 4, 3, 2].filter((v) => v <= MAX_CONF_VERSION && v >= MIN_CONF_VERSION)
  for (const version of versions) {
    const url = explicit !== null ? downloadUrl : withVersion(downloadUrl, version)
    const res = await httpGet(url, { maxBytes: MAX_DIRECTORY_BYTES, ...(timeoutMs ? { timeoutMs } : {}) })
    if (res.status === 404) continue
    if (res.status !== 200) throw new SecurityServerError('http_error', `GET ${url} answered HTTP ${res.status}`)
    return { url, version, body: res.body }
  }
  throw new SecurityServerError('http_error', `No configuration version ${MIN_CONF_VERSION}–${MAX_CONF_VERSION} is available at ${downloadUrl}`)
}

/** Where X-Road stores each part (ConfigurationConstants file names); unknown parts keep their file name. */
export function storedFileName(part: ContentPart): string {
  switch (part.contentIdentifier) {
    case 'SHARED-PARAMETERS': return 'shared-params.xml'
    case 'PRIVATE-PARAMETERS': return 'private-params.xml'
    case 'MONITORING': return 'monitoring-params.xml'
    case 'FETCHINTERVAL': return 'fetchinterval-params.xml'
    case 'NEXTUPDATE': return 'nextupdate-params.xml'
    default: {
      const name = posix.basename(part.contentLocation)
      if (name === '' || name === '.' || name === '..' || name.endsWith('.metadata')) {
        throw new SecurityServerError('malformed_global_conf', `Unusable Content-location ${part.contentLocation}`)
      }
      return name
    }
  }
}

/** A location to download a configuration directory from, with the certificates its signature may verify with. */
export interface DownloadCandidate {
  readonly downloadUrl: string
  readonly verificationCerts: readonly Uint8Array[]
}
type Candidate = DownloadCandidate

/** Fisher–Yates over a copy. */
export function shuffled<T>(items: readonly T[], random: () => number = Math.random): T[] {
  const out = [...items]
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[out[i], out[j]] = [out[j] as T, out[i] as T]
  }
  return out
}

/**
 * X-Road `ConfigurationDownloadUtils.shuffleLocationsPreferHttps`: every `http://` location is tried as `https://`
 * first; the HTTPS locations, shuffled, come before the HTTP ones, shuffled. A location given as `https://` is kept
 * (X-Road drops it unless an `http://` twin brings it back: docs/xroad-differences.md "Configuration download sources").
 */
function preferHttps(candidates: readonly Candidate[], shuffle: <T>(items: readonly T[]) => T[]): Candidate[] {
  const https: Candidate[] = []
  const http: Candidate[] = []
  for (const c of candidates) {
    if (c.downloadUrl.startsWith('http://')) {
      https.push({ ...c, downloadUrl: `https://${c.downloadUrl.slice('http://'.length)}` })
      http.push(c)
    } else if (c.downloadUrl.startsWith('https://')) {
      https.push(c)
    } else {
      http.push(c)
    }
  }
  return [...shuffle(https), ...shuffle(http)]
}

/**
 * The order X-Road's `ConfigurationDownloader.download` tries locations in: the sources the instance's stored shared
 * parameters list, then the anchor's, each group HTTPS first and shuffled (high availability), one entry per URL (a
 * URL in both keeps its first place and may verify with either's certificates), and the location the last download
 * succeeded from moved to the front.
 */
export function orderDownloadCandidates(
  fromSharedParameters: readonly Candidate[],
  fromAnchor: readonly Candidate[],
  lastSuccessful: string | undefined,
  shuffle: <T>(items: readonly T[]) => T[] = (items) => shuffled(items),
): Candidate[] {
  const byUrl = new Map<string, Candidate>()
  for (const c of [...preferHttps(fromSharedParameters, shuffle), ...preferHttps(fromAnchor, shuffle)]) {
    const seen = byUrl.get(c.downloadUrl)
    byUrl.set(c.downloadUrl, seen === undefined ? c : { ...seen, verificationCerts: [...seen.verificationCerts, ...c.verificationCerts] })
  }
  const ordered = [...byUrl.values()]
  const sticky = ordered.findIndex((c) => c.downloadUrl === lastSuccessful)
  return sticky <= 0 ? ordered : [ordered[sticky] as Candidate, ...ordered.slice(0, sticky), ...ordered.slice(sticky + 1)]
}

interface FetchedConfiguration {
  /** The candidate's location (without `?version=`), remembered for the next download. */
  readonly location: string
  readonly source: string
  readonly directory: VerifiedDirectory
  readonly files: StoredFile[]
}

export interface ConfigurationDownloadOptions {
  readonly root: string
  readonly clock: Clock
  readonly timeoutMs?: number
}

/** Verifies and fetches the parts of one directory; unchanged parts are taken from the current generation. */
async function fetchConfiguration(
  candidates: readonly Candidate[],
  defaultInstance: string,
  options: ConfigurationDownloadOptions,
  onlySharedOf?: string,
): Promise<FetchedConfiguration> {
  const errors: unknown[] = []
  for (const candidate of candidates) {
    try {
      const fetched = await fetchDirectory(candidate.downloadUrl, options.timeoutMs)
      const directory = verifySignedDirectory(fetched.body, { verificationCerts: candidate.verificationCerts, now: options.clock.now() })
      const files: StoredFile[] = []
      for (const part of directory.parts) {
        const instance = part.instance ?? defaultInstance
        // Federation: from a partner's externalconf only its own shared parameters are taken (PR-GCONF §2.1).
        if (onlySharedOf !== undefined && (part.contentIdentifier !== 'SHARED-PARAMETERS' || instance !== onlySharedOf)) continue
        const path = `${instance}/${storedFileName(part)}`
        const existing = readCurrentFile(options.root, path)
        // Only parts whose hash changed are downloaded again (xroad-protocols.md §5.2).
        let data = existing !== undefined && partHashMatches(part, existing) ? existing : undefined
        if (data === undefined) {
          const url = new URL(part.contentLocation, fetched.url).toString()
          const res = await httpGet(url, { maxBytes: MAX_PART_BYTES, ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}) })
          if (res.status !== 200) throw new SecurityServerError('http_error', `GET ${url} answered HTTP ${res.status}`)
          data = new Uint8Array(res.body)
          checkPartHash(part, data)
        }
        files.push({ path, data })
        const metadata = {
          contentIdentifier: part.contentIdentifier,
          instanceIdentifier: instance,
          expirationDate: directory.expiresAt.toISOString().replace(/\.\d{3}Z$/, 'Z'),
          configurationVersion: String(directory.version),
        }
        files.push({ path: `${path}.metadata`, data: new Uint8Array(Buffer.from(JSON.stringify(metadata))) })
      }
      return { location: candidate.downloadUrl, source: fetched.url, directory, files }
    } catch (error) {
      errors.push(error)
    }
  }
  // Report what the source said over "could not connect" to the fallbacks tried after it.
  const telling = errors.find((e) => !(e instanceof SecurityServerError && e.code === 'network_error')) ?? errors[0]
  throw telling ?? new SecurityServerError('network_error', 'No configuration source to download from')
}

/**
 * Locations from the instance's stored shared parameters (V3+ `source`, X-Road `SharedParametersConfigurationLocations`):
 * `{address}/{kind}` with the source's internal or external verification certificates ({@link orderDownloadCandidates}
 * tries each over HTTPS, then HTTP).
 */
function sourcesFromShared(shared: SharedParameters | undefined, kind: string): Candidate[] {
  if (shared === undefined) return []
  return shared.sources.map((s) => ({
    downloadUrl: `http://${s.address}/${kind}`,
    verificationCerts: kind === 'internalconf' ? s.internalVerificationCerts
      : kind === 'externalconf' ? s.externalVerificationCerts
        : [...s.internalVerificationCerts, ...s.externalVerificationCerts],
  }))
}

/** The last path segment of a download URL (`internalconf`, `externalconf`). */
function confKind(downloadUrl: string | undefined): string {
  if (downloadUrl === undefined) return 'internalconf'
  try {
    return posix.basename(new URL(downloadUrl).pathname) || 'internalconf'
  } catch {
    return 'internalconf'
  }
}

function isAllowed(allowed: AllowedFederations, instance: string): boolean {
  if (allowed === 'none') return false
  if (allowed === 'all') return true
  return allowed.some((a) => a.toLowerCase() === instance.toLowerCase())
}

/** X-Road `configuration-client.update-interval`'s default. */
export const DEFAULT_CONF_UPDATE_INTERVAL_SECONDS = 60

export interface GlobalConfServiceOptions {
  /** Where the configuration is stored (generations + `current` link). */
  readonly dir: string
  readonly anchor: ParsedAnchor
  readonly clock?: Clock
  readonly logger?: Logger
  readonly allowedFederations?: AllowedFederations
  /** Refresh interval in seconds (X-Road `configuration-client.update-interval`, default 60), or how to read it now. */
  readonly fetchIntervalSeconds?: number | (() => number)
  readonly timeoutMs?: number
  readonly onChange?: (conf: GlobalConf) => void
}

export interface GlobalConfService {
  start(): Promise<void>
  stop(): void
  /** One download/verify/store round; resolves with the configuration in force afterwards. */
  refresh(): Promise<GlobalConf | undefined>
  current(): GlobalConf | undefined
  onChange(listener: (conf: GlobalConf) => void): () => void
  /** The error of the last failed refresh, cleared by a successful one. */
  lastError(): unknown
  /** The fetch interval may have changed: the next download is planned again with it, counted from now. */
  intervalChanged(): void
}

export function createGlobalConfService(options: GlobalConfServiceOptions): GlobalConfService {
  const clock = options.clock ?? systemClock
  const logger = options.logger ?? silentLogger()
  const allowed = options.allowedFederations ?? 'none'
  const interval = options.fetchIntervalSeconds
  const intervalSeconds = (): number => (typeof interval === 'function' ? interval() : interval) ?? DEFAULT_CONF_UPDATE_INTERVAL_SECONDS
  const anchor = options.anchor
  const kind = confKind(anchor.sources[0]?.downloadUrl)
  const internal = kind !== 'externalconf'
  // X-Road's ConfigurationDownloader remembers, per instance, the location the last download succeeded from.
  const lastSuccessful = new Map<string, string>()
  const listeners = new Set<(conf: GlobalConf) => void>()
  if (options.onChange) listeners.add(options.onChange)

  let conf: GlobalConf | undefined
  let failure: unknown
  let failures = 0
  let timer: NodeJS.Timeout | undefined
  let running = false
  let inFlight: Promise<GlobalConf | undefined> | undefined

  const load = (): void => {
    try {
      const snapshot = readStoredConfiguration(options.dir)
      if (snapshot !== undefined) conf = new GlobalConf(snapshot)
    } catch (error) {
      logFailure(logger, error, { dir: options.dir }, 'Stored global configuration is unreadable')
    }
  }

  const publish = (snapshot: GlobalConfSnapshot): void => {
    conf = new GlobalConf(snapshot)
    for (const listener of listeners) {
      try {
        listener(conf)
      } catch (error) {
        logFailure(logger, error, {}, 'Global configuration listener failed')
      }
    }
  }

  const round = async (): Promise<GlobalConf | undefined> => {
    const dl = { root: options.dir, clock, ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}) }
    const trustedShared = conf?.getSharedParameters(anchor.instanceIdentifier)
    const rotationCerts = trustedShared?.sources.flatMap((s) => (internal ? s.internalVerificationCerts : s.externalVerificationCerts)) ?? []
    const candidates = orderDownloadCandidates(
      sourcesFromShared(trustedShared, kind),
      anchor.sources.map((s) => ({ downloadUrl: s.downloadUrl, verificationCerts: [...s.verificationCerts, ...rotationCerts] })),
      lastSuccessful.get(anchor.instanceIdentifier),
    )
    const main = await fetchConfiguration(candidates, anchor.instanceIdentifier, dl)
    lastSuccessful.set(anchor.instanceIdentifier, main.location)
    const files: StoredFile[] = [
      { path: INSTANCE_IDENTIFIER_FILE, data: new Uint8Array(Buffer.from(anchor.instanceIdentifier)) },
      ...main.files,
    ]
    const privatePart = main.files.find((f) => f.path === `${anchor.instanceIdentifier}/private-params.xml`)
    if (privatePart !== undefined && allowed !== 'none') {
      const priv = parsePrivateParameters(privatePart.data, main.directory.version)
      for (const federated of priv.configurationAnchors) {
        if (federated.instanceIdentifier === anchor.instanceIdentifier || !isAllowed(allowed, federated.instanceIdentifier)) continue
        try {
          const fedCandidates = orderDownloadCandidates(
            sourcesFromShared(conf?.getSharedParameters(federated.instanceIdentifier), confKind(federated.sources[0]?.downloadUrl)),
            federated.sources.map((s) => ({ downloadUrl: s.downloadUrl, verificationCerts: s.verificationCerts })),
            lastSuccessful.get(federated.instanceIdentifier),
          )
          const fed = await fetchConfiguration(fedCandidates, federated.instanceIdentifier, dl, federated.instanceIdentifier)
          lastSuccessful.set(federated.instanceIdentifier, fed.location)
          files.push(...fed.files)
        } catch (error) {
          // A partner's failure does not invalidate the own configuration; its last copy is kept.
          logFailure(logger, error, { instance: federated.instanceIdentifier }, 'Federated configuration download failed')
          for (const name of ['shared-params.xml', 'shared-params.xml.metadata']) {
            const path = `${federated.instanceIdentifier}/${name}`
            const old = readCurrentFile(options.dir, path)
            if (old !== undefined) files.push({ path, data: old })
          }
        }
      }
    }
    const { snapshot } = commitGeneration(options.dir, files)
    logger.info({ source: main.source, version: main.directory.version, expires: main.directory.expiresAt.toISOString() }, 'Global configuration updated')
    publish(snapshot)
    return conf
  }

  const refresh = (): Promise<GlobalConf | undefined> => {
    if (inFlight !== undefined) return inFlight
    inFlight = round().then(
      (result) => {
        failure = undefined
        failures = 0
        return result
      },
      (error: unknown) => {
        failure = error
        failures++
        logFailure(logger, error, { instance: anchor.instanceIdentifier }, 'Global configuration download failed; keeping the last good configuration')
        return conf
      },
    ).finally(() => {
      inFlight = undefined
    })
    return inFlight
  }

  const schedule = (): void => {
    if (!running) return
    // Back off after failures (doubling, at most 5 intervals), back to the normal interval after a success.
    const intervalMs = intervalSeconds() * 1000
    const delay = failures === 0 ? intervalMs : Math.min(intervalMs * 2 ** failures, intervalMs * 5)
    timer = setTimeout(() => {
      timer = undefined
      void refresh().finally(schedule)
    }, delay)
    timer.unref()
  }

  load()

  return {
    async start() {
      if (running) return
      running = true
      await refresh()
      schedule()
    },
    stop() {
      running = false
      if (timer !== undefined) clearTimeout(timer)
      timer = undefined
    },
    refresh,
    current: () => conf,
    onChange(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    lastError: () => failure,
    intervalChanged() {
      if (!running || timer === undefined) return
      clearTimeout(timer)
      timer = undefined
      schedule()
    },
  }
}

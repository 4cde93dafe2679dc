import { existsSync, readFileSync, readlinkSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { afterEach, expect, it, vi } from 'vitest'
import { memberId, securityServerId } from '@shared/domain/identifiers'
import {
  createGlobalConfService, parseConfigurationAnchor, readStoredConfiguration, verificationReason, type GlobalConf,
} from '../../src-main/global-conf'
import { ManualClock, SecurityServerError } from '../../src-main/platform'
import { describeFixtures } from '../support/describe-fixtures'
import { fixturePath, readFixture } from '../support/fixtures'
import { useTempDirs } from '../support/temp-dir'

const tempDir = useTempDirs()
const PUBLIC = fixturePath('globalconf', 'dev-signed-V3-V6', 'public')

interface FakeCentralServer {
  url: string
  requests: string[]
  /** Highest version served; newer ones answer 404 as the CS nginx does for a missing file. */
  maxVersion: number
  mode: 'ok' | 'down' | 'tamper'
  server: Server
}

const servers: Server[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))))
})

/** The production CS layout: `/internalconf?version=N` → public/V{N}/internalconf; parts under `/V{N}/…`. */
async function startCentralServer(): Promise<FakeCentralServer> {
  const state: FakeCentralServer = { url: '', requests: [], maxVersion: 6, mode: 'ok', server: undefined as unknown as Server }
  state.server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost')
    state.requests.push(`${url.pathname}${url.search}`)
    if (state.mode === 'down') {
      res.statusCode = 503
      res.end()
      return
    }
    const version = Number(url.searchParams.get('version') ?? '2')
    let file: string | undefined
    if (url.pathname === '/internalconf' || url.pathname === '/externalconf') {
      if (version <= state.maxVersion) file = join(PUBLIC, `V${version}`, url.pathname.slice(1))
    } else if (/^\/V\d\/\d+\/[a-z-]+\.xml$/.test(url.pathname)) {
      file = join(PUBLIC, url.pathname)
    }
    if (file === undefined || !existsSync(file)) {
      res.statusCode = 404
      res.end()
      return
    }
    let body = readFileSync(file)
    if (state.mode === 'tamper' && url.pathname.endsWith('shared-params.xml')) body = Buffer.from(body.toString('utf8').replace('SS0', 'SSX'))
    res.end(body)
  })
  servers.push(state.server)
  await new Promise<void>((r) => state.server.listen(0, '127.0.0.1', r))
  state.url = `http://127.0.0.1:${(state.server.address() as AddressInfo).port}`
  return state
}

function labAnchor(baseUrl: string) {
  const xml = readFixture('globalconf', 'dev-signed-V3-V6', 'anchor', 'configuration_anchor_CS_internal.xml').toString('utf8')
    .replace(/https?:\/\/cs\/internalconf/g, `${baseUrl}/internalconf`)
  return parseConfigurationAnchor(xml)
}

const SS0 = securityServerId(memberId('DEV', 'COM', '1234'), 'SS0')

describeFixtures('global configuration download client (local CS serving dev-signed-V3-V6)', () => {
  it('downloads, verifies and stores V6; re-downloads only changed parts; keeps the last good one on failure', async () => {
    const cs = await startCentralServer()
    const dir = tempDir()
    const clock = new ManualClock('2026-11-22T00:00:00Z')
    const changes: GlobalConf[] = []
    const service = createGlobalConfService({ dir, anchor: labAnchor(cs.url), clock, fetchIntervalSeconds: 60, onChange: (c) => changes.push(c) })
    expect(service.current()).toBeUndefined()

    const conf = await service.refresh()
    expect(service.lastError()).toBeUndefined()
    expect(conf?.instanceIdentifier).toBe('DEV')
    expect(conf?.getServerById(SS0)?.address).toBe('ss0')
    expect(conf?.expiresAt?.toISOString()).toBe('2035-11-11T03:07:40.000Z')
    expect(cs.requests[0]).toBe('/internalconf?version=6')
    expect(cs.requests.filter((r) => r.endsWith('.xml'))).toHaveLength(2)
    expect(changes).toHaveLength(1)
    // Stored in X-Road's layout behind the atomically switched `current` link.
    const stored = readStoredConfiguration(dir)
    expect(stored?.instances.get('DEV')?.shared.version).toBe(6)
    const meta = JSON.parse(readFileSync(join(dir, 'current', 'DEV', 'shared-params.xml.metadata'), 'utf8')) as Record<string, string>
    expect(meta).toEqual({ contentIdentifier: 'SHARED-PARAMETERS', instanceIdentifier: 'DEV', expirationDate: '2035-11-11T03:07:40Z', configurationVersion: '6' })
    const firstGeneration = readlinkSync(join(dir, 'current'))

    cs.requests.length = 0
    await service.refresh()
    expect(cs.requests).toEqual(['/internalconf?version=6'])
    expect(changes).toHaveLength(2)

    cs.mode = 'tamper'
    cs.requests.length = 0
    // A changed part is fetched only when its hash differs from the stored copy: force it by a fresh store.
    const other = createGlobalConfService({ dir: tempDir(), anchor: labAnchor(cs.url), clock })
    await other.refresh()
    expect(other.current()).toBeUndefined()
    expect(verificationReason(other.lastError())).toBe('invalid_signature_value.content_hash_mismatch')

    cs.mode = 'down'
    const generation = readlinkSync(join(dir, 'current'))
    expect(generation).not.toBe(firstGeneration)
    const kept = await service.refresh()
    expect((service.lastError() as SecurityServerError).code).toBe('http_error')
    expect(kept?.getServerById(SS0)?.serverCode).toBe('SS0')
    expect(readlinkSync(join(dir, 'current'))).toBe(generation)

    // A new service on the same directory starts from the stored configuration.
    expect(createGlobalConfService({ dir, anchor: labAnchor(cs.url), clock }).current()?.getServerById(SS0)?.serverCode).toBe('SS0')
  })

  it('probes versions 6 → 2 on 404 and refuses a directory signed with a key it does not trust', async () => {
    const cs = await startCentralServer()
    cs.maxVersion = 4
    const service = createGlobalConfService({ dir: tempDir(), anchor: labAnchor(cs.url), clock: new ManualClock('2026-11-22T00:00:00Z') })
    await service.refresh()
    expect(cs.requests.slice(0, 3)).toEqual(['/internalconf?version=6', '/internalconf?version=5', '/internalconf?version=4'])
    // V4 was signed with an older key that neither the anchor nor any trusted shared parameters list.
    expect(verificationReason(service.lastError())).toBe('cert_not_found.unknown_verification_certificate')
    expect(service.current()).toBeUndefined()
  })

  it('enforces expiry: past Expire-date the download is refused and the stored configuration is outdated', async () => {
    const cs = await startCentralServer()
    const clock = new ManualClock('2026-11-22T00:00:00Z')
    const service = createGlobalConfService({ dir: tempDir(), anchor: labAnchor(cs.url), clock })
    const conf = await service.refresh()
    expect(() => conf?.assertValid(clock.now())).not.toThrow()
    clock.set('2035-11-11T03:07:41Z')
    await service.refresh()
    expect(verificationReason(service.lastError())).toBe('global_conf_outdated')
    expect(service.current()?.isExpired(clock.now())).toBe(true)
    expect(() => service.current()?.assertValid(clock.now())).toThrow(expect.objectContaining({ code: 'global_conf_outdated' }))
  })

  it('start() downloads at once and stop() ends the refresh loop', async () => {
    const cs = await startCentralServer()
    const service = createGlobalConfService({ dir: tempDir(), anchor: labAnchor(cs.url), clock: new ManualClock('2026-11-22T00:00:00Z'), fetchIntervalSeconds: 3600 })
    const directoryDownloads = (): number => cs.requests.filter((r) => r.startsWith('/internalconf')).length
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    try {
      await service.start()
      expect(service.current()?.instanceIdentifier).toBe('DEV')
      expect(directoryDownloads()).toBe(1)
      expect(vi.getTimerCount()).toBe(1)
      // One interval later the loop downloads again (real sockets: wait on the event loop, not on a timer).
      await vi.advanceTimersByTimeAsync(3600_000)
      const deadline = Date.now() + 5000
      while ((directoryDownloads() < 2 || vi.getTimerCount() === 0) && Date.now() < deadline) await new Promise((r) => setImmediate(r))
      expect(directoryDownloads()).toBe(2)
      expect(vi.getTimerCount()).toBe(1)
      service.stop()
      expect(vi.getTimerCount()).toBe(0)
    } finally {
      service.stop()
      vi.useRealTimers()
    }
  })

  it('a changed interval (configuration-client.update-interval) plans the next download with it at once', async () => {
    const cs = await startCentralServer()
    let seconds = 3600
    const service = createGlobalConfService({
      dir: tempDir(), anchor: labAnchor(cs.url), clock: new ManualClock('2026-11-22T00:00:00Z'), fetchIntervalSeconds: () => seconds,
    })
    const directoryDownloads = (): number => cs.requests.filter((r) => r.startsWith('/internalconf')).length
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    try {
      await service.start()
      expect(directoryDownloads()).toBe(1)
      await vi.advanceTimersByTimeAsync(2000)
      expect(directoryDownloads()).toBe(1)
      seconds = 2
      service.intervalChanged()
      expect(vi.getTimerCount()).toBe(1)
      await vi.advanceTimersByTimeAsync(2000)
      const deadline = Date.now() + 5000
      while ((directoryDownloads() < 2 || vi.getTimerCount() === 0) && Date.now() < deadline) await new Promise((r) => setImmediate(r))
      expect(directoryDownloads()).toBe(2)
      // Planned again with the new interval after that download too.
      expect(vi.getTimerCount()).toBe(1)
    } finally {
      service.stop()
      vi.useRealTimers()
    }
  })
})

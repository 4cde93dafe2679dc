import { existsSync, readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { createGlobalConfService, orderDownloadCandidates, parseConfigurationAnchor, shuffled } from '../../src-main/global-conf'
import { ManualClock } from '../../src-main/platform'
import { describeFixtures } from '../support/describe-fixtures'
import { fixturePath, readFixture } from '../support/fixtures'
import { useTempDirs } from '../support/temp-dir'

/**
 * Issue 17 item 15: the order X-Road's `ConfigurationDownloader` tries configuration locations in — the stored shared
 * parameters' sources first, then the anchor's, each HTTPS first and shuffled, the last successful one first — with
 * the cases of X-Road's ConfigurationDownloaderTest.
 */
const at = (url: string) => ({ downloadUrl: url, verificationCerts: [] })
const urls = (list: ReadonlyArray<{ downloadUrl: string }>) => list.map((c) => c.downloadUrl)
const reversed = <T>(items: readonly T[]): T[] => [...items].reverse()
const unchanged = <T>(items: readonly T[]): T[] => [...items]

describe('configuration download order (X-Road ConfigurationDownloader)', () => {
  // ConfigurationDownloaderTest.getAllFailedLocationUrls
  const anchorUrls = [
    'http://www.example.com/loc1', 'http://www.example.com/loc2', 'http://www.example.com/loc3',
    'https://www.example.com/loc1', 'https://www.example.com/loc2', 'https://www.example.com/loc3',
  ]

  it('downloadConfigurationFilesInRandomOrder: HTTPS first, the same locations, in another order', () => {
    let differentOrder = false
    // Shuffling may give the original order, so several attempts, as X-Road's test does.
    for (let attempt = 0; attempt < 5 && !differentOrder; attempt++) {
      const order = urls(orderDownloadCandidates([], anchorUrls.map(at), undefined))
      expect(order[0]).toMatch(/^https:/)
      expect(order.slice(0, 3).every((u) => u.startsWith('https:'))).toBe(true)
      expect([...order].sort()).toEqual([...anchorUrls].sort())
      differentOrder = order.join() !== anchorUrls.join()
    }
    expect(differentOrder).toBe(true)
  })

  it('tries every http:// location over HTTPS first, and keeps an https://-only location', () => {
    expect(urls(orderDownloadCandidates([], [at('http://cs/internalconf')], undefined, unchanged)))
      .toEqual(['https://cs/internalconf', 'http://cs/internalconf'])
    expect(urls(orderDownloadCandidates([], [at('https://only/internalconf')], undefined, unchanged))).toEqual(['https://only/internalconf'])
  })

  it('puts the shared parameters\' sources before the anchor\'s, each group shuffled on its own', () => {
    const order = urls(orderDownloadCandidates(
      [at('http://ss-a/internalconf'), at('http://ss-b/internalconf')],
      [at('http://anchor/internalconf')],
      undefined,
      reversed,
    ))
    expect(order).toEqual([
      'https://ss-b/internalconf', 'https://ss-a/internalconf', 'http://ss-b/internalconf', 'http://ss-a/internalconf',
      'https://anchor/internalconf', 'http://anchor/internalconf',
    ])
  })

  it('lists a URL in both groups once, in its first place, verifying with either\'s certificates', () => {
    const shared = { downloadUrl: 'http://cs/internalconf', verificationCerts: [Uint8Array.of(1)] }
    const anchor = { downloadUrl: 'http://cs/internalconf', verificationCerts: [Uint8Array.of(2)] }
    const order = orderDownloadCandidates([shared], [anchor], undefined, unchanged)
    expect(urls(order)).toEqual(['https://cs/internalconf', 'http://cs/internalconf'])
    expect(order[1]?.verificationCerts).toEqual([Uint8Array.of(1), Uint8Array.of(2)])
  })

  it('rememberLastSuccessfulDownloadLocation: the location that worked last is tried first', () => {
    const order = urls(orderDownloadCandidates([at('http://ss/internalconf')], [at('http://anchor/internalconf')], 'http://anchor/internalconf', unchanged))
    expect(order).toEqual(['http://anchor/internalconf', 'https://ss/internalconf', 'http://ss/internalconf', 'https://anchor/internalconf'])
    // A location no longer listed is not tried.
    expect(urls(orderDownloadCandidates([], [at('http://a/x')], 'http://gone/x', unchanged))).toEqual(['https://a/x', 'http://a/x'])
  })

  it('shuffles every order with equal chance (Fisher–Yates)', () => {
    const seen = new Set<string>()
    for (let i = 0; i < 200; i++) seen.add(shuffled([1, 2, 3]).join())
    expect(seen.size).toBe(6)
  })
})

const PUBLIC = fixturePath('globalconf', 'dev-signed-V3-V6', 'public')
const servers: Server[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))))
})

/** A central server serving dev-signed-V3-V6 over HTTP; `down` answers 503. */
async function centralServer(): Promise<{ url: string; requests: string[]; down: boolean }> {
  const state = { url: '', requests: [] as string[], down: false }
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost')
    state.requests.push(`${url.pathname}${url.search}`)
    const version = Number(url.searchParams.get('version') ?? '2')
    const file = url.pathname === '/internalconf' ? join(PUBLIC, `V${version}`, 'internalconf') : join(PUBLIC, url.pathname)
    if (state.down || !existsSync(file)) {
      res.statusCode = state.down ? 503 : 404
      res.end()
      return
    }
    res.end(readFileSync(file))
  })
  servers.push(server)
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return state
}

describeFixtures('configuration download sticks to the location that worked (dev-signed-V3-V6)', () => {
  const tempDir = useTempDirs()

  it('downloads from the last successful location first, and moves on when it fails', async () => {
    const a = await centralServer()
    const b = await centralServer()
    let n = 0
    const xml = readFixture('globalconf', 'dev-signed-V3-V6', 'anchor', 'configuration_anchor_CS_internal.xml').toString('utf8')
      .replace(/https?:\/\/cs\/internalconf/g, () => `${n++ === 0 ? a.url : b.url}/internalconf`)
    const service = createGlobalConfService({ dir: tempDir(), anchor: parseConfigurationAnchor(xml), clock: new ManualClock('2026-11-22T00:00:00Z') })
    expect(await service.refresh()).toBeDefined()
    const [first, second] = a.requests.length > 0 ? [a, b] : [b, a]
    expect(second.requests).toEqual([])
    for (let i = 0; i < 3; i++) {
      first.requests.length = 0
      expect(await service.refresh()).toBeDefined()
      // The directory is fetched from the remembered location at once: no other location is tried.
      expect(first.requests[0]).toMatch(/^\/internalconf\?version=6$/)
      expect(second.requests).toEqual([])
    }
    first.down = true
    await service.refresh()
    expect(service.lastError()).toBeUndefined()
    expect(second.requests.length).toBeGreaterThan(0)
    first.requests.length = 0
    second.requests.length = 0
    first.down = false
    await service.refresh()
    expect(second.requests[0]).toMatch(/^\/internalconf\?version=6$/)
    expect(first.requests).toEqual([])
  })
})

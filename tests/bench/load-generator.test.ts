import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mergeLoadResults, runLoad, type LoadResult } from '../../scripts/lib/load-generator'

function result(latenciesMs: number[], seconds: number, errors: Record<string, number> = {}): LoadResult {
  const sorted = [...latenciesMs].sort((a, b) => a - b)
  const errorCount = Object.values(errors).reduce((a, b) => a + b, 0)
  return {
    concurrency: 16, requests: sorted.length, errors: errorCount, errorStatuses: errors, seconds, requestsPerSecond: sorted.length / seconds,
    bytes: 10 * sorted.length, p50Ms: 0, p99Ms: 0, latenciesMs: sorted, ...(errorCount > 0 ? { firstError: 'HTTP 500' } : {}),
  }
}

describe('merging load windows', () => {
  it('adds requests, seconds, bytes and errors, and takes the percentiles over every latency', () => {
    const merged = mergeLoadResults([result([1, 2, 3, 4], 0.5), result([10, 20, 30, 40, 50, 60], 0.5, { 500: 2 })])
    expect(merged.requests).toBe(10)
    expect(merged.seconds).toBe(1)
    expect(merged.requestsPerSecond).toBe(10)
    expect(merged.bytes).toBe(100)
    expect(merged.errors).toBe(2)
    expect(merged.errorStatuses).toEqual({ 500: 2 })
    expect(merged.firstError).toBe('HTTP 500')
    expect(merged.latenciesMs).toEqual([1, 2, 3, 4, 10, 20, 30, 40, 50, 60])
    expect(merged.p50Ms).toBe(20)
    expect(merged.p99Ms).toBe(60)
  })

  it('refuses to merge nothing', () => {
    expect(() => mergeLoadResults([])).toThrow(/no load results/)
  })
})

describe('a load window', () => {
  let server: Server
  let url: string
  beforeAll(async () => {
    server = createServer((_req, res) => res.end('ok'))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
  })
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve))
  })

  it('keeps every measured latency, ascending, and two windows merge into their sum', async () => {
    const windows = [await runLoad({ url, concurrency: 2, durationMs: 100, warmupMs: 0 }), await runLoad({ url, concurrency: 2, durationMs: 100, warmupMs: 0 })]
    for (const w of windows) {
      expect(w.latenciesMs).toHaveLength(w.requests)
      expect(w.latenciesMs).toEqual([...w.latenciesMs].sort((a, b) => a - b))
    }
    const merged = mergeLoadResults(windows)
    expect(merged.requests).toBe(windows[0]!.requests + windows[1]!.requests)
    expect(merged.errors).toBe(0)
  })
})

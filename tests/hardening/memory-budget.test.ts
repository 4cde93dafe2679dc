import { describe, expect, it } from 'vitest'
import { memorySoakProblems, runMemorySoak, type MemorySoakResult } from '../../scripts/lib/memory-soak'

/**
 * Issue 14 §3, the suite's form of `npm run soak:memory` (which sends 16 × 60 MB with the default budget): two
 * `gatehouse serve` processes on real loopback TLS, 16 bodies of 12 MB at once from an information system to the
 * consumer's client proxy and from a registered peer (the consumer's keys) straight to the provider's server proxy,
 * against a smaller budget (16 MiB in flight). With body logging on, every body is over the message log's 10 MiB and
 * is refused before it is read; with it off, the bodies stream through, spooled. Each server's resident memory is
 * measured in its own process and must stay under 200 MB, and each answer must be a success with the body back byte
 * for byte or a clean X-Road error — never both, never a cut connection.
 */
const LIMIT_MB = 200
const MB = 1_000_000

describe('memory budget under 16 parallel large bodies (gatehouse serve processes)', () => {
  it('keeps both servers under 200 MB and answers every request cleanly, from an IS and from a registered peer', async () => {
    const result: MemorySoakResult = await runMemorySoak({
      bodyBytes: 12 * MB,
      parallel: 16,
      memoryBudget: { maxInFlightBytes: 16 * 1024 * 1024, spoolThresholdBytes: 128 * 1024 },
      deadlineMs: 120_000,
      runs: [
        { scenario: 'client', bodyLogging: true }, { scenario: 'client', bodyLogging: false },
        { scenario: 'peer', bodyLogging: true }, { scenario: 'peer', bodyLogging: false },
      ],
    })
    expect(memorySoakProblems(result, LIMIT_MB)).toEqual([])
    const [clientLogged, clientStreamed, peerLogged, peerStreamed] = result.runs
    // Logged bodies over the message log's limit: refused before they were read, the servers barely moved.
    expect(clientLogged?.errors).toEqual({ 'server.clientproxy.logging_failed': 16 })
    expect(peerLogged?.errors).toEqual({ 'server.serverproxy.logging_failed': 16 })
    for (const run of [clientLogged, peerLogged]) expect((run?.provider.peakRssMb ?? 0) - (run?.provider.idleRssMb ?? 0)).toBeLessThan(40)
    // Unlogged bodies: through and back, or refused by the budget with a clean error.
    for (const run of [clientStreamed, peerStreamed]) {
      expect(run?.succeeded).toBeGreaterThan(0)
      for (const code of Object.keys(run?.errors ?? {})) expect(code).toMatch(/\.server_busy$/)
    }
  }, 420_000)
})

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { Agent } from 'node:http'
import { formatIdPath } from '@shared/domain/identifiers'
import { buildLabPair } from '../lib/lab-pair'
import { haveBuild, startLabPair, type RunningLabPair } from '../lib/lab-pair-servers'
import { runLoad, type LoadOptions, type LoadResult } from '../lib/load-generator'
import { startTsProcess, type Started } from '../lib/processes'
import { restCall } from '../demo/rest-call'
import { makeHopCertificates } from '../lib/test-pki'

/**
 * `npm run bench [-- --json] [--duration MS] [--source]`: in one run on loopback, closed-loop load at concurrency 1
 * and 16 against (a) the sample service directly, (b) the physical floor — two bare forwarding hops with mutual
 * TLS 1.2 between them (forwarding-hop.ts) — and (c) client → Gatehouse A → Gatehouse B → service with signing,
 * verification, access check and the message log with batch time-stamping. Prints rps and p50/p99 per scenario,
 * the ratios (c)/(a) and (c)/(b), and each security server's peak RSS (VmHWM). With --json the last line is one
 * object. Every server runs in its own process; the load generator runs in this one. Bounded: < 60 s by default.
 */
const CONCURRENCIES = [1, 16] as const
type Level = `c${(typeof CONCURRENCIES)[number]}`

interface ScenarioResult {
  rps: number
  p50_ms: number
  p99_ms: number
  requests: number
  errors: number
}
type Scenario = Record<Level, ScenarioResult>

const SAMPLE_SERVICE = resolve(__dirname, '../lib/sample-service-main.ts')
const FORWARDING_HOP = resolve(__dirname, 'forwarding-hop.ts')

function usage(message: string): never {
  process.stderr.write(`bench: ${message}\nusage: bench [--json] [--duration MS per measurement (default 4000)] [--source] [--runner serve|autologin]\n`)
  process.exit(2)
}

async function measure(print: (line: string) => void, name: string, load: Omit<LoadOptions, 'concurrency' | 'durationMs'>, durationMs: number): Promise<Scenario> {
  const out = {} as Scenario
  for (const concurrency of CONCURRENCIES) {
    const r: LoadResult = await runLoad({ ...load, concurrency, durationMs, warmupMs: load.warmupMs ?? 500 })
    out[`c${concurrency}`] = { rps: r.requestsPerSecond, p50_ms: r.p50Ms, p99_ms: r.p99Ms, requests: r.requests, errors: r.errors }
    print(`  ${name.padEnd(10)} c=${String(concurrency).padEnd(3)} ${r.requestsPerSecond.toFixed(0).padStart(6)} req/s   p50 ${r.p50Ms.toFixed(2).padStart(7)} ms   p99 ${r.p99Ms.toFixed(2).padStart(7)} ms   (${r.requests} requests, ${r.errors} errors)`)
  }
  return out
}

const round = (x: number, digits: number): number => Number(x.toFixed(digits))

async function main(): Promise<number> {
  let values
  try {
    ;({ values } = parseArgs({
      options: { json: { type: 'boolean', default: false }, duration: { type: 'string', default: '4000' }, source: { type: 'boolean', default: false },
        runner: { type: 'string', default: 'autologin' },
      },
    }))
  } catch (error) {
    usage((error as Error).message)
  }
  const durationMs = Number(values.duration)
  if (!Number.isInteger(durationMs) || durationMs < 200 || durationMs > 60_000) usage('--duration must be 200..60000 ms')
  if (values.runner !== 'serve' && values.runner !== 'autologin') usage('--runner must be serve or autologin')
  const runner = values.runner
  const useBuild = !values.source && haveBuild()
  const print = (line: string): void => void process.stdout.write(`${line}\n`)
  const t0 = Date.now()
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'))
  const processes: Array<Started<unknown>> = []
  let pair: RunningLabPair | undefined
  const problems: string[] = []
  try {
    print(`Gatehouse benchmark: ${durationMs} ms per measurement, concurrency ${CONCURRENCIES.join(' and ')}, servers from ${useBuild ? 'the build (out/main/cli.js)' : 'the TypeScript sources (tsx; no up-to-date build)'}`)
    const service = await startTsProcess<{ url: string }>(SAMPLE_SERVICE, ['0'])
    processes.push(service)
    const path = '/pets/1'

    print('(a) direct: client → sample service')
    const direct = await measure(print, 'direct', { url: `${service.ready.url}${path}` }, durationMs)

    print('(b) floor: client → hop → mutual TLS 1.2 → hop → sample service (no security work)')
    const certs = makeHopCertificates(join(dir, 'hops'))
    const exit = await startTsProcess<{ port: number }>(FORWARDING_HOP, ['exit', service.ready.url, certs])
    processes.push(exit)
    const entry = await startTsProcess<{ port: number }>(FORWARDING_HOP, ['entry', `https://127.0.0.1:${exit.ready.port}`, certs])
    processes.push(entry)
    const floor = await measure(print, 'floor', { url: `http://127.0.0.1:${entry.ready.port}${path}` }, durationMs)
    const floorRss = { entry: entry.peakRssMb(), exit: exit.peakRssMb() }
    await Promise.all([entry.stop(), exit.stop()])

    print('(c) gatehouse: client → Gatehouse A → signed, mutual TLS → Gatehouse B (access check, verification, message log) → sample service')
    const built = await buildLabPair({ serviceUrl: service.ready.url, dir: join(dir, 'pair'), logLevel: 'warn' })
    pair = await startLabPair(built, { useBuild, runner })
    const url = `${pair.consumer.clientProxyUrl}/r1/${formatIdPath(built.provider.subsystem)}/pets${path}`
    const headers = { 'X-Road-Client': formatIdPath(built.consumer.subsystem) }
    // The first exchange waits for OCSP responses of the servers' own certificates; start measuring after it.
    const readyBy = Date.now() + 20_000
    const probeAgent = new Agent({ keepAlive: false })
    for (;;) {
      const probe = await restCall(url, headers, probeAgent).catch((e: Error) => e)
      if (!(probe instanceof Error) && probe.status === 200) break
      if (Date.now() > readyBy) {
        throw new Error(`Gatehouse did not answer a signed request within 20 s: ${probe instanceof Error ? probe.message : `${probe.status} ${probe.body.slice(0, 300)}`}`)
      }
      await new Promise((r) => setTimeout(r, 250))
    }
    const gatehouse = await measure(print, 'gatehouse', { url, headers, warmupMs: 1000 }, durationMs)
    const rss = { consumer: pair.consumer.process.peakRssMb(), provider: pair.provider.process.peakRssMb() }
    await pair.stop()
    pair = undefined
    await service.stop()

    for (const [name, s] of Object.entries({ direct, floor, gatehouse })) {
      for (const level of Object.keys(s) as Level[]) if (s[level].errors > 0) problems.push(`${name} ${level}: ${s[level].errors} errors`)
    }
    const ratios = {
      throughput_vs_direct_c16: round(gatehouse.c16.rps / direct.c16.rps, 4),
      throughput_vs_floor_c16: round(gatehouse.c16.rps / floor.c16.rps, 4),
      added_p50_ms_vs_floor_c1: round(gatehouse.c1.p50_ms - floor.c1.p50_ms, 3),
    }
    print('')
    print(`Ratios: (c)/(a) throughput at c=16 ${ratios.throughput_vs_direct_c16}   (c)/(b) throughput at c=16 ${ratios.throughput_vs_floor_c16} (target ≥ 0.8)`)
    print(`        p50 added over the floor at c=1: ${ratios.added_p50_ms_vs_floor_c1} ms (target ≤ 1 ms)`)
    print(`Peak RSS (VmHWM): consumer ${rss.consumer} MB, provider ${rss.provider} MB (target ≤ 200 MB); floor hops ${floorRss.entry} / ${floorRss.exit} MB`)
    print(`Run time ${((Date.now() - t0) / 1000).toFixed(1)} s${problems.length > 0 ? `; problems: ${problems.join('; ')}` : ''}`)
    if (values.json) print(JSON.stringify({ scenarios: { direct, floor, gatehouse }, ratios, rss_mb: rss }))
    return problems.length === 0 ? 0 : 1
  } finally {
    await pair?.stop().catch(() => undefined)
    await Promise.all(processes.map((p) => p.stop().catch(() => null)))
    rmSync(dir, { recursive: true, force: true })
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`bench: ${(error as Error).stack ?? String(error)}\n`)
    process.exit(1)
  },
)

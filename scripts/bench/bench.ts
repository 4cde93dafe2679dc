import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { Agent } from 'node:http'
import { formatIdPath, serviceId, type ClientId } from '@shared/domain/identifiers'
import { silentLogger } from '../../src-main/platform'
import { createSecurityServer, loadServerConfig } from '../../src-main/server'
import { buildLabPair, type Agency, type LabPair } from '../lib/lab-pair'
import { haveBuild, startLabPair, type RunningLabPair } from '../lib/lab-pair-servers'
import { mergeLoadResults, runLoad, type LoadOptions, type LoadResult } from '../lib/load-generator'
import { GATEHOUSE_NODE_ENV, GATEHOUSE_NODE_FLAGS, startNodeProcess, startTsProcess, type StartOptions, type Started } from '../lib/processes'
import { restCall } from '../demo/rest-call'
import { makeHopCertificates } from '../lib/test-pki'
import {
  SOAP_MULTIPART_TYPE, SOAP_OPERATION, SOAP_SERVICE_VERSION, cpuMeter, durabilityFloorMs, mixedComposition, mixedRequestAt, soapRequestAt,
  type SoapTarget,
} from './bench-support'

/**
 * `npm run bench [-- --json] [--duration MS] [--settle MS] [--quick] [--source] [--runner serve|autologin]`: in one run on loopback,
 * closed-loop load against
 *   (a) the sample service directly,
 *   (b) the physical floor — two bare forwarding hops with mutual TLS 1.2 between them (forwarding-hop.ts),
 *   (c) client → Gatehouse A → Gatehouse B → service with signing, verification, access check and the message log
 *       with batch time-stamping (EC P-256 keys, the lab's default),
 * each at concurrency 1 and 16 for REST (GET /pets/1), a 1 KB SOAP envelope and a SOAP request with a 100 KB
 * attachment; X-Road's mixed-size workload at concurrency 16 through (c) and, with the same requests, through (b);
 * (c) again with every signature made by a token limited to 10 signatures/s (a bench-side wrapper around the real
 * token driver, slow-token-server.ts); (c) with the security steps as pass-throughs (the skeleton, skeleton-server.ts:
 * nothing signed, verified, logged, time-stamped or OCSP-checked) against (b) — both bench-side servers run as the
 * shipped one does (`benchServerStarter`) —; and (c) with RSA-2048 keys. Also each server's CPU time per exchange from
 * /proc/<pid>/stat over the measured window (every server and hop is its own process; the load generator runs in
 * this one, so nothing it does is counted), the durability floor (four sequential synchronous=FULL commits), and
 * each security server's peak RSS (VmHWM). With --json the last line is one object. Bounded: < 90 s by default.
 *
 * How it compares on 2 shared cores whose speed swings twofold from one second to the next: every setup settles
 * before it is measured (`--settle`, unmeasured load at c=16: V8 optimises a server's code over its first seconds of
 * traffic, and a server runs for months), and every ratio to the floor comes from windows taken side by side — each cut
 * into slices run in turn, floor and pair alternating (`measureSideBySide`).
 */
const CONCURRENCIES = [1, 16] as const
type Level = `c${(typeof CONCURRENCIES)[number]}`
/** Concurrency of the mixed workload. */
const MIXED_CONCURRENCY = 16
/** The slow token: signatures a second, and enough concurrent clients for batches to fill (a batch holds up to 256). */
const SLOW_TOKEN_SIGNATURES_PER_S = 10
const SLOW_TOKEN_CONCURRENCY = 256
/** The slow token's measured window, in measurement durations (an exchange there takes hundreds of milliseconds). */
const SLOW_TOKEN_WINDOW_FACTOR = 2

interface ScenarioResult {
  rps: number
  p50_ms: number
  p99_ms: number
  requests: number
  errors: number
}
type Scenario = Record<Level, ScenarioResult>

const SAMPLE_SERVICE = resolve(__dirname, '../lib/sample-service-main.ts')
const SOAP_SERVICE = resolve(__dirname, 'soap-service.ts')
const FORWARDING_HOP = resolve(__dirname, 'forwarding-hop.ts')
const SLOW_TOKEN_SERVER = resolve(__dirname, 'slow-token-server.ts')
const SKELETON_SERVER = resolve(__dirname, 'skeleton-server.ts')
const ROOT = resolve(__dirname, '../..')

/**
 * The bench's own servers (slow token, skeleton) run as the shipped server does, so that their memory and CPU are
 * the shipped server's: with bin/gatehouse.js's Node flags and environment, and — when the pair runs from the build — compiled into
 * out/bench with the build's own configuration (build-bench-servers.mjs) rather than through tsx's loader.
 */
type BenchServerStarter = <T>(script: string, args: string[], options: StartOptions<T>) => Promise<Started<T>>

function benchServerStarter(useBuild: boolean): BenchServerStarter {
  const shipped = <T>(options: StartOptions<T>): StartOptions<T> => ({ ...options, env: { ...GATEHOUSE_NODE_ENV, ...options.env } })
  if (!useBuild) return (script, args, options) => startTsProcess(script, args, { ...shipped(options), nodeFlags: GATEHOUSE_NODE_FLAGS })
  const built = spawnSync(process.execPath, [resolve(__dirname, 'build-bench-servers.mjs'), ROOT], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 })
  if (built.status !== 0) throw new Error(`building the bench's servers failed: ${built.stderr || built.stdout}`)
  return (script, args, options) => {
    const compiled = join(ROOT, 'out', 'bench', `${basename(script, '.ts')}.js`)
    return startNodeProcess([...GATEHOUSE_NODE_FLAGS, compiled, ...args], shipped(options), basename(script, '.ts'))
  }
}

function usage(message: string): never {
  process.stderr.write(`bench: ${message}\nusage: bench [--json] [--duration MS per measurement (default 1500)] [--settle MS before a setup's first measurement (default 5000)] [--quick] [--source] [--runner serve|autologin]\n`)
  process.exit(2)
}

const round = (x: number, digits: number): number => Number(x.toFixed(digits))

type Print = (line: string) => void
type Load = Omit<LoadOptions, 'concurrency' | 'durationMs'>

interface Timing {
  durationMs: number
  /** Unmeasured requests before each window (connections opened, caches filled). */
  warmupMs: number
  /** Unmeasured load before a setup's first window: V8 goes on optimising the servers' code for seconds of traffic. */
  settleMs: number
}

function scenarioOf(r: LoadResult): ScenarioResult {
  return { rps: r.requestsPerSecond, p50_ms: r.p50Ms, p99_ms: r.p99Ms, requests: r.requests, errors: r.errors }
}

function printResult(print: Print, name: string, r: LoadResult): void {
  const statuses = r.errors === 0 ? '' : `: ${Object.entries(r.errorStatuses).map(([status, n]) => `${n} × ${status === '0' ? 'no answer' : `HTTP ${status}`}`).join(', ')}; first: ${r.firstError?.replace(/\s+/g, ' ')}`
  print(`  ${name.padEnd(22)} c=${String(r.concurrency).padEnd(3)} ${r.requestsPerSecond.toFixed(0).padStart(6)} req/s   p50 ${r.p50Ms.toFixed(2).padStart(7)} ms   p99 ${r.p99Ms.toFixed(2).padStart(8)} ms   (${r.requests} requests, ${r.errors} errors${statuses})`)
}

/**
 * Concurrency 1 and 16; with `cpuOf`, the CPU time those processes spend during the c=16 window, per exchange.
 */
async function measure(print: Print, name: string, load: Load, timing: Timing, cpuOf?: number[]): Promise<Measured> {
  const [measured] = await measureSideBySide(print, [{ name, load, cpuOf }], timing)
  return measured as Measured
}

/** Interleaved slices each window is cut into when setups are compared (`measureSideBySide`). */
const SLICES = 3

interface Side {
  name: string
  load: Load
  /** The processes whose CPU time is counted in the side's c=16 slices. */
  cpuOf?: number[]
}
interface Measured {
  scenario: Scenario
  cpuMsPerExchange?: number
}

/**
 * Setups measured side by side at concurrency 1 and 16: each level's window is cut into SLICES slices taken in turn
 * (a, b, a, b, …) and each side's slices merged, so that a ratio between them holds on a machine whose speed moves from
 * one second to the next (these 2 shared cores swing twofold). With `cpuOf`, a side's CPU per exchange at c=16.
 */
async function measureSideBySide(print: Print, sides: Side[], timing: Timing): Promise<Measured[]> {
  const measured: Measured[] = sides.map(() => ({ scenario: {} as Scenario }))
  const slices = sides.length > 1 ? SLICES : 1
  for (const concurrency of CONCURRENCIES) {
    const meters = sides.map((side) => (side.cpuOf !== undefined && concurrency === 16 ? cpuMeter(side.cpuOf) : undefined))
    const windows: LoadResult[][] = sides.map(() => [])
    for (let slice = 0; slice < slices; slice++) {
      for (const [i, side] of sides.entries()) {
        const meter = meters[i]
        windows[i]!.push(await runLoad({
          warmupMs: timing.warmupMs / slices, ...side.load, concurrency, durationMs: timing.durationMs / slices, onWindowStart: meter?.start, onWindowEnd: meter?.stop,
        }))
      }
    }
    for (const [i, side] of sides.entries()) {
      const r = mergeLoadResults(windows[i]!)
      measured[i]!.scenario[`c${concurrency}`] = scenarioOf(r)
      const meter = meters[i]
      if (meter !== undefined && r.requests > 0) measured[i]!.cpuMsPerExchange = round(meter.ms() / r.requests, 3)
      printResult(print, side.name, r)
    }
  }
  return measured
}

/**
 * Unmeasured load at c=16 before a setup's first window, shared out over its loads: the first exchanges open
 * connections, and V8 goes on optimising a server's code for seconds of traffic (CPU per exchange falls by a fifth
 * over the first ten seconds at c=16; `profile-pair --warmup`). A long-running server is measured, not its first seconds.
 */
async function settle(loads: Array<[Load, number]>, ms: number): Promise<void> {
  for (const [load, share] of loads) await runLoad({ ...load, concurrency: 16, durationMs: Math.max(100, share * ms), warmupMs: 0 })
}

function pidOf(p: Started<unknown>): number {
  if (p.child.pid === undefined) throw new Error('a benchmark process has no pid')
  return p.child.pid
}

function ratiosOf(through: Scenario, floor: Scenario): { throughput_vs_floor_c16: number; added_p50_ms_vs_floor_c1: number } {
  return {
    throughput_vs_floor_c16: round(through.c16.rps / floor.c16.rps, 4),
    added_p50_ms_vs_floor_c1: round(through.c1.p50_ms - floor.c1.p50_ms, 3),
  }
}

/**
 * The SOAP service behind the provider, put in through the composition root over its data directory before the
 * servers start (as buildLabPair puts in the REST service): a WSDL description with the bench's operation, enabled,
 * and the consumer's access right to it.
 */
async function addSoapService(provider: Agency, consumer: ClientId, url: string): Promise<void> {
  const server = createSecurityServer({ dataDir: provider.dataDir, config: loadServerConfig(provider.dataDir), logger: silentLogger() })
  try {
    const conf = server.core.serverConf
    const description = conf.addWsdlDescription(provider.subsystem, 'http://127.0.0.1:1/gatehouse-bench.wsdl', [
      { code: SOAP_OPERATION, version: SOAP_SERVICE_VERSION, url },
    ])
    conf.setServiceDescriptionEnabled(description.id, true)
    conf.grantAccess(serviceId(provider.subsystem, SOAP_OPERATION, SOAP_SERVICE_VERSION), consumer)
  } finally {
    await server.stop()
  }
}

function soapTarget(pair: LabPair): SoapTarget {
  const part = (c: ClientId): SoapTarget['client'] => ({ instance: c.xRoadInstance, memberClass: c.memberClass, memberCode: c.memberCode, subsystemCode: c.objectType === 'SUBSYSTEM' ? c.subsystemCode : '' })
  return { client: part(pair.consumer.subsystem), service: part(pair.provider.subsystem) }
}

/** The SOAP loads: a 1 KB envelope, and a 1 KB envelope with a 100 KB attachment (SwA). */
function soapLoads(url: string, target: SoapTarget, run: string): { envelope: Load; attachment: Load } {
  return {
    envelope: { url, method: 'POST', headers: { 'Content-Type': 'text/xml; charset=UTF-8' }, requestAt: soapRequestAt(target, `${run}e`, { envelopeBytes: 1024 }) },
    attachment: {
      url, method: 'POST', headers: { 'Content-Type': SOAP_MULTIPART_TYPE },
      requestAt: soapRequestAt(target, `${run}a`, { envelopeBytes: 1024, attachmentBytes: 100 * 1024 }),
    },
  }
}

/** Waits for the first answer of a load's first request that is a 200 and no SOAP fault (the pair's OCSP, configuration). */
async function firstAnswer(load: Load, within: number): Promise<void> {
  const deadline = Date.now() + within
  const body = load.requestAt?.(0).body ?? load.body
  for (;;) {
    const res = await fetch(load.url, { method: load.method ?? 'GET', headers: load.headers, ...(body === undefined ? {} : { body }) })
      .then(async (r) => ({ status: r.status, text: await r.text() }), (e: Error) => e)
    if (!(res instanceof Error) && res.status === 200 && !res.text.includes('<faultcode>')) return
    if (Date.now() > deadline) {
      throw new Error(`no answer from ${load.url} within ${within / 1000} s: ${res instanceof Error ? res.message : `${res.status} ${res.text.slice(0, 300)}`}`)
    }
    await new Promise((r) => setTimeout(r, 250))
  }
}

async function waitForRest(url: string, headers: Record<string, string>): Promise<void> {
  // The first exchange waits for OCSP responses of the servers' own certificates; start measuring after it.
  const readyBy = Date.now() + 30_000
  const probeAgent = new Agent({ keepAlive: false })
  for (;;) {
    const probe = await restCall(url, headers, probeAgent).catch((e: Error) => e)
    if (!(probe instanceof Error) && probe.status === 200) return
    if (Date.now() > readyBy) {
      throw new Error(`Gatehouse did not answer a signed request within 30 s: ${probe instanceof Error ? probe.message : `${probe.status} ${probe.body.slice(0, 300)}`}`)
    }
    await new Promise((r) => setTimeout(r, 250))
  }
}

interface PairRun {
  built: LabPair
  running: RunningLabPair
  restUrl: string
  headers: Record<string, string>
}

async function startPair(dir: string, serviceUrl: string, soapUrl: string, keyAlgorithm: 'ec-p256' | 'rsa-2048', useBuild: boolean, runner: 'serve' | 'autologin'): Promise<PairRun> {
  const built = await buildLabPair({ serviceUrl, dir, logLevel: 'warn', keyAlgorithm })
  await addSoapService(built.provider, built.consumer.subsystem, soapUrl)
  const running = await startLabPair(built, { useBuild, runner, timeoutMs: 90_000 })
  const restUrl = `${running.consumer.clientProxyUrl}/r1/${formatIdPath(built.provider.subsystem)}/pets`
  const headers = { 'X-Road-Client': formatIdPath(built.consumer.subsystem) }
  try {
    await waitForRest(`${restUrl}/pets/1`, headers)
  } catch (error) {
    await running.stop()
    throw error
  }
  return { built, running, restUrl, headers }
}

/** The slow-token server's last words on stderr: its token's signatures and the batch signer's counts. */
function tokenReport(server: Started<unknown>): { signatures: number; messages: number; largest_batch: number } | null {
  const line = server.stderrTail().split('\n').reverse().find((l) => l.startsWith('{"tokenSignatures"'))
  if (line === undefined) return null
  const report = JSON.parse(line) as { tokenSignatures: number; batch: { signatures: number; messages: number; largestBatch: number } }
  return { signatures: report.tokenSignatures, messages: report.batch.messages, largest_batch: report.batch.largestBatch }
}

const serverPids = (running: RunningLabPair): number[] => [pidOf(running.consumer.process), pidOf(running.provider.process)]
const pairRss = (running: RunningLabPair): { consumer: number; provider: number } =>
  ({ consumer: running.consumer.process.peakRssMb(), provider: running.provider.process.peakRssMb() })

async function main(): Promise<number> {
  let values
  try {
    ;({ values } = parseArgs({
      options: {
        json: { type: 'boolean', default: false }, duration: { type: 'string' }, quick: { type: 'boolean', default: false },
        source: { type: 'boolean', default: false }, runner: { type: 'string', default: 'autologin' }, settle: { type: 'string' },
      },
    }))
  } catch (error) {
    usage((error as Error).message)
  }
  const durationMs = Number(values.duration ?? (values.quick ? '300' : '1500'))
  if (!Number.isInteger(durationMs) || durationMs < 200 || durationMs > 60_000) usage('--duration must be 200..60000 ms')
  if (values.runner !== 'serve' && values.runner !== 'autologin') usage('--runner must be serve or autologin')
  const runner = values.runner
  const settleMs = Number(values.settle ?? (values.quick ? '500' : '5000'))
  if (!Number.isInteger(settleMs) || settleMs < 0 || settleMs > 120_000) usage('--settle must be 0..120000 ms')
  const timing: Timing = { durationMs, warmupMs: values.quick ? 100 : 300, settleMs }
  const useBuild = !values.source && haveBuild()
  const startBenchServer = benchServerStarter(useBuild)
  const print: Print = (line) => void process.stdout.write(`${line}\n`)
  const t0 = Date.now()
  const at = (): string => `[${((Date.now() - t0) / 1000).toFixed(1)} s]`
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'))
  const processes: Array<Started<unknown>> = []
  const pairs: RunningLabPair[] = []
  const problems: string[] = []
  const stopProcess = async (p: Started<unknown>): Promise<void> => {
    processes.splice(processes.indexOf(p), 1)
    await p.stop()
  }
  try {
    print(`Gatehouse benchmark: ${durationMs} ms per measurement, concurrency ${CONCURRENCIES.join(' and ')}, servers from ${useBuild ? 'the build (out/main/cli.js)' : 'the TypeScript sources (tsx; no up-to-date build)'}`)
    const durabilityFloor = round(durabilityFloorMs(dir), 3)
    print(`Durability floor: four sequential synchronous=FULL commits take ${durabilityFloor} ms on this disk`)
    const [service, soapService] = await Promise.all([SAMPLE_SERVICE, SOAP_SERVICE].map(async (script) => {
      const started = await startTsProcess<{ url: string }>(script, [])
      processes.push(started)
      return started
    })) as [Started<{ url: string }>, Started<{ url: string }>]
    const path = '/pets/1'

    print(`(a) direct: client → sample service ${at()}`)
    const direct = (await measure(print, 'direct', { url: `${service.ready.url}${path}` }, timing)).scenario

    print(`(b) floor: client → hop → mutual TLS 1.2 → hop → service (no security work) ${at()}`)
    const certs = makeHopCertificates(join(dir, 'hops'))
    // One pair of hops in front of the REST service, one in front of the SOAP service.
    const hops = async (target: string): Promise<{ entry: Started<{ port: number }>; exit: Started<{ port: number }> }> => {
      const exit = await startTsProcess<{ port: number }>(FORWARDING_HOP, ['exit', target, certs])
      processes.push(exit)
      const entry = await startTsProcess<{ port: number }>(FORWARDING_HOP, ['entry', `https://127.0.0.1:${exit.ready.port}`, certs])
      processes.push(entry)
      return { entry, exit }
    }
    const [restHops, soapHops] = await Promise.all([hops(service.ready.url), hops(new URL(soapService.ready.url).origin)])
    const floorRestSide: Side = { name: 'floor REST', load: { url: `http://127.0.0.1:${restHops.entry.ready.port}${path}` }, cpuOf: [pidOf(restHops.entry), pidOf(restHops.exit)] }
    const floorSoapUrl = `http://127.0.0.1:${soapHops.entry.ready.port}/soap`
    // The same requests the pair gets (the lab's identifiers; nothing on the floor reads them).
    const floorTarget: SoapTarget = { client: { instance: 'LAB', memberClass: 'GOV', memberCode: '1001', subsystemCode: 'consumer' }, service: { instance: 'LAB', memberClass: 'GOV', memberCode: '2002', subsystemCode: 'provider' } }
    const floorSoapLoads = soapLoads(floorSoapUrl, floorTarget, 'fl')
    await settle([[floorRestSide.load, 0.6], [floorSoapLoads.envelope, 0.25], [floorSoapLoads.attachment, 0.15]], timing.settleMs / 4)

    print(`(c) gatehouse: client → Gatehouse A → signed, mutual TLS → Gatehouse B (access check, verification, message log) → service; EC P-256 keys ${at()}`)
    const ec = await startPair(join(dir, 'pair-ec'), service.ready.url, soapService.ready.url, 'ec-p256', useBuild, runner)
    pairs.push(ec.running)
    const ecRestLoad = { url: `${ec.restUrl}${path}`, headers: ec.headers }
    const ecSoapLoads = soapLoads(`${ec.running.consumer.clientProxyUrl}/`, soapTarget(ec.built), 'gh')
    await firstAnswer(ecSoapLoads.envelope, 20_000)
    print(`  settling: ${timing.settleMs} ms of unmeasured REST and SOAP load at c=16 ${at()}`)
    await settle([[ecRestLoad, 0.6], [ecSoapLoads.envelope, 0.25], [ecSoapLoads.attachment, 0.15]], timing.settleMs)
    print(`  the floor and the pair side by side, each window in ${SLICES} slices taken in turn`)
    const [floorRest, ecRest] = await measureSideBySide(print, [floorRestSide, { name: 'gatehouse REST', load: ecRestLoad, cpuOf: serverPids(ec.running) }], timing) as [Measured, Measured]
    const floor = floorRest.scenario
    const gatehouse = ecRest.scenario
    const [floorSoapEnvelope, gatehouseSoapEnvelope] = await measureSideBySide(print, [
      { name: 'floor SOAP 1 KB', load: floorSoapLoads.envelope }, { name: 'gatehouse SOAP 1 KB', load: ecSoapLoads.envelope },
    ], timing) as [Measured, Measured]
    const [floorSoapAttachment, gatehouseSoapAttachment] = await measureSideBySide(print, [
      { name: 'floor SOAP +100 KB', load: floorSoapLoads.attachment }, { name: 'gatehouse SOAP +100 KB', load: ecSoapLoads.attachment },
    ], timing) as [Measured, Measured]
    const floorSoap = { envelope: floorSoapEnvelope.scenario, attachment: floorSoapAttachment.scenario }
    const gatehouseSoap = { envelope: gatehouseSoapEnvelope.scenario, attachment: gatehouseSoapAttachment.scenario }

    print(`Mixed sizes (30 % 2 kB, 60 % 10 kB, 9 % 100 kB, 0.9 % 2 MB, 0.1 % 10 MB; POST, echoed back) at c=${MIXED_CONCURRENCY}: the pair for ${2 * durationMs} ms, then the floor with the same requests ${at()}`)
    const mixedLoad = { method: 'POST', headers: { 'Content-Type': 'application/octet-stream' }, requestAt: mixedRequestAt(), concurrency: MIXED_CONCURRENCY, warmupMs: 0 }
    const mixedPair = await runLoad({ ...mixedLoad, url: `${ec.restUrl}/stream`, headers: { ...mixedLoad.headers, ...ec.headers }, durationMs: 2 * durationMs })
    printResult(print, 'gatehouse mixed', mixedPair)
    const mixedFloor = await runLoad({ ...mixedLoad, url: `http://127.0.0.1:${restHops.entry.ready.port}/stream`, durationMs: 10 * durationMs, maxRequests: mixedPair.requests })
    printResult(print, 'floor mixed', mixedFloor)
    const mbPerS = (r: LoadResult): number => round(r.bytes / r.seconds / 1_048_576, 2)
    const ecRss = pairRss(ec.running)
    await ec.running.stopServers()

    print(`Slow token: the same pair, every signature by a token limited to ${SLOW_TOKEN_SIGNATURES_PER_S} signatures/s (bench-side wrapper around the token driver), c=${SLOW_TOKEN_CONCURRENCY} ${at()}`)
    const slowServers = await Promise.all([ec.built.consumer, ec.built.provider].map(async (agency) => {
      const server = await startBenchServer<unknown>(SLOW_TOKEN_SERVER, [agency.dataDir, String(SLOW_TOKEN_SIGNATURES_PER_S)], {
        env: { GATEHOUSE_TOKEN_PIN: ec.built.pin }, timeoutMs: 60_000,
        isReady: (v): v is unknown => typeof v === 'object' && v !== null && (v as { ready?: unknown }).ready === true,
      })
      processes.push(server)
      return server
    }))
    await waitForRest(`${ec.restUrl}${path}`, ec.headers)
    // 256 clients starting at once open 256 connections to the consumer and through it to the provider, and the first
    // exchanges compile their code paths: that burst is one unmeasured round at full concurrency. The window then holds
    // several rounds (an exchange waits for at least two token signatures), so the figure is the steady state.
    const slowLoad = { url: `${ec.restUrl}${path}`, headers: ec.headers, concurrency: SLOW_TOKEN_CONCURRENCY, warmupMs: 0 }
    await runLoad({ ...slowLoad, durationMs: Math.max(durationMs, timing.settleMs / 2) })
    const slow = await runLoad({ ...slowLoad, durationMs: SLOW_TOKEN_WINDOW_FACTOR * durationMs })
    printResult(print, 'gatehouse slow token', slow)
    const slowRss = { consumer: slowServers[0]!.peakRssMb(), provider: slowServers[1]!.peakRssMb() }
    for (const s of slowServers) await stopProcess(s)
    const [consumerToken, providerToken] = slowServers.map(tokenReport)

    print(`Skeleton: the same pair with signing, verification, message log, time-stamping and OCSP checks as pass-throughs (bench-side, skeleton-server.ts) ${at()}`)
    const skeletonServers = await Promise.all([ec.built.consumer, ec.built.provider].map(async (agency) => {
      const server = await startBenchServer<unknown>(SKELETON_SERVER, [agency.dataDir], {
        env: { GATEHOUSE_TOKEN_PIN: ec.built.pin }, timeoutMs: 60_000,
        isReady: (v): v is unknown => typeof v === 'object' && v !== null && (v as { ready?: unknown }).ready === true,
      })
      processes.push(server)
      return server
    }))
    await waitForRest(`${ec.restUrl}${path}`, ec.headers)
    await settle([[ecRestLoad, 1]], timing.settleMs / 4)
    const [floorBesideSkeleton, skeletonRest] = await measureSideBySide(print, [floorRestSide, { name: 'skeleton REST', load: ecRestLoad, cpuOf: skeletonServers.map(pidOf) }], timing) as [Measured, Measured]
    for (const s of skeletonServers) await stopProcess(s)
    await ec.running.stop()
    pairs.splice(pairs.indexOf(ec.running), 1)
    for (const p of [soapHops.entry, soapHops.exit]) await stopProcess(p)

    print(`(c) again with RSA-2048 authentication and signing keys (a second lab) ${at()}`)
    let rsa: Record<string, unknown>
    let rsaRss = { consumer: 0, provider: 0 }
    try {
      const run = await startPair(join(dir, 'pair-rsa'), service.ready.url, soapService.ready.url, 'rsa-2048', useBuild, runner)
      pairs.push(run.running)
      const rsaRestLoad = { url: `${run.restUrl}${path}`, headers: run.headers }
      await settle([[rsaRestLoad, 1]], timing.settleMs / 2)
      const [floorBesideRsa, measured] = await measureSideBySide(print, [floorRestSide, { name: 'gatehouse REST RSA', load: rsaRestLoad, cpuOf: serverPids(run.running) }], timing) as [Measured, Measured]
      rsaRss = pairRss(run.running)
      await run.running.stop()
      pairs.splice(pairs.indexOf(run.running), 1)
      rsa = { ...measured.scenario, ...ratiosOf(measured.scenario, floorBesideRsa.scenario), cpu_ms_per_exchange: measured.cpuMsPerExchange ?? null, rss_mb: rsaRss }
    } catch (error) {
      const message = (error as Error).message
      problems.push(`RSA-2048 pair: ${message}`)
      print(`  RSA-2048 pair failed: ${message}`)
      rsa = { error: message }
    }
    await Promise.all(processes.slice().map(stopProcess))

    for (const [name, s] of Object.entries({ direct, floor, gatehouse, skeleton: skeletonRest.scenario, floor_soap_envelope: floorSoap.envelope, floor_soap_attachment: floorSoap.attachment,
      gatehouse_soap_envelope: gatehouseSoap.envelope, gatehouse_soap_attachment: gatehouseSoap.attachment })) {
      for (const level of Object.keys(s) as Level[]) if (s[level].errors > 0) problems.push(`${name} ${level}: ${s[level].errors} errors`)
    }
    for (const [name, r] of Object.entries({ mixed_gatehouse: mixedPair, mixed_floor: mixedFloor, slow_token: slow })) if (r.errors > 0) problems.push(`${name}: ${r.errors} errors`)

    const ratios = {
      throughput_vs_direct_c16: round(gatehouse.c16.rps / direct.c16.rps, 4),
      ...ratiosOf(gatehouse, floor),
    }
    const rss = {
      consumer: Math.max(ecRss.consumer, slowRss.consumer, rsaRss.consumer),
      provider: Math.max(ecRss.provider, slowRss.provider, rsaRss.provider),
    }
    const cpu = { gatehouse: ecRest.cpuMsPerExchange ?? null, floor: floorRest.cpuMsPerExchange ?? null }
    const mixed = {
      ratio_vs_floor: round(mixedPair.requestsPerSecond / mixedFloor.requestsPerSecond, 4),
      concurrency: MIXED_CONCURRENCY,
      requests: mixedPair.requests,
      composition: mixedComposition(mixedPair.requests),
      gatehouse: { rps: mixedPair.requestsPerSecond, mb_per_s: mbPerS(mixedPair), p50_ms: mixedPair.p50Ms, p99_ms: mixedPair.p99Ms, errors: mixedPair.errors },
      floor: { rps: mixedFloor.requestsPerSecond, mb_per_s: mbPerS(mixedFloor), p50_ms: mixedFloor.p50Ms, p99_ms: mixedFloor.p99Ms, errors: mixedFloor.errors, requests: mixedFloor.requests },
      rss_mb: ecRss,
    }
    const skeleton = {
      ratio_vs_floor: round(skeletonRest.scenario.c16.rps / floorBesideSkeleton.scenario.c16.rps, 4), cpu_ms_per_exchange: skeletonRest.cpuMsPerExchange ?? null,
      ...skeletonRest.scenario, added_p50_ms_vs_floor_c1: ratiosOf(skeletonRest.scenario, floorBesideSkeleton.scenario).added_p50_ms_vs_floor_c1,
    }
    const slowToken = {
      msgs_per_s: slow.requestsPerSecond, token_signatures_per_s: SLOW_TOKEN_SIGNATURES_PER_S, concurrency: SLOW_TOKEN_CONCURRENCY,
      p50_ms: slow.p50Ms, p99_ms: slow.p99Ms, requests: slow.requests, errors: slow.errors,
      // Over the servers' whole life (warm-up and probes included): what each token signed, and in how many batches.
      token: { consumer: consumerToken, provider: providerToken }, rss_mb: slowRss,
    }
    const keys = {
      rsa2048: rsa,
      ecp256: { ...gatehouse, ...ratiosOf(gatehouse, floor), cpu_ms_per_exchange: cpu.gatehouse, rss_mb: ecRss },
    }
    const soap = {
      envelope_1kb: { floor: floorSoap.envelope, gatehouse: gatehouseSoap.envelope, ...ratiosOf(gatehouseSoap.envelope, floorSoap.envelope) },
      attachment_100kb: { floor: floorSoap.attachment, gatehouse: gatehouseSoap.attachment, ...ratiosOf(gatehouseSoap.attachment, floorSoap.attachment) },
    }
    print('')
    print(`Ratios: (c)/(a) throughput at c=16 ${ratios.throughput_vs_direct_c16}   (c)/(b) throughput at c=16 ${ratios.throughput_vs_floor_c16} (target ≥ 0.25)`)
    print(`        p50 added over the floor at c=1: ${ratios.added_p50_ms_vs_floor_c1} ms (target ≤ 2.5 ms; durability floor ${durabilityFloor} ms)`)
    print(`SOAP:   1 KB envelope ${soap.envelope_1kb.throughput_vs_floor_c16} of the floor at c=16, +${soap.envelope_1kb.added_p50_ms_vs_floor_c1} ms p50 at c=1; ` +
      `with a 100 KB attachment ${soap.attachment_100kb.throughput_vs_floor_c16}, +${soap.attachment_100kb.added_p50_ms_vs_floor_c1} ms`)
    print(`Mixed:  ${mixed.ratio_vs_floor} of the floor (${mixed.gatehouse.mb_per_s} against ${mixed.floor.mb_per_s} MB/s)`)
    print(`CPU per exchange (both servers, c=16 REST): gatehouse ${cpu.gatehouse} ms, floor ${cpu.floor} ms (target ≤ 1.2 ms)`)
    print(`Skeleton: ${skeleton.ratio_vs_floor} of the floor at c=16 (target ≥ 0.6), ${skeleton.cpu_ms_per_exchange} ms CPU per exchange, +${skeleton.added_p50_ms_vs_floor_c1} ms p50 at c=1`)
    print(`Slow token (${SLOW_TOKEN_SIGNATURES_PER_S} signatures/s): ${slowToken.msgs_per_s} messages/s (target ≥ 500)`)
    print(`Keys:   EC P-256 ${keys.ecp256.throughput_vs_floor_c16} of the floor, RSA-2048 ${'error' in rsa ? `failed: ${String(rsa.error)}` : String(rsa.throughput_vs_floor_c16)}`)
    print(`Peak RSS (VmHWM) over the run: consumer ${rss.consumer} MB, provider ${rss.provider} MB (target ≤ 200 MB)`)
    const runSeconds = round((Date.now() - t0) / 1000, 1)
    print(`Run time ${runSeconds} s${problems.length > 0 ? `; problems: ${problems.join('; ')}` : ''}`)
    if (values.json) {
      print(JSON.stringify({
        scenarios: { direct, floor, gatehouse }, ratios, rss_mb: rss,
        cpu_ms_per_exchange: cpu, durability_floor_ms: durabilityFloor, mixed, skeleton, slow_token: slowToken, keys, soap, method: { settle_ms: timing.settleMs, slices: SLICES }, run_seconds: runSeconds,
      }))
    }
    return problems.length === 0 ? 0 : 1
  } finally {
    await Promise.all(pairs.map((p) => p.stop().catch(() => undefined)))
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

import { mkdtempSync, rmSync } from 'node:fs'
import { Agent } from 'node:http'
import { randomUUID } from 'node:crypto'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { formatIdPath, type ClientId } from '@shared/domain/identifiers'
import { buildLabPair, type LabPair } from '../lib/lab-pair'
import { startAgency, startLabPair, type RunningAgency, type RunningLabPair, type ServerRunner } from '../lib/lab-pair-servers'
import { runGatehouse } from '../lib/processes'
import { checkMessageLog, type EvidenceCheck } from '../lib/evidence-check'
import { startSampleService, type SampleService } from '../lib/sample-service'
import { firstExchange, restCall, xroadError, type RestReply } from './rest-call'
import { showOpmonQuery } from './opmon-query'
import { addSoapServices, callMetaservices, sendSoap, type DemoMetaservices, type DemoSoap } from './soap-calls'

/**
 * `npm run demo`: a lab trust domain, a consumer and a provider security server with software tokens, the sample
 * REST service behind the provider, and signed REST requests through the pair — most allowed, one from a subsystem
 * without an access right, one to a service that does not exist — then both message logs verified record by record.
 */
export interface DemoOptions {
  /** Requests in total, including the denied one and the unknown-service one (at least 3). */
  requests: number
  concurrency: number
  keep: boolean
  useBuild: boolean
  /** How the servers run (see lab-pair-servers.ts). */
  runner: ServerRunner
  print: (line: string) => void
}

export interface DemoCounts {
  sent: number
  ok: number
  denied: number
  logged: number
  verified: number
}

/** What the operations features showed in the demo (issue 16). */
export interface DemoOperations {
  /** The health check answered 200, then 503 in maintenance mode, then 200 again. */
  health: boolean
  /** `/metrics` counted the demo's exchanges and passed `promtool check metrics` (where promtool is installed). */
  metrics: boolean
  /** Both servers' audit logs verify as a hash chain, with the demo's administrative changes in them. */
  auditChain: boolean
  /** The provider, backed up and restored by `gatehouse restore` into a new data directory, served an exchange. */
  backupRestore: boolean
  /**
   * The consumer's information system asked the provider's server `getSecurityServerOperationalData` (PR-OPMON) through
   * its client proxy and got its own exchanges back as gzip JSON records.
   */
  opmonQuery: boolean
}

/** How the servers and their clients joined the lab (issue 13): management requests the lab received and approved. */
export interface DemoRegistration {
  requests: number
  approved: number
  viaManagementService: boolean
}

export interface DemoResult {
  counts: DemoCounts
  registration: DemoRegistration
  operations: DemoOperations
  /** SOAP exchanges with the sample service's operation (issue 12): plain, with attachments, MTOM. */
  soap: DemoSoap
  /** Each metaservice answered as X-Road answers it (issue 12). */
  metaservices: DemoMetaservices
  failures: string[]
  timings: { setupMs: number; startMs: number; exchangeMs: number; verifyMs: number; totalMs: number }
}

const PETS_SPECIES = 'cat'

export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const { print } = options
  const t0 = Date.now()
  const failures: string[] = []
  const fail = (message: string): void => {
    failures.push(message)
    print(`  ✗ ${message}`)
  }
  const counts: DemoCounts = { sent: 0, ok: 0, denied: 0, logged: 0, verified: 0 }
  const operations: DemoOperations = { health: false, metrics: false, auditChain: false, backupRestore: false, opmonQuery: false }
  let soap: DemoSoap = { sent: 0, ok: 0, attachments: 0 }
  let metaservices: DemoMetaservices = { listClients: false, listMethods: false, allowedMethods: false, getWsdl: false, getOpenAPI: false }
  const timings = { setupMs: 0, startMs: 0, exchangeMs: 0, verifyMs: 0, totalMs: 0 }
  let service: SampleService | undefined
  let pair: LabPair | undefined
  let running: RunningLabPair | undefined
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency })
  try {
    service = await startSampleService(0)
    print(`Sample service               ${service.url}  (REST GET /pets/{id}, SOAP POST /soap with its WSDL at /soap?wsdl)`)
    pair = await buildLabPair({ serviceUrl: service.url, registration: 'management-service' })
    timings.setupMs = Date.now() - t0
    print(`Lab trust domain LAB         ${pair.labDir}`)
    print(`  CA, OCSP responder, TSA and signed global configuration on 127.0.0.1:${pair.labPorts.conf}/${pair.labPorts.ocsp}/${pair.labPorts.tsa}`)
    for (const a of [pair.consumer, pair.provider]) {
      print(`${a.name.padEnd(28)} ${formatIdPath(a.server)}  client proxy :${a.ports.clientProxyHttp}, server proxy :${a.ports.serverProxy} (mTLS)`)
    }
    print(`  software tokens with auth + sign keys, certificates issued by the lab CA (${timings.setupMs} ms)`)
    const registration = pair.registration
    if (registration === undefined) fail('the servers were not registered through management requests')
    else {
      print(`  registered through the lab's management service: ${registration.requests} management requests (authCertReg over HTTPS, ` +
        `clientReg through ${formatIdPath(pair.provider.server)} as management security server), ${registration.approved} approved`)
    }
    print(`  service ${formatIdPath(pair.pets)} → ${service.url}; access right for ${formatIdPath(pair.consumer.subsystem)} only`)

    const t1 = Date.now()
    running = await startLabPair(pair, { useBuild: options.useBuild, runner: options.runner })
    timings.startMs = Date.now() - t1
    print(`Servers started, tokens logged in, global configuration downloaded by both (${timings.startMs} ms)`)

    const base = `${running.consumer.clientProxyUrl}/r1/${formatIdPath(pair.provider.subsystem)}`
    const call = (client: ClientId, path: string, id?: string): Promise<RestReply> =>
      restCall(`${base}/${path}`, { 'X-Road-Client': formatIdPath(client), ...(id === undefined ? {} : { 'X-Road-Id': id }) }, agent)

    // The first exchange also waits for the servers' OCSP responses of their own certificates.
    const probes = await firstExchange(() => call(pair!.consumer.subsystem, 'pets/pets/0'))
    print(`First signed exchange answered after ${probes} attempt(s)`)

    const t2 = Date.now()
    const allowed = options.requests - 2
    const latencies: number[] = []
    let next = 1
    const worker = async (): Promise<void> => {
      while (next <= allowed) {
        const n = next++
        const queryId = `LAB-${randomUUID()}`
        counts.sent++
        const reply = await call(pair!.consumer.subsystem, `pets/pets/${n}`, queryId).catch((e: Error) => e)
        if (reply instanceof Error) {
          fail(`request ${n}: ${reply.message}`)
          continue
        }
        latencies.push(reply.ms)
        const problem = checkPetReply(reply, n, queryId)
        if (problem === undefined) counts.ok++
        else fail(`request ${n}: ${problem}`)
      }
    }
    await Promise.all(Array.from({ length: options.concurrency }, worker))
    latencies.sort((a, b) => a - b)
    const p50 = latencies[Math.floor(latencies.length / 2)] ?? 0
    print(`Sent ${allowed} signed requests as ${formatIdPath(pair.consumer.subsystem)}: ${counts.ok} answered 200 with the right pet (p50 ${p50.toFixed(1)} ms at concurrency ${options.concurrency})`)

    counts.sent++
    const denied = await call(pair.intruder, 'pets/pets/1').catch((e: Error) => e)
    if (denied instanceof Error) fail(`denied request: ${denied.message}`)
    else {
      const error = xroadError(denied)
      if (error !== undefined && /access_?denied$/i.test(error.code)) counts.denied++
      else fail(`request without an access right was not refused with access_denied: ${denied.status} ${denied.body.slice(0, 200)}`)
      print(`As ${formatIdPath(pair.intruder)} (no access right): HTTP ${denied.status}, X-Road-Error ${error?.code ?? '(none)'} — ${error?.message ?? ''}`)
    }

    counts.sent++
    const unknown = await call(pair.consumer.subsystem, 'no-such-service/pets/1').catch((e: Error) => e)
    if (unknown instanceof Error) fail(`unknown-service request: ${unknown.message}`)
    else {
      const error = xroadError(unknown)
      if (error === undefined || !/unknown_?service$/i.test(error.code)) fail(`unknown service was not refused with unknown_service: ${unknown.status} ${unknown.body.slice(0, 200)}`)
      print(`To ${formatIdPath(pair.provider.subsystem)}/no-such-service: HTTP ${unknown.status}, X-Road-Error ${error?.code ?? '(none)'} — ${error?.message ?? ''}`)
    }

    const services = await addSoapServices(running.provider.admin, pair, service.url)
    print(`The provider's administrator added the sample WSDL (${formatIdPath(services.soap)}, version ${services.soapVersion}, open to ` +
      `${formatIdPath(pair.consumer.subsystem)}) and its OpenAPI description (${formatIdPath(services.openApi)})`)
    soap = await sendSoap(pair, running.consumer.clientProxyUrl, print, fail)
    metaservices = await callMetaservices(pair, running.consumer.clientProxyUrl, services, print, fail)
    timings.exchangeMs = Date.now() - t2

    operations.health = await showHealthAndProbes(pair, running, print, fail)
    operations.metrics = await showMetrics(running.consumer, counts.ok + probes, print, fail)
    operations.opmonQuery = await showOpmonQuery(pair, running, counts.ok, print, fail)
    operations.auditChain = await showAuditChains(running, print, fail)
    const restored = await backUpAndRestoreProvider(pair, running, options, () => call(pair!.consumer.subsystem, 'pets/pets/1'), print, fail)
    operations.backupRestore = restored.ok
    if (restored.ok) {
      counts.sent++
      counts.ok++
    }

    // Refused requests never reach the service: it served the probe and the allowed requests only.
    const reachedService = service.served()
    const expectedServed = counts.ok + 1
    if (reachedService !== expectedServed) fail(`the service served ${reachedService} requests, expected ${expectedServed}`)
    else print(`The sample service served ${reachedService} requests: the refused ones never reached it`)
    if (service.soapServed() !== soap.sent) fail(`the SOAP operation served ${service.soapServed()} requests, expected ${soap.sent}`)

    agent.destroy()
    // The servers stop first (committing what waits); the lab's TSA stays up for the last batch time-stamp.
    await running.stopServers()

    const t3 = Date.now()
    const checks: Array<[string, EvidenceCheck]> = [
      ['consumer', await checkMessageLog(pair.consumer.dataDir)],
      [restored.ok ? 'restored provider' : 'provider', await checkMessageLog(restored.ok ? restored.dataDir : pair.provider.dataDir)],
    ]
    timings.verifyMs = Date.now() - t3
    for (const [side, check] of checks) {
      counts.logged += check.records
      counts.verified += check.verified
      print(`Message log of the ${side}: ${check.records} records (${check.requests} requests, ${check.responses} responses), ` +
        `${check.stampedByServer} time-stamped by the server + ${check.stampedAtCheck} in a final batch; ${check.verified} ASiC-E containers verified`)
      for (const f of check.failures.slice(0, 5)) fail(`${side} record ${f.recordId} (${f.queryId}) does not verify: ${f.code} ${f.message}`)
      if (check.failures.length > 5) fail(`${side}: ${check.failures.length - 5} more records do not verify`)
      // Each allowed exchange is logged on both sides, request and response (xroad-protocols.md §6.1).
      if (check.requests < counts.ok || check.responses < counts.ok) fail(`${side} logged ${check.requests}/${check.responses} requests/responses for ${counts.ok} exchanges`)
    }
    const expectedOk = options.requests - 2 + (restored.ok ? 1 : 0)
    if (counts.ok !== expectedOk) fail(`${counts.ok} of ${expectedOk} allowed requests succeeded`)
    if (counts.denied !== 1) fail(`${counts.denied} requests were denied, expected 1`)
    if (counts.verified !== counts.logged) fail(`${counts.logged - counts.verified} logged records do not verify`)
  } catch (error) {
    fail((error as Error).message)
  } finally {
    agent.destroy()
    await running?.stop().catch(() => undefined)
    await service?.close().catch(() => undefined)
    if (pair !== undefined && !options.keep) rmSync(pair.dir, { recursive: true, force: true })
    else if (pair !== undefined) print(`Kept ${pair.dir}`)
  }
  timings.totalMs = Date.now() - t0
  return { counts, registration: pair?.registration ?? { requests: 0, approved: 0, viaManagementService: false }, operations, soap, metaservices, failures, timings }
}

interface ProbeSummary {
  kind: string
  target: string
  code: string
  light: string
  totalMs: number
  steps: Array<{ name: string; ms: number; ok: boolean }>
}

/**
 * The consumer's health check as a load balancer reads it (200, 503 in maintenance mode, 200 again; ig-xlb §3.4), and
 * its diagnostics probes with each step's time.
 */
async function showHealthAndProbes(pair: LabPair, running: RunningLabPair, print: (line: string) => void, fail: (message: string) => void): Promise<boolean> {
  const url = `http://127.0.0.1:${pair.consumer.ports.healthCheck}/`
  const answer = async (): Promise<number> => (await fetch(url)).status
  const admin = running.consumer.admin
  const healthy = await answer()
  await admin.call('diagnostics', 'setMaintenanceMode', [{ enabled: true }])
  const maintenance = await answer()
  await admin.call('diagnostics', 'setMaintenanceMode', [{ enabled: false }])
  const again = await answer()
  const ok = healthy === 200 && maintenance === 503 && again === 200
  print(`Health check ${url}: HTTP ${healthy}, in maintenance mode ${maintenance}, after it ${again}`)
  if (!ok) fail(`the health check answered ${healthy}/${maintenance}/${again}, expected 200/503/200`)

  const report = await admin.call<{ probes: ProbeSummary[] }>('diagnostics', 'probe', [{}])
  for (const probe of report.probes) {
    const steps = probe.steps.map((s) => `${s.name} ${s.ms} ms${s.ok ? '' : ' (failed)'}`).join(', ')
    print(`  probe ${probe.kind.padEnd(11)} ${(probe.target || '-').padEnd(36)} ${probe.code.padEnd(20)} ${String(probe.totalMs).padStart(7)} ms  (${steps})`)
  }
  const red = report.probes.filter((p) => p.light === 'red')
  if (red.length > 0) fail(`probes failed: ${red.map((p) => `${p.kind} ${p.target} ${p.code}`).join('; ')}`)
  return ok
}

/**
 * The consumer's `/metrics` as Prometheus scrapes it (signed-in session; an API key works the same): the exchange
 * counter holds at least the demo's successful exchanges, and Debian's `promtool check metrics` accepts the text.
 */
async function showMetrics(consumer: RunningAgency, succeeded: number, print: (line: string) => void, fail: (message: string) => void): Promise<boolean> {
  const reply = await consumer.admin.get('/metrics')
  const counted = reply.text.split('\n')
    .filter((line) => line.startsWith('gatehouse_exchanges_total{') && line.includes('side="client"') && line.includes('outcome="success"'))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0)
  const promtool = spawnSync('promtool', ['check', 'metrics'], { input: reply.text, encoding: 'utf8' })
  const promtoolVerdict = promtool.error !== undefined ? 'promtool not installed' : promtool.status === 0 ? 'promtool check metrics: ok' : `promtool: ${promtool.stdout}${promtool.stderr}`.trim()
  print(`/metrics of the consumer: HTTP ${reply.status}, ${reply.text.split('\n').length} lines, ${counted} successful exchanges counted; ${promtoolVerdict}`)
  const ok = reply.status === 200 && counted >= succeeded && (promtool.error !== undefined || promtool.status === 0)
  if (!ok) fail(`/metrics answered ${reply.status} with ${counted} successful exchanges (expected at least ${succeeded}); ${promtoolVerdict}`)
  return ok
}

/** Both audit logs verify as hash chains (`audit.verify`, as `gatehouse audit verify` and the GUI do). */
async function showAuditChains(running: RunningLabPair, print: (line: string) => void, fail: (message: string) => void): Promise<boolean> {
  let ok = true
  for (const side of [running.consumer, running.provider]) {
    const verdict = await side.admin.call<{ ok: boolean; entries: number; problem: { kind: string; id: number } | null }>('audit', 'verify', [])
    print(`Audit log of ${side.agency.name}: ${verdict.entries} entries, hash chain ${verdict.ok ? 'intact' : `broken (${verdict.problem?.kind ?? '?'} at ${verdict.problem?.id ?? '?'})`}`)
    if (!verdict.ok || verdict.entries === 0) {
      ok = false
      fail(`the audit log of ${side.agency.name} does not verify or is empty`)
    }
  }
  return ok
}

/**
 * What an operator does to move a server to a new machine: an encrypted backup of the provider (`system.backup`), the
 * provider stopped, `gatehouse restore` into a new data directory, the restored server started on the same ports and
 * its token logged in; then one exchange from the consumer must succeed against it, with the same identity and keys.
 */
async function backUpAndRestoreProvider(
  pair: LabPair, running: RunningLabPair, options: DemoOptions, exchange: () => Promise<RestReply>,
  print: (line: string) => void, fail: (message: string) => void,
): Promise<{ ok: boolean; dataDir: string }> {
  const passphrase = 'demo backup passphrase, long enough'
  // An empty directory, as on a new machine (`gatehouse restore` refuses one with anything in it).
  const dataDir = mkdtempSync(join(pair.dir, 'provider-restored-'))
  try {
    const created = await running.provider.admin.call<{ name: string; size: number; files: number }>('system', 'backup', [{ passphrase }])
    await running.replace('provider', undefined)
    const restore = runGatehouse(['restore', '--data-dir', dataDir, '--from', join(pair.provider.dataDir, 'backups', created.name), '--passphrase-stdin', '--json'], `${passphrase}\n`)
    if (restore.status !== 0) throw new Error(`gatehouse restore exited ${String(restore.status)}: ${restore.stderr.slice(-400)}`)
    const restored = await startAgency({ ...pair.provider, dataDir }, pair.pin, options.runner, options.useBuild, 30_000, 'login')
    await running.replace('provider', restored)
    let reply: RestReply | undefined
    const deadline = Date.now() + 20_000
    while (Date.now() < deadline) {
      reply = await exchange().catch(() => undefined)
      if (reply?.status === 200) break
      await new Promise((r) => setTimeout(r, 250))
    }
    print(`Backup of the provider (${created.files} files, ${created.size} bytes, encrypted) restored by gatehouse restore into ${dataDir}; ` +
      `the restored provider answered HTTP ${reply?.status ?? 'nothing'}`)
    if (reply?.status !== 200) {
      fail(`the restored provider did not serve the exchange: ${reply?.status ?? ''} ${reply?.body.slice(0, 200) ?? ''}`)
      return { ok: false, dataDir }
    }
    return { ok: true, dataDir }
  } catch (error) {
    fail(`backup and restore: ${(error as Error).message}`)
    return { ok: false, dataDir }
  }
}

function checkPetReply(reply: RestReply, n: number, queryId: string): string | undefined {
  if (reply.status !== 200) return `HTTP ${reply.status} ${xroadError(reply)?.code ?? ''} ${reply.body.slice(0, 200)}`
  let pet: { id?: unknown; species?: unknown }
  try {
    pet = JSON.parse(reply.body) as { id?: unknown; species?: unknown }
  } catch {
    return `the body is not JSON: ${reply.body.slice(0, 100)}`
  }
  if (pet.id !== n || pet.species !== PETS_SPECIES) return `wrong pet ${reply.body.slice(0, 100)}`
  if (reply.headers['x-road-id'] !== queryId) return `X-Road-Id ${String(reply.headers['x-road-id'])} is not the one sent`
  if (typeof reply.headers['x-road-request-hash'] !== 'string') return 'no X-Road-Request-Hash header'
  return undefined
}

import 'reflect-metadata'
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readConfigurationDirectory } from '../../src-main/global-conf'
import { readZipEntries } from '../../src-main/message-log'
import { describeSigner, verificationTrustFromGlobalConf, verifyAsicContainer } from '../../src-main/signature'
import { startLabPair, withSlowConsumerToken, type LabPair } from './lab-pair'
import { runGatehouseInProcess } from '../support/cli-in-process'

/**
 * The client proxy's evidence downloads against the lab pair (xroad-protocols.md §6.3): a container of a real
 * exchange fetched over the consumer's client proxy verifies offline with the downloaded verificationconf; and the
 * administrator's TSA selection (`gatehouse tsa`) reaches the running server's time-stamping.
 */
const ROOT = resolve(import.meta.dirname, '../..')
let pair: LabPair
const scratch = mkdtempSync(join(tmpdir(), 'gh-evidence-'))

beforeAll(async () => {
  // No periodic time-stamping: a record stays unstamped until `force` or a test stamps it.
  pair = await startLabPair({ messageLog: { timeStampingIntervalSeconds: 3600 } })
}, 60_000)

afterAll(async () => {
  await pair?.close()
  rmSync(scratch, { recursive: true, force: true })
})

const CONSUMER = 'xRoadInstance=LAB&memberClass=GOV&memberCode=1001&subsystemCode=consumer'

async function exchange(): Promise<string> {
  const response = await fetch(`${pair.consumer.clientProxyUrl}/r1/LAB/GOV/2002/provider/pets/pets/7`, { headers: { 'X-Road-Client': 'LAB/GOV/1001/consumer' } })
  expect(response.status).toBe(200)
  await response.arrayBuffer()
  return response.headers.get('x-road-id') as string
}

async function download(query: string, init: RequestInit = {}): Promise<{ status: number; type: string; body: Buffer }> {
  const response = await fetch(`${pair.consumer.clientProxyUrl}${query}`, init)
  return { status: response.status, type: response.headers.get('content-type') ?? '', body: Buffer.from(await response.arrayBuffer()) }
}

const errorType = (answer: { body: Buffer }): string => (JSON.parse(answer.body.toString('utf8')) as { type: string }).type

function gatehouse(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, [join(ROOT, 'bin/gatehouse.js'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 20_000 })
  return { status: run.status, stdout: run.stdout, stderr: run.stderr }
}

describe('GET /asic and /verificationconf on the client proxy', () => {
  it('downloads a time-stamped container that verifies offline with the downloaded verificationconf', async () => {
    const queryId = await exchange()
    const q = `/asic?queryId=${encodeURIComponent(queryId)}&${CONSUMER}`

    // Not yet time-stamped: refused without `force`.
    const early = await download(`${q}&requestOnly&unique`)
    expect(early.status).toBeGreaterThanOrEqual(400)
    expect(errorType(early)).toContain('timestamping_failed')

    const single = await download(`${q}&requestOnly&unique&force`)
    expect(single.status).toBe(200)
    expect(single.type).toBe('application/vnd.etsi.asic-e+zip')

    const conf = await download('/verificationconf')
    expect(conf.status).toBe(200)
    expect(conf.type).toBe('application/zip')
    const confEntries = await readZipEntries(conf.body)
    expect(confEntries.map((e) => e.name)).toEqual(expect.arrayContaining(['verificationconf/LAB/shared-params.xml', 'verificationconf/LAB/shared-params.xml.metadata']))
    // X-Road's VerificationConfWriter: the metadata holds only configurationVersion; instance-identifier comes last.
    expect(confEntries.find((e) => e.name === 'verificationconf/LAB/shared-params.xml.metadata')?.data.toString('utf8')).toMatch(/^\{"configurationVersion":"[2-6]"\}$/)
    expect(confEntries.at(-1)?.name).toBe('verificationconf/instance-identifier')
    const confDir = join(scratch, 'unpacked')
    for (const entry of confEntries) {
      mkdirSync(dirname(join(confDir, entry.name)), { recursive: true })
      writeFileSync(join(confDir, entry.name), entry.data)
    }
    const snapshot = readConfigurationDirectory(join(confDir, 'verificationconf'))
    const result = await verifyAsicContainer(single.body, (instance) => verificationTrustFromGlobalConf(snapshot, instance))
    expect(describeSigner(result.signer)).toContain('consumer')

    // The same container through the CLI verifier, as an auditor would run it.
    writeFileSync(join(scratch, 'request.asice'), single.body)
    const cli = gatehouse(['asic', 'verify', join(scratch, 'request.asice'), '--globalconf', join(confDir, 'verificationconf'), '--json'])
    expect(cli.status).toBe(0)
    expect(JSON.parse(cli.stdout)).toMatchObject({ valid: true })

    // Without `unique`: a ZIP of the request and response containers, named as X-Road names them.
    const both = await download(q)
    expect(both.status).toBe(200)
    expect(both.type).toBe('application/zip')
    const names = (await readZipEntries(both.body)).map((e) => e.name)
    expect(names).toHaveLength(2)
    expect(names.some((n) => /-request-[0-9a-v]+\.asice$/.test(n))).toBe(true)
    expect(names.some((n) => /-response-[0-9a-v]+\.asice$/.test(n))).toBe(true)
  }, 30_000)

  it('EC keys end to end: exchanges signed in one batch behind a slow token are verified, logged, time-stamped and exported (issue 15 §4)', async () => {
    const signer = pair.consumer.server.core.signer
    const before = signer.batchStats()
    // A slow token (150 ms a signature): requests arriving meanwhile accumulate into the next batch.
    const queryIds = await withSlowConsumerToken(pair, 150, () => Promise.all(Array.from({ length: 6 }, () => exchange())))
    const after = signer.batchStats()
    expect(after.messages - before.messages).toBe(6)
    expect(after.signatures - before.signatures).toBeLessThan(6)

    const conf = await download('/verificationconf')
    const confDir = join(scratch, 'unpacked-batch')
    for (const entry of await readZipEntries(conf.body)) {
      mkdirSync(dirname(join(confDir, entry.name)), { recursive: true })
      writeFileSync(join(confDir, entry.name), entry.data)
    }
    const snapshot = readConfigurationDirectory(join(confDir, 'verificationconf'))
    let batched = 0
    for (const queryId of queryIds) {
      const container = await download(`/asic?queryId=${encodeURIComponent(queryId)}&${CONSUMER}&requestOnly&unique&force`)
      expect(container.status).toBe(200)
      const entries = await readZipEntries(container.body)
      // X-Road's SignAlgorithm for an EC key with the default message-sign digest SHA-512.
      expect(entries.find((e) => e.name === 'META-INF/signatures.xml')?.data.toString('utf8')).toContain('http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512')
      if (entries.some((e) => e.name === 'sig-hashchain.xml')) batched++
      const result = await verifyAsicContainer(container.body, (instance) => verificationTrustFromGlobalConf(snapshot, instance))
      expect(describeSigner(result.signer)).toContain('consumer')
    }
    expect(batched).toBeGreaterThan(0)
  }, 30_000)

  it("gives the provider side's records only to its own client and refuses bad requests with X-Road's codes", async () => {
    const queryId = await exchange()
    const base = `/asic?queryId=${encodeURIComponent(queryId)}`
    // The provider's subsystem is not a client of the consumer's server: 401, as X-Road's verifyClientAuthentication.
    const foreign = await download(`${base}&xRoadInstance=LAB&memberClass=GOV&memberCode=2002&subsystemCode=provider`)
    expect(foreign.status).toBe(401)
    expect(errorType(foreign)).toBe('client.unauthorized')
    // Faults of the caller are 4xx with X-Road's codes (AsicContainerClientRequestProcessor), never 500.
    for (const query of [`/asic?${CONSUMER}`, `${base}&${CONSUMER}&requestOnly&responseOnly`, `${base}&${CONSUMER}&unique`]) {
      const answer = await download(query)
      expect(answer.status).toBe(400)
      expect(errorType(answer)).toBe('client.bad_request')
    }
    const missing = await download(`/asic?queryId=no-such-query&${CONSUMER}`)
    expect(missing.status).toBe(404)
    expect(errorType(missing)).toBe('client.not_found')
    const post = await download(`${base}&${CONSUMER}`, { method: 'POST', body: 'x' })
    expect(errorType(post)).toContain('invalid_http_method')
  })
})

describe('gatehouse tsa: the administrator selects approved TSAs', () => {
  // `select` and `clear` run as separate `gatehouse` processes: the running server follows a change another process
  // made; the reads and the refusal in this process through the CLI's own runCli.
  it('lists the approved TSAs, refuses an unknown name and makes the running server use the selection', async () => {
    const dataDir = pair.consumer.dataDir
    const listed = await runGatehouseInProcess(['tsa', 'list', '--data-dir', dataDir, '--json'])
    expect(listed.status).toBe(0)
    const tsas = (JSON.parse(listed.stdout) as { selected: string[]; tsas: Array<{ name: string; approved: boolean }> })
    expect(tsas.selected).toEqual([])
    const approved = tsas.tsas.filter((t) => t.approved).map((t) => t.name)
    expect(approved.length).toBeGreaterThan(0)
    expect(pair.consumer.server.core.timestampingServices().map((t) => t.name)).toEqual(approved)

    const unknown = await runGatehouseInProcess(['tsa', 'select', 'No Such TSA', '--data-dir', dataDir])
    expect(unknown.status).toBe(1)
    expect(unknown.stderr).toContain('not_found')

    const chosen = approved[0] as string
    const selected = gatehouse(['tsa', 'select', chosen, '--data-dir', dataDir, '--json'])
    expect(selected.status).toBe(0)
    expect(JSON.parse(selected.stdout)).toEqual({ ok: true, selected: [chosen] })
    expect(pair.consumer.server.core.serverConf.timestampingServices()).toEqual([chosen])
    expect(pair.consumer.server.core.timestampingServices().map((t) => t.name)).toEqual([chosen])

    expect(gatehouse(['tsa', 'clear', '--data-dir', dataDir]).status).toBe(0)
    expect(pair.consumer.server.core.serverConf.timestampingServices()).toEqual([])
  })
})

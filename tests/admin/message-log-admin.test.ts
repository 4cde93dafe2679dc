import 'reflect-metadata'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AdminRole } from '@shared/admin-api/admin-roles'
import type { IpcResult } from '@shared/admin-api/ipc-result'
import { request as httpsRequest } from 'node:https'
import { formatIdPath } from '@shared/domain/identifiers'
import type { Server } from 'node:https'
import type {
  AuditLogEntry, Diagnostics, EvidenceExport, EvidenceVerification, EvidenceZipFile, MessageExchangePage, MessageLogForecast,
  MessageRecordDetails, MessageRecordSummary, TimestampingStatus, ArchiveRunSummary,
} from '@shared/admin-api/admin-api'
import { createAdminHttpServer, createAdminRuntime, loadOrCreateAdminTls } from '../../src-main/admin'
import { EVIDENCE_MANIFEST_ENTRY, readZipEntries, type EvidenceZipManifest } from '../../src-main/message-log'
import { silentLogger, systemClock } from '../../src-main/platform'
import { GATEHOUSE_VERSION } from '../../src-main/server'
import { readAsicContainer, writeAsicContainer } from '../../src-main/signature'
import { startLabPair, type LabPair } from '../integration/lab-pair'

/**
 * The message-log admin group over a real exchange: two lab security servers, one REST request through the
 * consumer's client proxy, then search, record details with the body rules per role, evidence export, verification
 * (unstamped, valid, tampered), time-stamping status and time-stamp now, disk forecast and archiving, all through
 * `admin.call` (the checked entry both transports use).
 */
let pair: LabPair
let archiveDir: string
let queryId: string

const as = (roles: AdminRole[], actor = roles.join('+')) => ({ actor, roles })
const officer = as(['security-officer'], 'officer')
const observer = as(['observer'], 'watcher')
const sysadmin = as(['system-administrator'], 'root')

async function call<T>(caller: { actor: string; roles: AdminRole[] }, domain: string, method: string, ...args: unknown[]): Promise<T> {
  const result = (await pair.consumer.server.admin.call(caller, domain, method, args)) as IpcResult<T>
  if (!result.ok) throw Object.assign(new Error(`${domain}.${method}: ${result.error.code} ${result.error.message}`), { code: result.error.code })
  return result.value
}

async function providerCall<T>(caller: { actor: string; roles: AdminRole[] }, domain: string, method: string, ...args: unknown[]): Promise<T> {
  const result = (await pair.provider.server.admin.call(caller, domain, method, args)) as IpcResult<T>
  if (!result.ok) throw new Error(`${domain}.${method}: ${result.error.code} ${result.error.message}`)
  return result.value
}

async function failure(caller: { actor: string; roles: AdminRole[] }, domain: string, method: string, ...args: unknown[]): Promise<string> {
  const result = await pair.consumer.server.admin.call(caller, domain, method, args)
  expect(result.ok, `${domain}.${method} should fail`).toBe(false)
  return result.ok ? '' : result.error.code
}

beforeAll(async () => {
  archiveDir = mkdtempSync(join(tmpdir(), 'gatehouse-mlog-admin-archive-'))
  // Time-stamping only when the test asks (timestampNow); traffic would stop one hour after stamping started failing.
  pair = await startLabPair({ messageLog: { timeStampingIntervalSeconds: 3600, acceptableTimestampFailurePeriodSeconds: 3600, archiveDir } })
  const response = await fetch(`${pair.consumer.clientProxyUrl}/r1/LAB/GOV/2002/provider/pets/pets/7`, { headers: { 'X-Road-Client': 'LAB/GOV/1001/consumer' } })
  expect(response.status).toBe(200)
  await response.text()
  queryId = response.headers.get('x-road-id') ?? ''
}, 60_000)

afterAll(async () => {
  await pair?.close()
  rmSync(archiveDir, { recursive: true, force: true })
})

describe('message-log admin over a real exchange', () => {
  it('finds the request and the response by query id, client, service, direction and status', async () => {
    const byQuery = await call<MessageRecordSummary[]>(observer, 'messageLog', 'search', { queryId })
    expect(byQuery.map((r) => r.direction).sort()).toEqual(['request', 'response'])
    expect(byQuery.every((r) => r.status === 'unstamped' && r.clientPath === 'LAB/GOV/1001/consumer' && r.servicePath === 'LAB/GOV/2002/provider/pets')).toBe(true)
    const responses = await call<MessageRecordSummary[]>(observer, 'messageLog', 'search', { client: 'LAB/GOV/1001/consumer', service: 'SERVICE:LAB/GOV/2002/provider/pets', direction: 'response' })
    expect(responses.map((r) => r.queryId)).toEqual([queryId])
    expect(await call<MessageRecordSummary[]>(observer, 'messageLog', 'search', { queryId, status: 'timestamped' })).toEqual([])
    const future = new Date(Date.now() + 3_600_000).toISOString()
    expect(await call<MessageRecordSummary[]>(observer, 'messageLog', 'search', { from: future })).toEqual([])
    expect(await call<MessageRecordSummary[]>(observer, 'messageLog', 'search', { client: 'LAB/GOV/9999/other' })).toEqual([])
    expect(await failure(observer, 'messageLog', 'search', { from: 'yesterday' })).toBe('validation_failed')
    expect(await failure(observer, 'messageLog', 'search', { client: 'not an id' })).toBe('validation_failed')
  })

  it('reports the time-stamping backlog and the time left before traffic stops', async () => {
    const status = await call<TimestampingStatus>(observer, 'messageLog', 'status')
    expect(status.backlog).toBe(2)
    expect(status.acceptingMessages).toBe(true)
    expect(status.lastSuccessAt).toBeNull()
    expect(status.light).toBe('green')
    expect(status.explanation).toContain('2 messages wait for a time-stamp')
    // Nothing has failed: as X-Road's LogManager, the failure clock starts only at a failed attempt, so no deadline runs.
    expect(status.oldestUnstampedAt).not.toBeNull()
    expect(status.trafficStopsAt).toBeNull()
    expect(status.secondsLeft).toBeNull()
  })

  it('shows metadata to every role and the body only to permitted roles, audit-logging each view', async () => {
    const [request] = await call<MessageRecordSummary[]>(observer, 'messageLog', 'search', { queryId, direction: 'request' })
    const denied = await call<MessageRecordDetails>(observer, 'messageLog', 'record', { id: request!.id, includeBody: true })
    expect(denied.bodyAccess).toBe('not-permitted')
    expect(denied.body).toBeNull()
    expect(denied.signatureHash.length).toBeGreaterThan(40)
    const plain = await call<MessageRecordDetails>(officer, 'messageLog', 'record', { id: request!.id })
    expect(plain.bodyAccess).toBe('not-requested')
    expect(plain.body).toBeNull()
    const shown = await call<MessageRecordDetails>(officer, 'messageLog', 'record', { id: request!.id, includeBody: true })
    expect(shown.bodyAccess).toBe('shown')
    expect(shown.body?.message.encoding).toBe('utf8')
    expect(shown.body?.message.content).toContain('/pets/7')
    // The summary without the body (read from the attachment rows alone) lists what the shown body has: the response's.
    const [response] = await call<MessageRecordSummary[]>(observer, 'messageLog', 'search', { queryId, direction: 'response' })
    const responseSummary = await call<MessageRecordDetails>(officer, 'messageLog', 'record', { id: response!.id })
    const responseShown = await call<MessageRecordDetails>(officer, 'messageLog', 'record', { id: response!.id, includeBody: true })
    expect(responseSummary.body).toBeNull()
    expect(responseSummary.attachments).toHaveLength(1)
    expect(responseSummary.attachments[0]?.size).toBeGreaterThan(0)
    expect(responseSummary.attachments).toEqual(responseShown.attachments)
    expect(responseShown.body?.attachments.map((a) => a.position)).toEqual([1])
    const audit = await call<AuditLogEntry[]>(sysadmin, 'audit', 'search', { event: 'messageLog.record.body' })
    expect(audit.map((e) => [e.actor, e.outcome, e.data.recordId])).toEqual(
      expect.arrayContaining([['officer', 'success', request!.id], ['watcher', 'failure', request!.id], ['officer', 'success', response!.id]]),
    )
    expect(audit).toHaveLength(3)
    expect(await failure(observer, 'messageLog', 'record', { id: 987654 })).toBe('not_found')
  })

  it('says evidence is not verified before the time-stamp, then valid after "time-stamp now"', async () => {
    const before = await call<EvidenceVerification>(observer, 'messageLog', 'verify', { queryId })
    expect(before.containers.map((c) => c.verdict)).toEqual(['not-verified', 'not-verified'])
    expect(before.containers[0]?.explanation).toContain('not been time-stamped')
    expect(await failure(observer, 'messageLog', 'timestampNow')).toBe('forbidden')
    const after = await call<TimestampingStatus>(officer, 'messageLog', 'timestampNow')
    expect(after.backlog).toBe(0)
    expect(after.lastSuccessAt).not.toBeNull()
    expect(after.trafficStopsAt).toBeNull()
    const verified = await call<EvidenceVerification>(observer, 'messageLog', 'verify', { queryId })
    expect(verified.containers.map((c) => [c.direction, c.verdict, c.code])).toEqual([['request', 'valid', null], ['response', 'valid', null]])
    const request = verified.containers[0]!
    expect(request.signer).toBe('LAB/GOV/1001/consumer')
    expect(request.timestamp?.tsa).toBe('CN=Gatehouse Lab TSA LAB,O=Gatehouse Lab,C=LAB')
    expect(request.ocsp?.responder).toBe('CN=Gatehouse Lab OCSP LAB,O=Gatehouse Lab,C=LAB')
    expect(request.signerCertificate?.subject).toContain('1001')
    expect(request.explanation).toMatch(/^Valid: the message was signed by LAB\/GOV\/1001\/consumer/)
  })

  it('exports the containers for permitted roles only, audit-logged, and flags a tampered container as invalid', async () => {
    expect(await failure(observer, 'messageLog', 'export', { queryId })).toBe('forbidden')
    const exported = await call<EvidenceExport>(officer, 'messageLog', 'export', { queryId })
    expect(exported.files.map((f) => f.direction)).toEqual(['request', 'response'])
    const request = exported.files[0]!
    expect(request.fileName).toMatch(/-request-[0-9a-v]+\.asice$/)
    expect(request.mimeType).toBe('application/vnd.etsi.asic-e+zip')
    const bytes = Buffer.from(request.content, 'base64')
    expect(bytes.subarray(0, 2).toString('latin1')).toBe('PK')
    const onlyResponse = await call<EvidenceExport>(officer, 'messageLog', 'export', { queryId, direction: 'response' })
    expect(onlyResponse.files.map((f) => f.direction)).toEqual(['response'])

    const upload = await call<EvidenceVerification>(observer, 'messageLog', 'verify', { container: request.content, fileName: request.fileName })
    expect(upload.containers[0]?.verdict).toBe('valid')
    const asic = await readAsicContainer(bytes)
    const forged = await writeAsicContainer({
      message: Buffer.from(asic.message.toString('utf8').replace('/pets/7', '/pets/8')), signatureXml: asic.signatureXml,
      sigHashChainResult: asic.sigHashChainResult, sigHashChain: asic.sigHashChain, tsHashChainResult: asic.tsHashChainResult,
      tsHashChain: asic.tsHashChain, timestampToken: asic.timestampToken, attachments: asic.attachments,
    })
    const tampered = await call<EvidenceVerification>(observer, 'messageLog', 'verify', { container: forged.toString('base64') })
    expect(tampered.containers[0]?.verdict).toBe('invalid')
    expect(tampered.containers[0]?.code).toBe('invalid_signature_value')
    expect(tampered.containers[0]?.explanation).toMatch(/^Not valid/)

    const audit = await call<AuditLogEntry[]>(sysadmin, 'audit', 'search', { event: 'messageLog.evidence' })
    expect(audit.map((e) => [e.actor, e.data.queryId])).toEqual([['officer', queryId], ['officer', queryId]])
    expect(await failure(officer, 'messageLog', 'export', { queryId: 'no-such-query' })).toBe('not_found')
  })

  it('forecasts disk use from the logged volume', async () => {
    const forecast = await call<MessageLogForecast>(observer, 'messageLog', 'forecast', { windowDays: 1 })
    expect(forecast.recordsPerDay).toBe(2)
    expect(forecast.bytesPerDay).toBeGreaterThan(0)
    expect(forecast.freeBytes).toBeGreaterThan(0)
    expect(forecast.daysUntilFull).toBeCloseTo(forecast.freeBytes / forecast.bytesPerDay, 3)
    expect(forecast.archiving).toBe(true)
    expect(forecast.explanation).toContain('About 2 messages a day')
  })

  it('shows the time-stamping light on the dashboard diagnostics', async () => {
    const diagnostics = await call<Diagnostics>(observer, 'diagnostics', 'run', {})
    const light = diagnostics.checks.find((c) => c.key === 'timestamping')
    expect(light?.light).toBe('green')
    expect(light?.explanation).toContain('every logged message is time-stamped')
  })

  it('archives the stamped records on demand (system administrator only)', async () => {
    expect(await failure(officer, 'messageLog', 'archiveNow')).toBe('forbidden')
    const run = await call<ArchiveRunSummary>(sysadmin, 'messageLog', 'archiveNow')
    expect(run.archives.reduce((n, a) => n + a.records, 0)).toBe(2)
    expect(run.archives[0]?.fileName).toMatch(/^mlog-.*\.zip$/)
    const archived = await call<MessageRecordSummary[]>(observer, 'messageLog', 'search', { queryId, status: 'archived' })
    expect(archived).toHaveLength(2)
  })

  it('pages exchanges newest first: request and response grouped, with the outcome from operational monitoring', async () => {
    const page = await call<MessageExchangePage>(observer, 'messageLog', 'exchanges', {})
    expect(page).toMatchObject({ pageSize: 25, newer: null, older: null })
    expect(page.exchanges.map((e) => e.queryId)).toEqual([queryId])
    const [exchange] = page.exchanges
    expect(exchange?.records.map((r) => [r.direction, r.queryId])).toEqual([['request', queryId], ['response', queryId]])
    expect(exchange).toMatchObject({ clientPath: 'LAB/GOV/1001/consumer', servicePath: 'LAB/GOV/2002/provider/pets', moreRecords: false })
    expect(exchange?.outcome).toEqual({ result: 'success', faultCode: null, faultString: null, statusCode: 200, sides: ['client'] })
    // The provider logged the same exchange as the producer's server.
    const provider = await providerCall<MessageExchangePage>(observer, 'messageLog', 'exchanges', { queryId, pageSize: 50 })
    expect(provider.exchanges.map((e) => [e.queryId, e.records.length, e.outcome.result, e.outcome.sides])).toEqual([[queryId, 2, 'success', ['producer']]])
    expect(provider.pageSize).toBe(50)
    expect(await failure(observer, 'messageLog', 'exchanges', { pageSize: 30 })).toBe('validation_failed')
    expect(await failure(observer, 'messageLog', 'exchanges', { page: { olderThan: 'page 2' } })).toBe('validation_failed')
    expect(await failure(observer, 'messageLog', 'exchanges', { client: 'not an id' })).toBe('validation_failed')
    const none = await call<MessageExchangePage>(observer, 'messageLog', 'exchanges', { direction: 'response', client: 'LAB/GOV/9999/other' })
    expect(none.exchanges).toEqual([])
  })

  let failedId = ''
  it('shows a failed exchange with the X-Road error code of its failure', async () => {
    // The provider's service is gone: the provider logs the request, then answers X-Road's network_error (in a
    // fault-only multipart, ProxyMessageEncoder.fault), which the consumer passes on.
    await pair.sample.close()
    const response = await fetch(`${pair.consumer.clientProxyUrl}/r1/LAB/GOV/2002/provider/pets/pets/8`, { headers: { 'X-Road-Client': 'LAB/GOV/1001/consumer' } })
    expect(response.status).toBeGreaterThanOrEqual(500)
    await response.text()
    const page = await call<MessageExchangePage>(observer, 'messageLog', 'exchanges', {})
    expect(page.exchanges).toHaveLength(2)
    const [failed, ok] = page.exchanges
    expect(ok?.queryId).toBe(queryId)
    failedId = failed?.queryId ?? ''
    expect(failed?.records.map((r) => r.direction)).toEqual(['request'])
    expect(failed?.outcome.result).toBe('failure')
    expect(failed?.outcome.faultCode).toBe('server.serverproxy.network_error')
    expect(failed?.outcome.sides).toEqual(['client'])
    const provider = await providerCall<MessageExchangePage>(observer, 'messageLog', 'exchanges', { queryId: failedId })
    expect(provider.exchanges[0]?.outcome).toMatchObject({ result: 'failure', sides: ['producer'] })
    expect(provider.exchanges[0]?.outcome.faultCode).toBe('server.serverproxy.network_error')
    // Pages of one: the cursors lead from one to the other and back.
    const first = await call<MessageExchangePage>(observer, 'messageLog', 'exchanges', { pageSize: 25, page: { from: 'oldest' } })
    expect(first.exchanges.map((e) => e.queryId)).toEqual([failedId, queryId])
  })

  it('exports a selection of exchanges as one ZIP with a manifest, for permitted roles, audit-logged', async () => {
    expect(await failure(observer, 'messageLog', 'exportZip', { queryIds: [queryId] })).toBe('forbidden')
    expect(await failure(officer, 'messageLog', 'exportZip', { queryIds: [] })).toBe('validation_failed')
    expect(await failure(officer, 'messageLog', 'exportZip', { queryIds: ['no-such-query'] })).toBe('not_found')
    const zip = await call<EvidenceZipFile>(officer, 'messageLog', 'exportZip', { queryIds: [queryId, failedId, 'no-such-query'] })
    expect(zip).toMatchObject({ mimeType: 'application/zip', encoding: 'base64', containers: 3, notFound: ['no-such-query'] })
    expect(zip.fileName).toMatch(/^evidence-\d{14}-3-exchanges\.zip$/)
    const entries = await readZipEntries(Buffer.from(zip.content, 'base64'))
    const manifest = JSON.parse(entries.find((e) => e.name === EVIDENCE_MANIFEST_ENTRY)?.data.toString('utf8') ?? '{}') as EvidenceZipManifest
    expect(manifest.records.map((r) => [r.queryId, r.direction, r.timestamped])).toEqual([
      [queryId, 'request', true], [queryId, 'response', true], [failedId, 'request', false],
    ])
    expect(manifest).toMatchObject({ exportedBy: 'officer', server: formatIdPath(pair.consumer.serverId) })
    // Each container inside is the evidence itself: the time-stamped request verifies.
    const request = entries.find((e) => e.name === manifest.records[0]?.fileName)
    const verdict = await call<EvidenceVerification>(observer, 'messageLog', 'verify', { container: request?.data.toString('base64') })
    expect(verdict.containers[0]?.verdict).toBe('valid')
    const one = await call<EvidenceZipFile>(sysadmin, 'messageLog', 'exportZip', { queryIds: [queryId] })
    expect(one.fileName).toBe(`evidence-${queryId}.zip`)
    const audit = await call<AuditLogEntry[]>(sysadmin, 'audit', 'search', { event: 'messageLog.' })
    const zipAudit = audit.filter((e) => e.event === 'messageLog.exportZip').map((e) => [e.actor, e.outcome])
    expect(zipAudit).toEqual(expect.arrayContaining([['watcher', 'failure'], ['officer', 'success'], ['root', 'success']]))
    const evidence = audit.filter((e) => e.event === 'messageLog.evidence' && Array.isArray(e.data.queryIds))
    expect(evidence.map((e) => [e.actor, e.data.queryIds, e.data.notFound])).toEqual(expect.arrayContaining([
      ['officer', [queryId, failedId, 'no-such-query'], ['no-such-query']], ['root', [queryId], []],
    ]))
  })

  it('streams the evidence ZIP over HTTPS to a client that accepts application/zip', async () => {
    const { core } = pair.consumer.server
    const runtime = createAdminRuntime({
      serverConfDb: () => core.databases.local, domains: core, clock: systemClock, logger: silentLogger(),
      system: {
        version: GATEHOUSE_VERSION, dataDir: core.layout.root, backupsDir: core.layout.backupsDir, clock: systemClock, databases: [],
        status: () => ({ state: 'running', startedAt: null, initialized: true, listeners: [] }),
      },
    })
    const tls = await loadOrCreateAdminTls(core.layout.tlsDir, systemClock)
    const server: Server = createAdminHttpServer({ runtime, tls, rendererDir: undefined, logger: silentLogger(), version: GATEHOUSE_VERSION })
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
    const port = (server.address() as { port: number }).port
    const officerKey = (await runtime.service.apiKeys.create({ label: 'zip officer', roles: ['security-officer'] })).key
    const observerKey = (await runtime.service.apiKeys.create({ label: 'zip observer', roles: ['observer'] })).key
    const post = (key: string, body: unknown): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> =>
      new Promise((resolve, reject) => {
        const req = httpsRequest({
          host: '127.0.0.1', port, method: 'POST', path: '/api/messageLog/exportZip', rejectUnauthorized: false,
          headers: { host: `127.0.0.1:${port}`, 'content-type': 'application/json', accept: 'application/zip', authorization: `X-Road-ApiKey token=${key}` },
        }, (res) => {
          const chunks: Buffer[] = []
          res.on('data', (c: Buffer) => chunks.push(c))
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }))
        })
        req.on('error', reject)
        req.end(JSON.stringify(body))
      })
    try {
      const streamed = await post(officerKey, [{ queryIds: [queryId, failedId] }])
      expect(streamed.status).toBe(200)
      expect(streamed.headers['content-type']).toBe('application/zip')
      expect(streamed.headers['content-disposition']).toMatch(/^attachment; filename="evidence-\d{14}-2-exchanges\.zip"$/)
      const entries = await readZipEntries(streamed.body)
      expect(entries.map((e) => e.name).filter((n) => n.endsWith('.asice'))).toHaveLength(3)
      expect(entries.at(-1)?.name).toBe(EVIDENCE_MANIFEST_ENTRY)
      const refused = await post(observerKey, [{ queryIds: [queryId] }])
      expect(refused.status).toBe(403)
      expect(JSON.parse(refused.body.toString('utf8')).error.code).toBe('forbidden')
      const missing = await post(officerKey, [{ queryIds: ['no-such-query'] }])
      expect(missing.status).toBe(404)
      const audit = await runtime.service.audit.search({ event: 'messageLog.exportZip' })
      expect(audit.map((e) => [e.actor, e.outcome]).slice(0, 3)).toEqual(expect.arrayContaining([
        [expect.stringMatching(/^apikey:/), 'success'], [expect.stringMatching(/^apikey:/), 'failure'],
      ]))
    } finally {
      await new Promise<void>((done) => server.close(() => done()))
    }
  })
})

import 'reflect-metadata'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AdminRole } from '@shared/admin-api/admin-roles'
import type { IpcResult } from '@shared/admin-api/ipc-result'
import type { AuditLogEntry, EvidenceContinuity, ReadinessCheck, SystemStatus } from '@shared/admin-api/admin-api'
import { closeDatabase, openDatabase } from '../../src-main/platform'
import { startLabPair, type LabPair } from '../integration/lab-pair'

/**
 * Evidence continuity through the admin API of a running server (issue 14 item 4): the check on demand, the alarm in
 * `system.status` readiness, the refusal of new traffic with X-Road's `logging_failed` while the loss is not
 * acknowledged (fail-closed, the default), and the acknowledgement with a reason — by the permitted roles only,
 * audit-logged — after which the same request is served again.
 */
let pair: LabPair

const as = (roles: AdminRole[], actor = roles.join('+')) => ({ actor, roles })
const officer = as(['security-officer'], 'officer')
const observer = as(['observer'], 'watcher')
const sysadmin = as(['system-administrator'], 'root')

async function call<T>(caller: { actor: string; roles: AdminRole[] }, domain: string, method: string, ...args: unknown[]): Promise<T> {
  const result = (await pair.consumer.server.admin.call(caller, domain, method, args)) as IpcResult<T>
  if (!result.ok) throw Object.assign(new Error(`${domain}.${method}: ${result.error.code} ${result.error.message}`), { code: result.error.code })
  return result.value
}

async function failure(caller: { actor: string; roles: AdminRole[] }, domain: string, method: string, ...args: unknown[]): Promise<string> {
  const result = await pair.consumer.server.admin.call(caller, domain, method, args)
  expect(result.ok, `${domain}.${method} should fail`).toBe(false)
  return result.ok ? '' : result.error.code
}

const callPets = (): Promise<Response> =>
  fetch(`${pair.consumer.clientProxyUrl}/r1/LAB/GOV/2002/provider/pets/pets/7`, { headers: { 'X-Road-Client': 'LAB/GOV/1001/consumer' } })

/** The evidence check of `system.status` once it has the expected code and count (readiness follows each change at the next reconcile). */
async function evidenceCheckOf(code: ReadinessCheck['code'], count: number): Promise<ReadinessCheck | undefined> {
  const deadline = Date.now() + 10_000
  for (;;) {
    const status = await call<SystemStatus>(observer, 'system', 'status')
    const check = status.readiness.checks.find((c) => c.key === 'evidence')
    if ((check?.code === code && check.params.count === count) || Date.now() > deadline) return check
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

beforeAll(async () => {
  pair = await startLabPair({ messageLog: { timeStampingIntervalSeconds: 3600 } })
  const response = await callPets()
  expect(response.status).toBe(200)
  await response.text()
}, 60_000)

afterAll(async () => {
  await pair?.close()
})

describe('evidence continuity over the admin API', () => {
  it('reports an intact chain, checks on demand for the permitted roles, and shows evidence-ready on the dashboard', async () => {
    expect(await failure(observer, 'messageLog', 'checkEvidence', {})).toBe('forbidden')
    const checked = await call<EvidenceContinuity>(officer, 'messageLog', 'checkEvidence', {})
    expect(checked).toMatchObject({ state: 'ok', light: 'green', scope: 'full', records: 2, verifiedRecords: 2, lastAcknowledgedSeq: 2, ackFile: 'ok', refusing: false, failClosed: true })
    expect(await call<EvidenceContinuity>(observer, 'messageLog', 'evidence')).toMatchObject({ state: 'ok', records: 2 })
    expect(await evidenceCheckOf('evidence-ready', 2)).toMatchObject({ light: 'green', code: 'evidence-ready', params: { count: 2 } })
  })

  it('a deleted acknowledged record refuses traffic with logging_failed and raises the alarm until acknowledged with a reason', async () => {
    const raw = openDatabase(join(pair.consumer.dataDir, 'messagelog.sqlite'), { synchronous: 'FULL' })
    raw.prepare('DELETE FROM message_records WHERE seq = 2').run()
    closeDatabase(raw)

    const found = await call<EvidenceContinuity>(officer, 'messageLog', 'checkEvidence', { scope: 'incremental' })
    expect(found).toMatchObject({ state: 'problem', light: 'red', refusing: true, missingRecords: 1 })
    expect(found.problems).toEqual([expect.objectContaining({ kind: 'missing', firstSeq: 2, lastSeq: 2, acknowledged: false })])
    const check = await evidenceCheckOf('evidence-gap', 1)
    expect(check).toMatchObject({ light: 'red', code: 'evidence-gap', params: { count: 1, range: '2', refusing: 'yes' } })
    expect((await call<SystemStatus>(observer, 'system', 'status')).readiness.ready).toBe(false)

    const refused = await callPets()
    expect(refused.status).toBeGreaterThanOrEqual(500)
    expect(refused.headers.get('x-road-error')).toMatch(/logging_failed$/)
    expect(await refused.text()).toContain('acknowledges it')

    expect(await failure(observer, 'messageLog', 'acknowledgeGap', { reason: 'Not mine to accept' })).toBe('forbidden')
    expect(await failure(officer, 'messageLog', 'acknowledgeGap', { reason: 'oops' })).toBe('validation_failed')
    const reason = 'Record 2 deleted by hand while testing the alarm'
    const acknowledged = await call<EvidenceContinuity>(officer, 'messageLog', 'acknowledgeGap', { reason })
    expect(acknowledged).toMatchObject({ state: 'acknowledged', light: 'green', refusing: false })
    expect(acknowledged.incidents).toEqual([expect.objectContaining({ kind: 'missing', firstSeq: 2, lastSeq: 2, acknowledgedBy: 'officer', reason })])
    expect(await failure(officer, 'messageLog', 'acknowledgeGap', { reason })).toBe('conflict')

    const audit = await call<AuditLogEntry[]>(sysadmin, 'audit', 'search', { event: 'messageLog.evidenceLoss' })
    expect(audit.map((e) => [e.actor, e.outcome, e.data.reason])).toEqual([['officer', 'success', reason]])
    expect(await evidenceCheckOf('evidence-acknowledged', 1)).toMatchObject({ light: 'green', code: 'evidence-acknowledged', params: { count: 1, by: 'officer' } })

    const served = await callPets()
    expect(served.status).toBe(200)
    await served.text()
  })

  it('the fail-closed setting is in the settings catalogue, on by default', async () => {
    const settings = await call<Array<{ name: string; kind: string; defaultValue: string; value: string }>>(observer, 'settings', 'list')
    expect(settings.find((s) => s.name === 'message-log.evidence-loss-fail-closed')).toMatchObject({ kind: 'boolean', defaultValue: 'true', value: 'true' })
  })
})

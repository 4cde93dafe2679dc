import { afterEach, describe, expect, it, vi } from 'vitest'
import { join } from 'node:path'
import { encodeIdentifier } from '@shared/domain/identifiers'
import { ManualClock } from '../../src-main/platform'
import { describeFixtures } from '../support/describe-fixtures'
import { fixturePath } from '../support/fixtures'
import { runGatehouse } from './support/run-cli'
import { CLIENT, createHarness, messageFor, tempDir } from './support/message-log-harness'

const run = runGatehouse

const archive = (name: string): string => fixturePath('messagelog', 'messagelog-addon', 'logarchive', `mlog-${name}.zip`)

describeFixtures('gatehouse archive verify', () => {
  afterEach(() => vi.restoreAllMocks())

  it('exits 0 and prints the last digest for a valid archive', async () => {
    const { code, stdout } = await run('archive', 'verify', archive('WITH_LINKINGINFO'), '--first', '--json')
    expect(code).toBe(0)
    expect(JSON.parse(stdout)).toMatchObject({ valid: true, lastDigest: '624334053a96e0e1209d342514b5d890aeaeee8f0659da69688a3eeac0304856' })
  })

  it('exits 1 with the reason for an invalid archive', async () => {
    const { code, stdout } = await run('archive', 'verify', archive('WITH_INVALID_LINKINGINFO'), '--first', '--json')
    expect(code).toBe(1)
    expect(JSON.parse(stdout)).toMatchObject({ valid: false, code: 'archive_invalid', reason: 'digest_mismatch' })
  })

  it('exits 2 on usage errors', async () => {
    expect((await run('archive', 'verify', archive('WITH_LINKINGINFO'))).code).toBe(2)
    expect((await run('archive', 'verify', archive('WITH_LINKINGINFO'), '--first', '--previous', 'ab'.repeat(32))).code).toBe(2)
    expect((await run('archive', 'verify', archive('WITH_LINKINGINFO'), '--previous', 'xyz')).code).toBe(2)
  })
})

describe('gatehouse messagelog', () => {
  it('searches metadata of the records in a data directory', async () => {
    const clock = new ManualClock('2026-03-01T10:00:00Z')
    const h = createHarness(clock)
    await h.log.record(messageFor('cli-1'))
    await h.log.record(messageFor('cli-2', { response: true }))
    await h.close()
    const { code, stdout } = await run('messagelog', 'search', '--data-dir', h.dir, '--client', encodeIdentifier(CLIENT), '--json')
    expect(code).toBe(0)
    const doc = JSON.parse(stdout) as { records: Array<{ queryId: string; response: boolean; time: string }> }
    expect(doc.records.map((r) => [r.queryId, r.response, r.time])).toEqual([
      ['cli-1', false, '2026-03-01T10:00:00.000Z'], ['cli-2', true, '2026-03-01T10:00:00.000Z'],
    ])
    const none = await run('messagelog', 'search', '--data-dir', h.dir, '--query-id', 'nope', '--json')
    expect(JSON.parse(none.stdout)).toEqual({ records: [] })
    expect((await run('messagelog', 'search', '--data-dir', h.dir, '--client', 'BOGUS'))).toMatchObject({ code: 2 })
    expect((await run('messagelog', 'search', '--data-dir', join(tempDir(), 'missing')))).toMatchObject({ code: 2 })
  })

  it('forecasts disk use from the logged volume', async () => {
    const clock = new ManualClock()
    const h = createHarness(clock)
    for (let i = 0; i < 7; i++) await h.log.record(messageFor(`fc-${i}`, { attachments: [Buffer.alloc(10_000)] }))
    const f = h.log.diskUseForecast(h.dir, 7)
    expect(f.recordsPerDay).toBe(1)
    expect(f.averageRecordBytes).toBeGreaterThan(10_000)
    expect(f.daysUntilFull).toBeCloseTo(f.freeBytes / f.bytesPerDay)
    await h.close()
    const { code, stdout } = await run('messagelog', 'forecast', '--data-dir', h.dir, '--json')
    expect(code).toBe(0)
    expect(JSON.parse(stdout)).toMatchObject({ windowDays: 7 })
  })
})
